"""Whatever a card file holds, loading it either works or raises SourceError with located problems."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acudeck.errors import SourceError
from acudeck.source import load_deck
from acudeck.yamlfile import parse_yaml

# One problem is exactly one line: `path:line:col: message`.
LOCATED = re.compile(r"^[^\n]+:[1-9][0-9]*:[1-9][0-9]*: \S[^\n]*$")
ONE_LINE = LOCATED
SETTINGS = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30))
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)),
    max_leaves=25,
)
card_keys = st.sampled_from(["id", "type", "front", "back", "text", "point", "muscle", "aspect", "items", "extra", "tags", "source", "reference"])
card_types = st.sampled_from(["basic", "reversed", "cloze", "point", "compare", "other"])
cards = st.one_of(
    values,
    st.fixed_dictionaries({"type": card_types}, optional={"id": st.one_of(st.from_regex(r"[a-z]{1,4}", fullmatch=True), values)}).flatmap(
        lambda base: st.dictionaries(card_keys, st.one_of(st.text(max_size=40), values), max_size=6).map(lambda rest: {**rest, **base})
    ),
)
documents = st.one_of(values, st.fixed_dictionaries({"cards": st.lists(cards, max_size=5)}), st.fixed_dictionaries({"cards": values}))


def assert_located(exc: SourceError, path: str | None = None) -> None:
    assert exc.problems
    for problem in exc.problems:
        text = str(problem)
        assert LOCATED.match(text), repr(text)
        if path is not None:
            assert text.startswith(path + ":"), text


@SETTINGS
@given(st.text())
def test_parse_yaml_on_arbitrary_text(text):
    try:
        parse_yaml(text, "cards.yaml")
    except SourceError as exc:
        assert_located(exc, "cards.yaml")


@SETTINGS
@given(values)
def test_parse_yaml_round_trips_plain_data(value):
    text = yaml.safe_dump(value, allow_unicode=True)
    try:
        doc = parse_yaml(text, "cards.yaml")
    except SourceError as exc:
        assert_located(exc, "cards.yaml")
        return
    expected = yaml.safe_load(text)
    assert repr(doc.data) == repr(expected) or doc.data == expected


def _deck_folder() -> Path:
    root = Path(tempfile.mkdtemp(prefix="acudeck-prop-"))
    folder = root / "cards_src" / "d"
    folder.mkdir(parents=True)
    (folder / "deck.yaml").write_text("key: d\nname: Test D\n", encoding="utf-8")
    return root


def _load(root: Path, data: bytes) -> None:
    folder = root / "cards_src" / "d"
    (folder / "cards.yaml").write_bytes(data)
    try:
        deck = load_deck(folder, root)
    except SourceError as exc:
        assert_located(exc)
        for problem in exc.problems:
            assert problem.location.path in ("cards_src/d/cards.yaml", "cards_src/d/deck.yaml"), str(problem)
    else:
        assert isinstance(deck.cards, list)


@SETTINGS
@given(st.text())
def test_load_deck_on_arbitrary_text(text):
    root = _deck_folder()
    try:
        _load(root, text.encode("utf-8", "surrogatepass"))
    finally:
        shutil.rmtree(root)


@SETTINGS
@given(st.binary(max_size=200))
def test_load_deck_on_arbitrary_bytes(data):
    root = _deck_folder()
    try:
        _load(root, data)
    finally:
        shutil.rmtree(root)


@SETTINGS
@given(documents)
def test_load_deck_on_arbitrary_yaml_data(value):
    root = _deck_folder()
    try:
        _load(root, yaml.safe_dump(value, allow_unicode=True).encode("utf-8", "surrogatepass"))
    finally:
        shutil.rmtree(root)


# --- regressions: a problem must be exactly one `path:line:col: message` line ------------------


def test_control_character_is_one_located_line():
    with pytest.raises(SourceError) as info:
        parse_yaml("cards:\n  - id: a\x1f\n", "cards.yaml")
    [problem] = info.value.problems
    assert str(problem) == "cards.yaml:2:10: control character U+001F is not allowed in YAML"


def test_unknown_key_with_newline_is_one_line(tmp_path):
    folder = tmp_path / "cards_src" / "d"
    folder.mkdir(parents=True)
    (folder / "deck.yaml").write_text("key: d\nname: Test D\n")
    (folder / "cards.yaml").write_text('cards: []\n"bad\\nkey": 1\n')
    with pytest.raises(SourceError) as info:
        load_deck(folder, tmp_path)
    for problem in info.value.problems:
        assert ONE_LINE.match(str(problem)), repr(str(problem))
