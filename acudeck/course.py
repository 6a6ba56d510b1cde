"""Course decks: a named selection of cards from the project's decks.

A course deck's notes are the very notes of the full decks (same GUIDs, fields, tags and mods),
so a student who imports both gets no duplicates, and an update to either reaches both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import Location, Problem, SourceError
from .format import validate
from .inputs import COURSE_DIR, course_files
from .notes import NoteSource, card_notes
from .safefs import digest_source
from .source import CardSource, DeckSource, display_path
from .yamlfile import YamlDocument, load_yaml


@dataclass
class Selection:
    deck: str
    tags: tuple[str, ...]
    types: tuple[str, ...]
    ids: tuple[str, ...]
    exclude: tuple[str, ...]
    location: Location

    def selects(self, card: CardSource, deck: DeckSource) -> bool:
        if card.id in self.exclude or (self.ids and card.id not in self.ids):
            return False
        if self.types and card.type not in self.types:
            return False
        if not self.tags:
            return True
        card_tags = set(deck.tags) | set(card.tags)
        return any(tag == wanted or tag.startswith(wanted + "::") for tag in card_tags for wanted in self.tags)


@dataclass
class CourseSource:
    key: str
    name: str
    description: str
    selections: list[Selection]
    location: Location


def find_courses(root: Path) -> list[Path]:
    """courses/<key>.yaml, by name (see inputs.py)."""
    return course_files(root / COURSE_DIR, root, [])


def load_course(path: Path, base: Path) -> CourseSource:
    from .text import render_markdown

    doc = load_yaml(path, display_path(path, base))
    problems = validate(doc, "course")
    if problems:
        raise SourceError(problems)
    data = doc.data
    if data["key"] != path.stem:
        raise SourceError([Problem(doc.at(("key",)), f"course key '{data['key']}' must match its file name '{path.stem}'")])
    selections = [_selection(entry, doc, i) for i, entry in enumerate(data["select"])]
    description = render_markdown(data.get("description", "")).html
    return CourseSource(data["key"], data["name"], description, selections, doc.at(()))


def _selection(entry: dict, doc: YamlDocument, index: int) -> Selection:
    return Selection(
        deck=entry["deck"],
        tags=tuple(entry.get("tags", ())),
        types=tuple(entry.get("types", ())),
        ids=tuple(entry.get("ids", ())),
        exclude=tuple(entry.get("exclude", ())),
        location=doc.at(("select", index)),
    )


def course_notes(course: CourseSource, decks: dict[str, DeckSource], base: Path | None = None) -> tuple[list[tuple[str, NoteSource]], dict[str, Path], list[Problem]]:
    """The selected (deck key, note) pairs in deck and source order, the media they use, and selection problems."""
    problems = []
    chosen: dict[str, set[str]] = {}
    for selection in course.selections:
        deck = decks.get(selection.deck)
        if deck is None:
            problems.append(Problem(selection.location, f"no deck '{selection.deck}' in cards_src/ (decks: {', '.join(decks)})"))
            continue
        known = {card.id for card in deck.cards}
        for card_id in (*selection.ids, *selection.exclude):
            if card_id not in known:
                problems.append(Problem(selection.location, f"deck '{deck.key}' has no card '{card_id}'"))
        picked = {card.id for card in deck.cards if selection.selects(card, deck)}
        if not picked:
            problems.append(Problem(selection.location, "selects no card"))
        chosen.setdefault(deck.key, set()).update(picked)
    notes: list[tuple[str, NoteSource]] = []
    media: dict[str, Path] = {}
    for deck_key, ids in chosen.items():
        deck = decks[deck_key]
        for card in deck.cards:
            if card.id not in ids:
                continue
            notes.extend((deck.key, note) for note in card_notes(card, deck.note_context()))
            for name, where in card.images:
                path = deck.media[name]
                if name in media and media[name] != path and not _same_content(media[name], path, base, problems):
                    problems.append(Problem(where, f"image '{name}' differs from the file of the same name in another deck of this course"))
                media[name] = path
    return notes, media, problems


def _same_content(first: Path, second: Path, base: Path | None, problems: list[Problem]) -> bool:
    try:
        return digest_source(first, display_path(first, base)) == digest_source(second, display_path(second, base))
    except SourceError as exc:
        problems += exc.problems
        return True  # the file's own problem is enough
