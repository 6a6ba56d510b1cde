"""One card file: read, checked against the format, its cards rendered and compiled into notes.

A card file is the unit of work that the build cache keeps and that parallel workers share out:
what it yields depends only on its bytes, its displayed path, its deck's note context (key, tags,
reading) and acudeck's own code. Checks that span files (duplicate ids, retired ids, prompts asked
twice, media) run on the whole deck in source.py.
"""

from __future__ import annotations

import marshal
from collections.abc import Callable
from dataclasses import dataclass

from . import text
from .errors import Location, Problem, SourceError
from .format import card_fields, schema_errors
from .notes import NoteContext, NoteSource, card_notes
from .yamlfile import YamlDocument, decode_text, parse_yaml

Position = tuple[int, int]  # (line, col) in the card's file


@dataclass(slots=True)
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
    path: str  # the file, as shown in messages
    positions: dict[str, Position]  # "" -> the card itself; each key -> its value
    image_refs: tuple[tuple[str, int, int], ...] = ()  # (file name, line, col), checked against media/ per deck

    @property
    def location(self) -> Location:
        return Location(self.path, *self.positions[""])

    @property
    def field_locations(self) -> dict[str, Location]:
        return {key: Location(self.path, *at) for key, at in self.positions.items() if key}

    @property
    def images(self) -> list[tuple[str, Location]]:
        return [(name, Location(self.path, line, col)) for name, line, col in self.image_refs]


class CardFile:
    """What one card file yields: its cards (left out when they have problems), their notes, and
    its problems; with the ids, prompts and images that the deck-wide checks need.

    From the cache or a worker, the cards stay encoded until something asks for them: a rebuild
    needs only the notes, ids, prompts and images of the files that did not change.
    """

    __slots__ = ("path", "problems", "notes", "ids", "prompts", "images", "_cards", "_encoded_cards")

    def __init__(self, path: str, problems: list[Problem], notes: list[NoteSource], ids, prompts, images, cards=None, encoded_cards: bytes | Callable[[], bytes] = b""):
        self.path = path
        self.problems = problems
        self.notes = notes
        self.ids: tuple[str, ...] = tuple(ids)
        self.prompts: list[tuple[int, str, str]] = prompts  # (card index, what is asked, normalised text)
        self.images: list[tuple[int, str, int, int]] = images  # (card index, file name, line, col)
        self._cards: list[CardSource] | None = cards
        self._encoded_cards = encoded_cards  # or what reads them, on the first use

    @classmethod
    def of(cls, path: str, cards: list[CardSource], problems: list[Problem], notes: list[NoteSource]) -> CardFile:
        prompts = [(i, what, text) for i, card in enumerate(cards) for what, text in card_prompts(card)]
        images = [(i, *ref) for i, card in enumerate(cards) for ref in card.image_refs]
        return cls(path, problems, notes, [card.id for card in cards], prompts, images, cards)

    @property
    def cards(self) -> list[CardSource]:
        if self._cards is None:
            encoded = self._encoded_cards
            records = marshal.loads(encoded() if callable(encoded) else encoded)
            if any(len(record) != _CARD_FIELDS for record in records):
                raise ValueError("not a card record")
            self._cards = [CardSource(*record) for record in records]
        return self._cards

    def _compared(self) -> tuple:
        return (self.path, self.cards, self.problems, self.notes, self.ids, self.prompts, self.images)

    def __eq__(self, other) -> bool:
        return isinstance(other, CardFile) and self._compared() == other._compared()


def card_prompts(card: CardSource) -> list[tuple[str, str]]:
    """What each of the card's questions shows, as (description, normalised text)."""
    f = card.fields
    if card.type == "basic":
        return [("front", normalize(f["front"]))]
    if card.type == "reversed":
        return [("front", normalize(f["front"])), ("back", normalize(f["back"]))]
    if card.type == "cloze":
        return [("text", normalize(f["text"]))]
    if card.type == "point":
        return [("point", normalize(f["point"])), ("muscle", normalize(f["muscle"]))]
    aspect = normalize(f["aspect"])
    found = []
    for item, value in f["items"].items():
        found += [(f"item '{item}'", f"{aspect}\x1f{normalize(item)}"), (f"value of '{item}'", f"{aspect}\x1f{normalize(value)}")]
    return found


def read_card_file(raw: bytes, display: str, context: NoteContext) -> CardFile:
    """One file's cards, notes and problems. The notes are compiled here so that parallel workers
    share that work too."""
    problems: list[Problem] = []
    try:
        doc = parse_yaml(decode_text(raw, display), display)
    except SourceError as exc:
        return CardFile.of(display, [], list(exc.problems), [])
    doc = validated(doc, "cards", problems)
    cards = []
    if doc is not None:
        for index, card in enumerate(doc.data.get("cards") or []):
            if card is not None:  # None: broke the schema, already reported
                source = _card_from(card, doc, ("cards", index), problems)
                if source is not None:
                    cards.append(source)
    # A file with a problem fails its deck, and must change before the deck builds: its notes (a
    # compare card's repeat the whole table in each item's note) would never be used.
    notes = [] if problems else [note for card in cards for note in card_notes(card, context)]
    return CardFile.of(display, cards, problems, notes)


def validated(doc: YamlDocument, schema: str, problems: list[Problem]) -> YamlDocument | None:
    """The document, or None when it cannot be used at all. A card file's cards that break the
    schema are reported and replaced by None, so that the other cards are still checked."""
    found = schema_errors(doc, schema)
    problems.extend(problem for _, problem in found)
    if schema != "cards" or any(len(trail) < 2 for trail, _ in found):
        return None if found else doc
    bad_cards = {trail[1] for trail, _ in found}
    doc.data["cards"] = [None if i in bad_cards else card for i, card in enumerate(doc.data["cards"])]
    return doc


def render_field(value: str, where: Location, problems: list[Problem], images: list | None = None, doc: YamlDocument | None = None) -> text.Rendered:
    rendered = text.render_markdown(value)
    for line, message in rendered.problems:
        if line:
            at = where.line + line
            where_line = Location(where.path, at, doc.text_start(at) if doc else 1)
        else:
            where_line = where
        problems.append(Problem(where_line, message))
    if images is not None:
        images.extend((name, where.line, where.col) for name in rendered.images)
    return rendered


def _card_from(card: dict, doc: YamlDocument, trail: tuple, problems: list[Problem]) -> CardSource | None:
    card_type = card["type"]
    before = len(problems)
    positions = {key: doc.values.get(trail + (key,), doc.values[trail]) for key in card}
    positions[""] = doc.values[trail]
    images: list = []
    html: dict[str, object] = {}
    names = card_fields(card_type)
    for name in names:
        value = card[name]
        if name == "items":
            html[name] = {item: render_field(v, doc.at(trail + (name, item)), problems, images, doc).html for item, v in value.items()}
            _check_items(value, doc, trail + (name,), problems)
        else:
            html[name] = render_field(value, Location(doc.path, *positions[name]), problems, images, doc).html
    if card_type == "cloze":
        _check_cloze(card["text"], str(html["text"]), Location(doc.path, *positions["text"]), problems)
    extra = render_field(card["extra"], Location(doc.path, *positions["extra"]), problems, images, doc).html if "extra" in card else ""
    if len(problems) > before:
        return None
    return CardSource(
        id=card["id"],
        type=card_type,
        fields={name: card[name] for name in names},
        html=html,
        extra=extra,
        extra_text=card.get("extra", ""),
        tags=tuple(card.get("tags", ())),
        sources=_quotes(card.get("source")),
        reference=card.get("reference"),
        path=doc.path,
        positions=positions,
        image_refs=tuple(images),
    )


def _quotes(value: str | list | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _check_cloze(value: str, rendered: str, where: Location, problems: list[Problem]) -> None:
    """The deletions as written and as Anki sees them once rendered (`&#123;{c5::` is one there)."""
    numbers = sorted({*text.cloze_numbers(value), *text.cloze_numbers(rendered)})
    if not numbers:
        problems.append(Problem(where, "cloze text has no deletion such as {{c1::...}}"))
    elif numbers[-1] > text.MAX_CLOZE:
        highest = f"c{numbers[-1]}" if numbers[-1] < text.HUGE_CLOZE else "one of ten digits or more"
        problems.append(Problem(where, f"cloze numbers go from c1 to c{text.MAX_CLOZE}; this text has {highest}"))
    elif numbers != list(range(1, len(numbers) + 1)):
        present = set(numbers)
        missing = [f"c{n}" for n in range(1, numbers[-1] + 1) if n not in present]  # at most MAX_CLOZE
        gap = (", ".join(missing) if len(missing) <= 4 else f"{', '.join(missing[:3])} and {len(missing) - 3} more") or "c1"
        problems.append(Problem(where, f"cloze numbers must run c1, c2, ... without gaps; missing {gap}"))


def _check_items(items: dict, doc: YamlDocument, trail: tuple, problems: list[Problem]) -> None:
    seen: dict[str, str] = {}
    for item, value in items.items():
        key = normalize(value)
        if key in seen:
            problems.append(Problem(doc.at(trail + (item,)), f"items '{seen[key]}' and '{item}' have the same value; the value-to-item card would have two right answers"))
        else:
            seen[key] = item


def normalize(value: str) -> str:
    """Text as a student would compare it: case and runs of spaces ignored."""
    return " ".join(value.casefold().split())


# --------------------------------------------------------------------------- the cached form

_CARD_FIELDS = len(CardSource.__slots__)
_NOTE_FIELDS = len(NoteSource._fields)


def encode(card_file: CardFile) -> tuple[bytes, bytes]:
    """Plain tuples through marshal: several times faster to load than pickled objects, and it
    cannot run code. The cards come apart from the rest: a rebuild reads them only for the files
    it parses again, or to point at a problem."""
    cards = marshal.dumps([tuple(getattr(card, name) for name in CardSource.__slots__) for card in card_file.cards])
    problems = [(p.location.path, p.location.line, p.location.col, p.message) for p in card_file.problems]
    notes = [tuple(note) for note in card_file.notes]
    return marshal.dumps((card_file.path, problems, notes, card_file.ids, card_file.prompts, card_file.images)), cards


def decode(data: bytes, cards: bytes | Callable[[], bytes]) -> CardFile:
    """The inverse of `encode`, with the cards or what reads them; raises ValueError (or EOFError,
    TypeError) on anything else."""
    path, problems, notes, ids, prompts, images = marshal.loads(data)
    if not set(map(len, notes)) <= {_NOTE_FIELDS}:
        raise ValueError("not a card file record")
    problems = [Problem(Location(*where), message) for *where, message in problems]
    return CardFile(path, problems, list(map(NoteSource._make, notes)), ids, prompts, images, encoded_cards=cards)
