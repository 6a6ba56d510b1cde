"""The ledger: per deck, each released note's content hash and modification time.

Anki updates a note on import only when the package's note mod is newer than the collection's.
The ledger moves a note's mod forward exactly when its content changes, so an update reaches
students and unchanged notes (and students' own edits to them) stay as they are. The same
sources and ledger always give the same package.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BuildError, Location, Problem
from .notes import NoteSource
from .notetypes import SPECS, content_fingerprint, schema_fingerprint

FORMAT = 1
_quote = json.encoder.encode_basestring  # a JSON string, non-ASCII kept as it is (ensure_ascii=False)


@dataclass
class Ledger:
    hashes: dict[str, str] = field(default_factory=dict)  # note key -> content hash
    mods: dict[str, int] = field(default_factory=dict)  # note key -> mod; the same keys
    notetypes: dict[str, dict] = field(default_factory=dict)  # model id -> {"name", "schema", "hash", "mod"}

    def to_json(self, deck_key: str) -> str:
        """Sorted keys, one line per note: a change shows in git as the lines of the notes it touched."""
        keys = sorted(self.hashes)
        # Mapped over C functions rather than formatted per note in Python: this is the largest
        # deck's whole ledger on every build that changes it.
        columns = zip(map(_quote, keys), map(_quote, map(self.hashes.__getitem__, keys)), map(self.mods.__getitem__, keys), strict=True)
        notes = list(map('%s: {"hash": %s, "mod": %d}'.__mod__, columns))
        notetypes = [f"{_quote(mid)}: {json.dumps(entry, sort_keys=True, ensure_ascii=False)}" for mid, entry in sorted(self.notetypes.items())]
        return f'{{\n "deck": {_quote(deck_key)},\n "format": {FORMAT},\n "notes": {_block(notes)},\n "notetypes": {_block(notetypes)}\n}}\n'

    def released_card_ids(self) -> set[str]:
        return {key.split("/", 1)[0] for key in self.hashes}


def _block(lines: list[str]) -> str:
    return "{\n  " + ",\n  ".join(lines) + "\n }" if lines else "{}"


def ledger_path(out_dir: Path, deck_key: str) -> Path:
    return out_dir / f"{deck_key}.lock.json"


def read_ledger(path: Path, display: str) -> Ledger:
    if not path.exists():
        return Ledger()
    try:
        data = json.loads(path.read_text("utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown ledger format {data.get('format')!r}")
        notes = data["notes"]
        hashes = {key: entry["hash"] for key, entry in notes.items()}
        mods = {key: entry["mod"] for key, entry in notes.items()}
        # Checked by type in bulk (bool is not int here): every later step trusts these.
        if not set(map(type, hashes.values())) <= {str} or not set(map(type, mods.values())) <= {int}:
            raise TypeError("a hash that is not text or a mod that is not a whole number")
        ledger = Ledger(hashes, mods, dict(data["notetypes"]))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BuildError(f"{display}: the ledger is unreadable ({exc}); restore it from git") from None
    return ledger


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


def stamp(old: Ledger, notes: list[NoteSource], now: int) -> Stamped:
    """Give every note a mod: the ledger's while its content is unchanged, else a newer one."""
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
        spec = SPECS[card_type]
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
    for card_id in sorted(old.released_card_ids() - card_ids - set(retired)):
        problems.append(
            Problem(
                where,
                f"card '{card_id}' was released ({ledger_display}) and is gone from the sources; restore it, or list it under 'retired:' in deck.yaml",
            )
        )
    return problems
