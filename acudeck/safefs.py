"""Opening a project's files: never through a symbolic link, never blocking, never more than a limit.

A pull request is untrusted, and a file it brings may be a link to anything the maintainer can
read, a FIFO that blocks its reader forever, or larger than memory. The listing (inputs.py) already
refuses links and special files by their directory entries; opening re-checks, so that a file
swapped for a link or a FIFO after the listing cannot redirect or block a read: O_NOFOLLOW refuses
a link, O_NONBLOCK makes opening a FIFO return at once, and fstat must then say "regular file".
The size is taken from fstat before anything is read.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

from .errors import Location, Problem, SourceError

SYMLINK = "symbolic link: acudeck does not follow links inside the project; put the file or folder itself in its place"
NOT_REGULAR = "not a regular file: acudeck reads only plain files"

_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


class NotRegularFile(OSError):
    """The path names a folder, a FIFO, a socket or a device."""


class FileTooLarge(OSError):
    """The file is larger than the limit it is read under."""


def open_regular(path: Path | str, buffering: int = -1) -> BinaryIO:
    """The regular file at `path`, opened for reading; OSError for a link, a special file or a folder."""
    fd = os.open(path, _READ_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file", str(path))
        return os.fdopen(fd, "rb", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise


def read_limited(path: Path | str, limit: int | None) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them (FileTooLarge beyond, found
    by fstat before reading and by reading one byte past the limit, should the file grow)."""
    with open_regular(path) as fh:
        if limit is None:
            return fh.read()
        if os.fstat(fh.fileno()).st_size > limit:
            raise FileTooLarge(errno.EFBIG, "file too large", str(path))
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(errno.EFBIG, "file too large", str(path))
    return data


def digest_limited(path: Path | str, limit: int | None = None) -> bytes:
    """The SHA-256 of the regular file at `path`, streamed; FileTooLarge when fstat says it exceeds `limit`."""
    with open_regular(path, buffering=0) as fh:
        if limit is not None and os.fstat(fh.fileno()).st_size > limit:
            raise FileTooLarge(errno.EFBIG, "file too large", str(path))
        digest = hashlib.sha256()
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
        return digest.digest()


def read_source(path: Path, display: str, limit: int | None) -> bytes:
    """`read_limited`, with a located problem for whatever stops it."""
    try:
        return read_limited(path, limit)
    except OSError as exc:
        raise SourceError([read_problem(exc, path, display, limit)]) from None


def digest_source(path: Path, display: str) -> bytes:
    """`digest_limited` without a limit, with a located problem for whatever stops it."""
    try:
        return digest_limited(path)
    except OSError as exc:
        raise SourceError([read_problem(exc, path, display, None)]) from None


def too_large(display: str, limit: int) -> Problem:
    return Problem(Location(display), f"file is larger than {limit // (1024 * 1024)} MiB; split it into several card files")


def read_problem(exc: OSError, path: Path, display: str, limit: int | None) -> Problem:
    """What to tell the user about a file that could not be read."""
    if isinstance(exc, FileTooLarge) and limit is not None:
        return too_large(display, limit)
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and stat.S_ISLNK(mode):
        return Problem(Location(display), SYMLINK)
    if isinstance(exc, NotRegularFile) or (mode is not None and not stat.S_ISREG(mode)):
        return Problem(Location(display), NOT_REGULAR)
    return Problem(Location(display), f"cannot read the file: {exc.strerror or exc}")
