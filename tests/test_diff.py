"""`diff BASE`: the card changes between a git revision and the working tree."""

import os
import subprocess
from pathlib import Path

import pytest
from conftest import commit_all, git, run, write


def test_diff_lists_added_changed_and_retired_cards(project, tmp_path):
    assert run(project).exit_code == 0
    commit_all(project)
    cards = project / "cards_src/sample/cards.yaml"
    text = cards.read_text().replace("Managing pain syndromes.", "The management of pain syndromes.")
    text = text[: text.index("  - id: q-cloze")] + "  - id: q-new\n    type: basic\n    front: What is IMS short for?\n    back: Intramuscular Stimulation.\n"
    cards.write_text(text)
    deck = project / "cards_src/sample/deck.yaml"
    deck.write_text(deck.read_text() + "retired: [q-cloze]\n")
    before = {p: p.read_bytes() for p in (project / "decks").iterdir()}
    out = tmp_path / "changes.html"
    result = run(project, "diff", "main", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Card changes since main:\n"
        "\n"
        "Test::sample (sample): 1 added, 1 changed, 1 removed\n"
        "  + q-new (basic): What is IMS short for?\n"
        "  ~ q-basic (basic): What is dry needling for?\n"
        "  - q-cloze (cloze, retired): IMS stands for {{c1::Intramuscular}} {{c2::Stimulation}}.\n"
    )
    page = out.read_text()
    assert page.count('<section class="diff-') == 3
    assert "The management of pain syndromes." in page and "Managing pain syndromes." in page  # after and before, rendered
    assert {p: p.read_bytes() for p in (project / "decks").iterdir()} == before  # the working tree is not built


def test_diff_with_no_changes_says_so(project):
    assert run(project).exit_code == 0
    commit_all(project)
    result = run(project, "diff", "HEAD", "-o", str(project / "out.html"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Card changes since HEAD: none.\n"


def test_diff_against_an_unknown_revision_is_a_clear_error(project):
    git(project, "init", "-q", "-b", "main")
    write(project / "README", "x")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "first")
    result = run(project, "diff", "no-such-rev")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot read revision 'no-such-rev': ")


def test_a_revision_that_looks_like_an_option_is_refused(project, tmp_path):
    assert run(project).exit_code == 0
    commit_all(project)
    written = tmp_path / "written.tar"
    result = run(project, "diff", "--", f"--output={written}")
    assert result.exit_code == 1
    assert result.stderr == f"Error: cannot read revision '--output={written}': a revision does not start with '-'\n"
    assert not written.exists()


def test_only_the_resolved_commit_reaches_git_archive(project, monkeypatch):
    import re

    from acudeck import diff

    assert run(project).exit_code == 0
    commit_all(project)
    calls = []
    real = subprocess.run
    monkeypatch.setattr(diff.subprocess, "run", lambda args, **kwargs: calls.append(args) or real(args, **kwargs))
    result = run(project, "diff", "main~0", "-o", str(project / "out.html"))
    assert result.exit_code == 0, result.stderr
    [archive] = [args for args in calls if "archive" in args]
    assert re.fullmatch(r"[0-9a-f]{40}", archive[-1]) and "main~0" not in archive


def test_a_revision_that_is_not_a_commit_is_refused(project):
    assert run(project).exit_code == 0
    commit_all(project)
    result = run(project, "diff", "HEAD^{tree}")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot read revision 'HEAD^{tree}': ")


def replace_with_link(path, target):
    """`path` becomes a link to `target`; returns a function that puts the original back."""
    import shutil

    aside = path.with_name(path.name + ".aside")
    if path.exists():
        path.rename(aside)
    path.symlink_to(target, target_is_directory=target.is_dir())

    def restore():
        path.unlink()
        if aside.exists():
            aside.rename(path)
        elif path.name == "cards_src":
            shutil.rmtree(path, ignore_errors=True)

    return restore


BASE_BROKEN = "Error: the sources at the base revision do not load"


@pytest.mark.parametrize("link", ["cards_src/sample/evil.yaml", "courses/evil.yaml", "decks/sample.lock.json", "decks", "cards_src"])
def test_links_committed_in_the_base_revision_reach_nothing_outside(project, tmp_path_factory, link):
    """The base revision holds a link to outside the project (the working tree no longer does)."""
    assert run(project).exit_code == 0
    outside = tmp_path_factory.mktemp("outside")
    write(outside / "cards_src/secret/deck.yaml", "key: secret\nname: SECRET-DECK\n")
    write(outside / "cards_src/secret/cards.yaml", "cards:\n  - {id: secret, type: basic, front: SECRET-CARD?, back: SECRET.}\n")
    write(outside / "evil.yaml", "cards:\n  - {id: evil, type: basic, front: SECRET-CARD?, back: SECRET.}\n")
    write(outside / "decks/keep.txt", "mine")
    targets = {"decks": outside / "decks", "cards_src": outside / "cards_src"}
    before = {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    (project / link).parent.mkdir(parents=True, exist_ok=True)
    restore = replace_with_link(project / link, targets.get(link, outside / "evil.yaml"))
    commit_all(project)
    restore()
    result = run(project, "diff", "main", "-o", str(project / "out.html"))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "SECRET" not in result.stdout + result.stderr
    assert {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()} == before
    if link == "decks":
        assert result.stderr == f"{BASE_BROKEN}:\ndecks:1:1: symbolic link: acudeck does not follow links inside the project; put the file or folder itself in its place\n"
    elif link.endswith("evil.yaml"):
        assert result.exit_code == 1 and result.stderr.startswith(f"{BASE_BROKEN}:\n{link}:1:1: ")
    else:  # refused where links are refused in the sources and decks, or read as missing: never followed
        assert result.exit_code == 0 or result.stderr.startswith(BASE_BROKEN), result.stderr


@pytest.mark.parametrize("link", ["cards_src/sample/evil.yaml", "cards_src"])
def test_the_working_tree_is_copied_with_its_links_kept_as_links(project, tmp_path_factory, tmp_path, link):
    from acudeck.diff import copy_working_tree

    outside = tmp_path_factory.mktemp("outside")
    write(outside / "evil.yaml", "cards: []\n")
    write(outside / "sample/deck.yaml", "key: sample\nname: SECRET\n")
    (project / link).symlink_to(outside / "evil.yaml") if link.endswith(".yaml") else replace_with_link(project / link, outside)
    copy_working_tree(project, tmp_path / "head")
    assert (tmp_path / "head" / link).is_symlink()
    copied = [os.path.join(folder, name) for folder, _, names in os.walk(tmp_path / "head") for name in names]  # links not followed
    assert not [path for path in copied if not os.path.islink(path) and Path(path).read_bytes() in (b"cards: []\n", b"key: sample\nname: SECRET\n")]


def test_a_working_tree_with_a_fifo_is_a_one_line_error_not_a_hang(project):
    assert run(project).exit_code == 0
    commit_all(project)
    os.mkfifo(project / "cards_src/sample/pipe.yaml")
    result = run(project, "diff", "main", "-o", str(project / "out.html"))
    assert (result.exit_code, result.stderr) == (1, "Error: cannot copy the working tree: cards_src/sample/pipe.yaml: not a regular file\n")


def test_a_card_folder_named_preview_is_part_of_the_working_tree(project):
    assert run(project).exit_code == 0
    commit_all(project)
    write(project / "cards_src/sample/preview/more.yaml", "cards:\n  - {id: q-more, type: basic, front: More?, back: More.}\n")
    result = run(project, "diff", "main", "-o", str(project / "out.html"))
    assert result.exit_code == 0, result.stderr
    assert "  + q-more (basic): More?\n" in result.stdout


def test_the_page_shows_each_card_once_even_when_a_course_holds_it_too(project):
    write(project / "courses/week-1.yaml", "key: week-1\nname: Week 1\nselect:\n  - deck: sample\n")
    assert run(project).exit_code == 0
    commit_all(project)
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing pain syndromes.", "The management of pain syndromes."))
    result = run(project, "diff", "main", "-o", str(project / "out.html"))
    assert result.exit_code == 0, result.stderr
    page = (project / "out.html").read_text()
    assert page.count('<section class="diff-') == 1 and page.count('<div class="diff-row">') == 1  # a basic card: one row
