"""The ledger: per deck, each released note's content hash and modification time.

Anki updates a note on import only when the package's note mod is newer than the collection's.
The ledger moves a note's mod forward exactly when its content changes, so an update reaches
students and unchanged notes (and students' own edits to them) stay as they are. The same
sources and ledger always give the same package.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BuildError, Location, Problem
from .notetypes import NoteTypeSpec, content_fingerprint, schema_fingerprint
from .safefs import read_source

if TYPE_CHECKING:
    from .cache import FileCache
    from .notes import NoteSource

FORMAT = 1
_quote = json.encoder.encode_basestring  # a JSON string, non-ASCII kept as it is (ensure_ascii=False)
_NOTE_LINE = '%s: {"hash": %s, "mod": %d}'


@dataclass
class Ledger:
    hashes: dict[str, str] = field(default_factory=dict)  # note key -> content hash
    mods: dict[str, int] = field(default_factory=dict)  # note key -> mod; the same keys
    notetypes: dict[str, dict] = field(default_factory=dict)  # model id -> {"name", "schema", "hash", "mod"}
    # The file's text and deck key, when the text is exactly what `to_json` writes: a few changed
    # notes are then written as a patch of it (see `ledger_text`).
    text: str = field(default="", compare=False, repr=False)
    text_deck: str = field(default="", compare=False, repr=False)

    def to_json(self, deck_key: str) -> str:
        """Sorted keys, one line per note: a change shows in git as the lines of the notes it touched."""
        keys = sorted(self.hashes)
        # Mapped over C functions rather than formatted per note in Python: this is the largest
        # deck's whole ledger on every build that changes it.
        columns = zip(map(_quote, keys), map(_quote, map(self.hashes.__getitem__, keys)), map(self.mods.__getitem__, keys), strict=True)
        notes = list(map(_NOTE_LINE.__mod__, columns))
        notetypes = [f"{_quote(mid)}: {json.dumps(entry, sort_keys=True, ensure_ascii=False)}" for mid, entry in sorted(self.notetypes.items())]
        return f'{{\n "deck": {_quote(deck_key)},\n "format": {FORMAT},\n "notes": {_block(notes)},\n "notetypes": {_block(notetypes)}\n}}\n'


def _block(lines: list[str]) -> str:
    return "{\n  " + ",\n  ".join(lines) + "\n }" if lines else "{}"


def ledger_path(out_dir: Path, deck_key: str) -> Path:
    return out_dir / f"{deck_key}.lock.json"


def read_ledger(path: Path, display: str, cache: FileCache | None = None) -> Ledger:
    """The ledger at `path` (empty when there is none). With `cache`, its parsed form is kept there
    under the text's digest, so an unchanged ledger is not parsed again."""
    if not os.path.lexists(path):
        return Ledger()
    raw = read_source(path, display, None)  # never through a link, never blocking (see safefs.py)
    try:
        key = cache.named_key(f"ledger {hashlib.sha256(raw).hexdigest()}") if cache else ""
        ledger = _cached_ledger(cache, key, raw) if cache else None
        if ledger is None:
            ledger = _parse_ledger(raw.decode("utf-8"))
            if cache:
                remember_ledger(cache, ledger, raw)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BuildError(f"{display}: the ledger is unreadable ({exc}); restore it from git") from None
    return ledger


def _parse_ledger(text: str) -> Ledger:
    data = json.loads(text)
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown ledger format {data.get('format')!r}")
    notes = data["notes"]
    hashes = {key: entry["hash"] for key, entry in notes.items()}
    mods = {key: entry["mod"] for key, entry in notes.items()}
    notetypes = dict(data["notetypes"])
    _check_types(hashes, mods, notetypes)
    ledger = Ledger(hashes, mods, notetypes)
    deck = data.get("deck")
    if isinstance(deck, str) and ledger.to_json(deck) == text:
        ledger.text, ledger.text_deck = text, deck
    return ledger


def _check_types(hashes: dict, mods: dict, notetypes: dict) -> None:
    # Checked by type in bulk (bool is not int here): every later step trusts these.
    if not set(map(type, hashes.values())) <= {str} or not set(map(type, mods.values())) <= {int}:
        raise TypeError("a hash that is not text or a mod that is not a whole number")
    if not all(isinstance(mid, str) and isinstance(entry, dict) for mid, entry in notetypes.items()):
        raise TypeError("a note type entry that is not a mapping")


def remember_ledger(cache: FileCache, ledger: Ledger, raw: bytes) -> None:
    """Keep the parsed form of the ledger file whose bytes are `raw`."""
    key = cache.named_key(f"ledger {hashlib.sha256(raw).hexdigest()}")
    cache.put(key, marshal.dumps((ledger.hashes, ledger.mods, ledger.notetypes, ledger.text_deck if ledger.text else None)))


def _cached_ledger(cache: FileCache, key: str, raw: bytes) -> Ledger | None:
    payload = cache.read(key)
    if payload is None:
        return None
    try:
        hashes, mods, notetypes, text_deck = marshal.loads(payload)
        _check_types(hashes, mods, notetypes)
    except Exception:  # a damaged entry of any kind is a miss
        return None
    ledger = Ledger(hashes, mods, notetypes)
    if text_deck is not None:
        ledger.text, ledger.text_deck = raw.decode("utf-8"), text_deck
    return ledger


def ledger_text(new: Ledger, old: Ledger, deck_key: str, changed: list[str]) -> str:
    """`new.to_json(deck_key)`, written as a patch of the old file's text when only a few notes
    changed: the same text, without formatting every note of a large deck again."""
    if old.text and old.text_deck == deck_key and new.notetypes == old.notetypes and len(changed) * 8 < len(new.hashes) and new.hashes.keys() == old.hashes.keys():
        patched = _patched(old, new, sorted(changed))
        if patched is not None:
            return patched
    return new.to_json(deck_key)


def _patched(old: Ledger, new: Ledger, keys: list[str]) -> str | None:
    """Old and new hold the same keys; `keys` (sorted) are those whose line changed. Keys are sorted
    in the file too, so each line is found after the previous one."""
    text, pieces, pos = old.text, [], 0
    for key in keys:
        old_line = "\n  " + _NOTE_LINE % (_quote(key), _quote(old.hashes[key]), old.mods[key])
        at = text.find(old_line, pos)
        if at < 0 or text[at + len(old_line)] not in ",\n":
            return None
        pieces += [text[pos:at], "\n  " + _NOTE_LINE % (_quote(key), _quote(new.hashes[key]), new.mods[key])]
        pos = at + len(old_line)
    pieces.append(text[pos:])
    return "".join(pieces)


@dataclass
class Stamped:
    ledger: Ledger
    mods: dict[str, int]  # note key -> mod
    notetype_mods: dict[int, int]  # model id -> mod
    added: list[str]
    changed: list[str]
    removed: list[str]

    @property
    def base_timestamp(self) -> int:
        """Seeds the package's note and card ids: derived from the ledger, so builds repeat."""
        return max([*self.mods.values(), *self.notetype_mods.values(), 0])


def note_digest(model_id: int, fields: tuple[str, ...], tags: tuple[str, ...]) -> str:
    """A note's content hash: everything it carries into a collection besides its mod. A note
    whose digest differs from its ledger entry has changed, and gets a newer mod."""
    parts = (str(model_id), *fields, " ".join(tags), "")
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:20]


def stamp(old: Ledger, notes: list[NoteSource], now: int, note_types: Mapping[str, NoteTypeSpec]) -> Stamped:
    """Give every note a mod: the ledger's while its content is unchanged, else a newer one.
    `note_types`: each card type's note type (cardtypes.NOTE_TYPES)."""
    keys = [note.key for note in notes]
    hashes = dict(zip(keys, [note.digest for note in notes], strict=True))
    # Set operations on the whole ledger instead of a loop over every note: a rebuild usually changes a few.
    different = {key for key, _ in hashes.items() - old.hashes.items()}
    removed = sorted(old.hashes.keys() - hashes.keys())
    mods = dict(old.mods)
    for key in removed:
        del mods[key]
    added, changed = [], []
    for key in filter(different.__contains__, keys):  # in the notes' order, which is the sources'
        if key in old.hashes:
            changed.append(key)
            mods[key] = max(now, old.mods[key] + 1)
        else:
            added.append(key)
            mods[key] = now
    new = Ledger(hashes, mods)
    for card_type in sorted({note.card_type for note in notes}):
        spec = note_types[card_type]
        mid = str(spec.model_id)
        digest, schema = content_fingerprint(spec), schema_fingerprint(spec)
        entry = old.notetypes.get(mid)
        if entry and entry["schema"] != schema:
            raise BuildError(
                f"note type '{spec.name}' (model id {mid}) changed its fields or templates since the last build; "
                "Anki would stop updating every student's notes of this type: give it a new model id"
            )
        if entry and entry["hash"] == digest:
            new.notetypes[mid] = dict(entry)
        else:
            mod = max(now, int(entry["mod"]) + 1) if entry else now
            new.notetypes[mid] = {"name": spec.name, "schema": schema, "hash": digest, "mod": mod}
    notetype_mods = {int(mid): entry["mod"] for mid, entry in new.notetypes.items()}
    return Stamped(new, mods, notetype_mods, added, changed, removed)


def missing_released_cards(old: Ledger, card_ids: set[str], retired: dict[str, Location], where: Location, ledger_display: str) -> list[Problem]:
    """Released cards that vanished without being retired: their students' progress would be orphaned."""
    problems = []
    # Most note keys are card ids still in use: only the rest (and compare items' keys) are split.
    released = {key.split("/", 1)[0] for key in old.hashes.keys() - card_ids}
    for card_id in sorted(released - card_ids - set(retired)):
        problems.append(
            Problem(
                where,
                f"card '{card_id}' was released ({ledger_display}) and is gone from the sources; restore it, or list it under 'retired:' in deck.yaml",
            )
        )
    return problems
