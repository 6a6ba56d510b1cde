"""Course decks: a selection of cards from the full decks that never duplicates them in Anki."""

from ankitools import fresh_collection, import_apkg, log_counts
from conftest import run, write

from acudeck.contents import read_apkg
from acudeck.project import Project, build

COURSE = """\
key: week-1
name: "ACU 201::Week 1"
select:
  - deck: sample
    tags: [test]
    types: [point, basic]
"""


def test_course_deck_holds_the_selected_notes_of_the_full_deck(project):
    write(project / "courses/week-1.yaml", COURSE)
    result = run(project)
    assert result.exit_code == 0, result.stderr
    assert "decks/week-1.apkg: written: 2 notes, 3 cards\n" in result.output
    full = read_apkg(project / "decks/sample.apkg")
    course = read_apkg(project / "decks/week-1.apkg")
    assert course["decks"] == [("ACU 201::Week 1", "")]
    assert set(course["notes"]) < set(full["notes"])
    for guid, note in course["notes"].items():
        assert note == full["notes"][guid]  # same fields, tags and mod
    assert run(project, "check").exit_code == 0


def test_importing_full_deck_and_course_deck_in_either_order_gives_no_duplicates(project, tmp_path_factory):
    write(project / "courses/week-1.yaml", COURSE)
    build(Project(project), now=1_700_000_000)
    full, course = project / "decks/sample.apkg", project / "decks/week-1.apkg"
    for order in ((full, course), (course, full)):
        with fresh_collection(tmp_path_factory.mktemp("anki")) as col:
            first = log_counts(import_apkg(col, order[0]))
            second = log_counts(import_apkg(col, order[1]))
            assert col.note_count() == 3
            assert first["new"] + second["new"] == 3
            assert second["updated"] == 0 and second["conflicting"] == 0


def test_an_edit_reaches_students_through_the_course_deck_too(project, tmp_path):
    write(project / "courses/week-1.yaml", COURSE)
    build(Project(project), now=1_700_000_000)
    with fresh_collection(tmp_path) as col:
        import_apkg(col, project / "decks/sample.apkg")
        cards = project / "cards_src/sample/cards.yaml"
        cards.write_text(cards.read_text().replace("infraspinatus", "infraspinatus muscle"))
        build(Project(project), now=1_700_000_100)
        log = log_counts(import_apkg(col, project / "decks/week-1.apkg"))
        assert log["updated"] == 1 and log["new"] == 0
        assert col.note_count() == 3
        assert col.find_notes('"Muscle:infraspinatus muscle"')


def test_building_a_course_by_key_builds_its_decks(project):
    write(project / "courses/week-1.yaml", COURSE)
    assert run(project, "build", "week-1").exit_code == 0
    assert (project / "decks/sample.apkg").exists() and (project / "decks/week-1.apkg").exists()


def test_course_mistakes_are_located(project):
    write(
        project / "courses/week-1.yaml",
        """\
        key: week-1
        name: Week 1
        select:
          - deck: nope
          - deck: sample
            types: [compare]
          - deck: sample
            ids: [missing-card]
        """,
    )
    result = run(project, "check")
    assert result.exit_code == 1
    assert result.stderr == (
        "courses/week-1.yaml:4:5: no deck 'nope' in cards_src/ (decks: sample)\n"
        "courses/week-1.yaml:5:5: selects no card\n"
        "courses/week-1.yaml:7:5: deck 'sample' has no card 'missing-card'\n"
        "courses/week-1.yaml:7:5: selects no card\n"
    )


def test_a_course_cannot_share_a_key_with_a_deck(project):
    write(project / "courses/sample.yaml", COURSE.replace("key: week-1", "key: sample"))
    result = run(project)
    assert result.exit_code == 1
    assert result.stderr == "courses/sample.yaml:1:1: course key 'sample' is also a deck's key; both would be decks/sample.apkg\n"


def test_a_deck_with_a_yaml_slip_gives_its_course_no_second_error(project):
    write(project / "courses/week.yaml", "key: week\nname: Week\nselect:\n  - deck: sample\n    types: [point]\n")
    write(project / "cards_src/sample/cards.yaml", "cards:\n  - id: q\n    type: basic\n    front: Note: this\n    back: b\n")
    for command in ("build", "check"):
        result = run(project, command)
        assert result.exit_code == 1
        assert result.stderr.splitlines() == [
            "cards_src/sample/cards.yaml:4:12: the value of 'front' holds ': ', which YAML reads as a new key: put the value in quotes, front: \"Note: this\""
        ]


def test_a_misspelled_tag_in_a_selection_gets_a_did_you_mean(project):
    write(project / "courses/week.yaml", "key: week\nname: Week\nselect:\n  - deck: sample\n    tags: [test::basc, nothing::like::it]\n")
    result = run(project, "check")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["courses/week.yaml:4:5: selects no card (no card has tag 'nothing::like::it'; no card has tag 'test::basc'; did you mean 'test::basic'?)"]
