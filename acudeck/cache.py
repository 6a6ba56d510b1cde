"""The build cache: when nothing a command reads has changed since it last succeeded, its
report is replayed instead of doing the work again.

The key covers acudeck's own code and schemas, every file under cards_src/, courses/ and decks/
(the outputs too, so a deleted or edited deck is rebuilt), and the command's arguments. A hit
writes nothing, so the cache cannot make a deck differ from a clean build; an unreadable or
stale entry is simply a miss.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

CACHE_DIR = ".acudeck-cache"
_FORMAT = 1


def fingerprint(root: Path, command: str, *args: str) -> str:
    digest = hashlib.sha256(f"{_FORMAT}\0{command}\0{args!r}".encode())
    package = Path(__file__).parent
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".json"):
            _add(digest, path, package)
    for folder in ("cards_src", "courses", "decks"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and not path.name.startswith(".") and "preview" not in path.relative_to(root).parts:
                _add(digest, path, root)
    return digest.hexdigest()


def _add(digest, path: Path, base: Path) -> None:
    digest.update(path.relative_to(base).as_posix().encode() + b"\0")
    digest.update(path.read_bytes())
    digest.update(b"\0")


def _entry(root: Path, command: str) -> Path:
    return root / CACHE_DIR / f"{command}.json"


def lookup(root: Path, command: str, key: str) -> dict | None:
    """The stored report for `key`, or None (missing, stale, or corrupt)."""
    try:
        data = json.loads(_entry(root, command).read_text("utf-8"))
        if data["key"] == key and isinstance(data["stdout"], list) and isinstance(data["stderr"], list):
            return data
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def store(root: Path, command: str, key: str, stdout: list[str], stderr: list[str]) -> None:
    path = _entry(root, command)
    try:
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"key": key, "stdout": stdout, "stderr": stderr}), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a cache that cannot be written only costs time
