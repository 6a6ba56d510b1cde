"""reversed: two cards, front to back and back to front."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..notetypes import NoteField, NoteTypeSpec
from . import common
from .protocol import Field

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..card import CardSource
    from ..errors import Location, Problem
    from ..notes import NoteContext, NoteSource

NAME = "reversed"
SUMMARY = "Two cards: front to back and back to front."
LABEL = "Reversed"
FIELDS = (
    Field("front", common.text_field("The question (Markdown).", "IMS")),
    Field("back", common.text_field("The answer (Markdown); also asked back to front.", "Intramuscular Stimulation")),
)
NOTE_TYPE = NoteTypeSpec(
    model_id=1795201102,
    version=1,
    name="acudeck Basic (and reversed)",
    fields=(
        NoteField("Front", 8_793_170_888_822_956_110),
        NoteField("Back", 8_107_254_032_133_735_535),
        NoteField("Extra", 6_849_823_783_877_103_814),
        NoteField("Source", 6_074_415_462_975_982_098),
    ),
    templates=(
        common.template("Front to back", '<div class="prompt">{{Front}}</div>', '<div class="answer">{{Back}}</div>', id=6_652_954_957_527_155_299),
        common.template("Back to front", '<div class="prompt">{{Back}}</div>', '<div class="answer">{{Front}}</div>', id=7_004_282_477_749_012_899),
    ),
)
_FRONTS = common.front_fields(NOTE_TYPE)
SIBLINGS = "note"
EXAMPLE_MEDIA: dict[str, str] = {}


def check(card: CardSource, at: Callable[[tuple[str, ...]], Location]) -> list[Problem]:
    return []


def notes(card: CardSource, context: NoteContext) -> list[NoteSource]:
    own = (card.rendered("front"), card.rendered("back"))
    return [common.note(NAME, NOTE_TYPE, card, context, card.id, own, card_ords(own))]


def prompts(card: CardSource) -> list[tuple[str, str]]:
    return [common.prompt("front", card.rendered("front")), common.prompt("back", card.rendered("back"))]


def duplicate_message(card: CardSource, what: str, other: CardSource, other_what: str) -> str:
    return common.same_question(card, what, other, other_what)


def study_sheet(card: CardSource, notes: list[NoteSource]) -> list[str]:
    return common.study_line(card.text("front"), card.text("back"))


def media(card: CardSource) -> list[str]:
    return []


def generate(card: CardSource, context: NoteContext) -> common.Generated:
    return common.NOTHING


def card_ords(fields: tuple[str, ...]) -> tuple[int, ...]:
    return common.cards_with_a_front(_FRONTS, fields)
