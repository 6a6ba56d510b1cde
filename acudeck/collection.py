"""The collection inside a package: the SQLite rows Anki imports.

genanki writes the schema, note types and deck; the notes and cards are inserted here, fifty rows
to a statement, because genanki writes them one `execute` per row: the rows are the ones genanki
writes, which tests/test_package.py checks against genanki itself.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import operator
import sqlite3
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import genanki

from .cardtypes import note_type
from .notes import FIELD_SEPARATOR, NoteSource
from .notetypes import VersionedModel, genanki_model

if TYPE_CHECKING:
    from .package import PackageSpec


def deck_id(deck_key: str) -> int:
    """Anki matches decks by name; a stable id keeps the package itself stable."""
    return (1 << 30) | int(hashlib.sha256(deck_key.encode()).hexdigest()[:8], 16) % (1 << 30)


def _models(spec: PackageSpec) -> dict[str, VersionedModel]:
    """The note types the notes use, in order of first use (the order genanki puts them in the col row)."""
    models = {}
    for note in spec.notes:
        if note.card_type not in models:
            model = genanki_model(note_type(note.card_type))
            model.mod = spec.notetype_mods[model.model_id]
            models[note.card_type] = model
    return models


# genanki's constant columns as literals: usn -1, csum, flags, data; card usn -1, type, queue, ... data.
# A card's `due` is its new-card position (order.py), where genanki writes 0 for every card.
_NOTE_VALUES = "(?,?,?,?,-1,?,CAST(? AS TEXT),CAST(? AS TEXT),0,0,'')"  # flds and sfld come as UTF-8 bytes
_CARD_VALUES = "(?,?,?,?,?,-1,0,0,?,0,0,0,0,0,0,0,0,'')"
_ROWS_PER_INSERT = 50  # 50 x 7 parameters stays under the 999 that older SQLite builds allow


def _insert(conn: sqlite3.Connection, table: str, values: str, rows: Iterable[tuple]) -> None:
    """Insert the rows in order, 50 to a statement: a fifth faster than one statement per row, and
    SQLite stores them exactly as it would one by one."""
    rows = iter(rows)
    tail: list[tuple] = []

    def batches() -> Iterator[tuple]:
        while batch := tuple(itertools.islice(rows, _ROWS_PER_INSERT)):
            if len(batch) < _ROWS_PER_INSERT:
                tail.extend(batch)
                return
            yield tuple(itertools.chain.from_iterable(batch))

    conn.executemany(f"INSERT INTO {table} VALUES " + ",".join([values] * _ROWS_PER_INSERT), batches())
    conn.executemany(f"INSERT INTO {table} VALUES {values}", tail)


@functools.cache
def _tags(tags: tuple[str, ...]) -> str:
    if any(" " in tag for tag in tags):
        raise ValueError(f"a tag contains a space: {tags}")
    return " " + " ".join(tags) + " "


def _rows(spec: PackageSpec, models: dict[str, VersionedModel], did: int, first_id: int) -> tuple[Iterator[tuple], list[tuple]]:
    """The variable columns of the notes rows and cards rows of genanki's `Note.write_to_db`. Ids are
    counted from `first_id` as genanki draws them: a note's, then its cards', then the next note's.

    Built column by column with maps over C functions, not note by note: this runs over every note
    of the largest deck on every build."""
    notes = spec.notes
    if any(model.sort_field_index != 0 for model in models.values()):
        raise ValueError("every note type sorts by its first field")
    if not notes:
        return iter(()), []
    _, guids, card_types, flds, tags, _, ords = zip(*notes, strict=True)  # the columns, transposed in C
    separators = {card_type: len(model.fields) - 1 for card_type, model in models.items()}
    _check_fields(notes, flds, list(map(separators.__getitem__, card_types)))
    note_ids = list(itertools.accumulate(map((1).__add__, map(len, ords)), initial=first_id))[:-1]
    model_ids = map({card_type: model.model_id for card_type, model in models.items()}.__getitem__, card_types)
    sort_fields = map(operator.itemgetter(0), map(operator.methodcaller("partition", _SEPARATOR), flds))
    note_rows = zip(note_ids, guids, model_ids, spec.mods, map(_tags, tags), flds, sort_fields, strict=True)
    card_rows = [(note_id + 1 + k, note_id, did, card_ord, mod) for note_id, mod, note_ords in zip(note_ids, spec.mods, ords, strict=True) for k, card_ord in enumerate(note_ords)]
    return note_rows, [(*row, due) for row, due in zip(card_rows, spec.ordering.positions, strict=True)]


_SEPARATOR = FIELD_SEPARATOR.encode()


def _check_fields(notes: list[NoteSource], flds: tuple[bytes, ...], expected: list[int]) -> None:
    """Each note has its type's number of fields: that many separators and one more (counted by a map over C)."""
    found = list(map(operator.methodcaller("count", _SEPARATOR), flds))
    if found != expected:
        note, count = next((note, want + 1) for note, got, want in zip(notes, found, expected, strict=True) if got != want)
        raise ValueError(f"note {note.key}: its fields do not make the {count} fields of its note type")


def write_collection(spec: PackageSpec, db_path: str) -> None:
    models = _models(spec)
    deck = genanki.Deck(deck_id(spec.deck_key), spec.deck_name, description=spec.description)
    for model in models.values():
        deck.add_model(model)
    conn = sqlite3.connect(db_path)
    try:
        # A scratch file, thrown away on any failure: no journal, no fsync.
        # 16 KiB pages: at 65k notes, 8% faster to write than the default 4 KiB and 1% smaller zipped (64 KiB: 8% larger).
        conn.execute("PRAGMA page_size=16384")
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        id_gen = itertools.count(spec.base_timestamp * 1000)
        genanki.Package(deck).write_to_db(conn.cursor(), spec.base_timestamp, id_gen)  # schema, col row, note types, deck
        # Indexes are built once after the rows are in, which is faster than keeping them up to date row by row.
        indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        note_rows, card_rows = _rows(spec, models, deck.deck_id, next(id_gen))
        _insert(conn, "notes", _NOTE_VALUES, note_rows)
        _insert(conn, "cards", _CARD_VALUES, card_rows)
        for _, sql in indexes:
            conn.execute(sql)
        conn.commit()
    finally:
        conn.close()
