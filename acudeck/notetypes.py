"""Note types: what every card type's Anki model shares (its CSS, the genanki model, fingerprints).

Each card type module under `cardtypes/` declares its note type with a fixed model id. Changing a
note type's fields or templates (names or count) under the same model id makes Anki create "Name+"
and stop updating every student's existing notes. `tests/test_notetypes.py` pins them; change the
model id on purpose when the schema has to change. CSS and template text can change freely.
"""

from __future__ import annotations

import hashlib
import json
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


@dataclass(frozen=True)
class NoteTypeSpec:
    """An Anki note type (model), declared by its card type module."""

    model_id: int
    name: str
    fields: tuple[str, ...]
    templates: tuple[dict[str, str], ...]
    cloze: bool = False


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


def genanki_model(spec: NoteTypeSpec) -> VersionedModel:
    return VersionedModel(
        spec.model_id,
        spec.name,
        fields=[{"name": name} for name in spec.fields],
        templates=[dict(t) for t in spec.templates],
        css=CSS,
        model_type=genanki.Model.CLOZE if spec.cloze else genanki.Model.FRONT_BACK,
        sort_field_index=0,
    )
