"""Locations in source files and the errors that carry them to the user."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

MAX_PROBLEMS_PER_FILE = 50


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


def capped(problems: list[Problem], per_file: int = MAX_PROBLEMS_PER_FILE) -> list[Problem]:
    """The problems to show: at most `per_file` of each file, in the order given; in place of the
    rest of a file, one line at the first of them that counts them."""
    total = Counter(problem.location.path for problem in problems)
    seen: Counter[str] = Counter()
    shown = []
    for problem in problems:
        path = problem.location.path
        seen[path] += 1
        if seen[path] <= per_file:
            shown.append(problem)
        elif seen[path] == per_file + 1:
            more = total[path] - per_file
            shown.append(Problem(problem.location, f"and {more} more {'problem' if more == 1 else 'problems'} in this file"))
    return shown


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
