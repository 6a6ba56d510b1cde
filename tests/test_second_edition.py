"""A student who studied the first edition of the needling deck imports the second, in real Anki.

The first edition is kept as it was released (tests/fixtures/*-first-edition.apkg); the second is the
committed build. The student studies with the default scheduler first, so that there are reviews,
learning cards and review cards to lose; then imports with Anki's default options.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ankitools import card_state, fresh_collection, import_apkg, log_counts, logged_ids, note_state, render, study, visible_text

from acudeck.contents import read_apkg
from acudeck.tombstone import NOTICE, RETIRED_TAG

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EDITIONS = [
    ("needling", "Acupuncture::Needling Techniques"),
    ("acu-201-week-3", "ACU 201::Week 3 - Needling"),
]


@pytest.fixture(params=EDITIONS, ids=[key for key, _ in EDITIONS])
def upgraded(request, tmp_path):
    """(first package, second package, import log, collection state before and after the import)."""
    key, deck_name = request.param
    first_path, second_path = FIXTURES / f"{key}-first-edition.apkg", REPO / "decks" / f"{key}.apkg"
    with fresh_collection(tmp_path) as col:
        import_apkg(col, first_path)
        answered = study(col, deck_name, 25)
        col.sched.set_due_date(answered[:5], "3")  # some cards become reviews, due in three days
        before = card_state(col), note_state(col)
        log = import_apkg(col, second_path)
        after = card_state(col), note_state(col)
        notetypes = [entry.name for entry in col.models.all_names_and_ids()]
        retired_faces = {guid: [visible_text(side) for cid in _cards_of(col, guid) for side in render(col, cid)] for guid in _retired(read_apkg(second_path))}
        yield read_apkg(first_path), read_apkg(second_path), log, before, after, notetypes, retired_faces


def _retired(package: dict) -> set[str]:
    return {guid for guid, note in package["notes"].items() if RETIRED_TAG in note["tags"]}


def _cards_of(col, guid: str) -> list[int]:
    return col.db.list("SELECT cards.id FROM cards JOIN notes ON cards.nid = notes.id WHERE notes.guid = ?", guid)


def test_every_review_and_card_state_is_kept(upgraded):
    _, _, _, (cards_before, _), (cards_after, _), _, _ = upgraded
    assert any(state[9] for state in cards_before.values()), "the student has reviews to keep"
    assert any(state[2] == 2 for state in cards_before.values()), "and review cards"
    assert {cid: cards_after[cid] for cid in cards_before} == cards_before


def test_no_note_conflicts_or_is_duplicated_and_no_note_type_is_copied(upgraded):
    first, second, log, _, (_, notes_after), notetypes, _ = upgraded
    counts = log_counts(log)
    assert counts["conflicting"] == counts["missing_notetype"] == counts["first_field_match"] == 0
    assert set(first["notes"]) <= set(second["notes"]), "no note of the first edition vanishes"
    assert set(notes_after) == set(second["notes"])  # one note per GUID: nothing added twice
    assert not [name for name in notetypes if name.endswith("+")]


def test_edited_cards_change_in_place_and_new_ones_are_added(upgraded):
    first, second, log, (_, notes_before), (_, notes_after), _, _ = upgraded
    changed = {guid for guid, note in second["notes"].items() if guid in first["notes"] and note["fields"] != first["notes"][guid]["fields"]}
    added = set(second["notes"]) - set(first["notes"])
    assert changed and added
    updated = {guid for guid, state in notes_after.items() if state[0] in set(logged_ids(log.updated))}
    assert changed <= updated
    assert {guid for guid, state in notes_after.items() if state[0] in set(logged_ids(log.new))} == added
    for guid, note in second["notes"].items():
        assert notes_after[guid][2] == note["fields"], f"the student sees the second edition of {guid}"
        if guid in notes_before:
            assert notes_after[guid][0] == notes_before[guid][0], "same note: updated in place"


def test_retired_cards_say_they_were_withdrawn(upgraded):
    first, second, _, _, _, _, faces = upgraded
    retired = _retired(second)
    assert retired <= set(first["notes"])
    for guid in retired:
        assert faces[guid] and all(visible_text(NOTICE) in side for side in faces[guid])
