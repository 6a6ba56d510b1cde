import json
import os

import pytest
from conftest import run, snapshot, write

from acudeck.contents import read_apkg
from acudeck.project import Project, build


def test_build_writes_package_and_ledger(project):
    result = run(project)
    assert result.exit_code == 0, result.output + result.stderr
    assert result.output == "decks/sample.apkg: written: 3 notes, 5 cards (3 added, 0 changed, 0 removed)\n"
    assert (project / "decks/sample.apkg").is_file()
    ledger = json.loads((project / "decks/sample.lock.json").read_text())
    assert set(ledger["notes"]) == {"q-basic", "q-point", "q-cloze"}
    content = read_apkg(project / "decks/sample.apkg")
    assert content["decks"][0][0] == "Test::sample"
    assert content["cards"] == 5


def test_the_ledger_has_one_line_per_note_and_an_edit_changes_only_its_line(project):
    build(Project(project), now=1_700_000_000)
    path = project / "decks/sample.lock.json"
    before = path.read_text().splitlines()
    assert [line for line in before if line.startswith('  "q-')] == [
        f'  "{key}": {{"hash": "{entry["hash"]}", "mod": 1700000000}}' + ("," if key != "q-point" else "") for key, entry in sorted(json.loads(path.read_text())["notes"].items())
    ]
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing", "Handling"))
    build(Project(project), now=1_800_000_000)
    after = path.read_text().splitlines()
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert len(changed) == 1 and changed[0][0].startswith('  "q-basic": ') and changed[0][1].endswith('"mod": 1800000000},')


def test_same_sources_and_ledger_give_identical_bytes_on_another_day(project):
    build(Project(project), now=1_700_000_000)
    first = snapshot(project / "decks")
    os.remove(project / "decks/sample.apkg")
    build(Project(project), now=1_800_000_000)
    assert snapshot(project / "decks") == first


def test_a_copy_of_the_project_elsewhere_builds_the_same_bytes(project, tmp_path_factory):
    import shutil

    build(Project(project), now=1_700_000_000)
    other = tmp_path_factory.mktemp("clone")
    shutil.copytree(project / "cards_src", other / "cards_src")
    shutil.copytree(project / "decks", other / "decks")
    (other / "decks/sample.apkg").unlink()
    build(Project(other), now=1_750_000_000)
    assert snapshot(other / "decks") == snapshot(project / "decks")


def test_package_is_compressed_with_fixed_entry_times(project):
    import zipfile

    build(Project(project), now=1_700_000_000)
    with zipfile.ZipFile(project / "decks/sample.apkg") as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == ["collection.anki2", "media"]
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) and i.compress_type == zipfile.ZIP_DEFLATED for i in infos)


def test_mod_moves_forward_only_for_changed_notes(project):
    build(Project(project), now=1_700_000_000)
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing pain syndromes.", "The management of pain syndromes."))
    results = build(Project(project), now=1_600_000_000)  # a clock that went backwards
    ledger = json.loads((project / "decks/sample.lock.json").read_text())["notes"]
    assert results[0].stamped.changed == ["q-basic"]
    assert ledger["q-basic"]["mod"] == 1_700_000_001
    assert ledger["q-point"]["mod"] == 1_700_000_000


def test_build_one_deck_by_key(project):
    write(project / "cards_src/other/deck.yaml", "key: other\nname: Other\n")
    write(project / "cards_src/other/cards.yaml", "cards:\n  - {id: a, type: basic, front: A?, back: B.}\n")
    result = run(project, "build", "other")
    assert result.exit_code == 0, result.stderr
    assert (project / "decks/other.apkg").exists()
    assert not (project / "decks/sample.apkg").exists()


def test_unknown_deck_key_is_a_clear_error(project):
    result = run(project, "build", "nope")
    assert result.exit_code == 1
    assert result.stderr == "Error: no deck named 'nope' in cards_src/ (decks: sample)\n"


def test_failed_build_leaves_previous_deck_untouched(project, monkeypatch):
    from acudeck import collection

    build(Project(project), now=1_700_000_000)
    before = snapshot(project / "decks")
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing", "Handling"))

    def explode(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(collection.genanki.Package, "write_to_db", explode)
    with pytest.raises(KeyboardInterrupt):
        build(Project(project), now=1_700_000_500)
    assert snapshot(project / "decks") == before
    assert not [p for p in (project / "decks").iterdir() if p.name.startswith(".")]


def test_check_writes_nothing_and_passes_after_build(project):
    assert run(project).exit_code == 0
    before = snapshot(project / "decks")
    result = run(project, "check")
    assert result.exit_code == 0, result.stderr
    assert snapshot(project / "decks") == before


def test_check_fails_on_stale_ledger(project):
    assert run(project).exit_code == 0
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing", "Handling"))
    result = run(project, "check")
    assert result.exit_code == 1
    assert result.stderr == ("cards_src/sample/cards.yaml:2:5: note 'q-basic' changed since decks/sample.lock.json was written; run 'python build.py'\n")


def test_check_fails_when_committed_deck_does_not_match_sources(project, tmp_path_factory):
    assert run(project).exit_code == 0
    other = tmp_path_factory.mktemp("other")
    write(other / "cards_src/sample/deck.yaml", "key: sample\nname: Something else\n")
    write(other / "cards_src/sample/cards.yaml", "cards:\n  - {id: a, type: basic, front: A?, back: B.}\n")
    assert run(other).exit_code == 0
    (project / "decks/sample.apkg").write_bytes((other / "decks/sample.apkg").read_bytes())
    result = run(project, "check")
    assert result.exit_code == 1
    assert result.stderr.startswith("decks/sample.apkg:1:1: does not match its sources (")
    assert "3 notes missing" in result.stderr


def test_released_card_cannot_silently_disappear(project):
    assert run(project).exit_code == 0
    cards = project / "cards_src/sample/cards.yaml"
    text = cards.read_text()
    cards.write_text(text[: text.index("  - id: q-cloze")])
    before = snapshot(project / "decks")
    for command in ("build", "check"):
        result = run(project, command)
        assert result.exit_code == 1
        assert result.stderr == (
            "cards_src/sample/deck.yaml:1:1: card 'q-cloze' was released (decks/sample.lock.json) and is gone from the sources; "
            "restore it, or list it under 'retired:' in deck.yaml\n"
        )
    assert snapshot(project / "decks") == before
    deck = project / "cards_src/sample/deck.yaml"
    deck.write_text(deck.read_text() + "retired: [q-cloze]\n")
    assert run(project).exit_code == 0
    assert run(project, "check").exit_code == 0


def test_retired_id_can_never_be_used_again(project):
    deck = project / "cards_src/sample/deck.yaml"
    deck.write_text(deck.read_text() + "retired: [q-point]\n")
    result = run(project, "check")
    assert result.exit_code == 1
    assert result.stderr == "cards_src/sample/cards.yaml:9:5: id 'q-point' is retired (cards_src/sample/deck.yaml:8:11) and can never be used again\n"


def _reshaped(spec, how):
    from dataclasses import replace

    from acudeck.notetypes import NoteField

    front, back, *rest = spec.fields
    fields = {
        "field added": (*spec.fields, NoteField("Hint", 5_000_000_000_000_000_001)),
        "field renamed": (front, NoteField("Answer", back.id), *rest),
        "field id changed": (front, NoteField(back.name, back.id + 1), *rest),
        "fields reordered": (back, front, *rest),
    }.get(how, spec.fields)
    templates = ({**spec.templates[0], "name": "Forward"},) if how == "template renamed" else spec.templates
    return replace(spec, fields=fields, templates=templates)


@pytest.mark.parametrize("how", ["field added", "field renamed", "field id changed", "fields reordered", "template renamed"])
def test_a_new_note_type_shape_without_a_version_bump_is_refused(project, monkeypatch, how):
    from acudeck import cardtypes

    assert run(project).exit_code == 0
    monkeypatch.setitem(cardtypes.NOTE_TYPES, "basic", _reshaped(cardtypes.NOTE_TYPES["basic"], how))
    for command in ("build", "check"):
        result = run(project, command, "--no-cache")  # the change is in memory only, where the cache cannot see it
        assert result.exit_code == 1, command
        assert "note type 'acudeck Basic' (model id 1795201101) changed its fields or templates (names, count or ids) since the last build without a new version" in result.stderr
        assert "set version=2 in its NoteTypeSpec" in result.stderr and "'Merge note types'" in result.stderr


def test_a_renamed_field_with_a_bumped_version_moves_the_mod_of_every_note_of_the_type(project, monkeypatch):
    from dataclasses import replace

    from acudeck import cardtypes

    assert run(project).exit_code == 0
    ledger = json.loads((project / "decks/sample.lock.json").read_text())
    spec = cardtypes.NOTE_TYPES["basic"]
    monkeypatch.setitem(cardtypes.NOTE_TYPES, "basic", replace(_reshaped(spec, "field renamed"), version=2))
    assert run(project, "check", "--no-cache").exit_code == 1  # built from version 1: a build is needed
    assert run(project, "build", "--no-cache").exit_code == 0
    after = json.loads((project / "decks/sample.lock.json").read_text())
    assert after["notetypes"]["1795201101"]["version"] == 2 and after["notetypes"]["1795201101"]["mod"] > ledger["notetypes"]["1795201101"]["mod"]
    assert after["notes"]["q-basic"]["hash"] == ledger["notes"]["q-basic"]["hash"]  # the same text...
    assert after["notes"]["q-basic"]["mod"] > ledger["notes"]["q-basic"]["mod"]  # ...in a new shape
    assert after["notes"]["q-point"] == ledger["notes"]["q-point"]  # another type's notes stay
    assert run(project, "check", "--no-cache").exit_code == 0
    monkeypatch.setitem(cardtypes.NOTE_TYPES, "basic", replace(_reshaped(spec, "field renamed"), version=1))
    result = run(project, "check", "--no-cache")
    assert result.exit_code == 1 and "has version 1, older than the ledger's 2; restore version = 2" in result.stderr


def test_a_version_bump_without_a_new_shape_is_refused(project, monkeypatch):
    from dataclasses import replace

    from acudeck import cardtypes

    assert run(project).exit_code == 0
    monkeypatch.setitem(cardtypes.NOTE_TYPES, "basic", replace(cardtypes.NOTE_TYPES["basic"], version=2))
    result = run(project, "build", "--no-cache")
    assert result.exit_code == 1 and "has version 2 but the same fields and templates as version 1; keep version = 1" in result.stderr


def test_every_command_has_help_with_an_example():
    from click.testing import CliRunner

    from acudeck.__main__ import cli

    for args in ([], ["build"], ["check"]):
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0
        assert "Example" in result.output


def test_a_killed_build_of_a_large_deck_leaves_the_previous_deck_and_ledger_intact(project):
    import signal
    import subprocess
    import sys
    import time

    cards = "cards:\n" + "".join(f"  - {{id: card-{i}, type: reversed, front: 'Question {i} *about* needling?', back: 'Answer {i}.'}}\n" for i in range(4000))
    write(project / "cards_src/sample/big.yaml", cards)
    assert run(project).exit_code == 0

    def published():  # a kill can leave a temporary file, which the next build removes (checked below)
        return {name: data for name, data in snapshot(project / "decks").items() if not name.startswith(".")}

    before = published()
    big = project / "cards_src/sample/big.yaml"
    big.write_text(big.read_text().replace("Answer 7.", "Answer seven."))
    command = [sys.executable, "-m", "acudeck", "-C", str(project), "build"]
    for delay in (0.2, 0.5, 0.8, 1.1, 1.4):
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = published()
        if after != before:  # the build finished before the kill: the new pair must be complete
            assert set(after) == set(before)
            assert run(project, "check").exit_code == 0
            break
    else:
        assert published() == before
    assert run(project).exit_code == 0
    assert not [p for p in (project / "decks").iterdir() if p.name.startswith(".")], "leftovers of killed builds are cleaned up"


def test_progress_is_shown_on_request_and_never_on_stdout(project):
    quiet = run(project, "build", "sample")
    assert quiet.exit_code == 0 and "reading" not in quiet.output
    for path in (project / "decks").iterdir():
        path.unlink()
    result = run(project, "--progress", "build")
    assert result.exit_code == 0, result.stderr
    assert "reading sample: 1/1" in result.stderr
    assert result.stdout == "decks/sample.apkg: written: 3 notes, 5 cards (3 added, 0 changed, 0 removed)\n"


def test_progress_reports_every_card_file(project):
    seen = []
    write(project / "cards_src/sample/more.yaml", "cards:\n  - {id: z, type: basic, front: Z?, back: Z.}\n")
    build(Project(project, progress=lambda label, done, total: seen.append((label, done, total))), now=1_700_000_000)
    assert seen == [("reading sample", 1, 2), ("reading sample", 2, 2), ("writing decks", 1, 1)]


def test_a_build_pauses_the_cycle_collector_and_leaves_it_as_it_found_it(project, monkeypatch):
    import gc

    from acudeck import project as project_module

    seen = []
    real = project_module.stamp
    monkeypatch.setattr(project_module, "stamp", lambda *args: seen.append(gc.isenabled()) or real(*args))
    assert gc.isenabled()
    build(Project(project), now=1_700_000_000)
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        build(Project(project), now=1_700_000_000)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_check_on_a_new_card_says_a_build_is_needed_and_the_card_is_fine(project):
    assert run(project, "build").exit_code == 0
    write(project / "cards_src/sample/new.yaml", "cards:\n  - id: q-new\n    type: basic\n    front: A new question?\n    back: Yes.\n")
    result = run(project, "check")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "cards_src/sample/new.yaml:2:5: note 'q-new' is new and not built yet (the card itself checks out): "
        "run 'python build.py' to add it to decks/sample.apkg and decks/sample.lock.json, then commit them"
    ]


def test_an_empty_deck_builds_with_a_warning(project):
    write(project / "cards_src/sample/cards.yaml", "cards: []\n")
    result = run(project, "build")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == ["cards_src/sample/deck.yaml:1:1: warning: deck has no cards; add them to a card file (*.yaml) beside deck.yaml, under `cards:`"]
