"""Limits: every mistake is one located line, never a traceback, and no input costs more than a small
multiple of its size. Memory bounds are asserted (tracemalloc is deterministic); speed targets are
in bench/bench.py, not here."""

from __future__ import annotations

import pytest
import yaml

from acudeck import yamlfile
from acudeck.errors import SourceError
from acudeck.yamlfile import MAX_DEPTH, MAX_VALUES, parse_yaml

LOADERS = [pytest.param(yaml.SafeLoader, id="pure-python")] + ([pytest.param(yaml.CSafeLoader, id="libyaml")] if hasattr(yaml, "CSafeLoader") else [])


@pytest.fixture(params=LOADERS)
def loader(request, monkeypatch):
    """Both of PyYAML's loaders: acudeck uses libyaml's where it is installed, the pure-Python one otherwise."""
    monkeypatch.setattr(yamlfile, "_Loader", request.param)
    return request.param


def problems_of(text: str) -> list[str]:
    with pytest.raises(SourceError) as caught:
        parse_yaml(text, "x.yaml")
    return [str(problem) for problem in caught.value.problems]


# --- plain scalars that YAML would turn into something other than text --------------------------

LONG = "1" * 57 + "..."


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2024-02-30", "'2024-02-30' looks like a date but is not one; put it in quotes"),
        ("2023-02-29", "'2023-02-29' looks like a date but is not one; put it in quotes"),
        ("2024-13-01 25:00:00", "'2024-13-01 25:00:00' looks like a date but is not one; put it in quotes"),
        ("2024-01-01 25:00:00", "'2024-01-01 25:00:00' looks like a date but is not one; put it in quotes"),
        ("2024-01-01t10:61:00", "'2024-01-01t10:61:00' looks like a date but is not one; put it in quotes"),
        ("1" * 5000, f"'{LONG}' is too long to be read as a number; put it in quotes"),
        ("1" * 101, f"'{LONG}' is too long to be read as a number; put it in quotes"),
        ("-" + "1" * 5000, f"'-{'1' * 56}...' is too long to be read as a number; put it in quotes"),
        ("0x" + "f" * 5000, f"'0x{'f' * 55}...' is too long to be read as a number; put it in quotes"),
        ("1_" * 3000 + "1", f"'{'1_' * 28}1...' is too long to be read as a number; put it in quotes"),
        ("1:" * 3000 + "1", f"'{'1:' * 28}1...' is too long to be read as a number; put it in quotes"),  # quadratic to convert
        ("1." + "1" * 5000, f"'1.{'1' * 55}...' is too long to be read as a number; put it in quotes"),
        ("2024-01-01 10:00:00." + "1" * 100, f"'2024-01-01 10:00:00.{'1' * 37}...' is too long to be read as a date; put it in quotes"),
        (".inf", "'.inf' is not a finite number; put it in quotes"),
        ("-.Inf", "'-.Inf' is not a finite number; put it in quotes"),
        (".nan", "'.nan' is not a finite number; put it in quotes"),
        (".NaN", "'.NaN' is not a finite number; put it in quotes"),
        ("1.0e+400", "'1.0e+400' is not a finite number; put it in quotes"),
        ("-1.0e+400", "'-1.0e+400' is not a finite number; put it in quotes"),
    ],
)
def test_a_plain_scalar_that_cannot_be_what_it_looks_like_is_one_located_problem(loader, value, message):
    assert problems_of(f"cards:\n  - back: {value}\n") == [f"x.yaml:2:11: {message}"]


@pytest.mark.parametrize(
    ("value", "data"),
    [
        ("2020-01-01", "date"),  # the schema explains these: "must be text, not a date (put it in quotes)"
        ("42", 42),
        ("1" * 100, int("1" * 100)),
        ("1.5", 1.5),
        ("1e400", "1e400"),  # YAML 1.1 needs a dot for a float: this is text
        ("190:20:30", 190 * 3600 + 20 * 60 + 30),
        ("yes", True),
        ("~", None),
        ("<<", "<<"),  # the merge key, written as a value: text
        ("=", "="),
        ("'2024-02-30'", "2024-02-30"),
        ('"1.0e+400"', "1.0e+400"),
    ],
)
def test_good_plain_scalars_keep_their_value(loader, value, data):
    found = parse_yaml(f"a: {value}\n", "x.yaml").data["a"]
    assert (type(found).__name__ == data) if data == "date" else (found == data and type(found) is type(data))


def test_constructed_scalars_are_not_kept_by_the_loader():
    """PyYAML's constructor remembers every node it built: one file of numbers would keep them all."""
    loader = yamlfile._Loader("a: [1, 2, 3]")
    try:
        builder = yamlfile._Builder(loader, yamlfile.YamlDocument("x.yaml", None))
        assert builder.document() == {"a": [1, 2, 3]}
        assert not loader.constructed_objects
    finally:
        loader.dispose()


# --- nesting and size: a located message, quickly, and no RecursionError ---------------------------

DEEP = f"nested deeper than {MAX_DEPTH} levels"


@pytest.mark.parametrize("text", ["[" * 100_000, "- " * 100_000, "a: [" * 100_000, "{a: " * 100_000, "[" * 100_000 + "]" * 100_000, "[{a: " * 50_000])
def test_deep_nesting_is_one_located_problem(loader, text):
    [problem] = problems_of(text)
    assert problem.startswith("x.yaml:1:") and problem.endswith(DEEP), problem


def test_deep_nesting_of_mappings_as_keys_is_one_located_problem(loader):
    [problem] = problems_of("{" * 100_000)
    assert problem.startswith("x.yaml:1:") and problem.endswith((DEEP, "a key must be plain text, not a list or mapping")), problem


def test_deep_block_nesting_is_one_located_problem(loader):
    text = "".join(" " * i + "- \n" for i in range(200))
    assert problems_of(text) == [f"x.yaml:34:34: {DEEP}"]


def test_a_file_of_too_many_values_is_one_located_problem():
    # The file's mapping and its list are two values; the list's items the rest.
    assert problems_of("cards: [" + "a," * MAX_VALUES + "a]") == [f"x.yaml:1:{9 + 2 * (MAX_VALUES - 2)}: more than {MAX_VALUES:,} values in one file; split it into several files"]
    assert len(parse_yaml("cards: [" + "a," * (MAX_VALUES - 3) + "a]", "x.yaml").data["cards"]) == MAX_VALUES - 2
