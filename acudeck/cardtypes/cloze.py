"""cloze: one card per deletion number, c1, c2, ..."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .. import mathjax, text
from ..errors import Problem
from ..notetypes import NoteField, NoteTypeSpec
from . import common
from .protocol import Field

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..card import CardSource
    from ..errors import Location
    from ..notes import NoteContext, NoteSource

NAME = "cloze"
SUMMARY = "One card per deletion number."
LABEL = "Cloze"
FIELDS = (
    Field(
        "text",
        common.text_field("Text with cloze deletions {{c1::...}}, numbered from c1 without gaps.", "Filiform needles are {{c1::solid}} and come to a {{c2::fine tip}}."),
    ),
)
_SIDE = '<div class="prompt">{{cloze:Text}}</div>'
NOTE_TYPE = NoteTypeSpec(
    model_id=1795201103,
    version=1,
    name="acudeck Cloze",
    fields=(
        NoteField("Text", 9_087_138_572_258_256_525),
        NoteField("Extra", 5_941_350_856_515_377_990),
        NoteField("Source", 8_409_169_798_407_890_316),
    ),
    templates=({"name": "Cloze", "qfmt": _SIDE, "afmt": _SIDE + common.BACK_FOOTER, "id": 7_441_574_103_814_877_503},),
    cloze=True,
)
SIBLINGS = "note"
EXAMPLE_MEDIA: dict[str, str] = {}


def check(card: CardSource, at: Callable[[tuple[str, ...]], Location]) -> list[Problem]:
    where = at(("text",))
    rendered = card.rendered("text")
    found = [Problem(where, message) for message in (_numbering(card.text("text"), rendered), _hidden_deletions(card.text("text"), rendered)) if message]
    return found + [Problem(where, message) for message in mathjax.cloze_problems(rendered)]


def _numbering(written: str, rendered: str) -> str | None:
    """The deletions as written and as Anki sees them once rendered (`&#123;{c5::` is one there)."""
    numbers = sorted({*text.cloze_numbers(written), *text.cloze_numbers(rendered)})
    if not numbers:
        return "cloze text has no deletion such as {{c1::...}}"
    if numbers[0] < 1:
        return "cloze numbers start at c1; c0 makes no card"
    if numbers[-1] > text.MAX_CLOZE:
        highest = f"c{numbers[-1]}" if numbers[-1] < text.HUGE_CLOZE else "one of ten digits or more"
        return f"cloze numbers go from c1 to c{text.MAX_CLOZE}; this text has {highest}"
    if numbers != list(range(1, len(numbers) + 1)):
        present = set(numbers)
        missing = [f"c{n}" for n in range(1, numbers[-1] + 1) if n not in present]  # at most MAX_CLOZE
        gap = (", ".join(missing) if len(missing) <= 4 else f"{', '.join(missing[:3])} and {len(missing) - 3} more") or "c1"
        return f"cloze numbers must run c1, c2, ... without gaps; missing {gap}"
    return None


def _hidden_deletions(written: str, rendered: str) -> str | None:
    """A deletion inside a link target or an image's alt text is no deletion the student sees."""
    hidden = sorted(set(text.cloze_numbers(written)) - set(text.cloze_numbers(text.visible_text(rendered))))
    if not hidden:
        return None
    numbers = ", ".join(f"c{n}" for n in hidden)
    which = f"deletion {numbers} is" if len(hidden) == 1 else f"deletions {numbers} are"
    return f"cloze {which} only inside a link target or an image; every deletion must be in the text the student sees"


def notes(card: CardSource, context: NoteContext) -> list[NoteSource]:
    own = (card.rendered("text"),)
    return [common.note(NAME, NOTE_TYPE, card, context, card.id, own, card_ords(own))]


def prompts(card: CardSource) -> list[tuple[str, str]]:
    return [common.prompt("text", card.rendered("text"))]


def duplicate_message(card: CardSource, what: str, other: CardSource, other_what: str) -> str:
    return common.same_question(card, what, other, other_what)


def study_sheet(card: CardSource, notes: list[NoteSource]) -> list[str]:
    """The text as a statement, each answer in bold (once, where the text has it in bold already)."""
    written = card.text("text")

    def answer(deletion: re.Match[str]) -> str:
        shown = common.strong(text.cloze_answer(deletion))
        return shown[2:-2] if common.inside_strong(written, deletion.start()) and shown.startswith("**") else shown

    return [f"- {common.one_line(text.CLOZE_DELETION.sub(answer, written))}", ""]


def media(card: CardSource) -> list[str]:
    return []


def generate(card: CardSource, context: NoteContext) -> common.Generated:
    return common.NOTHING


def card_ords(fields: tuple[str, ...]) -> tuple[int, ...]:
    # The same set operations as genanki's `Note._cloze_cards`: a set of ints does not iterate in
    # sorted order (c9 before c1, say), and the order decides the card ids.
    # tests/test_cardtypes.py checks the result against genanki's own.
    ords: set[int] = set()
    ords.update(number - 1 for number in text.cloze_card_numbers(fields[0]) if number > 0)
    return tuple(ords)
