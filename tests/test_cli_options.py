"""Global options work where users type them: before the command as well as after it."""

import pytest
from conftest import run

from acudeck import commands


@pytest.fixture
def runs(monkeypatch):
    """The Run each command is given, instead of doing its work."""
    seen = []
    monkeypatch.setattr(commands, "build", lambda run, keys: seen.append(run) or commands.Report())
    monkeypatch.setattr(commands, "check", lambda run, keys, source_text=None, base=None: seen.append(run) or commands.Report())
    return seen


@pytest.mark.parametrize(
    ("args", "jobs", "use_cache"),
    [
        (["-j", "1", "check"], 1, True),
        (["check", "-j", "1"], 1, True),
        (["--jobs", "3", "build"], 3, True),
        (["--no-cache"], 0, False),  # no command: build
        (["-j", "2"], 2, True),
        (["--no-cache", "check"], 0, False),
        (["check", "--no-cache"], 0, False),
        (["-j", "1", "build", "-j", "2"], 2, True),  # after the command wins
        (["build"], 0, True),
    ],
)
def test_global_options_before_or_after_the_command(project, runs, args, jobs, use_cache):
    result = run(project, *args)
    assert result.exit_code == 0, result.stderr
    assert [(r.jobs, r.use_cache) for r in runs] == [(jobs, use_cache)]


def test_no_cache_before_the_command_writes_no_cache(project):
    result = run(project, "--no-cache")
    assert result.exit_code == 0, result.stderr
    assert (project / "decks/sample.apkg").is_file() and not (project / ".acudeck-cache").exists()
    result = run(project, "-j", "1", "--no-cache", "check")
    assert (result.exit_code, result.stderr) == (0, "ok\n")
    assert not (project / ".acudeck-cache").exists()


def test_a_bad_global_jobs_value_is_a_usage_error(project):
    result = run(project, "-j", "-1", "check")
    assert result.exit_code == 2 and "Invalid value for '-j' / '--jobs'" in result.stderr
