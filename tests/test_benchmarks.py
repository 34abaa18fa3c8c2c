"""Smoke test of the benchmark script: quick mode runs to the end and its correctness check passes.

No timing is asserted: CI machines are too noisy for that, and the benchmark's numbers
are read by people, from ``python benchmarks/run.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RUN_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def test_quick_benchmark_completes_and_both_sides_agree(tmp_path: Path) -> None:
    results_path = tmp_path / "results.json"
    completed = subprocess.run(
        [sys.executable, str(RUN_SCRIPT), "--quick", "--json", str(results_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "ABORTED" not in completed.stderr
    results = json.loads(results_path.read_text())
    assert results["correctness"] == "passed"
    assert results["settings"]["quick"] is True
    assert len(results["results"]) == 5
    assert "QUICK MODE" in completed.stdout
    for row in results["results"]:
        assert row["minigrad"] > 0 and row["reference"] > 0, row


def run_quick(script: str) -> subprocess.CompletedProcess[str]:
    """Run ``benchmarks/<script> --quick`` to the end; fail with its output if it fails."""
    completed = subprocess.run(
        [sys.executable, str(RUN_SCRIPT.with_name(script)), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


def test_quick_scaling_sweep_completes_and_prints_every_sweep() -> None:
    completed = run_quick("scaling.py")
    for sweep in ("| batch |", "| width |", "| depth |", "chain ops"):
        assert sweep in completed.stdout, sweep


def test_quick_chain_floor_completes_and_prints_every_engine() -> None:
    completed = run_quick("chain_floor.py")
    assert "QUICK MODE" in completed.stdout
    engines = (
        "numpy by hand",
        "minimal engine, walking the chain",
        "minimal engine, walking any graph",
        "minigrad",
    )
    for engine in engines:
        assert f"| {engine} |" in completed.stdout, engine


def test_quick_sequence_sweep_completes_and_prints_every_length() -> None:
    completed = run_quick("sequence.py")
    assert "QUICK MODE" in completed.stdout
    for length in (10, 40):
        assert f"| {length} |" in completed.stdout, length
