"""One acudeck run at a time per project: a second run waits for the first (acudeck/lock.py)."""

import os
import select
import shutil
import subprocess
import sys

import pytest
from conftest import run, snapshot, write

from acudeck.lock import WAITING, project_lock
from acudeck.project import Project, build

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no flock on Windows: runs are not serialized there")


def acudeck(root, *args):
    return subprocess.Popen([sys.executable, "-m", "acudeck", "-C", str(root), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def big_deck(project, cards=3000):
    lines = "".join(f"  - {{id: card-{i}, type: reversed, front: 'Question {i} *about* needling?', back: 'Answer {i}.'}}\n" for i in range(cards))
    write(project / "cards_src/sample/big.yaml", "cards:\n" + lines)


def test_a_second_run_waits_for_the_lock_then_succeeds(project):
    with project_lock(project):
        proc = acudeck(project, "build")
        ready, _, _ = select.select([proc.stderr], [], [], 60)
        assert ready, "the second run neither waited nor ended"
        assert proc.stderr.readline() == WAITING + "\n"
        assert proc.poll() is None and not (project / "decks/sample.apkg").exists()
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (0, "")
    assert out == "decks/sample.apkg: written: 3 notes, 5 cards (3 added, 0 changed, 0 removed)\n"


def test_builds_at_once_all_succeed_and_build_what_one_build_builds(project, tmp_path_factory):
    big_deck(project)
    procs = [acudeck(project, "build") for _ in range(3)]
    results = [(proc.wait(timeout=120), *proc.communicate()) for proc in procs]
    for code, _, err in results:
        assert (code, err.replace(WAITING + "\n", "")) == (0, "")
    assert sorted(out.split(": ")[1] for _, out, _ in results) == ["unchanged", "unchanged", "written"]
    # A copy built once from the same sources and ledger gives the same bytes.
    single = tmp_path_factory.mktemp("single")
    shutil.copytree(project / "cards_src", single / "cards_src")
    (single / "decks").mkdir()
    shutil.copy(project / "decks/sample.lock.json", single / "decks")
    build(Project(single))
    assert snapshot(project / "decks") == snapshot(single / "decks")
    assert not list(project.rglob("*.tmp"))


def test_decks_being_a_link_is_refused_before_anything_runs(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    write(outside / "keep.txt", "mine")
    (project / "decks").symlink_to(outside, target_is_directory=True)
    for command in ("build", "check", "export", "preview"):
        result = run(project, command)
        assert result.exit_code == 1
        assert result.stderr == "decks:1:1: symbolic link: acudeck does not follow links inside the project; put the file or folder itself in its place\n"
    assert sorted(os.listdir(outside)) == ["keep.txt"]


def test_decks_being_a_file_is_a_one_line_error(project):
    write(project / "decks", "not a folder")
    result = run(project, "build")
    assert result.exit_code == 1
    assert result.stderr == "Error: decks: not a folder; move it away so that acudeck can write its decks there\n"


def test_a_missing_project_folder_is_not_made_by_the_lock(tmp_path):
    result = run(tmp_path / "typo", "check")
    assert result.exit_code == 1
    assert result.stderr == "Error: no decks found: cards_src/ holds no <deck>/deck.yaml\n"
    assert not (tmp_path / "typo").exists()


def test_the_replay_of_a_cached_report_waits_for_the_lock_too(project):
    assert run(project).exit_code == 0
    with project_lock(project):
        proc = acudeck(project, "build")
        ready, _, _ = select.select([proc.stderr], [], [], 60)
        assert ready and proc.stderr.readline() == WAITING + "\n"
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out.startswith("decks/sample.apkg: unchanged")
