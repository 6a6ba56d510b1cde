"""Checking that each card's `source` quote really stands in the reading."""

from __future__ import annotations

from pathlib import Path

from .errors import Problem
from .format import one_line
from .source import DeckSource

MAX_QUOTE_WORDS = 30
_TYPOGRAPHIC = str.maketrans({"‘": "'", "’": "'", "‚": "'", "′": "'", "“": '"', "”": '"', "„": '"', "″": '"', "\u00a0": " "})


def normalize_quote(text: str) -> str:
    """Whitespace, letter case and typographic quotes do not count."""
    return " ".join(text.translate(_TYPOGRAPHIC).casefold().split())


def check_quotes(deck: DeckSource, reading: Path) -> list[Problem]:
    """Each card quoting the deck's reading must quote `reading` word for word, in at most 30 words."""
    haystack = normalize_quote(reading.read_text("utf-8", errors="replace"))
    problems = []
    for card in deck.cards:
        where = card.field_locations.get("source", card.location)
        if not card.sources and not card.reference:
            problems.append(Problem(card.location, f"card '{card.id}' has neither a 'source' quote nor a 'reference'"))
        for quote in card.sources:
            if normalize_quote(quote) not in haystack:
                problems.append(Problem(where, f"card '{card.id}': source quote not found in {reading.name}: '{one_line(quote, 50)}'"))
            if len(quote.split()) > MAX_QUOTE_WORDS:
                problems.append(Problem(where, f"card '{card.id}': source quote is longer than {MAX_QUOTE_WORDS} words: '{one_line(quote, 50)}'"))
    return problems
