"""Release notes for students: what a release changes in each deck, in the words a student reads.

`release-check BASE --notes` fills a DeckChanges per deck from what Anki's own engine did with the
new build (release.py) and prints `release_notes(...)`: Markdown for a GitHub release's body or a
CHANGELOG entry. Nothing internal is named (no ids, mods or hashes): only the deck students see,
the file they download, how to import it, and each card's question as Anki shows it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from .notetypes import SHOWN_ONLY_WITHIN
from .tombstone import RETIRED_TAG

MAX_QUESTION = 200  # characters of one question in the notes; a longer one ends in "..."


@dataclass
class DeckChanges:
    key: str  # names the file students download, decks/<key>.apkg
    name: str  # the deck's name in Anki
    options: list[str] = field(default_factory=list)  # the import options a note type's new shape needs (none: the defaults do)
    added: list[str] = field(default_factory=list)  # each new card's question
    changed: list[str] = field(default_factory=list)  # each updated card's question, after the update
    withdrawn: list[str] = field(default_factory=list)  # each withdrawn card's question, before it was withdrawn
    new_deck_cards: int = 0  # a deck BASE did not have: how many cards it has

    @property
    def empty(self) -> bool:
        return not (self.options or self.added or self.changed or self.withdrawn or self.new_deck_cards)


_HIDDEN = re.compile(r"<(style|script)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BREAK = re.compile(r"<br\s*/?>|</?(?:div|p|li|tr|h[1-6])\b[^>]*>", re.IGNORECASE)  # where a block opens or closes
_IMAGE = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def _without_hidden(rendered: str) -> str:
    """Without the elements the card's CSS hides here (notetypes.SHOWN_ONLY_WITHIN); they hold no
    nested element of their own kind."""
    for hidden, shown_within in SHOWN_ONLY_WITHIN.items():
        if not re.search(rf'class="[^"]*\b{shown_within}\b', rendered):
            rendered = re.sub(rf'<div class="{hidden}">.*?</div>', "", rendered, flags=re.DOTALL)
    return rendered


def plain_question(rendered: str) -> str:
    """A card's rendered question (Anki's HTML) as one line of plain text: its blocks joined by ' - ',
    a picture as '[picture]', at most MAX_QUESTION characters."""
    text = _IMAGE.sub(" [picture] ", _without_hidden(_HIDDEN.sub("", rendered)))
    blocks = (" ".join(html.unescape(_TAG.sub("", block)).split()) for block in _BREAK.split(text) if block)
    line = " - ".join(block for block in blocks if block)
    return line if len(line) <= MAX_QUESTION else line[: MAX_QUESTION - 3].rstrip() + "..."


# Backslash-escaped wherever they stand: every ASCII punctuation character may be escaped in
# CommonMark, and these are the ones that could start markup, HTML, an entity, a link, a mention
# (GitHub's @name) or an issue reference (#12).
_INLINE = re.compile(r"([\\`*_\[\]<>&~|!@#])")
_LIST_MARKER = re.compile(r"^(\d+)([.)])|^([-+])")


def markdown_text(text: str) -> str:
    """Plain text as Markdown that renders as exactly that text, never as markup or raw HTML."""
    escaped = _INLINE.sub(r"\\\1", text)
    return _LIST_MARKER.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", escaped)


def _cards(count: int) -> str:
    return f"{count} card" if count == 1 else f"{count} cards"


def _how_to_import(deck: DeckChanges) -> str:
    file = f"`{deck.key}.apkg`"
    if deck.new_deck_cards:
        return f"A new deck, {_cards(deck.new_deck_cards)}: download {file} and import it with Anki's default options."
    if deck.options:
        turned_on = " and ".join(f"**{option}**" for option in deck.options)
        return (
            f"**How to import:** sync your other devices first. Then import {file} with {turned_on} set in the "
            "import options (the layout of some cards changed). Anki then needs a one-way full sync: upload from this device. "
            "Your reviews are kept."
        )
    return f"**How to import:** download {file} and import it with Anki's default options. Your reviews and scheduling are kept."


def _section(title: str, remark: str, questions: list[str]) -> list[str]:
    if not questions:
        return []
    heading = f"**{title}** ({_cards(len(questions))})" + (f": {remark}" if remark else "")
    return ["", heading, "", *(f"- {markdown_text(question)}" for question in questions)]


def release_notes(base: str, decks: list[DeckChanges]) -> str:
    """Markdown: one section per deck that changed, in the order given; a release that changes
    nothing says so."""
    changed = [deck for deck in decks if not deck.empty]
    if not changed:
        return f"No card changed since {markdown_text(base)}: there is nothing to import.\n"
    lines = [f"Changes to the decks since {markdown_text(base)}."]
    for deck in changed:
        lines += ["", f"### {markdown_text(deck.name)}", "", _how_to_import(deck)]
        lines += _section("Added", "", deck.added)
        lines += _section("Corrected or changed", "updated in place; your reviews are kept.", deck.changed)
        withdrawn = (
            'each now shows "Withdrawn". To delete them, open **Browse** in Anki, search '
            f"`tag:{RETIRED_TAG}`, select the cards and delete them (or keep them: they will not change again)."
        )
        lines += _section("Withdrawn", withdrawn, deck.withdrawn)
    return "\n".join(lines) + "\n"
