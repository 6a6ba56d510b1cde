import shutil
import subprocess
import sys

from conftest import REPO


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff") or str(__import__("pathlib").Path(sys.executable).with_name("ruff"))
    result = subprocess.run([ruff, "check", "acudeck", "build.py", "tests", "bench"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_console_script_is_installed():
    script = shutil.which("acudeck") or str(__import__("pathlib").Path(sys.executable).with_name("acudeck"))
    result = subprocess.run([script, "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "Build Anki decks" in result.stdout


def test_mypy_accepts_the_core():
    """The settings are in pyproject.toml ([tool.mypy]): acudeck/, with the libraries that ship no types named there."""
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
