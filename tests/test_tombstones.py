"""Retired cards and compare items stay in the package as tombstones that say they were withdrawn."""

import json

import pytest
from conftest import CARDS_YAML, run, write

from acudeck.contents import read_apkg
from acudeck.notes import note_guid
from acudeck.tombstone import NOTICE, RETIRED_TAG

COMPARE = """\
  - id: q-compare
    type: compare
    aspect: What the practitioner needles
    items:
      Dry needling: Trigger points
      IMS: Motor points
      Acupuncture: Meridian points
"""


@pytest.fixture
def built(project):
    write(project / "cards_src/sample/cards.yaml", CARDS_YAML + COMPARE)
    assert run(project).exit_code == 0
    return project


def retire(project, card_text, retired):
    cards = project / "cards_src/sample/cards.yaml"
    text = cards.read_text()
    assert card_text in text
    cards.write_text(text.replace(card_text, ""))
    deck = project / "cards_src/sample/deck.yaml"
    deck.write_text(deck.read_text() + f"retired: {json.dumps(retired)}\n")


CLOZE = '  - id: q-cloze\n    type: cloze\n    text: "IMS stands for {{c1::Intramuscular}} {{c2::Stimulation}}."\n'


def ledger(project):
    return json.loads((project / "decks/sample.lock.json").read_text())


def test_a_retired_card_stays_as_a_tombstone(built):
    before = ledger(built)["notes"]["q-cloze"]
    retire(built, CLOZE, ["q-cloze"])
    result = run(built)
    assert result.exit_code == 0, result.stderr
    after = ledger(built)
    assert after["retired"] == {"q-cloze": {"ords": [0, 1], "type": "cloze"}}
    assert after["notes"]["q-cloze"]["mod"] > before["mod"] and after["notes"]["q-cloze"]["hash"] != before["hash"]
    note = read_apkg(built / "decks/sample.apkg")["notes"][note_guid("sample", "q-cloze")]
    assert note["tags"] == [RETIRED_TAG]
    assert note["fields"][0] == f"{NOTICE} ({{{{c1::withdrawn}}}} {{{{c2::withdrawn}}}})"
    assert run(built, "check").stderr == "ok\n"
    again = run(built)
    assert again.stdout == "decks/sample.apkg: unchanged: 6 notes, 11 cards (0 added, 0 changed, 0 removed)\n"


def test_a_tombstone_is_rebuilt_from_the_ledger_alone(built):
    retire(built, "      IMS: Motor points\n", ["q-compare/IMS"])
    assert run(built).exit_code == 0
    first = (built / "decks/sample.apkg").read_bytes()
    assert ledger(built)["retired"] == {"q-compare/IMS": {"ords": [0, 1], "type": "compare"}}
    (built / "decks/sample.apkg").unlink()  # the released package is no longer needed
    assert run(built).exit_code == 0
    assert (built / "decks/sample.apkg").read_bytes() == first
    note = read_apkg(built / "decks/sample.apkg")["notes"][note_guid("sample", "q-compare/IMS")]
    assert note["tags"] == [RETIRED_TAG] and note["fields"][:3] == ["", NOTICE, NOTICE]


def test_retiring_without_the_released_package_is_a_clear_error(built):
    (built / "decks/sample.apkg").unlink()
    retire(built, CLOZE, ["q-cloze"])
    result = run(built)
    assert result.exit_code == 1
    assert result.stderr == "Error: decks/sample.apkg: cannot make the tombstones of the retired cards without the released package; restore it from git\n"


def test_a_ledger_whose_retired_entry_names_no_note_is_unreadable(built):
    path = built / "decks/sample.lock.json"
    data = ledger(built)
    data["retired"] = {"q-gone": {"ords": [0], "type": "basic"}}
    path.write_text(json.dumps(data))
    result = run(built, "check")
    assert result.exit_code == 1
    assert result.stderr == "Error: decks/sample.lock.json: the ledger is unreadable (retired note 'q-gone' is not in 'notes'); restore it from git\n"


def test_students_get_the_tombstone_in_place_and_keep_their_reviews(built, tmp_path):
    from ankitools import card_state, fresh_collection, import_apkg, log_counts, note_by_guid, render, study, visible_text

    release_1 = tmp_path / "v1.apkg"
    release_1.write_bytes((built / "decks/sample.apkg").read_bytes())
    retire(built, CLOZE, ["q-cloze"])
    assert run(built).exit_code == 0
    with fresh_collection(tmp_path) as col:
        import_apkg(col, release_1)
        studied = study(col, "Test::sample", 3)
        assert len(studied) == 3
        col.sched.set_due_date([cid for cid in col.find_cards("") if cid not in studied], "3")  # the rest: review cards
        assert col.db.scalar("SELECT count(*) FROM revlog") == 11
        reviews = card_state(col)
        log = import_apkg(col, built / "decks/sample.apkg")
        assert log_counts(log) == {**dict.fromkeys(log_counts(log), 0), "updated": 1, "duplicate": 5}
        assert card_state(col) == reviews  # every card kept, with its scheduling and review history
        note = note_by_guid(col, note_guid("sample", "q-cloze"))
        assert note.tags == [RETIRED_TAG]
        assert col.find_notes(f"tag:{RETIRED_TAG}") == [note.id]
        for cid in note.card_ids():
            question, answer = render(col, cid)
            assert visible_text(question).startswith("Withdrawn. This card was removed from the deck")
            assert f"search tag:{RETIRED_TAG}" in visible_text(answer)


COURSES = {
    "with-cloze": "key: with-cloze\nname: 'Course::With cloze'\nselect:\n  - deck: sample\n    types: [cloze, point]\n",
    "without-cloze": "key: without-cloze\nname: 'Course::Without cloze'\nselect:\n  - deck: sample\n    types: [basic]\n",
}


def test_a_course_that_held_a_retired_card_gets_its_tombstone_and_no_other_course_does(built):
    for key, text in COURSES.items():
        write(built / f"courses/{key}.yaml", text)
    assert run(built).exit_code == 0
    retire(built, CLOZE, ["q-cloze"])
    result = run(built)
    assert result.exit_code == 0, result.stderr
    tombstone = note_guid("sample", "q-cloze")
    held = read_apkg(built / "decks/with-cloze.apkg")["notes"]
    assert set(held) == {tombstone, note_guid("sample", "q-point")} and held[tombstone]["tags"] == [RETIRED_TAG]
    assert held[tombstone] == read_apkg(built / "decks/sample.apkg")["notes"][tombstone]  # the deck's tombstone, mod and all
    assert tombstone not in read_apkg(built / "decks/without-cloze.apkg")["notes"]
    assert run(built).stdout.count("unchanged") == 3  # the tombstone stays, build after build
    assert run(built, "check").stderr == "ok\n"
