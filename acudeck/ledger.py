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
import operator
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BuildError, Location, Problem, SourceError
from .notetypes import NoteTypeSpec, content_fingerprint, same_shape, schema_fingerprint
from .safefs import FileTooLarge, read_limited, read_problem

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
    notetypes: dict[str, dict] = field(default_factory=dict)  # model id -> {"name", "schema", "hash", "mod", "version"}
    # note key -> {"type": card type, "ords": [card ords]}: what a retired note's tombstone is made of
    # (tombstone.py), kept from the build that retired it, since its card is gone from the sources.
    retired: dict[str, dict] = field(default_factory=dict)
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
        retired = [f"{_quote(key)}: {json.dumps(entry, sort_keys=True, ensure_ascii=False)}" for key, entry in sorted(self.retired.items())]
        tail = f',\n "retired": {_block(retired)}' if retired else ""  # absent until a note is retired: older ledgers stay byte for byte
        return f'{{\n "deck": {_quote(deck_key)},\n "format": {FORMAT},\n "notes": {_block(notes)},\n "notetypes": {_block(notetypes)}{tail}\n}}\n'


def _block(lines: list[str]) -> str:
    return "{\n  " + ",\n  ".join(lines) + "\n }" if lines else "{}"


def ledger_path(out_dir: Path, deck_key: str) -> Path:
    return out_dir / f"{deck_key}.lock.json"


def read_ledger(path: Path, display: str, cache: FileCache | None = None, *, deck: str) -> Ledger:
    """The ledger of deck `deck` at `path` (empty when there is none). With `cache`, its parsed form
    is kept there under the text's digest, so an unchanged ledger is not parsed again."""
    if not os.path.lexists(path):
        return Ledger()
    try:
        try:
            raw = read_limited(path, MAX_LEDGER_BYTES)  # never through a link, never blocking (see safefs.py)
        except FileTooLarge:
            raise Unreadable(f"it is larger than {MAX_LEDGER_BYTES // 2**20} MiB") from None
        except OSError as exc:
            raise SourceError([read_problem(exc, path, display, None)]) from None
        key = cache.named_key(f"ledger {hashlib.sha256(raw).hexdigest()}") if cache else ""
        found = _cached_ledger(cache, key, raw) if cache else None
        if found is None:
            found = _parse_ledger(raw)
            if cache:
                remember_ledger(cache, found[0], raw, found[1])
        ledger, ledger_deck = found
        if ledger_deck != deck:
            raise Unreadable(f"it is the ledger of deck '{_shown(ledger_deck)}', not of '{deck}'")
    except Unreadable as exc:
        raise BuildError(f"{display}: the ledger is unreadable ({exc}); restore it from git") from None
    return ledger


# --------------------------------------------------------------------------- what a ledger may hold
#
# Everything later steps trust is checked here: a ledger comes with the sources, so a pull request
# can change it as it likes. A mod is Unix seconds (to the year 2106); note and card ids count from
# the newest mod times 1,000, which keeps them below 2**53, where JSON and JavaScript lose whole numbers.

MAX_LEDGER_BYTES = 64 * 1024 * 1024  # a ledger takes about 70 bytes a note: 64 MiB is some 900,000 notes
MAX_MOD = 2**32 - 1
_TOP_KEYS = ("deck", "format", "notes", "notetypes")
_OPTIONAL_KEYS = ("retired",)
_RETIRED_KEYS = frozenset({"type", "ords"})
_CARD_TYPE = re.compile(r"[a-z][a-z0-9_]{0,40}")
MAX_ORDS = 500  # more cards than any note makes (a cloze's numbers are capped far below)
_NOTE_KEYS = frozenset({"hash", "mod"})
_NOTETYPE_KEYS = frozenset({"name", "schema", "hash", "mod", "version"})
_LEGACY_NOTETYPE_KEYS = _NOTETYPE_KEYS - {"version"}  # written before note types had versions: version 1
MAX_VERSION = 10_000
_NOTE_HASH = re.compile(r"[0-9a-f]{20}")  # make_note's digest
_NOTETYPE_HASH = re.compile(r"[0-9a-f]{16}")  # content_fingerprint's and schema_fingerprint's
_HASH_DIGITS = {_NOTE_HASH: 20, _NOTETYPE_HASH: 16}
_NOT_HEX = str.maketrans("", "", "0123456789abcdef")  # deletes hexadecimal digits
_MODEL_ID = re.compile(r"[0-9]{1,18}")


class Unreadable(ValueError):
    """What is wrong with a ledger, in a few words."""


def _parse_ledger(raw: bytes) -> tuple[Ledger, str]:
    """The ledger in `raw` and the deck it names; raise Unreadable saying what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable("it is not UTF-8 text") from None
    data = _json(text)
    if type(data) is not dict:
        raise Unreadable("it is not a JSON object")
    for name in _TOP_KEYS:
        if name not in data:
            raise Unreadable(f"key '{name}' is missing")
    for name in data:
        if name not in _TOP_KEYS + _OPTIONAL_KEYS:
            raise Unreadable(f"key '{_shown(name)}' is not a ledger's")
    if type(data["format"]) is not int or data["format"] != FORMAT:
        raise Unreadable(f"unknown ledger format {_shown(json.dumps(data['format']))}")
    deck = data["deck"]
    if type(deck) is not str:
        raise Unreadable("'deck' is not text")
    hashes, mods = _note_columns(data["notes"])
    notetypes = data["notetypes"]
    _check_notetypes(notetypes)
    retired = data.get("retired", {})
    _check_retired(retired, hashes)
    ledger = Ledger(hashes, mods, notetypes, retired)
    if ledger.to_json(deck) == text:
        ledger.text, ledger.text_deck = text, deck
    else:  # not as acudeck writes it: it may repeat a key, which JSON readers resolve each their own way
        _json(text, object_pairs_hook=_mapping)
    return ledger, deck


def _json(text: str, **hooks) -> object:
    try:
        return json.loads(text, parse_int=_whole_number, **hooks)
    except json.JSONDecodeError as exc:
        raise Unreadable(f"it is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise Unreadable("it is nested too deeply") from None


def _mapping(pairs: list[tuple[str, object]]) -> dict:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise Unreadable(f"key '{_shown(key)}' appears twice in one mapping")
            seen.add(key)
    return found


def _whole_number(digits: str) -> int:
    if len(digits) > 20:  # longer than any mod; Python refuses to read over 4,300 digits
        raise Unreadable(f"number {_shown(digits)} is too long")
    return int(digits)


def _note_columns(notes: object) -> tuple[dict[str, str], dict[str, int]]:
    """The hash and mod of each note. Checked column by column, with maps over C functions (this is
    every note of the deck); only a ledger that fails is gone through note by note, to say where."""
    if type(notes) is not dict:
        raise Unreadable("'notes' is not a mapping")
    entries = list(notes.values())
    if set(map(type, entries)) <= {dict} and set(map(len, entries)) <= {2}:
        try:  # two keys each, and no KeyError: the keys are exactly hash and mod
            hashes = dict(zip(notes, map(operator.itemgetter("hash"), entries), strict=True))
            mods = dict(zip(notes, map(operator.itemgetter("mod"), entries), strict=True))
        except KeyError:
            hashes = mods = {None: None}  # fails the check below
        if _valid_columns(hashes, mods):
            return hashes, mods
    for key, entry in notes.items():
        _check_entry(f"note '{_shown(key)}'", entry, _NOTE_KEYS, _NOTE_HASH)
    raise AssertionError("a note failed the bulk check but none failed alone")  # pragma: no cover


def _valid_columns(hashes: dict, mods: dict) -> bool:
    return (
        hashes.keys() == mods.keys()
        and set(map(type, hashes.values())) <= {str}
        and set(map(len, hashes.values())) <= {20}
        and not "".join(hashes.values()).translate(_NOT_HEX)  # what _NOTE_HASH matches, a few times faster
        and set(map(type, mods.values())) <= {int}  # bool is not int here
        and (not mods or (min(mods.values()) >= 0 and max(mods.values()) <= MAX_MOD))
    )


def _check_notetypes(notetypes: object) -> None:
    if type(notetypes) is not dict:
        raise Unreadable("'notetypes' is not a mapping")
    for mid, entry in notetypes.items():
        what = f"note type '{_shown(mid)}'"
        if not _MODEL_ID.fullmatch(mid):
            raise Unreadable(f"{what} is not named by a model id")
        _check_entry(what, entry, _NOTETYPE_KEYS if type(entry) is dict and "version" in entry else _LEGACY_NOTETYPE_KEYS, _NOTETYPE_HASH)
        if type(entry.get("version", 1)) is not int or not 1 <= entry.get("version", 1) <= MAX_VERSION:
            raise Unreadable(f"{what}: 'version' is not a whole number from 1 to {MAX_VERSION}")
        if type(entry["name"]) is not str or len(entry["name"]) > 200:
            raise Unreadable(f"{what}: 'name' is not a short text")
        if type(entry["schema"]) is not str or not _NOTETYPE_HASH.fullmatch(entry["schema"]):
            raise Unreadable(f"{what}: 'schema' is not 16 lowercase hexadecimal digits")


def _check_retired(retired: object, hashes: dict[str, str]) -> None:
    if type(retired) is not dict:
        raise Unreadable("'retired' is not a mapping")
    for key, entry in retired.items():
        what = f"retired note '{_shown(key)}'"
        if key not in hashes:
            raise Unreadable(f"{what} is not in 'notes'")
        if type(entry) is not dict or entry.keys() != _RETIRED_KEYS:
            raise Unreadable(f"{what} does not hold exactly the keys ords, type")
        if type(entry["type"]) is not str or not _CARD_TYPE.fullmatch(entry["type"]):
            raise Unreadable(f"{what}: 'type' is not a card type's name")
        ords = entry["ords"]
        if type(ords) is not list or not ords or len(ords) > MAX_ORDS or any(type(o) is not int or not 0 <= o < MAX_ORDS for o in ords) or len(set(ords)) != len(ords):
            raise Unreadable(f"{what}: 'ords' is not a list of distinct card numbers")


def _check_entry(what: str, entry: object, keys: frozenset[str], hash_form: re.Pattern) -> None:
    if type(entry) is not dict:
        raise Unreadable(f"{what} is not a mapping")
    if entry.keys() != keys:
        raise Unreadable(f"{what} does not hold exactly the keys {', '.join(sorted(keys))}")
    if type(entry["hash"]) is not str or not hash_form.fullmatch(entry["hash"]):
        raise Unreadable(f"{what}: 'hash' is not {_HASH_DIGITS[hash_form]} lowercase hexadecimal digits")
    mod = entry["mod"]
    if type(mod) is not int or not 0 <= mod <= MAX_MOD:
        raise Unreadable(f"{what}: 'mod' {_shown(json.dumps(mod))} is not a whole number from 0 to {MAX_MOD}")


def _shown(text: str) -> str:
    text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= 60 else text[:57] + "..."


def remember_ledger(cache: FileCache, ledger: Ledger, raw: bytes, deck: str) -> None:
    """Keep the parsed form of the ledger file whose bytes are `raw`, which names deck `deck`."""
    key = cache.named_key(f"ledger {hashlib.sha256(raw).hexdigest()}")
    cache.put(key, marshal.dumps((ledger.hashes, ledger.mods, ledger.notetypes, ledger.retired, deck, bool(ledger.text))))


def _cached_ledger(cache: FileCache, key: str, raw: bytes) -> tuple[Ledger, str] | None:
    """The parsed form kept by `remember_ledger`, checked like a parsed file: anything else is a miss."""
    payload = cache.read(key)
    if payload is None:
        return None
    try:
        hashes, mods, notetypes, retired, deck, canonical = marshal.loads(payload)
        _check_notetypes(notetypes)
        if type(deck) is not str or not _valid_columns(hashes, mods):
            return None
        _check_retired(retired, hashes)
    except Exception:  # a damaged entry of any kind is a miss
        return None
    ledger = Ledger(hashes, mods, notetypes, retired)
    if canonical:
        ledger.text, ledger.text_deck = raw.decode("utf-8"), deck
    return ledger, deck


def ledger_text(new: Ledger, old: Ledger, deck_key: str, changed: list[str]) -> str:
    """`new.to_json(deck_key)`, written as a patch of the old file's text when only a few notes
    changed: the same text, without formatting every note of a large deck again."""
    if (
        old.text
        and old.text_deck == deck_key
        and new.notetypes == old.notetypes
        and new.retired == old.retired
        and len(changed) * 8 < len(new.hashes)
        and new.hashes.keys() == old.hashes.keys()
    ):
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


def stamp(old: Ledger, notes: list[NoteSource], now: int, note_types: Mapping[str, NoteTypeSpec], retired: dict[str, dict] | None = None) -> Stamped:
    """Give every note a mod: the ledger's while its content is unchanged, else a newer one.
    `note_types`: each card type's note type (cardtypes.NOTE_TYPES); `retired`: what the tombstones
    among `notes` are made of, for the new ledger."""
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
    new = Ledger(hashes, mods, retired=dict(retired or {}))
    for card_type in sorted({note.card_type for note in notes}):
        spec = note_types[card_type]
        mid = str(spec.model_id)
        entry = old.notetypes.get(mid)
        new.notetypes[mid] = _notetype_entry(spec, entry, now)
        if entry and not same_shape(spec, entry["schema"]):
            # Each note of the type has a new shape in Anki, its fields' text changed or not: its mod
            # moves like any changed note's, so diff and check --base see it. (Anki's merge also stamps
            # every note it reshapes with the import time, older than no build: hence "Update notes:
            # Always", release.py.)
            for key in (note.key for note in notes if note.card_type == card_type and note.key in old.mods and note.key not in different):
                changed.append(key)
                mods[key] = max(now, old.mods[key] + 1)
    notetype_mods = {int(mid): entry["mod"] for mid, entry in new.notetypes.items()}
    if max([now, *map(mods.__getitem__, changed), *notetype_mods.values()]) > MAX_MOD:
        raise BuildError(f"a modification time would pass {MAX_MOD}, the largest a ledger holds; check the clock, or restore the ledger from git")
    return Stamped(new, mods, notetype_mods, added, changed, removed)


def notetype_version(entry: Mapping) -> int:
    return int(entry.get("version", 1))


def _notetype_entry(spec: NoteTypeSpec, entry: dict | None, now: int) -> dict:
    """The ledger entry of a note type: the old one while nothing changed, else one with a newer mod.
    A new shape is accepted only with a bumped version (notetypes.py)."""
    digest, schema = content_fingerprint(spec), schema_fingerprint(spec)
    fresh = {"name": spec.name, "schema": schema, "hash": digest, "mod": now, "version": spec.version}
    if entry is None:
        return fresh
    what = f"note type '{spec.name}' (model id {spec.model_id})"
    before = notetype_version(entry)
    if spec.version < before:
        raise BuildError(f"{what} has version {spec.version}, older than the ledger's {before}; restore version = {before} in its card type module")
    reshaped = not same_shape(spec, entry["schema"])
    if reshaped and spec.version == before:
        raise BuildError(
            f"{what} changed its fields or templates (names, count or ids) since the last build without a new version; under the default import "
            f"options Anki would stop updating every student's notes of this type. Undo the change, or set version={before + 1} in its NoteTypeSpec "
            "(keep the id of a renamed field or template; students then import with 'Merge note types': see CONTRIBUTING.md)"
        )
    if not reshaped and spec.version > before:
        raise BuildError(f"{what} has version {spec.version} but the same fields and templates as version {before}; keep version = {before}")
    if entry["hash"] == digest and "version" in entry:
        return dict(entry)
    return {**fresh, "mod": max(now, int(entry["mod"]) + 1)}


def missing_released_cards(old: Ledger, card_ids: set[str], note_keys: set[str], retired: Mapping[str, Location], where: Location, ledger_display: str) -> list[Problem]:
    """Released cards (and compare items) that vanished without being retired: their students'
    progress would be orphaned, and a renamed item would give them a second note."""
    problems = []
    # Most note keys are still in use: only the rest are looked at.
    gone = old.hashes.keys() - note_keys
    released = {key.split("/", 1)[0] for key in gone}
    for card_id in sorted(released - card_ids - set(retired)):
        problems.append(
            Problem(
                where,
                f"card '{card_id}' was released ({ledger_display}) and is gone from the sources; restore it, or list it under 'retired:' in deck.yaml",
            )
        )
    for key in sorted(gone):
        card_id, _, item = key.partition("/")
        if item and card_id in card_ids and card_id not in retired and key not in retired:
            problems.append(Problem(where, f"item '{_shown(item)}' of card '{card_id}' was released ({ledger_display}) and is gone from the sources; {_retire_item(key)}"))
    return problems


def _retire_item(key: str) -> str:
    return f"restore it, or list '{_shown(key)}' under 'retired:' in deck.yaml (a renamed item is a new note: retire the old name)"


def retired_in_use(note_keys: set[str], retired: Mapping[str, Location]) -> list[Problem]:
    """A compare item listed under `retired:` while the card still has it."""
    return [
        Problem(where, f"item '{_shown(key.partition('/')[2])}' of card '{key.partition('/')[0]}' is retired and can never be used again")
        for key, where in retired.items()
        if "/" in key and key in note_keys
    ]


# --------------------------------------------------------------------------- history since a release
#
# `check --base BASE` holds the build to what BASE released: what students have. A pull request can
# rewrite the ledger as it likes, so the rules below read the released ledger, not the current one.

FUTURE_SLACK = 24 * 3600  # a mod this far past the clock would hold back every later edit


@dataclass
class Released:
    """A deck as a base revision released it: its ledger and the type of each card."""

    ledger: Ledger
    card_types: dict[str, str]  # card id -> card type
    shapes: dict[str, dict] = field(default_factory=dict)  # note key -> {"type", "ords"}, as a tombstone records it


def history_problems(
    base: Released, base_rev: str, stamped: Stamped, card_types: Mapping[str, str], deck: DeckHistory, now: int, note_types: Mapping[str, NoteTypeSpec]
) -> list[Problem]:
    """What would not reach students who imported `base_rev`, or would break their notes.
    `note_types`: each card type's note type (cardtypes.NOTE_TYPES)."""
    new, old = stamped.ledger, base.ledger
    problems: list[Problem] = []
    changed_type = {card_id for card_id, card_type in card_types.items() if base.card_types.get(card_id, card_type) != card_type}
    for card_id in sorted(changed_type):
        problems.append(
            Problem(
                deck.locations[card_id],
                f"card '{card_id}' was a {base.card_types[card_id]} card in {base_rev} and is now {card_types[card_id]}; "
                f"Anki would mark its notes conflicting and stop updating them: restore its type, or list '{card_id}' under 'retired:' "
                "in deck.yaml and add the new card under a new id",
            )
        )
    for key in sorted(new.hashes.keys() & old.hashes.keys()):
        card_id = key.split("/", 1)[0]
        if card_id in changed_type:
            continue
        mod, released = stamped.mods[key], old.mods[key]
        if mod < released:
            problems.append(Problem(deck.locations[card_id], f"note '{key}': its mod {mod} is older than {base_rev}'s {released}; {_restore(base_rev, deck)}"))
        elif new.hashes[key] != old.hashes[key] and mod == released:
            problems.append(
                Problem(
                    deck.locations[card_id],
                    f"note '{key}' changed since {base_rev} but its mod {mod} is not newer, so students' Anki would not update it; {_restore(base_rev, deck)}",
                )
            )
    for key in sorted(new.hashes.keys()):
        if stamped.mods[key] > now + FUTURE_SLACK:
            problems.append(Problem(deck.locations[key.split("/", 1)[0]], f"note '{key}': its mod {stamped.mods[key]} lies in the future; {_restore(base_rev, deck)}"))
    for key in sorted(old.hashes.keys() - new.hashes.keys()):
        card_id, _, item = key.partition("/")
        if card_id in deck.retired or key in deck.retired or card_id in changed_type:
            continue
        if item:
            problems.append(Problem(deck.where, f"item '{_shown(item)}' of card '{card_id}' was released in {base_rev} and is gone from the sources; {_retire_item(key)}"))
        else:
            problems.append(Problem(deck.where, f"card '{card_id}' was released in {base_rev} and is gone from the sources; restore it, or list it under 'retired:' in deck.yaml"))
    for key in sorted(new.retired.keys() & base.shapes.keys()):
        if new.retired[key] != base.shapes[key]:
            problems.append(
                Problem(deck.locations[key.split("/", 1)[0]], f"retired note '{key}' is recorded with other cards than {base_rev} released; {_restore(base_rev, deck)}")
            )
    reshaped = _notetype_history(old, new, base_rev, deck, note_types, problems)
    for key in sorted(new.hashes.keys() & old.hashes.keys()):
        card_id = key.split("/", 1)[0]
        if card_types.get(card_id) in reshaped and card_id not in changed_type and new.hashes[key] == old.hashes[key] and stamped.mods[key] == old.mods[key]:
            problems.append(
                Problem(
                    deck.locations[card_id],
                    f"note '{key}': its note type has a new shape since {base_rev} but its mod {stamped.mods[key]} is not newer; {_restore(base_rev, deck)}",
                )
            )
    return problems


@dataclass
class DeckHistory:
    """Where a deck's history problems are told: its cards, its deck.yaml, its ledger."""

    locations: Mapping[str, Location]  # card id -> the card
    retired: Mapping[str, Location]
    where: Location  # deck.yaml
    ledger_display: str


def _restore(base_rev: str, deck: DeckHistory) -> str:
    return f"restore its line in {deck.ledger_display} from {base_rev} and run 'python build.py'"


def _notetype_history(old: Ledger, new: Ledger, base_rev: str, deck: DeckHistory, note_types: Mapping[str, NoteTypeSpec], problems: list[Problem]) -> set[str]:
    """Append the note type problems to `problems`; return the card types whose shape changed since
    `base_rev` with a bumped version (their students need "Merge note types")."""
    where = Location(deck.ledger_display)
    specs = {str(spec.model_id): (card_type, spec) for card_type, spec in note_types.items()}
    reshaped = set()
    for mid in sorted(old.notetypes.keys() & new.notetypes.keys()):
        before, after = old.notetypes[mid], new.notetypes[mid]
        what = f"note type '{_shown(after['name'])}' (model id {mid})"
        card_type, spec = specs.get(mid, ("", None))
        same = same_shape(spec, before["schema"]) if spec else before["schema"] == after["schema"]
        if not same and notetype_version(after) <= notetype_version(before):
            problems.append(
                Problem(
                    where,
                    f"{what} changed its fields or templates since {base_rev} without a new version; Anki would stop updating every student's notes of this type: "
                    f"restore them, or bump the version to {notetype_version(before) + 1} (see CONTRIBUTING.md)",
                )
            )
        elif not same:
            reshaped.add(card_type)
        if notetype_version(after) < notetype_version(before):
            problems.append(Problem(where, f"{what}: its version {notetype_version(after)} is older than {base_rev}'s {notetype_version(before)}; {_restore(base_rev, deck)}"))
        if after["mod"] < before["mod"]:
            problems.append(Problem(where, f"{what}: its mod {after['mod']} is older than {base_rev}'s {before['mod']}; {_restore(base_rev, deck)}"))
        elif (before["hash"] != after["hash"] or not same) and after["mod"] == before["mod"]:
            problems.append(Problem(where, f"{what} changed since {base_rev} but its mod {after['mod']} is not newer; {_restore(base_rev, deck)}"))
    return reshaped
