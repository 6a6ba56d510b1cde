"""The key acceptance test: a rebuilt deck, imported into real Anki, updates in place.

Students keep their progress (review history and scheduling), edited notes change, new notes
appear, nothing is duplicated, and unchanged notes (and students' own edits to them) are left alone.
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
from ankitools import all_notes, card_state, fresh_collection, import_apkg, log_counts, logged_ids, note_by_guid, note_state, render, render_all, study, visible_text

from acudeck.notes import note_guid
from acudeck.project import Project, build

T1 = 1_700_000_000
T2 = 1_700_000_100
T3 = 1_700_000_200

DECK = "Test::Update"

DECK_YAML = f"""\
key: upd
name: "{DECK}"
description: A deck for the update-in-place test.
tags: [test]
reading:
  title: A test reading
"""

CARDS_YAML = """\
cards:
  - id: u-basic
    type: basic
    front: What is the needle used in acupuncture called?
    back: A filiform needle.
  - id: u-basic2
    type: basic
    front: What does IMS stand for?
    back: Intramuscular Stimulation.
  - id: u-reversed
    type: reversed
    front: Trigger point technique
    back: Dry needling
  - id: u-cloze
    type: cloze
    text: "Acupuncture can regulate {{c1::hormones}} and affect {{c2::organ function}}."
  - id: u-point
    type: point
    point: SI 11
    muscle: infraspinatus
  - id: u-compare
    type: compare
    aspect: What the practitioner primarily needles
    items:
      Dry needling: Trigger points
      IMS: Motor points
"""

NEW_CARD = """\
  - id: u-new
    type: basic
    front: Which needle is thicker, filiform or hypodermic?
    back: Hypodermic.
"""

# notes: 5 single notes + 2 compare notes; cards: 1 + 1 + 2 + 2 + 2 + 2*2
NOTES = 7
CARDS = 12


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def root(tmp_path) -> Path:
    root = tmp_path / "proj"
    _write(root / "cards_src/upd/deck.yaml", DECK_YAML)
    _write(root / "cards_src/upd/cards.yaml", CARDS_YAML)
    return root


def cards_file(root: Path) -> Path:
    return root / "cards_src/upd/cards.yaml"


def edit(root: Path, old: str, new: str) -> None:
    path = cards_file(root)
    text = path.read_text("utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def apkg(root: Path) -> Path:
    return root / "decks/upd.apkg"


def ledger(root: Path) -> Path:
    return root / "decks/upd.lock.json"


def guid(key: str) -> str:
    return note_guid("upd", key)


def test_rebuilt_deck_updates_in_place_and_keeps_progress(root, tmp_path):
    build(Project(root), now=T1)
    with fresh_collection(tmp_path) as col:
        log = import_apkg(col, apkg(root))
        assert log_counts(log)["new"] == NOTES
        assert col.note_count() == NOTES and col.card_count() == CARDS

        answered = study(col, DECK, 6, ease=3)
        assert len(answered) == 6
        # and one card becomes a proper review card with a due date
        col.sched.set_due_date([answered[0]], "5")
        assert col.db.scalar("SELECT count(*) FROM revlog") >= 6

        cards_before = card_state(col)
        notes_before = note_state(col)
        assert len(notes_before) == NOTES

        edit(root, "back: A filiform needle.", "back: A **filiform** needle, solid with a fine tip.")
        cards_file(root).write_text(cards_file(root).read_text("utf-8") + NEW_CARD, encoding="utf-8")
        results = build(Project(root), now=T2)
        assert results[0].stamped.changed == ["u-basic"]
        assert results[0].stamped.added == ["u-new"]

        log = import_apkg(col, apkg(root))
        counts = log_counts(log)
        assert logged_ids(log.updated) == [notes_before[guid("u-basic")][0]]
        assert counts["new"] == 1
        assert counts["updated"] == 1
        assert counts["duplicate"] == NOTES - 1  # "duplicate" is Anki's word for "found, not newer"
        assert counts["conflicting"] == 0 and counts["missing_notetype"] == 0

        # no duplicates: one more note, GUIDs unique
        notes_after = note_state(col)
        assert col.note_count() == NOTES + 1
        guids = col.db.list("SELECT guid FROM notes")
        assert len(guids) == len(set(guids)) == NOTES + 1
        assert col.card_count() == CARDS + 1

        # the edited note: same id, new text, newer mod
        edited = note_by_guid(col, guid("u-basic"))
        assert edited.id == notes_before[guid("u-basic")][0]
        assert "solid with a fine tip" in edited["Back"] and "<strong>filiform</strong>" in edited["Back"]
        assert edited.mod == T2
        (cid,) = edited.card_ids()
        question, answer = render(col, cid)
        assert "What is the needle used in acupuncture called?" in visible_text(question)
        assert "solid with a fine tip" in visible_text(answer)
        assert "A filiform needle." not in visible_text(answer)

        # the new card is there, in the same deck
        new = note_by_guid(col, guid("u-new"))
        assert new is not None and "Hypodermic" in new["Back"]
        (new_cid,) = new.card_ids()
        assert col.decks.name(col.get_card(new_cid).did) == DECK
        assert "Which needle is thicker" in visible_text(render(col, new_cid)[0])

        # every other note untouched: same id, mod, fields
        for g, before in notes_before.items():
            if g == guid("u-basic"):
                continue
            assert notes_after[g] == before, g

        # every old card keeps its scheduling and its review history
        cards_after = card_state(col)
        for cid, before in cards_before.items():
            assert cards_after[cid] == before, cid
        assert any(state[9] for state in cards_after.values())  # some history was actually there

        for question, answer in render_all(col):
            assert visible_text(question) and visible_text(answer)


def test_rebuild_without_changes_is_byte_identical_and_imports_as_no_change(root, tmp_path):
    build(Project(root), now=T1)
    package, lock = apkg(root).read_bytes(), ledger(root).read_bytes()
    results = build(Project(root), now=T2)
    assert not results[0].written
    assert apkg(root).read_bytes() == package and ledger(root).read_bytes() == lock
    apkg(root).unlink()  # force a fresh write, with a different clock
    build(Project(root), now=T3)
    assert apkg(root).read_bytes() == package and ledger(root).read_bytes() == lock

    with fresh_collection(tmp_path) as col:
        import_apkg(col, apkg(root))
        study(col, DECK, 3)
        notes_before, cards_before = note_state(col), card_state(col)
        log = import_apkg(col, apkg(root))
        counts = log_counts(log)
        assert counts["updated"] == 0 and counts["new"] == 0
        assert counts["duplicate"] == NOTES
        assert note_state(col) == notes_before
        assert card_state(col) == cards_before


def test_students_local_edit_to_an_unchanged_note_survives_reimport(root, tmp_path):
    build(Project(root), now=T1)
    with fresh_collection(tmp_path) as col:
        import_apkg(col, apkg(root))
        mine = note_by_guid(col, guid("u-basic2"))
        mine["Back"] = "Intramuscular Stimulation (my own mnemonic: I Must Stimulate)"
        mine.tags.append("my_tag")
        col.update_note(mine)
        mine_before = note_state(col)[guid("u-basic2")]

        edit(root, "back: A filiform needle.", "back: A solid filiform needle.")
        # built after the student's edit: a later clock than the edit's mod, so only the ledger
        # (which keeps the unchanged note's old mod) protects the edit
        later = int(time.time()) + 3600
        assert T1 < mine_before[1] < later  # note mods are in seconds
        results = build(Project(root), now=later)
        assert results[0].stamped.changed == ["u-basic"]

        log = import_apkg(col, apkg(root))
        assert log_counts(log)["updated"] == 1
        assert logged_ids(log.updated) == [note_by_guid(col, guid("u-basic")).id]
        assert "solid filiform" in note_by_guid(col, guid("u-basic"))["Back"]
        assert note_state(col)[guid("u-basic2")] == mine_before
        kept = note_by_guid(col, guid("u-basic2"))
        assert kept["Back"] == "Intramuscular Stimulation (my own mnemonic: I Must Stimulate)"
        assert "my_tag" in kept.tags
        assert col.note_count() == NOTES


def test_editing_one_compare_value_updates_every_note_of_that_compare(root, tmp_path):
    build(Project(root), now=T1)
    compare = {guid("u-compare/Dry needling"), guid("u-compare/IMS")}
    with fresh_collection(tmp_path) as col:
        import_apkg(col, apkg(root))
        study(col, DECK, CARDS)
        notes_before, cards_before = note_state(col), card_state(col)

        edit(root, "IMS: Motor points", "IMS: Motor points of the inhibited muscles")
        results = build(Project(root), now=T2)
        assert sorted(results[0].stamped.changed) == ["u-compare/Dry needling", "u-compare/IMS"]

        log = import_apkg(col, apkg(root))
        counts = log_counts(log)
        assert counts["updated"] == 2 and counts["new"] == 0
        assert set(logged_ids(log.updated)) == {notes_before[g][0] for g in compare}
        assert col.note_count() == NOTES
        guids = col.db.list("SELECT guid FROM notes")
        assert len(guids) == len(set(guids)) == NOTES

        notes_after = note_state(col)
        for g in compare:
            note = note_by_guid(col, g)
            assert note.id == notes_before[g][0]
            assert "Motor points of the inhibited muscles" in note["Table"]
            assert note["Table"] != notes_before[g][2][3]  # the table changed in every note of the compare
            assert note.mod == T2
            for cid in note.card_ids():
                question, answer = render(col, cid)
                assert "Motor points of the inhibited muscles" in visible_text(answer)
        assert note_by_guid(col, guid("u-compare/IMS"))["Value"] == "Motor points of the inhibited muscles"
        assert note_by_guid(col, guid("u-compare/Dry needling"))["Value"] == "Trigger points"
        for g, before in notes_before.items():
            if g not in compare:
                assert notes_after[g] == before
        assert card_state(col) == cards_before
        assert len(all_notes(col)) == NOTES


def test_a_css_change_reaches_students_without_touching_their_notes(root, tmp_path, monkeypatch):
    from acudeck import cardtypes, notetypes

    build(Project(root), now=T1)
    with fresh_collection(tmp_path) as col:
        import_apkg(col, apkg(root))
        mid = cardtypes.NOTE_TYPES["basic"].model_id
        assert "letter-spacing: 0.01em" not in col.models.get(mid)["css"]
        monkeypatch.setattr(notetypes, "CSS", notetypes.CSS + "\n.prompt { letter-spacing: 0.01em; }\n")
        build(Project(root), now=T2)
        log = log_counts(import_apkg(col, apkg(root)))
        assert log["updated"] == 0 and log["new"] == 0 and log["conflicting"] == 0
        assert "letter-spacing: 0.01em" in col.models.get(mid)["css"]
        assert [m.name for m in col.models.all_names_and_ids() if m.name.endswith("+")] == []
