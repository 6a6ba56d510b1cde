"""What reaches a student besides plain card text: math, media names, descriptions, exports, deck names.

The build refuses LaTeX and MathJax beyond plain math, packs the images of descriptions so that
Anki imports them, stores media names as Anki's own editor does, and writes exports that neither a
Markdown viewer nor a spreadsheet would run. Bad sources with one located message each are in
tests/bad_inputs/; here are the cases that need real Anki, a course, or an export.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata

import pytest
from ankitools import fresh_collection, import_apkg, render
from conftest import run, write

from acudeck.contents import read_apkg
from acudeck.decknames import deck_name_key
from acudeck.mathjax import LATEX_MESSAGE, active_content_problems, cloze_card_sides, math_commands

pytest.importorskip("anki.collection")

_STYLE = re.compile(r"^<style>.*?</style>", re.DOTALL)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16  # enough for Anki, which never decodes it


def _deck(root, key="m", name="Test::Math", description="", cards=""):
    write(root / f"cards_src/{key}/deck.yaml", f"key: {key}\nname: {name!r}\ndescription: {description!r}\n")
    write(root / f"cards_src/{key}/cards.yaml", cards)


def _media(root, key, *names):
    folder = root / f"cards_src/{key}/media"
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        (folder / name).write_bytes(PNG + bytes([i]))


# --------------------------------------------------------------------------- MathJax and LaTeX

MATH_CARDS = r"""
cards:
  - id: fraction
    type: basic
    front: 'What is \\(\frac{1}{2} \cdot \sqrt{x^2}\\)?'
    back: '\\[\sum_{i=1}^{n} i \le \infty\\]'
  - id: compare-math
    type: compare
    aspect: Which symbol
    items:
      '\(\alpha\)': first letter
      '\(\omega\)': last letter
    source: 'a quote with \(\pi \approx 3.14\)'
"""


def test_allowed_math_reaches_anki_with_its_delimiters(tmp_path):
    _deck(tmp_path, cards=MATH_CARDS)
    result = run(tmp_path, "build")
    assert result.exit_code == 0, result.stderr
    with fresh_collection(tmp_path) as col:
        import_apkg(col, tmp_path / "decks/m.apkg")
        sides = [side for cid in col.find_cards("") for side in render(col, cid)]
    everything = "\n".join(sides)
    assert r"\(\frac{1}{2} \cdot \sqrt{x^2}\)" in everything  # MathJax in Anki's card view typesets this
    assert r"\[\sum_{i=1}^{n} i \le \infty\]" in everything
    assert r"\(\alpha\)" in everything and r"\(\pi \approx 3.14\)" in everything


@pytest.mark.parametrize(
    ("field", "command"),
    [
        (r"\\(\href{javascript:alert(1)}{x}\\)", "href"),  # Markdown turns \\( into \(
        (r"&#92;(\href{javascript:alert(1)}{x}&#92;)", "href"),  # an entity is a backslash in the DOM
        (r"\\[\frac{1}{\style{color:red}{2}}\\]", "style"),
        (r'\\(\mmlToken{mi}[href="javascript:alert(1)"]{x}\\)', "mmlToken"),
        (r"\\(\text{a}\\)", "text"),
        (r"\\(\operatorname{sin}\\)", "operatorname"),
        (r"\\({ \\) \href{x}{y} }\\)", "href"),  # MathJax reads past a \) inside braces
        (r"\\(\frac{1}{2} and then \href{x}{y}", "href"),  # not closed: read to the end
    ],
)
def test_refused_math_commands_are_located(tmp_path, field, command):
    _deck(tmp_path, cards=f"cards:\n  - id: a\n    type: basic\n    front: What is A?\n    back: '{field}'\n")
    result = run(tmp_path, "check")
    assert result.exit_code == 1
    message = f"\\{command} is not allowed in math (\\(...\\) or \\[...\\]): math may use only the plain math commands listed in acudeck/mathjax.py"
    assert result.stderr.splitlines() == [f"cards_src/m/cards.yaml:5:11: {message}"]


def test_math_regions_are_found_as_mathjax_finds_them():
    assert math_commands(r"\(a\) \href \[\beta\]") == ["beta"]  # \href is outside math
    assert math_commands(r"\(a{\)}\gamma\)") == ["gamma"]
    assert math_commands(r"x \\(\delta\)") == ["delta"]  # MathJax finds the \( of \\( too
    assert math_commands(r"\(\frac{a}{b}") == ["frac"]
    assert math_commands(r"no math \href") == []


def test_latex_is_refused_in_any_case():
    for text in ("[latex]x[/latex]", "[LaTeX]x", "[$]x[/$]", "[$$]x[/$$]", "a [lAtEx] b"):
        assert active_content_problems(text) == [LATEX_MESSAGE], text
    assert active_content_problems("a [link] and $5") == []


CLOZE_FIELDS = [
    r"\(\in{{c2::put}}{x}\) {{c1::a}}",  # an inactive deletion is plain text inside math
    r"\(\h<em>r</em>ef{x}{y}\) {{c1::z}}",  # Anki removes tags inside math
    r"{{c1::outer {{c2::inner::h2}} tail::h1}} \(a<b>b</b>\] \[<i>c</i>\)",
    "{{c1::a::}} {{c3::b}} }} {{c1::never closed",
    r"\(x {{c1::y<br>z}}\) {{c99999::q}} {{c007::seven}}",
    "{{c1::a::b::c}}",
    r'\(<span title="a>b">\h</span>ref\) {{c1::k}}',
]


def test_cloze_fields_are_checked_as_anki_renders_them(tmp_path):
    """mathjax.cloze_card_sides is a copy of Anki's cloze filter: it must give what Anki gives
    (but for the hidden text's attribute, which Anki encodes in its own way and no browser shows)."""
    without_hidden = re.compile(r' data-cloze="[^"]*"')
    with fresh_collection(tmp_path) as col:
        model = col.models.by_name("Cloze")
        for text in CLOZE_FIELDS:
            note = col.new_note(model)
            note["Text"] = text
            col.add_note(note, col.decks.id("Cloze"))
            anki = []
            for card in note.cards():
                anki += [_STYLE.sub("", card.question()), _STYLE.sub("", card.answer()).split("<br>\n", 1)[0]]
            assert [without_hidden.sub("", side) for side in cloze_card_sides(text)] == [without_hidden.sub("", side) for side in anki], text


def test_mathjax_in_a_course_description_is_refused(project):
    write(project / "courses/week-1.yaml", "key: week-1\nname: Week 1\ndescription: '\\\\(\\href{javascript:x}{y}\\\\)'\nselect:\n  - deck: sample\n")
    result = run(project, "check")
    assert result.exit_code == 1
    assert result.stderr.startswith("courses/week-1.yaml:3:14: \\href is not allowed in math")


# --------------------------------------------------------------------------- course descriptions


def test_course_description_follows_the_rules_of_a_deck_description(project):
    write(project / "courses/week-1.yaml", "key: week-1\nname: Week 1\ndescription: '[x](javascript:alert(1)) ![t](https://tracker.example/p.png)'\nselect:\n  - deck: sample\n")
    result = run(project, "check")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "courses/week-1.yaml:3:14: image 'https://tracker.example/p.png' must be a file name in the deck's media/ folder, without a path",
        "courses/week-1.yaml:3:14: link target 'javascript:alert(1)' is not allowed; links must start with http://, https:// or mailto:",
    ]
    assert list((project / "decks").iterdir()) == []  # made for the lock, nothing written


def test_course_description_image_must_be_in_a_deck_it_draws_from(project):
    write(project / "courses/week-1.yaml", "key: week-1\nname: Week 1\ndescription: '![logo](logo.png)'\nselect:\n  - deck: sample\n")
    result = run(project, "check")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["courses/week-1.yaml:3:14: image 'logo.png' is in the media/ folder of no deck this course draws from (sample)"]


# --------------------------------------------------------------------------- media names and description images

IMAGE_CARDS = """
cards:
  - id: spaced
    type: basic
    front: Which brush?
    back: "![a brush](<my brush.png>) and ![another](b%C3%BCrste.png)"
  - id: umlaut
    type: basic
    front: Which other brush?
    back: "![a brush](bürste.png)"
"""


def test_media_names_with_spaces_and_accents_reach_anki_as_written(tmp_path):
    _deck(tmp_path, description="A deck with a logo: ![logo](logo.png)", cards=IMAGE_CARDS)
    _media(tmp_path, "m", "my brush.png", "bürste.png", "logo.png")
    write(tmp_path / "courses/week-1.yaml", "key: week-1\nname: Week 1\ndescription: '![the logo](logo.png)'\nselect:\n  - deck: m\n    ids: [umlaut]\n")
    result = run(tmp_path, "build")
    assert result.exit_code == 0, result.stderr
    assert "warning" not in result.stderr  # logo.png is used, by the description
    assert run(tmp_path, "check").exit_code == 0
    for package, deck_name, expected in (("m", "Test::Math", {"my brush.png", "bürste.png"}), ("week-1", "Week 1", {"bürste.png"})):
        with fresh_collection(tmp_path / package) as col:
            import_apkg(col, tmp_path / f"decks/{package}.apkg")
            media = col.media.check()
            assert (list(media.missing), list(media.unused)) == ([], [])
            files = {unicodedata.normalize("NFC", name) for name in os.listdir(col.media.dir())}
            description = col.decks.by_name(deck_name)["desc"]
            [logo] = [name for name in files if name.startswith("_acudeck-")]
            assert files == expected | {logo}  # the description's image is in the student's media
            assert f'src="{logo}"' in description
            backs = "\n".join(render(col, cid)[1] for cid in col.find_cards(""))
            for name in expected:
                assert f'src="{name}"' in backs  # the raw name, as Anki's editor stores it


def test_a_changed_description_image_gets_a_new_name(tmp_path):
    # Anki never replaces a '_' file a collection already has: new content must come under a new name.
    _deck(tmp_path, description="![logo](logo.png)", cards="cards:\n  - id: a\n    type: basic\n    front: What is A?\n    back: A.\n")
    _media(tmp_path, "m", "logo.png")
    assert run(tmp_path, "build").exit_code == 0
    before = read_apkg(tmp_path / "decks/m.apkg")
    (tmp_path / "cards_src/m/media/logo.png").write_bytes(PNG + b"changed")
    assert run(tmp_path, "build").exit_code == 0
    after = read_apkg(tmp_path / "decks/m.apkg")
    [old_name], [new_name] = before["media"], after["media"]
    assert old_name != new_name and old_name.startswith("_acudeck-") and new_name.startswith("_acudeck-")
    assert f'src="{new_name}"' in after["decks"][0][1]


def test_course_description_image_must_be_the_same_in_every_deck_that_has_it(tmp_path):
    for key in ("m", "n"):
        _deck(tmp_path, key=key, name=f"Test::{key}", cards=f"cards:\n  - id: a\n    type: basic\n    front: What is {key}?\n    back: A.\n")
        _media(tmp_path, key, *(["x.png"] if key == "n" else []), "logo.png")  # n's logo.png has other bytes
    write(tmp_path / "courses/week-1.yaml", "key: week-1\nname: Week 1\ndescription: '![logo](logo.png)'\nselect:\n  - deck: m\n  - deck: n\n")
    result = run(tmp_path, "check")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "courses/week-1.yaml:3:14: image 'logo.png' differs between the media/ folders of the decks this course draws from"


@pytest.mark.parametrize(("src", "name"), [("a%1Fb.png", "a\\u001fb.png"), ("a%C2%85b.png", "a\\u0085b.png"), ("a%7Fb.png", "a\\u007fb.png")])
def test_an_image_name_with_a_control_character_is_refused(tmp_path, src, name):
    _deck(tmp_path, cards=f"cards:\n  - id: a\n    type: basic\n    front: What is shown?\n    back: '![x]({src})'\n")
    result = run(tmp_path, "check")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"cards_src/m/cards.yaml:5:11: image '{name}' must be a file name in the deck's media/ folder, without a path"]


def test_a_course_name_with_an_empty_part_is_refused(project):
    write(project / "courses/week-1.yaml", "key: week-1\nname: 'ACU::::Week 1'\nselect:\n  - deck: sample\n")
    result = run(project, "check")
    assert result.stderr.splitlines() == ["courses/week-1.yaml:2:7: deck name 'ACU::::Week 1' has an empty part between '::'; Anki would call it 'blank'"]


def test_deck_description_image_must_be_in_media(tmp_path):
    _deck(tmp_path, description="![logo](logo.png)", cards="cards:\n  - id: a\n    type: basic\n    front: What is A?\n    back: A.\n")
    result = run(tmp_path, "check")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["cards_src/m/deck.yaml:3:14: image 'logo.png' is not in cards_src/m/media/"]


# --------------------------------------------------------------------------- deck names

_SAME_TO_ANKI = [
    ("Straße::Ärzte", "STRASSE::ärzte"),  # full case folding
    ("Straße::Ärzte", unicodedata.normalize("NFD", "straße::ärzte")),  # Unicode form
    ("A::B", "A :: B"),  # each part trimmed
]
_NOT_THE_SAME = [("A::B", "A::B::C"), ("A", "A B"), ("Straße", "Strasse!")]


@pytest.mark.parametrize(("first", "second"), _SAME_TO_ANKI + _NOT_THE_SAME)
def test_deck_names_merge_exactly_when_anki_merges_them(tmp_path, first, second):
    with fresh_collection(tmp_path) as col:
        deck_id = col.decks.id(first)
        anki_merges = col.decks.id_for_name(second) == deck_id
    assert anki_merges == ((first, second) in _SAME_TO_ANKI)
    assert (deck_name_key(first) == deck_name_key(second)) == anki_merges


def test_a_course_named_like_a_deck_is_refused(project):
    write(project / "courses/week-1.yaml", "key: week-1\nname: test::SAMPLE\nselect:\n  - deck: sample\n")
    result = run(project, "check")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "courses/week-1.yaml:2:7: course name 'test::SAMPLE' and the name of deck 'Test::sample' (cards_src/sample/deck.yaml:2:7) are one name to Anki, "
        "which ignores case and Unicode form: both would fill one deck"
    ]


# --------------------------------------------------------------------------- exports

HOSTILE_CARDS = r"""
cards:
  - id: script
    type: basic
    front: "Why <script>alert(1)</script>?"
    back: "<img src=x onerror=alert(1)> and <!-- a comment --> and `<javascript:alert(1)>` and \\<javascript:alert(2)>"
    extra: "</p><iframe src=x>"
  - id: block
    type: reversed
    front: "<div onclick=alert(1)>div</div>"
    back: |-
      text

          <script>alert(2)</script>
  - id: cloze
    type: cloze
    text: "{{c1::<svg onload=alert(1)>}} and <?php x ?> and <![CDATA[x]]> and <!DOCTYPE html>"
  - id: cmp
    type: compare
    aspect: "<b>aspect</b>"
    items:
      "<i>one</i>": "<a href=javascript:alert(1)>x</a>"
      two: "<mailto:a@b.example>"
"""


def test_markdown_study_sheet_holds_no_raw_html(tmp_path):
    from markdown_it import MarkdownIt

    _deck(tmp_path, name="<script>alert('deck')</script>", cards=HOSTILE_CARDS)
    result = run(tmp_path, "export", "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    sheet = result.output
    tokens = MarkdownIt("commonmark", {"html": True}).enable("table").parse(sheet)
    found = [(t.type, t.content) for t in tokens if t.type == "html_block"]
    for token in tokens:
        found += [(c.type, c.content) for c in token.children or () if c.type in ("html_inline", "link_open")]
    assert found == []
    assert "&lt;script>alert(1)&lt;/script>" in sheet  # shown as the card shows it


def test_markdown_study_sheet_keeps_harmless_angle_brackets(tmp_path):
    _deck(tmp_path, cards="cards:\n  - id: a\n    type: basic\n    front: 'Is 1 < 2 and 3 <= 4?'\n    back: 'Yes, <- and <3.'\n")
    result = run(tmp_path, "export", "--format", "markdown")
    assert "- Is 1 < 2 and 3 <= 4? — **Yes, <- and <3.**\n" in result.output


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path):
    cards = """\
cards:
  - id: formula
    type: basic
    front: '=HYPERLINK("https://evil.example","click")'
    back: '+1+cmd|" /C calc"!A0'
    extra: '@SUM(A1:A2)'
    source: '-2+3'
  - id: safe
    type: basic
    front: What is 1 + 1?
    back: "2"
"""
    _deck(tmp_path, cards=cards)
    write(tmp_path / "cards_src/m/cards2.yaml", 'cards:\n  - id: tab\n    type: basic\n    front: "\\tTabbed question?"\n    back: "\\rReturn"\n    extra: "one\\r=1+1"\n')
    result = run(tmp_path, "export", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    body = "".join(line for line in result.output.splitlines(keepends=True) if not line.startswith("#"))
    rows = {row[4]: row for row in csv.reader(io.StringIO(body))}  # by the first field
    assert len(rows) == 3
    formula = rows['&#61;HYPERLINK("https://evil.example","click")']
    assert formula[5] == '&#43;1+cmd|" /C calc"!A0'  # a field is HTML: Anki shows the entity as the character
    assert formula[6] == "&#64;SUM(A1:A2)"
    assert formula[7].startswith("“-2+3”")  # the Source field: never at the start of a cell
    tab = next(row for key, row in rows.items() if "Tabbed question?" in key)  # Markdown made a code block of it
    assert tab[6] == "one\n=1+1"  # rendered: Markdown made a line feed of the carriage return
    assert '"one\n=1+1"' in result.output  # quoted: one cell, and a spreadsheet starts no formula inside it
    assert rows["What is 1 + 1?"][5] == "2"
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows.values() for cell in row)
