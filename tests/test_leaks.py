"""No answer leaks under Anki's defaults: a student who studies a package in a fresh profile never
reads a card's answer on the back of a card met earlier the same day.

The student (real Anki, `study_days`): import the package into a fresh collection, select its deck,
and each day take cards from the scheduler's queue one at a time, answering Easy (so each leaves
learning), until it gives no more; then start the next day by resetting the decks' new-card count,
until no new card is left. Default options: 20 new cards a day, gathered by position, sorted by
card type, siblings not buried.

A **leak** is a card B met after a card A on the same day, where A's back, as the student sees it,
shows both what B asks and B's answer, so that B is answered by reading. Precisely, from the
structure of acudeck's templates:

- *The text a side shows*: its HTML without `<style>` and `<script>`, without the compare options
  that the CSS hides outside the value-to-item card (`.options` not inside `.by-value`), as words
  (runs of letters and digits, case-folded). "A shows x" means x's words appear in A's back as a
  consecutive run: "IMS" is not found in "IMSx", nor "value 2" in "value 20".
- *B's answer*: the text of each `.answer` element on B's back (basic, reversed, point, compare,
  and a picture's "What is marked here?"); for a cloze, each active deletion on B's back (Anki's
  `.cloze` spans); for a picture's "Where is ...?" card, which answers with the marked image, its
  label (the note's Label field). A shows B's answer when it shows every one of them.
- *What B asks*: the text of B's `.prompt` element on its front (a basic's question, a reversed or
  point card's side, a compare's item or value, a picture's prompt) and of its `.aspect` (a
  compare's aspect, less its options); for a cloze, each run of text between its `[...]` gaps. A
  picture card also asks by its image: A shows it when A is a picture card drawn from the same
  image (its sides belong to the note whose Unmarked side B shares). The fixed text of a template
  ("Which muscle?", "What is marked here?") is not part of it: it distinguishes no card.

So a compare's table leaks to its siblings, a cloze's back to its other deletions, a reversed
card's back to its reverse, a picture's extra that describes every spot to the other spots; and a
card that merely shares a word with B's question ("IMS") does not leak unless it shows the whole
question and its answer.
"""

from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from ankitools import fresh_collection, import_apkg
from conftest import REPO, write

import acudeck.package
from acudeck.order import SIBLING_SPREAD, Ordering
from acudeck.project import Project, build
from acudeck.tombstone import RETIRED_TAG

# --- what a side shows ----------------------------------------------------------------------------

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_WORD = re.compile(r"\w+")


@dataclass
class _Text:
    text: str
    classes: tuple[frozenset[str], ...]  # the classes of its enclosing elements, outermost first
    elements: tuple[int, ...]  # the ids of its enclosing elements


class _Side(HTMLParser):
    """A rendered side as runs of text, each with its enclosing elements, and the images it shows."""

    def __init__(self, rendered: str) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[_Text] = []
        self.images: list[str] = []
        self._open: list[tuple[str, frozenset[str], int]] = []
        self._count = 0
        self.feed(rendered)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img" and found.get("src"):
            self.images.append(html.unescape(found["src"] or ""))
        if tag in _VOID:
            self.texts.append(_Text(" ", (), ()))  # an image or a break separates words
            return
        self._count += 1
        self._open.append((tag, frozenset((found.get("class") or "").split()), self._count))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, -1, -1):
            if self._open[depth][0] == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        if any(tag in ("style", "script") for tag, _, _ in self._open):
            return
        self.texts.append(_Text(data, tuple(classes for _, classes, _ in self._open), tuple(n for _, _, n in self._open)))

    def shown(self) -> list[_Text]:
        """The runs a student sees: the compare options only on the value-to-item card."""
        return [t for t in self.texts if not _in(t, "options") or _in(t, "by-value")]

    def of_class(self, name: str) -> list[str]:
        """The text of each outermost element of class `name`, in order, less the options in it."""
        found: dict[int, list[str]] = {}
        for run in self.shown():
            if _in(run, "options"):
                continue
            outer = next((n for classes, n in zip(run.classes, run.elements, strict=True) if name in classes), None)
            if outer is not None:
                found.setdefault(outer, []).append(run.text)
        return ["".join(parts) for parts in found.values()]

    def words(self) -> str:
        return words(" ".join(run.text for run in self.shown()))

    def chunks_between(self, name: str, inside: str) -> list[str]:
        """The text of the element of class `inside`, cut at every element of class `name`."""
        chunks, current, last = [], [], None
        for run in self.shown():
            if not any(inside in c for c in run.classes):
                continue
            gap = next((n for classes, n in zip(run.classes, run.elements, strict=True) if name in classes), None)
            if gap is not None:
                if gap != last:
                    chunks.append("".join(current))
                    current = []
                last = gap
                continue
            last = None
            current.append(run.text)
        chunks.append("".join(current))
        return [w for w in map(words, chunks) if w]


def _in(run: _Text, name: str) -> bool:
    return any(name in classes for classes in run.classes)


def words(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def shows(haystack: str, needle: str) -> bool:
    return bool(needle) and f" {needle} " in f" {haystack} "


# --- one card as a student meets it ------------------------------------------------------------


@dataclass
class Met:
    """A card as the student met it: its rendered sides, what it asks and answers, and its picture."""

    card_id: int
    question: str
    answer: str
    asks: list[str]  # word strings: every one must be shown
    answers: list[str]
    back: str  # the words of its back
    picture: str | None  # the Unmarked side of its picture note, for a picture card
    pictures_shown: set[str] = field(default_factory=set)  # the pictures whose sides its back shows
    retired: bool = False  # a tombstone: it teaches nothing, so it neither gives away nor is given away

    def describe(self) -> str:
        return " ".join(_Side(self.question).words().split()[:14])


def met_card(card, sides_of: dict[str, str]) -> Met:
    question, answer = card.question(), card.answer()
    front, back = _Side(question), _Side(answer)
    note = card.note()
    is_picture = "Unmarked" in note and "Label" in note
    asks = [words(t) for t in [*front.of_class("aspect"), *front.of_class("prompt")]]
    if front.of_class("cloze"):  # the gaps on a cloze's front are its `.cloze` spans
        asks = front.chunks_between("cloze", "prompt")
    answers = [words(t) for t in back.of_class("answer")] or [words(t) for t in back.of_class("cloze")]
    if is_picture and not answers:
        answers = [words(html.unescape(re.sub(r"<[^>]+>", " ", note["Label"])))]
    picture = _unmarked(note) if is_picture else None
    shown = {sides_of[src] for src in back.images if src in sides_of}
    retired = RETIRED_TAG in note.tags
    return Met(card.id, question, answer, [a for a in asks if a], [a for a in answers if a], back.words(), picture, shown, retired)


_SRC = re.compile(r'src="([^"]+)"')


def _unmarked(note) -> str:
    found = _SRC.search(note["Unmarked"])
    return html.unescape(found.group(1)) if found else ""


def picture_sides(col) -> dict[str, str]:
    """Every side of every picture note (by media name) -> the note's Unmarked side: its picture."""
    sides = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        if "Unmarked" in note and "Marked" in note:
            picture = _unmarked(note)
            for part in ("Marked", "Unmarked"):
                sides.update({html.unescape(src): picture for src in _SRC.findall(note[part])})
    return sides


def leaks_into(earlier: Met, later: Met) -> bool:
    """Whether `earlier`'s back shows what `later` asks and its answer."""
    if earlier.retired or later.retired or not later.answers or not (later.asks or later.picture):
        return False
    if later.picture is not None and later.picture not in earlier.pictures_shown:
        return False
    return all(shows(earlier.back, text) for text in [*later.asks, *later.answers])


# --- the student -------------------------------------------------------------------------------


def study_days(apkg: Path, tmp_path: Path) -> list[list[Met]]:
    """The cards a student meets each day, in order, studying the package with default options."""
    with fresh_collection(tmp_path) as col:
        import_apkg(col, apkg)
        col.decks.select(col.get_card(col.find_cards("")[0]).did)  # a package is one deck
        sides = picture_sides(col)
        days: list[list[Met]] = []
        while True:
            day = []
            while queued := col.sched.get_queued_cards(fetch_limit=1).cards:
                card = col.get_card(queued[0].card.id)
                card.start_timer()
                day.append(met_card(card, sides))
                col.sched.answerCard(card, 4)  # Easy: it leaves learning and does not come back today
            if not day:
                return days
            days.append(day)
            for config in col.decks.all():
                config["newToday"] = [col.sched.today, 0]
                col.decks.save(config)


def leaks(days: list[list[Met]]) -> list[str]:
    found = []
    for number, day in enumerate(days, 1):
        for i, later in enumerate(day):
            for earlier in day[:i]:
                if leaks_into(earlier, later):
                    found.append(f"day {number}: '{earlier.describe()}' answers '{later.describe()}'")
    return found


# --- small decks that leak when their cards share a day -------------------------------------------


def make_project(root: Path, files: dict[str, str], key: str = "leaky") -> Path:
    write(root / f"cards_src/{key}/deck.yaml", f'key: {key}\nname: "Test::{key}"\n')
    for name, text in files.items():
        write(root / f"cards_src/{key}/{name}", text)
    return root


def build_deck(root: Path, key: str = "leaky", spread: bool = True, monkeypatch=None) -> Path:
    """Build the project; without `spread`, every card at position 0, as genanki writes them."""
    if not spread:
        monkeypatch.setattr(acudeck.package, "arrange", lambda families: Ordering([0] * len(families), []))
    build(Project(root), now=1_800_000_000)
    return root / f"decks/{key}.apkg"


COMPARE = """\
cards:
  - id: targets
    type: compare
    aspect: What the practitioner primarily needles
    items:
      Dry needling: Trigger points
      IMS: Motor points
"""
CLOZE = """\
cards:
  - id: needle-kind
    type: cloze
    text: "Filiform needles are {{c1::solid}} and come to a {{c2::fine tip}}."
"""
REVERSED = """\
cards:
  - id: ims-letters
    type: reversed
    front: IMS
    back: Intramuscular Stimulation
"""
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><rect width="200" height="100" fill="#eee"/></svg>\n'
PICTURE = """\
cards:
  - id: two-points
    type: picture
    image: body.svg
    width: 200
    height: 100
    prompt: The body, seen from behind.
    spots:
      - label: SI 9
        at: [50, 50]
      - label: SI 10
        at: [150, 50]
    extra: "SI 9: low on the left. SI 10: high on the right."
"""
# Cards that share the word IMS, in their questions and as an answer: none answers another.
UNRELATED = """\
cards:
  - id: ims-letters
    type: basic
    front: What do the letters IMS stand for?
    back: Intramuscular Stimulation
  - id: ims-target
    type: basic
    front: What does an IMS practitioner primarily needle?
    back: Motor points
    extra: IMS and dry needling can look alike.
  - id: ims-speed
    type: basic
    front: How quickly does IMS usually relieve pain?
    back: Often within a few treatments.
  - id: nerve-reset
    type: basic
    front: Which needling technique resets the nerve supply to a muscle?
    back: IMS
"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"c.yaml": COMPARE}, "the compare table answers its siblings"),
        ({"c.yaml": CLOZE}, "a cloze's back shows its other deletion"),
        ({"c.yaml": REVERSED}, "a reversed card's back answers its reverse"),
        ({"c.yaml": PICTURE}, "a picture's extra describes the other spot"),
    ],
    ids=["compare", "cloze", "reversed", "picture-extra"],
)
def test_a_leak_between_siblings_met_the_same_day_is_reported(tmp_path, monkeypatch, files, expected):
    root = make_project(tmp_path / "p", files)
    if "picture" in files["c.yaml"]:
        write(root / "cards_src/leaky/media/body.svg", SVG)
    days = study_days(build_deck(root, spread=False, monkeypatch=monkeypatch), tmp_path)
    assert len(days) == 1
    assert leaks(days), expected


def test_the_compare_options_name_the_items_and_are_not_the_leak(tmp_path, monkeypatch):
    """The value-to-item card names its options; met alone with an unrelated card, nothing leaks."""
    root = make_project(tmp_path / "p", {"c.yaml": COMPARE.replace("IMS: Motor points", "IMS: Motor points\n      acupuncture: Points on meridians")})
    days = study_days(build_deck(root, spread=False, monkeypatch=monkeypatch), tmp_path)
    by_value = [met for met in days[0] if 'class="by-value"' in met.question]
    assert len(by_value) == 3
    assert all("Dry needling, IMS or acupuncture?" in met.question for met in by_value)
    assert all(words("Dry needling, IMS or acupuncture") not in met.back for met in days[0] if met not in by_value)


def test_cards_that_share_a_word_do_not_leak(tmp_path, monkeypatch):
    root = make_project(tmp_path / "p", {"c.yaml": UNRELATED})
    days = study_days(build_deck(root, spread=False, monkeypatch=monkeypatch), tmp_path)
    assert len(days) == 1 and len(days[0]) == 4
    assert leaks(days) == []
    # Every back shows "IMS", the last card's answer and a word of each other question: not enough.
    assert all(shows(met.back, "ims") for met in days[0])


# --- the committed decks and large generated ones ----------------------------------------------


@pytest.mark.parametrize("deck", ["needling", "acu-201-week-3"])
def test_the_committed_decks_do_not_leak(tmp_path, deck):
    days = study_days(REPO / f"decks/{deck}.apkg", tmp_path)
    assert len(days) >= 5 and all(len(day) <= SIBLING_SPREAD for day in days)
    assert leaks(days) == []


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))


def generated_cards(seed: int, compares: int = 30, clozes: int = 30, basics: int = 80) -> dict[str, str]:
    """Card files of many compares (2 to 4 items), clozes (2 to 5 deletions) and basics, in words of no language."""
    rng = random.Random(seed)
    used: set[str] = set()

    def word() -> str:
        while (found := _word(rng)) in used:
            pass
        used.add(found)
        return found

    def phrase(n: int) -> str:
        return " ".join(word() for _ in range(n))

    compare_cards = []
    for i in range(compares):
        items = "".join(f"\n      {phrase(2).capitalize()}: {phrase(3)}" for _ in range(rng.randint(2, 4)))
        compare_cards.append(f"  - id: compare-{i}\n    type: compare\n    aspect: {phrase(4)}\n    items:{items}\n")
    cloze_cards = []
    for i in range(clozes):
        text = " ".join(f"{phrase(3)} {{{{c{n}::{phrase(2)}}}}}" for n in range(1, rng.randint(2, 5) + 1))
        cloze_cards.append(f'  - id: cloze-{i}\n    type: cloze\n    text: "{text}."\n')
    basic_cards = [f"  - id: basic-{i}\n    type: basic\n    front: {phrase(5)}?\n    back: {phrase(2)}\n" for i in range(basics)]
    return {"a-compares.yaml": "cards:\n" + "".join(compare_cards), "b-clozes.yaml": "cards:\n" + "".join(cloze_cards), "c-basics.yaml": "cards:\n" + "".join(basic_cards)}


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_decks_with_many_compares_and_clozes_do_not_leak(tmp_path, monkeypatch, seed):
    root = make_project(tmp_path / "p", generated_cards(seed))
    days = study_days(build_deck(root), tmp_path)
    assert sum(map(len, days)) > 300
    assert leaks(days) == []
    # The same deck with every card at one position, as genanki writes it, does leak: the test can fail.
    unspread = study_days(build_deck(make_project(tmp_path / "q", generated_cards(seed)), spread=False, monkeypatch=monkeypatch), tmp_path / "q")
    assert leaks(unspread)
