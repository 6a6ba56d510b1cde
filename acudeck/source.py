"""Reading a deck folder: deck.yaml, its card files and its media, checked before anything is built."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .card import CardSource
from .cardfile import CardFile, check_verbatim, render_field, validated
from .cardtypes import card_type
from .decknames import deck_name_problem
from .errors import Location, Problem, SourceError
from .inputs import DECK_FILE, MEDIA_DIR, DeckInputs, deck_folders, display_path, list_deck
from .notes import NoteContext, NoteSource
from .reader import CardFileReader
from .safefs import digest_source
from .text import render_markdown
from .yamlfile import YamlDocument, load_yaml

Progress = Callable[[str, int, int], None]


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
    files: list[CardFile] = field(default_factory=list)
    media: dict[str, Path] = field(default_factory=dict)  # file name -> path, only the referenced files
    warnings: list[Problem] = field(default_factory=list)
    notes: list[NoteSource] = field(default_factory=list)  # compiled with the card files, in source order
    name_location: Location | None = None
    description_text: str = ""  # as written
    description_images: list[tuple[str, Location]] = field(default_factory=list)
    media_files: dict[str, Path] = field(default_factory=dict)  # every file in media/, used or not

    def note_context(self) -> NoteContext:
        return NoteContext(self.key, self.tags, self.reading)

    @property
    def cards(self) -> list[CardSource]:
        return [card for card_file in self.files for card in card_file.cards]

    def card_ids(self) -> set[str]:
        return {card_id for card_file in self.files for card_id in card_file.ids}


def find_decks(src: Path) -> list[Path]:
    """Deck folders: the folders under `src` that hold a deck.yaml, in name order (see inputs.py)."""
    return deck_folders(src, None, [])


def card_files(folder: Path) -> list[Path]:
    return list_deck(folder, None).card_files


def load_deck(folder: Path, base: Path | None = None, progress: Progress | None = None, files: CardFileReader | None = None, listing: DeckInputs | None = None) -> DeckSource:
    """Read and check a whole deck folder; raise SourceError listing every problem found.
    `progress(label, done, total)` hears of each card file read; `files` reads the card files
    (by default in this process, without a cache); `listing` is the folder's `inputs.list_deck`,
    when it has been taken already."""
    listing = listing or list_deck(folder, base)
    problems: list[Problem] = list(listing.problems)
    deck_path = folder / DECK_FILE
    deck_doc = _load_deck_file(deck_path, problems, base) if listing.deck_file else None
    # When deck.yaml is broken (already reported), a stand-in lets the card files still be checked.
    stand_in = DeckSource(folder.name, folder.name, "", (), {}, {}, folder, Location(display_path(deck_path, base)))
    deck = _deck_from(deck_doc, folder, problems) if deck_doc else stand_in
    first_use: dict[str, tuple[CardFile, int]] = {}
    skipped: set[tuple[int, int]] = set()  # (id of the file, card index): duplicates, left out of the other checks
    paths = listing.card_files
    read = files or CardFileReader(jobs=1)
    displays = [display_path(path, base) for path in paths]
    for card_file in read(paths, displays, deck.note_context(), _progress_for(progress, folder.name, len(paths))):
        problems.extend(card_file.problems)
        deck.files.append(card_file)
        deck.notes += card_file.notes
    all_ids = [card_id for card_file in deck.files for card_id in card_file.ids]
    unique = set(all_ids)
    clash = len(unique) != len(all_ids) or not unique.isdisjoint(deck.retired)
    for card_file in deck.files if clash else ():  # the slow way only when there is something to report
        for index, card_id in enumerate(card_file.ids):
            if card_id in first_use:
                first_file, first_index = first_use[card_id]
                where, first = card_file.cards[index].location, first_file.cards[first_index].location
                problems.append(Problem(where, f"duplicate id '{card_id}' (first used at {first})"))
                skipped.add((id(card_file), index))
                continue
            first_use[card_id] = (card_file, index)
            if card_id in deck.retired:
                where = card_file.cards[index].location
                problems.append(Problem(where, f"id '{card_id}' is retired ({deck.retired[card_id]}) and can never be used again"))
    _check_prompts(deck.files, skipped, problems)
    _collect_media(deck, listing.media, skipped, problems, base)
    _pack_description_media(deck, problems, base)
    if problems:
        raise SourceError(problems)
    if not deck.notes:  # (not deck.cards: a cached file's cards are read only when asked for)
        deck.warnings.append(Problem(deck.location, "warning: deck has no cards; add them to a card file (*.yaml) beside deck.yaml, under `cards:`"))
    return deck


def _progress_for(progress: Progress | None, name: str, total: int) -> Callable[[], None] | None:
    if progress is None:
        return None
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        progress(f"reading {name}", done, total)

    return tick


def _load_deck_file(path: Path, problems: list[Problem], base: Path | None) -> YamlDocument | None:
    try:
        doc = load_yaml(path, display_path(path, base))
    except SourceError as exc:
        problems.extend(exc.problems)
        return None
    return validated(doc, "deck", problems)


def _deck_from(doc: YamlDocument, folder: Path, problems: list[Problem]) -> DeckSource:
    data = doc.data
    if data["key"] != folder.name:
        problems.append(Problem(doc.at(("key",)), f"deck key '{data['key']}' must match its folder name '{folder.name}'"))
    if message := deck_name_problem(data["name"]):
        problems.append(Problem(doc.at(("name",)), message))
    images: list = []
    description = render_field(data.get("description", ""), doc.at(("description",)), problems, images, doc)
    for part in ("title", "author"):
        if part in data.get("reading", {}):
            check_verbatim(data["reading"][part], doc.at(("reading", part)), problems)  # shown with every card's source
    return DeckSource(
        key=data["key"],
        name=data["name"],
        description=description.html,
        tags=tuple(data.get("tags", ())),
        reading=dict(data.get("reading", {})),
        retired={card_id: doc.at(("retired", i)) for i, card_id in enumerate(data.get("retired", ()))},
        folder=folder,
        location=doc.at(()),
        name_location=doc.at(("name",)),
        description_text=data.get("description", ""),
        description_images=[(name, Location(doc.path, line, col)) for name, line, col in images],
    )


def _check_prompts(files: list[CardFile], skipped: set[tuple[int, int]], problems: list[Problem]) -> None:
    """Two questions that look the same are a card a student cannot answer reliably."""
    prompts = [prompt for card_file in files for _, _, prompt in card_file.prompts]
    if len(set(prompts)) == len(prompts):
        return  # no two alike: nothing to report, found without a loop over every prompt
    seen: dict[str, tuple[CardFile, int, str]] = {}
    for card_file in files:
        for index, what, prompt in card_file.prompts:
            if (id(card_file), index) in skipped:
                continue
            if prompt not in seen:
                seen[prompt] = (card_file, index, what)
                continue
            other_file, other_index, other_what = seen[prompt]
            if other_file is card_file and other_index == index:
                continue
            card, other = card_file.cards[index], other_file.cards[other_index]
            problems.append(Problem(card.location, card_type(card.type).duplicate_message(card, what, other, other_what)))


def _collect_media(deck: DeckSource, listed: list[Path], skipped: set[tuple[int, int]], problems: list[Problem], base: Path | None) -> None:
    media_dir = deck.folder / MEDIA_DIR
    available = deck.media_files = _media_files(listed, problems, base)
    used: set[str] = {name for name, _ in deck.description_images}
    for card_file in deck.files:
        for index, name, line, col in card_file.images:
            if (id(card_file), index) in skipped:
                continue
            if name not in available:
                problems.append(Problem(Location(card_file.path, line, col), f"image '{name}' is not in {display_path(media_dir, base)}/"))
                continue
            used.add(name)
            deck.media[name] = available[name]
    for name in sorted(set(available) - used):
        deck.warnings.append(Problem(Location(display_path(available[name], base)), "warning: media file is not used by any card"))


def _pack_description_media(deck: DeckSource, problems: list[Problem], base: Path | None) -> None:
    """Images in the deck's description come from its media/ too. Anki's importer copies only the
    media that notes use, or names starting with '_': they are packed under such a name, made of
    their content, so a changed image gets a new name."""
    packed = {}
    for name, where in deck.description_images:
        if name not in deck.media_files:
            problems.append(Problem(where, f"image '{name}' is not in {display_path(deck.folder / MEDIA_DIR, base)}/"))
            continue
        try:
            packed[name] = packed_name(deck.media_files[name], display_path(deck.media_files[name], base))
        except SourceError as exc:
            problems.extend(exc.problems)
            continue
        deck.media[packed[name]] = deck.media_files[name]
    if packed:
        deck.description = render_markdown(deck.description_text, packed).html


def packed_name(path: Path, display: str) -> str:
    """The name an image of a description goes under: Anki imports a '_' file whether or not a note
    uses it, and never reports it unused."""
    digest = digest_source(path, display).hex()[:20]
    return f"_acudeck-{digest}{path.suffix.lower()}"


def _media_files(listed: list[Path], problems: list[Problem], base: Path | None) -> dict[str, Path]:
    """The deck's media files by name (`listed` by `inputs.list_deck`: regular files, no links), less
    the names Anki or a card could not tell apart."""
    found: dict[str, Path] = {}
    folded: dict[str, str] = {}
    for path in listed:
        where = Location(display_path(path, base))
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
