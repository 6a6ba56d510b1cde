"""Output that cannot be written: a full disk, a closed stream, a pipe whose reader went away. Real
processes (`python -m acudeck`), since the streams are the process's own: never a traceback, and
exit code 1 where output was lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full")


def acudeck(root: Path, *args: str, stdout=subprocess.DEVNULL, close: int | None = None, **options) -> subprocess.CompletedProcess:
    """Run acudeck in a process of its own; `close` names a standard stream (1 or 2) it starts without."""
    preexec = (lambda: os.close(close)) if close is not None else None
    return subprocess.run([sys.executable, "-m", "acudeck", "-C", str(root), *args], stdout=stdout, stderr=subprocess.PIPE, text=True, preexec_fn=preexec, timeout=120, **options)


@pytest.fixture
def built(project):
    assert acudeck(project, "build").returncode == 0
    return project


COMMANDS_THAT_PRINT = [("build",), ("export", "--format", "csv"), ("export", "--format", "markdown"), ("--help",), ("build", "--help")]


@needs_dev_full
@pytest.mark.parametrize("args", COMMANDS_THAT_PRINT, ids=" ".join)
def test_output_to_a_full_disk_is_one_line_and_exit_code_1(built, args):
    with FULL.open("w") as full:
        result = acudeck(built, *args, stdout=full)
    assert result.returncode == 1
    assert result.stderr == "Error: cannot write the output (No space left on device)\n"


@pytest.mark.parametrize("args", COMMANDS_THAT_PRINT, ids=" ".join)
def test_output_to_a_closed_stdout_is_one_line_and_exit_code_1(built, args):
    result = acudeck(built, *args, stdout=None, close=1)
    assert result.returncode == 1
    assert result.stderr == "Error: cannot write the output (the stream was closed)\n"


@pytest.mark.parametrize("args", COMMANDS_THAT_PRINT, ids=" ".join)
def test_output_to_a_pipe_whose_reader_went_away_is_exit_code_1(built, args):
    read_end, write_end = os.pipe()
    os.close(read_end)  # before acudeck starts: its first write finds no reader
    try:
        result = acudeck(built, *args, stdout=write_end)
    finally:
        os.close(write_end)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr in ("", "Error: cannot write the output (Broken pipe)\n")


@needs_dev_full
def test_a_check_that_prints_nothing_to_stdout_loses_nothing(built):
    with FULL.open("w") as full:
        result = acudeck(built, "check", "--no-cache", stdout=full)
    assert (result.returncode, result.stderr) == (0, "ok\n")
    result = acudeck(built, "check", "--no-cache", stdout=None, close=1)
    assert (result.returncode, result.stderr) == (0, "ok\n")


def test_a_closed_stderr_loses_the_report_of_check_and_says_so_by_its_exit_code(built):
    assert _without_stderr(built, "check", "--no-cache").returncode == 1  # its "ok" was lost
    assert _without_stderr(built, "build").returncode == 0  # it writes nothing to standard error


def _without_stderr(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "acudeck", "-C", str(root), *args], stdout=subprocess.DEVNULL, preexec_fn=lambda: os.close(2), timeout=120)


def test_a_closed_stdout_is_not_reused_by_a_file_acudeck_opens(built):
    """With fd 1 closed, the next file opened would take its number: a child process writing to its
    standard output would then write into that file (a package, a ledger)."""
    code = "import os, sys; from acudeck.__main__ import _reserve_standard_streams; _reserve_standard_streams(); fd = os.open(os.devnull, os.O_RDONLY); print(fd, file=sys.stderr)"
    result = subprocess.run([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(1), timeout=60)
    assert int(result.stderr) > 2


def test_a_file_that_cannot_be_written_is_one_line(built, tmp_path):
    result = acudeck(built, "export", "-o", str(tmp_path / "missing-folder" / "x.csv"))
    assert result.returncode == 1
    assert result.stderr == "Error: export: cannot write missing-folder/x.csv: No such file or directory\n"  # the project is tmp_path
