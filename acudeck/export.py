"""Export the sources for other flashcard tools (CSV) and as a printable study sheet (Markdown)."""

from __future__ import annotations

import csv
import io
import re

from .cardtypes import card_type
from .source import DeckSource

CSV_COLUMNS = ("deck", "id", "type", "front", "back", "extra", "tags", "source")


def export_csv(decks: list[DeckSource]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # The csv module quotes a line break only if it is in the line terminator: a row with a carriage
    # return has every cell quoted, or a spreadsheet would start a row (and maybe a formula) there.
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_COLUMNS)
    for deck in decks:
        for card in deck.cards:
            tags = " ".join(sorted(set(deck.tags) | set(card.tags)))
            for front, back in card_type(card.type).export_rows(card):
                row = [_inert_cell(cell) for cell in (deck.name, card.id, card.type, front, back, card.extra_text, tags, " / ".join(card.sources))]
                (quoted if any("\r" in cell for cell in row) else writer).writerow(row)
    return out.getvalue()


def _inert_cell(value: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP's advice on CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_markdown(decks: list[DeckSource]) -> str:
    """A study sheet. Cards show raw HTML as text, so the sheet must too: in a Markdown viewer, a
    field's `<script>` would run. Every '<' that could open a tag, a comment or an autolink is
    written as `&lt;` (in a code span too, where it then shows as `&lt;`)."""
    lines: list[str] = []
    for deck in decks:
        lines += [f"# {_no_html(deck.name)}", ""]
        if deck.reading.get("title"):
            by = f", {_no_html(deck.reading['author'])}" if deck.reading.get("author") else ""
            lines += [f"From *{_no_html(deck.reading['title'])}*{by}.", ""]
        for card in deck.cards:
            lines += [_no_html(line) for line in card_type(card.type).study_sheet(card)]
    return "\n".join(lines).rstrip() + "\n"


def _no_html(text: str) -> str:
    return _TAG_START.sub("&lt;", text)


# What CommonMark reads as raw HTML or an autolink starts with '<' and a letter, '/', '!' or '?'.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
