"""Note types that evolve, with real Anki: stable field and template ids reach students, and a new
shape (a bumped version) reaches them through "Merge note types" and "Update notes: Always" with
every review kept, while the default options and merge alone leave the notes stale."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from anki.collection import ImportAnkiPackageRequest
from anki.import_export_pb2 import ImportAnkiPackageUpdateCondition
from ankitools import card_state, fresh_collection, import_apkg, study
from conftest import DECK_YAML, REPO, commit_all, write

from acudeck.cardtypes import NOTE_TYPES, REGISTRY

FIRST_EDITION = REPO / "tests/fixtures/needling-first-edition.apkg"


def test_the_first_edition_takes_the_ids_with_the_default_options(tmp_path):
    """Students who have the first edition (no ids) import the build with ids as they always do:
    nothing conflicts, no "Name+" note type appears, every review stays, and the ids arrive."""
    with fresh_collection(tmp_path) as col:
        import_apkg(col, FIRST_EDITION)
        study(col, "Acupuncture::Needling Techniques", 6)
        col.sched.set_due_date(list(col.find_cards("is:new"))[:3], "4")
        before, reviews = card_state(col), col.db.scalar("SELECT count() FROM revlog")
        log = import_apkg(col, REPO / "decks/needling.apkg")
        assert (len(log.conflicting), len(log.missing_notetype)) == (0, 0)
        assert not [entry.name for entry in col.models.all_names_and_ids() if entry.name.endswith("+")]
        assert col.db.scalar("SELECT count() FROM revlog") == reviews >= 6
        after = card_state(col)
        assert {cid: after[cid] for cid in before} == before
        for spec in NOTE_TYPES.values():
            model = col.models.get(spec.model_id)
            assert [(f["name"], f["id"]) for f in model["flds"]] == [tuple(field) for field in spec.fields]
            assert [(t["name"], t["id"]) for t in model["tmpls"]] == [(t["name"], t["id"]) for t in spec.templates]


# --------------------------------------------------------------------------- a v1 type becomes v2

LAB_MODEL_ID = 1795209999
HINT_ID = 1_234_567_890_123_456_789
LAB_CARDS = "cards:\n" + "".join(f"  - {{id: lab-{i}, type: lab, front: 'Lab question {i}?', back: 'Lab answer {i}.'}}\n" for i in range(6))
MERGE, ALWAYS = "Merge note types", "Update notes: Always"


class LabProject:
    """A copy of the package with a card type `lab` (basic.py copied), and a project of lab cards."""

    def __init__(self, tmp_path: Path):
        self.package = tmp_path / "lib" / "acudeck"
        shutil.copytree(REPO / "acudeck", self.package, ignore=shutil.ignore_patterns("__pycache__"))
        registry = self.package / "cardtypes" / "__init__.py"
        registry.write_text(registry.read_text("utf-8").replace('"compare"]', '"compare", "lab"]'), encoding="utf-8")
        self.v1 = self._v1_module()
        self.root = tmp_path / "project"
        write(self.root / "cards_src/sample/deck.yaml", DECK_YAML.format(key="sample"))
        write(self.root / "cards_src/sample/cards.yaml", LAB_CARDS)

    def _v1_module(self) -> str:
        basic, spec = (self.package / "cardtypes" / "basic.py").read_text("utf-8"), REGISTRY["basic"].NOTE_TYPE
        text = basic.replace('NAME = "basic"', 'NAME = "lab"').replace(str(spec.model_id), str(LAB_MODEL_ID)).replace('name="acudeck Basic"', 'name="acudeck Lab"')
        for old in [field.id for field in spec.fields] + [t["id"] for t in spec.templates]:
            text = text.replace(f"{old:_}", f"{old // 2:_}")  # ids of its own
        return text

    def v2_module(self, version: int = 2) -> str:
        back = f"{REGISTRY['basic'].NOTE_TYPE.fields[1].id // 2:_}"
        replacements = {
            "version=1,": f"version={version},",
            f'NoteField("Back", {back}),': f'NoteField("Answer", {back}),\n        NoteField("Hint", {HINT_ID:_}),',  # renamed, its id kept; one added
            '<div class="answer">{{Back}}</div>': '<div class="answer">{{Answer}}</div><div class="extra">{{Hint}}</div>',
            'own = (card.rendered("front"), card.rendered("back"))': 'own = (card.rendered("front"), card.rendered("back"), f"Hint for {card.id}")',
        }
        text = self.v1
        for old, new in replacements.items():
            assert old in text, old
            text = text.replace(old, new)
        return text

    def use(self, module: str) -> None:
        (self.package / "cardtypes" / "lab.py").write_text(module, encoding="utf-8")
        assert self.acudeck("schema").returncode == 0

    def acudeck(self, *args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": str(self.package.parent)}
        return subprocess.run([sys.executable, "-m", "acudeck", "-C", str(self.root), *args], capture_output=True, text=True, env=env, cwd=self.package.parent, timeout=120)


@contextlib.contextmanager
def studied(folder: Path, v1: Path):
    """A student's collection: v1 imported, four cards answered, two more made review cards."""
    with fresh_collection(folder) as col:
        import_apkg(col, v1)
        assert len(study(col, "Test::sample", 4)) == 4
        col.sched.set_due_date(list(col.find_cards("is:new"))[:2], "3")
        yield col


def import_with(col, path: Path, options: list[str]):
    request = col._backend.get_import_anki_package_presets()
    request.merge_notetypes = MERGE in options
    if ALWAYS in options:
        request.update_notes = ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_ALWAYS
    log = col.import_anki_package(ImportAnkiPackageRequest(package_path=str(path), options=request)).log
    col.models._clear_cache()
    return log


def lab_notes(col) -> dict[str, dict[str, str]]:
    """Front -> the note's fields by name."""
    notes = [col.get_note(nid) for nid in col.find_notes('"note:acudeck Lab*"')]
    return {note["Front"]: dict(note.items()) for note in notes}


def test_a_field_added_and_one_renamed_reach_students_through_a_version_bump(tmp_path):
    lab = LabProject(tmp_path)
    lab.use(lab.v1)
    assert lab.acudeck("build").returncode == 0
    commit_all(lab.root, "release 1")
    v1 = shutil.copy(lab.root / "decks/sample.apkg", tmp_path / "v1.apkg")

    lab.use(lab.v2_module(version=1))  # the new shape, the version not bumped
    refused = lab.acudeck("build")
    assert refused.returncode == 1 and "without a new version" in refused.stderr and "set version=2" in refused.stderr

    lab.use(lab.v2_module())
    built = lab.acudeck("build")
    assert built.returncode == 0, built.stderr
    assert "6 changed" in built.stdout  # the fields' text of five of them is unchanged: the shape moves every mod
    assert lab.acudeck("check", "--base", "main").returncode == 0
    report = lab.acudeck("release-check", "main", "--json")
    assert report.returncode == 0, report.stdout + report.stderr
    deck = json.loads(report.stdout)["decks"]["sample"]
    assert deck["options"] == [MERGE, ALWAYS]
    assert {k: deck[k] for k in ("updated", "conflicting", "not_updated", "reviews_lost")} == {"updated": 6, "conflicting": 0, "not_updated": 0, "reviews_lost": 0}
    assert deck["with_default_options"]["conflicting"] == 6
    text = lab.acudeck("release-check", "main").stdout
    assert "needs options: students must import with 'Merge note types' and 'Update notes: Always'" in text
    assert "with the default options: 0 updated, 6 conflicting" in text
    v2 = lab.root / "decks/sample.apkg"

    with studied(tmp_path / "right", v1) as col:  # the documented options
        before, reviews = card_state(col), col.db.scalar("SELECT count() FROM revlog")
        log = import_with(col, v2, [MERGE, ALWAYS])
        assert (len(log.updated), len(log.new), len(log.conflicting)) == (6, 0, 0)
        assert card_state(col) == before and col.db.scalar("SELECT count() FROM revlog") == reviews == 6  # four answers, two due dates set
        assert [entry.name for entry in col.models.all_names_and_ids() if "Lab" in entry.name] == ["acudeck Lab"]
        model = col.models.get(LAB_MODEL_ID)
        assert [(f["name"], f["id"] == HINT_ID) for f in model["flds"]] == [("Front", False), ("Answer", False), ("Extra", False), ("Source", False), ("Hint", True)]
        # (the merge appends the new field in the student's note type; the templates name fields, not places)
        notes = lab_notes(col)
        assert col.note_count() == len(notes) == 6
        for i in range(6):
            assert notes[f"Lab question {i}?"]["Answer"] == f"Lab answer {i}." and notes[f"Lab question {i}?"]["Hint"] == f"Hint for lab-{i}"

    with studied(tmp_path / "defaults", v1) as col:  # the default options: "acudeck Lab+", every note conflicting
        before = card_state(col)
        log = import_with(col, v2, [])
        assert (len(log.updated), len(log.conflicting)) == (0, 6)
        assert "acudeck Lab+" in [entry.name for entry in col.models.all_names_and_ids()]
        assert card_state(col) == before
        assert all("Hint" not in fields and fields["Back"] for fields in lab_notes(col).values())  # stale: still version 1

    with studied(tmp_path / "merge-only", v1) as col:  # the pitfall: merge stamps the notes with the import time
        before = card_state(col)
        log = import_with(col, v2, [MERGE])
        assert (len(log.updated), len(log.duplicate)) == (0, 6)
        assert card_state(col) == before
        notes = lab_notes(col)
        assert all(fields["Hint"] == "" for fields in notes.values())  # the new field stays blank...
        assert notes["Lab question 0?"]["Answer"] == "Lab answer 0."  # ...while the id carried the renamed field's text
