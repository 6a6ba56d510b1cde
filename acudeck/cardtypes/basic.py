"""basic: one card, front to back."""

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

NAME = "basic"
SUMMARY = "One card: front to back."
LABEL = "Basic"
FIELDS = (
    Field("front", common.text_field("The question (Markdown).", "What is dry needling used for, primarily?")),
    Field("back", common.text_field("The answer (Markdown).", "The management of **pain syndromes**.")),
)
NOTE_TYPE = NoteTypeSpec(
    model_id=1795201101,
    version=1,
    name="acudeck Basic",
    fields=(
        NoteField("Front", 7_776_447_101_509_277_323),
        NoteField("Back", 4_658_505_899_944_294_949),
        NoteField("Extra", 5_782_183_360_507_942_731),
        NoteField("Source", 5_083_738_497_588_833_306),
    ),
    templates=(common.template("Front to back", '<div class="prompt">{{Front}}</div>', '<div class="answer">{{Back}}</div>', id=5_155_282_384_312_088_989),),
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
    return [common.prompt("front", card.rendered("front"))]


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
