"""Export the sources for other flashcard tools (CSV) and as a printable study sheet (Markdown)."""

from __future__ import annotations

import csv
import io
import re

from .source import CardSource, DeckSource

CSV_COLUMNS = ("deck", "id", "type", "front", "back", "extra", "tags", "source")


def question_answer(card: CardSource) -> list[tuple[str, str]]:
    """The card's front and back as written (Markdown); a compare card gives one pair per item."""
    f = card.fields
    if card.type in ("basic", "reversed"):
        return [(f["front"], f["back"])]
    if card.type == "cloze":
        return [(f["text"], f["text"])]
    if card.type == "point":
        return [(f["point"], f["muscle"])]
    return [(f"{f['aspect']}: {item}", value) for item, value in f["items"].items()]


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
            for front, back in question_answer(card):
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
            lines += _markdown_card(card)
    return "\n".join(lines).rstrip() + "\n"


def _no_html(text: str) -> str:
    return _TAG_START.sub("&lt;", text)


# What CommonMark reads as raw HTML or an autolink starts with '<' and a letter, '/', '!' or '?'.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def _markdown_card(card: CardSource) -> list[str]:
    f = {name: _no_html(value) if isinstance(value, str) else {_no_html(k): _no_html(v) for k, v in value.items()} for name, value in card.fields.items()}
    if card.type == "compare":
        rows = [f"**{f['aspect']}**", "", "| | |", "|---|---|"]
        rows += [f"| {item} | {value} |" for item, value in f["items"].items()]
        return [*rows, ""]
    if card.type == "cloze":
        text = _CLOZE.sub(lambda m: f"**{m.group(1)}**", f["text"])
        return [f"- {text}", ""]
    front, back = map(_no_html, question_answer(card)[0])
    return [f"- **{front}** — {back}", ""]


_CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}", re.S)
