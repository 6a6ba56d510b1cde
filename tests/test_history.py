"""`check --base BASE`: the ledgers keep what BASE released (mods, retired cards and items, card types)."""

import json
import re

import pytest
from conftest import CARDS_YAML, git, run, write

COMPARE = """\
  - id: q-compare
    type: compare
    aspect: What the practitioner needles
    items:
      Dry needling: Trigger points
      IMS: Motor points
"""


@pytest.fixture
def released(project):
    """The sample project with a compare card, built and committed as `main`."""
    write(project / "cards_src/sample/cards.yaml", CARDS_YAML + COMPARE)
    assert run(project).exit_code == 0
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "release 1")
    return project


def cards(project):
    return project / "cards_src/sample/cards.yaml"


def edit(project, old, new):
    path = cards(project)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def mods(project):
    return {key: entry["mod"] for key, entry in json.loads((project / "decks/sample.lock.json").read_text())["notes"].items()}


def set_mod(project, key, mod):
    """Rewrite one ledger line's mod, as a careless or hostile pull request would, then rebuild."""
    path = project / "decks/sample.lock.json"
    text, count = re.subn(rf'("{re.escape(key)}": {{"hash": "[0-9a-f]+", "mod": )\d+', rf"\g<1>{mod}", path.read_text())
    assert count == 1
    path.write_text(text)
    assert run(project).exit_code == 0


def check_base(project):
    return run(project, "check", "--base", "main")


def test_an_honest_edit_passes(released):
    edit(released, "Managing pain syndromes.", "The management of pain syndromes.")
    assert run(released).exit_code == 0
    result = check_base(released)
    assert (result.exit_code, result.stderr) == (0, "ok\n")


def test_an_edit_that_keeps_the_released_mod_is_refused(released):
    before = mods(released)
    edit(released, "Managing pain syndromes.", "The management of pain syndromes.")
    assert run(released).exit_code == 0
    set_mod(released, "q-basic", before["q-basic"])
    assert run(released, "check").exit_code == 0  # the ledger agrees with itself: only the history shows it
    result = check_base(released)
    assert result.exit_code == 1
    assert result.stderr == (
        f"cards_src/sample/cards.yaml:2:5: note 'q-basic' changed since main but its mod {before['q-basic']} is not newer, "
        "so students' Anki would not update it; restore its line in decks/sample.lock.json from main and run 'python build.py'\n"
    )


def test_a_mod_moved_backwards_is_refused(released):
    before = mods(released)
    set_mod(released, "q-point", before["q-point"] - 5)
    result = check_base(released)
    assert result.exit_code == 1
    assert result.stderr == (
        f"cards_src/sample/cards.yaml:9:5: note 'q-point': its mod {before['q-point'] - 5} is older than main's {before['q-point']}; "
        "restore its line in decks/sample.lock.json from main and run 'python build.py'\n"
    )


def test_a_mod_in_the_future_is_refused(released):
    set_mod(released, "q-point", 4_000_000_000)
    result = check_base(released)
    assert result.exit_code == 1
    assert result.stderr == (
        "cards_src/sample/cards.yaml:9:5: note 'q-point': its mod 4000000000 lies in the future; restore its line in decks/sample.lock.json from main and run 'python build.py'\n"
    )


def test_a_type_change_under_the_same_id_is_refused(released):
    edit(released, "  - id: q-basic\n    type: basic\n", "  - id: q-basic\n    type: reversed\n")
    edit(released, "    extra: Mostly *pain*.\n", "")
    assert run(released).exit_code == 0  # the ledger alone cannot tell: it keeps no card types
    result = check_base(released)
    assert result.exit_code == 1
    assert result.stderr == (
        "cards_src/sample/cards.yaml:2:5: card 'q-basic' was a basic card in main and is now reversed; "
        "Anki would mark its notes conflicting and stop updating them: restore its type, "
        "or list 'q-basic' under 'retired:' in deck.yaml and add the new card under a new id\n"
    )


def test_a_dropped_compare_item_is_refused_like_a_dropped_card(released):
    edit(released, "      IMS: Motor points\n", "      Acupuncture: Meridian points\n")
    result = run(released)
    assert result.exit_code == 1
    assert result.stderr == (
        "cards_src/sample/deck.yaml:1:1: item 'IMS' of card 'q-compare' was released (decks/sample.lock.json) and is gone from the sources; "
        "restore it, or list 'q-compare/IMS' under 'retired:' in deck.yaml (a renamed item is a new note: retire the old name)\n"
    )
    deck = released / "cards_src/sample/deck.yaml"
    deck.write_text(deck.read_text() + "retired: [q-compare/IMS]\n")
    assert run(released).exit_code == 0
    result = check_base(released)
    assert (result.exit_code, result.stderr) == (0, "ok\n")


def test_a_retired_item_cannot_come_back(released):
    deck = released / "cards_src/sample/deck.yaml"
    deck.write_text(deck.read_text() + "retired: [q-compare/IMS]\n")
    result = run(released, "check")
    assert result.exit_code == 1
    assert result.stderr == "cards_src/sample/deck.yaml:8:11: item 'IMS' of card 'q-compare' is retired and can never be used again\n"


def drop_ledger_lines(project, prefix):
    path = project / "decks/sample.lock.json"
    data = json.loads(path.read_text())
    data["notes"] = {key: entry for key, entry in data["notes"].items() if not key.startswith(prefix)}
    path.write_text(json.dumps(data))


def test_notes_dropped_from_the_ledger_too_are_still_caught(released):
    text = cards(released).read_text()
    cards(released).write_text(
        text.replace("      IMS: Motor points\n", "      Acupuncture: Meridian points\n").replace(text[text.index("  - id: q-point") : text.index("  - id: q-cloze")], "")
    )
    drop_ledger_lines(released, "q-compare/IMS")
    drop_ledger_lines(released, "q-point")
    assert run(released).exit_code == 0
    assert run(released, "check").exit_code == 0
    result = check_base(released)
    assert result.exit_code == 1
    assert result.stderr == (
        "cards_src/sample/deck.yaml:1:1: card 'q-point' was released in main and is gone from the sources; restore it, or list it under 'retired:' in deck.yaml\n"
        "cards_src/sample/deck.yaml:1:1: item 'IMS' of card 'q-compare' was released in main and is gone from the sources; "
        "restore it, or list 'q-compare/IMS' under 'retired:' in deck.yaml (a renamed item is a new note: retire the old name)\n"
    )


def test_a_base_that_looks_like_an_option_is_refused(released):
    result = run(released, "check", "--base", "--output=x")
    assert result.exit_code == 1
    assert result.stderr == "Error: cannot read revision '--output=x': a revision does not start with '-'\n"


def test_a_tombstone_must_keep_the_cards_base_released(released):
    deck = released / "cards_src/sample/deck.yaml"
    deck.write_text(deck.read_text() + "retired: [q-cloze]\n")
    edit(released, '  - id: q-cloze\n    type: cloze\n    text: "IMS stands for {{c1::Intramuscular}} {{c2::Stimulation}}."\n', "")
    assert run(released).exit_code == 0
    assert (check_base(released).exit_code, check_base(released).stderr) == (0, "ok\n")
    path = released / "decks/sample.lock.json"
    path.write_text(path.read_text().replace('"q-cloze": {"ords": [0, 1], "type": "cloze"}', '"q-cloze": {"ords": [0], "type": "cloze"}'))
    assert run(released).exit_code == 0
    result = check_base(released)
    assert result.exit_code == 1
    assert result.stderr == (
        "cards_src/sample/deck.yaml:8:11: retired note 'q-cloze' is recorded with other cards than main released; "
        "restore its line in decks/sample.lock.json from main and run 'python build.py'\n"
    )
