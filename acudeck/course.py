"""Course decks: a named selection of cards from the project's decks.

A course deck's notes are the very notes of the full decks (same GUIDs, fields, tags and mods),
so a student who imports both gets no duplicates, and an update to either reaches both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import Location, Problem, SourceError
from .format import validate
from .notes import NoteSource, card_notes
from .source import CardSource, DeckSource, display_path
from .yamlfile import YamlDocument, load_yaml

COURSE_DIR = "courses"


@dataclass
class Selection:
    deck: str
    tags: frozenset[str]
    types: frozenset[str]
    ids: tuple[str, ...]  # in the order written, for messages
    exclude: tuple[str, ...]
    location: Location
    # As sets: a selection is tried on every card of its deck, and may list 10,000 ids.
    wanted_ids: frozenset[str] = field(init=False)
    excluded_ids: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.wanted_ids, self.excluded_ids = frozenset(self.ids), frozenset(self.exclude)

    def selects(self, card: CardSource, tag_family: frozenset[str]) -> bool:
        """`tag_family`: the card's tags (its deck's too) and every tag above them."""
        if card.id in self.excluded_ids or (self.wanted_ids and card.id not in self.wanted_ids):
            return False
        if self.types and card.type not in self.types:
            return False
        return not self.tags or not self.tags.isdisjoint(tag_family)


def tag_family(card: CardSource, deck: DeckSource) -> frozenset[str]:
    """The card's tags and their parents: a selection's tag selects its children too (a::b selects a::b::c)."""
    family = set()
    for tag in {*deck.tags, *card.tags}:
        parts = tag.split("::")
        family.update("::".join(parts[: i + 1]) for i in range(len(parts)))
    return frozenset(family)


@dataclass
class CourseSource:
    key: str
    name: str
    description: str
    selections: list[Selection]
    location: Location


def find_courses(root: Path) -> list[Path]:
    folder = root / COURSE_DIR
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


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
        tags=frozenset(entry.get("tags", ())),
        types=frozenset(entry.get("types", ())),
        ids=tuple(entry.get("ids", ())),
        exclude=tuple(entry.get("exclude", ())),
        location=doc.at(("select", index)),
    )


def course_notes(course: CourseSource, decks: dict[str, DeckSource]) -> tuple[list[tuple[str, NoteSource]], dict[str, Path], list[Problem]]:
    """The selected (deck key, note) pairs in deck and source order, the media they use, and selection problems."""
    problems = []
    chosen: dict[str, set[str]] = {}
    families: dict[str, list[tuple[CardSource, frozenset[str]]]] = {}  # per deck, once
    for selection in course.selections:
        deck = decks.get(selection.deck)
        if deck is None:
            problems.append(Problem(selection.location, f"no deck '{selection.deck}' in cards_src/ (decks: {', '.join(decks)})"))
            continue
        if deck.key not in families:
            families[deck.key] = [(card, tag_family(card, deck)) for card in deck.cards]
        known = deck.card_ids()
        for card_id in (*selection.ids, *selection.exclude):
            if card_id not in known:
                problems.append(Problem(selection.location, f"deck '{deck.key}' has no card '{card_id}'"))
        picked = {card.id for card, family in families[deck.key] if selection.selects(card, family)}
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
                if name in media and media[name] != path and not _same_file(media[name], path):
                    problems.append(Problem(where, f"image '{name}' differs from the file of the same name in another deck of this course"))
                media[name] = path
    return notes, media, problems


def _same_file(a: Path, b: Path) -> bool:
    import filecmp

    return filecmp.cmp(a, b, shallow=False)  # in blocks, and only once per pair of files (filecmp keeps the answer)
