"""The fast collection writer against genanki's own, and the lean package comparison against the full one."""

import itertools
import json
import sqlite3
import struct
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path

import genanki
import pytest

from acudeck import collection, deflate
from acudeck.archive import ZIP_LEVEL
from acudeck.cardtypes import NOTE_TYPES as SPECS
from acudeck.cardtypes import card_type as registered_type
from acudeck.collection import _models, deck_id, write_collection
from acudeck.contents import describe_differences, package_summary, read_apkg
from acudeck.deflate import ParallelCompressor
from acudeck.notes import NoteSource, make_note, note_guid
from acudeck.order import positions
from acudeck.package import PackageSpec, write_apkg
from acudeck.source import load_deck

REPO = Path(__file__).resolve().parent.parent


class VersionedNote(genanki.Note):
    def __init__(self, *args, mod: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.mod = mod

    def write_to_db(self, cursor, timestamp, deck_id, id_gen):
        super().write_to_db(cursor, self.mod, deck_id, id_gen)


def genanki_collection(spec: PackageSpec, db_path: Path) -> None:
    """What `_write_collection` did before it inserted the rows itself: one genanki note per note,
    then each card's new-card position (genanki writes 0 for all)."""
    models = _models(spec)
    deck = genanki.Deck(deck_id(spec.deck_key), spec.deck_name, description=spec.description)
    for note, mod in zip(spec.notes, spec.mods, strict=True):
        deck.add_note(VersionedNote(models[note.card_type], list(note.fields), tags=list(note.tags), guid=note.guid, mod=mod))
    conn = sqlite3.connect(db_path)
    try:
        genanki.Package(deck).write_to_db(conn.cursor(), spec.base_timestamp, itertools.count(spec.base_timestamp * 1000))
        card_ids = [cid for (cid,) in conn.execute("SELECT id FROM cards ORDER BY rowid")]
        conn.executemany("UPDATE cards SET due = ? WHERE id = ?", zip(positions(spec.card_families()), card_ids, strict=True))
        conn.commit()
    finally:
        conn.close()


def make_spec(notes: list[NoteSource], media: dict[str, Path] | None = None) -> PackageSpec:
    return PackageSpec(
        deck_name="Test::package",
        deck_key="package",
        description="A deck for the writer.",
        notes=notes,
        mods=[1_700_000_000 + 37 * i for i in range(len(notes))],
        notetype_mods={spec.model_id: 1_650_000_000 + i for i, spec in enumerate(SPECS.values())},
        base_timestamp=1_700_100_000,
        media=media or {},
    )


def note(key: str, card_type: str, *fields: str, tags: tuple[str, ...] = ("test",)) -> NoteSource:
    return make_note(key, note_guid("package", key), card_type, SPECS[card_type].model_id, fields, tags, registered_type(card_type).card_ords(fields))


# Cloze numbers out of order, past 9, repeated, c0, none at all; a reversed note with an empty back (one card);
# a numeric sort field (stored as an integer in `sfld`); no tags; fields with a stray '<'.
EDGE_NOTES = [
    note("basic", "basic", "Front <b>1</b>", "Back", "", ""),
    note("number", "basic", "42", "forty-two", "", "", tags=()),
    note("reversed", "reversed", "Front", "Back", "extra", "source"),
    note("reversed-empty-back", "reversed", "Front", "", "", ""),
    note("cloze-order", "cloze", "{{c9::nine}} then {{c1::one}} and {{c17::seventeen}}", "", ""),
    note("cloze-sorted", "cloze", "{{c1::one}} {{c2::two}} {{c3::three}} {{c2::again}}", "x", "y"),
    note("cloze-many", "cloze", " ".join(f"{{{{c{n}::w{n}}}}}" for n in (12, 3, 25, 8, 1, 16, 9, 30, 2)), "", ""),
    note("cloze-zero", "cloze", "{{c0::zero}} {{c2::two}}\nover\n{{c1::lines\nacross}}", "", ""),
    note("cloze-none", "cloze", "no deletions at all", "", ""),
    note("point", "point", "SI 11", "infraspinatus", "", "a < b", tags=("a", "b::c")),
    note("compare/x", "compare", "Aspect", "X", "value x", "<table></table>", "", ""),
    note("compare/y", "compare", "Aspect", "Y", "value y", "<table></table>", "", ""),
    note("picture/SI 9", "picture", "", "SI 9", '<img src="acudeck-0000000000000001.svg">', '<img src="acudeck-0000000000000000.svg">', "", ""),
]


def needling_notes() -> list[NoteSource]:
    return load_deck(REPO / "cards_src/needling", REPO).notes


def rows(db_path: Path) -> dict:
    conn = sqlite3.connect(db_path)
    try:
        tables = {table: conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall() for table in ("notes", "cards", "revlog", "graves")}
        conn.row_factory = sqlite3.Row
        col = [dict(row) for row in conn.execute("SELECT * FROM col")]
    finally:
        conn.close()
    for row in col:
        for part in ("conf", "models", "decks", "dconf", "tags"):
            row[part] = json.loads(row[part])
    tables["col"] = col
    tables["types"] = {table: [tuple(type(value) for value in row) for row in found] for table, found in tables.items() if table != "col"}
    return tables


@pytest.mark.parametrize("notes", [EDGE_NOTES, None], ids=["edge-cases", "needling"])
def test_the_collection_has_the_rows_genanki_writes(tmp_path, notes):
    spec = make_spec(notes if notes is not None else needling_notes())
    used = {note.card_type for note in spec.notes}
    assert used == set(SPECS) if notes is not None else used <= set(SPECS)  # the edge cases use every type
    genanki_collection(spec, tmp_path / "genanki.anki2")
    write_collection(spec, str(tmp_path / "fast.anki2"))
    expected, actual = rows(tmp_path / "genanki.anki2"), rows(tmp_path / "fast.anki2")
    for table in ("notes", "cards", "col", "revlog", "graves", "types"):
        assert actual[table] == expected[table], table
    assert len(actual["cards"]) > len(actual["notes"])


def test_genanki_orders_cloze_cards_as_a_set_does(tmp_path):
    """The edge cases do reach the unsorted order that the card ids depend on."""
    spec = make_spec(EDGE_NOTES)
    write_collection(spec, str(tmp_path / "fast.anki2"))
    conn = sqlite3.connect(tmp_path / "fast.anki2")
    ords = [row[0] for row in conn.execute("SELECT ord FROM cards WHERE nid = (SELECT id FROM notes WHERE guid = ?) ORDER BY id", (EDGE_NOTES[4].guid,))]
    conn.close()
    assert ords != sorted(ords)


def test_the_same_spec_gives_the_same_bytes(tmp_path):
    (tmp_path / "b.png").write_bytes(b"\x89PNG second" * 1000)
    (tmp_path / "a.svg").write_bytes(b"<svg/>")
    spec = make_spec(EDGE_NOTES, {"b.png": tmp_path / "b.png", "a.svg": tmp_path / "a.svg"})
    write_apkg(spec, tmp_path / "one.apkg")
    write_apkg(spec, tmp_path / "two.apkg")
    assert (tmp_path / "one.apkg").read_bytes() == (tmp_path / "two.apkg").read_bytes()
    content = read_apkg(tmp_path / "one.apkg")
    assert set(content["media"]) == {"a.svg", "b.png"}
    assert content["notes"][EDGE_NOTES[0].guid]["fields"] == list(EDGE_NOTES[0].fields)


def test_the_summary_finds_what_the_full_reading_finds(tmp_path):
    (tmp_path / "a.svg").write_bytes(b"<svg/>")
    spec = make_spec(EDGE_NOTES, {"a.svg": tmp_path / "a.svg"})
    changed = [
        note("basic", "basic", "Front <b>2</b>", *EDGE_NOTES[0].fields[1:]),
        note("number", "basic", *EDGE_NOTES[1].fields, tags=("other",)),
        *EDGE_NOTES[2:-1],
        note("new", "basic", "New", "Card", "", ""),
    ]
    other = make_spec(changed)
    other = replace(other, deck_name="Test::renamed", mods=[*other.mods[:2], 1, *other.mods[3:]], notetype_mods={**other.notetype_mods, SPECS["basic"].model_id: 1})
    write_apkg(spec, tmp_path / "expected.apkg")
    write_apkg(other, tmp_path / "actual.apkg")
    full = describe_differences(read_apkg(tmp_path / "expected.apkg"), read_apkg(tmp_path / "actual.apkg"))
    lean = describe_differences(package_summary(tmp_path / "expected.apkg"), package_summary(tmp_path / "actual.apkg"))
    assert lean == full
    assert full == [
        "1 notes missing",
        "1 notes that the sources do not have",
        "3 notes with other fields, tags or mods",
        "note types differ",
        "deck name or description differs",
        "media differ",
        "card count differs",
    ]
    assert describe_differences(package_summary(tmp_path / "expected.apkg"), package_summary(tmp_path / "expected.apkg")) == []


def test_the_collection_entry_is_deflated_in_parallel_blocks_and_reads_back(tmp_path, monkeypatch):
    monkeypatch.setattr(deflate, "BLOCK", 1 << 14)  # several blocks even for a small deck
    spec = make_spec(needling_notes())
    write_apkg(spec, tmp_path / "deck.apkg")
    write_collection(spec, str(tmp_path / "collection.anki2"))
    db = (tmp_path / "collection.anki2").read_bytes()
    assert len(db) > 4 * deflate.BLOCK
    compressor = ParallelCompressor(ZIP_LEVEL, 2)
    expected = compressor.compress(db) + compressor.flush()
    with zipfile.ZipFile(tmp_path / "deck.apkg") as zf:
        info = zf.getinfo("collection.anki2")
        assert zf.read("collection.anki2") == db  # zipfile checks the CRC as it reads
    raw = (tmp_path / "deck.apkg").read_bytes()
    name_length, extra_length = struct.unpack("<HH", raw[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_length + extra_length
    assert raw[start : start + info.compress_size] == expected


def test_media_entries_are_deflated_at_the_packages_level(tmp_path):
    """archive.zip_entry sets the level through ZipInfo's private `_compresslevel` (there is no public
    way before Python 3.13): this fails if zipfile stops reading it."""
    picture = tmp_path / "pic.svg"
    picture.write_bytes(b"<svg>" + b"<rect width='10' height='10'/>" * 2000 + b"</svg>")
    write_apkg(make_spec(needling_notes()[:3], media={"pic.svg": picture}), tmp_path / "deck.apkg")
    at_level = zlib.compressobj(ZIP_LEVEL, zlib.DEFLATED, -15)
    expected = at_level.compress(picture.read_bytes()) + at_level.flush()
    default = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    assert len(expected) != len(default.compress(picture.read_bytes()) + default.flush())  # the levels tell apart
    with zipfile.ZipFile(tmp_path / "deck.apkg") as zf:
        assert zf.getinfo("0").compress_size == len(expected)


def test_a_note_that_would_shift_anki_fields_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"^note bad: a field holds U\+001F, which separates fields in Anki$"):
        note("bad", "basic", "Front\x1fhalf", "Back", "", "")
    made = note("bad", "basic", "Front", "Back", "", "")
    for flds in [b"Front\x1fhalf\x1fBack\x1f\x1f", b"Front\x1fBack\x1f"]:
        spec = make_spec([*EDGE_NOTES, made._replace(flds=flds)])
        with pytest.raises(ValueError, match=r"^note bad: its fields do not make the 4 fields of its note type$"):
            write_collection(spec, str(tmp_path / f"{len(flds)}.anki2"))


def test_rows_inserted_fifty_to_a_statement_give_the_bytes_of_one_by_one(tmp_path, monkeypatch):
    notes = [note(f"{n.key}-{i}", n.card_type, *n.fields, tags=n.tags) for i in range(23) for n in EDGE_NOTES]  # 276 notes, 600 cards: full batches and a tail
    spec = make_spec(notes)
    write_collection(spec, str(tmp_path / "batched.anki2"))
    monkeypatch.setattr(collection, "_insert", lambda conn, table, values, rows: conn.executemany(f"INSERT INTO {table} VALUES {values}", rows))
    write_collection(spec, str(tmp_path / "one-by-one.anki2"))
    assert (tmp_path / "batched.anki2").read_bytes() == (tmp_path / "one-by-one.anki2").read_bytes()
    assert len(rows(tmp_path / "batched.anki2")["notes"]) == len(notes)
