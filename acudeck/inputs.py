"""The one listing of a project's inputs: the files a build reads, and so the files the command cache hashes.

A folder `cards_src/<key>/` holding a `deck.yaml` is a deck; its card files are the `*.yaml` files
under it (in subfolders too, but not in its `media/`), its media the files directly in `media/`.
The course files are `courses/<key>.yaml`. Hidden files and folders (a name starting with '.') and
other files (README.md, notes.txt) are not read.

Nothing here opens a file or follows a symbolic link: entries are told apart by their directory
entries (os.scandir, follow_symlinks=False), so listing costs about what reading the folders'
names costs. What does not fit is a problem, collected with the others:

- a symbolic link or a special file (FIFO, socket, device) where a build would look;
- a name that looks like a card or course file but would not be read: `x.yml`, `x.YAML`, a
  hidden `.x.yaml`, a folder `x.yaml/`, a course file in a subfolder of courses/.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import Location, Problem
from .safefs import NOT_REGULAR, SYMLINK

SRC_DIR = "cards_src"
COURSE_DIR = "courses"
OUT_DIR = "decks"
DECK_FILE = "deck.yaml"
MEDIA_DIR = "media"
PREVIEW_DIR = "preview"  # under decks/: pages, not packages
SOURCE_SUFFIX = ".yaml"
_LOOKALIKE_SUFFIXES = (".yaml", ".yml")  # compared in lowercase


@dataclass
class DeckInputs:
    folder: Path
    deck_file: Path | None  # None when deck.yaml is a link or not a regular file (a problem says so)
    card_files: list[Path]  # in order of their paths from the folder
    media: list[Path]  # the regular files directly in media/, by name
    problems: list[Problem]

    def sources(self) -> list[Path]:
        """The YAML files: deck.yaml and the card files."""
        return [*([self.deck_file] if self.deck_file else []), *self.card_files]


@dataclass
class Inputs:
    decks: list[DeckInputs]  # by folder name
    courses: list[Path]  # by file name
    problems: list[Problem]  # those outside any deck folder: in cards_src/ itself and in courses/

    def sources(self) -> Iterator[Path]:
        """The YAML files: each deck's deck.yaml and card files, and the course files."""
        for deck in self.decks:
            yield from deck.sources()
        yield from self.courses

    def media(self) -> Iterator[Path]:
        for deck in self.decks:
            yield from deck.media

    def all_problems(self) -> list[Problem]:
        return [*self.problems, *(problem for deck in self.decks for problem in deck.problems)]


@dataclass
class Outputs:
    files: list[tuple[str, os.stat_result]]  # path from the root -> lstat; hidden names and preview/ folders left out
    problems: list[Problem]


def display_path(path: Path, base: Path | None = None) -> str:
    """Paths in messages are relative to `base` (the project root) where they can be."""
    # abspath, not resolve: a symbolic link is named by its own path, not by where it points.
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(os.path.abspath(base or Path.cwd())).as_posix()
    except ValueError:
        return path.as_posix()


def list_inputs(root: Path) -> Inputs:
    problems: list[Problem] = []
    decks = [list_deck(folder, root) for folder in deck_folders(root / SRC_DIR, root, problems)]
    return Inputs(decks, course_files(root / COURSE_DIR, root, problems), problems)


def deck_folders(src: Path, base: Path | None, problems: list[Problem]) -> list[Path]:
    """The folders directly under `src` that hold a deck.yaml (of any kind: `list_deck` says what is wrong with it), by name."""
    folders = []
    for entry in _top_entries(src, base, problems):
        if entry.is_symlink():
            problems.append(_problem(Path(entry.path), base, SYMLINK))
        elif entry.name.startswith("."):
            continue
        elif entry.is_dir(follow_symlinks=False):
            if _lstat_mode(os.path.join(entry.path, DECK_FILE)) is not None:
                folders.append(Path(entry.path))
        elif not entry.is_file(follow_symlinks=False):
            problems.append(_problem(Path(entry.path), base, NOT_REGULAR))
    return folders


def list_deck(folder: Path, base: Path | None) -> DeckInputs:
    problems: list[Problem] = []
    found = _walk(folder, base, problems, "card", skip=(DECK_FILE, MEDIA_DIR))
    deck_file = _deck_file(folder / DECK_FILE, base, problems)
    media = _media(folder / MEDIA_DIR, base, problems)
    return DeckInputs(folder, deck_file, [path for _, path in found], media, problems)


def course_files(folder: Path, base: Path | None, problems: list[Problem]) -> list[Path]:
    """courses/<key>.yaml, by name; a course file deeper down is a problem."""
    courses = []
    for rel, path in _walk(folder, base, problems, "course"):
        if "/" in rel:
            message = f"a course is {COURSE_DIR}/<key>.yaml and files in its subfolders are not read; move it to {COURSE_DIR}/{path.name}"
            problems.append(_problem(path, base, message))
        else:
            courses.append(path)
    return courses


def list_outputs(root: Path) -> Outputs:
    """The files under decks/ by lstat, and the links and special files found there (at any depth)."""
    problems: list[Problem] = []
    files = []
    stack = [(entry, f"{OUT_DIR}/", False) for entry in _top_entries(root / OUT_DIR, root, problems)]
    while stack:
        entry, prefix, ignored = stack.pop()
        rel = prefix + entry.name
        ignored = ignored or entry.name.startswith(".") or entry.name == PREVIEW_DIR
        if entry.is_symlink():
            problems.append(_problem(Path(entry.path), root, SYMLINK))
        elif entry.is_dir(follow_symlinks=False):
            stack += [(child, rel + "/", ignored) for child in _entries(Path(entry.path), root, problems)]
        elif not entry.is_file(follow_symlinks=False):
            problems.append(_problem(Path(entry.path), root, NOT_REGULAR))
        elif not ignored:
            files.append((rel, entry.stat(follow_symlinks=False)))
    return Outputs(sorted(files, key=lambda item: item[0]), problems)


def _walk(folder: Path, base: Path | None, problems: list[Problem], what: str, skip: tuple[str, ...] = ()) -> list[tuple[str, Path]]:
    """The `*.yaml` files under `folder`, as (path from `folder`, path), in order of the former;
    the names in `skip` are left out at the top. Hidden folders are not entered."""
    found = []
    stack = [(entry, "") for entry in _top_entries(folder, base, problems) if entry.name not in skip]
    while stack:
        entry, prefix = stack.pop()
        name, path = entry.name, Path(entry.path)
        if _refused(entry, base, problems, what):
            continue
        if entry.is_dir(follow_symlinks=False):
            if _looks_like_source(name):
                problems.append(_problem(path, base, f"not a regular file: a folder named like a {what} file; rename it"))
            stack += [(child, f"{prefix}{name}/") for child in _entries(path, base, problems)]
        elif name.endswith(SOURCE_SUFFIX):
            found.append((prefix + name, path))
        elif _looks_like_source(name):
            problems.append(_problem(path, base, f"{what} files end in {SOURCE_SUFFIX}; rename it to '{_renamed(name)}'"))
    return sorted(found)


def _refused(entry: os.DirEntry, base: Path | None, problems: list[Problem], what: str) -> bool:
    """Whether the entry is not to be read: a link or a special file (reported), or a hidden name
    (reported when it looks like a source file)."""
    path = Path(entry.path)
    if entry.is_symlink():
        problems.append(_problem(path, base, SYMLINK))
        return True
    if entry.name.startswith("."):
        if _looks_like_source(entry.name):
            renamed = _renamed(entry.name)
            advice = f"rename it to '{renamed}'" if renamed else "give it a name that does not start with '.'"
            problems.append(_problem(path, base, f"hidden files are not read as {what} files; {advice}"))
        return True
    if not entry.is_dir(follow_symlinks=False) and not entry.is_file(follow_symlinks=False):
        problems.append(_problem(path, base, NOT_REGULAR))
        return True
    return False


def _deck_file(path: Path, base: Path | None, problems: list[Problem]) -> Path | None:
    mode = _lstat_mode(path)
    if mode is None or stat.S_ISREG(mode):
        return path  # a missing deck.yaml is reported when it is read
    problems.append(_problem(path, base, SYMLINK if stat.S_ISLNK(mode) else NOT_REGULAR))
    return None


def _media(media_dir: Path, base: Path | None, problems: list[Problem]) -> list[Path]:
    found = []
    for entry in _top_entries(media_dir, base, problems, special_is_problem=True):
        path = Path(entry.path)
        if entry.is_symlink():
            problems.append(_problem(path, base, SYMLINK))
        elif entry.name.startswith("."):
            continue
        elif entry.is_dir(follow_symlinks=False):
            problems.append(_problem(path, base, "folders inside media/ are not allowed: Anki stores media by file name only"))
        elif not entry.is_file(follow_symlinks=False):
            problems.append(_problem(path, base, NOT_REGULAR))
        else:
            found.append(path)
    return found


def _top_entries(folder: Path, base: Path | None, problems: list[Problem], special_is_problem: bool = False) -> list[os.DirEntry]:
    """The entries of `folder` by name: none when it is missing or not a folder, and a problem when it is a link."""
    mode = _lstat_mode(folder)
    if mode is None:
        return []
    if stat.S_ISLNK(mode):
        problems.append(_problem(folder, base, SYMLINK))
        return []
    if not stat.S_ISDIR(mode):
        if special_is_problem and not stat.S_ISREG(mode):
            problems.append(_problem(folder, base, NOT_REGULAR))
        return []
    return _entries(folder, base, problems)


def _entries(folder: Path, base: Path | None, problems: list[Problem]) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as found:
            return sorted(found, key=lambda entry: entry.name)
    except OSError as exc:
        problems.append(_problem(folder, base, f"cannot read the folder: {exc.strerror or exc}"))
        return []


def _lstat_mode(path: Path | str) -> int | None:
    """None when there is nothing there (or it cannot be looked at: reading it will say why)."""
    try:
        return os.lstat(path).st_mode
    except OSError:
        return None


def _looks_like_source(name: str) -> bool:
    return name.lower().endswith(_LOOKALIKE_SUFFIXES)


def _renamed(name: str) -> str | None:
    """What a lookalike should be called: not hidden, ending in .yaml."""
    stem = name.lstrip(".")
    stem = stem[: -len(".yaml")] if stem.lower().endswith(".yaml") else stem[: -len(".yml")]
    return f"{stem}{SOURCE_SUFFIX}" if stem else None


def _problem(path: Path, base: Path | None, message: str) -> Problem:
    return Problem(Location(display_path(path, base)), message)
