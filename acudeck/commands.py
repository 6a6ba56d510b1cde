"""What `build` and `check` report, and when the command cache replays that report instead.

A command's report is its lines for standard output and standard error. When nothing it reads has
changed since it last succeeded (cache.fingerprint), the stored report is given back and nothing
is built; otherwise the work is done and its report stored, under the key of the project as the
command left it (a build changes decks/).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import cache, project
from .errors import SourceError
from .inputs import display_path
from .notes import card_count
from .source import Progress


@dataclass
class Report:
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)


@dataclass
class Run:
    """How a command runs on a project."""

    root: Path
    use_cache: bool = True  # read and write .acudeck-cache/ (--no-cache: neither)
    jobs: int = 0
    progress: Progress | None = None

    def cache_warning(self) -> list[str]:
        """A .acudeck-cache/ that is a link (or holds one) is not used: one line says so."""
        problem = cache.unusable(self.root) if self.use_cache else None
        if problem:
            self.use_cache = False
        return [str(problem)] if problem else []

    def project(self, sources: cache.SourceDigest | None) -> project.Project:
        digests = sources.files if sources else {}
        return project.Project(self.root, progress=self.progress, use_cache=self.use_cache, jobs=self.jobs, source_digests=digests)


def build(run: Run, keys: tuple[str, ...]) -> Report:
    warning = run.cache_warning()
    sources = cache.source_digest(run.root) if run.use_cache else None
    replayed = _replay(run.root, "build", cache.fingerprint(run.root, "build", sources, *keys) if sources else None)
    if replayed:
        return replayed
    report, replay = Report(stderr=list(warning)), Report()
    for result in project.build(run.project(sources), keys):
        counts = f"{len(result.notes)} notes, {card_count(result.notes)} cards"
        stamped = result.stamped
        changes = f" ({len(stamped.added)} added, {len(stamped.changed)} changed, {len(stamped.removed)} removed)" if stamped else ""
        path = display_path(result.path, run.root)
        report.stdout.append(f"{path}: {'written' if result.written else 'unchanged'}: {counts}{changes}")
        replay.stdout.append(f"{path}: unchanged: {counts}{' (0 added, 0 changed, 0 removed)' if stamped else ''}")
        report.stderr += [str(warning) for warning in result.warnings]
    if sources:
        cache.store(run.root, "build", cache.fingerprint(run.root, "build", sources, *keys), replay.stdout, report.stderr)
    return report


def check(run: Run, keys: tuple[str, ...], source_text: Path | None = None, base_rev: str | None = None) -> Report:
    """Raises SourceError with every problem; the report of a pass is "ok". With `base_rev`, the
    ledgers must also keep what that revision released (ledger.history_problems)."""
    from .diff import resolve_revision

    warning = run.cache_warning()
    quote_key = (str(source_text), source_text.read_text("utf-8", errors="replace")) if source_text else ()
    base_key = ("--base", base_rev, resolve_revision(run.root, base_rev)) if base_rev is not None else ()
    sources = cache.source_digest(run.root) if run.use_cache else None
    key = cache.fingerprint(run.root, "check", sources, *keys, *quote_key, *base_key) if sources else None
    replayed = _replay(run.root, "check", key)
    if replayed:
        return replayed
    base = None
    if base_rev is not None:
        from .diff import load_released

        base = (base_rev, load_released(run.root, base_rev))
    problems = project.check(run.project(sources), keys, source_text, base)
    if problems:
        raise SourceError(problems)
    if sources:
        cache.store(run.root, "check", key, [], ["ok"])
    return Report(stderr=[*warning, "ok"])


def export(run: Run, keys: tuple[str, ...], fmt: str) -> tuple[str, Report, dict[str, bytes]]:
    """The export's text (csv or markdown) of the selected decks, the report's warnings, and the
    made media the study sheet shows (to be written beside it)."""
    from . import export as exporting

    warning = run.cache_warning()
    plan = project.plan_project(run.project(None), keys)
    decks = {deck_plan.deck.key: deck_plan.deck for deck_plan in plan.decks}
    courses = {course_plan.course.key: course_plan for course_plan in plan.courses}
    parts = []
    for key in dict.fromkeys(keys) if keys else decks:  # without keys: every deck (a course would repeat its cards)
        if key in courses:
            parts += exporting.course_parts(courses[key].course.name, courses[key].notes, decks)
        else:
            parts.append(exporting.deck_part(decks[key]))
    if fmt == "csv":
        return exporting.export_csv(parts), Report(stderr=warning), {}
    sheet = exporting.export_markdown(parts)
    return sheet, Report(stderr=warning), exporting.sheet_media(parts, sheet)


def preview(run: Run, keys: tuple[str, ...], output: Path | None) -> Report:
    """Build the selected decks, then write a page per package into `output` (by default
    decks/preview/, where a link is refused)."""
    from .output import output_folder, preview_folder, preview_page
    from .preview import card_origins, left_out_reason, write_preview

    report = Report(stderr=run.cache_warning())
    if output:  # before the build: a mistake shows at once
        output_folder(output)
    else:
        preview_folder(run.root)
    for result in project.build(run.project(None), keys):
        name = f"{result.path.stem}.html"
        page = output / name if output else preview_page(run.root, name)
        shown, left_out = write_preview(result.path, result.deck_name, page, card_origins(result.decks))
        more = f" ({left_out} more not shown: {left_out_reason()})" if left_out else ""
        report.stdout.append(f"{display_path(page, run.root)}: {shown} cards{more}")
    return report


def _replay(root: Path, command: str, key: str | None) -> Report | None:
    hit = cache.lookup(root, command, key)
    return Report(hit["stdout"], hit["stderr"]) if hit is not None else None
