"""The cache replays a build or check when nothing it reads has changed, and is otherwise ignored."""

import shutil

from conftest import run

from acudeck import project as project_module


def decks(root):
    return {p.name: p.read_bytes() for p in sorted((root / "decks").iterdir())}


def test_an_unchanged_rebuild_is_replayed_from_the_cache(project, monkeypatch):
    assert run(project).exit_code == 0
    before = decks(project)

    def refuse(*args, **kwargs):
        raise AssertionError("the work was done again")

    monkeypatch.setattr(project_module, "build", refuse)
    result = run(project)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "decks/sample.apkg: unchanged: 3 notes, 5 cards (0 added, 0 changed, 0 removed)\n"
    assert decks(project) == before


def test_a_changed_source_or_a_deleted_deck_is_rebuilt(project):
    assert run(project).exit_code == 0
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing", "Handling"))
    assert "(0 added, 1 changed, 0 removed)" in run(project).stdout
    (project / "decks/sample.apkg").unlink()
    assert run(project).stdout == "decks/sample.apkg: written: 3 notes, 5 cards (0 added, 0 changed, 0 removed)\n"


def test_a_corrupt_cache_is_ignored(project):
    assert run(project).exit_code == 0
    for entry in (project / ".acudeck-cache").iterdir():
        entry.write_bytes(b"\x00not json")
    (project / "decks/sample.apkg").unlink()
    result = run(project)
    assert result.exit_code == 0
    assert (project / "decks/sample.apkg").exists()


def test_builds_with_and_without_the_cache_give_the_same_bytes(project, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(project, other)
    assert run(project).exit_code == 0
    assert run(project).exit_code == 0  # replayed
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("SI 11", "SI 12"))
    assert run(project).exit_code == 0
    shutil.copytree(project / "decks", other / "decks")
    (other / "decks/sample.apkg").unlink()
    (other / "cards_src/sample/cards.yaml").write_text(cards.read_text())
    assert run(other, "build", "--no-cache").exit_code == 0
    assert decks(other) == decks(project)
    assert not (other / ".acudeck-cache").exists()


def test_a_failing_check_is_not_cached(project):
    result = run(project, "check")
    assert result.exit_code == 1  # nothing built yet
    assert not (project / ".acudeck-cache/check.json").exists()


def test_a_passing_check_is_replayed(project, monkeypatch):
    assert run(project).exit_code == 0
    assert run(project, "check").exit_code == 0

    def refuse(*args, **kwargs):
        raise AssertionError("the work was done again")

    monkeypatch.setattr(project_module, "check", refuse)
    result = run(project, "check")
    assert result.exit_code == 0 and result.stderr == "ok\n"
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing", "Handling"))
    monkeypatch.undo()
    assert run(project, "check").exit_code == 1
