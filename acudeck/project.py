"""A project: deck folders under cards_src/, built packages and ledgers under decks/."""

from __future__ import annotations

import contextlib
import gc
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .cache import FileCache
from .cardtypes import NOTE_TYPES, sibling_group
from .contents import differs, note_shapes, package_differences
from .course import CourseSource, course_notes, load_course
from .decknames import name_clashes
from .errors import BuildError, Location, Problem, SourceError
from .inputs import OUT_DIR, SRC_DIR, list_inputs, list_outputs
from .ledger import DeckHistory, Ledger, Released, Stamped, history_problems, ledger_path, ledger_text, missing_released_cards, read_ledger, remember_ledger, retired_in_use, stamp
from .notes import NoteSource, note_guid
from .order import SIBLING_SPREAD
from .package import PackageSpec, card_families, ordering_key, stage_apkg
from .reader import CardFileReader
from .source import DeckSource, Progress, display_path, load_deck
from .staging import Staging, remove_leftovers
from .tombstone import card_types_by_model, tombstone


@contextlib.contextmanager
def _no_cycle_collection():
    """A build makes millions of objects that live until it ends and frees next to none in reference
    cycles: the cycle collector's passes over them cost a tenth of the time and find nothing (a cold
    build of 65,000 notes peaks at the same memory without them)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class Project:
    root: Path
    progress: Progress | None = None  # told of each step of a long build: (label, done, total)
    use_cache: bool = False  # read and write card file results in .acudeck-cache/
    jobs: int = 0  # worker processes for parsing card files; 0: one per CPU, 1: none
    source_digests: dict[str, bytes] = field(default_factory=dict)  # content digests already taken (cache.source_digest)

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
    retired_shapes: dict[str, dict] = field(default_factory=dict)  # the tombstones' ledger entries (tombstone.py)

    def package(self, stamped: Stamped) -> PackageSpec:
        return PackageSpec(
            deck_name=self.deck.name,
            deck_key=self.deck.key,
            description=self.deck.description,
            notes=self.notes,
            mods=list(map(stamped.mods.__getitem__, [note.key for note in self.notes])),
            notetype_mods=stamped.notetype_mods,
            base_timestamp=stamped.base_timestamp,
            media=self.deck.media,
        )


@dataclass
class CoursePlan:
    """A course deck: notes picked from the decks, with the mods those decks' ledgers give them."""

    course: CourseSource
    notes: list[tuple[str, NoteSource]]  # (deck key, note)
    media: dict[str, Path | bytes]
    apkg_path: Path
    tombstones: list[tuple[str, NoteSource]] = field(default_factory=list)  # retired notes its last build held

    @property
    def packaged(self) -> list[tuple[str, NoteSource]]:
        return self.notes + self.tombstones

    def package(self, stamps: dict[str, Stamped]) -> PackageSpec:
        mods = [stamps[deck_key].mods[note.key] for deck_key, note in self.packaged]
        used = {NOTE_TYPES[note.card_type].model_id for _, note in self.packaged}
        notetype_mods = {mid: max(s.notetype_mods.get(mid, 0) for s in stamps.values()) for mid in used}
        return PackageSpec(
            deck_name=self.course.name,
            deck_key=self.course.key,
            description=self.course.description,
            notes=[note for _, note in self.packaged],
            mods=mods,
            notetype_mods=notetype_mods,
            base_timestamp=max([*mods, *notetype_mods.values(), 0]),
            media=self.media,
            families=self.families(),
        )

    def families(self) -> list[str]:
        return [f"{deck_key}/{sibling_group(note)}" for deck_key, note in self.packaged]  # note keys are unique within a deck


@dataclass
class Plan:
    decks: list[DeckPlan]  # the selected decks and the decks the selected courses draw from
    courses: list[CoursePlan]
    cache: FileCache | None = None

    @property
    def sources(self) -> dict[str, DeckPlan]:
        return {plan.deck.key: plan for plan in self.decks}


@dataclass
class BuiltPackage:
    """What one build did to one package, for the report."""

    path: Path
    deck_name: str
    notes: list[NoteSource]
    written: bool
    stamped: Stamped | None = None  # None for a course deck: it has no ledger of its own
    warnings: list[Problem] = field(default_factory=list)
    decks: list[DeckSource] = field(default_factory=list)  # the decks its notes come from (the preview shows where each card is written)


@_no_cycle_collection()
def plan_project(project: Project, keys: tuple[str, ...] = ()) -> Plan:
    """Load and check the selected decks and courses (all of them without `keys`); raise one
    SourceError with the problems of all of them. A course brings in the decks it draws from."""
    inputs = list_inputs(project.root)
    # Links, special files and misnamed sources outside the decks, and in decks/: reported whatever is selected.
    problems: list[Problem] = [*inputs.problems, *list_outputs(project.root).problems]
    deck_folders = {deck.folder.name: deck for deck in inputs.decks}
    course_files = {path.stem: path for path in inputs.courses}
    unknown = [key for key in keys if key not in deck_folders and key not in course_files]
    if problems and (unknown or not deck_folders):
        raise SourceError(problems)
    if not deck_folders:
        raise BuildError(f"no decks found: {display_path(project.src, project.root)}/ holds no <deck>/deck.yaml")
    if unknown:
        names = ", ".join(repr(k) for k in unknown)
        raise BuildError(f"no deck named {names} in {display_path(project.src, project.root)}/ (decks: {', '.join([*deck_folders, *course_files])})")
    courses = []
    for key, path in course_files.items():
        if keys and key not in keys:
            continue
        try:
            courses.append(load_course(path, project.root))
        except SourceError as exc:
            problems.extend(exc.problems)
    wanted = (set(keys) | {s.deck for c in courses for s in c.selections}) if keys else set(deck_folders)
    file_cache = FileCache(project.root) if project.use_cache else None
    reader = CardFileReader(file_cache, project.jobs, digests=project.source_digests)
    decks = []
    for key, listing in deck_folders.items():
        if key not in wanted:
            continue
        try:
            decks.append(_plan_deck(project, load_deck(listing.folder, project.root, project.progress, reader, listing), problems, file_cache))
        except SourceError as exc:
            problems.extend(exc.problems)
    sources = {plan.deck.key: plan.deck for plan in decks}
    named = [("deck", d.name, d.name_location or d.location) for d in sources.values()] + [("course", c.name, c.name_location or c.location) for c in courses]
    problems += name_clashes(named)
    course_plans = []
    for course in courses:
        if any(s.deck in deck_folders and s.deck not in sources for s in course.selections):
            continue  # a deck it draws from did not load: its problems are reported, the course's would only follow from them
        if course.key in deck_folders:
            problems.append(Problem(course.location, f"course key '{course.key}' is also a deck's key; both would be decks/{course.key}.apkg"))
        notes, media, found = course_notes(course, sources, project.root)
        problems += found
        apkg = project.out / f"{course.key}.apkg"
        drawn = [plan for plan in decks if plan.deck.key in {s.deck for s in course.selections}]
        course_plans.append(CoursePlan(course, notes, media, apkg, _course_tombstones(apkg, drawn, project.root)))
    if problems:
        raise SourceError(problems)
    if file_cache and wanted == set(deck_folders):
        for families in [card_families(plan.notes) for plan in decks] + [card_families([n for _, n in c.packaged], c.families()) for c in course_plans]:
            file_cache.used.add(ordering_key(file_cache, families))  # the build reads them: keep them
        file_cache.prune()
    return Plan(decks, course_plans, file_cache)


def _plan_deck(project: Project, deck: DeckSource, problems: list[Problem], cache: FileCache | None) -> DeckPlan:
    path = ledger_path(project.out, deck.key)
    ledger = read_ledger(path, display_path(path, project.root), cache, deck=deck.key)
    note_keys = {note.key for note in deck.notes}
    problems += missing_released_cards(ledger, deck.card_ids(), note_keys, deck.retired, deck.location, display_path(path, project.root))
    problems += retired_in_use(note_keys, deck.retired)
    apkg = project.out / f"{deck.key}.apkg"
    shapes = _retired_shapes(ledger, note_keys, deck, apkg, project.root)
    tombstones = [tombstone(deck.key, key, shape) for key, shape in sorted(shapes.items())]
    return DeckPlan(deck, deck.notes + tombstones, ledger, path, apkg, shapes)


def _retired_shapes(ledger: Ledger, note_keys: set[str], deck: DeckSource, apkg: Path, root: Path) -> dict[str, dict]:
    """What the tombstone of each released note of a retired card (or item) is made of: the ledger's
    "retired" entry, or, in the build that retires it, the note as the deck's package holds it."""
    gone = [key for key in ledger.hashes.keys() - note_keys if key.split("/", 1)[0] in deck.retired or key in deck.retired]
    shapes = {key: ledger.retired[key] for key in gone if key in ledger.retired}
    for entry in shapes.values():
        if entry["type"] not in NOTE_TYPES:
            raise BuildError(f"{display_path(ledger_path(apkg.parent, deck.key), root)}: a retired note's card type '{entry['type']}' is unknown; restore the ledger from git")
    new = {note_guid(deck.key, key): key for key in gone if key not in shapes}
    if new:
        shapes.update(_shapes_from_package(apkg, new, root))
    return shapes


def _course_tombstones(apkg: Path, drawn: list[DeckPlan], root: Path) -> list[tuple[str, NoteSource]]:
    """The tombstones of the retired notes that the course's last build held: a course student gets
    the notice too, and nobody gets a tombstone of a card they never had."""
    retired = [(plan.deck.key, note) for plan in drawn for note in plan.notes if note.key in plan.retired_shapes]
    if not retired or apkg.is_symlink() or not apkg.is_file():
        return []
    try:
        held = note_shapes(apkg, {note.guid for _, note in retired})
    except Exception as exc:  # any unreadable package
        raise BuildError(f"{display_path(apkg, root)}: cannot read the course's released notes ({exc}); restore it from git") from None
    return [(key, note) for key, note in retired if note.guid in held]


def _shapes_from_package(apkg: Path, keys: dict[str, str], root: Path) -> dict[str, dict]:
    """guid -> note key: the shapes of these notes in the package released before they were retired."""
    shown = display_path(apkg, root)
    if apkg.is_symlink() or not apkg.is_file():
        raise BuildError(f"{shown}: cannot make the tombstones of the retired cards without the released package; restore it from git")
    try:
        found = note_shapes(apkg, set(keys))
    except Exception as exc:  # any unreadable package
        raise BuildError(f"{shown}: cannot read the released notes of the retired cards ({exc}); restore it from git") from None
    types = card_types_by_model()
    shapes = {}
    for guid, key in keys.items():
        if guid not in found or found[guid][0] not in types:
            raise BuildError(f"{shown}: does not hold the released note '{key}' of a retired card; restore it from git")
        mid, ords = found[guid]
        shapes[key] = {"type": types[mid], "ords": ords}
    return shapes


@_no_cycle_collection()
def build(project: Project, keys: tuple[str, ...] = (), now: int | None = None) -> list[BuiltPackage]:
    """Build the selected decks and courses. Nothing is written unless every one checks out, and
    every package and ledger is renamed into place only once all of them are written."""
    now = int(time.time()) if now is None else now
    plan = plan_project(project, keys)
    stamps = {key: stamp(deck_plan.ledger, deck_plan.notes, now, NOTE_TYPES, deck_plan.retired_shapes) for key, deck_plan in plan.sources.items()}
    results = []
    with Staging() as staging:
        for done, deck_plan in enumerate(plan.decks, 1):
            if project.progress:
                project.progress("writing decks", done, len(plan.decks))
            stamped = stamps[deck_plan.deck.key]
            remove_leftovers(deck_plan.apkg_path, deck_plan.ledger_path)
            ledger_changed = stamped.ledger != deck_plan.ledger
            if ledger_changed or not deck_plan.ledger_path.exists():
                _stage_ledger(staging, deck_plan, stamped, plan.cache)
            # A changed ledger means changed notes: no need to compare with the old package.
            spec = _packaged(deck_plan.package(stamped), plan.cache)
            written = _stage(staging, spec, deck_plan.apkg_path, compare=not ledger_changed)
            crowded = _crowded(spec, {deck_plan.deck.key: deck_plan.deck}, deck_key=deck_plan.deck.key)
            results.append(BuiltPackage(deck_plan.apkg_path, deck_plan.deck.name, deck_plan.notes, written, stamped, [*deck_plan.deck.warnings, *crowded], [deck_plan.deck]))
        for course_plan in plan.courses:
            remove_leftovers(course_plan.apkg_path)
            spec = _packaged(course_plan.package(stamps), plan.cache)
            written = _stage(staging, spec, course_plan.apkg_path)
            drawn = [plan.sources[key].deck for key in dict.fromkeys(key for key, _ in course_plan.notes)]
            crowded = _crowded(spec, {key: deck_plan.deck for key, deck_plan in plan.sources.items()})
            results.append(BuiltPackage(course_plan.apkg_path, course_plan.course.name, [note for _, note in course_plan.packaged], written, warnings=crowded, decks=drawn))
        staging.commit()
    return results


def _packaged(spec: PackageSpec, cache: FileCache | None) -> PackageSpec:
    """The spec, with its order of new cards from the cache where the cache has it."""
    if cache:
        spec.use_cached_ordering(cache)
    return spec


def _crowded(spec: PackageSpec, decks: dict[str, DeckSource], deck_key: str | None = None) -> list[Problem]:
    """A warning for each card whose cards (a sibling group of the package's `card_families`:
    "<deck key>/<group>" in a course, the group alone in the deck `deck_key`) the package is too
    small to keep a day apart: some meet on one day, and one's back answers another's there."""
    if len(spec.ordering.positions) <= SIBLING_SPREAD:
        return []  # met in one day, a deck cannot keep anything apart: a warning per card would say nothing
    found = []
    sizes = Counter(spec.card_families())
    for family in map(str, spec.ordering.crowded):
        key, group = (deck_key, family) if deck_key else family.split("/", 1)
        card = decks[key].card(group.split("/", 1)[0])
        if card is None:
            continue
        found.append(
            Problem(
                card.location,
                f"'{spec.deck_name}' holds {len(spec.ordering.positions)} cards, too few to give the {sizes[family]} cards of '{card.id}' "
                f"a day each at {SIBLING_SPREAD} new cards a day: some meet on one day, where one's back answers another; "
                "add cards to the deck or make this card smaller",
            )
        )
    return found


def _stage_ledger(staging: Staging, plan: DeckPlan, stamped: Stamped, cache: FileCache | None) -> None:
    new = stamped.ledger
    new.text, new.text_deck = ledger_text(new, plan.ledger, plan.deck.key, stamped.changed), plan.deck.key
    raw = new.text.encode("utf-8")
    staging.write(plan.ledger_path, raw)
    if cache:
        remember_ledger(cache, new, raw, plan.deck.key)


def _stage(staging: Staging, spec: PackageSpec, path: Path, compare: bool = True) -> bool:
    """Stage the package; keep the existing file instead when its content is the same."""
    staged = stage_apkg(spec, staging, path)
    if not compare or differs(staged, path):
        return True
    staging.discard(path)
    return False


@_no_cycle_collection()
def check(project: Project, keys: tuple[str, ...] = (), source_text: Path | None = None, base: tuple[str, dict[str, Released]] | None = None) -> list[Problem]:
    """Everything `build` would change or refuse, without writing anything. `base`: a revision's
    name and its released decks, whose history the build must keep (see ledger.history_problems)."""
    plan = plan_project(project, keys)
    stamps = {key: stamp(deck_plan.ledger, deck_plan.notes, 0, NOTE_TYPES, deck_plan.retired_shapes) for key, deck_plan in plan.sources.items()}
    problems: list[Problem] = []
    stale_decks = set()
    for deck_plan in plan.decks:
        stale = _stale(deck_plan, stamps[deck_plan.deck.key], project.root)
        problems += stale
        if stale:
            stale_decks.add(deck_plan.deck.key)
        else:
            problems += _mismatch(_packaged(deck_plan.package(stamps[deck_plan.deck.key]), plan.cache), deck_plan.apkg_path, project.root)
        if base and deck_plan.deck.key in base[1]:
            problems += _history(deck_plan, stamps[deck_plan.deck.key], base[0], base[1][deck_plan.deck.key], project.root)
        if source_text is not None:
            from .quotes import check_quotes

            problems += check_quotes(deck_plan.deck, source_text)
    for course_plan in plan.courses:
        if not stale_decks & {key for key, _ in course_plan.notes}:
            problems += _mismatch(_packaged(course_plan.package(stamps), plan.cache), course_plan.apkg_path, project.root)
    return problems


def _history(plan: DeckPlan, stamped: Stamped, base_rev: str, released: Released, root: Path) -> list[Problem]:
    deck = plan.deck
    locations = {**deck.retired, **{card.id: card.location for card in deck.cards}}  # a tombstone's card is gone: its retired line
    where = DeckHistory(locations, deck.retired, deck.location, display_path(plan.ledger_path, root))
    card_types = {card.id: card.type for card in deck.cards}
    return history_problems(released, base_rev, stamped, card_types, where, int(time.time()), NOTE_TYPES)


def _mismatch(spec: PackageSpec, path: Path, root: Path) -> list[Problem]:
    differences = package_differences(spec, path)
    if not differences:
        return []
    message = f"does not match its sources ({'; '.join(differences)}); run 'python build.py' and commit the result"
    return [Problem(Location(display_path(path, root)), message)]


def _stale(plan: DeckPlan, stamped: Stamped, root: Path) -> list[Problem]:
    ledger_display = display_path(plan.ledger_path, root)
    if not plan.ledger_path.exists():
        return [Problem(Location(ledger_display), "missing; run 'python build.py' and commit the result")]
    locations = {**plan.deck.retired, **{card.id: card.location for card in plan.deck.cards}} if stamped.added or stamped.changed else {}
    problems = []
    built = f"{display_path(plan.apkg_path, root)} and {ledger_display}"
    for key in stamped.added:
        message = f"note '{key}' is new and not built yet (the card itself checks out): run 'python build.py' to add it to {built}, then commit them"
        problems.append(Problem(locations[key.split("/", 1)[0]], message))
    for key in stamped.changed:
        problems.append(Problem(locations[key.split("/", 1)[0]], f"note '{key}' changed since {ledger_display} was written; run 'python build.py'"))
    for key in stamped.removed:
        problems.append(Problem(Location(ledger_display), f"note '{key}' is no longer in the sources; run 'python build.py'"))
    if stamped.ledger.notetypes != plan.ledger.notetypes:
        problems.append(Problem(Location(ledger_display), "note types changed since the last build; run 'python build.py'"))
    if stamped.ledger.retired != plan.ledger.retired:
        problems.append(Problem(Location(ledger_display), "retired notes changed since the last build; run 'python build.py'"))
    return problems
