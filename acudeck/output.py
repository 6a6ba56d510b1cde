"""Pages and exports: written whole or not at all, and never through a link that came with the project.

A path the user typed (`-o`) may be anywhere. The default place, decks/preview/, is inside the
project, where a pull request could have committed a link to somewhere else: a link there is refused.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import Location, Problem, SourceError, WriteError, os_reason
from .inputs import OUT_DIR, PREVIEW_DIR
from .safefs import SYMLINK
from .source import display_path


def write_atomically(path: Path, text: str | bytes) -> None:
    """Write `text` (or bytes) to `path` through a temporary file beside it, renamed over it: a reader never sees
    half a page, a failure leaves the old file and no temporary, and a link at `path` is replaced
    rather than written through."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise WriteError(path, os_reason(exc)) from None
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8") if isinstance(text, str) else text)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise WriteError(path, os_reason(exc)) from None
        raise


def output_folder(folder: Path) -> Path:
    """A folder the user named with -o: made when missing, but not its parents (a typo fails)."""
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise WriteError(folder, os_reason(exc)) from None
    return folder


def preview_folder(root: Path) -> Path:
    """decks/preview/, made when missing; a link there (committed in a pull request, say) is refused."""
    folder = root / OUT_DIR / PREVIEW_DIR
    _refuse_link(folder.parent, root)
    try:
        folder.mkdir()
    except FileExistsError:
        _refuse_link(folder, root)
    except OSError as exc:
        raise WriteError(folder, os_reason(exc)) from None
    return folder


def preview_page(root: Path, name: str) -> Path:
    """decks/preview/<name>, ready to be written: a page there that is a link is refused."""
    page = preview_folder(root) / name
    _refuse_link(page, root)
    return page


def _refuse_link(path: Path, root: Path) -> None:
    if path.is_symlink():
        raise SourceError([Problem(Location(display_path(path, root)), SYMLINK)])
