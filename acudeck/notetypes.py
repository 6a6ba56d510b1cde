"""The note types: one Anki model per card type, each with a fixed model id.

Changing a note type's fields or templates (names or count) under the same model id makes Anki
create "Name+" and stop updating every student's existing notes. `tests/test_notetypes.py` pins
them; change the model id on purpose when the schema has to change. CSS and template text can
change freely.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import genanki

CSS = """\
.card {
  font-family: -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif;
  font-size: 20px;
  line-height: 1.45;
  color: #1d1d1f;
  background-color: #ffffff;
  text-align: center;
  max-width: 40em;
  margin: 0 auto;
  padding: 0.8em;
  overflow-wrap: anywhere;
}
.prompt { font-size: 1.15em; }
.ask { margin-top: 0.6em; font-size: 0.8em; color: #6e6e73; }
.aspect { font-size: 0.8em; color: #6e6e73; margin-bottom: 0.4em; text-transform: uppercase; letter-spacing: 0.04em; }
.answer { font-size: 1.1em; }
.extra { margin-top: 1em; font-size: 0.85em; color: #3a3a3c; }
.source { margin-top: 1.2em; font-size: 0.7em; color: #6e6e73; }
.source cite { font-style: italic; }
.cloze { font-weight: bold; color: #0a58ca; }
img { max-width: 100%; height: auto; }
ul, ol { display: inline-block; text-align: left; margin: 0.3em 0; }
code { font-size: 0.9em; background: rgba(127, 127, 127, 0.15); padding: 0 0.2em; border-radius: 3px; }
.compare-wrap { overflow-x: auto; margin-top: 1em; }
table.compare { border-collapse: collapse; margin: 0 auto; font-size: 0.8em; text-align: left; }
table.compare th, table.compare td { border: 1px solid #c7c7cc; padding: 0.3em 0.6em; vertical-align: top; }
table.compare tr.current { background-color: #fff3bf; }
.nightMode .card, .night_mode .card, .card.nightMode, .card.night_mode { color: #e5e5ea; background-color: #1c1c1e; }
.nightMode .ask, .nightMode .aspect, .nightMode .source,
.night_mode .ask, .night_mode .aspect, .night_mode .source { color: #a1a1a6; }
.nightMode .extra, .night_mode .extra { color: #d1d1d6; }
.nightMode .cloze, .night_mode .cloze { color: #6ea8fe; }
.nightMode table.compare th, .nightMode table.compare td,
.night_mode table.compare th, .night_mode table.compare td { border-color: #48484a; }
.nightMode table.compare tr.current, .night_mode table.compare tr.current { background-color: #3d3a1f; }
@media (max-width: 480px) {
  .card { font-size: 18px; padding: 0.4em; }
  table.compare { font-size: 0.75em; }
}
"""

_BACK_FOOTER = '{{#Extra}}<div class="extra">{{Extra}}</div>{{/Extra}}{{#Source}}<div class="source">{{Source}}</div>{{/Source}}'


def _card(name: str, front: str, answer: str) -> dict:
    return {"name": name, "qfmt": front, "afmt": '{{FrontSide}}<hr id="answer">' + answer + _BACK_FOOTER}


@dataclass(frozen=True)
class NoteTypeSpec:
    card_type: str
    model_id: int
    name: str
    fields: tuple[str, ...]
    templates: tuple[dict, ...]
    cloze: bool = False


SPECS = {
    "basic": NoteTypeSpec(
        "basic",
        1795201101,
        "acudeck Basic",
        ("Front", "Back", "Extra", "Source"),
        (_card("Front to back", '<div class="prompt">{{Front}}</div>', '<div class="answer">{{Back}}</div>'),),
    ),
    "reversed": NoteTypeSpec(
        "reversed",
        1795201102,
        "acudeck Basic (and reversed)",
        ("Front", "Back", "Extra", "Source"),
        (
            _card("Front to back", '<div class="prompt">{{Front}}</div>', '<div class="answer">{{Back}}</div>'),
            _card("Back to front", '<div class="prompt">{{Back}}</div>', '<div class="answer">{{Front}}</div>'),
        ),
    ),
    "cloze": NoteTypeSpec(
        "cloze",
        1795201103,
        "acudeck Cloze",
        ("Text", "Extra", "Source"),
        (
            {
                "name": "Cloze",
                "qfmt": '<div class="prompt">{{cloze:Text}}</div>',
                "afmt": '<div class="prompt">{{cloze:Text}}</div>' + _BACK_FOOTER,
            },
        ),
        cloze=True,
    ),
    "point": NoteTypeSpec(
        "point",
        1795201104,
        "acudeck Point",
        ("Point", "Muscle", "Extra", "Source"),
        (
            _card(
                "Point to muscle",
                '<div class="prompt">{{Point}}</div><div class="ask">Which muscle?</div>',
                '<div class="answer">{{Muscle}}</div>',
            ),
            _card(
                "Muscle to point",
                '<div class="prompt">{{Muscle}}</div><div class="ask">Which point?</div>',
                '<div class="answer">{{Point}}</div>',
            ),
        ),
    ),
    "compare": NoteTypeSpec(
        "compare",
        1795201105,
        "acudeck Compare",
        ("Aspect", "Item", "Value", "Table", "Extra", "Source"),
        (
            _card(
                "Item to value",
                '<div class="aspect">{{Aspect}}</div><div class="prompt">{{Item}}</div>',
                '<div class="answer">{{Value}}</div><div class="compare-wrap">{{Table}}</div>',
            ),
            _card(
                "Value to item",
                '<div class="aspect">{{Aspect}}</div><div class="prompt">{{Value}}</div><div class="ask">Which one?</div>',
                '<div class="answer">{{Item}}</div><div class="compare-wrap">{{Table}}</div>',
            ),
        ),
    ),
}


class VersionedModel(genanki.Model):
    """A genanki model whose `mod` comes from the ledger instead of the build's clock."""

    mod: int = 0

    def to_json(self, timestamp, deck_id):
        data = super().to_json(timestamp, deck_id)
        data["mod"] = self.mod
        return data


def schema_fingerprint(spec: NoteTypeSpec) -> str:
    """What must not change under one model id: the field names and the template names, in order."""
    shape = {"fields": list(spec.fields), "templates": [t["name"] for t in spec.templates], "cloze": spec.cloze}
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]


def content_fingerprint(spec: NoteTypeSpec) -> str:
    """Everything a student's Anki keeps of the note type; a change here moves its mod."""
    shape = {"name": spec.name, "fields": list(spec.fields), "templates": list(spec.templates), "css": CSS}
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]


def genanki_model(card_type: str) -> VersionedModel:
    spec = SPECS[card_type]
    return VersionedModel(
        spec.model_id,
        spec.name,
        fields=[{"name": name} for name in spec.fields],
        templates=[dict(t) for t in spec.templates],
        css=CSS,
        model_type=genanki.Model.CLOZE if spec.cloze else genanki.Model.FRONT_BACK,
        sort_field_index=0,
    )


_CLOZE_FIELD_RE = re.compile(r"{{[^}]*?cloze:(?:[^}]?:)*(.+?)}}")
_CLOZE_RE = re.compile(r"{{c(\d+)::.+?}}", re.DOTALL)


@functools.cache
def card_ords(card_type: str) -> Callable[[tuple[str, ...]], tuple[int, ...]]:
    """For a note's fields, the ords of the cards genanki's `Note.cards` makes, in its order (the
    order decides the card ids)."""
    model = genanki_model(card_type)
    if model.model_type == genanki.Model.CLOZE:
        names = set(_CLOZE_FIELD_RE.findall(model.templates[0]["qfmt"]))
        indexes = [next((i for i, f in enumerate(model.fields) if f["name"] == name), -1) for name in names]

        def cloze_ords(fields: tuple[str, ...]) -> tuple[int, ...]:
            # The same set operations as genanki: a set of ints does not iterate in sorted order (c9 before c1, say).
            ords: set[int] = set()
            for index in indexes:
                ords.update(int(m) - 1 for m in _CLOZE_RE.findall(fields[index] if index >= 0 else "") if int(m) > 0)
            return tuple(ords)

        return cloze_ords
    req = [(card_ord, {"any": any, "all": all}[any_or_all], required) for card_ord, any_or_all, required in model._req]
    return lambda fields: tuple(card_ord for card_ord, op, required in req if op(fields[i] for i in required))
