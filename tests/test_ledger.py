"""The ledger file: its exact form, whatever characters note keys hold."""

from __future__ import annotations

import json
import random

import pytest

from acudeck.errors import BuildError
from acudeck.ledger import Ledger, read_ledger

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
