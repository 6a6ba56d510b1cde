"""Reading card files through the file cache, and in worker processes when there is enough to read.

Each card file's result (cards, notes and problems) is cached under a key made of its bytes, its
displayed path, its deck's note context and acudeck's code, so a rebuild after editing one card
parses one file. Files that miss the cache are parsed by a pool of processes when they add up to
enough work to pay for the pool; the results come back in file order and in the cached form, so
both paths give the same cards.
"""

from __future__ import annotations

import functools
import marshal
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType

from .cache import FileCache, content_digest
from .cardfile import CardFile, decode, encode, read_card_file
from .errors import BuildError, SourceError
from .format import CARD_FILE_CHECKS, fast_validator_code, has_fast_validator, install_fast_validator
from .notes import NoteContext
from .yamlfile import read_bytes

# Below this much source text to parse, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 2 * 1024 * 1024


@dataclass
class CardFileReader:
    cache: FileCache | None = None
    jobs: int = 0  # worker processes; 0: one per CPU, 1: none
    parallel_min_bytes: int = PARALLEL_MIN_BYTES
    digests: dict[str, bytes] = field(default_factory=dict)  # content digests of files, taken earlier, by displayed path

    def __call__(self, paths: list[Path], displays: list[str], context: NoteContext, tick: Callable[[], None] | None = None) -> Iterator[CardFile]:
        pending: list[tuple[int, str, bytes, str]] = []  # (index, display, bytes, cache key) of the misses
        found: dict[int, CardFile] = {}
        for index, (path, display) in enumerate(zip(paths, displays, strict=True)):
            cache = self.cache
            known = self.digests.get(display) if cache else None
            hit = self._cached(cache.key(display, known, context.fingerprint()), path, display, context) if cache and known else None
            if hit is not None:  # found by the digest taken before the run: the file is not read again
                found[index] = hit
                continue
            try:
                raw = read_bytes(path, display)
            except SourceError as exc:
                found[index] = CardFile.of(display, [], list(exc.problems), [])
                continue
            key = self.cache.key(display, content_digest(raw), context.fingerprint()) if self.cache else ""
            hit = self._cached(key, path, display, context) if self.cache and not known else None
            if hit is not None:
                found[index] = hit
            else:
                pending.append((index, display, raw, key))
        self._prepare_validators(bool(pending))
        parsed = self._parse(pending, context)
        for index in range(len(paths)):
            if index not in found:
                key, (data, cards) = next(parsed)  # the misses come back in the order they were found
                if self.cache:
                    self.cache.put(key, data, cards)
                found[index] = decode(data, cards)
            if tick:
                tick()
            yield found.pop(index)

    def _in_use(self) -> FileCache:
        assert self.cache is not None, "only asked for when there is a cache"
        return self.cache

    def _cached(self, key: str, path: Path, display: str, context: NoteContext) -> CardFile | None:
        payload = self._in_use().read(key)
        try:
            return decode(payload, functools.partial(self._cached_cards, key, path, display, context)) if payload is not None else None
        except Exception:  # a damaged entry of any kind is a miss
            return None

    def _cached_cards(self, key: str, path: Path, display: str, context: NoteContext) -> bytes:
        """A cached file's cards, when something asks for them: from the entry's tail, or (when that
        is gone or damaged) parsed again from the file, if it still has the bytes the entry was for."""
        cards = self._in_use().read_tail(key)
        if cards is not None:
            return cards
        raw = read_bytes(path, display)
        if self._in_use().key(display, content_digest(raw), context.fingerprint()) != key:
            raise BuildError(f"{display}: changed while it was being read; run the command again")
        return parse_encoded(raw, display, context)[1]

    def _prepare_validators(self, needed: bool) -> None:
        """Install the card file checks from the cache (compiled once, they load in a millisecond),
        before any worker forks. Their entries are kept in use even by a run that parses nothing."""
        for name, definition in CARD_FILE_CHECKS:
            key = self.cache.named_key(f"validator {name} {definition}") if self.cache else ""
            if self.cache:
                self.cache.used.add(key)
            if not needed:
                continue
            code = self._cached_code(key)
            if code is None:
                code = fast_validator_code(name, definition)
                if self.cache:
                    self.cache.put(key, marshal.dumps(code))
            if not has_fast_validator(name, definition):
                install_fast_validator(name, definition, code)

    def _cached_code(self, key: str) -> CodeType | None:
        data = self.cache.read(key) if self.cache else None
        try:
            code = marshal.loads(data) if data is not None else None
        except Exception:  # a damaged entry of any kind is a miss
            return None
        return code if isinstance(code, CodeType) else None

    def _parse(self, pending: list[tuple[int, str, bytes, str]], context: NoteContext) -> Iterator[tuple[str, tuple[bytes, bytes]]]:
        """(cache key, encoded result) for each pending file, in order."""
        jobs = self.jobs or os.cpu_count() or 1
        size = sum(len(raw) for _, _, raw, _ in pending)
        done = 0
        if jobs >= 2 and len(pending) >= 2 and size >= self.parallel_min_bytes:
            try:
                with ProcessPoolExecutor(max_workers=min(jobs, len(pending)), mp_context=_context()) as pool:
                    results = pool.map(parse_encoded, [raw for _, _, raw, _ in pending], [display for _, display, _, _ in pending], [context] * len(pending))
                    for (_, _, _, key), data in zip(pending, results, strict=True):
                        yield key, data
                        done += 1
            except (BrokenProcessPool, OSError, NotImplementedError):
                pass  # workers could not start, or one died (killed, out of memory): this process reads the rest
        for _, display, raw, key in pending[done:]:
            yield key, parse_encoded(raw, display, context)


def parse_encoded(raw: bytes, display: str, context: NoteContext) -> tuple[bytes, bytes]:
    return encode(read_card_file(raw, display, context))


def _context():
    import multiprocessing

    # fork starts workers in milliseconds with everything already imported; macOS and Windows
    # cannot fork safely and use their default.
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
