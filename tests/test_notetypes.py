"""Pins each note type's shape (field and template names and ids, in order) and version to its model id.

Students' Anki holds these note types. Under the default import options a new shape under a released
model id makes Anki create "Name+" and mark every existing student note as conflicting, so a change
of shape is a deliberate step (CONTRIBUTING.md, "Changing a note type's fields"): bump `version` in
the card type's NoteTypeSpec, keep the id of every field and template that stays (a renamed one keeps
its id), give a new one a new id, and only then pin the new shape and version here. Never give an id
to a different field: Anki would move that field's content into it.
"""

import json
import sqlite3
import zipfile

from conftest import run

from acudeck.cardtypes import NOTE_TYPES as SPECS
from acudeck.notetypes import MAX_ID, genanki_model

PINNED = {
    1795201101: (
        "basic",
        1,
        [("Front", 7_776_447_101_509_277_323), ("Back", 4_658_505_899_944_294_949), ("Extra", 5_782_183_360_507_942_731), ("Source", 5_083_738_497_588_833_306)],
        [("Front to back", 5_155_282_384_312_088_989)],
    ),
    1795201102: (
        "reversed",
        1,
        [("Front", 8_793_170_888_822_956_110), ("Back", 8_107_254_032_133_735_535), ("Extra", 6_849_823_783_877_103_814), ("Source", 6_074_415_462_975_982_098)],
        [("Front to back", 6_652_954_957_527_155_299), ("Back to front", 7_004_282_477_749_012_899)],
    ),
    1795201103: (
        "cloze",
        1,
        [("Text", 9_087_138_572_258_256_525), ("Extra", 5_941_350_856_515_377_990), ("Source", 8_409_169_798_407_890_316)],
        [("Cloze", 7_441_574_103_814_877_503)],
    ),
    1795201104: (
        "point",
        1,
        [("Point", 5_994_008_485_598_946_286), ("Muscle", 8_772_332_321_094_745_844), ("Extra", 6_887_376_659_079_841_524), ("Source", 8_205_936_912_217_769_000)],
        [("Point to muscle", 8_457_214_123_684_163_165), ("Muscle to point", 7_700_236_379_720_376_193)],
    ),
    1795201106: (
        "picture",
        1,
        [
            ("Prompt", 7_481_403_337_573_129_024),
            ("Label", 6_899_464_091_511_597_592),
            ("Marked", 8_756_839_148_001_250_616),
            ("Unmarked", 8_339_111_806_619_440_556),
            ("Extra", 7_756_492_549_563_587_611),
            ("Source", 5_262_456_597_840_360_416),
        ],
        [("What is marked here?", 6_906_043_768_078_823_889), ("Where is {{Label}}?", 8_633_274_383_376_627_368)],
    ),
    1795201105: (
        "compare",
        1,
        [
            ("Aspect", 5_718_072_604_377_069_364),
            ("Item", 6_636_935_973_475_370_278),
            ("Value", 4_833_951_502_917_071_010),
            ("Table", 6_900_514_321_604_396_990),
            ("Extra", 5_197_780_229_313_260_742),
            ("Source", 5_020_680_634_478_718_242),
        ],
        [("Item to value", 6_696_501_534_852_844_488), ("Value to item", 5_810_226_034_696_408_249)],
    ),
}


def shapes():
    return {spec.model_id: (card_type, spec.version, [tuple(field) for field in spec.fields], [(t["name"], t["id"]) for t in spec.templates]) for card_type, spec in SPECS.items()}


def test_every_note_type_keeps_the_shape_and_version_pinned_to_its_model_id():
    assert shapes() == PINNED


def test_field_and_template_ids_are_positive_63_bit_numbers_used_once():
    ids = [field.id for spec in SPECS.values() for field in spec.fields] + [t["id"] for spec in SPECS.values() for t in spec.templates]
    assert all(type(i) is int and 0 < i <= MAX_ID for i in ids)
    assert len(set(ids)) == len(ids)


def test_the_package_carries_every_field_and_template_id(project):
    assert run(project).exit_code == 0
    with zipfile.ZipFile(project / "decks/sample.apkg") as zf:
        (project / "collection.anki2").write_bytes(zf.read("collection.anki2"))
    conn = sqlite3.connect(project / "collection.anki2")
    models = json.loads(conn.execute("SELECT models FROM col").fetchone()[0])
    conn.close()
    assert len(models) == 3  # basic, point, cloze
    for mid, model in models.items():
        _, _, fields, templates = PINNED[int(mid)]
        assert [(f["name"], f["id"]) for f in model["flds"]] == fields
        assert [(t["name"], t["id"]) for t in model["tmpls"]] == templates


def test_model_ids_are_unique_and_every_type_has_a_source_field():
    ids = [spec.model_id for spec in SPECS.values()]
    assert len(set(ids)) == len(ids)
    for spec in SPECS.values():
        assert "Source" in spec.field_names


def test_templates_only_use_fields_the_note_type_has():
    import re

    for card_type, spec in SPECS.items():
        model = genanki_model(spec)
        for template in model.templates:
            used = set(re.findall(r"\{\{[#/^]?(?:cloze:)?([A-Za-z]+)\}\}", template["qfmt"] + template["afmt"]))
            assert used - {"FrontSide"} <= set(spec.field_names), (card_type, used)


def test_css_styles_night_mode_and_small_screens():
    from acudeck.notetypes import CSS

    assert ".nightMode .card" in CSS and ".night_mode .card" in CSS
    assert "@media (max-width" in CSS
