"""`release-check BASE`: what a student's import of the new build does, found with real Anki."""

import json
import re

import pytest
from conftest import CARDS_YAML, DECK_YAML, git, run, write

COUNTS = ("new", "updated", "unchanged", "conflicting", "retired", "not_updated", "reviews_lost")


@pytest.fixture
def released(project):
    write(project / "cards_src/sample/cards.yaml", CARDS_YAML)
    assert run(project).exit_code == 0
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "release 1")
    return project


@pytest.fixture
def no_anki(monkeypatch):
    """As if the `anki` extra were not installed."""
    import builtins

    real_import = builtins.__import__

    def without_anki(name, *args, **kwargs):
        if name == "anki" or name.startswith("anki."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_anki)


def edit(project, old, new):
    path = project / "cards_src/sample/cards.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def release_check(project, *args):
    result = run(project, "release-check", "main", "--json", *args)
    return result.exit_code, json.loads(result.stdout) if result.stdout else result.stderr


def counts(**changed):
    return {**dict.fromkeys(COUNTS, 0), **changed}


def test_an_honest_edit_is_ok(released):
    edit(released, "Managing pain syndromes.", "The management of pain syndromes.")
    assert run(released).exit_code == 0
    assert release_check(released) == (0, {"ok": True, "base": "main", "decks": {"sample": counts(updated=1, unchanged=2)}})


def test_an_edit_without_a_newer_mod_is_not_updated(released):
    ledger = released / "decks/sample.lock.json"
    released_text = ledger.read_text()
    edit(released, "Managing pain syndromes.", "The management of pain syndromes.")
    assert run(released).exit_code == 0
    old_mod = re.search(r'"q-basic": \{"hash": "[0-9a-f]+", "mod": (\d+)\}', released_text).group(1)
    ledger.write_text(re.sub(r'("q-basic": \{"hash": "[0-9a-f]+", "mod": )\d+', rf"\g<1>{old_mod}", ledger.read_text()))
    assert run(released).exit_code == 0
    assert release_check(released) == (1, {"ok": False, "base": "main", "decks": {"sample": counts(unchanged=3, not_updated=1)}})
    assert run(released, "release-check", "main", "--json").stderr == (
        f"cards_src/sample/cards.yaml:2:5: note 'q-basic' changed since main but its mod {old_mod} is not newer, "
        "so students' Anki would not update it; restore its line in decks/sample.lock.json from main and run 'python build.py'\n"
    )
    text = run(released, "release-check", "main")
    assert text.exit_code == 1
    assert text.stdout.splitlines()[:3] == [
        "What a student's import does, since main: PROBLEMS",
        "",
        "sample: 0 new, 0 updated, 3 unchanged, 0 conflicting, 0 retired, 1 not updated, 0 reviews lost",
    ]


def test_a_type_change_is_conflicting(released):
    edit(released, "  - id: q-basic\n    type: basic\n", "  - id: q-basic\n    type: reversed\n")
    edit(released, "    extra: Mostly *pain*.\n", "")
    assert run(released).exit_code == 0
    code, report = release_check(released)
    assert code == 1
    assert report["decks"]["sample"]["conflicting"] == 1 and not report["ok"]


def test_a_retired_card_is_retired_and_added_cards_are_new(released):
    edit(released, '  - id: q-cloze\n    type: cloze\n    text: "IMS stands for {{c1::Intramuscular}} {{c2::Stimulation}}."\n', "")
    deck = released / "cards_src/sample/deck.yaml"
    deck.write_text(deck.read_text() + "retired: [q-cloze]\n")
    path = released / "cards_src/sample/cards.yaml"
    path.write_text(path.read_text() + "  - {id: q-new, type: basic, front: What is IMS short for?, back: Intramuscular Stimulation.}\n")
    assert run(released).exit_code == 0
    assert release_check(released) == (0, {"ok": True, "base": "main", "decks": {"sample": counts(new=1, updated=1, unchanged=2, retired=1)}})


def drop_the_cloze_with_its_ledger_line(project):
    """Delete a released card and its ledger line, as if it had never been: a careless or hostile edit."""
    edit(project, '  - id: q-cloze\n    type: cloze\n    text: "IMS stands for {{c1::Intramuscular}} {{c2::Stimulation}}."\n', "")
    ledger = project / "decks/sample.lock.json"
    data = json.loads(ledger.read_text())
    del data["notes"]["q-cloze"]
    ledger.write_text(json.dumps(data))
    assert run(project).exit_code == 0


def test_a_card_dropped_with_its_ledger_line_is_left_behind(released):
    drop_the_cloze_with_its_ledger_line(released)
    assert release_check(released) == (1, {"ok": False, "base": "main", "decks": {"sample": counts(unchanged=2, not_updated=1)}})


def test_without_anki_the_message_says_what_to_install(released, no_anki):
    result = run(released, "release-check", "main")
    assert (result.exit_code, result.stderr) == (1, "Error: release-check needs Anki's engine: pip install 'acudeck[anki]'\n")


def test_a_usage_error_exits_2(released):
    assert run(released, "release-check", "main", "--no-such-option").exit_code == 2


def test_preview_without_anki_says_what_to_install(project, no_anki):
    result = run(project, "preview")
    assert (result.exit_code, result.stderr) == (1, "Error: preview needs Anki's engine: pip install 'acudeck[anki]'\n")


def test_a_renamed_field_that_keeps_its_id_needs_no_import_option(released, monkeypatch):
    """Anki matches fields by id: a rename alone (the version bumped, as every new shape must be) is
    no change of shape to students whose note type has the ids, and the defaults update the notes."""
    from dataclasses import replace

    from acudeck import cardtypes
    from acudeck.notetypes import NoteField

    spec = cardtypes.NOTE_TYPES["basic"]
    front, back, *rest = spec.fields
    templates = tuple({**t, "afmt": t["afmt"].replace("{{Back}}", "{{Answer}}")} for t in spec.templates)
    monkeypatch.setitem(cardtypes.NOTE_TYPES, "basic", replace(spec, fields=(front, NoteField("Answer", back.id), *rest), templates=templates, version=2))
    assert run(released, "build", "--no-cache").exit_code == 0
    from acudeck.contents import read_apkg

    assert read_apkg(released / "decks/sample.apkg")["models"][spec.model_id]["fields"][1] == "Answer"
    assert release_check(released) == (0, {"ok": True, "base": "main", "decks": {"sample": counts(updated=1, unchanged=2)}})


def retire_cloze_and_add_a_card(project, front):
    edit(project, '  - id: q-cloze\n    type: cloze\n    text: "IMS stands for {{c1::Intramuscular}} {{c2::Stimulation}}."\n', "")
    deck = project / "cards_src/sample/deck.yaml"
    deck.write_text(deck.read_text() + "retired: [q-cloze]\n")
    path = project / "cards_src/sample/cards.yaml"
    path.write_text(path.read_text() + f"  - {{id: q-new, type: basic, front: '{front}', back: Intramuscular Stimulation.}}\n")


def test_release_notes_say_in_a_students_words_what_changed(released):
    edit(released, "Managing pain syndromes.", "The management of pain syndromes.")
    retire_cloze_and_add_a_card(released, "What is <b>IMS</b> short for, *in* 1 < 2 words & [why] @you #1?")
    write(released / "cards_src/extra/deck.yaml", DECK_YAML.format(key="extra"))
    write(released / "cards_src/extra/cards.yaml", "cards:\n  - {id: e-1, type: basic, front: One?, back: Two.}\n")
    assert run(released).exit_code == 0
    result = run(released, "release-check", "main", "--notes")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == NOTES
    assert rendered_items(result.stdout)[0] == "What is <b>IMS</b> short for, in 1 < 2 words & [why] @you #1?"


NOTES = """\
Changes to the decks since main.

### Test::extra

A new deck, 1 card: download `extra.apkg` and import it with Anki's default options.

### Test::sample

**How to import:** download `sample.apkg` and import it with Anki's default options. Your reviews and scheduling are kept.

**Added** (1 card)

- What is \\<b\\>IMS\\</b\\> short for, in 1 \\< 2 words \\& \\[why\\] \\@you \\#1?

**Corrected or changed** (1 card): updated in place; your reviews are kept.

- What is dry needling for?

**Withdrawn** (2 cards): each now shows "Withdrawn". To delete them, open **Browse** in Anki, search `tag:acudeck::retired`, \
select the cards and delete them (or keep them: they will not change again).

- IMS stands for \\[...\\] Stimulation.
- IMS stands for Intramuscular \\[...\\].
"""


def rendered_items(markdown):
    """The text of each list item as a CommonMark reader shows it; fails on any raw HTML."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(markdown)
    everything = [*tokens, *(child for token in tokens for child in token.children or ())]
    assert not [token for token in everything if token.type in ("html_block", "html_inline")]
    items, inside = [], False
    for token in tokens:
        inside = {"list_item_open": True, "list_item_close": False}.get(token.type, inside)
        if inside and token.type == "inline":
            items.append("".join(child.content for child in token.children if child.type in ("text", "code_inline")))
    return items


def test_notes_for_a_note_type_that_changed_shape_say_which_option_to_turn_on():
    from acudeck.releasenotes import DeckChanges, release_notes

    notes = release_notes("v1.0", [DeckChanges("herbs", "ACU::Herbs", options=["Merge note types", "Update notes: Always"]), DeckChanges("quiet", "Quiet")])
    assert notes == (
        "Changes to the decks since v1.0.\n\n### ACU::Herbs\n\n**How to import:** sync your other devices first. Then import `herbs.apkg` "
        "with **Merge note types** and **Update notes: Always** set in the import options (the layout of some cards changed). Anki then needs a one-way full "
        "sync: upload from this device. Your reviews are kept.\n"
    )


def test_the_default_base_is_the_latest_release_tag_reachable_from_head(released):
    from acudeck.diff import latest_release_tag

    assert latest_release_tag(released) is None
    for tag in ("v1.9", "v1.10", "v2.0-rc1", "version-3", "vx"):
        git(released, "tag", tag)
    git(released, "checkout", "-q", "-b", "elsewhere")
    git(released, "commit", "-q", "--allow-empty", "-m", "not on main")
    git(released, "tag", "v9")
    git(released, "checkout", "-q", "main")
    assert latest_release_tag(released) == "v1.10"
    edit(released, "Managing pain syndromes.", "The management of pain syndromes.")
    assert run(released).exit_code == 0
    result = run(released, "release-check")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "What a student's import does, since v1.10 (the latest release tag): ok"


def test_without_a_release_tag_the_base_is_head_and_notes_say_nothing_changed(released):
    result = run(released, "release-check", "--notes")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "No card changed since HEAD: there is nothing to import.\n", "")
    assert run(released, "release-check").stdout.splitlines()[0] == "What a student's import does, since HEAD (no release tag yet): ok"


def test_notes_of_a_release_with_problems_exit_1_and_explain_on_stderr(released):
    drop_the_cloze_with_its_ledger_line(released)
    result = run(released, "release-check", "main", "--notes")
    assert result.exit_code == 1
    assert result.stdout == "No card changed since main: there is nothing to import.\n"
    assert result.stderr.startswith("What a student's import does, since main: PROBLEMS\n")


def test_json_and_notes_together_are_a_usage_error(released):
    result = run(released, "release-check", "main", "--json", "--notes")
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (2, "Error: --json and --notes do not go together: choose one")


def test_notes_without_anki_say_what_to_install(released, no_anki):
    result = run(released, "release-check", "--notes")
    assert (result.exit_code, result.stderr) == (1, "Error: release-check needs Anki's engine: pip install 'acudeck[anki]'\n")


def test_a_course_deck_is_checked_as_its_students_import_it(project):
    write(project / "cards_src/sample/cards.yaml", CARDS_YAML)
    write(project / "courses/week-1.yaml", "key: week-1\nname: 'Course::Week 1'\nselect:\n  - deck: sample\n    types: [basic, cloze]\n")
    assert run(project).exit_code == 0
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "release 1")
    edit(project, "Managing pain syndromes.", "The management of pain syndromes.")
    deck = project / "cards_src/sample/deck.yaml"
    edit(project, '  - id: q-cloze\n    type: cloze\n    text: "IMS stands for {{c1::Intramuscular}} {{c2::Stimulation}}."\n', "")
    deck.write_text(deck.read_text() + "retired: [q-cloze]\n")
    assert run(project).exit_code == 0
    assert release_check(project) == (
        0,
        {"ok": True, "base": "main", "decks": {"sample": counts(updated=2, unchanged=1, retired=1), "week-1": counts(updated=2, retired=1)}},
    )


def test_the_notes_leave_out_what_the_card_hides_and_keep_blocks_apart():
    from acudeck.releasenotes import plain_question

    aspect = '<div class="aspect">What it is used for<div class="options">Dry needling or IMS?</div></div>'
    assert plain_question(f'<style>.x {{}}</style>{aspect}<div class="prompt">Dry needling</div>') == "What it is used for - Dry needling"
    shown = f'<div class="by-value">{aspect}<div class="prompt">Pain syndromes</div></div>'
    assert plain_question(shown) == "What it is used for - Dry needling or IMS? - Pain syndromes"
