"""How minigrad's cost over hand-written numpy grows with the length of a sequence.

Run from the repository root::

    python benchmarks/sequence.py          # L = 25, 100, 400, 1600: under a minute
    python benchmarks/sequence.py --quick  # a smoke test, seconds; not the measurement

One training pass of an LSTM, ``nn.LSTM(32, 64)`` over a batch of 16 sequences of
length L (float32, weights from ``mg.manual_seed(0)``), as minigrad does it and as
``reference.py``'s :class:`ReferenceLSTM` does it by hand from a copy of the same
weights: the forward pass over all L steps, then the backward pass from a fixed random
dL/doutput to the four parameters and to the input, which needs one as it does when
it comes from an embedding or from a layer below. The gradients are set to None before
each pass, so nothing accumulates.

Both sides do a fixed amount of work per step, so both times should grow linearly with
L and their ratio stay flat. Backward of a recurrent layer once grew with L squared
(each step's gradient of ``sequence[t]`` was spread into an array of the whole
sequence's shape, when the sequence requires grad); a ratio that climbs with L would
show such a cost again.

Before any timing, every L is checked: the output and the five gradients of both sides
must agree to float32 rounding (``run.py``'s tolerances; gradients relative to the
largest one). The timing is ``run.py``'s: both sides interleaved round by round,
medians, minigrad's median over numpy's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass

import numpy as np
from reference import ReferenceLSTM
from run import (
    ATOL,
    DTYPE,
    RTOL,
    MismatchError,
    Settings,
    assert_close,
    environment,
    format_quantity,
    largest_magnitude,
    load_average,
    time_pair,
)

import minigrad as mg
from minigrad import nn

INPUT_SIZE, HIDDEN_SIZE, BATCH = 32, 64, 16
LENGTHS = (25, 100, 400, 1600)
QUICK_LENGTHS = (10, 40)

# run.py's settings; no chain or memory is measured here.
FULL = Settings(rounds=11, min_sample_seconds=0.25, chain_ops=0, memory_steps=0, quick=False)
QUICK = Settings(rounds=3, min_sample_seconds=0.02, chain_ops=0, memory_steps=0, quick=True)


class LSTMPair:
    """Forward over a sequence of ``length`` steps and backward to the weights, by minigrad and by numpy.

    minigrad's LSTM is initialized from ``seed``; the reference starts from a copy of
    its state dict. The input and dL/doutput are fixed random numbers from ``seed``.
    """

    def __init__(self, length: int, seed: int = 0) -> None:
        mg.manual_seed(seed)
        self.model = nn.LSTM(INPUT_SIZE, HIDDEN_SIZE)
        self.reference = ReferenceLSTM(self.model.state_dict())
        rng = np.random.default_rng(seed)
        self.x = rng.standard_normal((length, BATCH, INPUT_SIZE)).astype(DTYPE)
        self.grad_output = rng.standard_normal((length, BATCH, HIDDEN_SIZE)).astype(DTYPE)
        self.inputs = mg.tensor(self.x, requires_grad=True)

    def run_minigrad(self) -> np.ndarray:
        """One pass; returns the output as an array, so the graph is freed on return."""
        self.model.zero_grad()
        self.inputs.grad = None
        output, _ = self.model(self.inputs)
        output.backward(self.grad_output)
        return output.data

    def run_reference(self) -> np.ndarray:
        return self.reference.forward_backward(self.x, self.grad_output)

    def check(self) -> None:
        """Compare the output and the gradients of every parameter and of the input; raise MismatchError if they differ."""
        length = self.x.shape[0]
        assert_close(f"output at L={length}", self.run_minigrad(), self.run_reference())
        atol = ATOL * largest_magnitude(self.reference.grads.values())
        for name, param in self.model.named_parameters():
            expected = self.reference.grads[name]
            assert_close(f"gradient of {name} at L={length}", param.grad.data, expected, atol)
        assert_close(
            f"gradient of the input at L={length}", self.inputs.grad.data, self.reference.grads["input"], atol
        )


@dataclass
class Point:
    """One sequence length: the medians of both sides and their ratio."""

    length: int
    minigrad_ms: float
    reference_ms: float

    @property
    def ratio(self) -> float:
        return self.minigrad_ms / self.reference_ms

    @property
    def minigrad_us_per_step(self) -> float:
        return 1e3 * self.minigrad_ms / self.length


def benchmark(lengths: tuple[int, ...], settings: Settings) -> list[Point]:
    """Check both sides agree at every length, then time them; raise MismatchError before timing if not."""
    print(f"Checking that minigrad and numpy compute the same numbers (rtol={RTOL}, atol={ATOL}):")
    pairs = {}
    for length in lengths:
        pairs[length] = LSTMPair(length)
        pairs[length].check()
        print(f"  same numbers: L={length}", flush=True)
    points = []
    for length in lengths:
        print(f"timing: L={length}", flush=True)
        seconds = time_pair(pairs.pop(length), settings)  # minigrad's samples, then numpy's
        points.append(Point(length, *(1e3 * statistics.median(samples) for samples in seconds)))
    return points


def table(points: list[Point], settings: Settings) -> str:
    """The points as a markdown table, with a heading saying how they were measured."""
    workload = f"nn.LSTM({INPUT_SIZE}, {HIDDEN_SIZE}), batch {BATCH}, forward + backward"
    if settings.quick:
        heading = f"### QUICK MODE ({settings.rounds} rounds): a smoke test, NOT the measurement ({workload})"
    else:
        heading = f"### {workload}: medians of {settings.rounds} interleaved rounds"
    rows = [
        heading,
        "",
        "| L | minigrad | numpy reference | ratio | minigrad, µs per step |",
        "|---:|---:|---:|---:|---:|",
    ]
    for point in points:
        rows.append(
            f"| {point.length:,} | {format_quantity(point.minigrad_ms, 'ms')} "
            f"| {format_quantity(point.reference_ms, 'ms')} | {point.ratio:.2f}x "
            f"| {point.minigrad_us_per_step:.0f} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="An LSTM's cost over numpy as the sequence grows.")
    parser.add_argument("--quick", action="store_true", help="a smoke test (not the measurement)")
    args = parser.parse_args(argv)
    settings, lengths = (QUICK, QUICK_LENGTHS) if args.quick else (FULL, LENGTHS)

    env = environment()
    print("\n".join(f"{key}: {value}" for key, value in env.items()), end="\n\n")
    try:
        points = benchmark(lengths, settings)
    except MismatchError as mismatch:
        print(f"\nABORTED, nothing was timed: {mismatch}", file=sys.stderr)
        return 1
    print("\n" + table(points, settings))
    print(f"\nload average (1, 5, 15 min): {env['load average at start']} at start, {load_average()} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
