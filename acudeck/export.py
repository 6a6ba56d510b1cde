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
    writer.writerow(CSV_COLUMNS)
    for deck in decks:
        for card in deck.cards:
            tags = " ".join(sorted(set(deck.tags) | set(card.tags)))
            for front, back in question_answer(card):
                writer.writerow((deck.name, card.id, card.type, front, back, card.extra_text, tags, " / ".join(card.sources)))
    return out.getvalue()


def export_markdown(decks: list[DeckSource]) -> str:
    lines: list[str] = []
    for deck in decks:
        lines += [f"# {deck.name}", ""]
        if deck.reading.get("title"):
            by = f", {deck.reading['author']}" if deck.reading.get("author") else ""
            lines += [f"From *{deck.reading['title']}*{by}.", ""]
        for card in deck.cards:
            lines += _markdown_card(card)
    return "\n".join(lines).rstrip() + "\n"


def _markdown_card(card: CardSource) -> list[str]:
    f = card.fields
    if card.type == "compare":
        rows = [f"**{f['aspect']}**", "", "| | |", "|---|---|"]
        rows += [f"| {item} | {value} |" for item, value in f["items"].items()]
        return [*rows, ""]
    if card.type == "cloze":
        text = _CLOZE.sub(lambda m: f"**{m.group(1)}**", f["text"])
        return [f"- {text}", ""]
    front, back = question_answer(card)[0]
    return [f"- **{front}** — {back}", ""]


_CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}", re.S)
