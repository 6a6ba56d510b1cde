"""Writing files so that a failure or an interruption never leaves half of one."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import WriteError, os_reason


class Staging:
    """Files written beside their destinations, then renamed into place together.

    Until `commit`, every destination keeps its previous content; a failure or an interruption
    leaves only hidden temporary files, which are removed on the way out where possible.
    """

    def __init__(self) -> None:
        self.pending: list[tuple[str, Path]] = []

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc) -> None:
        for tmp, _ in self.pending:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def open(self, final: Path, mode: str = "wb"):
        with writing(final):
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
            self.pending.append((tmp, final))
            os.fchmod(fd, 0o644)
        if "b" in mode:
            return os.fdopen(fd, mode)
        return os.fdopen(fd, mode, encoding="utf-8", newline="\n")

    def write(self, final: Path, data: bytes) -> None:
        with writing(final), self.open(final) as fh:
            fh.write(data)

    def staged(self, final: Path) -> Path:
        """The temporary file that will become `final`."""
        return Path(next(tmp for tmp, target in self.pending if target == final))

    def discard(self, final: Path) -> None:
        """Keep `final` as it is: drop what was staged for it."""
        for tmp, target in [entry for entry in self.pending if entry[1] == final]:
            os.unlink(tmp)
            self.pending.remove((tmp, target))

    def commit(self) -> None:
        """Rename each staged file into place. An interruption part way leaves some destinations new
        and some old; the next build repairs that, since it compares every package with its ledger."""
        while self.pending:
            tmp, final = self.pending[0]
            with writing(final):
                os.replace(tmp, final)
            del self.pending[0]  # renamed: no longer ours to remove on the way out


@contextlib.contextmanager
def writing(final: Path) -> Iterator[None]:
    """Any failure to write `final` as a WriteError that names it (a full disk's OSError names no file)."""
    try:
        yield
    except WriteError:
        raise
    except (OSError, sqlite3.OperationalError) as exc:  # SQLite says "database or disk is full"
        raise WriteError(final, os_reason(exc)) from None


def remove_leftovers(*finals: Path) -> None:
    """Temporary files that a killed build left beside these destinations."""
    for final in finals:
        for leftover in final.parent.glob(f".{final.name}.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
