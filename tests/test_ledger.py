"""The ledger file: its exact form, whatever characters note keys hold."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest

from acudeck import ledger as ledger_module
from acudeck.cache import FileCache
from acudeck.errors import BuildError
from acudeck.ledger import Ledger, ledger_text, read_ledger

HOSTILE = 'ab"\\/\n\t\x00é“”😀 },:{'


def random_ledger(seed: int, size: int) -> Ledger:
    rng = random.Random(seed)
    keys = {"".join(rng.choice(HOSTILE) for _ in range(rng.randint(1, 12))) for _ in range(size)}
    hashes = {key: "".join(rng.choice('0123456789abcdef"') for _ in range(8)) for key in keys}
    mods = {key: rng.randint(0, 2**40) for key in keys}
    return Ledger(hashes, mods, {"1795201101": {"name": 'Basic "x"', "schema": "s", "hash": "h", "mod": 5}})


def test_each_note_is_one_line_of_json_in_key_order_and_the_file_reads_back_the_same(tmp_path):
    ledger = random_ledger(1, 2000)
    text = ledger.to_json('deck "k"')
    note_lines = text.splitlines()[4 : 4 + len(ledger.hashes)]
    entries = {key: {"hash": ledger.hashes[key], "mod": ledger.mods[key]} for key in ledger.hashes}
    expected = [f"  {json.dumps(key, ensure_ascii=False)}: {json.dumps(entry)}" for key, entry in sorted(entries.items())]
    assert note_lines == [line + "," for line in expected[:-1]] + expected[-1:]
    path = tmp_path / "d.lock.json"
    path.write_text(text, encoding="utf-8")
    assert read_ledger(path, "d.lock.json") == ledger
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
        read_ledger(path, "decks/d.lock.json")


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
    first = read_ledger(path, "decks/d.lock.json", cache)
    assert first == ledger and first.text == path.read_text(encoding="utf-8") and first.text_deck == "d"
    monkeypatch.setattr(ledger_module, "_parse_ledger", lambda text: pytest.fail("parsed again"))
    second = read_ledger(path, "decks/d.lock.json", FileCache(tmp_path))
    assert second == ledger and second.text == first.text and second.text_deck == "d"


def test_a_damaged_cached_ledger_is_parsed_again_and_a_reformatted_one_is_not_patched(tmp_path):
    ledger = random_ledger(4, 300)
    path = tmp_path / "decks/d.lock.json"
    path.parent.mkdir()
    text = json.dumps({"deck": "d", "format": 1, "notes": {k: {"hash": ledger.hashes[k], "mod": ledger.mods[k]} for k in ledger.hashes}, "notetypes": ledger.notetypes}, indent=1)
    path.write_text(text, encoding="utf-8")
    read_ledger(path, "decks/d.lock.json", FileCache(tmp_path))
    for entry in (tmp_path / ".acudeck-cache/files").iterdir():
        entry.write_bytes(entry.read_bytes()[:-3])
    again = read_ledger(path, "decks/d.lock.json", FileCache(tmp_path))
    assert again == ledger and again.text == ""
