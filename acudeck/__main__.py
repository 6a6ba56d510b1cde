"""The command line: only Click here; the work happens in the core modules."""

from __future__ import annotations

import contextlib
import errno
import gc
import io
import os
import sys
from pathlib import Path

import click

from .errors import BuildError, ReadError, SourceError, WriteError, capped, os_reason


class ProblemsFound(click.ClickException):
    """Located problems, one `path:line:col: message` line each (at most 50 a file, then one line
    that counts the rest), and exit code 1."""

    def __init__(self, problems):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems

    def show(self, file=None):
        click.echo("\n".join(map(str, capped(self.problems))), err=True)


def _progress_line(label: str, done: int, total: int) -> None:
    """One self-overwriting line on a terminal's stderr; the report lines stay parseable on stdout."""
    end = "\n" if done == total else ""
    click.echo(f"\r\033[K{label}: {done}/{total}", err=True, nl=False)
    if end:
        click.echo("\r\033[K", err=True, nl=False)


def _run(action):
    """Turn the core's exceptions into what a user should see."""
    try:
        return action()
    except SourceError as exc:
        raise ProblemsFound(exc.problems) from None
    except (WriteError, ReadError) as exc:
        ctx = click.get_current_context()
        verb = "write" if isinstance(exc, WriteError) else "read"
        raise click.ClickException(f"{ctx.info_name}: cannot {verb} {_rel(exc.path, ctx.obj['root'])}: {exc.reason}") from None
    except BuildError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        name = _rel(Path(exc.filename), click.get_current_context().obj["root"]) if exc.filename else ""
        raise click.ClickException(f"{name}: {os_reason(exc)}" if name else os_reason(exc)) from None


def _lock(ctx: click.Context) -> None:
    """Hold the project's lock until the command ends: one run at a time reads and writes decks/ and
    the cache (see acudeck/lock.py)."""
    from .lock import WAITING, project_lock

    _run(lambda: ctx.with_resource(project_lock(ctx.obj["root"], on_wait=lambda: click.echo(WAITING, err=True))))


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Project folder holding cards_src/ and decks/.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show progress on long builds [default: when standard error is a terminal].",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache in .acudeck-cache/ (here or after the command).")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    default=None,
    help="Processes that parse card files: 0 for one per CPU (the default), 1 for none (here or after the command).",
)
@click.version_option(package_name="acudeck")
@click.pass_context
def cli(ctx: click.Context, root: Path, progress: bool | None, no_cache: bool, jobs: int | None) -> None:
    """Build Anki decks from the YAML card sources in cards_src/.

    With no command, builds every deck (the same as `build`).

    \b
    Examples:
      python build.py                  # build every deck into decks/
      python build.py build needling   # build one deck by its key
      python build.py check            # validate everything, write nothing
      python build.py -j 1 --no-cache  # options go before the command or after it
    """
    ctx.ensure_object(dict)
    ctx.obj["root"] = root
    ctx.obj["no_cache"] = no_cache
    ctx.obj["jobs"] = jobs
    ctx.obj["progress"] = sys.stderr.isatty() if progress is None else progress
    if ctx.invoked_subcommand is None:
        ctx.invoke(build)


_NO_CACHE = click.option("--no-cache", is_flag=True, help="Neither read nor write the cache in .acudeck-cache/.")
_JOBS = click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    default=None,
    help="Processes that parse card files: 0 for one per CPU (the default), 1 for none. Small decks are always read in one process.",
)


@cli.command()
@click.argument("keys", nargs=-1)
@_NO_CACHE
@_JOBS
@click.pass_context
def build(ctx: click.Context, keys: tuple[str, ...], no_cache: bool, jobs: int | None) -> None:
    """Build decks into decks/<key>.apkg and update decks/<key>.lock.json.

    KEYS are deck keys (folder names under cards_src/) or course keys (courses/<key>.yaml);
    without any, every deck and course is built. A course also builds the decks it draws from.
    Nothing is written unless every selected deck checks out. When nothing has changed since the
    last build, the cache replays its report instead of building again.

    \b
    Example:
      python build.py build needling
    """
    from . import commands

    _lock(ctx)
    _print(_run(lambda: commands.build(_command_run(ctx, no_cache, jobs), keys)))


@cli.command()
@click.argument("keys", nargs=-1)
@click.option(
    "--source-text",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also check that every card's `source` quote appears in this text.",
)
@click.option("--base", "base_rev", metavar="BASE", help="Also check that the ledgers keep what git revision BASE released (mods, retired cards, card types).")
@_NO_CACHE
@_JOBS
@click.pass_context
def check(ctx: click.Context, keys: tuple[str, ...], source_text: Path | None, base_rev: str | None, no_cache: bool, jobs: int | None) -> None:
    """Validate the sources, the ledgers and the built decks; write nothing (but the cache).

    Fails when a source has a mistake, when a ledger or deck is out of date, or when a
    released card disappeared without being retired.

    \b
    Examples:
      python build.py check
      python build.py check --source-text reading.txt
      python build.py check --base main
    """
    from . import commands

    _lock(ctx)
    _print(_run(lambda: commands.check(_command_run(ctx, no_cache, jobs), keys, source_text, base_rev)))


def _command_run(ctx: click.Context, no_cache: bool, jobs: int | None = None):
    """A global option (`build.py --no-cache check`) counts as if written after the command; after it, it wins."""
    from .commands import Run

    no_cache = no_cache or ctx.obj.get("no_cache", False)
    jobs = jobs if jobs is not None else ctx.obj.get("jobs")
    return Run(ctx.obj["root"], use_cache=not no_cache, jobs=jobs or 0, progress=_progress_line if ctx.obj["progress"] else None)


def _print(report) -> None:
    for line in report.stdout:
        click.echo(line)
    for line in report.stderr:
        click.echo(line, err=True)


@cli.command()
@click.argument("keys", nargs=-1)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "markdown"]), default="csv", show_default=True, help="csv for other flashcard tools, markdown for a printable study sheet."
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file instead of standard output.")
@_NO_CACHE
@click.pass_context
def export(ctx: click.Context, keys: tuple[str, ...], fmt: str, output: Path | None, no_cache: bool) -> None:
    """Export the cards of decks (all without KEYS) as CSV or Markdown.

    \b
    Examples:
      python build.py export --format csv -o needling.csv needling
      python build.py export --format markdown > study-sheet.md
      python build.py export --format markdown -o sheets/needling.md   # with the picture cards' images
    """
    from . import commands
    from .output import write_atomically

    _lock(ctx)
    text, report, media = _run(lambda: commands.export(_command_run(ctx, no_cache), keys, fmt))
    _print(report)
    if output:
        _run(lambda: write_atomically(output, text))
        for name, data in media.items():  # the picture sides the sheet shows, beside it
            _run(lambda name=name, data=data: write_atomically(output.parent / name, data))
    else:
        click.echo(text, nl=False)


@cli.command()
@click.argument("keys", nargs=-1)
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), help="Folder for the pages [default: decks/preview/].")
@_NO_CACHE
@click.pass_context
def preview(ctx: click.Context, keys: tuple[str, ...], output: Path | None, no_cache: bool) -> None:
    """Build the decks, then write an HTML page per deck showing every card, front and back,
    as Anki renders it (with Anki's own engine), with a night-mode switch and filters.

    \b
    Examples:
      python build.py preview
      python build.py preview needling -o /tmp/preview
    """
    from . import commands

    _lock(ctx)
    _print(_run(lambda: commands.preview(_command_run(ctx, no_cache), keys, output)))


@cli.command()
@click.argument("base")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the rendered before/after page here [default: decks/preview/diff.html].")
@click.pass_context
def diff(ctx: click.Context, base: str, output: Path | None) -> None:
    """Show the cards added, changed and retired since the git revision BASE.

    Prints a plain-text summary (for a pull request comment or release notes) and writes a page
    with each changed card rendered by Anki, before and after. The working tree is not changed.

    \b
    Examples:
      python build.py diff main
      python build.py diff v1.0 -o /tmp/changes.html
    """
    import time

    from .diff import run_diff
    from .output import preview_page, write_atomically

    root = ctx.obj["root"]
    _lock(ctx)
    target = output or _run(lambda: preview_page(root, "diff.html"))
    text, page = _run(lambda: run_diff(root, base, int(time.time())))
    _run(lambda: write_atomically(target, page))
    click.echo(text, nl=False)
    click.echo(f"rendered: {_rel(target, root)}", err=True)


@cli.command("release-check")
@click.argument("base", required=False)
@click.option("--json", "as_json", is_flag=True, help='Print {"ok": ..., "base": ..., "decks": {...}} instead of text.')
@click.option("--notes", is_flag=True, help="Print release notes for students (Markdown) instead of the report; the report goes to standard error when something is wrong.")
@click.pass_context
def release_check(ctx: click.Context, base: str | None, as_json: bool, notes: bool) -> None:
    """Show what a student who imported BASE (a git revision; default: the latest release tag
    reachable from HEAD, v1.2 say, else HEAD) gets from the working tree's build: Anki's own engine
    imports BASE's decks into a fresh collection, studies some cards, then imports the new build.
    Per deck: new, updated, unchanged, conflicting, retired and not updated notes, lost reviews,
    note type changes. Exit 1 when something would be lost or silently left behind.

    With --notes, prints what the release changes in a student's words instead (how to import
    each deck, the cards added, corrected and withdrawn), for a release or the CHANGELOG.

    \b
    Examples:
      python build.py release-check main
      python build.py release-check v1.0 --json
      python build.py release-check v1.0 --notes > notes.md
    """
    import time

    from .release import default_base
    from .release import release_check as check_release
    from .releasenotes import release_notes

    if as_json and notes:
        raise click.UsageError("--json and --notes do not go together: choose one")
    root = ctx.obj["root"]
    _lock(ctx)
    base, why = (base, "") if base else _run(lambda: default_base(root))
    report = _run(lambda: check_release(root, base, int(time.time()), notes=notes, why_base=why))
    if notes:
        click.echo(release_notes(base, report.changes), nl=False)
        if not report.ok:
            click.echo(report.to_text(), err=True, nl=False)
    else:
        click.echo(report.to_json() if as_json else report.to_text(), nl=False)
    for problem in report.problems if as_json else ():
        click.echo(str(problem), err=True)
    ctx.exit(0 if report.ok else 1)


@cli.command()
@click.option("--write", "folder", type=click.Path(file_okay=False, path_type=Path), help="Write them into this folder [default: acudeck/schema/ beside the code].")
def schema(folder: Path | None) -> None:
    """Write the JSON Schemas of the source format (card, deck and course files), generated from the
    card types, for the build and for editors.

    \b
    Examples:
      python build.py schema
      python build.py schema --write schemas/
    """
    from .schema import SCHEMA_FOLDER, write_schemas

    target = folder or SCHEMA_FOLDER
    written = _run(lambda: write_schemas(target))
    for path, changed in written:
        click.echo(f"{_rel(path, Path.cwd())}: {'written' if changed else 'unchanged'}")


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--key", help="The deck's key [default: FOLDER's name as a slug].")
@click.option("--name", help="The deck's name students see [default: from the key].")
def init(folder: Path, key: str | None, name: str | None) -> None:
    """Start a deck repository in FOLDER: a deck with one sample card of each type, a sample course,
    the JSON Schemas and editor settings, a README for students, a pre-commit hook, a CI workflow.
    Writes only new files: when any of them exists, writes nothing.

    \b
    Example:
      acudeck init my-course && cd my-course && acudeck build && acudeck check
    """
    from .scaffold import init as scaffold

    for path in _run(lambda: scaffold(folder, key, name)):
        click.echo(f"{_rel(path, Path.cwd())}: written")
    click.echo(f"next: cd {folder} && acudeck build && git init && git add . && git commit", err=True)


def _rel(path: Path, root: Path) -> str:
    from .source import display_path

    return display_path(path, root)


def main(prog_name: str = "acudeck") -> None:
    """Run the command line and exit without tearing the interpreter down: freeing a large deck's
    million objects one by one takes a tenth of a rebuild, and the process ends anyway. The cycle
    collector stays off for the same reason (see project.py): turned back on, its first pass over
    everything the build made would come before the exit.

    Output that cannot be written (a full disk, a closed stream, a pipe whose reader went away) ends
    the run with exit code 1 and, where standard error still takes it, one line: never a traceback."""
    gc.disable()
    _reserve_standard_streams()
    try:
        cli(prog_name=prog_name)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            _say(exc.code)
    except OSError as exc:  # writing the output failed (Click itself turns a broken pipe into exit code 1)
        code = 1
        _say(f"Error: {exc.filename}: {exc.strerror}" if exc.filename else f"Error: cannot write the output ({exc.strerror or exc})")
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # output lost: nothing more can be said
            code = code or 1
    os._exit(code)


def _say(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # standard error is gone too
        click.echo(line, err=True)


def _reserve_standard_streams() -> None:
    """A standard stream closed when acudeck starts (`>&-`) is opened on the null device, so that no
    file acudeck opens takes its number (a child process would write into that file); what is
    written to it is output lost, and the run ends with exit code 1."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            if fd:
                setattr(sys, name, io.TextIOWrapper(io.BufferedWriter(_ClosedStream()), encoding="utf-8"))


class _ClosedStream(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        raise OSError(errno.EBADF, "the stream was closed")


if __name__ == "__main__":
    main()
