"""How fast can Python record the chain workload and walk it back? A floor for minigrad.

Run from the repository root::

    python benchmarks/chain_floor.py          # 100,000 ops, 7 interleaved rounds, about ten seconds
    python benchmarks/chain_floor.py --quick  # a smoke test; not the measurement

``run.py``'s chain (``y = y * 1.0001 + 0.0001`` on 16 values, then the gradient of
the sum) is timed four ways:

- **numpy by hand**, ``run.py``'s reference: the loop, then a loop that multiplies
  the gradient by 1.0001 per step;
- **a minimal engine**, written here for this loop only. It records the same objects
  per op as minigrad (a tensor, an op, the tuple of the op's parents, a weak reference
  from the op to its result) and makes the same numpy calls, and does nothing else:
  no conversion of arguments, no dtype or broadcasting checks, no scopes for drawings.
  Its backward is timed two ways: following the chain from op to op, which works for
  a chain only, and in Kahn's order as minigrad walks any graph (count each node's
  uses, then run a node once all its uses have passed their gradient back);
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
from typing import Any

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
    """y * c.    d/dy = c  (the constant gets no gradient)"""

    __slots__ = ()

    def backward(self, grad: np.ndarray, constant: np.ndarray) -> tuple[np.ndarray, None]:
        return grad * constant, None


class FloorAdd(FloorOp):
    """y + c.    d/dy = 1"""

    __slots__ = ()

    def backward(self, grad: np.ndarray, constant: np.ndarray) -> tuple[np.ndarray, None]:
        return grad, None


ONLY_Y_NEEDS_A_GRADIENT = (True, False)


def record(op_class: type[FloorOp], y: FloorTensor, constant: FloorTensor, data: np.ndarray) -> FloorTensor:
    """The result of an op on ``y`` and a constant, linked into the graph as minigrad links it."""
    op = op_class()
    op.parents = (y.op or y, constant)
    op.needs_input_grad = ONLY_Y_NEEDS_A_GRADIENT
    out = FloorTensor(data, True, op)
    op.output = weakref.ref(out)
    return out


def walk_the_chain(op: FloorOp, grad: np.ndarray) -> np.ndarray:
    """dy/dx, from op to op along the chain: each op has one input that needs a gradient."""
    while isinstance(op, FloorOp):
        y_parent, constant = op.parents
        grad = op.backward(grad, constant.data)[0]
        op = y_parent
    return grad


def walk_any_graph(root: FloorOp, grad: np.ndarray) -> np.ndarray:
    """dy/dx in Kahn's order, as minigrad's backward walks a graph of any shape."""
    uses = {id(root): 0}  # how many uses will pass each node a gradient
    stack = [root]
    while stack:
        op = stack.pop()
        for parent, needed in zip(op.parents, op.needs_input_grad):
            if needed:
                key = id(parent)
                if key in uses:
                    uses[key] += 1
                else:
                    uses[key] = 1
                    if isinstance(parent, FloorOp):
                        stack.append(parent)
    grads, ready = {id(root): grad}, [root]
    while ready:
        node = ready.pop()
        grad = grads.pop(id(node))
        if not isinstance(node, FloorOp):  # the leaf x
            return grad
        input_grads = node.backward(grad, node.parents[1].data)  # every op here has its constant second
        for parent, needed, input_grad in zip(node.parents, node.needs_input_grad, input_grads):
            if needed:
                key = id(parent)
                grads[key] = input_grad if key not in grads else grads[key] + input_grad
                uses[key] -= 1
                if not uses[key]:
                    ready.append(parent)
    raise AssertionError("the walk never reached x")


def floor_chain(
    x: np.ndarray, steps: int, scale: float, shift: float, walk: Callable[[FloorOp, np.ndarray], np.ndarray]
) -> ChainRun:
    """The chain with the minimal engine, walked back by ``walk``."""
    start = time.perf_counter()
    leaf = FloorTensor(x, True, None)
    times, plus = (FloorTensor(np.asarray(value, dtype=x.dtype), False, None) for value in (scale, shift))
    y = leaf
    for _ in range(steps):
        y = record(FloorMul, y, times, y.data * times.data)
        y = record(FloorAdd, y, plus, y.data + plus.data)
    built = time.perf_counter()
    gc.disable()  # as minigrad's backward does
    try:
        grad = walk(y.op, np.ones_like(x))
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


def engines(pair: ChainPair) -> dict[str, Callable[[], ChainRun]]:
    """The chain of ``pair`` run by each engine, by the name printed in the table."""
    args = (pair.x, pair.steps, pair.scale, pair.shift)
    return {
        "minimal engine, walking the chain": lambda: floor_chain(*args, walk_the_chain),
        "minimal engine, walking any graph": lambda: floor_chain(*args, walk_any_graph),
        "minigrad": lambda: minigrad_chain(*args),
    }


def check(pair: ChainPair) -> None:
    """Every engine computes numpy's numbers, or MismatchError."""
    expected = chain_step(pair.x, pair.steps, pair.scale, pair.shift)
    for name, run in engines(pair).items():
        for what, value, wanted in zip(("final values", "gradients"), run(), expected):
            assert_close(f"{name}: the chain's {what}", value, wanted)


def measure(ops: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    """Seconds per chain for each side, ``rounds`` samples each, the order rotating each round.

    For the engines also the seconds of the build and of the backward alone; the
    total of a run also counts freeing the graph at its end.
    """
    pair = ChainPair(ops)
    check(pair)
    sides: dict[str, Callable[[], Any]] = {
        "numpy by hand": lambda: chain_step(pair.x, pair.steps, pair.scale, pair.shift),
        **engines(pair),
    }
    samples: dict[str, dict[str, list[float]]] = {
        name: {"total": [], "build": [], "backward": []} for name in sides
    }
    names = list(sides)
    for round_index in range(rounds):
        first = round_index % len(names)
        for name in names[first:] + names[:first]:
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
