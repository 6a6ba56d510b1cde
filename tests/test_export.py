import csv
import io

from conftest import run


def test_csv_export_has_one_row_per_note(project):
    result = run(project, "export", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["id"], r["type"], r["front"], r["back"]) for r in rows] == [
        ("q-basic", "basic", "What is **dry needling** for?", "Managing pain syndromes."),
        ("q-point", "point", "SI 11", "infraspinatus"),
        ("q-cloze", "cloze", "IMS stands for {{c1::Intramuscular}} {{c2::Stimulation}}.", "IMS stands for {{c1::Intramuscular}} {{c2::Stimulation}}."),
    ]
    assert rows[0]["tags"] == "test test::basic"
    assert rows[0]["extra"] == "Mostly *pain*."
    assert rows[0]["source"] == "used primarily for the management of pain syndromes"
    assert rows[0]["deck"] == "Test::sample"


def test_markdown_study_sheet_shows_answers(project, tmp_path):
    out = tmp_path / "sheet.md"
    result = run(project, "export", "--format", "markdown", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    sheet = out.read_text()
    assert sheet.startswith("# Test::sample\n\nFrom *A test reading*, A. Author.\n")
    assert "- **SI 11** — infraspinatus\n" in sheet
    assert "- IMS stands for **Intramuscular** **Stimulation**.\n" in sheet


def test_export_writes_nothing_into_decks(project):
    assert run(project, "export").exit_code == 0
    assert list((project / "decks").iterdir()) == []  # made for the project's lock (acudeck/lock.py), and left empty
