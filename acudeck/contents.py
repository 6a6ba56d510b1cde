"""What a package holds, read back, and how two packages differ."""

from __future__ import annotations

import contextlib
import filecmp
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from .package import PackageSpec, write_apkg


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
            "field_ids": [f.get("id") for f in m["flds"]],  # None where the package gives none
            "template_ids": [t.get("id") for t in m["tmpls"]],
        }
        for mid, m in json.loads(models_json).items()
    }
    decks = sorted((d["name"], d.get("desc", "")) for d in json.loads(decks_json).values() if d["name"] != "Default")
    return {"cards": cards, "models": models, "decks": decks}


def _card_order(conn: sqlite3.Connection) -> str:
    """A digest of the cards (note GUID, ord) in the order of their new-card positions (order.py)."""
    rows = conn.execute("SELECT n.guid, c.ord FROM cards c JOIN notes n ON n.id = c.nid ORDER BY c.due, c.id").fetchall()
    return hashlib.blake2b(repr(rows).encode(), digest_size=16).hexdigest()  # repr: the whole list in one call into C


_NOTES_QUERY = "SELECT guid, mid, mod, tags, flds FROM notes"


def read_apkg(path: Path) -> dict:
    """What a package carries into a collection, in a form that compares equal across SQLite builds."""
    with zipfile.ZipFile(path) as zf, _collection(zf) as conn:
        notes = {guid: {"mid": mid, "mod": mod, "tags": tags.split(), "fields": flds.split("\x1f")} for guid, mid, mod, tags, flds in conn.execute(_NOTES_QUERY)}
        return {"notes": notes, **_collection_parts(conn), "order": _card_order(conn), "media": _media_digests(zf)}


def card_order(path: Path) -> str:
    """A digest of the package's cards in the order students meet them (`_card_order`)."""
    with zipfile.ZipFile(path) as zf, _collection(zf) as conn:
        return _card_order(conn)


def note_guids(path: Path) -> dict[int, str]:
    """Note id -> GUID of every note of the package."""
    with zipfile.ZipFile(path) as zf, _collection(zf) as conn:
        return dict(conn.execute("SELECT id, guid FROM notes"))


def package_summary(path: Path) -> dict:
    """`read_apkg` with each note as a short digest of its mid, mod, tags and fields: what two packages
    need for a comparison, small enough to hold for the largest deck."""
    with zipfile.ZipFile(path) as zf, _collection(zf) as conn:
        notes = {guid: _note_digest(mid, mod, tags, flds) for guid, mid, mod, tags, flds in conn.execute(_NOTES_QUERY)}
        return {"notes": notes, **_collection_parts(conn), "media": _media_digests(zf)}


def _note_digest(mid: int, mod: int, tags: str, flds: str) -> bytes:
    """Equal exactly when read_apkg's entries are equal (tags compared as split words)."""
    return hashlib.blake2b(json.dumps([mid, mod, tags.split(), flds]).encode(), digest_size=16).digest()


def differs(staged: Path, existing: Path) -> bool:
    """Compared byte for byte: the committed decks are what the pinned toolchain writes (the
    SQLite library's version is in the collection's header), so a package with the same content
    but other bytes is rewritten."""
    if not existing.exists():
        return True
    return not filecmp.cmp(staged, existing, shallow=False)  # streams both files; neither is read whole


def package_differences(spec: PackageSpec, path: Path) -> list[str]:
    """How the existing package at `path` differs from what `spec` would write."""
    if not path.exists():
        return ["it does not exist"]
    with tempfile.TemporaryDirectory(prefix="acudeck-") as work:
        expected_path = Path(work) / "expected.apkg"
        write_apkg(spec, expected_path)
        found = _content_differences(expected_path, path)
        if not found and not filecmp.cmp(expected_path, path, shallow=False):
            # Asked only here: the order costs a sort of every card, and the bytes say whether it can differ.
            if card_order(expected_path) != card_order(path):
                found = ["the order of new cards differs"]
            else:
                found = ["same content, but not the bytes a clean build writes (another SQLite or Python than the pinned toolchain's?)"]
        return found


def _content_differences(expected_path: Path, actual_path: Path) -> list[str]:
    """Compared through `package_summary`: a digest per note, so that neither package is held whole."""
    expected = package_summary(expected_path)
    try:
        actual = package_summary(actual_path)
    except Exception as exc:  # any unreadable file is simply a mismatch
        return [f"it cannot be read ({exc})"]
    return describe_differences(expected, actual)


def describe_differences(expected: dict, actual: dict) -> list[str]:
    """What differs between two `package_summary` (or `read_apkg`) results."""
    found = []
    exp_notes, act_notes = expected["notes"], actual["notes"]
    missing = sum(1 for guid in exp_notes if guid not in act_notes)
    extra = sum(1 for guid in act_notes if guid not in exp_notes)
    differ = sum(1 for guid, note in exp_notes.items() if guid in act_notes and act_notes[guid] != note)
    if missing:
        found.append(f"{missing} notes missing")
    if extra:
        found.append(f"{extra} notes that the sources do not have")
    if differ:
        found.append(f"{differ} notes with other fields, tags or mods")
    for part in ("models", "decks", "media", "cards"):
        if expected[part] != actual[part]:
            found.append({"models": "note types differ", "decks": "deck name or description differs", "media": "media differ", "cards": "card count differs"}[part])
    return found


def note_shapes(path: Path, guids: set[str]) -> dict[str, tuple[int, list[int]]]:
    """For each of `guids` in the package: its model id and the ords of its cards."""
    shapes: dict[str, tuple[int, list[int]]] = {}
    with zipfile.ZipFile(path) as zf, _collection(zf) as conn:
        for guid, mid, card_ord in conn.execute("SELECT n.guid, n.mid, c.ord FROM notes n JOIN cards c ON c.nid = n.id ORDER BY n.guid, c.ord"):
            if guid in guids:
                shapes.setdefault(guid, (mid, []))[1].append(card_ord)
    return shapes
