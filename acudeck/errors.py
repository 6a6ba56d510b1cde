"""Locations in source files and the errors that carry them to the user."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Location:
    """A place in a source file; line and column count from 1."""

    path: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{self.col}"
        return f"{self.path}:1:1"


@dataclass(frozen=True, order=True)
class Problem:
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class SourceError(Exception):
    """One or more user mistakes in the sources, each with its location."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class BuildError(Exception):
    """A failure that is not tied to a place in the sources (an unwritable folder, say)."""


class WriteError(BuildError):
    """A file acudeck writes could not be written (a full disk, a missing folder): names the file,
    which a full disk's OSError does not."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"cannot write {path}: {reason}")
        self.path = path
        self.reason = reason


class ReadError(BuildError):
    """A project file that was fine when checked could not be read when used (swapped for a link, say)."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"cannot read {path}: {reason}")
        self.path = path
        self.reason = reason


def os_reason(exc: BaseException) -> str:
    """What went wrong, without the errno and file name Python puts in str(OSError)."""
    return getattr(exc, "strerror", None) or str(exc)
