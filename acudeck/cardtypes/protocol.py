"""What every card type module provides: the one interface the rest of acudeck uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from ..card import CardSource
    from ..errors import Location, Problem
    from ..notes import NoteContext, NoteSource
    from ..notetypes import NoteTypeSpec
    from .common import Generated


@dataclass(frozen=True)
class Field:
    """One of a type's own fields, in the order its note type stores them."""

    name: str  # the key in a card file
    schema: dict[str, Any]  # its JSON Schema fragment, with a description and an example for editors
    # "text": Markdown, rendered; "items": a mapping of items to Markdown values, rendered value by value
    # (compare's `items`); "data": plain data the type reads itself (numbers, lists), not rendered.
    kind: Literal["text", "items", "data"] = "text"
    required: bool = True  # an optional field left out reads as "" (text), {} (items) or None (data)


class CardType(Protocol):
    """A card type: a module under acudeck/cardtypes/ named in CARD_TYPES.

    Each module defines these names at its top level (as pre-commit's languages do); the checks in
    tests/test_cardtypes.py make sure every registered module has all of them.
    """

    NAME: str  # the value of `type:` in a card file; the module's own name
    SUMMARY: str  # what one card of this type becomes, for the schema and the docs
    LABEL: str  # how the preview names the type
    FIELDS: tuple[Field, ...]
    NOTE_TYPE: NoteTypeSpec  # a fixed model id, fields and templates
    EXAMPLE_MEDIA: dict[str, str]  # media files (SVG text) its schema example uses, by name: `init` writes them
    # Which of its cards a student must not meet on one day (order.py spreads them): "note", the
    # cards of one note (one's front is the other's answer); "card", every card made from one source
    # card, when a note's back shows its sibling notes' answers (a compare's table).
    SIBLINGS: Literal["card", "note"]

    def check(self, card: CardSource, at: Callable[[tuple[str, ...]], Location]) -> list[Problem]:
        """Problems beyond the schema; `at(("items", "IMS"))` locates a value inside the card."""
        ...

    def notes(self, card: CardSource, context: NoteContext) -> list[NoteSource]:
        """The notes one card becomes."""
        ...

    def prompts(self, card: CardSource) -> list[tuple[str, str]]:
        """What each of its questions shows: (what is asked, its text as a student reads it, made by
        `common.prompt`); the deck refuses two cards whose questions look alike."""
        ...

    def duplicate_message(self, card: CardSource, what: str, other: CardSource, other_what: str) -> str:
        """Why two cards whose prompts `what` and `other_what` look alike cannot both stay."""
        ...

    def study_sheet(self, card: CardSource, notes: list[NoteSource]) -> list[str]:
        """CommonMark lines for the printable study sheet, as written (Markdown): a statement or a
        question with its answer in bold (once: `common.strong`), a table with headers. The export
        adds the footnote of the card's sources to its last line. (The CSV export needs nothing of
        a type: it writes the notes the type made.)"""
        ...

    def media(self, card: CardSource) -> list[str]:
        """Media files the type itself uses besides the images written in its Markdown fields."""
        ...

    def generate(self, card: CardSource, context: NoteContext) -> Generated:
        """The media the type makes for the card (from the deck's media/, `context.media`), the
        media/ files it draws them from, and the problems found doing so (`common.NOTHING` for none)."""
        ...

    def card_ords(self, fields: tuple[str, ...]) -> tuple[int, ...]:
        """The ords of the cards Anki makes of a note with these fields, in genanki's order (which
        decides the card ids)."""
        ...


if TYPE_CHECKING:
    from collections.abc import Callable
