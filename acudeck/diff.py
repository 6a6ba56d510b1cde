"""What changed in the cards between a git revision and the working tree.

Both trees are loaded and compiled the same way, and notes are compared by their identity (deck
key and card id), so an edit shows as a change, not as a removal and an addition.
"""

from __future__ import annotations

import contextlib
import functools
import html
import io
import itertools
import os
import posixpath
import re
import shutil
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BuildError, SourceError, WriteError
from .inputs import COURSE_DIR, OUT_DIR, PREVIEW_DIR, SRC_DIR
from .ledger import Released, ledger_path, read_ledger
from .lock import project_lock
from .notes import NoteSource
from .source import display_path, find_decks, load_deck


@dataclass
class DeckDiff:
    key: str
    name: str
    added: list[NoteSource] = field(default_factory=list)
    changed: list[tuple[NoteSource, NoteSource]] = field(default_factory=list)  # (before, after)
    removed: list[NoteSource] = field(default_factory=list)
    retired: set[str] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


_BASE_BROKEN = "the sources at the base revision do not load"


def resolve_revision(root: Path, rev: str) -> str:
    """The commit `rev` names, as its hash: only the hash reaches `git archive`, so no revision is
    ever read as an option."""
    if rev.startswith("-"):
        raise BuildError(f"cannot read revision '{rev}': a revision does not start with '-'")
    commit = _git(root, rev, "rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}").decode("ascii", errors="replace").strip()
    if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", commit):
        raise BuildError(f"cannot read revision '{rev}': git rev-parse gave {commit!r}")
    return commit


RELEASE_TAG = re.compile(r"v\d+(\.\d+)*")  # v1, v1.2, v1.2.3: what a release is tagged (not v1.2-rc1)


def latest_release_tag(root: Path) -> str | None:
    """The newest tag reachable from HEAD that looks like a release, by version order (v1.10 after
    v1.9); None when there is none (or no git history to look in)."""
    try:
        listed = _git(root, "HEAD", "tag", "--list", "v*", "--merged", "HEAD", "--sort=-version:refname")
    except BuildError:
        return None
    return next((name for name in listed.decode("utf-8", errors="replace").splitlines() if RELEASE_TAG.fullmatch(name)), None)


def export_revision(root: Path, rev: str, dest: Path) -> None:
    """The project's files at `rev`, written into `dest` and nowhere else."""
    archive = _git(root, rev, "archive", "--format=tar", resolve_revision(root, rev))
    try:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(dest, filter=_inert_links)
    except (tarfile.TarError, OSError) as exc:
        raise BuildError(f"cannot extract revision '{rev}': {exc}") from None


def _inert_links(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo:
    """tarfile's "data" filter, except that a symbolic link is kept as a link to itself, whatever it
    pointed at: nothing can be extracted or built through it to outside `dest`, and loading the tree
    meets a link where the revision has one, as it would in the working tree."""
    if member.issym():
        member = member.replace(linkname=posixpath.basename(member.name), deep=False)
    return tarfile.data_filter(member, dest)


def _git(root: Path, rev: str, *args: str) -> bytes:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=True).stdout
    except FileNotFoundError:
        raise BuildError("diff needs git on the PATH") from None
    except subprocess.CalledProcessError as exc:
        raise BuildError(f"cannot read revision '{rev}': {exc.stderr.decode(errors='replace').strip()}") from None


def load_notes(root: Path) -> dict[str, tuple[str, list[NoteSource], set[str]]]:
    """deck key -> (deck name, notes, retired ids)."""
    decks = {}
    for folder in find_decks(root / SRC_DIR):
        deck = load_deck(folder, root)
        decks[deck.key] = (deck.name, deck.notes, set(deck.retired))
    return decks


def load_released(root: Path, rev: str) -> dict[str, Released]:
    """deck key -> what revision `rev` released of it: its ledger and its cards' types."""
    with tempfile.TemporaryDirectory(prefix="acudeck-base-") as work:
        export_revision(root, rev, Path(work))
        return released_decks(Path(work))


def released_decks(base: Path) -> dict[str, Released]:
    """What the project copy `base` (a base revision's files) released of each deck."""
    released = {}
    with _loading_base():
        for folder in find_decks(base / SRC_DIR) if (base / SRC_DIR).is_dir() else []:
            deck = load_deck(folder, base)
            path = ledger_path(base / OUT_DIR, deck.key)
            ledger = read_ledger(path, display_path(path, base), deck=deck.key)
            shapes = {**ledger.retired, **{note.key: {"type": note.card_type, "ords": list(note.ords)} for note in deck.notes}}
            released[deck.key] = Released(ledger, {card.id: card.type for card in deck.cards}, shapes)
    return released


def diff_trees(base: Path, head: Path) -> list[DeckDiff]:
    with _loading_base():
        before = load_notes(base)
    after = load_notes(head)
    diffs = []
    for key in sorted(set(before) | set(after)):
        name, old_notes, _ = before.get(key, ("", [], set()))
        new_name, new_notes, retired = after.get(key, (name, [], set()))
        diff = DeckDiff(key, new_name or name, retired=retired)
        old = {note.key: note for note in old_notes}
        new = {note.key: note for note in new_notes}
        diff.added = [note for k, note in new.items() if k not in old]
        diff.removed = [note for k, note in old.items() if k not in new]
        diff.changed = [(old[k], note) for k, note in new.items() if k in old and old[k].content_hash() != note.content_hash()]
        diffs.append(diff)
    return diffs


def summary(diffs: list[DeckDiff], base_rev: str) -> str:
    """Plain text for a pull request comment or release notes."""
    lines = [f"Card changes since {base_rev}:"]
    if all(d.empty for d in diffs):
        return lines[0] + " none.\n"
    for d in diffs:
        if d.empty:
            continue
        lines += ["", f"{d.name} ({d.key}): {len(d.added)} added, {len(d.changed)} changed, {len(d.removed)} removed"]
        lines += [f"  + {n.key} ({n.card_type}): {_plain(n.fields[0])}" for n in d.added]
        lines += [f"  ~ {a.key} ({a.card_type}): {_plain(a.fields[0])}" for _, a in d.changed]
        for n in d.removed:
            state = "retired" if n.card_id in d.retired else "removed"
            lines.append(f"  - {n.key} ({n.card_type}, {state}): {_plain(n.fields[0])}")
    return "\n".join(lines) + "\n"


_BLOCK_TAG = re.compile(r"<(?:/?(?:div|p|li|tr|td|th|h[1-6])\b[^>]*|br\s*/?)>")  # a break between words (a compare's aspect and options)


def _plain(fragment: str, limit: int = 70) -> str:
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", _BLOCK_TAG.sub(" ", fragment))).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def diff_page(diffs: list[DeckDiff], base_rev: str, base: Path, head: Path) -> str:
    """Every added, changed and removed card, rendered by Anki before and after."""
    from . import preview
    from .notetypes import CSS
    from .preview import RenderedCard, left_out_reason, render_package

    wanted = {
        "before": {note.guid for d in diffs for note in (*d.removed, *(old for old, _ in d.changed))},
        "after": {note.guid for d in diffs for note in (*d.added, *(new for _, new in d.changed))},
    }
    rendered: dict[tuple[str, str], list[RenderedCard]] = {}
    left_out = 0
    for label, root in (("before", base), ("after", head)):
        for d in diffs:
            apkg = root / OUT_DIR / f"{d.key}.apkg"  # the deck's own package, just built (a course's would repeat its cards)
            if apkg.is_file() and not apkg.is_symlink():
                cards, skipped = render_package(apkg, wanted[label], preview.MAX_PAGE_CHARS // 2)
                left_out += skipped
                for card in cards:
                    rendered.setdefault((label, card.guid), []).append(card)
    sections = []
    for d in diffs:
        for kind, pairs in (("added", [(None, n) for n in d.added]), ("changed", d.changed), ("removed", [(n, None) for n in d.removed])):
            for old, new in pairs:
                note = new or old
                assert note is not None
                before = rendered.get(("before", note.guid), []) if old else []
                after = rendered.get(("after", note.guid), []) if new else []
                rows = "".join(
                    f'<div class="diff-row"><div class="card">{b.answer if b else ""}</div><div class="card">{a.answer if a else ""}</div></div>'
                    for b, a in itertools.zip_longest(before, after)
                )
                sections.append(f'<section class="diff-{kind}"><h2>{kind}: {html.escape(d.key)} / {html.escape(note.key)}</h2>{rows}</section>')
    body = "\n".join(sections) or "<p>No card changed.</p>"
    if left_out:
        body += f"\n<p>{left_out} more cards are not shown: {left_out_reason()}.</p>"
    return _PAGE.format(css=CSS, base=html.escape(base_rev), body=body)


def prepare_trees(root: Path, rev: str, work: Path, now: int) -> tuple[Path, Path]:
    """Copies of the base revision and of the working tree, each built, in `work`."""
    base, head = work / "base", work / "head"
    export_revision(root, rev, base)
    copy_working_tree(root, head)
    with _loading_base():
        _build_tree(base, now)
    _build_tree(head, now)
    return base, head


def _build_tree(tree: Path, now: int) -> None:
    from .project import Project, build

    if (tree / SRC_DIR).is_dir():
        with project_lock(tree):  # which refuses a decks/ that is a link, as in the project itself
            build(Project(tree), now=now)


def copy_working_tree(root: Path, head: Path) -> None:
    """The working tree's sources and decks, copied into `head` with links kept as links (copying
    what they point at would bring outside files in): loading the copy refuses them as loading the
    project does."""
    head.mkdir()
    for name in (SRC_DIR, COURSE_DIR, OUT_DIR):
        source, copy = root / name, head / name
        try:
            if source.is_symlink():
                os.symlink(os.readlink(source), copy)
            elif source.is_dir():
                ignore = shutil.ignore_patterns(PREVIEW_DIR, ".*.tmp") if name == OUT_DIR else None
                shutil.copytree(source, copy, symlinks=True, ignore=ignore, copy_function=functools.partial(_copy_file, root=root))
        except shutil.Error as exc:  # the files that could not be copied: name the first
            path, _, reason = exc.args[0][0]
            raise BuildError(f"cannot copy the working tree: {display_path(Path(path), root)}: {reason}") from None


def _copy_file(source: str, copy: str, root: Path) -> None:
    """shutil.copy2 for regular files; anything else (a FIFO would block the copy) stops it."""
    if not stat.S_ISREG(os.lstat(source).st_mode):
        raise BuildError(f"cannot copy the working tree: {display_path(Path(source), root)}: not a regular file")
    shutil.copy2(source, copy)


@contextlib.contextmanager
def _loading_base() -> Iterator[None]:
    """Problems in the base revision's sources, told apart from the working tree's."""
    try:
        yield
    except SourceError as exc:
        raise BuildError(f"{_BASE_BROKEN}:\n{exc}") from None
    except WriteError:
        raise
    except BuildError as exc:
        raise BuildError(f"{_BASE_BROKEN}: {exc}") from None


def run_diff(root: Path, rev: str, now: int) -> tuple[str, str]:
    """(plain-text summary, HTML page) of the card changes from `rev` to the working tree."""
    with tempfile.TemporaryDirectory(prefix="acudeck-diff-") as work:
        base, head = prepare_trees(root, rev, Path(work), now)
        diffs = diff_trees(base, head)
        return summary(diffs, rev), diff_page(diffs, rev, base, head)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Card changes since {base}</title>
<style>
{css}
body {{ font-family: sans-serif; background: #f2f2f7; margin: 1em; }}
section {{ background: #fff; border: 1px solid #c7c7cc; border-radius: 8px; margin-bottom: 1em; overflow: hidden; }}
h2 {{ font-size: 14px; margin: 0; padding: 0.4em 0.8em; }}
.diff-added h2 {{ background: #d1f2d9; }} .diff-changed h2 {{ background: #fff3bf; }} .diff-removed h2 {{ background: #f8d7da; }}
.diff-row {{ display: grid; grid-template-columns: 1fr 1fr; border-top: 1px solid #e5e5ea; }}
.diff-row > .card {{ max-width: none; margin: 0; }}
</style></head><body>
<h1>Card changes since {base}</h1>
<p>Left: before. Right: after. Each row is one card's answer side as Anki renders it.</p>
{body}
</body></html>
"""
