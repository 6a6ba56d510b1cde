"""Hostile file trees, as a pull request can bring them: symbolic links, special files, misnamed
sources. acudeck follows no link inside the project and opens no special file: each is reported
with its place (all at once, exit code 1, no traceback), nothing outside the project is read or
touched, and the cache never replays a result that a clean run would not give.

Every tree is made here, in tmp_path: git cannot hold most of them.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import types
from pathlib import Path

import pytest
from conftest import CARDS_YAML, DECK_YAML, run, write

from acudeck import cache, safefs
from acudeck import project as project_module
from acudeck.cache import FileCache

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or not hasattr(os, "mkfifo"), reason="needs symbolic links and FIFOs")

LINK = "symbolic link: acudeck does not follow links inside the project; put the file or folder itself in its place"
NOT_REGULAR = "not a regular file: acudeck reads only plain files"
CACHE_WARNING = "warning: symbolic link: acudeck does not follow links inside the project, so the cache is not used; delete .acudeck-cache/ to use it again"
PICTURE = b"\x89PNG\r\n\x1a\n not really a picture"
PICTURE_CARDS = """\
cards:
  - id: q-picture
    type: basic
    front: What does the picture show?
    back: "![The cuff](cuff.png)"
"""
MORE_CARDS = """\
cards:
  - id: q-more
    type: basic
    front: What is more?
    back: More.
"""
COURSE = """\
key: course
name: "Test::Course"
select:
  - deck: sample
    types: [basic]
"""
HEX = "ab" * 32  # named like a cache entry


def snapshot(folder: Path) -> dict[str, object]:
    """Every entry under `folder`, not following links: a file's bytes, a link's target."""
    found: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            key = path.relative_to(folder).as_posix()
            found[key] = ("link", os.readlink(path)) if path.is_symlink() else path.read_bytes() if path.is_file() else "folder"
    return found


@pytest.fixture
def outside(tmp_path) -> Path:
    """A sibling of the project with files a hostile link could point at."""
    folder = tmp_path / "outside"
    write(folder / "secret.txt", "private\n")
    (folder / "secret.png").write_bytes(b"the maintainer's private picture")
    write(folder / "cards.yaml", MORE_CARDS)
    write(folder / "deck/deck.yaml", DECK_YAML.format(key="other"))
    write(folder / "deck/cards.yaml", MORE_CARDS)
    write(folder / "files" / HEX, "not a cache entry, but named like one\n")
    write(folder / "files/notes.txt", "keep me\n")
    write(folder / "check.json", '{"key": "x", "stdout": [], "stderr": ["ok"]}')
    write(folder / "linked.yaml", _card("q-linked"))
    return folder


@pytest.fixture
def built(tmp_path) -> Path:
    """A built project: deck `sample`, with a picture."""
    root = tmp_path / "project"
    write(root / "cards_src/sample/deck.yaml", DECK_YAML.format(key="sample"))
    write(root / "cards_src/sample/cards.yaml", CARDS_YAML)
    write(root / "cards_src/sample/pictures.yaml", PICTURE_CARDS)
    (root / "cards_src/sample/media").mkdir()
    (root / "cards_src/sample/media/cuff.png").write_bytes(PICTURE)
    write(root / "courses/README.md", "no course yet\n")
    result = run(root, "build", "--no-cache")
    assert result.exit_code == 0, result.stderr
    return root


def assert_refused(root: Path, outside: Path, expected: list[str]) -> None:
    """build and check, with and without the cache, fail with exactly `expected` on stderr, and
    change nothing in decks/ or outside the project."""
    before, outputs = snapshot(outside), snapshot(root / "decks") if (root / "decks").is_dir() else None
    for args in (["build"], ["check"], ["build", "--no-cache"], ["check", "--no-cache"]):
        result = run(root, *args)
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert "Traceback" not in result.output + result.stderr
        assert result.stderr.splitlines() == expected, f"{args}:\n{result.stderr}"
        assert (result.exit_code, result.stdout) == (1, ""), args
        assert snapshot(outside) == before, f"{args} touched a file outside the project"
        if outputs is not None:
            assert snapshot(root / "decks") == outputs, f"{args} wrote to decks/"


def test_a_symlinked_media_folder_is_refused(built, outside):
    media = built / "cards_src/sample/media"
    shutil.rmtree(media)
    (outside / "media").mkdir()
    (outside / "media/cuff.png").write_bytes(b"anything readable")
    media.symlink_to(outside / "media")
    expected = ["cards_src/sample/media:1:1: " + LINK, "cards_src/sample/pictures.yaml:5:11: image 'cuff.png' is not in cards_src/sample/media/"]
    assert_refused(built, outside, expected)


def test_a_symlink_in_media_is_refused_even_to_a_file_inside(built, outside):
    media = built / "cards_src/sample/media"
    (media / "cuff.png").unlink()
    (media / "cuff.png").symlink_to(outside / "secret.png")
    (media / "other.png").symlink_to("cuff.png")
    expected = [
        "cards_src/sample/media/cuff.png:1:1: " + LINK,
        "cards_src/sample/media/other.png:1:1: " + LINK,
        "cards_src/sample/pictures.yaml:5:11: image 'cuff.png' is not in cards_src/sample/media/",
    ]
    assert_refused(built, outside, expected)


def test_a_symlinked_card_file_is_refused(built, outside):
    (built / "cards_src/sample/more.yaml").symlink_to(outside / "cards.yaml")
    assert_refused(built, outside, ["cards_src/sample/more.yaml:1:1: " + LINK])


def test_a_symlinked_deck_yaml_is_refused(built, outside):
    (built / "cards_src/other").mkdir()
    (built / "cards_src/other/deck.yaml").symlink_to(outside / "deck/deck.yaml")
    assert_refused(built, outside, ["cards_src/other/deck.yaml:1:1: " + LINK])


def test_a_symlinked_deck_folder_is_refused(built, outside):
    (built / "cards_src/other").symlink_to(outside / "deck")
    assert_refused(built, outside, ["cards_src/other:1:1: " + LINK])


def test_a_symlinked_cards_src_is_refused(built, outside):
    shutil.move(built / "cards_src", outside / "cards_src")
    (built / "cards_src").symlink_to(outside / "cards_src")
    assert_refused(built, outside, ["cards_src:1:1: " + LINK])


def test_a_symlinked_courses_folder_is_refused(built, outside):
    shutil.move(built / "courses", outside / "courses")
    (built / "courses").symlink_to(outside / "courses")
    assert_refused(built, outside, ["courses:1:1: " + LINK])


def test_a_symlinked_decks_folder_is_refused_and_not_written_through(built, outside):
    shutil.move(built / "decks", outside / "decks")
    (built / "decks").symlink_to(outside / "decks")
    (outside / "decks/sample.apkg").write_bytes(b"an old deck, to be kept")
    assert_refused(built, outside, ["decks:1:1: " + LINK])


def test_a_symlinked_ledger_is_refused(built, outside):
    ledger = built / "decks/sample.lock.json"
    shutil.move(ledger, outside / "sample.lock.json")
    ledger.symlink_to(outside / "sample.lock.json")
    assert_refused(built, outside, ["decks/sample.lock.json:1:1: " + LINK])


def test_link_loops_are_refused(built, outside):
    (built / "cards_src/sample/loop.yaml").symlink_to("loop.yaml")
    (built / "cards_src/sample/sub").symlink_to(".")
    expected = ["cards_src/sample/loop.yaml:1:1: " + LINK, "cards_src/sample/sub:1:1: " + LINK]
    assert_refused(built, outside, expected)


@pytest.fixture
def deadline():
    """Fail instead of hanging: a blocked open or read is interrupted after a few seconds."""

    def expired(signum, frame):
        raise TimeoutError("blocked on a special file")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_a_fifo_named_like_a_card_file_is_refused_without_blocking(built, outside, deadline):
    (built / "cards_src/sample/more").mkdir()
    os.mkfifo(built / "cards_src/sample/more/cards.yaml")
    os.mkfifo(built / "cards_src/sample/media/fifo.png")
    expected = ["cards_src/sample/media/fifo.png:1:1: " + NOT_REGULAR, "cards_src/sample/more/cards.yaml:1:1: " + NOT_REGULAR]
    assert_refused(built, outside, expected)


def test_a_fifo_in_decks_is_refused_without_blocking(built, outside, deadline):
    (built / "decks/sample.apkg").unlink()
    os.mkfifo(built / "decks/sample.apkg")
    assert_refused(built, outside, ["decks/sample.apkg:1:1: " + NOT_REGULAR])


def test_a_fifo_swapped_in_after_the_listing_does_not_block(built, tmp_path, deadline):
    fifo = tmp_path / "swapped.yaml"
    os.mkfifo(fifo)
    with pytest.raises(safefs.NotRegularFile):
        safefs.read_limited(fifo, 100)
    problem = safefs.read_problem(safefs.NotRegularFile(errno.EINVAL, "not a regular file"), fifo, "swapped.yaml", 100)
    assert str(problem) == "swapped.yaml:1:1: " + NOT_REGULAR


def test_a_folder_named_like_a_card_file_is_refused(built, outside):
    write(built / "cards_src/sample/extra.yaml/notes.txt", "a folder, not a card file\n")
    assert_refused(built, outside, ["cards_src/sample/extra.yaml:1:1: not a regular file: a folder named like a card file; rename it"])


def test_an_unreadable_file_is_reported(built, outside, monkeypatch):
    write(built / "cards_src/sample/more.yaml", MORE_CARDS)
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if str(path).endswith("more.yaml"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)  # tests run as root: chmod 000 would not stop a read
    assert_refused(built, outside, ["cards_src/sample/more.yaml:1:1: cannot read the file: Permission denied"])


def _bytes_read() -> int:
    with open("/proc/self/io") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("rchar:"))


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="counts the bytes read in /proc/self/io")
def test_an_oversized_file_is_refused_before_it_is_read(built, outside):
    huge = built / "cards_src/sample/more.yaml"
    with open(huge, "wb") as fh:
        fh.truncate(64 * 1024 * 1024)  # sparse: costs no disk, but 64 MiB to read
    before = _bytes_read()
    assert_refused(built, outside, ["cards_src/sample/more.yaml:1:1: file is larger than 8 MiB; split it into several card files"])
    assert _bytes_read() - before < 16 * 1024 * 1024  # four runs: none of them read the file


def test_the_listing_reports_misnamed_sources(built, outside):
    write(built / "cards_src/sample/.hidden.yaml", MORE_CARDS)
    write(built / "cards_src/sample/more.yml", MORE_CARDS)
    write(built / "cards_src/sample/Upper.YAML", MORE_CARDS)
    write(built / "cards_src/sample/.git/config.yaml", "not read, not reported: a hidden folder\n")
    write(built / "cards_src/sample/README.md", "not read, not reported\n")
    write(built / "courses/other.yml", COURSE)
    write(built / "courses/term-2/week.yaml", COURSE)
    expected = [
        "cards_src/sample/.hidden.yaml:1:1: hidden files are not read as card files; rename it to 'hidden.yaml'",
        "cards_src/sample/Upper.YAML:1:1: card files end in .yaml; rename it to 'Upper.yaml'",
        "cards_src/sample/more.yml:1:1: card files end in .yaml; rename it to 'more.yaml'",
        "courses/other.yml:1:1: course files end in .yaml; rename it to 'other.yaml'",
        "courses/term-2/week.yaml:1:1: a course is courses/<key>.yaml and files in its subfolders are not read; move it to courses/week.yaml",
    ]
    assert_refused(built, outside, expected)


def test_a_media_file_swapped_for_a_link_after_the_check_is_not_packed(built, outside, monkeypatch):
    before, outputs = snapshot(outside), snapshot(built / "decks")
    (built / "cards_src/sample/media/cuff.png").write_bytes(PICTURE + b" changed")  # so that the deck is written again
    real_plan = project_module.plan_project

    def plan_then_swap(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        media = built / "cards_src/sample/media/cuff.png"
        media.unlink()
        media.symlink_to(outside / "secret.png")
        return plan

    monkeypatch.setattr(project_module, "plan_project", plan_then_swap)
    result = run(built, "build", "--no-cache")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith("Error: ") and "cuff.png" in result.stderr and len(result.stderr.splitlines()) == 1
    assert snapshot(built / "decks") == outputs and snapshot(outside) == before


# --- the cache: never read or written through a link, nothing removed but its own entries ------


def _assert_builds_without_the_cache(root: Path, outside: Path, warning: str) -> None:
    before = snapshot(outside)
    for args in (["check"], ["build"], ["check"], ["build"]):
        result = run(root, *args)
        assert result.exit_code == 0, result.stderr
        assert result.stderr.splitlines()[0] == warning, result.stderr
        assert result.stderr.splitlines()[1:] == (["ok"] if args == ["check"] else [])
        assert snapshot(outside) == before, f"{args} touched a file outside the project"


def test_a_symlinked_cache_folder_is_not_used(built, outside):
    (built / ".acudeck-cache").symlink_to(outside)
    _assert_builds_without_the_cache(built, outside, ".acudeck-cache:1:1: " + CACHE_WARNING)


def test_a_symlinked_cache_files_folder_is_not_used(built, outside):
    (built / ".acudeck-cache").mkdir()
    (built / ".acudeck-cache/files").symlink_to(outside / "files")
    _assert_builds_without_the_cache(built, outside, ".acudeck-cache/files:1:1: " + CACHE_WARNING)


def test_a_link_named_like_a_cache_entry_is_neither_read_nor_removed(built, outside):
    assert run(built, "build").exit_code == 0  # a cache of this project's own
    entry = built / ".acudeck-cache/files" / HEX
    entry.symlink_to(outside / "files" / HEX)
    (built / ".acudeck-cache/check.json").unlink(missing_ok=True)
    (built / ".acudeck-cache/check.json").symlink_to(outside / "check.json")
    cache_before = snapshot(built / ".acudeck-cache")
    _assert_builds_without_the_cache(built, outside, f".acudeck-cache/check.json:1:1: {CACHE_WARNING}")
    assert snapshot(built / ".acudeck-cache") == cache_before


def test_pruning_removes_only_entries_acudeck_wrote(built):
    files = built / ".acudeck-cache/files"
    files.mkdir(parents=True)
    unused, kept_names = files / ("cd" * 32), ["notes.txt", "AB" * 32, "ab" * 31, f".{'ef' * 32}.123.tmp"]
    unused.write_bytes(b"an old entry")
    old_tmp = files / f".{'12' * 32}.99.tmp"
    old_tmp.write_bytes(b"a temporary file a killed run left")
    os.utime(old_tmp, (0, 0))
    for name in kept_names:
        (files / name).write_bytes(b"kept")
    (files / ("34" * 32)).mkdir()
    FileCache(built).prune()
    assert not unused.exists() and not old_tmp.exists()
    assert sorted(p.name for p in files.iterdir()) == sorted([*kept_names, "34" * 32])


def test_pruning_never_reaches_through_a_link(built, outside):
    before = snapshot(outside)
    (built / ".acudeck-cache").symlink_to(outside)
    FileCache(built).prune()
    shutil.rmtree(outside / "files")  # files/ of the project itself now a link, elsewhere a real folder
    (outside / "files").mkdir()
    write(outside / "files" / HEX, "not a cache entry, but named like one\n")
    write(outside / "files/notes.txt", "keep me\n")
    (built / ".acudeck-cache").unlink()
    (built / ".acudeck-cache").mkdir()
    (built / ".acudeck-cache/files").symlink_to(outside / "files")
    FileCache(built).prune()
    assert snapshot(outside) == before


def test_the_cache_is_never_written_through_a_link(built, outside):
    before = snapshot(outside)
    (built / ".acudeck-cache").symlink_to(outside)
    cache.store(built, "check", "key", [], ["ok"])
    FileCache(built).put(HEX, b"payload")
    assert cache.lookup(built, "check", "key") is None
    (built / ".acudeck-cache").unlink()
    (built / ".acudeck-cache").mkdir()
    (built / ".acudeck-cache/files").symlink_to(outside / "files")
    FileCache(built).put(HEX, b"payload")
    (built / ".acudeck-cache/check.json").symlink_to(outside / "check.json")
    cache.store(built, "check", "key", [], ["ok"])  # replaces the link, not the file it points at
    assert not (built / ".acudeck-cache/check.json").is_symlink()
    assert snapshot(outside) == before


# --- one listing: what a cached command hashed is what a clean run reads ------------------------


FIXED_NOW = 1_800_000_000


def _clean_copy(root: Path, dest: Path) -> Path:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(root, dest, symlinks=True, ignore=shutil.ignore_patterns(".acudeck-cache"))
    return dest


def _outputs(root: Path) -> dict[str, object]:
    return snapshot(root / "decks") if (root / "decks").is_dir() else {}


def _assert_as_clean(root: Path, copy: Path, *args: str) -> None:
    """The command, with the cache, gives exactly what it gives without it in a copy of the project as it was."""
    _clean_copy(root, copy)
    cached, clean = run(root, *args), run(copy, *args, "--no-cache")
    assert "Traceback" not in cached.output + clean.output
    assert (cached.exit_code, cached.stdout, cached.stderr) == (clean.exit_code, clean.stdout, clean.stderr), args
    assert _outputs(root) == _outputs(copy), args


def _card(card_id: str, back: str = "An answer.") -> str:
    return f'cards:\n  - id: {card_id}\n    type: basic\n    front: What is {card_id}?\n    back: "{back}"\n'


def _edits(root: Path, outside: Path):
    deck = root / "cards_src/sample"
    yield "as built", lambda: None
    yield "a hidden card file", lambda: write(deck / ".x.yaml", _card("q-hidden"))
    yield "the hidden card file edited", lambda: write(deck / ".x.yaml", _card("q-hidden", "Another answer."))
    yield "a .yml file", lambda: ((deck / ".x.yaml").unlink(), write(deck / "x.yml", _card("q-yml")))
    yield "a card file in a subfolder", lambda: ((deck / "x.yml").unlink(), write(deck / "sub/more.yaml", _card("q-sub")))
    yield "the subfolder's card file edited", lambda: write(deck / "sub/more.yaml", _card("q-sub", "Another answer."))
    yield "a card file in a folder named preview", lambda: write(deck / "preview/p.yaml", _card("q-preview"))
    yield "the preview folder's card file edited", lambda: write(deck / "preview/p.yaml", _card("q-preview", "Another answer."))
    yield "a README in the deck folder", lambda: write(deck / "README.md", "not read\n")
    yield "the deck folder renamed", lambda: deck.rename(root / "cards_src/renamed")
    yield "the deck folder renamed back", lambda: (root / "cards_src/renamed").rename(deck)
    yield "a media file added", lambda: (deck / "media/new.png").write_bytes(b"new picture")
    yield "the media file used", lambda: write(deck / "sub/more.yaml", _card("q-sub", "![new](new.png)"))
    yield "the media file changed", lambda: (deck / "media/new.png").write_bytes(b"another picture")
    yield "the media file removed", lambda: (deck / "media/new.png").unlink()
    yield "its use removed", lambda: write(deck / "sub/more.yaml", _card("q-sub"))
    yield "the course changed", lambda: write(root / "courses/course.yaml", COURSE.replace("[basic]", "[basic, point]"))
    yield "a link", lambda: (deck / "linked.yaml").symlink_to(outside / "linked.yaml")
    yield "the link's target changed", lambda: write(outside / "linked.yaml", _card("q-linked", "Changed."))
    yield "the link removed", lambda: (deck / "linked.yaml").unlink()


def test_cached_results_match_clean_runs_through_a_series_of_edits(built, outside, tmp_path, monkeypatch):
    # Notes that change take the build's time as their mod: the same for the cached and the clean run.
    monkeypatch.setattr(project_module, "time", types.SimpleNamespace(time=lambda: FIXED_NOW))
    copy = tmp_path / "clean"
    write(built / "courses/course.yaml", COURSE)
    for name, edit in _edits(built, outside):
        edit()
        for args in (["build"], ["build"], ["check"], ["check"]):
            try:
                _assert_as_clean(built, copy, *args)
            except AssertionError as exc:
                raise AssertionError(f"after {name}: {exc}") from None
