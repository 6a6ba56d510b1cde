"""Export the sources for other flashcard tools (CSV) and as a printable study sheet (Markdown)."""

from __future__ import annotations

import csv
import io

from .cardtypes import card_type
from .source import DeckSource

CSV_COLUMNS = ("deck", "id", "type", "front", "back", "extra", "tags", "source")


def export_csv(decks: list[DeckSource]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for deck in decks:
        for card in deck.cards:
            tags = " ".join(sorted(set(deck.tags) | set(card.tags)))
            for front, back in card_type(card.type).export_rows(card):
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
            lines += card_type(card.type).study_sheet(card)
    return "\n".join(lines).rstrip() + "\n"
