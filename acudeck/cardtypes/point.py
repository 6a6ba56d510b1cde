"""point: two cards, point to muscle and muscle to point."""

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

NAME = "point"
SUMMARY = "Two cards: point to muscle and muscle to point."
LABEL = "Point"
FIELDS = (
    Field("point", common.text_field("The point, e.g. SI 11.", "SI 11")),
    Field("muscle", common.text_field("Its muscle, e.g. infraspinatus.", "infraspinatus")),
)
NOTE_TYPE = NoteTypeSpec(
    model_id=1795201104,
    version=1,
    name="acudeck Point",
    fields=(
        NoteField("Point", 5_994_008_485_598_946_286),
        NoteField("Muscle", 8_772_332_321_094_745_844),
        NoteField("Extra", 6_887_376_659_079_841_524),
        NoteField("Source", 8_205_936_912_217_769_000),
    ),
    templates=(
        common.template(
            "Point to muscle", '<div class="prompt">{{Point}}</div><div class="ask">Which muscle?</div>', '<div class="answer">{{Muscle}}</div>', id=8_457_214_123_684_163_165
        ),
        common.template(
            "Muscle to point", '<div class="prompt">{{Muscle}}</div><div class="ask">Which point?</div>', '<div class="answer">{{Point}}</div>', id=7_700_236_379_720_376_193
        ),
    ),
)
_FRONTS = common.front_fields(NOTE_TYPE)
SIBLINGS = "note"
EXAMPLE_MEDIA: dict[str, str] = {}


def check(card: CardSource, at: Callable[[tuple[str, ...]], Location]) -> list[Problem]:
    return []


def notes(card: CardSource, context: NoteContext) -> list[NoteSource]:
    own = (card.rendered("point"), card.rendered("muscle"))
    return [common.note(NAME, NOTE_TYPE, card, context, card.id, own, card_ords(own))]


def prompts(card: CardSource) -> list[tuple[str, str]]:
    return [common.prompt("point", card.rendered("point")), common.prompt("muscle", card.rendered("muscle"))]


def duplicate_message(card: CardSource, what: str, other: CardSource, other_what: str) -> str:
    if what == "muscle":
        return (
            f"muscle '{card.text('muscle')}' is also the muscle of card '{other.id}' ({other.location}); "
            "the muscle-to-point card would have two answers: write one card whose point names both"
        )
    return common.same_question(card, what, other, other_what)


def study_sheet(card: CardSource, notes: list[NoteSource]) -> list[str]:
    return common.study_line(card.text("point"), card.text("muscle"))


def media(card: CardSource) -> list[str]:
    return []


def generate(card: CardSource, context: NoteContext) -> common.Generated:
    return common.NOTHING


def card_ords(fields: tuple[str, ...]) -> tuple[int, ...]:
    return common.cards_with_a_front(_FRONTS, fields)
