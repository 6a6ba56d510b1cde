"""The committed needling deck, imported into real Anki, and `check` on the repository."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from ankitools import fresh_collection, import_apkg, log_counts, render_all, visible_text
from click.testing import CliRunner

from acudeck.__main__ import cli
from acudeck.notes import note_guid
from acudeck.source import load_deck
from acudeck.text import cloze_numbers
from acudeck.yamlfile import load_yaml

REPO = Path(__file__).resolve().parent.parent
DECK_DIR = REPO / "cards_src/needling"
APKG = REPO / "decks/needling.apkg"

PER_NOTE = {"basic": 1, "reversed": 2, "point": 2, "compare": 2, "picture": 2}


def expected_cards(notes) -> int:
    return sum(len(cloze_numbers(n.fields[0])) if n.card_type == "cloze" else PER_NOTE[n.card_type] for n in notes)


@pytest.fixture(scope="module")
def compiled():
    deck = load_deck(DECK_DIR, REPO)
    return deck, deck.notes


@pytest.fixture(scope="module")
def retired():
    """The tombstones the package must hold: per retired note key, its card ords (from the ledger)."""
    return {key: shape["ords"] for key, shape in json.loads((REPO / "decks/needling.lock.json").read_text())["retired"].items()}


@pytest.fixture(scope="module")
def imported(tmp_path_factory, compiled):
    """The committed package imported into a fresh collection: (log counts, notes, cards, decks, renders)."""
    with fresh_collection(tmp_path_factory.mktemp("needling")) as col:
        log = import_apkg(col, APKG)
        guids = col.db.list("SELECT guid FROM notes")
        decks = {col.decks.name(did) for did in col.db.list("SELECT DISTINCT did FROM cards")}
        yield log_counts(log), guids, col.card_count(), decks, render_all(col)


def test_every_compiled_note_and_every_tombstone_is_in_the_package(imported, compiled, retired):
    counts, guids, _, _, _ = imported
    _, notes = compiled
    tombstones = {note_guid("needling", key) for key in retired}
    assert counts["new"] == len(notes) + len(retired)
    assert len(guids) == len(set(guids)) == len(notes) + len(retired)
    assert set(guids) == {note.guid for note in notes} | tombstones


def test_card_count_matches_the_card_types(imported, compiled, retired):
    _, _, card_count, _, _ = imported
    _, notes = compiled
    assert card_count == expected_cards(notes) + sum(len(ords) for ords in retired.values())


def test_every_card_renders_a_front_and_a_back(imported):
    renders = imported[4]
    assert renders
    for question, answer in renders:
        assert visible_text(question), question
        assert visible_text(answer), answer
        assert "front of this card is blank" not in visible_text(question).lower()


def test_deck_name_is_the_one_from_deck_yaml(imported, compiled):
    deck, _ = compiled
    name = load_yaml(DECK_DIR / "deck.yaml", "deck.yaml").data["name"]
    assert deck.name == name
    assert imported[3] == {name}


def test_check_passes_on_the_repository():
    result = CliRunner().invoke(cli, ["-C", str(REPO), "check"])
    assert result.exit_code == 0, result.output + result.stderr


QUOTE_DECK = """\
key: quoted
name: "Test::Quoted"
reading:
  title: A test reading
"""

QUOTE_CARDS = """\
cards:
  - id: q-one
    type: basic
    front: What does IMS stand for?
    back: Intramuscular Stimulation.
    source: "IMS (Intramuscular  Stimulation) is a \u201cneuromuscular\u201d technique"
  - id: q-two
    type: basic
    front: What do dry needling practitioners look for?
    back: Trigger points.
    source: "looking to identify and treat trigger points"
"""

READING_OK = """\
An article.  ims (intramuscular
stimulation) is a "neuromuscular" TECHNIQUE, it says.
Practitioners are Looking to identify and treat trigger   points.
"""


@pytest.fixture
def quoted(tmp_path):
    root = tmp_path / "proj"
    for rel, text in (("cards_src/quoted/deck.yaml", QUOTE_DECK), ("cards_src/quoted/cards.yaml", QUOTE_CARDS)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text), encoding="utf-8")
    result = CliRunner().invoke(cli, ["-C", str(root), "build"])
    assert result.exit_code == 0, result.output + result.stderr
    return root


def test_check_source_text_passes_when_every_quote_is_in_the_text(quoted, tmp_path):
    reading = tmp_path / "reading.txt"
    reading.write_text(READING_OK, encoding="utf-8")
    result = CliRunner().invoke(cli, ["-C", str(quoted), "check", "--source-text", str(reading)])
    assert result.exit_code == 0, result.output + result.stderr


def test_check_source_text_reports_a_quote_missing_from_the_text(quoted, tmp_path):
    reading = tmp_path / "reading.txt"
    reading.write_text(READING_OK.replace("treat trigger", "treat some trigger"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["-C", str(quoted), "check", "--source-text", str(reading)])
    assert result.exit_code == 1, result.output + result.stderr
    assert "q-two" in result.stderr and "source quote not found in reading.txt" in result.stderr
    assert "q-one" not in result.stderr
    assert "cards_src/quoted/cards.yaml:" in result.stderr


ARTICLE = REPO.parent / "shared/source/needling-article.txt"  # the article, beside a working copy; not in the repository


@pytest.mark.skipif(not ARTICLE.is_file(), reason="the article is not beside this working copy")
def test_every_quote_of_the_needling_deck_is_in_the_article():
    result = CliRunner().invoke(cli, ["-C", str(REPO), "--no-cache", "check", "--source-text", str(ARTICLE)])
    assert result.exit_code == 0, result.output + result.stderr


def test_every_contested_card_says_why_and_corrections_name_their_reference(compiled):
    """A contested card says on its back what is contested; one that corrects or goes beyond the
    article names the reference it follows (a claim the card only marks as a claim needs none)."""
    deck, _ = compiled
    contested = [card for card in deck.cards if "needling::contested" in card.tags]
    assert len(contested) >= 8
    for card in contested:
        assert card.extra, f"{card.id}: a contested card says why in its extra"
        assert card.reference or "claim" in card.extra, f"{card.id}: a correction names its reference"


def test_every_card_quotes_the_article_or_names_a_reference(compiled):
    deck, _ = compiled
    assert not [card.id for card in deck.cards if not card.sources and not card.reference]
