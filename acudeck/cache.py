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
import re
import stat
import sys
import time
import zlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import NamedTuple

from .errors import Location, Problem
from .inputs import display_path, list_inputs, list_outputs
from .safefs import digest_limited, open_regular, read_limited

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
    """The digest of exactly the files a build reads (`inputs.list_inputs`: deck.yaml files, card
    files, media, course files) and of the problems found listing them. A file that cannot be read
    (or is over the size limit) is not read, and makes the digest one that nothing was stored under:
    the command then runs, and reports it."""
    from .yamlfile import MAX_FILE_BYTES

    listing = list_inputs(root)
    total, files = hashlib.sha256(), {}
    for paths, limit in ((listing.sources(), MAX_FILE_BYTES), (listing.media(), None)):
        for path in paths:
            name = path.relative_to(root).as_posix()
            try:
                files[name] = digest_limited(path, limit)
            except OSError:
                total.update(os.urandom(32))
                continue
            total.update(name.encode() + b"\0" + files[name])
    for problem in listing.all_problems():
        total.update(f"\0{problem}".encode())
    return SourceDigest(total.digest(), files)


def content_digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def fingerprint(root: Path, command: str, sources: SourceDigest, *args: str) -> str | None:
    """The key of a command's report: acudeck's code, the `source_digest` taken before the command
    ran (an edit made while it ran then misses next time), decks/ as it is now, and the arguments.
    None (nothing is looked up or stored) when decks/ holds a link or a special file: the command
    refuses those.

    The outputs in decks/ count by name, size, inode and modification time (of the entry itself,
    lstat), as make's targets do: a deleted, edited, restored or checked-out deck is a miss, and the
    largest deck is not read twice more per build."""
    outputs = list_outputs(root)
    if outputs.problems:
        return None
    digest = hashlib.sha256(code_version() + sources.total + f"\0{command}\0{args!r}".encode())
    for name, found in outputs.files:
        digest.update(f"{name}\0{found.st_size} {found.st_ino} {found.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def _add(digest, path: Path, base: Path) -> None:
    digest.update(path.relative_to(base).as_posix().encode() + b"\0")
    digest.update(path.read_bytes())
    digest.update(b"\0")


def unusable(root: Path) -> Problem | None:
    """A warning when .acudeck-cache/ is a link, or holds one (at its top or in files/), or is not a
    folder: the cache is then not used at all (nothing read, written or removed there)."""
    folder = root / CACHE_DIR
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return _warning(root, folder, f"cannot be read ({exc.strerror or exc})")
    if stat.S_ISLNK(mode):
        return _warning(root, folder, _LINK)
    if not stat.S_ISDIR(mode):
        return _warning(root, folder, "not a folder")
    try:
        with os.scandir(folder) as entries:
            link = next((entry for entry in entries if entry.is_symlink()), None)
        if link is None and _lstat_mode(folder / "files") == stat.S_IFDIR:
            with os.scandir(folder / "files") as entries:
                link = next((entry for entry in entries if entry.is_symlink()), None)
    except OSError as exc:
        return _warning(root, folder, f"cannot be read ({exc.strerror or exc})")
    return _warning(root, Path(link.path), _LINK) if link else None


_LINK = "symbolic link: acudeck does not follow links inside the project"


def _warning(root: Path, path: Path, what: str) -> Problem:
    return Problem(Location(display_path(path, root)), f"warning: {what}, so the cache is not used; delete {CACHE_DIR}/ to use it again")


def _entry(root: Path, command: str) -> Path:
    return root / CACHE_DIR / f"{command}.json"


def lookup(root: Path, command: str, key: str | None) -> dict | None:
    """The stored report for `key`, or None (missing, stale, or corrupt)."""
    if key is None or not _real_folder(root / CACHE_DIR):
        return None
    try:
        data = json.loads(read_limited(_entry(root, command), _MAX_REPORT_BYTES).decode("utf-8"))
        if data["key"] == key and isinstance(data["stdout"], list) and isinstance(data["stderr"], list):
            return data
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


_MAX_REPORT_BYTES = 64 * 1024 * 1024  # a report is a few lines; a larger file is not one this user's runs wrote


def store(root: Path, command: str, key: str | None, stdout: list[str], stderr: list[str]) -> None:
    if key is None:
        return
    with contextlib.suppress(OSError), _cache_folder(root) as folder:  # a cache that cannot be written only costs time
        _write_entry(folder, f"{command}.json", [json.dumps({"key": key, "stdout": stdout, "stderr": stderr}).encode("utf-8")])


def _real_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


@contextlib.contextmanager
def _cache_folder(root: Path, *names: str, create: bool = True) -> Iterator[int]:
    """A descriptor of root/.acudeck-cache (then of each of `names` in it), each opened without
    following a link (OSError for one), and made first when `create`. Entries are then written and
    removed relative to it, so nothing reaches outside the project, whatever happens to the path."""
    opened = [os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))]
    try:
        for name in (CACHE_DIR, *names):
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, dir_fd=opened[-1])
            opened.append(os.open(name, _DIR_FLAGS, dir_fd=opened[-1]))
        yield opened[-1]
    finally:
        for fd in opened:
            os.close(fd)


def _write_entry(folder: int, name: str, chunks: list[bytes]) -> None:
    """Write the entry `name` in the folder `folder` (a descriptor) through a temporary file made
    anew (never one that is there already, a link say) and renamed over it."""
    tmp = f".{name}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp, dir_fd=folder)
    fd = os.open(tmp, _NEW_FILE_FLAGS, 0o644, dir_fd=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)  # replaces a link rather than following it
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=folder)
        raise


class FileCache:
    """Card file results under .acudeck-cache/files/, one file per entry, named by its key."""

    def __init__(self, root: Path):
        self.root = root
        self.folder = root / CACHE_DIR / "files"
        self.used: set[str] = set()
        # Neither .acudeck-cache nor files/ is a link (the command line does not use a cache that holds
        # one, see `unusable`): entries are opened by their path, each without following a link itself.
        self.safe = all(_lstat_mode(path) in (None, stat.S_IFDIR) for path in (root / CACHE_DIR, self.folder))

    def key(self, display: str, content: bytes, context: bytes) -> str:
        """`content`: the file's `content_digest`; `context`: what else the entry depends on (the
        deck's key, tags and reading)."""
        return hashlib.sha256(code_version() + display.encode() + b"\0" + context + b"\0" + content).hexdigest()

    def read(self, key: str) -> bytes | None:
        """The entry's bytes (without its tail), checked against its key and checksum; None when
        missing or damaged."""
        self.used.add(key)
        if not self.safe:
            return None
        try:
            with open_regular(self.folder / key, buffering=0) as fh:
                header = fh.read(_HEADER_SIZE)
                size = _payload_size(key, header)
                payload = fh.read(size) if size is not None else b""
        except OSError:
            return None
        return payload if size is not None and len(payload) == size and header[64:72] == _crc(payload) else None

    def read_tail(self, key: str) -> bytes | None:
        """The entry's tail: a part that most runs do not need, read and checked only when asked for."""
        if not self.safe:
            return None
        try:
            with open_regular(self.folder / key, buffering=0) as fh:
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
        if not self.safe:
            return
        header = f"{key}{_crc(payload).decode()}{len(payload):016x}{_crc(tail).decode()}\n".encode()
        with contextlib.suppress(OSError), _cache_folder(self.root, "files") as folder:  # a cache that cannot be written only costs time
            _write_entry(folder, key, [header, payload, tail])

    def prune(self) -> None:
        """Remove the entries this run did not use (call only after reading every deck). Only what
        acudeck writes is removed: regular files named like an entry or like one's temporary file, in
        the real folder .acudeck-cache/files of this project, never through a link."""
        if not self.safe:
            return
        now = time.time()
        # A cache that cannot be cleaned only costs disk space.
        with contextlib.suppress(OSError), _cache_folder(self.root, "files", create=False) as folder, os.scandir(folder) as entries:
            for entry in list(entries):
                if not entry.is_file(follow_symlinks=False):
                    continue
                if _ENTRY_NAME.fullmatch(entry.name):
                    stale = entry.name not in self.used
                elif _TEMP_NAME.fullmatch(entry.name):
                    # Another run's temporary file, left alone unless it is old enough to be a leftover.
                    stale = now - entry.stat(follow_symlinks=False).st_mtime > 3600
                else:
                    continue
                if stale:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.name, dir_fd=folder)


_ENTRY_NAME = re.compile(r"[0-9a-f]{64}")
_TEMP_NAME = re.compile(r"\.[0-9a-f]{64}\.[0-9]+\.tmp")


def _lstat_mode(path: Path) -> int | None:
    """The kind of file at `path` (S_IFDIR, S_IFLNK ...), None when there is none."""
    try:
        return stat.S_IFMT(os.lstat(path).st_mode)
    except FileNotFoundError:
        return None
    except OSError:
        return -1


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
