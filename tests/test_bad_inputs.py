"""A corpus of bad sources: each must fail `build` and `check` with exactly the expected
located messages, no traceback, and nothing written for any deck.

Each case is tests/bad_inputs/<case>/: a `cards_src/d/` folder that replaces a good, already
built deck `d`, and `expected.txt` with the exact stderr lines. A second good deck `ok` sits
alongside; neither deck's files in decks/ may change.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import run, snapshot

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.txt").is_file())

GOOD_DECK = "key: {key}\nname: Test {key}\ndescription: A *good* deck.\n"
GOOD_CARDS = """\
cards:
  - id: a
    type: basic
    front: What is A?
    back: A.
  - id: p
    type: point
    point: SI 11
    muscle: infraspinatus
  - id: c
    type: cloze
    text: "{{c1::A}} comes before {{c2::B}}."
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A project with two good decks, `d` and `ok`, built once."""
    root = tmp_path_factory.mktemp("built")
    for key in ("d", "ok"):
        folder = root / "cards_src" / key
        folder.mkdir(parents=True)
        (folder / "deck.yaml").write_text(GOOD_DECK.format(key=key), encoding="utf-8")
        (folder / "cards.yaml").write_text(GOOD_CARDS, encoding="utf-8")
    result = run(root, "build")
    assert result.exit_code == 0, result.output + result.stderr
    assert {p.name for p in (root / "decks").iterdir()} == {"d.apkg", "d.lock.json", "ok.apkg", "ok.lock.json"}
    return root


def project_with(built: Path, tmp_path: Path, case_dir: Path | None = None) -> Path:
    """A copy of the built project whose deck `d` sources are replaced by the case's."""
    root = tmp_path / "project"
    shutil.copytree(built, root, symlinks=True)
    shutil.rmtree(root / "cards_src" / "d")
    if case_dir is not None:
        shutil.copytree(case_dir / "cards_src" / "d", root / "cards_src" / "d", symlinks=True)
    else:
        (root / "cards_src" / "d").mkdir()
    return root


def assert_fails(root: Path, expected: list[str]) -> None:
    before = snapshot(root / "decks")
    for command in ("build", "check"):
        result = run(root, command)
        assert "Traceback" not in result.output + result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.stderr.splitlines() == expected, f"{command}:\n{result.stderr}"
        assert result.exit_code == 1, command
        assert result.stdout == "", command
        assert snapshot(root / "decks") == before, f"{command} wrote to decks/"
        assert not [p for p in root.rglob("*") if p.name.startswith(".") and p.is_file()], "leftover temp files"


@pytest.mark.parametrize("case", CASES)
def test_bad_input(case, built, tmp_path):
    case_dir = CORPUS / case
    expected = (case_dir / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert expected, "expected.txt must not be empty"
    assert_fails(project_with(built, tmp_path, case_dir), expected)


def test_corpus_is_large_enough():
    assert len(CASES) >= 40


# --- cases that git cannot hold, or that are too big to commit -----------------------------


CARD_WITH_IMAGE = 'cards:\n  - id: a\n    type: basic\n    front: What is shown?\n    back: "![x](evil.png)"\n'


def _symlinked_project(built, tmp_path) -> Path:
    root = project_with(built, tmp_path)
    folder = root / "cards_src" / "d"
    (folder / "deck.yaml").write_text("key: d\nname: Test D\n")
    (folder / "cards.yaml").write_text(CARD_WITH_IMAGE)
    (folder / "media").mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    os.symlink(secret, folder / "media" / "evil.png")
    return root


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_in_media_pointing_outside_is_refused(built, tmp_path):
    root = _symlinked_project(built, tmp_path)
    before = snapshot(root / "decks")
    for command in ("build", "check"):
        result = run(root, command)
        assert result.exit_code == 1 and "Traceback" not in result.output
        lines = result.stderr.splitlines()
        assert "cards_src/d/cards.yaml:5:11: image 'evil.png' is not in cards_src/d/media/" in lines
        link = "cards_src/d/media/evil.png:1:1: symbolic link: acudeck does not follow links inside the project; put the file or folder itself in its place"
        assert any(line.endswith(link) for line in lines)
        assert snapshot(root / "decks") == before


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_in_media_pointing_outside_exact_message(built, tmp_path):
    assert_fails(
        _symlinked_project(built, tmp_path),
        [
            "cards_src/d/cards.yaml:5:11: image 'evil.png' is not in cards_src/d/media/",
            "cards_src/d/media/evil.png:1:1: symbolic link: acudeck does not follow links inside the project; put the file or folder itself in its place",
        ],
    )


def test_oversized_card_file(built, tmp_path):
    root = project_with(built, tmp_path)
    folder = root / "cards_src" / "d"
    (folder / "deck.yaml").write_text("key: d\nname: Test D\n")
    line = "# " + "x" * 1022 + "\n"
    (folder / "cards.yaml").write_text("cards: []\n" + line * (8 * 1024 + 1))
    assert_fails(root, ["cards_src/d/cards.yaml:1:1: file is larger than 8 MiB; split it into several card files"])


# --- a few messages spelled out here, for readability -----------------------------------------


def _one_card(built, tmp_path, cards: str) -> Path:
    root = project_with(built, tmp_path)
    (root / "cards_src/d/deck.yaml").write_text("key: d\nname: Test D\n")
    (root / "cards_src/d/cards.yaml").write_text(cards)
    return root


def test_message_unknown_key_suggests_the_right_one(built, tmp_path):
    root = _one_card(built, tmp_path, "cards:\n  - id: a\n    type: basic\n    frnt: Q?\n    back: A.\n")
    assert_fails(
        root,
        [
            "cards_src/d/cards.yaml:2:5: missing key 'front': a basic card needs it",
            "cards_src/d/cards.yaml:4:5: unknown key 'frnt' (did you mean 'front'?); a basic card takes: id, type, front, back, extra, tags, source, reference",
        ],
    )


def test_message_number_where_text_expected(built, tmp_path):
    root = _one_card(built, tmp_path, "cards:\n  - id: a\n    type: basic\n    front: Six times seven?\n    back: 42\n")
    assert_fails(root, ["cards_src/d/cards.yaml:5:11: 'back' must be text, not a number (42) (put it in quotes)"])


def test_message_javascript_link(built, tmp_path):
    root = _one_card(built, tmp_path, 'cards:\n  - id: a\n    type: basic\n    front: Q?\n    back: "[x](javascript:alert(1))"\n')
    assert_fails(
        root,
        ["cards_src/d/cards.yaml:5:11: link target 'javascript:alert(1)' is not allowed; links must start with http://, https:// or mailto:"],
    )


def test_message_alias_refused(built, tmp_path):
    root = _one_card(built, tmp_path, "cards:\n  - id: a\n    type: basic\n    front: &q Q?\n    back: *q\n")
    assert_fails(root, ["cards_src/d/cards.yaml:4:12: YAML anchors (&name) are not allowed; write the value out"])
