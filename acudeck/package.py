"""Writing and reading .apkg files: reproducible bytes, and never a half-written file.

genanki writes the schema, note types and deck; the notes and cards are inserted here, fifty rows
to a statement, because genanki writes them one `execute` per row: the rows are the ones genanki
writes, which tests/test_package.py checks against genanki itself.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import operator
import os
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import genanki

from .cardtypes import note_type
from .deflate import ParallelCompressor
from .errors import ReadError, WriteError, os_reason
from .notes import FIELD_SEPARATOR, NoteSource
from .notetypes import VersionedModel, genanki_model
from .safefs import open_regular

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_LEVEL = 1  # 65k notes, a 56 MB db: level 1 zips it in 0.28 s to 9.6 MB, level 6 in 1.0 s to 8.7 MB, level 9 in 4.0 s to 8.7 MB


@dataclass
class PackageSpec:
    """Everything one .apkg holds."""

    deck_name: str
    deck_key: str
    description: str
    notes: list[NoteSource]
    mods: list[int]  # each note's mod, in the order of `notes`
    notetype_mods: dict[int, int]
    base_timestamp: int
    media: dict[str, Path] = field(default_factory=dict)


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


# genanki's constant columns as literals: usn -1, csum, flags, data; card usn -1, type, queue, due ... data.
_NOTE_VALUES = "(?,?,?,?,-1,?,CAST(? AS TEXT),CAST(? AS TEXT),0,0,'')"  # flds and sfld come as UTF-8 bytes
_CARD_VALUES = "(?,?,?,?,?,-1,0,0,0,0,0,0,0,0,0,0,0,'')"
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
    return note_rows, card_rows


_SEPARATOR = FIELD_SEPARATOR.encode()


def _check_fields(notes: list[NoteSource], flds: tuple[bytes, ...], expected: list[int]) -> None:
    """Each note has its type's number of fields: that many separators and one more (counted by a map over C)."""
    found = list(map(operator.methodcaller("count", _SEPARATOR), flds))
    if found != expected:
        note, count = next((note, want + 1) for note, got, want in zip(notes, found, expected, strict=True) if got != want)
        raise ValueError(f"note {note.key}: its fields do not make the {count} fields of its note type")


def _write_collection(spec: PackageSpec, db_path: str) -> None:
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


def _zip_entry(name: str, size: int = 0) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info._compresslevel = ZIP_LEVEL  # ZipInfo.compress_level from Python 3.13, which keeps this name as an alias
    info.external_attr = 0o644 << 16
    info.file_size = size  # known before writing, as writestr knows it: the same header, the same ZIP64 choice
    return info


def _zip_file(zf: zipfile.ZipFile, name: str, path: str | Path, parallel: bool = False) -> None:
    """Stream a file into the archive instead of reading it whole; `parallel`: deflate it on every core.
    Opened as a project file (safefs.open_regular): a media file swapped for a link or a FIFO since
    the deck was checked is refused, not followed."""
    with open_regular(path) as src, zf.open(_zip_entry(name, os.fstat(src.fileno()).st_size), "w") as dest:
        compressor = None
        if parallel:
            # zipfile has no way to plug in a compressor; its entry writer keeps one in this attribute
            # (Python 3.6 to 3.13), and still computes the CRC and sizes itself. tests/test_package.py
            # checks that the entry holds ParallelCompressor's output.
            compressor = dest._compressor = ParallelCompressor(ZIP_LEVEL)
        try:
            shutil.copyfileobj(src, dest, 1 << 20)
        except BaseException:
            if compressor:
                compressor.close()  # the entry's close, on the way out, then writes nothing more
            raise


class Staging:
    """Files written beside their destinations, then renamed into place together.

    Until `commit`, every destination keeps its previous content; a failure or an interruption
    leaves only hidden temporary files, which are removed on the way out where possible.
    """

    def __init__(self):
        self.pending: list[tuple[str, Path]] = []

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc) -> None:
        for tmp, _ in self.pending:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def open(self, final: Path, mode: str = "wb"):
        with writing(final):
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
            self.pending.append((tmp, final))
            os.fchmod(fd, 0o644)
        if "b" in mode:
            return os.fdopen(fd, mode)
        return os.fdopen(fd, mode, encoding="utf-8", newline="\n")

    def write(self, final: Path, data: bytes) -> None:
        with writing(final), self.open(final) as fh:
            fh.write(data)

    def staged(self, final: Path) -> Path:
        """The temporary file that will become `final`."""
        return Path(next(tmp for tmp, target in self.pending if target == final))

    def discard(self, final: Path) -> None:
        """Keep `final` as it is: drop what was staged for it."""
        for tmp, target in [entry for entry in self.pending if entry[1] == final]:
            os.unlink(tmp)
            self.pending.remove((tmp, target))

    def commit(self) -> None:
        """Rename each staged file into place. An interruption part way leaves some destinations new
        and some old; the next build repairs that, since it compares every package with its ledger."""
        while self.pending:
            tmp, final = self.pending[0]
            with writing(final):
                os.replace(tmp, final)
            del self.pending[0]  # renamed: no longer ours to remove on the way out


@contextlib.contextmanager
def writing(final: Path) -> Iterator[None]:
    """Any failure to write `final` as a WriteError that names it (a full disk's OSError names no file)."""
    try:
        yield
    except WriteError:
        raise
    except (OSError, sqlite3.OperationalError) as exc:  # SQLite says "database or disk is full"
        raise WriteError(final, os_reason(exc)) from None


def remove_leftovers(*finals: Path) -> None:
    """Temporary files that a killed build left beside these destinations."""
    for final in finals:
        for leftover in final.parent.glob(f".{final.name}.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def stage_apkg(spec: PackageSpec, staging: Staging, out: Path) -> Path:
    """Write the package for `out` into the staging area; return the staged file."""
    with writing(out), tempfile.TemporaryDirectory(prefix="acudeck-") as work:
        db_path = os.path.join(work, "collection.anki2")
        _write_collection(spec, db_path)
        with staging.open(out) as raw, zipfile.ZipFile(raw, "w") as zf:
            _zip_file(zf, "collection.anki2", db_path, parallel=True)
            names = sorted(spec.media)
            zf.writestr(_zip_entry("media"), json.dumps({str(i): name for i, name in enumerate(names)}))
            for i, name in enumerate(names):
                try:
                    _zip_file(zf, str(i), spec.media[name])
                except OSError as exc:
                    raise ReadError(spec.media[name], os_reason(exc)) from None
    return staging.staged(out)


def write_apkg(spec: PackageSpec, out: Path) -> None:
    """Write one package to `out` atomically."""
    with Staging() as staging:
        stage_apkg(spec, staging, out)
        staging.commit()


@contextlib.contextmanager
def _collection(zf: zipfile.ZipFile) -> Iterator[sqlite3.Connection]:
    """The package's collection, streamed out to a temporary file and opened."""
    with tempfile.TemporaryDirectory(prefix="acudeck-") as work:
        db_path = os.path.join(work, "collection.anki2")
        with zf.open("collection.anki2") as src, open(db_path, "wb") as dest:
            shutil.copyfileobj(src, dest, 1 << 20)
        conn = sqlite3.connect(db_path)
        try:
            yield conn
        finally:
            conn.close()


def _media_digests(zf: zipfile.ZipFile) -> dict[str, str]:
    digests = {}
    for index, name in json.loads(zf.read("media")).items():
        digest = hashlib.sha256()
        with zf.open(index) as src:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
        digests[name] = digest.hexdigest()
    return digests


def _collection_parts(conn: sqlite3.Connection) -> dict:
    """Card count, note types and decks: the parts of a package besides its notes and media."""
    cards = conn.execute("SELECT count(*) FROM cards").fetchone()[0]
    models_json, decks_json = conn.execute("SELECT models, decks FROM col").fetchone()
    models = {
        int(mid): {
            "name": m["name"],
            "mod": m["mod"],
            "type": m["type"],
            "css": m["css"],
            "fields": [f["name"] for f in m["flds"]],
            "templates": [(t["name"], t["qfmt"], t["afmt"]) for t in m["tmpls"]],
        }
        for mid, m in json.loads(models_json).items()
    }
    decks = sorted((d["name"], d.get("desc", "")) for d in json.loads(decks_json).values() if d["name"] != "Default")
    return {"cards": cards, "models": models, "decks": decks}


_NOTES_QUERY = "SELECT guid, mid, mod, tags, flds FROM notes"


def read_apkg(path: Path) -> dict:
    """What a package carries into a collection, in a form that compares equal across SQLite builds."""
    with zipfile.ZipFile(path) as zf, _collection(zf) as conn:
        notes = {guid: {"mid": mid, "mod": mod, "tags": tags.split(), "fields": flds.split("\x1f")} for guid, mid, mod, tags, flds in conn.execute(_NOTES_QUERY)}
        return {"notes": notes, **_collection_parts(conn), "media": _media_digests(zf)}


def package_summary(path: Path) -> dict:
    """`read_apkg` with each note as a short digest of its mid, mod, tags and fields: what two packages
    need for a comparison, small enough to hold for the largest deck."""
    with zipfile.ZipFile(path) as zf, _collection(zf) as conn:
        notes = {guid: _note_digest(mid, mod, tags, flds) for guid, mid, mod, tags, flds in conn.execute(_NOTES_QUERY)}
        return {"notes": notes, **_collection_parts(conn), "media": _media_digests(zf)}


def _note_digest(mid: int, mod: int, tags: str, flds: str) -> bytes:
    """Equal exactly when read_apkg's entries are equal (tags compared as split words)."""
    return hashlib.blake2b(json.dumps([mid, mod, tags.split(), flds]).encode(), digest_size=16).digest()
