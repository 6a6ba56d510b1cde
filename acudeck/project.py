"""A project: deck folders under cards_src/, built packages and ledgers under decks/."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError, Location, Problem, SourceError
from .ledger import Ledger, Stamped, ledger_path, missing_released_cards, read_ledger, stamp
from .notes import NoteSource, compile_notes
from .package import PackageSpec, Staging, read_apkg, remove_leftovers, stage_apkg, write_apkg
from .source import DeckSource, display_path, find_decks, load_deck

SRC_DIR = "cards_src"
OUT_DIR = "decks"


@dataclass
class Project:
    root: Path

    @property
    def src(self) -> Path:
        return self.root / SRC_DIR

    @property
    def out(self) -> Path:
        return self.root / OUT_DIR


@dataclass
class DeckPlan:
    """A checked deck, ready to build: its notes and what the ledger knows of them."""

    deck: DeckSource
    notes: list[NoteSource]
    ledger: Ledger
    ledger_path: Path
    apkg_path: Path

    def package(self, stamped: Stamped) -> PackageSpec:
        return PackageSpec(
            deck_name=self.deck.name,
            deck_key=self.deck.key,
            description=self.deck.description,
            notes=self.notes,
            mods=stamped.mods,
            notetype_mods=stamped.notetype_mods,
            base_timestamp=stamped.base_timestamp,
            media=self.deck.media,
        )

    @property
    def card_count(self) -> int:
        per_note = {"basic": 1, "reversed": 2, "point": 2, "compare": 2}
        total = 0
        for note in self.notes:
            if note.card_type == "cloze":
                from .text import cloze_numbers

                total += len(cloze_numbers(note.fields[0]))
            else:
                total += per_note[note.card_type]
        return total


@dataclass
class DeckResult:
    plan: DeckPlan
    stamped: Stamped
    written: bool


def select_decks(project: Project, keys: tuple[str, ...] = ()) -> list[Path]:
    folders = find_decks(project.src)
    if not folders:
        raise BuildError(f"no decks found: {display_path(project.src, project.root)}/ holds no <deck>/deck.yaml")
    if not keys:
        return folders
    by_key = {folder.name: folder for folder in folders}
    unknown = [key for key in keys if key not in by_key]
    if unknown:
        raise BuildError(f"no deck named {', '.join(repr(k) for k in unknown)} in {display_path(project.src, project.root)}/ (decks: {', '.join(by_key)})")
    return [by_key[key] for key in keys]


def plan_decks(project: Project, keys: tuple[str, ...] = ()) -> list[DeckPlan]:
    """Load and check every selected deck; raise one SourceError with the problems of all of them."""
    problems: list[Problem] = []
    plans = []
    for folder in select_decks(project, keys):
        try:
            deck = load_deck(folder, project.root)
        except SourceError as exc:
            problems.extend(exc.problems)
            continue
        path = ledger_path(project.out, deck.key)
        ledger = read_ledger(path, display_path(path, project.root))
        card_ids = {card.id for card in deck.cards}
        problems += missing_released_cards(ledger, card_ids, deck.retired, deck.location, display_path(path, project.root))
        plans.append(DeckPlan(deck, compile_notes(deck), ledger, path, project.out / f"{deck.key}.apkg"))
    if problems:
        raise SourceError(problems)
    return plans


def build(project: Project, keys: tuple[str, ...] = (), now: int | None = None) -> list[DeckResult]:
    """Build the selected decks. Nothing is written unless every deck checks out, and every
    package and ledger is renamed into place only once all of them are written."""
    now = int(time.time()) if now is None else now
    results = []
    plans = plan_decks(project, keys)
    with Staging() as staging:
        for plan in plans:
            remove_leftovers(plan.apkg_path, plan.ledger_path)
            stamped = stamp(plan.ledger, plan.notes, now)
            if stamped.ledger != plan.ledger or not plan.ledger_path.exists():
                with staging.open(plan.ledger_path, "w") as fh:
                    fh.write(stamped.ledger.to_json(plan.deck.key))
            staged = stage_apkg(plan.package(stamped), staging, plan.apkg_path)
            written = _differs(staged, plan.apkg_path)
            if not written:
                staging.discard(plan.apkg_path)
            results.append(DeckResult(plan, stamped, written))
        staging.commit()
    return results


def _differs(staged: Path, existing: Path) -> bool:
    """Compared by content, not bytes, so that another SQLite version does not count as a change."""
    if not existing.exists():
        return True
    if staged.read_bytes() == existing.read_bytes():
        return False
    return bool(_content_differences(staged, existing))


def package_differences(plan: DeckPlan, stamped: Stamped) -> list[str]:
    """How the existing package differs from what this build would write."""
    if not plan.apkg_path.exists():
        return ["it does not exist"]
    with tempfile.TemporaryDirectory(prefix="acudeck-") as work:
        expected_path = Path(work) / "expected.apkg"
        write_apkg(plan.package(stamped), expected_path)
        return _content_differences(expected_path, plan.apkg_path)


def _content_differences(expected_path: Path, actual_path: Path) -> list[str]:
    expected = read_apkg(expected_path)
    try:
        actual = read_apkg(actual_path)
    except Exception as exc:  # any unreadable file is simply a mismatch
        return [f"it cannot be read ({exc})"]
    return describe_differences(expected, actual)


def describe_differences(expected: dict, actual: dict) -> list[str]:
    found = []
    exp_notes, act_notes = expected["notes"], actual["notes"]
    missing = len(set(exp_notes) - set(act_notes))
    extra = len(set(act_notes) - set(exp_notes))
    differ = sum(1 for guid in set(exp_notes) & set(act_notes) if exp_notes[guid] != act_notes[guid])
    if missing:
        found.append(f"{missing} notes missing")
    if extra:
        found.append(f"{extra} notes that the sources do not have")
    if differ:
        found.append(f"{differ} notes with other fields, tags or mods")
    for part in ("models", "decks", "media", "cards"):
        if expected[part] != actual[part]:
            found.append({"models": "note types differ", "decks": "deck name or description differs", "media": "media differ", "cards": "card count differs"}[part])
    return found


def check(project: Project, keys: tuple[str, ...] = (), source_text: Path | None = None) -> list[Problem]:
    """Everything `build` would change or refuse, without writing anything."""
    plans = plan_decks(project, keys)
    problems: list[Problem] = []
    for plan in plans:
        stamped = stamp(plan.ledger, plan.notes, 0)
        stale = _stale(plan, stamped, project.root)
        problems += stale
        if not stale:
            differences = package_differences(plan, stamped)
            if differences:
                problems.append(
                    Problem(
                        Location(display_path(plan.apkg_path, project.root)),
                        f"does not match its sources ({'; '.join(differences)}); run 'python build.py' and commit the result",
                    )
                )
        if source_text is not None:
            from .quotes import check_quotes

            problems += check_quotes(plan.deck, source_text)
    return problems


def _stale(plan: DeckPlan, stamped: Stamped, root: Path) -> list[Problem]:
    ledger_display = display_path(plan.ledger_path, root)
    if not plan.ledger_path.exists():
        return [Problem(Location(ledger_display), "missing; run 'python build.py' and commit the result")]
    locations = {card.id: card.location for card in plan.deck.cards}
    problems = []
    for key in stamped.added:
        problems.append(Problem(locations[key.split("/", 1)[0]], f"note '{key}' is new since {ledger_display} was written; run 'python build.py'"))
    for key in stamped.changed:
        problems.append(Problem(locations[key.split("/", 1)[0]], f"note '{key}' changed since {ledger_display} was written; run 'python build.py'"))
    for key in stamped.removed:
        problems.append(Problem(Location(ledger_display), f"note '{key}' is no longer in the sources; run 'python build.py'"))
    if stamped.ledger.notetypes != plan.ledger.notetypes:
        problems.append(Problem(Location(ledger_display), "note types changed since the last build; run 'python build.py'"))
    return problems
