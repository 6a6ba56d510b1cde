"""The benchmark runs end to end on a small deck: its synthetic sources build, and every step reports."""

import subprocess
import sys

from conftest import REPO

STEPS = (
    *("floor", "cold build (--no-cache)", "cold build with cache", "rebuild, nothing changed", "rebuild, one card edited"),
    *("check", "check --no-cache", "worst case: check --no-cache", "--help"),
)


def test_the_benchmark_runs_every_step_on_a_small_deck():
    result = subprocess.run([sys.executable, str(REPO / "bench/bench.py"), "--sizes", "300", "--repeat", "2"], capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stderr  # 1: a target missed, which a tiny deck may well do
    table = result.stdout.split("\n300 cards\n", 1)[1]
    for step in STEPS:
        assert f"\n  {step} " in table, step
    assert "FAILED" not in result.stdout
    assert "Targets at 300 cards" in result.stdout
    assert "worst case: check <= 10 x the good deck's" in result.stdout and "worst case: peak memory <=" in result.stdout
