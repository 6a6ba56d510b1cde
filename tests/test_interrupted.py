"""A build interrupted while it renames its files into place is repaired by the next one."""

import os
import shutil

import pytest
from conftest import CARDS_YAML, DECK_YAML, run, write

from acudeck import cache, staging

COURSE = "key: week-1\nname: Week 1\nselect:\n  - deck: sample\n    types: [point]\n  - deck: other\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Two decks and a course drawing from both, built once."""
    root = tmp_path_factory.mktemp("built")
    for key in ("sample", "other"):
        write(root / f"cards_src/{key}/deck.yaml", DECK_YAML.format(key=key))
        write(root / f"cards_src/{key}/cards.yaml", CARDS_YAML)
    write(root / "courses/week-1.yaml", COURSE)
    assert run(root).exit_code == 0
    return root


def edited_copy(built, tmp_path):
    """A copy of the built project with a card of each deck edited: every file of decks/ is to change."""
    root = tmp_path / "project"
    shutil.copytree(built, root)
    for key in ("sample", "other"):
        cards = root / f"cards_src/{key}/cards.yaml"
        cards.write_text(cards.read_text().replace("infraspinatus", f"infraspinatus ({key})"))
    return root


class RenamesThenInterrupt:
    """`os` for acudeck.staging, whose os.replace only renames files in place (Staging.commit):
    `limit` renames go through, then Ctrl-C."""

    def __init__(self, limit: int):
        self.limit, self.done = limit, []

    def __getattr__(self, name):
        return getattr(os, name)

    def replace(self, src, dst):
        if len(self.done) == self.limit:
            raise KeyboardInterrupt
        os.replace(src, dst)
        self.done.append(os.path.basename(dst))


RENAMES = ["other.lock.json", "other.apkg", "sample.lock.json", "sample.apkg", "week-1.apkg"]


@pytest.mark.parametrize("limit", range(len(RENAMES)))
def test_a_build_interrupted_after_any_rename_is_repaired_by_the_next(built, tmp_path, monkeypatch, limit):
    root = edited_copy(built, tmp_path)
    interrupt = RenamesThenInterrupt(limit)
    with monkeypatch.context() as patch:
        patch.setattr(staging, "os", interrupt)
        interrupted = run(root, "build")
    assert interrupted.exit_code == 1 and "Aborted!" in interrupted.stderr
    assert interrupt.done == RENAMES[:limit]
    assert not [p.name for p in (root / "decks").iterdir() if p.name.endswith(".tmp")]
    assert run(root, "check").exit_code == 1  # half-renamed or not renamed: never a passing check
    sources = cache.source_digest(root)
    assert cache.lookup(root, "build", cache.fingerprint(root, "build", sources)) is None, "no report is kept for a build that did not finish"
    repair = run(root, "build")
    assert repair.exit_code == 0, repair.stderr
    assert "written" in repair.stdout  # built again, not replayed as unchanged
    assert run(root, "check").exit_code == 0
    assert run(root, "check", "--no-cache").exit_code == 0
    assert not [p.name for p in root.rglob("*.tmp")]


def test_the_interruption_test_covers_every_rename_of_the_build(built, tmp_path, monkeypatch):
    root = edited_copy(built, tmp_path)
    every = RenamesThenInterrupt(len(RENAMES) + 1)
    monkeypatch.setattr(staging, "os", every)
    assert run(root, "build").exit_code == 0
    assert every.done == RENAMES
