"""acudeck as a package people install: the wheel and sdist carry everything it needs (card types,
schemas, templates), it runs from a fresh virtual environment outside this repository, its version
is written once, and the pre-commit hook works through the real pre-commit."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

import acudeck
from acudeck.scaffold import init

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))


def _package_folders() -> set[str]:
    return {".".join(path.parent.relative_to(REPO).parts) for path in (REPO / "acudeck").rglob("*") if path.is_file() and "__pycache__" not in path.parts}


def test_every_folder_of_the_package_is_listed_for_setuptools():
    assert set(PYPROJECT["tool"]["setuptools"]["packages"]) == _package_folders()


def test_the_version_is_written_once_in_pyproject():
    assert acudeck.__version__ == PYPROJECT["project"]["version"]
    for path in (REPO / "acudeck").rglob("*.py"):
        assert PYPROJECT["project"]["version"] not in path.read_text("utf-8"), path


def _run(*command: str | Path, cwd: Path, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=240, env=env)
    if check:
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    return done


def test_the_wheel_installs_in_a_fresh_environment_and_starts_a_deck_repository(tmp_path):
    """sdist, then a wheel built from the sdist (what `python -m build` does): both carry the data
    files; the wheel goes into a new venv that finds the dependencies (not acudeck) in this one."""
    if importlib.util.find_spec("build") is None:
        pytest.skip("needs the 'build' package (the dev extra)")
    _run(sys.executable, "-m", "build", "--outdir", tmp_path / "dist", REPO, cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("acudeck-*.whl"))
    sdist = next((tmp_path / "dist").glob("acudeck-*.tar.gz"))
    data = {"acudeck/schema/cards.schema.json", "acudeck/templates/README.md", "acudeck/templates/gitignore", "acudeck/cardtypes/basic.py", "acudeck/scaffold.py"}
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = set(archive.namelist())
    with tarfile.open(sdist) as archive:
        in_sdist = set(archive.getnames())
    assert data <= in_wheel and any(name.endswith("licenses/LICENSE") for name in in_wheel)
    assert {f"{sdist.name[: -len('.tar.gz')]}/{name}" for name in data | {"LICENSE", "CHANGELOG.md"}} <= in_sdist

    env = tmp_path / "env"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # its .pth files (the editable acudeck) are not read
    _run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    where = _run(python, "-c", "import acudeck; print(acudeck.__file__)", cwd=tmp_path).stdout.strip()
    assert Path(where).is_relative_to(env), where
    assert _run(python, "-m", "acudeck", "--version", cwd=tmp_path).stdout == f"acudeck, version {acudeck.__version__}\n"
    acudeck_command = env / "bin" / "acudeck"
    _run(acudeck_command, "init", "herbs", cwd=tmp_path)
    built = _run(acudeck_command, "build", cwd=tmp_path / "herbs")
    assert "decks/herbs.apkg: written: " in built.stdout
    _run(acudeck_command, "check", cwd=tmp_path / "herbs")


def test_the_pre_commit_hook_runs_acudeck_check_in_a_deck_repository(tmp_path):
    if importlib.util.find_spec("pre_commit") is None:
        pytest.skip("needs pre-commit (the dev extra)")
    repo = tmp_path / "herbs"
    init(repo, key="herbs")
    subprocess.run([sys.executable, "-m", "acudeck", "build"], cwd=repo, check=True, capture_output=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    _run(*git, "init", "-q", cwd=repo)
    _run(*git, "add", ".", cwd=repo)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    try_repo = [sys.executable, "-m", "pre_commit", "try-repo", REPO, "acudeck-check", "--all-files"]
    passed = _run(*try_repo, cwd=repo, check=False, env=env)
    if passed.returncode == 3 and "Installing environment" in passed.stdout + passed.stderr:
        pytest.skip(f"pre-commit could not install acudeck's environment here: {(passed.stdout + passed.stderr).strip()[-300:]}")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "acudeck check" in passed.stdout and "Passed" in passed.stdout

    samples = repo / "cards_src" / "herbs" / "samples.yaml"
    samples.write_text(samples.read_text("utf-8").replace("  front: What is", "  frnot: What is", 1), encoding="utf-8")
    _run(*git, "add", ".", cwd=repo)
    failed = _run(*try_repo, cwd=repo, check=False, env=env)
    assert failed.returncode == 1 and "Failed" in failed.stdout
    assert "cards_src/herbs/samples.yaml:" in failed.stdout and "frnot" in failed.stdout


def test_shell_completion_works_as_the_readme_says(tmp_path):
    script = _run(sys.executable, "-m", "acudeck", cwd=tmp_path, env={**os.environ, "_ACUDECK_COMPLETE": "bash_source"}).stdout
    assert "_acudeck_completion_setup" in script and "complete -o nosort -F _acudeck_completion acudeck" in script
    env = {**os.environ, "_ACUDECK_COMPLETE": "bash_complete", "COMP_WORDS": "acudeck in", "COMP_CWORD": "1"}
    assert _run(sys.executable, "-m", "acudeck", cwd=tmp_path, env=env).stdout.split() == ["plain,init"]
    assert "_ACUDECK_COMPLETE=bash_source acudeck" in (REPO / "README.md").read_text("utf-8")
