"""An .apkg file: what it holds, written with reproducible bytes and never half-written."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .archive import zip_entry, zip_file
from .collection import write_collection
from .errors import ReadError, os_reason
from .notes import NoteSource
from .staging import Staging, writing


@dataclass
class PackageSpec:
    """Everything one .apkg holds."""

    deck_name: str
    deck_key: str
    description: str
    notes: list[NoteSource]
    mods: list[int]  # each note's mod, in the order of `notes`
    notetype_mods: dict[int, int]
    base_timestamp: int
    media: dict[str, Path] = field(default_factory=dict)


def stage_apkg(spec: PackageSpec, staging: Staging, out: Path) -> Path:
    """Write the package for `out` into the staging area; return the staged file."""
    with writing(out), tempfile.TemporaryDirectory(prefix="acudeck-") as work:
        db_path = os.path.join(work, "collection.anki2")
        write_collection(spec, db_path)
        with staging.open(out) as raw, zipfile.ZipFile(raw, "w") as zf:
            zip_file(zf, "collection.anki2", db_path, parallel=True)
            names = sorted(spec.media)
            zf.writestr(zip_entry("media"), json.dumps({str(i): name for i, name in enumerate(names)}))
            for i, name in enumerate(names):
                try:
                    zip_file(zf, str(i), spec.media[name])
                except OSError as exc:
                    raise ReadError(spec.media[name], os_reason(exc)) from None
    return staging.staged(out)


def write_apkg(spec: PackageSpec, out: Path) -> None:
    """Write one package to `out` atomically."""
    with Staging() as staging:
        stage_apkg(spec, staging, out)
        staging.commit()
