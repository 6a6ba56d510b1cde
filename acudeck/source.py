"""Reading a deck folder: deck.yaml, its card files and its media, checked before anything is built."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import text
from .errors import Location, Problem, SourceError
from .format import card_fields, schema_errors
from .yamlfile import YamlDocument, load_yaml

Progress = Callable[[str, int, int], None]

DECK_FILE = "deck.yaml"
MEDIA_DIR = "media"
CARD_FILE_SUFFIXES = (".yaml", ".yml")


@dataclass
class CardSource:
    """One card as written, with its Markdown already rendered to safe HTML."""

    id: str
    type: str
    fields: dict[str, object]  # the type's own fields as written; `items` stays a mapping
    html: dict[str, object]  # the same fields rendered; `items` maps item to rendered value
    extra: str  # rendered, "" when absent
    extra_text: str  # as written
    tags: tuple[str, ...]
    sources: tuple[str, ...]  # verbatim quotes from the reading
    reference: str | None
    location: Location
    field_locations: dict[str, Location]
    images: list[tuple[str, Location]] = field(default_factory=list)  # checked against media/ per deck


@dataclass
class DeckSource:
    key: str
    name: str
    description: str  # rendered
    tags: tuple[str, ...]
    reading: dict[str, str]
    retired: dict[str, Location]
    folder: Path
    location: Location
    cards: list[CardSource] = field(default_factory=list)
    media: dict[str, Path] = field(default_factory=dict)  # file name -> path, only the referenced files
    warnings: list[Problem] = field(default_factory=list)


def display_path(path: Path, base: Path | None = None) -> str:
    """Paths in messages are relative to `base` (the project root) where they can be."""
    # abspath, not resolve: a symbolic link is named by its own path, not by where it points.
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(os.path.abspath(base or Path.cwd())).as_posix()
    except ValueError:
        return path.as_posix()


def find_decks(src: Path) -> list[Path]:
    """Deck folders: the folders under `src` that hold a deck.yaml, in name order."""
    if not src.is_dir():
        return []
    return sorted(p.parent for p in src.glob(f"*/{DECK_FILE}"))


def card_files(folder: Path) -> list[Path]:
    files = [p for p in folder.rglob("*") if p.suffix in CARD_FILE_SUFFIXES and p.name != DECK_FILE and MEDIA_DIR not in p.relative_to(folder).parts[:-1]]
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


def load_deck(folder: Path, base: Path | None = None, progress: Progress | None = None) -> DeckSource:
    """Read and check a whole deck folder; raise SourceError listing every problem found.
    `progress(label, done, total)` hears of each card file read."""
    problems: list[Problem] = []
    deck_path = folder / DECK_FILE
    deck_doc = _load(deck_path, "deck", problems, base)
    # When deck.yaml is broken (already reported), a stand-in lets the card files still be checked.
    stand_in = DeckSource(folder.name, folder.name, "", (), {}, {}, folder, Location(display_path(deck_path, base)))
    deck = _deck_from(deck_doc, folder, problems) if deck_doc else stand_in
    first_use: dict[str, Location] = {}
    files = card_files(folder)
    for done, path in enumerate(files, 1):
        if progress:
            progress(f"reading {folder.name}", done, len(files))
        doc = _load(path, "cards", problems, base)
        if doc is None:
            continue
        for index, card in enumerate(doc.data.get("cards") or []):
            if card is None:  # broke the schema; already reported
                continue
            source = _card_from(card, doc, ("cards", index), deck, problems)
            if source is None:
                continue
            if source.id in first_use:
                problems.append(Problem(source.location, f"duplicate id '{source.id}' (first used at {first_use[source.id]})"))
                continue
            first_use[source.id] = source.location
            if source.id in deck.retired:
                problems.append(Problem(source.location, f"id '{source.id}' is retired ({deck.retired[source.id]}) and can never be used again"))
            deck.cards.append(source)
    _check_prompts(deck.cards, problems)
    _collect_media(deck, problems, base)
    if problems:
        raise SourceError(problems)
    return deck


def _load(path: Path, schema: str, problems: list[Problem], base: Path | None) -> YamlDocument | None:
    """The file's document, or None when it cannot be used at all. A card file's cards that break
    the schema are reported and dropped, so that the other cards are still checked."""
    try:
        doc = load_yaml(path, display_path(path, base))
    except SourceError as exc:
        problems.extend(exc.problems)
        return None
    found = schema_errors(doc, schema)
    problems.extend(problem for _, problem in found)
    if schema != "cards" or any(len(trail) < 2 for trail, _ in found):
        return None if found else doc
    bad_cards = {trail[1] for trail, _ in found}
    doc.data["cards"] = [None if i in bad_cards else card for i, card in enumerate(doc.data["cards"])]
    return doc


def _deck_from(doc: YamlDocument, folder: Path, problems: list[Problem]) -> DeckSource:
    data = doc.data
    if data["key"] != folder.name:
        problems.append(Problem(doc.at(("key",)), f"deck key '{data['key']}' must match its folder name '{folder.name}'"))
    description = _render(data.get("description", ""), doc.at(("description",)), problems, doc=doc)
    return DeckSource(
        key=data["key"],
        name=data["name"],
        description=description.html,
        tags=tuple(data.get("tags", ())),
        reading=dict(data.get("reading", {})),
        retired={card_id: doc.at(("retired", i)) for i, card_id in enumerate(data.get("retired", ()))},
        folder=folder,
        location=doc.at(()),
    )


def _render(value: str, where: Location, problems: list[Problem], images: list | None = None, doc: YamlDocument | None = None) -> text.Rendered:
    rendered = text.render_markdown(value)
    for line, message in rendered.problems:
        if line:
            at = where.line + line
            where_line = Location(where.path, at, doc.text_start(at) if doc else 1)
        else:
            where_line = where
        problems.append(Problem(where_line, message))
    if images is not None:
        images.extend((name, where) for name in rendered.images)
    return rendered


def _card_from(card: dict, doc: YamlDocument, trail: tuple, deck: DeckSource, problems: list[Problem]) -> CardSource | None:
    card_type = card["type"]
    before = len(problems)
    locations = {key: doc.at(trail + (key,)) for key in card}
    images: list = []
    html: dict[str, object] = {}
    for name in card_fields(card_type):
        value = card[name]
        if name == "items":
            html[name] = {item: _render(v, doc.at(trail + (name, item)), problems, images, doc).html for item, v in value.items()}
            _check_items(value, doc, trail + (name,), problems)
        else:
            html[name] = _render(value, locations[name], problems, images, doc).html
    if card_type == "cloze":
        _check_cloze(card["text"], locations["text"], problems)
    extra = _render(card["extra"], locations["extra"], problems, images, doc).html if "extra" in card else ""
    if len(problems) > before:
        return None
    source = CardSource(
        id=card["id"],
        type=card_type,
        fields={name: card[name] for name in card_fields(card_type)},
        html=html,
        extra=extra,
        extra_text=card.get("extra", ""),
        tags=tuple(card.get("tags", ())),
        sources=_quotes(card.get("source")),
        reference=card.get("reference"),
        location=doc.at(trail),
        field_locations=locations,
        images=images,
    )
    return source


def _quotes(value: str | list | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _check_cloze(value: str, where: Location, problems: list[Problem]) -> None:
    numbers = text.cloze_numbers(value)
    if not numbers:
        problems.append(Problem(where, "cloze text has no deletion such as {{c1::...}}"))
    elif numbers != list(range(1, len(numbers) + 1)):
        missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        gap = ", ".join(f"c{n}" for n in missing) or "c1"
        problems.append(Problem(where, f"cloze numbers must run c1, c2, ... without gaps; missing {gap}"))


def _check_items(items: dict, doc: YamlDocument, trail: tuple, problems: list[Problem]) -> None:
    seen: dict[str, str] = {}
    for item, value in items.items():
        key = _normalize(value)
        if key in seen:
            problems.append(Problem(doc.at(trail + (item,)), f"items '{seen[key]}' and '{item}' have the same value; the value-to-item card would have two right answers"))
        else:
            seen[key] = item


def _normalize(value: str) -> str:
    return " ".join(value.casefold().split())


def prompts(card: CardSource) -> list[tuple[str, str]]:
    """What each of the card's questions shows, as (description, normalised text)."""
    f = card.fields
    if card.type == "basic":
        return [("front", _normalize(f["front"]))]
    if card.type == "reversed":
        return [("front", _normalize(f["front"])), ("back", _normalize(f["back"]))]
    if card.type == "cloze":
        return [("text", _normalize(f["text"]))]
    if card.type == "point":
        return [("point", _normalize(f["point"])), ("muscle", _normalize(f["muscle"]))]
    aspect = _normalize(f["aspect"])
    found = []
    for item, value in f["items"].items():
        found += [(f"item '{item}'", f"{aspect}\x1f{_normalize(item)}"), (f"value of '{item}'", f"{aspect}\x1f{_normalize(value)}")]
    return found


def _check_prompts(cards: list[CardSource], problems: list[Problem]) -> None:
    """Two questions that look the same are a card a student cannot answer reliably."""
    seen: dict[str, tuple[CardSource, str]] = {}
    for card in cards:
        for what, prompt in prompts(card):
            if prompt not in seen:
                seen[prompt] = (card, what)
                continue
            other, other_what = seen[prompt]
            if other is card:
                continue
            if card.type == "point" and what == "muscle":
                message = (
                    f"muscle '{card.fields['muscle']}' is also the muscle of card '{other.id}' ({other.location}); "
                    "the muscle-to-point card would have two answers: write one card whose point names both"
                )
            else:
                message = f"the {what} of card '{card.id}' is the same as the {other_what} of card '{other.id}' ({other.location}); students cannot tell the two questions apart"
            problems.append(Problem(card.location, message))


def _collect_media(deck: DeckSource, problems: list[Problem], base: Path | None) -> None:
    media_dir = deck.folder / MEDIA_DIR
    available = _media_files(media_dir, problems, base)
    used: set[str] = set()
    for card in deck.cards:
        for name, where in card.images:
            if name not in available:
                problems.append(Problem(where, f"image '{name}' is not in {display_path(media_dir, base)}/"))
                continue
            used.add(name)
            deck.media[name] = available[name]
    for name in sorted(set(available) - used):
        deck.warnings.append(Problem(Location(display_path(available[name], base)), "warning: media file is not used by any card"))


def _media_files(media_dir: Path, problems: list[Problem], base: Path | None) -> dict[str, Path]:
    if not media_dir.is_dir():
        return {}
    root = media_dir.resolve()
    found: dict[str, Path] = {}
    folded: dict[str, str] = {}
    for path in sorted(media_dir.iterdir()):
        where = Location(display_path(path, base))
        if path.is_dir():
            problems.append(Problem(where, "folders inside media/ are not allowed: Anki stores media by file name only"))
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            problems.append(Problem(where, "symbolic link points outside the deck's media/ folder"))
            continue
        if not path.is_file():
            problems.append(Problem(where, "not a regular file"))
            continue
        key = unicodedata.normalize("NFC", path.name).casefold()
        if key in folded:
            problems.append(Problem(where, f"file name clashes with '{folded[key]}' (names differ only in case or Unicode form)"))
            continue
        if path.name.startswith("_") or _UNSAFE_MEDIA.search(path.name):
            problems.append(Problem(where, "media file names must not start with '_' or contain quotes, '<', '>' or '&'"))
            continue
        folded[key] = path.name
        found[path.name] = path
    return found


_UNSAFE_MEDIA = re.compile(r"[\"'<>&\x00-\x1f]")
