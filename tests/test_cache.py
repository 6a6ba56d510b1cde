"""The cache replays a build or check when nothing it reads has changed, and is otherwise ignored."""

import functools
import marshal
import os
import shutil
from pathlib import Path

import pytest
from conftest import REPO, run, write

from acudeck import cache, reader
from acudeck import cache as cache_module
from acudeck import project as project_module
from acudeck.cache import FileCache
from acudeck.cardfile import decode, encode, read_card_file
from acudeck.contents import read_apkg
from acudeck.errors import BuildError
from acudeck.format import CARD_FILE_CHECKS
from acudeck.reader import CardFileReader
from acudeck.source import card_files, display_path, load_deck


def decks(root):
    return {p.name: p.read_bytes() for p in sorted((root / "decks").iterdir())}


def test_an_unchanged_rebuild_is_replayed_from_the_cache(project, monkeypatch):
    assert run(project).exit_code == 0
    before = decks(project)

    def refuse(*args, **kwargs):
        raise AssertionError("the work was done again")

    monkeypatch.setattr(project_module, "build", refuse)
    result = run(project)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "decks/sample.apkg: unchanged: 3 notes, 5 cards (0 added, 0 changed, 0 removed)\n"
    assert decks(project) == before


def test_a_changed_source_or_a_deleted_deck_is_rebuilt(project):
    assert run(project).exit_code == 0
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing", "Handling"))
    assert "(0 added, 1 changed, 0 removed)" in run(project).stdout
    (project / "decks/sample.apkg").unlink()
    assert run(project).stdout == "decks/sample.apkg: written: 3 notes, 5 cards (0 added, 0 changed, 0 removed)\n"


def test_a_corrupt_cache_is_ignored(project):
    assert run(project).exit_code == 0
    for entry in (project / ".acudeck-cache").rglob("*"):
        if entry.is_file():
            entry.write_bytes(b"\x00not json")
    (project / "decks/sample.apkg").unlink()
    result = run(project)
    assert result.exit_code == 0
    assert (project / "decks/sample.apkg").exists()


def test_builds_with_and_without_the_cache_give_the_same_bytes(project, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(project, other)
    assert run(project).exit_code == 0
    assert run(project).exit_code == 0  # replayed
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("SI 11", "SI 12"))
    assert run(project).exit_code == 0
    shutil.copytree(project / "decks", other / "decks")
    (other / "decks/sample.apkg").unlink()
    (other / "cards_src/sample/cards.yaml").write_text(cards.read_text())
    assert run(other, "build", "--no-cache").exit_code == 0
    assert decks(other) == decks(project)
    assert not (other / ".acudeck-cache").exists()


def test_a_new_order_of_cached_card_files_builds_the_bytes_of_a_clean_build(project, tmp_path):
    write(project / "cards_src/sample/more.yaml", "cards:\n  - {id: q-more, type: basic, front: Another question?, back: Another answer.}\n")
    assert run(project).exit_code == 0
    deck = project / "cards_src/sample/deck.yaml"
    deck.write_text(deck.read_text() + "files: [more.yaml, cards.yaml]\n")
    assert run(project).stdout == "decks/sample.apkg: written: 4 notes, 6 cards (0 added, 0 changed, 0 removed)\n"  # both files from the cache
    clean = tmp_path / "clean"
    shutil.copytree(project, clean, ignore=shutil.ignore_patterns(".acudeck-cache", "*.apkg"))
    assert run(clean, "build", "--no-cache").exit_code == 0
    assert decks(clean) == decks(project)


def test_a_failing_check_is_not_cached(project):
    result = run(project, "check")
    assert result.exit_code == 1  # nothing built yet
    assert not (project / ".acudeck-cache/check.json").exists()


def test_a_passing_check_is_replayed(project, monkeypatch):
    assert run(project).exit_code == 0
    assert run(project, "check").exit_code == 0

    def refuse(*args, **kwargs):
        raise AssertionError("the work was done again")

    monkeypatch.setattr(project_module, "check", refuse)
    result = run(project, "check")
    assert result.exit_code == 0 and result.stderr == "ok\n"
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing", "Handling"))
    monkeypatch.undo()
    assert run(project, "check").exit_code == 1


# --------------------------------------------------------------------------- the card file cache


def entries(root: Path) -> dict[str, bytes]:
    """The card file entries (those of the compiled validators, the ledgers and the orderings left out)."""
    cache = FileCache(root)
    others = {cache.named_key(f"validator {name} {definition}") for name, definition in CARD_FILE_CHECKS}
    found = {}
    for path in (root / ".acudeck-cache/files").iterdir():
        data = path.read_bytes()
        if path.name not in others and not _is_ledger_entry(data) and not _is_ordering_entry(data):
            found[path.name] = data
    return found


def _is_ordering_entry(data: bytes) -> bool:
    return data[cache_module._HEADER_SIZE :].startswith(b'{"positions": ')


def _is_ledger_entry(data: bytes) -> bool:
    try:
        value = marshal.loads(data[cache_module._HEADER_SIZE :])
    except Exception:  # damaged on purpose by some tests: then it is a card file entry
        return False
    return isinstance(value, tuple) and len(value) == 6 and isinstance(value[0], dict)


def count_parses(monkeypatch) -> list[str]:
    parsed: list[str] = []
    real = reader.parse_encoded

    def counting(raw, display, context):
        parsed.append(display)
        return real(raw, display, context)

    monkeypatch.setattr(reader, "parse_encoded", counting)
    return parsed


def test_a_rebuild_after_one_edit_parses_only_the_edited_file(project, monkeypatch):
    write(project / "cards_src/sample/more.yaml", "cards:\n  - {id: q-more, type: basic, front: Another question?, back: Another answer.}\n")
    parsed = count_parses(monkeypatch)
    assert run(project).exit_code == 0
    assert sorted(parsed) == ["cards_src/sample/cards.yaml", "cards_src/sample/more.yaml"]
    parsed.clear()
    more = project / "cards_src/sample/more.yaml"
    more.write_text(more.read_text().replace("Another answer", "A better answer"))
    result = run(project)
    assert result.stdout == "decks/sample.apkg: written: 4 notes, 6 cards (0 added, 1 changed, 0 removed)\n"
    assert parsed == ["cards_src/sample/more.yaml"]


def test_cached_cards_equal_freshly_parsed_ones():
    folder = REPO / "cards_src/needling"
    paths = card_files(folder)
    displays = [display_path(p, REPO) for p in paths]
    context = load_deck(folder, REPO).note_context()
    for card_file in (read_card_file(path.read_bytes(), display, context) for path, display in zip(paths, displays, strict=True)):
        assert card_file.cards and card_file.notes
        assert decode(*encode(card_file)) == card_file


@pytest.mark.parametrize("damage", ["truncate", "flip", "swap", "undecodable"])
def test_a_damaged_card_file_entry_is_a_miss(project, monkeypatch, damage):
    assert run(project).exit_code == 0
    [(name, data)] = entries(project).items()
    path = project / ".acudeck-cache/files" / name
    if damage == "truncate":
        path.write_bytes(data[:200])
    elif damage == "flip":  # one changed byte inside a note's text: the checksum catches it
        i = data.index(b"Managing")
        path.write_bytes(data[:i] + b"X" + data[i + 1 :])
    elif damage == "swap":  # a valid entry, but for other bytes than the file has now
        other = FileCache(project).key("cards_src/sample/cards.yaml", cache.content_digest(b"cards: []\n"), b"")
        path.rename(path.with_name(other))
    else:  # the checksum holds, but the entry is not a card file's
        FileCache(project).put(name, marshal.dumps(("not", "a", "card file")))
    parsed = count_parses(monkeypatch)
    (project / "decks/sample.apkg").unlink()
    assert run(project).exit_code == 0
    assert parsed == ["cards_src/sample/cards.yaml"]
    assert list(entries(project).values()) == [data]


def test_entries_no_longer_used_are_pruned(project):
    assert run(project).exit_code == 0
    before = set(entries(project))
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing", "Handling"))
    assert run(project).exit_code == 0
    after = set(entries(project))
    assert len(after) == 1 and after != before


def test_a_cached_file_with_problems_reports_them_again(project):
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("type: point", "type: pointy"))
    first = run(project)
    assert first.exit_code == 1 and "unknown card type 'pointy'" in first.stderr
    assert entries(project)
    second = run(project)
    assert (second.exit_code, second.stderr) == (1, first.stderr)


def test_parallel_workers_give_the_cards_of_one_process(tmp_path):
    folder = REPO / "cards_src/needling"
    serial = load_deck(folder, REPO)
    parallel = load_deck(folder, REPO, files=CardFileReader(None, jobs=2, parallel_min_bytes=0))
    cached = FileCache(tmp_path)
    load_deck(folder, REPO, files=CardFileReader(cached, jobs=2, parallel_min_bytes=0))
    from_cache = load_deck(folder, REPO, files=CardFileReader(cached, jobs=1))
    assert len(serial.cards) > 50
    assert parallel.cards == serial.cards == from_cache.cards
    assert parallel.notes == serial.notes == from_cache.notes


def test_an_edit_to_deck_yaml_reaches_the_notes_of_cached_files(project):
    assert run(project).exit_code == 0
    deck = project / "cards_src/sample/deck.yaml"
    deck.write_text(deck.read_text().replace("tags: [test]", "tags: [test, week-2]").replace("A test reading", "Another reading"))
    assert run(project).stdout == "decks/sample.apkg: written: 3 notes, 5 cards (0 added, 3 changed, 0 removed)\n"
    notes = read_apkg(project / "decks/sample.apkg")["notes"].values()
    assert all("week-2" in note["tags"] for note in notes)
    assert any("Another reading" in field for note in notes for field in note["fields"])


PARENT, REAL_PARSE = os.getpid(), reader.parse_encoded


def parse_or_die_in_a_worker(raw, display, context):
    if os.getpid() != PARENT:
        os._exit(1)  # as a worker killed by the system would
    return REAL_PARSE(raw, display, context)


def test_when_a_worker_dies_this_process_reads_the_files_itself(monkeypatch):
    monkeypatch.setattr(reader, "parse_encoded", parse_or_die_in_a_worker)
    folder = REPO / "cards_src/needling"
    deck = load_deck(folder, REPO, files=CardFileReader(None, jobs=2, parallel_min_bytes=0))
    assert deck.cards == load_deck(folder, REPO).cards


def test_jobs_option(project):
    assert run(project, "build", "-j", "1").exit_code == 0
    result = run(project, "check", "--jobs", "-1")
    assert result.exit_code == 2 and "Invalid value for '-j' / '--jobs'" in result.stderr


def test_cached_and_parallel_parsing_give_the_bytes_of_a_clean_build(project, tmp_path, monkeypatch):
    monkeypatch.setattr(project_module, "CardFileReader", functools.partial(CardFileReader, parallel_min_bytes=0))
    more = write(project / "cards_src/sample/more.yaml", "cards:\n  - {id: q-more, type: basic, front: Another question?, back: Another answer.}\n")
    assert run(project, "build", "-j", "2").exit_code == 0  # parsed by workers, into the cache
    more.write_text(more.read_text().replace("Another answer", "A better answer"))
    assert "(0 added, 1 changed, 0 removed)" in run(project, "build", "-j", "2").stdout  # cards.yaml from the cache
    clean = tmp_path / "clean"
    shutil.copytree(project, clean, ignore=shutil.ignore_patterns(".acudeck-cache", "*.apkg"))
    assert run(clean, "build", "--no-cache", "-j", "1").exit_code == 0
    assert decks(clean) == decks(project)


def test_an_unwritable_cache_only_costs_time(project):
    cache = project / ".acudeck-cache"
    cache.write_text("not a folder")
    assert run(project).exit_code == 0
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing", "Handling"))
    result = run(project)
    assert result.exit_code == 0 and "(0 added, 1 changed, 0 removed)" in result.stdout
    assert cache.read_text() == "not a folder"


def _use_secret_of(monkeypatch, home: Path) -> None:
    """Act as another user: another XDG_CACHE_HOME, so another secret key."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    cache._secret.cache_clear()
    cache.code_version.cache_clear()


def test_a_cache_made_with_another_key_is_never_read(project, tmp_path, monkeypatch):
    """A passing `check` report forged into .acudeck-cache/ (committed with the sources, say) is not
    replayed: the key that names it was made with its author's secret, not this user's."""
    assert run(project).exit_code == 0
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing", "Handling"))  # the built deck is now stale
    _use_secret_of(monkeypatch, tmp_path / "forger")
    cache.store(project, "check", cache.fingerprint(project, "check", cache.source_digest(project)), [], [])
    assert run(project, "check").exit_code == 0  # with the forger's own key, the forged report is replayed

    _use_secret_of(monkeypatch, tmp_path / "maintainer")
    result = run(project, "check")
    assert result.exit_code == 1
    assert "note 'q-basic' changed since decks/sample.lock.json was written" in result.stderr


def test_the_secret_is_kept_private_and_reused(tmp_path, monkeypatch):
    _use_secret_of(monkeypatch, tmp_path / "home")
    key = cache._secret()
    path = cache.secret_path()
    assert path == tmp_path / "home/acudeck/cache-secret"
    assert path.read_bytes() == key and len(key) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    cache._secret.cache_clear()
    assert cache._secret() == key
    assert [p.name for p in path.parent.iterdir()] == ["cache-secret"]


def test_without_a_place_for_the_secret_the_cache_only_misses(project, tmp_path, monkeypatch):
    (tmp_path / "not-a-folder").write_text("")
    _use_secret_of(monkeypatch, tmp_path / "not-a-folder")
    first = cache._secret()
    cache._secret.cache_clear()
    assert cache._secret() != first
    assert run(project).exit_code == 0
    cache._secret.cache_clear()
    cache.code_version.cache_clear()
    assert run(project).stdout == "decks/sample.apkg: unchanged: 3 notes, 5 cards (0 added, 0 changed, 0 removed)\n"


def test_compiled_validators_come_from_the_cache_and_a_damaged_one_is_compiled_again(project, monkeypatch):
    from acudeck import format as fmt

    monkeypatch.setattr(fmt, "_fast_validators", {})
    assert run(project).exit_code == 0
    monkeypatch.setattr(fmt, "_fast_validators", {})
    compiled = []
    real = fmt.fast_validator_code
    monkeypatch.setattr(reader, "fast_validator_code", lambda *args: compiled.append(args) or real(*args))
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing", "Handling"))
    assert run(project).exit_code == 0
    assert compiled == [] and fmt.has_fast_validator("cards", "basic")

    monkeypatch.setattr(fmt, "_fast_validators", {})
    entry = project / ".acudeck-cache/files" / FileCache(project).named_key("validator cards basic")
    entry.write_bytes(entry.read_bytes()[:-5] + b"xxxxx")
    cards.write_text(cards.read_text().replace("Handling", "Managing"))
    result = run(project)
    assert result.exit_code == 0 and "(0 added, 1 changed, 0 removed)" in result.stdout
    assert compiled == [("cards", "basic")]


def test_validator_entries_survive_a_run_that_parses_nothing(project):
    assert run(project).exit_code == 0
    (project / "decks/sample.apkg").unlink()  # rebuilt from cached card files only
    assert run(project).exit_code == 0
    names = {p.name for p in (project / ".acudeck-cache/files").iterdir()}
    assert FileCache(project).named_key("validator cards compare") in names


def test_an_edit_made_while_a_build_runs_is_built_by_the_next_one(project, monkeypatch):
    cards = project / "cards_src/sample/cards.yaml"
    real = project_module.build

    def build_then_edit(*args, **kwargs):
        results = real(*args, **kwargs)
        cards.write_text(cards.read_text().replace("Managing", "Handling"))  # saved by an editor mid-build
        return results

    monkeypatch.setattr(project_module, "build", build_then_edit)
    assert run(project).exit_code == 0
    monkeypatch.setattr(project_module, "build", real)
    assert "(0 added, 1 changed, 0 removed)" in run(project).stdout


def test_a_deck_changed_in_place_is_rebuilt(project):
    assert run(project).exit_code == 0
    deck = project / "decks/sample.apkg"
    data = bytearray(deck.read_bytes())
    data[-30] ^= 1  # same size, other bytes (the zip's central directory), a new modification time
    deck.write_bytes(bytes(data))
    assert run(project).stdout == "decks/sample.apkg: written: 3 notes, 5 cards (0 added, 0 changed, 0 removed)\n"


def test_the_cards_of_a_cached_file_are_read_only_when_asked_for_and_parsed_again_when_damaged(project, monkeypatch):
    assert run(project).exit_code == 0
    expected = run(project, "export").stdout
    [(name, data)] = entries(project).items()
    path = project / ".acudeck-cache/files" / name
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # the last byte: inside the cards, after the notes
    parsed = count_parses(monkeypatch)
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing", "Handling"))
    cards.write_text(cards.read_text().replace("Handling", "Managing"))  # the same bytes again
    (project / "decks/sample.apkg").unlink()
    assert run(project).exit_code == 0 and parsed == []  # a rebuild needs no cards of a cached file
    assert run(project, "export").stdout == expected and parsed == ["cards_src/sample/cards.yaml"]


def test_cards_asked_for_after_their_file_changed_are_refused(project):
    assert run(project).exit_code == 0
    [(name, data)] = entries(project).items()
    (project / ".acudeck-cache/files" / name).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    deck = load_deck(project / "cards_src/sample", project, files=CardFileReader(FileCache(project), jobs=1))
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing", "Handling"))
    with pytest.raises(BuildError, match=r"^cards_src/sample/cards.yaml: changed while it was being read; run the command again$"):
        _ = deck.cards


def test_a_rebuild_reads_only_the_card_files_that_changed(project, monkeypatch):
    write(project / "cards_src/sample/more.yaml", "cards:\n  - id: q-more\n    type: basic\n    front: What more?\n    back: More.\n")
    assert run(project).exit_code == 0
    read = []
    real = reader.read_bytes
    monkeypatch.setattr(reader, "read_bytes", lambda path, display: read.append(display) or real(path, display))
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing", "Handling"))
    assert "(0 added, 1 changed, 0 removed)" in run(project).stdout
    assert read == ["cards_src/sample/cards.yaml"]


def test_the_order_of_new_cards_is_cached_by_its_families_and_a_damaged_entry_is_a_miss(project, monkeypatch, tmp_path):
    from acudeck import package
    from acudeck.project import Project, plan_project

    assert run(project).exit_code == 0
    families = package.card_families(plan_project(Project(project, use_cache=False)).decks[0].notes)
    entry = project / ".acudeck-cache/files" / package.ordering_key(FileCache(project), families)
    assert entry.is_file(), "the build keeps the ordering, and the prune before the next build spares it"
    edit = project / "cards_src/sample/cards.yaml"
    edit.write_text(edit.read_text().replace("Managing pain syndromes.", "The management of pain syndromes."))
    arranged = []
    monkeypatch.setattr(package, "arrange", lambda families: arranged.append(1) or package.Ordering(*_arranged(families)))
    assert run(project).exit_code == 0
    assert arranged == [], "an edit of a card's text changes no family: the ordering comes from the cache"
    entry.write_bytes(entry.read_bytes()[:-5] + b"xxxxx")  # damaged: its checksum fails
    edit.write_text(edit.read_text().replace("The management", "Management"))
    assert run(project).exit_code == 0
    assert arranged == [1]
    clean = tmp_path / "clean"  # the same sources and ledger, built without any cache
    shutil.copytree(project, clean, ignore=shutil.ignore_patterns(".acudeck-cache", "sample.apkg"))
    assert run(clean, "--no-cache").exit_code == 0
    assert (project / "decks/sample.apkg").read_bytes() == (clean / "decks/sample.apkg").read_bytes()


def _arranged(families):
    from acudeck.order import arrange

    return arrange(families)
