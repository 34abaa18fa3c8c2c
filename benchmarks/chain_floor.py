"""How fast can Python record the chain workload and walk it back? A floor for minigrad.

Run from the repository root::

    python benchmarks/chain_floor.py          # 100,000 ops, 7 interleaved rounds, about ten seconds
    python benchmarks/chain_floor.py --quick  # a smoke test; not the measurement

``run.py``'s chain (``y = y * 1.0001 + 0.0001`` on 16 values, then the gradient of
the sum) is timed three ways:

- **numpy by hand**, ``run.py``'s reference: the loop, then a loop that multiplies
  the gradient by 1.0001 per step;
- **a minimal engine**, written here for this loop only. It records the same objects
  per op as minigrad (a tensor, an op, the tuple of the op's parents, a weak reference
  from the op to its result) and makes the same numpy calls, and does nothing else:
  no conversion of arguments, no dtype or broadcasting checks, no scopes for drawings,
  and a backward that follows a chain instead of walking any graph;
- **minigrad**, through its public API.

The minimal engine is not a design to follow: it can record nothing but this loop. It
shows how much of minigrad's cost is Python's price for a graph of objects, which the
minimal engine pays too, and how much is what minigrad's ops do besides recording
(``docs/performance.md``, the seventh round).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import weakref
from collections.abc import Callable

import numpy as np
from reference import chain_step
from run import DTYPE, ChainPair, assert_close, environment, load_average

import minigrad as mg

FULL_OPS, FULL_ROUNDS = 100_000, 7
QUICK_OPS, QUICK_ROUNDS = 10_000, 3

# What one run of the chain gives: y, dy/dx, and the seconds of the build and of the backward.
ChainRun = tuple[np.ndarray, np.ndarray, float, float]


# ---- the minimal engine -----------------------------------------------------------------


class FloorTensor:
    """An array, whether it needs a gradient, and the op that made it (None for a leaf)."""

    __slots__ = ("data", "requires_grad", "op", "__weakref__")

    def __init__(self, data: np.ndarray, requires_grad: bool, op: FloorOp | None) -> None:
        self.data, self.requires_grad, self.op = data, requires_grad, op


class FloorOp:
    """An op of the chain: its parents (the op of ``y``, then the constant) and its result."""

    __slots__ = ("parents", "needs_input_grad", "output")


class FloorMul(FloorOp):
    """y * c.    d/dy = c"""

    __slots__ = ()

    def backward(self, grad: np.ndarray, constant: np.ndarray) -> np.ndarray:
        return grad * constant


class FloorAdd(FloorOp):
    """y + c.    d/dy = 1"""

    __slots__ = ()

    def backward(self, grad: np.ndarray, constant: np.ndarray) -> np.ndarray:
        return grad


ONLY_Y_NEEDS_A_GRADIENT = (True, False)


def record(op_class: type[FloorOp], y: FloorTensor, constant: FloorTensor, data: np.ndarray) -> FloorTensor:
    """The result of an op on ``y`` and a constant, linked into the graph as minigrad links it."""
    op = op_class()
    op.parents = (y.op or y, constant)
    op.needs_input_grad = ONLY_Y_NEEDS_A_GRADIENT
    out = FloorTensor(data, True, op)
    op.output = weakref.ref(out)
    return out


def floor_chain(x: np.ndarray, steps: int, scale: float, shift: float) -> ChainRun:
    """The chain with the minimal engine."""
    start = time.perf_counter()
    leaf = FloorTensor(x, True, None)
    times, plus = (FloorTensor(np.asarray(value, dtype=x.dtype), False, None) for value in (scale, shift))
    y = leaf
    for _ in range(steps):
        y = record(FloorMul, y, times, y.data * times.data)
        y = record(FloorAdd, y, plus, y.data + plus.data)
    built = time.perf_counter()
    grad, node = np.ones_like(x), y.op
    gc.disable()  # as minigrad's backward does
    try:
        while isinstance(node, FloorOp):
            y_parent, constant = node.parents
            grad = node.backward(grad, constant.data)
            node = y_parent
    finally:
        gc.enable()
    walked = time.perf_counter()
    return y.data, grad, built - start, walked - built


def minigrad_chain(x: np.ndarray, steps: int, scale: float, shift: float) -> ChainRun:
    """The chain with minigrad, as ``run.py`` runs it, with its build and backward timed apart."""
    start = time.perf_counter()
    leaf = mg.tensor(x, requires_grad=True)
    y = leaf
    for _ in range(steps):
        y = y * scale + shift
    built = time.perf_counter()
    y.backward(np.ones_like(x))
    walked = time.perf_counter()
    return y.data, leaf.grad.data, built - start, walked - built


# ---- measuring ---------------------------------------------------------------------------


def check(pair: ChainPair) -> None:
    """Both engines compute numpy's numbers, or MismatchError."""
    expected = chain_step(pair.x, pair.steps, pair.scale, pair.shift)
    for name, engine in (("minimal engine", floor_chain), ("minigrad", minigrad_chain)):
        actual = engine(pair.x, pair.steps, pair.scale, pair.shift)
        for what, value, wanted in zip(("final values", "gradients"), actual, expected):
            assert_close(f"{name}'s chain {what}", value, wanted)


def measure(ops: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    """Seconds per chain for each side, ``rounds`` samples each, the order rotating each round.

    For the two engines also the seconds of the build and of the backward alone; the
    total of a run also counts freeing the graph at its end.
    """
    pair = ChainPair(ops)
    check(pair)
    args = (pair.x, pair.steps, pair.scale, pair.shift)
    sides: dict[str, Callable[[], object]] = {
        "numpy by hand": lambda: chain_step(*args),
        "minimal engine": lambda: floor_chain(*args),
        "minigrad": lambda: minigrad_chain(*args),
    }
    samples: dict[str, dict[str, list[float]]] = {
        name: {"total": [], "build": [], "backward": []} for name in sides
    }
    names = list(sides)
    for round_index in range(rounds):
        for name in names[round_index % 3 :] + names[: round_index % 3]:
            gc.collect()
            start = time.perf_counter()
            result = sides[name]()
            samples[name]["total"].append(time.perf_counter() - start)
            if name != "numpy by hand":
                samples[name]["build"].append(result[2])
                samples[name]["backward"].append(result[3])
    return samples


def table(samples: dict[str, dict[str, list[float]]], ops: int) -> str:
    """Medians as a markdown table: µs per op for the build and the backward, ms per chain, ratio."""
    reference = statistics.median(samples["numpy by hand"]["total"])
    rows = [
        "| engine | build, µs/op | backward, µs/op | build + backward, ms | ratio to numpy |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, times in samples.items():
        total = statistics.median(times["total"])
        build, backward = (
            (f"{1e6 * statistics.median(times[part]) / ops:.2f}" for part in ("build", "backward"))
            if times["build"]
            else ("-", "-")
        )
        rows.append(f"| {name} | {build} | {backward} | {1e3 * total:.1f} | {total / reference:.2f}x |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The chain workload: numpy, a minimal engine and minigrad.")
    parser.add_argument("--quick", action="store_true", help="a smoke test (not the measurement)")
    args = parser.parse_args(argv)
    ops, rounds = (QUICK_OPS, QUICK_ROUNDS) if args.quick else (FULL_OPS, FULL_ROUNDS)
    env = environment()
    print("\n".join(f"{key}: {value}" for key, value in env.items()), end="\n\n")
    samples = measure(ops, rounds)
    heading = "QUICK MODE: a smoke test, NOT the measurement" if args.quick else "medians"
    print(f"### {ops:,}-op chain, {DTYPE.__name__}, {rounds} interleaved rounds ({heading})\n")
    print(table(samples, ops))
    print(f"\nload average (1, 5, 15 min): {env['load average at start']} at start, {load_average()} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
