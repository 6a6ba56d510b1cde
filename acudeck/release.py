"""`release-check BASE`: what every student's import of the new build will do, found by doing it.

BASE's decks and the working tree's are built (as `diff` builds them), then, per deck, Anki's own
engine imports BASE's package into a fresh collection with the default import options, studies a
few cards, and imports the new package; the import log and the collection before and after say
what a student who had BASE gets.

A note type whose shape changed (a bumped version, notetypes.py) cannot reach students under the
default options: Anki makes "Name+" and marks the notes conflicting. The import is then tried again
with "Merge note types", and, if the notes are still not all updated (the merge stamps every note it
reshapes with the import time, newer than the package's), with "Update notes: Always" as well. The
deck's counts are those of the first options that lose nothing (or of the last tried); `options`
names what students must turn on, and `with_default_options` keeps the counts of the defaults.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .contents import note_guids, read_apkg
from .course import find_courses
from .diff import DeckDiff, diff_trees, export_revision, latest_release_tag, prepare_trees, released_decks
from .errors import BuildError, Problem, SourceError
from .inputs import OUT_DIR, SRC_DIR
from .releasenotes import DeckChanges, plain_question
from .source import find_decks
from .tombstone import RETIRED_TAG

MERGE_NOTETYPES = "Merge note types"
UPDATE_ALWAYS = "Update notes: Always"
ANKI_MISSING = "release-check needs Anki's engine: pip install 'acudeck[anki]'"
Questions = tuple[set[str], set[str]]  # the guids whose questions to read: before the update, after it
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
    options: list[str] = field(default_factory=list)  # the import options students must turn on (none: the defaults do)
    with_default_options: dict[str, int] | None = None  # the counts under the defaults, when `options` are needed
    questions: dict[str, list[str]] = field(default_factory=dict)  # guid -> its cards' questions, for the notes

    def counts(self) -> dict[str, int]:
        return {name: value for name, value in asdict(self).items() if type(value) is int}

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
        decks = {key: _deck_json(deck) for key, deck in self.decks.items()}
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
            if deck.options and deck.with_default_options is not None:
                lines.append(f"  needs options: students must import with {' and '.join(repr(o) for o in deck.options)}; say so in the release notes (counts above are with them)")
                defaults = deck.with_default_options
                lines.append(
                    f"  with the default options: {defaults['updated']} updated, {defaults['conflicting']} conflicting, {defaults['not_updated']} not updated "
                    "(Anki adds a note type 'Name+' and stops updating the notes; importing again with the options above repairs it)"
                )
            if deck.not_updated:
                lines.append("  ! content changed but Anki will not update it (its mod is not newer, or the note vanished): run 'python build.py check --base'")
            if deck.conflicting:
                lines.append("  ! Anki marks these notes conflicting and stops updating them: a card changed type, or a note type its fields")
            if deck.reviews_lost:
                lines.append("  ! students would lose reviews or scheduling")
        if self.problems:
            lines += ["", f"check --base {self.base}:", *map(str, self.problems)]
        return "\n".join(lines) + "\n"


def default_base(root: Path) -> tuple[str, str]:
    """(BASE, why) when the user names none: the latest release tag reachable from HEAD, else HEAD."""
    tag = latest_release_tag(root)
    return (tag, "the latest release tag") if tag else ("HEAD", "no release tag yet")


def release_check(root: Path, rev: str, now: int, notes: bool = False, why_base: str = "") -> ReleaseReport:
    """The report; with `notes`, also each deck's changes in a student's words (report.changes)."""
    _require_anki()
    with tempfile.TemporaryDirectory(prefix="acudeck-release-") as work:
        # What students have is BASE's committed decks and ledgers; the rebuild of BASE (by today's
        # code, which may give a note type a new shape) stands in only where BASE committed none.
        released = Path(work) / "released"
        export_revision(root, rev, released)
        base, head = prepare_trees(root, rev, Path(work), now)
        problems = _history(head, rev, released)
        diffs = {diff.key: diff for diff in diff_trees(base, head)} if notes else {}
        decks = {}
        for key in _deck_keys(base):
            old, new = _regular(released / OUT_DIR / f"{key}.apkg") or base / OUT_DIR / f"{key}.apkg", head / OUT_DIR / f"{key}.apkg"
            if old.is_file() and not old.is_symlink():
                wanted = _wanted_questions(diffs[key]) if key in diffs else (set(), set())
                decks[key] = simulate_with_options(old, new if new.is_file() and not new.is_symlink() else None, Path(work) / f"anki-{key}", wanted)
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
    return DeckChanges(diff.key, diff.name, deck.options, asked(diff.added), asked(new for _, new in diff.changed), asked(_withdrawn(diff)))


def _deck_json(deck: DeckImport) -> dict:
    """The counts; `options` and `with_default_options` only where the defaults are not enough."""
    found: dict = deck.counts()
    if deck.options:
        found["options"] = list(deck.options)
        found["with_default_options"] = deck.with_default_options
    return found


def _regular(path: Path) -> Path | None:
    return path if path.is_file() and not path.is_symlink() else None


def _history(head: Path, rev: str, base: Path) -> list[Problem]:
    """The ledger history rules (ledger.history_problems) and every other check, on the built copy."""
    from .project import Project, check

    try:
        return check(Project(head, use_cache=False), (), None, (rev, released_decks(base)))
    except SourceError as exc:
        return exc.problems


def _deck_keys(tree: Path) -> list[str]:
    """Every package students download: the decks, then the course decks (a course's students are
    students too, and a course's tombstones are its own)."""
    decks = [folder.name for folder in find_decks(tree / SRC_DIR)] if (tree / SRC_DIR).is_dir() else []
    return decks + [path.stem for path in find_courses(tree)]


def _require_anki() -> None:
    try:
        import anki.collection  # noqa: F401
    except ImportError:
        raise BuildError(ANKI_MISSING) from None


def simulate_with_options(old: Path, new: Path | None, folder: Path, wanted: Questions = (set(), set())) -> DeckImport:
    """`simulate` with the defaults, then, where a note type changed shape, with the options it needs."""
    folder.mkdir()
    result = simulate(old, new, folder / "defaults", wanted=wanted)
    if new is None or not reshaped_notetypes(read_apkg(old)["models"], read_apkg(new)["models"]):
        return result
    for options in ([MERGE_NOTETYPES], [MERGE_NOTETYPES, UPDATE_ALWAYS]):
        tried = simulate(old, new, folder / "-".join(o.split()[0].lower() for o in options), options, wanted)
        if tried.ok:
            break
    tried.options, tried.with_default_options = options, result.counts()
    return tried


def reshaped_notetypes(before: dict, after: dict) -> list[int]:
    """The model ids whose fields or templates Anki sees as changed (its importer's `equal_schema`:
    the same count, and pairwise the same id where both have ids, else the same name)."""

    def matches(old_names: list, old_ids: list, new_names: list, new_ids: list) -> bool:
        pairs = zip(old_names, old_ids, new_names, new_ids, strict=True)
        return len(old_names) == len(new_names) and all(a_id == b_id if a_id is not None and b_id is not None else a == b for a, a_id, b, b_id in pairs)

    found = []
    for mid in sorted(before.keys() & after.keys()):
        old, new = before[mid], after[mid]
        same_fields = matches(old["fields"], old["field_ids"], new["fields"], new["field_ids"])
        names = lambda m: [t[0] for t in m["templates"]]  # noqa: E731
        same_templates = matches(names(old), old["template_ids"], names(new), new["template_ids"])
        if not (same_fields and same_templates):
            found.append(mid)
    return found


def simulate(old: Path, new: Path | None, folder: Path, options: list[str] | None = None, wanted: Questions = (set(), set())) -> DeckImport:
    """Import `old`, study, import `new` (None: the deck is gone) with `options` turned on (none: the
    defaults), and count what happened; with the questions of the notes in `wanted` as students
    read them (before the update, after it)."""
    before, after = read_apkg(old), read_apkg(new) if new else {"notes": {}, "models": {}}
    result = DeckImport()
    folder.mkdir()
    with _collection(folder) as col:
        _import(col, old)
        _study(col)
        state = _card_state(col)
        result.questions = _questions(col, wanted[0])
        log = _import(col, new, options or []) if new else None
        result.questions |= _questions(col, wanted[1])
        if log is not None and new is not None:
            guid_of = dict(col.db.all("SELECT id, guid FROM notes"))
            updated = {guid_of[entry.id.nid] for entry in log.updated}
            incoming = note_guids(new)  # a conflicting note is logged with the package's note id
            conflicting = {incoming.get(entry.id.nid) or guid_of.get(entry.id.nid, "") for entry in log.conflicting}
            result.new, result.updated, result.unchanged, result.conflicting = len(log.new), len(updated), len(log.duplicate), len(log.conflicting)
            result.retired = sum(1 for guid in updated if RETIRED_TAG in after["notes"][guid]["tags"] and RETIRED_TAG not in before["notes"].get(guid, {}).get("tags", []))
        else:
            updated = conflicting = set()
        changed = {guid for guid, note in before["notes"].items() if guid in after["notes"] and _content(after["notes"][guid]) != _content(note)}
        reshaped = reshaped_notetypes(before["models"], after["models"]) if new else []
        stale = _stale_notes(col, new, folder, after, reshaped) - conflicting if reshaped and new else set()
        vanished = before["notes"].keys() - after["notes"].keys()
        result.not_updated = len((changed - updated - conflicting) | stale) + len(vanished)
        now = _card_state(col)
        result.reviews_lost = sum(1 for cid, row in state.items() if now.get(cid) != row)
    result.notetype_changes = _notetype_changes(before["models"], after["models"])
    return result


def _stale_notes(col, new: Path, folder: Path, after: dict, reshaped: list[int]) -> set[str]:
    """The notes of reshaped note types that the collection does not hold as a fresh import of `new`
    does (field by field, by name): a merge that matched a renamed field by name leaves it blank."""
    guids = [guid for guid, note in after["notes"].items() if note["mid"] in reshaped]
    (folder / "fresh").mkdir()
    with _collection(folder / "fresh") as fresh:
        _import(fresh, new)
        expected = _notes_by_name(fresh, guids)
    return {guid for guid, content in _notes_by_name(col, guids).items() if content != expected.get(guid)}


def _notes_by_name(col, guids: list[str]) -> dict[str, tuple]:
    found = {}
    for guid in guids:
        nid = col.db.scalar("SELECT id FROM notes WHERE guid = ?", guid)
        if nid:
            note = col.get_note(nid)
            found[guid] = (sorted(note.items()), sorted(note.tags))
    return found


def _questions(col, guids: set[str]) -> dict[str, list[str]]:
    """guid -> the questions of its cards (by card ord), as plain text."""
    questions = {}
    for guid in guids:
        cards = col.db.list("SELECT c.id FROM cards c JOIN notes n ON c.nid = n.id WHERE n.guid = ? ORDER BY c.ord", guid)
        questions[guid] = [plain_question(col.get_card(cid).question()) for cid in cards]
    return questions


def _content(note: dict) -> tuple:
    return (note["mid"], note["fields"], sorted(note["tags"]))


def _notetype_changes(before: dict, after: dict) -> list[str]:
    changes = []
    reshaped = reshaped_notetypes(before, after)
    for mid in sorted(before.keys() & after.keys()):
        old, new = before[mid], after[mid]
        if mid in reshaped:
            changes.append(f"'{new['name']}' changed its fields or templates: students must import with 'Merge note types' (then a full sync)")
        elif old != new and new["mod"] <= old["mod"]:
            changes.append(f"'{new['name']}' changed but its mod is not newer: students keep the old templates")
        elif old["field_ids"] != new["field_ids"] or old["template_ids"] != new["template_ids"]:
            changes.append(f"'{new['name']}' takes its field and template ids (no new shape to Anki): updated in place")
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


def _import(col, path: Path, turned_on: list[str] | None = None):
    from anki.collection import ImportAnkiPackageRequest
    from anki.import_export_pb2 import ImportAnkiPackageUpdateCondition

    options = col._backend.get_import_anki_package_presets()  # Anki's defaults, as the GUI offers them
    if MERGE_NOTETYPES in (turned_on or []):
        options.merge_notetypes = True
    if UPDATE_ALWAYS in (turned_on or []):
        options.update_notes = ImportAnkiPackageUpdateCondition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_ALWAYS
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
