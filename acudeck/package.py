"""Writing and reading .apkg files: reproducible bytes, and never a half-written file."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import genanki

from .notes import NoteSource
from .notetypes import SPECS, VersionedModel, genanki_model

ZIP_TIME = (1980, 1, 1, 0, 0, 0)


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


class VersionedNote(genanki.Note):
    """A genanki note written with its own mod (from the ledger) instead of the build's clock."""

    def __init__(self, *args, mod: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.mod = mod

    def write_to_db(self, cursor, timestamp, deck_id, id_gen):
        super().write_to_db(cursor, self.mod, deck_id, id_gen)


def deck_id(deck_key: str) -> int:
    """Anki matches decks by name; a stable id keeps the package itself stable."""
    return (1 << 30) | int(hashlib.sha256(deck_key.encode()).hexdigest()[:8], 16) % (1 << 30)


def _models(spec: PackageSpec) -> dict[str, VersionedModel]:
    models = {}
    for card_type in {note.card_type for note in spec.notes}:
        model = genanki_model(card_type)
        model.mod = spec.notetype_mods[SPECS[card_type].model_id]
        models[card_type] = model
    return models


def _write_collection(spec: PackageSpec, db_path: str) -> None:
    models = _models(spec)
    deck = genanki.Deck(deck_id(spec.deck_key), spec.deck_name, description=spec.description)
    for note in spec.notes:
        deck.add_note(VersionedNote(models[note.card_type], list(note.fields), tags=list(note.tags), guid=note.guid, mod=spec.mods[note.guid]))
    conn = sqlite3.connect(db_path)
    try:
        id_gen = itertools.count(spec.base_timestamp * 1000)
        genanki.Package(deck).write_to_db(conn.cursor(), spec.base_timestamp, id_gen)
        conn.commit()
    finally:
        conn.close()


def _zip_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


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
            with open(db_path, "rb") as db:
                zf.writestr(_zip_entry("collection.anki2"), db.read())
            names = sorted(spec.media)
            zf.writestr(_zip_entry("media"), json.dumps({str(i): name for i, name in enumerate(names)}))
            for i, name in enumerate(names):
                zf.writestr(_zip_entry(str(i)), spec.media[name].read_bytes())
    return staging.staged(out)


def write_apkg(spec: PackageSpec, out: Path) -> None:
    """Write one package to `out` atomically."""
    with Staging() as staging:
        stage_apkg(spec, staging, out)
        staging.commit()


def read_apkg(path: Path) -> dict:
    """What a package carries into a collection, in a form that compares equal across SQLite builds."""
    with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory(prefix="acudeck-") as work:
        media_map = json.loads(zf.read("media"))
        media = {name: hashlib.sha256(zf.read(index)).hexdigest() for index, name in media_map.items()}
        db_path = os.path.join(work, "collection.anki2")
        Path(db_path).write_bytes(zf.read("collection.anki2"))
        conn = sqlite3.connect(db_path)
        try:
            notes = {
                guid: {"mid": mid, "mod": mod, "tags": tags.split(), "fields": flds.split("\x1f")}
                for guid, mid, mod, tags, flds in conn.execute("SELECT guid, mid, mod, tags, flds FROM notes")
            }
            cards = conn.execute("SELECT count(*) FROM cards").fetchone()[0]
            models_json, decks_json = conn.execute("SELECT models, decks FROM col").fetchone()
        finally:
            conn.close()
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
    return {"notes": notes, "cards": cards, "models": models, "decks": decks, "media": media}
