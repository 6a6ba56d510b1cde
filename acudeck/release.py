"""`release-check BASE`: what every student's import of the new build will do, found by doing it.

BASE's decks and the working tree's are built (as `diff` builds them), then, per deck, Anki's own
engine imports BASE's package into a fresh collection with the default import options, studies a
few cards, and imports the new package; the import log and the collection before and after say
what a student who had BASE gets.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .contents import read_apkg
from .diff import DeckDiff, diff_trees, latest_release_tag, prepare_trees, released_decks
from .errors import BuildError, Problem, SourceError
from .inputs import OUT_DIR, SRC_DIR
from .releasenotes import DeckChanges, plain_question
from .source import find_decks
from .tombstone import RETIRED_TAG

ANKI_MISSING = "release-check needs Anki's engine: pip install 'acudeck[anki]'"
STUDIED = 5  # cards answered per deck before the update, so that reviews and scheduling can be lost


@dataclass
class DeckImport:
    """What importing the new build does to a collection that holds BASE's deck."""

    new: int = 0  # notes added
    updated: int = 0  # notes Anki updated (their mod is newer)
    unchanged: int = 0  # notes Anki left alone (their mod did not move)
    conflicting: int = 0  # notes Anki refused to update: their note type changed shape
    retired: int = 0  # notes now tombstones (tag acudeck::retired)
    not_updated: int = 0  # notes whose content changed (or that vanished) but that Anki will not update
    reviews_lost: int = 0  # cards whose scheduling or review history the import changed or removed
    notetype_changes: list[str] = field(default_factory=list)  # how each changed note type reaches students
    needs_merge: bool = False  # a note type changed its fields or templates: students need "Merge note types"
    questions: dict[str, list[str]] = field(default_factory=dict)  # guid -> its cards' questions, for the notes

    @property
    def ok(self) -> bool:
        return not (self.conflicting or self.not_updated or self.reviews_lost)


@dataclass
class ReleaseReport:
    base: str
    decks: dict[str, DeckImport]
    problems: list[Problem] = field(default_factory=list)  # what `check --base BASE` finds
    why_base: str = ""  # why this BASE, when the user named none
    changes: list[DeckChanges] = field(default_factory=list)  # per deck, for the release notes (when asked for)

    @property
    def ok(self) -> bool:
        return not self.problems and all(deck.ok for deck in self.decks.values())

    def to_json(self) -> str:
        decks = {key: {name: value for name, value in asdict(deck).items() if name not in _NOT_IN_JSON} for key, deck in self.decks.items()}
        return json.dumps({"ok": self.ok, "base": self.base, "decks": decks}, indent=1) + "\n"

    def to_text(self) -> str:
        since = f"{self.base} ({self.why_base})" if self.why_base else self.base
        lines = [f"What a student's import does, since {since}: {'ok' if self.ok else 'PROBLEMS'}"]
        for key, deck in self.decks.items():
            lines += [
                "",
                f"{key}: {deck.new} new, {deck.updated} updated, {deck.unchanged} unchanged, {deck.conflicting} conflicting, "
                f"{deck.retired} retired, {deck.not_updated} not updated, {deck.reviews_lost} reviews lost",
            ]
            lines += [f"  note type {change}" for change in deck.notetype_changes]
            if deck.not_updated:
                lines.append("  ! content changed but Anki will not update it (its mod is not newer, or the note vanished): run 'python build.py check --base'")
            if deck.conflicting:
                lines.append("  ! Anki marks these notes conflicting and stops updating them: a card changed type, or a note type its fields")
            if deck.reviews_lost:
                lines.append("  ! students would lose reviews or scheduling")
        if self.problems:
            lines += ["", f"check --base {self.base}:", *map(str, self.problems)]
        return "\n".join(lines) + "\n"


_NOT_IN_JSON = {"notetype_changes", "needs_merge", "questions"}


def default_base(root: Path) -> tuple[str, str]:
    """(BASE, why) when the user names none: the latest release tag reachable from HEAD, else HEAD."""
    tag = latest_release_tag(root)
    return (tag, "the latest release tag") if tag else ("HEAD", "no release tag yet")


def release_check(root: Path, rev: str, now: int, notes: bool = False, why_base: str = "") -> ReleaseReport:
    """The report; with `notes`, also each deck's changes in a student's words (report.changes)."""
    _require_anki()
    with tempfile.TemporaryDirectory(prefix="acudeck-release-") as work:
        base, head = prepare_trees(root, rev, Path(work), now)
        problems = _history(head, rev, base)
        diffs = {diff.key: diff for diff in diff_trees(base, head)} if notes else {}
        decks = {}
        for key in _deck_keys(base):
            old, new = base / OUT_DIR / f"{key}.apkg", head / OUT_DIR / f"{key}.apkg"
            if old.is_file() and not old.is_symlink():
                wanted = _wanted_questions(diffs[key]) if key in diffs else (set(), set())
                decks[key] = simulate(old, new if new.is_file() and not new.is_symlink() else None, Path(work) / f"anki-{key}", wanted)
        changes = [_deck_changes(diff, decks.get(diff.key)) for diff in diffs.values()]
        return ReleaseReport(rev, decks, problems, why_base, changes)


def _withdrawn(diff: DeckDiff) -> list:
    """The notes of BASE that are tombstones now (a note that vanished unretired is a problem instead)."""
    return [note for note in diff.removed if note.key in diff.retired or note.card_id in diff.retired]


def _wanted_questions(diff: DeckDiff) -> tuple[set[str], set[str]]:
    """The guids whose questions the notes show: (before the update, after it)."""
    return {note.guid for note in _withdrawn(diff)}, {note.guid for note in (*diff.added, *(new for _, new in diff.changed))}


def _deck_changes(diff: DeckDiff, deck: DeckImport | None) -> DeckChanges:
    if deck is None:  # BASE had no such deck
        return DeckChanges(diff.key, diff.name, new_deck_cards=sum(len(note.ords) for note in diff.added))
    asked = lambda notes: [question for note in notes for question in deck.questions.get(note.guid, [])]  # noqa: E731
    return DeckChanges(diff.key, diff.name, deck.needs_merge, asked(diff.added), asked(new for _, new in diff.changed), asked(_withdrawn(diff)))


def _history(head: Path, rev: str, base: Path) -> list[Problem]:
    """The ledger history rules (ledger.history_problems) and every other check, on the built copy."""
    from .project import Project, check

    try:
        return check(Project(head, use_cache=False), (), None, (rev, released_decks(base)))
    except SourceError as exc:
        return exc.problems


def _deck_keys(tree: Path) -> list[str]:
    return [folder.name for folder in find_decks(tree / SRC_DIR)] if (tree / SRC_DIR).is_dir() else []


def _require_anki() -> None:
    try:
        import anki.collection  # noqa: F401
    except ImportError:
        raise BuildError(ANKI_MISSING) from None


def simulate(old: Path, new: Path | None, folder: Path, wanted: tuple[set[str], set[str]] = (set(), set())) -> DeckImport:
    """Import `old`, study, import `new` (None: the deck is gone), and count what happened; with the
    questions of the notes in `wanted` as students read them (before the update, after it)."""
    before, after = read_apkg(old), read_apkg(new) if new else {"notes": {}, "models": {}}
    result = DeckImport()
    folder.mkdir()
    with _collection(folder) as col:
        _import(col, old)
        _study(col)
        state = _card_state(col)
        result.questions = _questions(col, wanted[0])
        log = _import(col, new) if new else None
        result.questions |= _questions(col, wanted[1])
        if log is not None:
            guid_of = dict(col.db.all("SELECT id, guid FROM notes"))
            updated = {guid_of[entry.id.nid] for entry in log.updated}
            conflicting = {guid_of.get(entry.id.nid, "") for entry in log.conflicting}
            result.new, result.updated, result.unchanged, result.conflicting = len(log.new), len(updated), len(log.duplicate), len(log.conflicting)
            result.retired = sum(1 for guid in updated if RETIRED_TAG in after["notes"][guid]["tags"] and RETIRED_TAG not in before["notes"].get(guid, {}).get("tags", []))
        else:
            updated = conflicting = set()
        changed = {guid for guid, note in before["notes"].items() if guid in after["notes"] and _content(after["notes"][guid]) != _content(note)}
        vanished = before["notes"].keys() - after["notes"].keys()
        result.not_updated = len(changed - updated - conflicting) + len(vanished)
        now = _card_state(col)
        result.reviews_lost = sum(1 for cid, row in state.items() if now.get(cid) != row)
    result.notetype_changes = _notetype_changes(before["models"], after["models"])
    result.needs_merge = any(_changed_shape(before["models"][mid], after["models"][mid]) for mid in before["models"].keys() & after["models"].keys())
    return result


def _questions(col, guids: set[str]) -> dict[str, list[str]]:
    """guid -> the questions of its cards (by card ord), as plain text."""
    questions = {}
    for guid in guids:
        cards = col.db.list("SELECT c.id FROM cards c JOIN notes n ON c.nid = n.id WHERE n.guid = ? ORDER BY c.ord", guid)
        questions[guid] = [plain_question(col.get_card(cid).question()) for cid in cards]
    return questions


def _changed_shape(old: dict, new: dict) -> bool:
    """Fields or templates added, removed or renamed: Anki's default import refuses the notes."""
    return (old["fields"], [t[0] for t in old["templates"]]) != (new["fields"], [t[0] for t in new["templates"]])


def _content(note: dict) -> tuple:
    return (note["mid"], note["fields"], sorted(note["tags"]))


def _notetype_changes(before: dict, after: dict) -> list[str]:
    changes = []
    for mid in sorted(before.keys() & after.keys()):
        old, new = before[mid], after[mid]
        if _changed_shape(old, new):
            changes.append(f"'{new['name']}' changed its fields or templates: students must import with 'Merge note types' (then a full sync)")
        elif old != new and new["mod"] <= old["mod"]:
            changes.append(f"'{new['name']}' changed but its mod is not newer: students keep the old templates")
        elif old != new:
            changes.append(f"'{new['name']}' templates or styling updated in place")
    return changes


@contextlib.contextmanager
def _collection(folder: Path) -> Iterator:
    from anki.collection import Collection

    col = Collection(str(folder / "collection.anki2"))
    try:
        yield col
    finally:
        col.close()


def _import(col, path: Path):
    from anki.collection import ImportAnkiPackageRequest

    options = col._backend.get_import_anki_package_presets()  # Anki's defaults, as the GUI offers them
    response = col.import_anki_package(ImportAnkiPackageRequest(package_path=str(path.resolve()), options=options))
    col.models._clear_cache()  # the importer does not invalidate the note type cache
    return response.log


def _study(col) -> None:
    """Answer a few cards of every deck with the real scheduler, and make one a review card."""
    for entry in col.decks.all_names_and_ids():
        if entry.name == "Default":
            continue
        col.decks.select(entry.id)
        for _ in range(STUDIED):
            card = col.sched.getCard()
            if card is None:
                break
            col.sched.answerCard(card, 3)
    unstudied = col.find_cards("is:new")
    if unstudied:
        col.sched.set_due_date(list(unstudied[:1]), "3")


def _card_state(col) -> dict[int, tuple]:
    state = {}
    for row in col.db.all("SELECT id, nid, ord, type, queue, ivl, due, reps, lapses, factor, did FROM cards"):
        revlog = tuple(col.db.all("SELECT id, ease, ivl, lastIvl, factor, time, type FROM revlog WHERE cid = ? ORDER BY id", row[0]))
        state[row[0]] = (*row[1:], revlog)
    return state
