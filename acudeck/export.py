"""Export a selection of cards: as a CSV file in Anki's own text-import format, and as a printable
study sheet in Markdown (CommonMark with footnotes and tables).

A key exports exactly what it builds: a deck key the deck's cards, a course key the course's."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .cardtypes import card_type, note_type
from .cardtypes.common import plain_markdown

if TYPE_CHECKING:
    from .card import CardSource
    from .notes import NoteSource
    from .source import DeckSource


@dataclass
class Part:
    """What one package holds of one deck: the Anki deck its notes go to, the cards and their notes."""

    name: str
    deck: DeckSource
    cards: list[CardSource]
    notes: list[NoteSource]


def deck_part(deck: DeckSource) -> Part:
    return Part(deck.name, deck, deck.cards, deck.notes)


def course_parts(name: str, notes: list[tuple[str, NoteSource]], decks: dict[str, DeckSource]) -> list[Part]:
    """A course's notes, grouped by the deck they come from (in the course's order), with their cards."""
    by_deck: dict[str, list[NoteSource]] = {}
    for key, note in notes:
        by_deck.setdefault(key, []).append(note)
    parts = []
    for key, chosen in by_deck.items():
        ids = {note.card_id for note in chosen}
        parts.append(Part(name, decks[key], [card for card in decks[key].cards if card.id in ids], chosen))
    return parts


# --------------------------------------------------------------------------- CSV for Anki

# Anki's text import reads these headers (rslib import_export/text/csv); the columns after the four
# named ones are the note type's fields, in its order.
CSV_HEADERS = ("#separator:Comma", "#html:true", "#notetype column:1", "#deck column:2", "#guid column:3", "#tags column:4")


def export_csv(parts: list[Part]) -> str:
    """One row per note, with the fields the package holds (HTML, cloze markup kept), so that Anki
    imports the file as it is, and a row matches the package's note by its GUID."""
    out = io.StringIO()
    out.write("\n".join(CSV_HEADERS) + "\n")
    # The csv module quotes a line break only if it is in the line terminator: a row with a carriage
    # return has every cell quoted, or a spreadsheet would start a row (and maybe a formula) there.
    writer = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for part in parts:
        for note in part.notes:
            fields = [_inert_field(field) for field in note.fields]
            row = [note_type(note.card_type).name, _inert_name(part.name), note.guid, _inert_name(" ".join(note.tags)), *fields]
            (quoted if any("\r" in cell for cell in row) else writer).writerow(row)
    return out.getvalue()


# A cell a spreadsheet would run as a formula (OWASP's advice on CSV injection). An apostrophe in
# front, the usual remedy, would end up in the student's card; instead a field, which is HTML,
# starts with the character's entity (Anki shows the same text), and a deck name or the tags start
# with a space (Anki trims it from a deck name and splits tags on it). A GUID is a hash that no one
# can choose, and the note type's name is acudeck's own.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert_field(value: str) -> str:
    return f"&#{ord(value[0])};{value[1:]}" if value.startswith(_FORMULA_START) else value


def _inert_name(value: str) -> str:
    return " " + value if value.startswith(_FORMULA_START) else value


# --------------------------------------------------------------------------- Markdown study sheet


def export_markdown(parts: list[Part]) -> str:
    """A study sheet: a heading per deck, then per card file; the sources as footnotes.

    Cards show raw HTML as text, so the sheet must too: in a Markdown viewer, a field's `<script>`
    would run. Every '<' that could open a tag, a comment or an autolink is written as `&lt;` (in a
    code span too, where it then shows as `&lt;`)."""
    lines: list[str] = []
    footnotes = 0
    titled: set[str] = set()
    for part in parts:
        if part.name not in titled:
            titled.add(part.name)
            lines += [f"# {_no_html(part.name)}", ""]
        if part.deck.reading.get("title"):
            by = f", {_no_html(part.deck.reading['author'])}" if part.deck.reading.get("author") else ""
            lines += [f"From *{_no_html(part.deck.reading['title'])}*{by}.", ""]
        notes_of: dict[str, list[NoteSource]] = {}
        for note in part.notes:
            notes_of.setdefault(note.card_id, []).append(note)
        for path, cards in _by_file(part.cards).items():
            lines += [f"## {_no_html(_file_title(path))}", ""]
            notes: list[str] = []
            for card in cards:
                own = [_no_html(line) for line in card_type(card.type).study_sheet(card, notes_of.get(card.id, []))]
                if card.sources and any(own):
                    footnotes += 1
                    last = max(i for i, line in enumerate(own) if line.strip())
                    own[last] = _with_reference(own[last], f"[^{footnotes}]")
                    notes.append(f"[^{footnotes}]: {_no_html(_source_note(card))}")
                lines += own
            if notes:
                lines += [*notes, ""]
    return "\n".join(lines).rstrip() + "\n"


def sheet_media(parts: list[Part], sheet: str) -> dict[str, bytes]:
    """The media the build made (picture sides) that the study sheet shows: written beside it."""
    return {name: data for part in parts for name, data in part.deck.media.items() if isinstance(data, bytes) and f"]({name})" in sheet}


def _by_file(cards: list[CardSource]) -> dict[str, list[CardSource]]:
    found: dict[str, list[CardSource]] = {}
    for card in cards:
        found.setdefault(card.path, []).append(card)
    return found


def _file_title(path: str) -> str:
    """`cards_src/needling/point-facts.yaml` -> `Point facts`."""
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    words = re.sub(r"[-_]+", " ", stem).strip() or stem
    return words[0].upper() + words[1:]


def _with_reference(line: str, reference: str) -> str:
    """The footnote reference at the end of a line's text: in a table row, inside its last cell."""
    stripped = line.rstrip()
    if stripped.startswith("|") and stripped.endswith("|") and not stripped.endswith("\\|"):
        return f"{stripped[:-1].rstrip()}{reference} |"
    return stripped + reference


def _source_note(card: CardSource) -> str:
    """The card's quotes (from the deck's reading, named at the top), then the other work it relies on."""
    quotes = " ".join(f"“{plain_markdown(quote)}”" for quote in card.sources)
    reference = f"*{plain_markdown(card.reference)}*" if card.reference else ""
    return f"{quotes}; see also {reference}" if quotes and reference else quotes or reference


def _no_html(text: str) -> str:
    return _TAG_START.sub("&lt;", text)


# What CommonMark reads as raw HTML or an autolink starts with '<' and a letter, '/', '!' or '?'.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
