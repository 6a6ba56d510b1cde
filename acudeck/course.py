"""Course decks: a named selection of cards from the project's decks.

A course deck's notes are the very notes of the full decks (same GUIDs, fields, tags and mods),
so a student who imports both gets no duplicates, and an update to either reaches both.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from .card import CardSource
from .cardfile import render_field
from .cardtypes import card_type
from .decknames import deck_name_problem
from .errors import Location, Problem, SourceError
from .format import validate
from .inputs import COURSE_DIR, SRC_DIR, course_files
from .notes import NoteSource
from .safefs import digest_source
from .source import DeckSource, display_path, packed_name
from .text import render_markdown
from .yamlfile import YamlDocument, load_yaml


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
    family: set[str] = set()
    for tag in {*deck.tags, *card.tags}:
        parts = tag.split("::")
        family.update("::".join(parts[: i + 1]) for i in range(len(parts)))
    return frozenset(family)


@dataclass
class CourseSource:
    key: str
    name: str
    description: str  # rendered
    selections: list[Selection]
    location: Location
    name_location: Location | None = None
    description_text: str = ""  # as written
    description_images: list[tuple[str, Location]] = field(default_factory=list)


def find_courses(root: Path) -> list[Path]:
    """courses/<key>.yaml, by name (see inputs.py)."""
    return course_files(root / COURSE_DIR, root, [])


def load_course(path: Path, base: Path) -> CourseSource:
    doc = load_yaml(path, display_path(path, base))
    problems = validate(doc, "course")
    if problems:
        raise SourceError(problems)
    data = doc.data
    if data["key"] != path.stem:
        problems.append(Problem(doc.at(("key",)), f"course key '{data['key']}' must match its file name '{path.stem}'"))
    if message := deck_name_problem(data["name"]):
        problems.append(Problem(doc.at(("name",)), message))
    selections = [_selection(entry, doc, i) for i, entry in enumerate(data["select"])]
    images: list = []
    description = render_field(data.get("description", ""), doc.at(("description",)), problems, images, doc)  # the rules of a deck's
    if problems:
        raise SourceError(problems)
    found = [(name, Location(doc.path, line, col)) for name, line, col in images]
    return CourseSource(data["key"], data["name"], description.html, selections, doc.at(()), doc.at(("name",)), data.get("description", ""), found)


def _selection(entry: dict, doc: YamlDocument, index: int) -> Selection:
    return Selection(
        deck=entry["deck"],
        tags=frozenset(entry.get("tags", ())),
        types=frozenset(entry.get("types", ())),
        ids=tuple(entry.get("ids", ())),
        exclude=tuple(entry.get("exclude", ())),
        location=doc.at(("select", index)),
    )


def _tag_hint(selection: Selection, cards: list[tuple[CardSource, frozenset[str]]]) -> str:
    """For a selection's tag that no card of the deck has: the closest tags the deck has."""
    known = sorted({tag for _, family in cards for tag in family})
    hints = []
    for tag in sorted(selection.tags - set(known)):
        close = difflib.get_close_matches(tag, known, n=1, cutoff=0.6)
        hints.append(f"no card has tag '{tag}'" + (f"; did you mean '{close[0]}'?" if close else ""))
    return f" ({'; '.join(hints)})" if hints else ""


def course_notes(course: CourseSource, decks: dict[str, DeckSource], base: Path | None = None) -> tuple[list[tuple[str, NoteSource]], dict[str, Path | bytes], list[Problem]]:
    """The selected (deck key, note) pairs, the media they use, and selection problems. The order is
    the recipe's: the `select:` entries in order, each entry's cards in its deck's authored order,
    a card that two entries pick where the first picks it."""
    problems = []
    chosen: dict[tuple[str, str], CardSource] = {}  # (deck key, card id), in the course's order
    families: dict[str, list[tuple[CardSource, frozenset[str]]]] = {}  # per deck, once
    for selection in course.selections:
        deck = decks.get(selection.deck)
        if deck is None:
            problems.append(Problem(selection.location, f"no deck '{selection.deck}' in {SRC_DIR}/ (decks: {', '.join(decks)})"))
            continue
        if deck.key not in families:
            families[deck.key] = [(card, tag_family(card, deck)) for card in deck.cards]
        known = deck.card_ids()
        for card_id in (*selection.ids, *selection.exclude):
            if card_id not in known:
                problems.append(Problem(selection.location, f"deck '{deck.key}' has no card '{card_id}'"))
        picked = [card for card, family in families[deck.key] if selection.selects(card, family)]
        if not picked:
            problems.append(Problem(selection.location, "selects no card" + _tag_hint(selection, families[deck.key])))
        for card in picked:
            chosen.setdefault((deck.key, card.id), card)
    notes: list[tuple[str, NoteSource]] = []
    media: dict[str, Path | bytes] = dict(_description_media(course, [decks[key] for key in families], problems, base))
    for (deck_key, _), card in chosen.items():
        deck = decks[deck_key]
        kind = card_type(card.type)
        notes.extend((deck.key, note) for note in kind.notes(card, deck.note_context()))
        made = kind.generate(card, deck.note_context())  # the deck was checked: no problems; names come from content
        media.update(made.media)
        for name, where in card.images:
            path = deck.media[name]
            found = media.get(name)
            if isinstance(found, Path) and isinstance(path, Path) and found != path and not _same_content(found, path, base, problems):
                problems.append(Problem(where, f"image '{name}' differs from the file of the same name in another deck of this course"))
            media[name] = path
    return notes, media, problems


def _same_content(first: Path, second: Path, base: Path | None, problems: list[Problem]) -> bool:
    try:
        return digest_source(first, display_path(first, base)) == digest_source(second, display_path(second, base))
    except SourceError as exc:
        problems += exc.problems
        return True  # the file's own problem is enough


def _description_media(course: CourseSource, drawn: list[DeckSource], problems: list[Problem], base: Path | None) -> dict[str, Path]:
    """The images of the course's description, from the media/ of the decks it draws from, packed
    under names of their content as a deck's description images are (see source.packed_name)."""
    media: dict[str, Path] = {}
    packed: dict[str, str] = {}
    for name, where in course.description_images:
        files = [deck.media_files[name] for deck in drawn if name in deck.media_files]
        try:
            names = {packed_name(path, display_path(path, base)) for path in files}
        except SourceError as exc:
            problems += exc.problems
            continue
        if not files:
            problems.append(Problem(where, f"image '{name}' is in the media/ folder of no deck this course draws from ({', '.join(deck.key for deck in drawn)})"))
        elif len(names) > 1:
            problems.append(Problem(where, f"image '{name}' differs between the media/ folders of the decks this course draws from"))
        else:
            packed[name] = names.pop()
            media[packed[name]] = files[0]
    if packed:
        course.description = render_markdown(course.description_text, packed).html
    return media
