import os
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from acudeck.__main__ import cli

REPO = Path(__file__).resolve().parent.parent

# The cache's secret key (acudeck/cache.py) lives under XDG_CACHE_HOME: the tests, and the commands
# they start, use a folder of their own instead of the user's.
_HOME = tempfile.TemporaryDirectory(prefix="acudeck-tests-")
os.environ["XDG_CACHE_HOME"] = _HOME.name

DECK_YAML = """\
key: {key}
name: "Test::{key}"
description: A *small* deck for tests.
tags: [test]
reading:
  title: A test reading
  author: A. Author
"""

CARDS_YAML = """\
cards:
  - id: q-basic
    type: basic
    front: What is **dry needling** for?
    back: Managing pain syndromes.
    source: used primarily for the management of pain syndromes
    tags: [test::basic]
    extra: Mostly *pain*.
  - id: q-point
    type: point
    point: SI 11
    muscle: infraspinatus
  - id: q-cloze
    type: cloze
    text: "IMS stands for {{c1::Intramuscular}} {{c2::Stimulation}}."
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path):
    """A small project with one deck, `sample`, not yet built."""
    write(tmp_path / "cards_src/sample/deck.yaml", DECK_YAML.format(key="sample"))
    write(tmp_path / "cards_src/sample/cards.yaml", CARDS_YAML)
    return tmp_path


def run(root: Path, *args: str):
    """Run the CLI on a project folder; the result has .exit_code, .output (stdout) and .stderr."""
    return CliRunner().invoke(cli, ["-C", str(root), *args])


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (its path from there) with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def git(root: Path, *args: str) -> str:
    """Run git in `root` as a test identity; its standard output."""
    command = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-C", str(root), *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def commit_all(root: Path, message: str = "first") -> None:
    """Make `root` a git repository (on the first call) and commit everything in it."""
    if not (root / ".git").exists():
        git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
