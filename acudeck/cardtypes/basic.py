"""basic: one card, front to back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..notetypes import NoteTypeSpec
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
    name="acudeck Basic",
    fields=("Front", "Back", "Extra", "Source"),
    templates=(common.template("Front to back", '<div class="prompt">{{Front}}</div>', '<div class="answer">{{Back}}</div>'),),
)
_FRONTS = common.front_fields(NOTE_TYPE)
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
