"""The card types: one module each under this package, all providing `CardType`.

`CARD_TYPES` is the one list of them: every other part of acudeck asks this registry, and no module
but a type's own names a type. To add one, copy `basic.py`, give it its own NAME and model id, add
its name here, and run `python build.py schema` (CONTRIBUTING.md walks through it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, cast

from .protocol import CardType, Field

if TYPE_CHECKING:
    from ..notes import NoteSource
    from ..notetypes import NoteTypeSpec

CARD_TYPES = ["basic", "reversed", "cloze", "point", "picture", "compare"]

REGISTRY: dict[str, CardType] = {name: cast(CardType, importlib.import_module(f"{__name__}.{name}")) for name in CARD_TYPES}

NOTE_TYPES: dict[str, NoteTypeSpec] = {name: module.NOTE_TYPE for name, module in REGISTRY.items()}

__all__ = ["CARD_TYPES", "NOTE_TYPES", "REGISTRY", "CardType", "Field", "card_type", "note_type", "sibling_group"]


def card_type(name: str) -> CardType:
    return REGISTRY[name]


def note_type(name: str) -> NoteTypeSpec:
    return NOTE_TYPES[name]


def sibling_group(note: NoteSource) -> str:
    """What the note's cards are spread apart with (order.py): its card's other notes too, or only
    its own cards (the type's SIBLINGS)."""
    return note.card_id if REGISTRY[note.card_type].SIBLINGS == "card" else note.key
