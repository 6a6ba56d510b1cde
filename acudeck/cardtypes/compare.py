"""compare: one note per item, cards both ways, the whole comparison as a table on the back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import Problem
from ..notetypes import NoteField, NoteTypeSpec
from ..text import comparable, plain
from . import common
from .protocol import Field

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..card import CardSource
    from ..errors import Location
    from ..notes import NoteContext, NoteSource

NAME = "compare"
SUMMARY = "One note per item, cards both ways, the whole comparison as a table on the back."
LABEL = "Compare"
FIELDS = (
    Field("aspect", common.text_field("What is compared, e.g. 'What each technique targets'.", "What the practitioner primarily needles")),
    Field("items", {"$ref": "#/$defs/items", "examples": [{"Dry needling": "Trigger points", "IMS": "Motor points"}]}, kind="items"),
)
_TABLE = '<div class="compare-wrap">{{Table}}</div>'
# The value-to-item card names its options ("Dry needling, IMS or acupuncture?"): "Which one?" is no
# question. They travel in the Aspect field, after the aspect text, as `<div class="options">`,
# because a new field would change the note type's schema, and Anki would then stop updating every
# student's existing compare notes (notetypes.py); template text and CSS change in place. The CSS
# hides them on the item-to-value card (where, shown, they would reveal nothing) and, on the
# value-to-item card, moves them under the value: its front is a flex column in which the aspect's
# box gives way to its contents (`display: contents`), so the options can be ordered last.
NOTE_TYPE = NoteTypeSpec(
    model_id=1795201105,
    version=1,
    name="acudeck Compare",
    fields=(
        NoteField("Aspect", 5_718_072_604_377_069_364),
        NoteField("Item", 6_636_935_973_475_370_278),
        NoteField("Value", 4_833_951_502_917_071_010),
        NoteField("Table", 6_900_514_321_604_396_990),
        NoteField("Extra", 5_197_780_229_313_260_742),
        NoteField("Source", 5_020_680_634_478_718_242),
    ),
    templates=(
        common.template(
            "Item to value", '<div class="aspect">{{Aspect}}</div><div class="prompt">{{Item}}</div>', '<div class="answer">{{Value}}</div>' + _TABLE, id=6_696_501_534_852_844_488
        ),
        common.template(
            "Value to item",
            '<div class="by-value"><div class="aspect">{{Aspect}}</div><div class="prompt">{{Value}}</div></div>',
            '<div class="answer">{{Item}}</div>' + _TABLE,
            id=5_810_226_034_696_408_249,
        ),
    ),
)
_FRONTS = common.front_fields(NOTE_TYPE)
SIBLINGS = "card"  # every item's back shows the whole table
EXAMPLE_MEDIA: dict[str, str] = {}


def check(card: CardSource, at: Callable[[tuple[str, ...]], Location]) -> list[Problem]:
    """Two items with one value would give the value-to-item card two right answers."""
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for item, value in card.rendered_items("items").items():
        key = comparable(value)
        if not key:
            continue  # shows nothing: reported when it was rendered
        if key in seen:
            problems.append(Problem(at(("items", item)), f"items '{seen[key]}' and '{item}' have the same value; the value-to-item card would have two right answers"))
        else:
            seen[key] = item
    return problems


def notes(card: CardSource, context: NoteContext) -> list[NoteSource]:
    found = []
    values = card.rendered_items("items")
    aspect = card.rendered("aspect") + options(list(values))
    for item, value in values.items():
        own = (aspect, plain(item), value, table(values, item))
        found.append(common.note(NAME, NOTE_TYPE, card, context, f"{card.id}/{item}", own, card_ords(own)))
    return found


def options(items: list[str]) -> str:
    """The items as the value-to-item card asks for one of them: 'Dry needling, IMS or acupuncture?'."""
    named = [plain(item) for item in items]
    return f'<div class="options">{", ".join(named[:-1])} or {named[-1]}?</div>'


_CURRENT = ' class="current"'


def table(items: dict[str, str], current: str) -> str:
    rows = "".join(f"<tr{_CURRENT if item == current else ''}><th>{plain(item)}</th><td>{value}</td></tr>" for item, value in items.items())
    return f'<table class="compare"><tbody>{rows}</tbody></table>'


def prompts(card: CardSource) -> list[tuple[str, str]]:
    aspect = comparable(card.rendered("aspect"))
    found = []
    for item, value in card.rendered_items("items").items():
        found += [(f"item '{item}'", f"{aspect}\x1f{comparable(plain(item))}"), (f"value of '{item}'", f"{aspect}\x1f{comparable(value)}")]
    return found


def duplicate_message(card: CardSource, what: str, other: CardSource, other_what: str) -> str:
    return common.same_question(card, what, other, other_what)


def study_sheet(card: CardSource, notes: list[NoteSource]) -> list[str]:
    """A table: a row per item, headed by what is compared."""
    rows = [f"| Item | {common.table_cell(card.text('aspect'))} |", "|---|---|"]
    rows += [f"| {common.table_cell(item)} | {common.table_cell(value)} |" for item, value in card.items("items").items()]
    return [*rows, ""]


def media(card: CardSource) -> list[str]:
    return []


def generate(card: CardSource, context: NoteContext) -> common.Generated:
    return common.NOTHING


def card_ords(fields: tuple[str, ...]) -> tuple[int, ...]:
    return common.cards_with_a_front(_FRONTS, fields)
