"""Writing and reading .apkg files: reproducible bytes, and never a half-written file.

genanki writes the schema, note types and deck; the notes and cards are inserted here with one
`executemany` each, because genanki writes them one `execute` per row: the rows are the ones
genanki writes, which tests/test_package.py checks against genanki itself.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import os
import re
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import genanki

from .notes import NoteSource
from .notetypes import SPECS, VersionedModel, genanki_model

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_LEVEL = 1  # 65k notes, a 56 MB db: level 1 zips it in 0.28 s to 9.6 MB, level 6 in 1.0 s to 8.7 MB, level 9 in 4.0 s to 8.7 MB


@dataclass
class PackageSpec:
    """Everything one .apkg holds."""

    deck_name: str
    deck_key: str
    description: str
    notes: list[NoteSource]
    mods: dict[str, int]  # note GUID -> mod
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
            model = genanki_model(note.card_type)
            model.mod = spec.notetype_mods[SPECS[note.card_type].model_id]
            models[note.card_type] = model
    return models


_CLOZE_FIELD_RE = re.compile(r"{{[^}]*?cloze:(?:[^}]?:)*(.+?)}}")
_CLOZE_RE = re.compile(r"{{c(\d+)::.+?}}", re.DOTALL)


def _card_ords(model: genanki.Model) -> Callable[[tuple[str, ...]], list[int]]:
    """For a note's fields, the ords of genanki's `Note.cards`, in its order (the order decides the card ids)."""
    if model.model_type == genanki.Model.CLOZE:
        names = set(_CLOZE_FIELD_RE.findall(model.templates[0]["qfmt"]))
        indexes = [next((i for i, f in enumerate(model.fields) if f["name"] == name), -1) for name in names]

        def cloze_ords(fields: tuple[str, ...]) -> list[int]:
            # The same set operations as genanki: a set of ints does not iterate in sorted order (c9 before c1, say).
            ords: set[int] = set()
            for index in indexes:
                ords.update(int(m) - 1 for m in _CLOZE_RE.findall(fields[index] if index >= 0 else "") if int(m) > 0)
            return list(ords)

        return cloze_ords
    req = [(card_ord, {"any": any, "all": all}[any_or_all], required) for card_ord, any_or_all, required in model._req]
    return lambda fields: [card_ord for card_ord, op, required in req if op(fields[i] for i in required)]


# genanki's constant columns as literals: usn -1, csum, flags, data; card usn -1, type, queue, due ... data.
_INSERT_NOTES = "INSERT INTO notes VALUES(?,?,?,?,-1,?,?,?,0,0,'')"
_INSERT_CARDS = "INSERT INTO cards VALUES(?,?,?,?,?,-1,0,0,0,0,0,0,0,0,0,0,0,'')"


@functools.cache
def _tags(tags: tuple[str, ...]) -> str:
    if any(" " in tag for tag in tags):
        raise ValueError(f"a tag contains a space: {tags}")
    return " " + " ".join(tags) + " "


def _note_rows(spec: PackageSpec, models: dict[str, VersionedModel], did: int, id_gen: Iterator[int], cards: list[tuple]) -> Iterator[tuple]:
    """The variable columns of the notes rows of genanki's `Note.write_to_db`; those of their cards rows
    are appended to `cards`. Ids come from `id_gen` as genanki draws them: a note's, then its cards', then the next note's.
    """
    card_ords = {card_type: _card_ords(model) for card_type, model in models.items()}
    for note in spec.notes:
        model = models[note.card_type]
        if len(note.fields) != len(model.fields):
            raise ValueError(f"note {note.key}: {len(note.fields)} fields for {len(model.fields)} in {model.name}")
        mod = int(spec.mods[note.guid])
        note_id = next(id_gen)
        for card_ord in card_ords[note.card_type](note.fields):
            cards.append((next(id_gen), note_id, did, card_ord, mod))
        yield (note_id, note.guid, model.model_id, mod, _tags(note.tags), "\x1f".join(note.fields), note.fields[model.sort_field_index])


def _write_collection(spec: PackageSpec, db_path: str) -> None:
    models = _models(spec)
    deck = genanki.Deck(deck_id(spec.deck_key), spec.deck_name, description=spec.description)
    for model in models.values():
        deck.add_model(model)
    conn = sqlite3.connect(db_path)
    try:
        # A scratch file, thrown away on any failure: no journal, no fsync.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        id_gen = itertools.count(spec.base_timestamp * 1000)
        genanki.Package(deck).write_to_db(conn.cursor(), spec.base_timestamp, id_gen)  # schema, col row, note types, deck
        # Indexes are built once after the rows are in, which is faster than keeping them up to date row by row.
        indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        cards: list[tuple] = []
        conn.executemany(_INSERT_NOTES, _note_rows(spec, models, deck.deck_id, id_gen, cards))
        conn.executemany(_INSERT_CARDS, cards)
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


def _zip_file(zf: zipfile.ZipFile, name: str, path: str | Path) -> None:
    """Stream a file into the archive instead of reading it whole."""
    with open(path, "rb") as src, zf.open(_zip_entry(name, os.path.getsize(path)), "w") as dest:
        shutil.copyfileobj(src, dest, 1 << 20)


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
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        os.fchmod(fd, 0o644)
        self.pending.append((tmp, final))
        if "b" in mode:
            return os.fdopen(fd, mode)
        return os.fdopen(fd, mode, encoding="utf-8", newline="\n")

    def staged(self, final: Path) -> Path:
        """The temporary file that will become `final`."""
        return Path(next(tmp for tmp, target in self.pending if target == final))

    def discard(self, final: Path) -> None:
        """Keep `final` as it is: drop what was staged for it."""
        for tmp, target in [entry for entry in self.pending if entry[1] == final]:
            os.unlink(tmp)
            self.pending.remove((tmp, target))

    def commit(self) -> None:
        for tmp, final in self.pending:
            os.replace(tmp, final)
        self.pending.clear()


def remove_leftovers(*finals: Path) -> None:
    """Temporary files that a killed build left beside these destinations."""
    for final in finals:
        for leftover in final.parent.glob(f".{final.name}.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def stage_apkg(spec: PackageSpec, staging: Staging, out: Path) -> Path:
    """Write the package for `out` into the staging area; return the staged file."""
    with tempfile.TemporaryDirectory(prefix="acudeck-") as work:
        db_path = os.path.join(work, "collection.anki2")
        _write_collection(spec, db_path)
        with staging.open(out) as raw, zipfile.ZipFile(raw, "w") as zf:
            _zip_file(zf, "collection.anki2", db_path)
            names = sorted(spec.media)
            zf.writestr(_zip_entry("media"), json.dumps({str(i): name for i, name in enumerate(names)}))
            for i, name in enumerate(names):
                _zip_file(zf, str(i), spec.media[name])
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
