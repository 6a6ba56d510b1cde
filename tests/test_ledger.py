"""The ledger file: its exact form, whatever characters note keys hold."""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import CARDS_YAML, DECK_YAML, run, write

from acudeck import ledger as ledger_module
from acudeck.cache import FileCache
from acudeck.errors import BuildError
from acudeck.ledger import MAX_MOD, Ledger, ledger_text, read_ledger

HOSTILE = 'ab"\\/\n\t\x00é“”😀 },:{'


def random_ledger(seed: int, size: int) -> Ledger:
    rng = random.Random(seed)
    keys = {"".join(rng.choice(HOSTILE) for _ in range(rng.randint(1, 12))) for _ in range(size)}
    hashes = {key: "".join(rng.choice("0123456789abcdef") for _ in range(20)) for key in keys}
    mods = {key: rng.randint(0, MAX_MOD) for key in keys}
    return Ledger(hashes, mods, {"1795201101": {"name": 'Basic "x"', "schema": "0123456789abcdef", "hash": "fedcba9876543210", "mod": 5}})


def test_each_note_is_one_line_of_json_in_key_order_and_the_file_reads_back_the_same(tmp_path):
    ledger = random_ledger(1, 2000)
    text = ledger.to_json('deck "k"')
    note_lines = text.splitlines()[4 : 4 + len(ledger.hashes)]
    entries = {key: {"hash": ledger.hashes[key], "mod": ledger.mods[key]} for key in ledger.hashes}
    expected = [f"  {json.dumps(key, ensure_ascii=False)}: {json.dumps(entry)}" for key, entry in sorted(entries.items())]
    assert note_lines == [line + "," for line in expected[:-1]] + expected[-1:]
    path = tmp_path / "d.lock.json"
    path.write_text(text, encoding="utf-8")
    assert read_ledger(path, "d.lock.json", deck='deck "k"') == ledger
    assert json.loads(text)["deck"] == 'deck "k"'


def test_an_empty_ledger_is_written_with_empty_mappings():
    assert Ledger().to_json("d") == '{\n "deck": "d",\n "format": 1,\n "notes": {},\n "notetypes": {}\n}\n'


@pytest.mark.parametrize(
    "notes",
    [
        {"a": {"hash": "h", "mod": "1700000000"}},
        {"a": {"hash": "h", "mod": 1.5}},
        {"a": {"hash": "h", "mod": True}},
        {"a": {"hash": 7, "mod": 1}},
        {"a": {"mod": 1}},
        {"a": ["h", 1]},
    ],
)
def test_a_ledger_with_a_malformed_note_entry_is_refused(tmp_path, notes):
    path = tmp_path / "d.lock.json"
    path.write_text(json.dumps({"deck": "d", "format": 1, "notes": notes, "notetypes": {}}))
    with pytest.raises(BuildError, match=r"^decks/d.lock.json: the ledger is unreadable \(.+\); restore it from git$"):
        read_ledger(path, "decks/d.lock.json", deck="d")


@pytest.mark.parametrize("changes", [1, 5, 40])
def test_a_few_changed_notes_are_written_as_a_patch_that_equals_the_full_text(changes, monkeypatch):
    old = random_ledger(changes, 2000)
    old.text, old.text_deck = old.to_json("d"), "d"
    rng = random.Random(changes)
    changed = rng.sample(sorted(old.hashes), changes)
    new = Ledger(dict(old.hashes), dict(old.mods), dict(old.notetypes))
    for key in changed:
        new.hashes[key] = "changed" + new.hashes[key]
        new.mods[key] += 1
    full = new.to_json("d")
    monkeypatch.setattr(Ledger, "to_json", lambda *args: pytest.fail("written in full"))
    patched = ledger_text(new, old, "d", changed)
    assert patched == full and patched != old.text


def test_the_patch_is_used_only_where_it_gives_the_full_text(monkeypatch):
    old = random_ledger(7, 500)
    old.text, old.text_deck = old.to_json("d"), "d"
    new = Ledger(dict(old.hashes), dict(old.mods), dict(old.notetypes))
    key = sorted(new.hashes)[3]
    new.mods[key] += 1
    calls = []
    real = Ledger.to_json
    monkeypatch.setattr(Ledger, "to_json", lambda self, deck: calls.append(deck) or real(self, deck))
    cases = [
        (old, "d", [key]),  # patched
        (replace(old, text=old.text.replace("\n  ", "\n    ")), "d", [key]),  # the old text is not what to_json writes
        (old, "other", [key]),  # another deck key
        (old, "d", sorted(new.hashes)[:100]),  # too many changes to be worth it
    ]
    for base, deck, changed in cases:
        assert ledger_text(new, base, deck, changed) == real(new, deck)
    assert calls == ["d", "other", "d"]  # every case but the first was written in full


def test_a_ledger_is_parsed_once_then_read_from_the_cache(tmp_path, monkeypatch):
    ledger = random_ledger(3, 300)
    path = tmp_path / "decks/d.lock.json"
    path.parent.mkdir()
    path.write_text(ledger.to_json("d"), encoding="utf-8")
    cache = FileCache(tmp_path)
    first = read_ledger(path, "decks/d.lock.json", cache, deck="d")
    assert first == ledger and first.text == path.read_text(encoding="utf-8") and first.text_deck == "d"
    monkeypatch.setattr(ledger_module, "_parse_ledger", lambda raw: pytest.fail("parsed again"))
    second = read_ledger(path, "decks/d.lock.json", FileCache(tmp_path), deck="d")
    assert second == ledger and second.text == first.text and second.text_deck == "d"


def test_a_damaged_cached_ledger_is_parsed_again_and_a_reformatted_one_is_not_patched(tmp_path):
    ledger = random_ledger(4, 300)
    path = tmp_path / "decks/d.lock.json"
    path.parent.mkdir()
    text = json.dumps({"deck": "d", "format": 1, "notes": {k: {"hash": ledger.hashes[k], "mod": ledger.mods[k]} for k in ledger.hashes}, "notetypes": ledger.notetypes}, indent=1)
    path.write_text(text, encoding="utf-8")
    read_ledger(path, "decks/d.lock.json", FileCache(tmp_path), deck="d")
    for entry in (tmp_path / ".acudeck-cache/files").iterdir():
        entry.write_bytes(entry.read_bytes()[:-3])
    again = read_ledger(path, "decks/d.lock.json", FileCache(tmp_path), deck="d")
    assert again == ledger and again.text == ""


# --- a tampered ledger: one line saying what is wrong, through the command line --------------------

LEDGER = "decks/sample.lock.json"


@pytest.fixture(scope="module")
def built_sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("built")
    write(root / "cards_src/sample/deck.yaml", DECK_YAML.format(key="sample"))
    write(root / "cards_src/sample/cards.yaml", CARDS_YAML)
    assert run(root).exit_code == 0
    return root


def _edited(data: dict, change) -> str:
    data = json.loads(json.dumps(data))
    change(data)
    return json.dumps(data)


def _note(data: dict) -> dict:
    return data["notes"]["q-basic"]


def _notetype(data: dict) -> dict:
    return next(iter(data["notetypes"].values()))


def _set(getter, key, value):
    return lambda data: getter(data).__setitem__(key, value)


def _delete(getter, key):
    return lambda data: getter(data).pop(key)


MOD_RANGE = f"is not a whole number from 0 to {MAX_MOD}"
NOTE_TYPE = "note type '1795201101'"
TAMPERED = [
    # (how the ledger's text is made from the good one's, what the message says)
    (lambda text, data: "not json", "it is not JSON: Expecting value at line 1 column 1"),
    (lambda text, data: '{\n "deck": "sample"', "it is not JSON: Expecting ',' delimiter at line 2 column 18"),
    (lambda text, data: b"\xff" + text.encode(), "it is not UTF-8 text"),
    (lambda text, data: "[" * 100_000 + "]" * 100_000, "it is nested too deeply"),
    (lambda text, data: '{"notes": ' * 50_000 + "{}" + "}" * 50_000, "it is nested too deeply"),
    (lambda text, data: "[]", "it is not a JSON object"),
    (lambda text, data: "null", "it is not a JSON object"),
    (lambda text, data: _edited(data, _delete(lambda d: d, "notes")), "key 'notes' is missing"),
    (lambda text, data: _edited(data, _delete(lambda d: d, "deck")), "key 'deck' is missing"),
    (lambda text, data: _edited(data, _set(lambda d: d, "extra", 1)), "key 'extra' is not a ledger's"),
    (lambda text, data: _edited(data, _set(lambda d: d, "format", 2)), "unknown ledger format 2"),
    (lambda text, data: _edited(data, _set(lambda d: d, "format", True)), "unknown ledger format true"),
    (lambda text, data: _edited(data, _set(lambda d: d, "format", "1")), 'unknown ledger format "1"'),
    (lambda text, data: _edited(data, _set(lambda d: d, "deck", 5)), "'deck' is not text"),
    (lambda text, data: _edited(data, _set(lambda d: d, "deck", "other")), "it is the ledger of deck 'other', not of 'sample'"),
    (lambda text, data: _edited(data, _set(lambda d: d, "deck", "x\n" * 50)), "it is the ledger of deck '" + "x\\n" * 19 + "...', not of 'sample'"),
    (lambda text, data: _edited(data, _set(lambda d: d, "notes", [])), "'notes' is not a mapping"),
    (lambda text, data: _edited(data, _set(lambda d: d["notes"], "q-basic", ["h", 1])), "note 'q-basic' is not a mapping"),
    (lambda text, data: _edited(data, _set(lambda d: d["notes"], "q-basic", None)), "note 'q-basic' is not a mapping"),
    (lambda text, data: _edited(data, _delete(_note, "mod")), "note 'q-basic' does not hold exactly the keys hash, mod"),
    (lambda text, data: _edited(data, _set(_note, "extra", 1)), "note 'q-basic' does not hold exactly the keys hash, mod"),
    (lambda text, data: _edited(data, lambda d: d["notes"].__setitem__("q-basic", {"hash": 1, "x": 2})), "note 'q-basic' does not hold exactly the keys hash, mod"),
    (lambda text, data: _edited(data, _set(_note, "hash", "0123456789abcdef012")), "note 'q-basic': 'hash' is not 20 lowercase hexadecimal digits"),
    (lambda text, data: _edited(data, _set(_note, "hash", "0123456789ABCDEF0123")), "note 'q-basic': 'hash' is not 20 lowercase hexadecimal digits"),
    (lambda text, data: _edited(data, _set(_note, "hash", "0123456789abcdef0123\n")), "note 'q-basic': 'hash' is not 20 lowercase hexadecimal digits"),
    (lambda text, data: _edited(data, _set(_note, "hash", 12345678901234567890)), "note 'q-basic': 'hash' is not 20 lowercase hexadecimal digits"),
    (lambda text, data: _edited(data, _set(_note, "hash", None)), "note 'q-basic': 'hash' is not 20 lowercase hexadecimal digits"),
    (lambda text, data: _edited(data, _set(_note, "mod", -1)), f"note 'q-basic': 'mod' -1 {MOD_RANGE}"),
    (lambda text, data: _edited(data, _set(_note, "mod", MAX_MOD + 1)), f"note 'q-basic': 'mod' {MAX_MOD + 1} {MOD_RANGE}"),
    (lambda text, data: _edited(data, _set(_note, "mod", 2**53 + 1)), f"note 'q-basic': 'mod' {2**53 + 1} {MOD_RANGE}"),
    (lambda text, data: _edited(data, _set(_note, "mod", True)), f"note 'q-basic': 'mod' true {MOD_RANGE}"),
    (lambda text, data: _edited(data, _set(_note, "mod", 1.5)), f"note 'q-basic': 'mod' 1.5 {MOD_RANGE}"),
    (lambda text, data: _edited(data, _set(_note, "mod", 1700000000.0)), f"note 'q-basic': 'mod' 1700000000.0 {MOD_RANGE}"),
    (lambda text, data: _edited(data, _set(_note, "mod", "1700000000")), f"note 'q-basic': 'mod' \"1700000000\" {MOD_RANGE}"),
    (lambda text, data: _edited(data, _set(_note, "mod", None)), f"note 'q-basic': 'mod' null {MOD_RANGE}"),
    (lambda text, data: re.sub(r'"mod": \d+', '"mod": 1e400', text, count=1), f"note 'q-basic': 'mod' Infinity {MOD_RANGE}"),
    (lambda text, data: re.sub(r'"mod": \d+', '"mod": NaN', text, count=1), f"note 'q-basic': 'mod' NaN {MOD_RANGE}"),
    (lambda text, data: re.sub(r'"mod": \d+', '"mod": ' + "1" * 5000, text, count=1), "number " + "1" * 57 + "... is too long"),
    (lambda text, data: text.replace('"notes": {', '"notes": {\n  "q-basic": {"hash": "0123456789abcdef0123", "mod": 1},', 1), "key 'q-basic' appears twice in one mapping"),
    (lambda text, data: text.replace('"hash": ', '"hash": "x", "hash": ', 1), "key 'hash' appears twice in one mapping"),
    (lambda text, data: text.replace('"format": 1,', '"format": 1,\n "format": 1,'), "key 'format' appears twice in one mapping"),
    (lambda text, data: _edited(data, _set(lambda d: d, "notetypes", [])), "'notetypes' is not a mapping"),
    (lambda text, data: _edited(data, lambda d: d["notetypes"].__setitem__("x", _notetype(d))), "note type 'x' is not named by a model id"),
    (lambda text, data: _edited(data, lambda d: d["notetypes"].__setitem__("1795201101", 5)), f"{NOTE_TYPE} is not a mapping"),
    (lambda text, data: _edited(data, _delete(_notetype, "name")), f"{NOTE_TYPE} does not hold exactly the keys hash, mod, name, schema, version"),
    (lambda text, data: _edited(data, _delete(_notetype, "schema")), f"{NOTE_TYPE} does not hold exactly the keys hash, mod, name, schema, version"),
    (lambda text, data: _edited(data, _delete(_notetype, "hash")), f"{NOTE_TYPE} does not hold exactly the keys hash, mod, name, schema, version"),
    (lambda text, data: _edited(data, _delete(_notetype, "mod")), f"{NOTE_TYPE} does not hold exactly the keys hash, mod, name, schema, version"),
    (lambda text, data: _edited(data, _set(_notetype, "version", 0)), f"{NOTE_TYPE}: 'version' is not a whole number from 1 to 10000"),
    (lambda text, data: _edited(data, _set(_notetype, "version", True)), f"{NOTE_TYPE}: 'version' is not a whole number from 1 to 10000"),
    (lambda text, data: _edited(data, _set(_notetype, "name", 5)), f"{NOTE_TYPE}: 'name' is not a short text"),
    (lambda text, data: _edited(data, _set(_notetype, "name", "n" * 201)), f"{NOTE_TYPE}: 'name' is not a short text"),
    (lambda text, data: _edited(data, _set(_notetype, "schema", ["a"])), f"{NOTE_TYPE}: 'schema' is not 16 lowercase hexadecimal digits"),
    (lambda text, data: _edited(data, _set(_notetype, "hash", "h")), f"{NOTE_TYPE}: 'hash' is not 16 lowercase hexadecimal digits"),
    (lambda text, data: _edited(data, _set(_notetype, "mod", "5")), f"{NOTE_TYPE}: 'mod' \"5\" {MOD_RANGE}"),
    (lambda text, data: _edited(data, _set(_notetype, "mod", -5)), f"{NOTE_TYPE}: 'mod' -5 {MOD_RANGE}"),
    (lambda text, data: _edited(data, _set(_notetype, "mod", False)), f"{NOTE_TYPE}: 'mod' false {MOD_RANGE}"),
]


def _state(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


def _assert_unreadable(root, what: str) -> None:
    before = _state(root / "decks")
    for command in ("build", "check"):
        result = run(root, command)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output + result.stderr
        assert result.stderr == f"Error: {LEDGER}: the ledger is unreadable ({what}); restore it from git\n", command
        assert result.exit_code == 1 and result.stdout == "", command
        assert _state(root / "decks") == before, command


@pytest.mark.parametrize(("tamper", "what"), TAMPERED, ids=[what for _, what in TAMPERED])
def test_a_tampered_ledger_is_one_line_that_says_what_is_wrong(built_sample, tmp_path, tamper, what):
    root = tmp_path / "p"
    shutil.copytree(built_sample, root)
    path = root / LEDGER
    text = path.read_text(encoding="utf-8")
    tampered = tamper(text, json.loads(text))
    path.write_bytes(tampered if isinstance(tampered, bytes) else tampered.encode("utf-8"))
    _assert_unreadable(root, what)


def test_a_ledger_over_the_size_cap_is_refused_before_it_is_read(built_sample, tmp_path, monkeypatch):
    root = tmp_path / "p"
    shutil.copytree(built_sample, root)
    with open(root / LEDGER, "r+b") as fh:
        fh.truncate(ledger_module.MAX_LEDGER_BYTES + 1)  # sparse: nothing is written, and nothing may be read
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the ledger was read") if self.name == "sample.lock.json" else real(self))
    _assert_unreadable(root, "it is larger than 64 MiB")


def test_another_decks_ledger_is_refused_also_when_its_parsed_form_is_cached(tmp_path):
    for key in ("sample", "other"):
        write(tmp_path / f"cards_src/{key}/deck.yaml", DECK_YAML.format(key=key))
        write(tmp_path / f"cards_src/{key}/cards.yaml", CARDS_YAML)
    assert run(tmp_path).exit_code == 0  # both ledgers parsed and cached
    shutil.copy(tmp_path / "decks/other.lock.json", tmp_path / LEDGER)
    _assert_unreadable(tmp_path, "it is the ledger of deck 'other', not of 'sample'")


def test_a_cached_ledger_that_fails_the_checks_is_a_miss(built_sample, tmp_path):
    root = tmp_path / "p"
    shutil.copytree(built_sample, root)
    path = root / LEDGER
    raw = path.read_bytes()
    cache = FileCache(root)
    good = read_ledger(path, LEDGER, cache, deck="sample")
    for mods in ({**good.mods, "q-basic": -1}, {**good.mods, "q-basic": True}, {"q-basic": 1}):
        ledger_module.remember_ledger(FileCache(root), Ledger(good.hashes, mods, good.notetypes), raw, "sample")
        assert read_ledger(path, LEDGER, FileCache(root), deck="sample") == good
    ledger_module.remember_ledger(FileCache(root), good, raw, "other")
    assert ledger_module._cached_ledger(FileCache(root), cache.named_key(f"ledger {hashlib.sha256(raw).hexdigest()}"), raw)[1] == "other"
    with pytest.raises(BuildError, match="the ledger of deck 'other', not of 'sample'"):
        read_ledger(path, LEDGER, FileCache(root), deck="sample")


def test_a_build_never_writes_a_mod_that_a_ledger_cannot_hold(project):
    assert run(project).exit_code == 0
    path = project / LEDGER
    data = json.loads(path.read_text())
    data["notes"]["q-basic"]["mod"] = MAX_MOD
    data["notes"]["q-basic"]["hash"] = "0" * 20  # so the note counts as changed, and its mod must move past MAX_MOD
    path.write_text(json.dumps(data))
    result = run(project, "build")
    assert result.exit_code == 1
    assert result.stderr == f"Error: a modification time would pass {MAX_MOD}, the largest a ledger holds; check the clock, or restore the ledger from git\n"
