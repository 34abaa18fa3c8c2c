"""Every example runs in its quick mode, prints what it shows and writes what it promises."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FILE_SIGNATURES = {".png": b"\x89PNG\r\n\x1a\n", ".svg": b"<?xml"}


@dataclass
class Example:
    """One script: the arguments of its quick run, what it must print, the files it must write."""

    script: str
    arguments: list[str]
    prints: list[str]
    writes: list[str] = field(default_factory=list)


CASES = [
    Example(
        "batchnorm_digits.py",
        ["--quick"],
        ["network", "test accuracy", "steps to 95%", "without batch norm", "with batch norm", "500 of 500"],
        ["figure1.png", "forward_graph.svg", "forward_graph.png", "backward_graph.svg", "backward_graph.png"],
    ),
    Example(
        "train_vs_eval.py",
        ["--quick"],
        ["running_mean after", "momentum 0.1 (beta 0.9)", "ValueError", "two digits at a time"],
        ["running_averages.png"],
    ),
    Example(
        "batchnorm_composed_vs_handwritten.py",
        ["--quick"],
        ["dl/dx", "agree to 1e-10", "hand-derived numpy", "minigrad, composed"],
    ),
    Example("autodiff_basics.py", [], ["by hand", "backward()", "d2y/dx2", "finite differences: True"]),
    Example(
        "cnn_digits.py",
        ["--quick"],
        ["CNN", "MLP", "weights    1,946    2,320", "test accuracy on the 500 held-out digits"],
        ["filters.png", "conv2d_graph.svg", "conv2d_graph.png", "conv2d_backward.svg", "conv2d_backward.png"],
    ),
    Example(
        "attention_sort.py",
        ["--quick"],
        ["17,994 weights", "held-out accuracy", "of sequences sorted right", "->  predicted"],
        [
            "attention.png",
            "attention_graph.svg",
            "attention_graph.png",
            "attention_backward.svg",
            "attention_backward.png",
        ],
    ),
    Example(
        "lstm_sum.py",
        ["--quick"],
        [
            "LSTM 5,962 weights, RNN 1,738 weights",
            "held-out accuracy per step",
            "LSTM predicted",
            "RNN predicted",
        ],
        ["lstm_states.png", "lstm_graph.svg", "lstm_graph.png", "lstm_backward.svg", "lstm_backward.png"],
    ),
    Example(
        "autoencoder_digits.py",
        ["--quick"],
        [
            "13,907 weights, a code of 2 numbers",
            "reconstruction error on the 500 test digits",
            "PCA, 2 numbers (the best linear code)",
            "autoencoder codes",
        ],
        [
            "reconstructions.png",
            "codes.png",
            "conv_transpose2d_graph.svg",
            "conv_transpose2d_graph.png",
            "conv_transpose2d_backward.svg",
            "conv_transpose2d_backward.png",
        ],
    ),
]


def run_example(script: str, *arguments: str, cwd: Path) -> str:
    """Run an example as a user would; return what it printed (progress bars go to stderr)."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.parametrize("example", CASES, ids=lambda example: example.script)
def test_example_prints_and_writes_what_it_promises(example: Example, tmp_path: Path) -> None:
    out = tmp_path / "out"
    arguments = [*example.arguments, "--out", str(out)] if example.writes else example.arguments
    printed = run_example(example.script, *arguments, cwd=tmp_path)
    for text in example.prints:
        assert text in printed, f"{example.script} did not print {text!r}:\n{printed}"
    for name in example.writes:
        path = out / name
        assert path.read_bytes().startswith(FILE_SIGNATURES[path.suffix]), f"{path} is not a {path.suffix}"
        assert str(path) in printed, f"{example.script} did not print the path {path}"


def test_every_example_is_tested() -> None:
    scripts = {path.name for path in EXAMPLES.glob("*.py") if not path.name.startswith("_")}
    assert scripts == {example.script for example in CASES}


def test_main_job_is_deterministic_and_writes_to_out_by_default(tmp_path: Path) -> None:
    """Run again, from another folder, without --out: the same table, the same figure."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    printed = [
        run_example("batchnorm_digits.py", "--quick", "--out", str(first / "results"), cwd=first),
        run_example("batchnorm_digits.py", "--quick", cwd=second),
    ]
    tables = [text.split("wrote:")[0] for text in printed]
    assert tables[0] == tables[1]
    default = second / "out" / "batchnorm_digits"
    assert (default / "figure1.png").read_bytes() == (first / "results" / "figure1.png").read_bytes()
