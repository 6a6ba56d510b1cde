"""Export: a key exports exactly its selection; the CSV imports into real Anki as it is; the study
sheet is CommonMark, grouped by card file, with answers in bold, tables with headers and footnotes."""

import csv
import html
import io
import re

import pytest
from ankitools import fresh_collection, import_apkg, log_counts, note_by_guid
from conftest import run, write
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

from acudeck.export import CSV_HEADERS

MORE_CARDS = """\
cards:
  - id: q-compare
    type: compare
    aspect: What each technique targets
    items:
      Dry needling: Trigger points
      IMS: "**Motor** points"
    source: [dry needling treats trigger points, IMS uses motor points]
    tags: [test::compare]
  - id: q-bold-cloze
    type: cloze
    text: "The needles are **{{c1::sterile}}** and {{c2::**single**-use}}, with a {{c3::fine tip::what tip?}}."
    source: sterile, single-use needles
"""

COURSE = """\
key: week
name: "Course::Week"
select:
  - deck: sample
    types: [compare, cloze]
"""


@pytest.fixture
def built(project):
    write(project / "cards_src/sample/more.yaml", MORE_CARDS)
    write(project / "courses/week.yaml", COURSE)
    result = run(project, "build")
    assert result.exit_code == 0, result.stderr
    return project


def csv_rows(text: str) -> list[list[str]]:
    lines = text.splitlines(keepends=True)
    assert tuple(line.rstrip("\n") for line in lines[: len(CSV_HEADERS)]) == CSV_HEADERS
    return list(csv.reader(io.StringIO("".join(lines[len(CSV_HEADERS) :]))))


def test_csv_has_anki_headers_and_the_notes_as_the_package_holds_them(built):
    result = run(built, "export", "sample")
    assert result.exit_code == 0, result.stderr
    rows = csv_rows(result.output)
    assert [(r[0], r[1]) for r in rows][:3] == [("acudeck Basic", "Test::sample"), ("acudeck Point", "Test::sample"), ("acudeck Cloze", "Test::sample")]
    basic = rows[0]
    assert basic[3] == "test test::basic"
    assert basic[4:6] == ["What is <strong>dry needling</strong> for?", "Managing pain syndromes."]
    cloze = rows[2]
    assert cloze[4] == "IMS stands for {{c1::Intramuscular}} {{c2::Stimulation}}."
    assert len(rows) == 6 and len({r[2] for r in rows}) == 6  # a note a row (compare: one per item), each its GUID


def test_a_course_key_exports_the_course_and_a_deck_key_the_deck(built):
    course = csv_rows(run(built, "export", "week").output)
    assert {r[0] for r in course} == {"acudeck Compare", "acudeck Cloze"} and {r[1] for r in course} == {"Course::Week"}
    assert len(course) == 4
    deck = csv_rows(run(built, "export", "sample").output)
    assert len(deck) == 6 and {r[1] for r in deck} == {"Test::sample"}
    assert csv_rows(run(built, "export").output) == deck  # no key: every deck, no course repeated
    both = csv_rows(run(built, "export", "week", "sample").output)
    assert both == course + deck
    sheet = run(built, "export", "--format", "markdown", "week").output
    assert sheet.startswith("# Course::Week\n") and "What each technique targets" in sheet and "fine tip" in sheet
    assert "What is **dry needling** for?" not in sheet and "SI 11" not in sheet  # the deck's other cards


def test_csv_imports_into_anki_as_it_is_and_updates_the_same_notes(built, tmp_path):
    exported = tmp_path / "sample.csv"
    assert run(built, "export", "sample", "-o", str(exported)).exit_code == 0
    from anki.collection import ImportCsvRequest

    with fresh_collection(tmp_path, "fresh.anki2") as col:  # the note types come with the package only
        log = col.import_csv(ImportCsvRequest(path=str(exported), metadata=col.get_csv_metadata(path=str(exported), delimiter=None))).log
        assert log_counts(log)["missing_notetype"] == 6 and col.note_count() == 0
    with fresh_collection(tmp_path, "types.anki2") as col:  # the package's note types, no notes: the CSV makes them all
        import_apkg(col, built / "decks/sample.apkg")
        package = {note.guid: list(note.fields) for note in (col.get_note(nid) for nid in col.find_notes(""))}
        col.remove_notes(col.find_notes(""))
        log = col.import_csv(ImportCsvRequest(path=str(exported), metadata=col.get_csv_metadata(path=str(exported), delimiter=None))).log
        assert log_counts(log)["new"] == 6
        imported = {note.guid: list(note.fields) for note in (col.get_note(nid) for nid in col.find_notes(""))}
        assert imported == package  # the same GUIDs and fields
        assert col.card_count() == 12  # 1 + 2 + 2 (cloze c1, c2) + 4 (compare) + 3 (cloze c1..c3)
        assert sorted(col.decks.all_names()) == sorted(["Default", "Test::sample", "Test"])
        cloze = note_by_guid(col, next(r[2] for r in csv_rows(exported.read_text()) if r[4].startswith("IMS")))
        assert "[...]" in cloze.cards()[0].question()
    with fresh_collection(tmp_path, "update.anki2") as col:  # after the package: rows match its notes by GUID
        import_apkg(col, built / "decks/sample.apkg")
        cards = built / "cards_src/sample/cards.yaml"
        cards.write_text(cards.read_text().replace("Managing pain syndromes.", "Managing pain."))
        assert run(built, "export", "sample", "-o", str(exported)).exit_code == 0
        log = col.import_csv(ImportCsvRequest(path=str(exported), metadata=col.get_csv_metadata(path=str(exported), delimiter=None))).log
        counts = log_counts(log)
        assert (counts["updated"], counts["duplicate"], counts["new"]) == (1, 5, 0)
        assert col.note_count() == 6
        basic = note_by_guid(col, csv_rows(exported.read_text())[0][2])
        assert basic.fields[1] == "Managing pain."


def rendered(sheet: str):
    return MarkdownIt("commonmark", {"html": True}).enable("table").use(footnote_plugin).parse(sheet)


def test_study_sheet_is_commonmark_grouped_by_file_with_bold_answers_tables_and_footnotes(built):
    result = run(built, "export", "--format", "markdown", "sample")
    assert result.exit_code == 0, result.stderr
    sheet = result.output
    tokens = rendered(sheet)
    headings = [(tokens[i].tag, tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == [("h1", "Test::sample"), ("h2", "Cards"), ("h2", "More")]
    inline = [t for t in tokens if t.type == "inline"]
    assert not any("**" in child.content for t in inline for child in t.children if child.type == "text")  # every ** is bold
    for t in inline:  # no bold inside bold
        depth = 0
        for child in t.children:
            depth += {"strong_open": 1, "strong_close": -1}.get(child.type, 0)
            assert depth <= 1, t.content
    assert "- What is **dry needling** for? — **Managing pain syndromes.**[^1]\n" in sheet
    assert "- The needles are **sterile** and **single-use**, with a **fine tip**.[^3]\n" in sheet
    headers = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "th_open"]
    assert headers == ["Item", "What each technique targets"]
    assert "| IMS | **Motor** points[^2] |" in sheet
    refs = [c for t in inline for c in t.children if c.type == "footnote_ref"]
    assert len(refs) == 3 and sum(t.type == "footnote_open" for t in tokens) == 3
    assert "[^2]: “dry needling treats trigger points” “IMS uses motor points”\n" in sheet
    assert not [t for t in tokens if t.type == "html_block"] and not [c for t in inline for c in t.children if c.type == "html_inline"]


def test_export_writes_nothing_into_decks(project):
    assert run(project, "export").exit_code == 0
    assert list((project / "decks").iterdir()) == []  # made for the project's lock (acudeck/lock.py), and left empty


def test_csv_cells_a_spreadsheet_would_run_import_into_anki_as_written(tmp_path):
    write(tmp_path / "cards_src/m/deck.yaml", "key: m\nname: '=HYPERLINK(\"x\")'\ntags: [-x]\n")
    write(tmp_path / "cards_src/m/cards.yaml", "cards:\n  - id: f\n    type: basic\n    front: '=1+1'\n    back: '@SUM(A1:A2)'\n")
    assert run(tmp_path, "build").exit_code == 0
    exported = tmp_path / "m.csv"
    assert run(tmp_path, "export", "-o", str(exported)).exit_code == 0
    (row,) = csv_rows(exported.read_text())
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
    from anki.collection import ImportCsvRequest

    with fresh_collection(tmp_path) as col:
        import_apkg(col, tmp_path / "decks/m.apkg")
        before = note_by_guid(col, row[2])
        log = col.import_csv(ImportCsvRequest(path=str(exported), metadata=col.get_csv_metadata(path=str(exported), delimiter=None))).log
        counts = log_counts(log)
        assert counts["new"] == 0 and counts["missing_deck"] == 0
        after = note_by_guid(col, row[2])
        assert [html.unescape(f) for f in after.fields] == list(before.fields) and after.fields[0] == "&#61;1+1"
        assert html.unescape(re.sub(r"<style>.*?</style>|<[^>]+>", "", after.cards()[0].question(), flags=re.S)) == "=1+1"  # what the student reads
        assert after.tags == ["-x"] and col.decks.name(after.cards()[0].did) == '=HYPERLINK("x")'
