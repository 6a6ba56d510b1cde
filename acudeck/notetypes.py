"""Note types: what every card type's Anki model shares (its CSS, the genanki model, fingerprints).

Each card type module under `cardtypes/` declares its note type: a fixed model id, a schema
`version`, and every field and template with a stable `id` (a positive 63-bit number, written once
and never reused). Anki matches fields and templates by these ids when it merges note types, so a
field keeps its content through a rename.

Changing the shape of a released note type (field or template names, count, or ids) is a deliberate
step: bump `version` in the NoteTypeSpec, keep the ids of what stays (a renamed field keeps its id),
give anything new a new id. The ledger then moves the note type's mod and the mod of every note of
that type, and `release-check` states the import options students need ("Merge note types", and
"Update notes: Always" where Anki needs it to fill the notes in). Without the bump, build and check
refuse the change: under the default import options Anki would make "Name+" and mark every student's
note of the type conflicting. `tests/test_notetypes.py` pins every shape with its version.
CSS and template text can change freely (the note type's mod moves, Anki updates it in place).
CONTRIBUTING.md walks through a schema change; README tells students what to do.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import NamedTuple, TypedDict

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
  overflow-wrap: break-word;
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
.aspect .options { display: none; }
.by-value { display: flex; flex-direction: column; }
.by-value .aspect { display: contents; }
.by-value .prompt { margin-top: 0.4em; }
.by-value .aspect .options { display: block; order: 1; margin-top: 0.75em; font-size: 1em; text-transform: none; letter-spacing: normal; }
.compare-wrap { overflow-x: auto; margin-top: 1em; }
table.compare { border-collapse: collapse; margin: 0 auto; font-size: 0.8em; text-align: left; overflow-wrap: normal; }
table.compare th, table.compare td { border: 1px solid #c7c7cc; padding: 0.3em 0.6em; vertical-align: top; }
table.compare th { hyphens: manual; }
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


MAX_ID = 2**63 - 1  # Anki's field and template ids are signed 64-bit numbers


class NoteField(NamedTuple):
    name: str
    id: int  # stable across renames; never reused for another field


class TemplateSpec(TypedDict):
    name: str
    qfmt: str
    afmt: str
    id: int  # stable across renames; never reused for another template


# What the CSS above hides unless an ancestor has a class: {hidden class: the class that shows it}.
# Text read out of a rendered card (the release notes) leaves out what a student does not see.
SHOWN_ONLY_WITHIN = {"options": "by-value"}


@dataclass(frozen=True)
class NoteTypeSpec:
    """An Anki note type (model), declared by its card type module."""

    model_id: int
    name: str
    fields: tuple[NoteField, ...]
    templates: tuple[TemplateSpec, ...]
    cloze: bool = False
    version: int = 1  # bumped on purpose when the shape (fields, templates, their ids) changes

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields)

    @property
    def template_names(self) -> tuple[str, ...]:
        return tuple(t["name"] for t in self.templates)


class VersionedModel(genanki.Model):
    """A genanki model whose `mod` comes from the ledger instead of the build's clock."""

    mod: int = 0

    def to_json(self, timestamp, deck_id):
        data = super().to_json(timestamp, deck_id)
        data["mod"] = self.mod
        return data


def schema_fingerprint(spec: NoteTypeSpec) -> str:
    """What Anki compares to decide whether a note type changed shape: field and template names and
    ids, in order. A change here needs a bumped `version` (and students' "Merge note types")."""
    shape = {
        "fields": [list(field) for field in spec.fields],
        "templates": [[t["name"], t["id"]] for t in spec.templates],
        "cloze": spec.cloze,
    }
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]


def legacy_schema_fingerprint(spec: NoteTypeSpec) -> str:
    """The schema fingerprint of ledgers written before note types had ids: names only. A ledger
    entry that matches it holds the same shape; adding the ids is no change of shape to Anki (it
    matches fields by name when one side has no ids), and the ids reach students with the note
    type's newer mod under the default import options."""
    shape = {"fields": list(spec.field_names), "templates": list(spec.template_names), "cloze": spec.cloze}
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]


def same_shape(spec: NoteTypeSpec, recorded_schema: str) -> bool:
    """Whether a ledger's recorded schema fingerprint is this note type's shape."""
    return recorded_schema in (schema_fingerprint(spec), legacy_schema_fingerprint(spec))


def content_fingerprint(spec: NoteTypeSpec) -> str:
    """Everything a student's Anki keeps of the note type; a change here moves its mod."""
    shape = {"name": spec.name, "fields": [list(field) for field in spec.fields], "templates": list(spec.templates), "css": CSS}
    return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]


def genanki_model(spec: NoteTypeSpec) -> VersionedModel:
    return VersionedModel(
        spec.model_id,
        spec.name,
        fields=[{"name": field.name, "id": field.id} for field in spec.fields],
        templates=[dict(t) for t in spec.templates],
        css=CSS,
        model_type=genanki.Model.CLOZE if spec.cloze else genanki.Model.FRONT_BACK,
        sort_field_index=0,
    )
