"""Limits: every mistake is one located line, never a traceback, and no input costs more than a small
multiple of its size. Memory bounds are asserted (tracemalloc is deterministic); speed targets are
in bench/bench.py, not here."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
import yaml
from conftest import REPO, commit_all, run, write

from acudeck import format as fmt
from acudeck import text, yamlfile
from acudeck.errors import MAX_PROBLEMS_PER_FILE, Location, Problem, SourceError, capped
from acudeck.format import load_schema
from acudeck.yamlfile import MAX_DEPTH, MAX_VALUES, parse_yaml

MAX_CARDS = load_schema("cards")["properties"]["cards"]["maxItems"]

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


# --- the schemas bound every text, list and mapping ---------------------------------------------


def _structures(schema, trail=""):
    """(trail, subschema) for every subschema that describes a value (not the conditions under `if`)."""
    if isinstance(schema, dict):
        yield trail, schema
        for key, value in schema.items():
            if key != "if":
                yield from _structures(value, f"{trail}/{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _structures(value, f"{trail}/{index}")


@pytest.mark.parametrize("name", ["cards", "deck", "course"])
def test_every_text_list_and_mapping_in_the_schemas_has_a_size_cap(name):
    for trail, schema in _structures(load_schema(name)):
        kinds = schema.get("type", [])
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if "enum" in schema or "const" in schema:
            continue
        for kind, cap in (("string", "maxLength"), ("array", "maxItems"), ("object", "maxProperties")):
            assert kind not in kinds or cap in schema, f"{name}{trail}: {kind} without {cap}"


def test_the_needling_deck_is_far_from_every_cap():
    caps = load_schema("cards")
    text_cap, tags_cap = caps["$defs"]["text"]["maxLength"], caps["$defs"]["basic"]["properties"]["tags"]["maxItems"]
    for path in (REPO / "cards_src").rglob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for card in data.get("cards", []):
            assert all(len(value) < text_cap // 10 for value in card.values() if isinstance(value, str)), card["id"]
            assert len(card.get("tags", [])) < tags_cap // 3, card["id"]


# --- through the command line: caps that are too big to commit as corpus cases -------------------


def _deck(root: Path, cards: str, deck: str = "key: d\nname: Test D\n") -> Path:
    write(root / "cards_src/d/deck.yaml", deck)
    (root / "cards_src/d/cards.yaml").write_text(cards, encoding="utf-8")
    return root


def _fails_with(root: Path, expected: list[str]) -> None:
    for command in ("check", "build"):
        result = run(root, command, "--no-cache")
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.exit_code == 1 and result.stderr.splitlines() == expected, result.stderr[:2000]
    assert list((root / "decks").iterdir()) == []  # made for the lock, nothing written


def test_a_file_of_more_cards_than_the_cap_is_one_problem_and_only_that_many_are_checked(tmp_path, monkeypatch):
    checked = []
    real = fmt._accepts
    monkeypatch.setattr(fmt, "_accepts", lambda instance, name, definition="": checked.append(definition) or real(instance, name, definition))
    card = "  - {{id: c{0}, type: basic, front: Q{0}?, back: A.}}\n"
    _deck(tmp_path, "cards:\n" + "".join(card.format(i) for i in range(MAX_CARDS + 20)))
    _fails_with(tmp_path, [f"cards_src/d/cards.yaml:2:3: a card file takes at most {MAX_CARDS:,} cards; split it into several files"])
    assert checked.count("basic") == 2 * MAX_CARDS  # by check and by build


def test_a_deck_of_more_retired_ids_than_the_cap_is_one_problem(tmp_path):
    retired = "".join(f"  - old-{i}\n" for i in range(10_001))
    _deck(tmp_path, "cards:\n  - {id: a, type: basic, front: Q?, back: A.}\n", f"key: d\nname: Test D\nretired:\n{retired}")
    _fails_with(tmp_path, ["cards_src/d/deck.yaml:4:3: 'retired' takes at most 10,000 items"])


def test_every_text_field_is_capped(tmp_path):
    long = "x" * 10_001
    cards = (
        "cards:\n"
        f"  - {{id: a, type: basic, front: {long}, back: A., extra: {long}}}\n"
        f"  - {{id: b, type: cloze, text: {long}}}\n"
        f"  - {{id: c, type: point, point: {long}, muscle: m}}\n"
        f"  - {{id: d, type: compare, aspect: {long}, items: {{x: {long}, y: b}}}}\n"
    )
    _deck(tmp_path, cards)
    _fails_with(
        tmp_path,
        [
            "cards_src/d/cards.yaml:2:33: 'front' is longer than 10,000 characters",
            "cards_src/d/cards.yaml:2:10053: 'extra' is longer than 10,000 characters",
            "cards_src/d/cards.yaml:3:32: 'text' is longer than 10,000 characters",
            "cards_src/d/cards.yaml:4:33: 'point' is longer than 10,000 characters",
            "cards_src/d/cards.yaml:5:36: 'aspect' is longer than 10,000 characters",
            "cards_src/d/cards.yaml:5:10050: 'x' is longer than 1,000 characters",
        ],
    )


def test_at_most_50_problems_of_a_file_are_shown_and_one_line_counts_the_rest(tmp_path):
    bad = "".join(f"  - {{id: c{i}, type: basic, front: Q{i}?}}\n" for i in range(100_000 // 30))
    _deck(tmp_path, "cards:\n" + bad)
    shown = [f"cards_src/d/cards.yaml:{i + 2}:5: missing key 'back': a basic card needs it" for i in range(MAX_PROBLEMS_PER_FILE)]
    _fails_with(tmp_path, [*shown, f"cards_src/d/cards.yaml:{MAX_PROBLEMS_PER_FILE + 2}:5: and {100_000 // 30 - MAX_PROBLEMS_PER_FILE} more problems in this file"])


def test_capped_keeps_the_order_and_counts_each_file_apart():
    def problem(path, line, message="m"):
        return Problem(Location(path, line, 1), message)

    problems = sorted([problem("a", n) for n in range(1, 6)] + [problem("b", n) for n in range(1, 4)] + [problem("c", 1)])
    assert [str(p) for p in capped(problems, per_file=3)] == [
        *("a:1:1: m", "a:2:1: m", "a:3:1: m", "a:4:1: and 2 more problems in this file"),
        *("b:1:1: m", "b:2:1: m", "b:3:1: m"),
        "c:1:1: m",
    ]
    assert [str(p) for p in capped(problems[:4], per_file=3)][-1] == "a:4:1: and 1 more problem in this file"
    assert capped(problems) == problems


# --- cloze numbers ------------------------------------------------------------------------------


def test_cloze_numbers_are_never_converted_from_long_digit_strings():
    assert text.cloze_numbers("{{c" + "9" * 5000 + "::x}} {{c2::y}} {{c" + "0" * 5000 + "1::z}}") == [1, 2, text.HUGE_CLOZE]


BOMB = """\
import resource, tracemalloc
resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))  # without the guard: a MemoryError, not a swapping machine
from acudeck.cardfile import read_card_file
from acudeck.notes import NoteContext
tracemalloc.start()
found = read_card_file(b'cards:\\n  - id: a\\n    type: cloze\\n    text: "{{c99999999::x}}"\\n', "cards.yaml", NoteContext("d", (), {}))
print(tracemalloc.get_traced_memory()[1], [p.message for p in found.problems])
"""


def test_the_cloze_bomb_is_checked_in_little_memory():
    """40 bytes of source once made a list of 99,999,998 missing numbers, and a message of as many."""
    result = subprocess.run([sys.executable, "-c", BOMB], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    peak, messages = result.stdout.split(" ", 1)
    assert int(peak) < 50 * 1024 * 1024
    assert messages.strip() == str(["cloze numbers go from c1 to c100; this text has c99999999"])


# --- Markdown -----------------------------------------------------------------------------------

N = 10_000
PATHOLOGICAL = {
    "brackets": "[" * N,
    "balanced brackets": "[" * (N // 2) + "]" * (N // 2),
    "images in brackets": "![" * (N // 2),
    "links in links": "[![" * (N // 3),
    "unclosed links": "[a](" * (N // 4),
    "emphasis runs": "*_" * (N // 2),
    "strong chain": "**a** " * (N // 6),
    "stars": "*" * N,
    "backticks": "".join("`" * i + "a" for i in range(1, 140)),
    "quotes": "> " * (N // 2),
    "lists": "- " * (N // 2),
    "nested list lines": "".join("  " * i + "- x\n" for i in range(N // 60)),
    "angle brackets": "<" * N,
    "autolinks": "<http://a> " * (N // 11),
    "entities": "&#123;" * (N // 6),
}


@pytest.mark.parametrize("source", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_markdown_in_a_field_at_the_cap_renders_in_bounded_memory(source):
    text.render_markdown("*warm* the parser up")
    tracemalloc.start()
    try:
        rendered = text.render_markdown(source[:N])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(rendered.html) < 8 * N
    assert peak < 1000 * N, peak  # 10 MB for a 10,000-character field, freed once it is rendered


def test_markdown_nesting_is_capped_and_what_it_would_drop_is_reported():
    deepest = "> " * (text.MAX_NESTING - 1) + "kept"
    assert "kept" in text.render_markdown(deepest).html and not text.render_markdown(deepest).problems
    rendered = text.render_markdown("first\n\n" + "> " * text.MAX_NESTING + "lost")
    assert rendered.problems == [(2, "Markdown nested too deeply (lists and quotes inside each other); its text would be lost")]
    assert text._parser().options["maxNesting"] == text.MAX_NESTING


# --- preview and diff pages: bounded, however many cards the sources render to -----------------


def test_a_preview_page_stops_at_its_size_cap_and_says_how_many_cards_it_left_out(project, monkeypatch):
    from acudeck import preview

    monkeypatch.setattr(preview, "MAX_PAGE_CHARS", 1)  # the first card passes it
    result = run(project, "preview")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "decks/preview/sample.html: 1 cards (4 more not shown: the page would pass 0 MB)\n"
    page = (project / "decks/preview/sample.html").read_text(encoding="utf-8")
    assert page.count('class="preview-card"') == 1 and "4 more cards are not shown: the page would pass 0 MB." in page


def test_a_diff_page_renders_only_the_cards_that_changed(project, monkeypatch):
    from acudeck import preview

    assert run(project).exit_code == 0
    commit_all(project)
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text(encoding="utf-8").replace("Managing pain syndromes.", "The management of pain syndromes."), encoding="utf-8")
    real, rendered = preview.render_package, []

    def recording(apkg, guids=None, max_chars=None):
        cards, left_out = real(apkg, guids, max_chars)
        rendered.extend(card.guid for card in cards)
        return cards, left_out

    monkeypatch.setattr(preview, "render_package", recording)
    assert run(project, "diff", "main").exit_code == 0
    assert len(rendered) == 2 and len(set(rendered)) == 1  # q-basic's one card, before and after


def test_a_quote_that_is_not_in_the_reading_is_named_on_one_line(project, tmp_path):
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text(encoding="utf-8").replace("source: used primarily", 'source: "not\\nin the reading, used primarily'), encoding="utf-8")
    cards.write_text(cards.read_text(encoding="utf-8").replace("pain syndromes\n", 'pain syndromes"\n', 1), encoding="utf-8")
    reading = tmp_path / "reading.txt"
    reading.write_text("Dry needling is used primarily for the management of pain syndromes.", encoding="utf-8")
    assert run(project).exit_code == 0
    result = run(project, "check", "--source-text", str(reading))
    first = result.stderr.splitlines()[0]
    assert first == "cards_src/sample/cards.yaml:6:13: card 'q-basic': source quote not found in reading.txt: 'not\\nin the reading, used primarily for the man...'"


# --- work that is never used is not done ---------------------------------------------------------


def test_a_card_file_with_a_problem_keeps_its_cards_but_makes_no_notes():
    from acudeck.cardfile import read_card_file
    from acudeck.notes import NoteContext

    table = "{" + ", ".join(f"item {i}: '{'v' * 900} {i}'" for i in range(12)) + "}"
    raw = f"cards:\n  - {{id: a, type: compare, aspect: What?, items: {table}}}\n  - {{id: b, type: basic, front: Q?}}\n".encode()
    found = read_card_file(raw, "x.yaml", NoteContext("d", (), {}))
    assert [str(p) for p in found.problems] == ["x.yaml:3:5: missing key 'back': a basic card needs it"]
    assert found.ids == ("a",) and found.notes == []  # the compare card's 12 notes, each with the whole table, are not made
    assert len(read_card_file(raw.split(b"\n  - {id: b")[0] + b"\n", "x.yaml", NoteContext("d", (), {})).notes) == 12


def test_a_course_tag_selects_its_children_and_only_them():
    from acudeck.course import tag_family
    from acudeck.source import CardSource, DeckSource

    card = CardSource("a", "basic", {}, {}, "", "", ("x::y::z", "w"), (), None, "c.yaml", {"": (1, 1)})
    deck = DeckSource("d", "D", "", ("deck",), {}, {}, Path("d"), Location("d"))
    assert tag_family(card, deck) == {"x", "x::y", "x::y::z", "w", "deck"}
    assert "x::yz" not in tag_family(card, deck) and "x::y::z::q" not in tag_family(card, deck)
