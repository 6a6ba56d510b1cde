"""Where pages and exports go, and what a failure to write anything looks like: one line, exit 1,
the previous files intact and no temporary files left."""

import errno
import os
import sqlite3

import pytest
from conftest import commit_all, run, snapshot, write

from acudeck import collection, output, staging

LINK = "symbolic link: acudeck does not follow links inside the project; put the file or folder itself in its place"


def temporaries(root):
    return [p.name for p in root.rglob("*.tmp")]


@pytest.fixture
def outside(tmp_path_factory):
    folder = tmp_path_factory.mktemp("outside")
    write(folder / "sample.html", "not acudeck's")
    write(folder / "diff.html", "not acudeck's either")
    return folder


@pytest.mark.parametrize("command", [("preview",), ("diff", "HEAD")])
def test_a_linked_preview_folder_is_refused(project, outside, command):
    assert run(project).exit_code == 0
    commit_all(project)
    (project / "decks/preview").symlink_to(outside, target_is_directory=True)
    result = run(project, *command)
    assert (result.exit_code, result.stderr) == (1, f"decks/preview:1:1: {LINK}\n")
    assert snapshot(outside) == {"sample.html": b"not acudeck's", "diff.html": b"not acudeck's either"}


@pytest.mark.parametrize(("command", "page"), [(("preview",), "sample.html"), (("diff", "HEAD"), "diff.html")])
def test_a_linked_page_in_the_preview_folder_is_refused(project, outside, command, page):
    assert run(project).exit_code == 0
    commit_all(project)
    (project / "decks/preview").mkdir()
    (project / "decks/preview" / page).symlink_to(outside / page)
    result = run(project, *command)
    assert (result.exit_code, result.stderr) == (1, f"decks/preview/{page}:1:1: {LINK}\n")
    assert snapshot(outside) == {"sample.html": b"not acudeck's", "diff.html": b"not acudeck's either"}


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (("export", "-o", "missing/dir/x.csv"), "export: cannot write missing/dir/x.csv: No such file or directory"),
        (("preview", "-o", "missing/dir"), "preview: cannot write missing/dir: No such file or directory"),
        (("diff", "HEAD", "-o", "missing/x.html"), "diff: cannot write missing/x.html: No such file or directory"),
    ],
)
def test_an_output_path_in_a_missing_folder_is_a_one_line_error(project, monkeypatch, command, message):
    commit_all(project)
    monkeypatch.chdir(project)
    result = run(project, *command)
    assert (result.exit_code, result.stderr) == (1, f"Error: {message}\n")
    assert not (project / "missing").exists()


def test_pages_and_exports_go_wherever_the_user_says(project, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    assert run(project, "export", "-o", str(elsewhere / "cards.csv")).exit_code == 0
    assert run(project, "preview", "-o", str(elsewhere / "pages")).exit_code == 0
    assert sorted(snapshot(elsewhere)) == ["cards.csv", "pages/sample.html"]
    assert not temporaries(elsewhere)


class FullDisk:
    """`os` for one acudeck module: files it opens with os.fdopen are full from the `nth` on."""

    def __init__(self, nth: int = 1):
        self.nth, self.opened = nth, 0

    def __getattr__(self, name):
        return getattr(os, name)

    def fdopen(self, fd, *args, **kwargs):
        self.opened += 1
        fh = os.fdopen(fd, *args, **kwargs)
        return FullFile(fh) if self.opened >= self.nth else fh


class FullFile:
    def __init__(self, fh):
        self.fh = fh

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


def edited_and_built(project):
    assert run(project).exit_code == 0
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing", "Handling"))
    return snapshot(project / "decks")


@pytest.mark.parametrize(("nth", "name"), [(1, "sample.lock.json"), (2, "sample.apkg")])
def test_a_full_disk_while_writing_decks_is_one_line_and_keeps_the_previous_decks(project, monkeypatch, nth, name):
    before = edited_and_built(project)
    monkeypatch.setattr(staging, "os", FullDisk(nth))
    result = run(project, "build")
    assert (result.exit_code, result.stderr) == (1, f"Error: build: cannot write decks/{name}: No space left on device\n")
    assert snapshot(project / "decks") == before
    assert not temporaries(project)


def test_a_full_disk_under_sqlite_is_one_line_too(project, monkeypatch):
    before = edited_and_built(project)

    def full(*args):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(collection, "_insert", full)
    result = run(project, "build")
    assert (result.exit_code, result.stderr) == (1, "Error: build: cannot write decks/sample.apkg: database or disk is full\n")
    assert snapshot(project / "decks") == before


@pytest.mark.parametrize(("command", "path"), [(("export", "-o", "cards.csv"), "cards.csv"), (("preview",), "decks/preview/sample.html")])
def test_a_full_disk_while_writing_a_page_or_an_export_keeps_the_previous_one(project, monkeypatch, command, path):
    monkeypatch.chdir(project)
    assert run(project, *command).exit_code == 0
    previous = (project / path).read_bytes()
    cards = project / "cards_src/sample/cards.yaml"
    cards.write_text(cards.read_text().replace("Managing", "Handling"))
    monkeypatch.setattr(output, "os", FullDisk())
    result = run(project, *command)
    assert (result.exit_code, result.stderr) == (1, f"Error: {command[0]}: cannot write {path}: No space left on device\n")
    assert (project / path).read_bytes() == previous
    assert not temporaries(project)


def test_pages_are_written_whole_through_a_temporary_beside_them(project, monkeypatch):
    renamed = []
    real = os.replace
    monkeypatch.setattr(output.os, "replace", lambda src, dst, **kw: renamed.append((os.path.dirname(src), os.path.basename(src), dst)) or real(src, dst, **kw))
    assert run(project, "preview").exit_code == 0
    [(folder, name, dst)] = [entry for entry in renamed if str(entry[2]).endswith(".html")]
    assert folder == str(project / "decks/preview") and name.startswith(".sample.html.") and name.endswith(".tmp")


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (OSError(errno.EIO, "Input/output error"), "Error: Input/output error\n"),
        (OSError(errno.EACCES, "Permission denied", "{root}/cards_src/sample/x.yaml"), "Error: cards_src/sample/x.yaml: Permission denied\n"),
    ],
)
def test_an_unexpected_os_error_is_one_line_naming_the_file_when_there_is_one(project, monkeypatch, error, message):
    from acudeck import project as project_module

    def fail(*args, **kwargs):
        raise OSError(error.errno, error.strerror, *([error.filename.format(root=project)] if error.filename else []))

    monkeypatch.setattr(project_module, "plan_project", fail)
    result = run(project, "export")
    assert (result.exit_code, result.stderr) == (1, message)
