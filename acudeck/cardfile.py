"""One card file: read, checked against the format, its cards rendered and compiled into notes.

A card file is the unit of work that the build cache keeps and that parallel workers share out:
what it yields depends only on its bytes, its displayed path, its deck's note context (key, tags,
reading) and acudeck's own code. Checks that span files (duplicate ids, retired ids, prompts asked
twice, media) run on the whole deck in source.py.
"""

from __future__ import annotations

import marshal
from collections.abc import Callable
from typing import Any

from . import mathjax, text
from .card import CardSource
from .cardtypes import card_type
from .errors import Location, Problem, SourceError
from .format import schema_errors
from .notes import NoteContext, NoteSource, quotes_html
from .yamlfile import YamlDocument, decode_text, parse_yaml


class CardFile:
    """What one card file yields: its cards (left out when they have problems), their notes, and
    its problems; with the ids, prompts and images that the deck-wide checks need.

    From the cache or a worker, the cards stay encoded until something asks for them: a rebuild
    needs only the notes, ids, prompts and images of the files that did not change.
    """

    __slots__ = ("path", "problems", "notes", "ids", "prompts", "images", "generated", "drawn_from", "_cards", "_encoded_cards")

    def __init__(
        self,
        path: str,
        problems: list[Problem],
        notes: list[NoteSource],
        ids,
        prompts,
        images,
        cards=None,
        encoded_cards: bytes | Callable[[], bytes] = b"",
        generated: dict[str, bytes] | None = None,
        drawn_from=(),
    ):
        self.path = path
        self.problems = problems
        self.notes = notes
        self.ids: tuple[str, ...] = tuple(ids)
        self.prompts: list[tuple[int, str, str]] = prompts  # (card index, what is asked, normalised text)
        self.images: list[tuple[int, str, int, int]] = images  # (card index, file name, line, col)
        self.generated: dict[str, bytes] = generated or {}  # media the card types made (picture sides), by name
        self.drawn_from: list[tuple[int, str]] = list(drawn_from)  # (card index, media/ file they were made from)
        self._cards: list[CardSource] | None = cards
        self._encoded_cards = encoded_cards  # or what reads them, on the first use

    @classmethod
    def of(cls, path: str, cards: list[CardSource], problems: list[Problem], notes: list[NoteSource], generated: dict[str, bytes] | None = None, drawn_from=()) -> CardFile:
        prompts = [(i, what, text) for i, card in enumerate(cards) for what, text in card_type(card.type).prompts(card)]
        images = [(i, *ref) for i, card in enumerate(cards) for ref in _media_refs(card)]
        return cls(path, problems, notes, [card.id for card in cards], prompts, images, cards, generated=generated, drawn_from=drawn_from)

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
        return (self.path, self.cards, self.problems, self.notes, self.ids, self.prompts, self.images, self.generated, self.drawn_from)

    def __eq__(self, other) -> bool:
        return isinstance(other, CardFile) and self._compared() == other._compared()


def _media_refs(card: CardSource) -> list[tuple[str, int, int]]:
    """The images of the card's Markdown, then the media its type uses, at the card's place."""
    line, col = card.positions[""]
    return [*card.image_refs, *((name, line, col) for name in card_type(card.type).media(card))]


def read_card_file(raw: bytes, display: str, context: NoteContext) -> CardFile:
    """One file's cards, notes and problems. The notes are compiled here so that parallel workers
    share that work too."""
    problems: list[Problem] = []
    try:
        doc = parse_yaml(decode_text(raw, display), display)
    except SourceError as exc:
        return CardFile.of(display, [], list(exc.problems), [])
    checked = validated(doc, "cards", problems)
    cards = []
    if checked is not None:
        for index, card in enumerate(checked.data.get("cards") or []):
            if card is not None:  # None: broke the schema, already reported
                source = _card_from(card, checked, ("cards", index), problems)
                if source is not None:
                    cards.append(source)
    generated: dict[str, bytes] = {}
    drawn_from: list[tuple[int, str]] = []
    for index, card in enumerate(cards):
        made = card_type(card.type).generate(card, context)
        problems += made.problems
        generated.update(made.media)
        drawn_from += [(index, name) for name in made.drawn_from]
    # A file with a problem fails its deck, and must change before the deck builds: its notes (a
    # compare card's repeat the whole table in each item's note) would never be used.
    if problems:
        return CardFile.of(display, cards, problems, [], {}, drawn_from)
    notes = [note for card in cards for note in card_type(card.type).notes(card, context)]
    return CardFile.of(display, cards, problems, notes, generated, drawn_from)


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
    """Render one Markdown field, its problems located; `images` collects its (file name, line, col)."""
    rendered = text.render_markdown(value)
    check_active_content(rendered.html, where, problems)
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


def check_active_content(field_html: str, where: Location, problems: list[Problem]) -> None:
    """LaTeX or MathJax beyond plain math, in a field as the student's Anki gets it."""
    if found := mathjax.active_content_problems(field_html):
        problems.extend(Problem(where, message) for message in found)


def check_verbatim(value: str, where: Location, problems: list[Problem]) -> None:
    """A field shown as it is written (quotes, names, references) reaches Anki escaped, and the
    browser shows its text as written: MathJax still reads it."""
    if found := mathjax.text_problems(value):
        problems.extend(Problem(where, message) for message in found)


def _card_from(card: dict, doc: YamlDocument, trail: tuple, problems: list[Problem]) -> CardSource | None:
    kind = card_type(card["type"])
    before = len(problems)
    positions = {key: doc.values.get(trail + (key,), doc.values[trail]) for key in card}
    positions[""] = doc.values[trail]
    images: list = []
    html: dict[str, object] = {}
    absent: dict[str, Any] = {"text": "", "items": {}, "data": None}
    for field in kind.FIELDS:
        value = card.get(field.name, absent[field.kind])
        if field.name not in card:
            html[field.name] = value
        elif field.kind == "items":
            html[field.name] = _render_items(value, doc, trail + (field.name,), problems, images)
        elif field.kind == "data":
            html[field.name] = value
        else:
            html[field.name] = _render_shown(f"'{field.name}'", value, Location(doc.path, *positions[field.name]), problems, images, doc)
    extra = _render_shown("'extra'", card["extra"], Location(doc.path, *positions["extra"]), problems, images, doc) if "extra" in card else ""
    _check_quotes(_quotes(card.get("source")), doc, trail + ("source",), problems)
    if "reference" in card:
        check_verbatim(card["reference"], doc.at(trail + ("reference",)), problems)
    source = CardSource(
        id=card["id"],
        type=card["type"],
        fields={field.name: card.get(field.name, absent[field.kind]) for field in kind.FIELDS},
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
    problems += kind.check(source, lambda inner: doc.at(trail + inner))
    return None if len(problems) > before else source


def _render_shown(label: str, value: str, where: Location, problems: list[Problem], images: list, doc: YamlDocument) -> str:
    """A field the card shows: rendered, and refused when it would show nothing."""
    rendered = render_field(value, where, problems, images, doc).html
    if not text.shows_something(rendered):
        problems.append(Problem(where, f"{label} shows nothing: it has no visible text or image (only spaces, invisible characters or empty markup)"))
    return rendered


def _render_items(items: dict, doc: YamlDocument, trail: tuple, problems: list[Problem], images: list) -> dict[str, str]:
    """An items field: names shown as written, values rendered."""
    rendered: dict[str, str] = {}
    for item, value in items.items():
        check_verbatim(item, doc.key_at(trail + (item,)), problems)
        if not text.shows_something(text.plain(item)):
            problems.append(Problem(doc.key_at(trail + (item,)), f"item '{text.shown(item)}' shows nothing: it has no visible text"))
        rendered[item] = _render_shown(f"the value of '{item}'", value, doc.at(trail + (item,)), problems, images, doc)
    return rendered


def _check_quotes(quotes: tuple[str, ...], doc: YamlDocument, trail: tuple, problems: list[Problem]) -> None:
    """Each quote, then all of them as the source field joins them: one run of text to MathJax."""
    before = len(problems)
    for i, quote in enumerate(quotes):
        check_verbatim(quote, doc.at(trail + (i,)), problems)  # a single quote: the nearest located parent
    if len(quotes) > 1 and len(problems) == before:
        check_active_content(quotes_html(quotes), doc.at(trail), problems)


def _quotes(value: str | list | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


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
    record = (card_file.path, problems, notes, card_file.ids, card_file.prompts, card_file.images, card_file.generated, card_file.drawn_from)
    return marshal.dumps(record), cards


def decode(data: bytes, cards: bytes | Callable[[], bytes]) -> CardFile:
    """The inverse of `encode`, with the cards or what reads them; raises ValueError (or EOFError,
    TypeError) on anything else."""
    path, problems, notes, ids, prompts, images, generated, drawn_from = marshal.loads(data)
    if not set(map(len, notes)) <= {_NOTE_FIELDS} or not isinstance(generated, dict):
        raise ValueError("not a card file record")
    problems = [Problem(Location(*where), message) for *where, message in problems]
    return CardFile(path, problems, list(map(NoteSource._make, notes)), ids, prompts, images, encoded_cards=cards, generated=generated, drawn_from=[tuple(d) for d in drawn_from])
