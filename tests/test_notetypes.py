"""Pins each note type's schema to its model id.

Changing fields or templates under a released model id makes Anki create "Name+" and mark every
existing student note as conflicting. If this test fails, do not edit PINNED to match: give the
note type a new model id in its module under acudeck/cardtypes/, and only then pin the new id here.
"""

from acudeck.cardtypes import NOTE_TYPES as SPECS
from acudeck.notetypes import genanki_model

PINNED = {
    1795201101: ("basic", ["Front", "Back", "Extra", "Source"], ["Front to back"]),
    1795201102: ("reversed", ["Front", "Back", "Extra", "Source"], ["Front to back", "Back to front"]),
    1795201103: ("cloze", ["Text", "Extra", "Source"], ["Cloze"]),
    1795201104: ("point", ["Point", "Muscle", "Extra", "Source"], ["Point to muscle", "Muscle to point"]),
    1795201105: ("compare", ["Aspect", "Item", "Value", "Table", "Extra", "Source"], ["Item to value", "Value to item"]),
    1795201106: ("picture", ["Prompt", "Label", "Marked", "Unmarked", "Extra", "Source"], ["What is marked here?", "Where is {{Label}}?"]),
}


def test_every_note_type_keeps_the_schema_pinned_to_its_model_id():
    current = {spec.model_id: (card_type, list(spec.fields), [t["name"] for t in spec.templates]) for card_type, spec in SPECS.items()}
    assert current == PINNED


def test_model_ids_are_unique_and_every_type_has_a_source_field():
    ids = [spec.model_id for spec in SPECS.values()]
    assert len(set(ids)) == len(ids)
    for spec in SPECS.values():
        assert "Source" in spec.fields


def test_templates_only_use_fields_the_note_type_has():
    import re

    for card_type, spec in SPECS.items():
        model = genanki_model(spec)
        for template in model.templates:
            used = set(re.findall(r"\{\{[#/^]?(?:cloze:)?([A-Za-z]+)\}\}", template["qfmt"] + template["afmt"]))
            assert used - {"FrontSide"} <= set(spec.fields), (card_type, used)


def test_css_styles_night_mode_and_small_screens():
    from acudeck.notetypes import CSS

    assert ".nightMode .card" in CSS and ".night_mode .card" in CSS
    assert "@media (max-width" in CSS
