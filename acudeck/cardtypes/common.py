"""Pieces that several card types share; no card type is named here."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple

from ..notes import NoteContext, NoteSource, make_note, note_guid, source_html
from ..text import comparable

if TYPE_CHECKING:
    from ..card import CardSource
    from ..errors import Problem
    from ..notetypes import NoteTypeSpec, TemplateSpec


class Generated(NamedTuple):
    """What a card type makes at build time besides notes: media files by name, their bytes; the
    media/ files it drew them from (used, not packed); the problems found."""

    media: dict[str, bytes]
    drawn_from: tuple[str, ...]
    problems: list[Problem]


NOTHING = Generated({}, (), [])

BACK_FOOTER = '{{#Extra}}<div class="extra">{{Extra}}</div>{{/Extra}}{{#Source}}<div class="source">{{Source}}</div>{{/Source}}'


def template(name: str, front: str, answer: str, *, id: int) -> TemplateSpec:
    """A card template whose back shows the front, the answer, then Extra and Source. `id`: the
    template's stable id (notetypes.py), written once in the card type module."""
    return {"name": name, "qfmt": front, "afmt": '{{FrontSide}}<hr id="answer">' + answer + BACK_FOOTER, "id": id}


def text_field(description: str, *examples: str) -> dict[str, Any]:
    """The schema fragment of a Markdown field."""
    fragment: dict[str, Any] = {"$ref": "#/$defs/text", "description": description}
    if examples:
        fragment["examples"] = list(examples)
    return fragment


def note_tags(card: CardSource, context: NoteContext) -> tuple[str, ...]:
    return tuple(sorted(set(context.tags) | set(card.tags)))


def note(
    card_type: str, note_type: NoteTypeSpec, card: CardSource, context: NoteContext, key: str, own: tuple[str, ...], ords: tuple[int, ...], extra: str | None = None
) -> NoteSource:
    """A note of `key` with the type's own fields `own`, then Extra (the card's, unless the type
    gives this note its own) and Source."""
    fields = (*own, card.extra if extra is None else extra, source_html(card, context.reading))
    return make_note(key, note_guid(context.deck_key, key), card_type, note_type.model_id, fields, note_tags(card, context), ords)


_FIELD_REFERENCE = re.compile(r"\{\{([^#/^{}:][^{}]*)\}\}")


def front_fields(note_type: NoteTypeSpec) -> tuple[tuple[int, ...], ...]:
    """For each template, the indexes of the fields its front shows."""
    index = {name: i for i, name in enumerate(note_type.field_names)}
    return tuple(tuple(index[name] for name in _FIELD_REFERENCE.findall(t["qfmt"]) if name in index) for t in note_type.templates)


def cards_with_a_front(fronts: tuple[tuple[int, ...], ...], fields: tuple[str, ...]) -> tuple[int, ...]:
    """Anki's rule for a standard note type: a card for each template whose front shows a field that
    is not empty (tests/test_cardtypes.py checks it against genanki's)."""
    return tuple(card_ord for card_ord, shown in enumerate(fronts) if any(fields[i] for i in shown))


def prompt(what: str, rendered: str) -> tuple[str, str]:
    """A question as the duplicate check compares it: as the student reads it (text.comparable)."""
    return (what, comparable(rendered))


def same_question(card: CardSource, what: str, other: CardSource, other_what: str) -> str:
    return f"the {what} of card '{card.id}' is the same as the {other_what} of card '{other.id}' ({other.location}); students cannot tell the two questions apart"


def study_line(front: str, back: str) -> list[str]:
    """A question and its answer on the study sheet: `- question — **answer**`; an answer of
    several lines (a list, say) follows on its own lines, as written."""
    if "\n" in back.strip():
        return [f"- {one_line(front)}", "", *(f"  {line}" if line.strip() else "" for line in back.strip().splitlines()), ""]
    return [f"- {one_line(front)} — {strong(back)}", ""]


_STRONG_MARK = re.compile(r"\*\*|__")


def strong(text: str) -> str:
    """Markdown text in bold, once: its own bold marks are dropped (bold inside bold is no bold)."""
    inner = _STRONG_MARK.sub("", one_line(text))
    return f"**{inner}**" if inner.strip() else inner


def one_line(text: str) -> str:
    return " ".join(text.split())


def plain_markdown(text: str) -> str:
    """Plain text inside a line of Markdown: one line, no emphasis or link made of its characters."""
    return re.sub(r"([\\`*_\[\]|])", r"\\\1", " ".join(text.split()))


def table_cell(text: str) -> str:
    """Markdown text in a table cell: one line, with its '|' escaped."""
    return one_line(text).replace("|", "\\|")


def inside_strong(text: str, position: int) -> bool:
    """Whether `position` in Markdown `text` is inside a `**...**` span (an odd count of marks before it)."""
    return len(_STRONG_MARK.findall(text[:position])) % 2 == 1
