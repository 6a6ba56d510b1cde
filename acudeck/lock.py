"""One acudeck run at a time per project: commands that read or write decks/ or the cache hold a lock.

The lock is `flock` on the project's decks/ folder itself, opened read-only: no lock file is made,
nothing is written, and the kernel releases it when the process ends however it ends. Where there is
no `flock` (Windows), runs are not serialized.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import BuildError, Location, Problem, SourceError
from .inputs import OUT_DIR
from .safefs import SYMLINK

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

WAITING = "waiting for another acudeck run in this project to finish..."


def open_out_dir(root: Path) -> int | None:
    """A read-only descriptor of `root/decks` (made when missing); a decks/ that is a link is refused.
    None when there is no project folder at all: there is nothing to guard, and the command says so."""
    folder = root / OUT_DIR
    try:
        folder.mkdir()
    except FileExistsError:  # a folder, or a link (dangling or not), refused just below
        pass
    except FileNotFoundError:
        return None
    try:
        return os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        if folder.is_symlink():
            raise SourceError([Problem(Location(OUT_DIR), SYMLINK)]) from None
        if exc.errno == errno.ENOTDIR:
            raise BuildError(f"{OUT_DIR}: not a folder; move it away so that acudeck can write its decks there") from None
        raise BuildError(f"{OUT_DIR}: cannot open the folder: {exc.strerror}") from None


@contextlib.contextmanager
def project_lock(root: Path, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the project's lock for the block; when another run holds it, call `on_wait` and wait."""
    fd = open_out_dir(root) if fcntl else None
    if fd is None:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock
