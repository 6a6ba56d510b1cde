"""The build cache, in two layers, both in .acudeck-cache/.

- Commands: when nothing a command reads has changed since it last succeeded, its report is
  replayed instead of doing the work again. The key covers acudeck's code, the content of every
  file under cards_src/ and courses/, the files under decks/ (by size, inode and modification
  time, so a deleted, edited or restored deck is rebuilt), and the command's arguments. A hit
  writes nothing.
- Files: each card file's cards and problems, keyed by the file's bytes, its path and acudeck's
  code, so a rebuild after one edit parses one file; also each ledger's parsed form, keyed by its
  bytes, and the compiled schema checks. Entries carry their key and a checksum.

"acudeck's code" means its modules and schemas and the versions of the libraries that shape its
output. An unreadable, corrupt or stale entry is simply a miss, so the cache cannot make a deck
differ from a clean build. Every key is also derived from a secret kept outside the project (see
`_secret`), so a cache folder made by anyone else is never read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import os
import sys
import time
import zlib
from functools import cache
from pathlib import Path
from typing import NamedTuple

CACHE_DIR = ".acudeck-cache"
_FORMAT = 3
_LIBRARIES = ("genanki", "PyYAML", "markdown-it-py", "nh3", "jsonschema", "fastjsonschema")


@cache
def code_version() -> bytes:
    """A digest of everything besides the sources that decides what a build writes, keyed with
    this user's secret (so no one else can name a valid entry)."""
    from importlib import metadata

    digest = hashlib.sha256(_secret() + f"{_FORMAT} python {sys.version} marshal {marshal.version}".encode())
    package = Path(__file__).parent
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".json"):
            _add(digest, path, package)
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}=={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name} missing\0".encode())
    return digest.digest()


def secret_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "acudeck" / "cache-secret"


@cache
def _secret() -> bytes:
    """A random key kept outside the project, made on first use; every cache key is derived from it.

    A `.acudeck-cache/` that came with the sources (committed in a pull request, say) was made
    with another key, so none of its entries is ever read: it can neither replay a passing `check`
    nor put unchecked HTML into a deck. Where no key can be kept, one for this run alone makes
    the cache miss every time.
    """
    path = secret_path()
    found = _read_secret(path)
    if not found:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(os.urandom(32))
            try:
                os.link(tmp, path)  # complete or absent, and the first run to get here wins
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        found = _read_secret(path)
    return found or os.urandom(32)


def _read_secret(path: Path) -> bytes:
    try:
        found = path.read_bytes()
    except OSError:
        return b""
    return found if len(found) == 32 else b""


class SourceDigest(NamedTuple):
    """Every file under cards_src/ and courses/: what a command reads."""

    total: bytes
    files: dict[str, bytes]  # path from the project root -> the SHA-256 of the file's bytes


def source_digest(root: Path) -> SourceDigest:
    total, files = hashlib.sha256(), {}
    for folder in ("cards_src", "courses"):
        for path in _files(root, folder):
            name = path.relative_to(root).as_posix()
            files[name] = content_digest(path.read_bytes())
            total.update(name.encode() + b"\0" + files[name])
    return SourceDigest(total.digest(), files)


def content_digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def fingerprint(root: Path, command: str, sources: SourceDigest, *args: str) -> str:
    """The key of a command's report: acudeck's code, the `source_digest` taken before the command
    ran (an edit made while it ran then misses next time), decks/ as it is now, and the arguments.

    The outputs in decks/ count by name, size, inode and modification time, as make's targets do:
    a deleted, edited, restored or checked-out deck is a miss, and the largest deck is not read twice
    more per build."""
    digest = hashlib.sha256(code_version() + sources.total + f"\0{command}\0{args!r}".encode())
    for path in _files(root, "decks"):
        stat = path.stat()
        digest.update(f"{path.relative_to(root).as_posix()}\0{stat.st_size} {stat.st_ino} {stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def _files(root: Path, folder: str) -> list[Path]:
    return [path for path in sorted((root / folder).rglob("*")) if path.is_file() and not path.name.startswith(".") and "preview" not in path.relative_to(root).parts]


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


class FileCache:
    """Card file results under .acudeck-cache/files/, one file per entry, named by its key."""

    def __init__(self, root: Path):
        self.folder = root / CACHE_DIR / "files"
        self.used: set[str] = set()

    def key(self, display: str, content: bytes, context: bytes) -> str:
        """`content`: the file's `content_digest`; `context`: what else the entry depends on (the
        deck's key, tags and reading)."""
        return hashlib.sha256(code_version() + display.encode() + b"\0" + context + b"\0" + content).hexdigest()

    def read(self, key: str) -> bytes | None:
        """The entry's bytes (without its tail), checked against its key and checksum; None when
        missing or damaged."""
        self.used.add(key)
        try:
            with open(self.folder / key, "rb", buffering=0) as fh:
                header = fh.read(_HEADER_SIZE)
                size = _payload_size(key, header)
                payload = fh.read(size) if size is not None else b""
        except OSError:
            return None
        return payload if size is not None and len(payload) == size and header[64:72] == _crc(payload) else None

    def read_tail(self, key: str) -> bytes | None:
        """The entry's tail: a part that most runs do not need, read and checked only when asked for."""
        try:
            with open(self.folder / key, "rb", buffering=0) as fh:
                header = fh.read(_HEADER_SIZE)
                size = _payload_size(key, header)
                if size is None:
                    return None
                fh.seek(_HEADER_SIZE + size)
                tail = fh.read()
        except OSError:
            return None
        return tail if header[88:96] == _crc(tail) else None

    def named_key(self, name: str) -> str:
        """The key of an entry that depends on acudeck's code alone (a compiled validator, say)."""
        return hashlib.sha256(code_version() + b"\0" + name.encode()).hexdigest()

    def put(self, key: str, payload: bytes, tail: bytes = b"") -> None:
        self.used.add(key)
        path = self.folder / key
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{key}.{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                fh.write(f"{key}{_crc(payload).decode()}{len(payload):016x}{_crc(tail).decode()}\n".encode())
                fh.write(payload)
                fh.write(tail)
            tmp.replace(path)
        except OSError:
            pass  # a cache that cannot be written only costs time

    def prune(self) -> None:
        """Remove the entries this run did not use (call only after reading every deck)."""
        now = time.time()
        with contextlib.suppress(OSError):  # a cache that cannot be cleaned only costs disk space
            for path in list(self.folder.iterdir()):
                if path.name.startswith("."):
                    # Another run's temporary file, left alone unless it is old enough to be a leftover.
                    with contextlib.suppress(OSError):
                        if now - path.stat().st_mtime > 3600:
                            path.unlink()
                elif path.name not in self.used:
                    with contextlib.suppress(OSError):
                        path.unlink()


_HEADER_SIZE = 64 + 8 + 16 + 8 + 1  # the key, the payload's CRC-32 and size, the tail's CRC-32 (all in hex), a newline


def _crc(data: bytes) -> bytes:
    return f"{zlib.crc32(data):08x}".encode()


def _payload_size(key: str, header: bytes) -> int | None:
    """The payload's size from an entry's header, or None when the header is not this key's."""
    if len(header) != _HEADER_SIZE or header[:64] != key.encode() or header[-1:] != b"\n":
        return None
    try:
        return int(header[72:88], 16)
    except ValueError:
        return None
