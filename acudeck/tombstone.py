"""Tombstones: what a retired card (or compare item) becomes in the package.

Anki never deletes a note on import, so a card simply left out of the package stays in every
student's collection with nothing to say it was withdrawn. Instead its notes stay in the package
under their GUIDs, with faces that say so and how to delete them, and the tag RETIRED_TAG; their
content changes, so the ledger gives them a newer mod once and students' Anki updates them in place
(reviews kept). A tombstone is made from the ledger's "retired" entry: its card type (so the note
type is the one students have) and the ords of its cards (so no card is added or left blank).
"""

from __future__ import annotations

from .cardtypes import NOTE_TYPES, card_type
from .cardtypes.common import front_fields
from .notes import NoteSource, make_note, note_guid

RETIRED_TAG = "acudeck::retired"
NOTICE = (
    "<b>Withdrawn.</b> This card was removed from the deck and will not come back. "
    f"To delete it: in Anki, open <b>Browse</b>, search <code>tag:{RETIRED_TAG}</code>, select the cards and delete them."
)


def tombstone(deck_key: str, key: str, shape: dict) -> NoteSource:
    """The tombstone of note `key`, whose ledger entry under "retired" is `shape`."""
    spec = NOTE_TYPES[shape["type"]]
    ords = sorted(shape["ords"])
    if spec.cloze:  # one deletion per card the note had: Anki keeps those cards and makes no others
        deletions = " ".join(f"{{{{c{card_ord + 1}::withdrawn}}}}" for card_ord in ords)
        fields = (f"{NOTICE} ({deletions})", *[""] * (len(spec.fields) - 1))
    else:
        fronts = front_fields(spec)
        # The notice once on each front: in the last field it shows (a compare's item, not its aspect).
        shown = {fronts[card_ord][-1] for card_ord in ords if card_ord < len(fronts) and fronts[card_ord]}
        fields = tuple(NOTICE if index in shown else "" for index in range(len(spec.fields)))
    made = card_type(shape["type"]).card_ords(fields)
    return make_note(key, note_guid(deck_key, key), shape["type"], spec.model_id, fields, (RETIRED_TAG,), made)


def card_types_by_model() -> dict[int, str]:
    return {spec.model_id: name for name, spec in NOTE_TYPES.items()}
