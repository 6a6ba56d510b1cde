"""From checked card sources to the notes that go into a package."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import genanki

from .ledger import note_digest
from .text import plain

if TYPE_CHECKING:
    from .card import CardSource


FIELD_SEPARATOR = "\x1f"  # how Anki joins a note's fields; the YAML reader refuses it in text


class NoteSource(NamedTuple):
    """One Anki note: `key` names it in the ledger (the card id, or `id/item` for a compare item).

    A tuple, so that the notes of cached card files load in one step each. The fields are kept as
    Anki stores them, joined and in UTF-8, and go into the package as they are: as text, a note
    with one curly quote would take two bytes for every character, and SQLite would keep a UTF-8
    copy beside it. `make_note` fills in what is derived from the rest."""

    key: str
    guid: str
    card_type: str
    flds: bytes  # the fields joined by FIELD_SEPARATOR, in UTF-8: what SQLite stores, and as small as it gets
    tags: tuple[str, ...]
    digest: str  # the content hash
    ords: tuple[int, ...]  # the ords of the note's cards, in genanki's order

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.flds.decode("utf-8").split(FIELD_SEPARATOR))

    @property
    def card_id(self) -> str:
        return self.key.split("/", 1)[0]

    def content_hash(self) -> str:
        """Everything the note carries into a collection besides its mod."""
        return self.digest


def make_note(key: str, guid: str, card_type: str, model_id: int, fields: tuple[str, ...], tags: tuple[str, ...], ords: tuple[int, ...]) -> NoteSource:
    if any(FIELD_SEPARATOR in field for field in fields):  # it would shift the note's fields in Anki
        raise ValueError(f"note {key}: a field holds U+001F, which separates fields in Anki")
    return NoteSource(key, guid, card_type, FIELD_SEPARATOR.join(fields).encode("utf-8"), tags, note_digest(model_id, fields, tags), ords)


class MediaFile(NamedTuple):
    """A file of the deck's media/, as a card type that draws from it (picture) finds it."""

    path: str
    display: str  # as shown in messages
    digest: str  # SHA-256 of its bytes (hex), taken when the deck was listed
    size: int  # in bytes, when it was listed


class NoteContext(NamedTuple):
    """What a deck adds to its cards' notes: the key that seeds GUIDs, its tags, its reading, and
    its media files with their digests, so that a card file's cached notes depend on the images
    its cards draw from (a changed image makes a new cache key)."""

    deck_key: str
    tags: tuple[str, ...]
    reading: dict[str, str]
    media: tuple[tuple[str, MediaFile], ...] = ()  # (file name, file), by name
    media_dir: str = ""  # the media/ folder, as shown in messages

    def fingerprint(self) -> bytes:
        return repr((self.deck_key, self.tags, sorted(self.reading.items()), self.media, self.media_dir)).encode()

    def media_file(self, name: str) -> MediaFile | None:
        return dict(self.media).get(name)


def note_guid(deck_key: str, note_key: str) -> str:
    """Derived from identity only, never from text, so that an edit updates the note in place."""
    return genanki.guid_for("acudeck", deck_key, note_key)


def source_html(card: CardSource, reading: dict[str, str]) -> str:
    """The quotes from the deck's reading with its title and author, then the other work the card
    relies on (`reference`: a standard that corrects or completes the reading)."""
    reference = f"<cite>{plain(card.reference)}</cite>" if card.reference else ""
    if not card.sources:
        return reference
    cite = f" <cite>{plain(reading['title'])}</cite>" if reading.get("title") else ""
    if cite and reading.get("author"):
        cite += f", {plain(reading['author'])}"
    quoted = f"{quotes_html(card.sources)}{' —' + cite if cite else ''}"
    return f"{quoted}; see also {reference}" if reference else quoted


def quotes_html(quotes: tuple[str, ...]) -> str:
    """The quotes of a card's source, as its Source field shows them: one run of text."""
    return " ".join(f"“{plain(quote)}”" for quote in quotes)


def card_count(notes: list[NoteSource]) -> int:
    """How many cards Anki makes of these notes."""
    return sum(len(note.ords) for note in notes)
