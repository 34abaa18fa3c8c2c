"""Measure minigrad against a hand-written numpy implementation of the same computations.

Run from the repository root::

    python benchmarks/run.py                      # the benchmark (a couple of minutes)
    python benchmarks/run.py --quick              # a smoke test, under a minute; not the benchmark
    python benchmarks/run.py --json results.json  # also write every sample to a file
    python benchmarks/run.py --profile chain      # cProfile of minigrad's side of one workload

Five workloads (issue 7), each done by minigrad's public API and by the numpy code in
``reference.py``, from identical data and initial weights:

- a training step (forward, backward, Adam) of a large and of a small batch-norm MLP;
- batch norm's forward and backward alone;
- a long chain of small ops, built and then differentiated;
- the peak memory of ten training steps of the large MLP.

Before any timing, the script checks that both sides compute the same numbers (to
float32 rounding) and stops if they do not: a fast wrong answer does not count. The
timings interleave the two sides round by round and report medians; the ratio is
minigrad's median over numpy's. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import math
import os
import platform
import pstats
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
from reference import ReferenceAdam, ReferenceMLP, batch_norm_step, chain_step

import minigrad as mg
import minigrad.nn.functional as F  # noqa: N812  (PyTorch's spelling)
from minigrad import nn, optim

DTYPE = np.float32
LARGE_MLP = (784, 1024, 1024, 10)
SMALL_MLP = (64, 128, 128, 10)
CHECK_STEPS = 3  # training steps compared before timing
RTOL, ATOL = 1e-4, 1e-5
MEMORY_TARGET = 1.3  # minigrad's target ratio for the memory row


@dataclass(frozen=True)
class Settings:
    """How long to measure: the full benchmark, or the quick smoke test."""

    rounds: int  # timing rounds; each round runs both sides once
    min_sample_seconds: float  # each timing sample repeats the workload at least this long
    chain_ops: int  # ops in the chain workload (two per step: a mul and an add)
    memory_steps: int  # training steps watched by the memory measurement
    quick: bool


FULL = Settings(rounds=11, min_sample_seconds=0.25, chain_ops=100_000, memory_steps=10, quick=False)
QUICK = Settings(rounds=3, min_sample_seconds=0.02, chain_ops=10_000, memory_steps=10, quick=True)


class MismatchError(RuntimeError):
    """minigrad and the numpy reference computed different numbers."""


# ---- comparing the two sides ------------------------------------------------------------


def assert_close(what: str, actual: Any, expected: Any, atol: float = ATOL) -> None:
    """Raise MismatchError unless minigrad's float32 ``actual`` matches ``expected``.

    ``|actual - expected| <= atol + RTOL * |expected|`` elementwise, as ``np.allclose``.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.dtype != DTYPE:
        raise MismatchError(f"{what}: minigrad's result is {actual.dtype}, but everything must stay float32")
    if actual.shape != expected.shape:
        raise MismatchError(f"{what}: minigrad gives shape {actual.shape}, numpy {expected.shape}")
    excess = np.abs(actual - expected) - (atol + RTOL * np.abs(expected))
    excess = np.where(np.isnan(excess), np.inf, excess)  # a nan is the worst mismatch
    if excess.max() > 0:
        worst = tuple(int(i) for i in np.unravel_index(np.argmax(excess), excess.shape))
        raise MismatchError(
            f"{what}: minigrad and the numpy reference disagree; worst at index {worst}: "
            f"minigrad {float(actual[worst]):.8g}, numpy {float(expected[worst]):.8g} "
            f"(rtol={RTOL}, atol={atol:.3g})"
        )


def largest_magnitude(arrays: Iterable[np.ndarray]) -> float:
    """The largest absolute value in ``arrays``: the scale gradients are compared at.

    Gradients of a mean loss are far below 1, so an absolute tolerance of 1e-5 would
    check little; the tolerance for a gradient is ``ATOL`` times this scale instead.
    """
    return max(float(np.abs(array).max()) for array in arrays)


# ---- the workloads, each done both ways ------------------------------------------------------


class Pair(Protocol):
    """One computation done by minigrad and by the numpy reference."""

    def run_minigrad(self) -> Any: ...

    def run_reference(self) -> Any: ...

    def check(self) -> None:
        """Raise MismatchError unless both sides compute the same numbers."""


def random_batch(
    rng: np.random.Generator, batch: int, features: int, classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fixed float32 inputs and int64 labels."""
    return rng.standard_normal((batch, features)).astype(DTYPE), rng.integers(0, classes, batch)


def minigrad_mlp(sizes: tuple[int, ...]) -> nn.Sequential:
    """``(Linear -> BatchNorm1d -> ReLU) * k -> Linear``, e.g. 784-1024-BN-ReLU-1024-BN-ReLU-10."""
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(fan_in, fan_out), nn.BatchNorm1d(fan_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1]))


class MLPPair:
    """A training step (zero grads, forward, cross-entropy, backward, Adam) of an MLP.

    minigrad's model is initialized from ``seed``; the reference starts from a copy of
    its state dict, so both hold the same weights.
    """

    def __init__(self, sizes: tuple[int, ...], batch: int, seed: int = 0) -> None:
        mg.manual_seed(seed)
        self.model = minigrad_mlp(sizes)
        self.optimizer = optim.Adam(self.model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
        self.reference = ReferenceMLP(sizes, self.model.state_dict())
        self.reference_optimizer = ReferenceAdam(self.reference.params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
        self.x, self.labels = random_batch(np.random.default_rng(seed), batch, sizes[0], sizes[-1])
        self.inputs = mg.tensor(self.x)

    def run_minigrad(self) -> np.ndarray:
        """One step; returns the loss as an array, so the graph is freed on return."""
        self.optimizer.zero_grad()
        loss = F.cross_entropy(self.model(self.inputs), self.labels)
        loss.backward()
        self.optimizer.step()
        return loss.data

    def run_reference(self) -> np.float32:
        self.reference.zero_grad()
        loss = self.reference.forward_backward(self.x, self.labels)
        self.reference_optimizer.step(self.reference.grads)
        return loss

    def check(self) -> None:
        """Compare loss, gradients, weights and running statistics at each of a few steps.

        Adam divides each gradient by its own running size, so where a gradient is
        float32 rounding noise it moves the weight by about ``lr`` in a direction set by
        the noise. The bias of a Linear layer that feeds batch norm is such a weight: batch
        norm subtracts the batch mean, so the bias cannot change the loss and its
        gradient is exactly 0 in exact arithmetic. Run independently, the two sides would
        drift apart there however correct both were. So once the gradients are checked
        equal, the reference optimizer steps with minigrad's: every step starts from the
        same state on both sides, and every comparison stays at float32 rounding.
        """
        for step in range(1, CHECK_STEPS + 1):
            minigrad_loss = self.run_minigrad()
            self.reference.zero_grad()
            reference_loss = self.reference.forward_backward(self.x, self.labels)
            assert_close(f"loss at step {step}", minigrad_loss, reference_loss)
            gradients = {name: param.grad.data for name, param in self.model.named_parameters()}
            atol = ATOL * largest_magnitude(self.reference.grads.values())
            for name, gradient in gradients.items():
                assert_close(f"gradient of {name} at step {step}", gradient, self.reference.grads[name], atol)
            self.reference_optimizer.step(gradients)
            reference_state = self.reference.state_dict()
            for name, value in self.model.state_dict().items():
                if name in reference_state:
                    assert_close(f"{name} after step {step}", value, reference_state[name])


class BatchNormPair:
    """Batch norm (training mode, composed from mean/var ops) forward, then backward from a fixed dy."""

    def __init__(self, batch: int, features: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.x, self.grad_y = (rng.standard_normal((batch, features)).astype(DTYPE) for _ in range(2))
        self.gamma, self.beta = (rng.uniform(0.5, 1.5, features).astype(DTYPE) for _ in range(2))
        self.running_mean, self.running_var = np.zeros(features, DTYPE), np.ones(features, DTYPE)
        self.norm = nn.BatchNorm1d(features)
        self.norm.load_state_dict({**self.norm.state_dict(), "weight": self.gamma, "bias": self.beta})
        self.inputs = mg.tensor(self.x, requires_grad=True)

    def run_minigrad(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self.inputs.grad = None
        self.norm.zero_grad()
        self.norm(self.inputs).backward(self.grad_y)
        return self.inputs.grad.data, self.norm.weight.grad.data, self.norm.bias.grad.data

    def run_reference(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return batch_norm_step(
            self.x, self.grad_y, self.gamma, self.beta, self.running_mean, self.running_var
        )

    def check(self) -> None:
        for name, actual, expected in zip(
            ("dx", "dgamma", "dbeta"), self.run_minigrad(), self.run_reference()
        ):
            assert_close(f"batch norm {name}", actual, expected, ATOL * largest_magnitude([expected]))


class ChainPair:
    """``y = y * 1.0001 + 0.0001``, ``ops / 2`` times on 16 values, then backward to the start."""

    scale, shift = 1.0001, 0.0001

    def __init__(self, ops: int, seed: int = 0) -> None:
        self.steps = ops // 2
        self.x = np.random.default_rng(seed).standard_normal(16).astype(DTYPE)

    def run_minigrad(self) -> tuple[np.ndarray, np.ndarray]:
        x = mg.tensor(self.x, requires_grad=True)
        y = x
        for _ in range(self.steps):
            y = y * self.scale + self.shift
        y.backward(np.ones_like(self.x))
        return y.data, x.grad.data

    def run_reference(self) -> tuple[np.ndarray, np.ndarray]:
        return chain_step(self.x, self.steps, self.scale, self.shift)

    def check(self) -> None:
        for name, actual, expected in zip(
            ("final values", "gradients"), self.run_minigrad(), self.run_reference()
        ):
            assert_close(f"chain {name}", actual, expected)


# ---- measuring ---------------------------------------------------------------------------------


@dataclass
class Result:
    """One row of the table: medians of both sides, their ratio, and the target."""

    workload: str
    unit: str
    minigrad: float
    reference: float
    target: float
    minigrad_samples: list[float] = field(default_factory=list)
    reference_samples: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.minigrad / self.reference

    @property
    def met(self) -> bool:
        return self.ratio <= self.target


def calls_per_sample(run: Callable[[], Any], min_seconds: float) -> int:
    """How many calls of ``run`` make one sample last ``min_seconds`` (runs it once to warm up)."""
    start = time.perf_counter()
    run()
    elapsed = time.perf_counter() - start
    return max(1, math.ceil(min_seconds / max(elapsed, 1e-9)))


def seconds_per_call(run: Callable[[], Any], calls: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for _ in range(calls):
        run()
    return (time.perf_counter() - start) / calls


def time_pair(pair: Pair, settings: Settings) -> tuple[list[float], list[float]]:
    """Per-call seconds of both sides, ``settings.rounds`` samples each, interleaved.

    Each round times both sides back to back, alternating which goes first, so a slow
    spell of a noisy machine falls on both.
    """
    sides = [pair.run_minigrad, pair.run_reference]
    calls = [calls_per_sample(run, settings.min_sample_seconds) for run in sides]
    samples: list[list[float]] = [[], []]
    for round_index in range(settings.rounds):
        order = (0, 1) if round_index % 2 == 0 else (1, 0)
        for side in order:
            samples[side].append(seconds_per_call(sides[side], calls[side]))
    return samples[0], samples[1]


def peak_memory_above_baseline(make_step: Callable[[], Callable[[], Any]], steps: int) -> float:
    """Bytes allocated at the peak of ``steps`` calls, above what was live before them.

    Tracing starts before ``make_step`` builds the model and optimizer, so every array
    that a later step frees was counted when it was made. One warm-up step creates
    Adam's state and the first gradients; the baseline is what is live after it.
    numpy reports its array buffers to tracemalloc, so this counts arrays and Python
    objects alike (but not the BLAS library's private buffers).
    """
    gc.collect()
    tracemalloc.start()
    try:
        step = make_step()
        step()
        gc.collect()
        baseline, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(steps):
            step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return float(peak - baseline)


# ---- the five workloads ----------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """A row of the table: what is measured, how to set it up, and minigrad's target ratio."""

    key: str
    label: str
    target: float
    make_pair: Callable[[], Pair]


def timed_workloads(settings: Settings) -> list[Workload]:
    """The four timed workloads of issue 7, at the sizes ``settings`` asks for."""
    return [
        Workload(
            "large_mlp",
            "training step, batch 256, MLP 784-1024-BN-ReLU-1024-BN-ReLU-10, Adam",
            1.10,
            lambda: MLPPair(LARGE_MLP, batch=256),
        ),
        Workload(
            "small_mlp",
            "training step, batch 64, MLP 64-128-BN-ReLU-128-BN-ReLU-10, Adam",
            1.5,
            lambda: MLPPair(SMALL_MLP, batch=64),
        ),
        Workload(
            "batch_norm",
            "batch-norm forward+backward alone, (256, 1024), composed from mean/var ops",
            1.5,
            lambda: BatchNormPair(batch=256, features=1024),
        ),
        Workload(
            "chain",
            f"{settings.chain_ops:,}-op chain (`y = y * 1.0001 + 0.0001` on 16 values), build + backward",
            6.0,
            lambda: ChainPair(settings.chain_ops),
        ),
    ]


def measure_time(workload: Workload, pair: Pair, settings: Settings) -> Result:
    minigrad_seconds, reference_seconds = time_pair(pair, settings)
    return Result(
        workload.label,
        "ms",
        1e3 * statistics.median(minigrad_seconds),
        1e3 * statistics.median(reference_seconds),
        workload.target,
        [1e3 * s for s in minigrad_seconds],
        [1e3 * s for s in reference_seconds],
    )


def measure_memory(settings: Settings) -> Result:
    """Peak memory above baseline over ``settings.memory_steps`` steps of the large MLP, per side.

    Each side gets a fresh :class:`MLPPair`, built while tracing; the side that is not
    stepped only sits in the baseline.
    """
    steps = settings.memory_steps
    minigrad_bytes = peak_memory_above_baseline(lambda: MLPPair(LARGE_MLP, batch=256).run_minigrad, steps)
    reference_bytes = peak_memory_above_baseline(lambda: MLPPair(LARGE_MLP, batch=256).run_reference, steps)
    megabytes = minigrad_bytes / 2**20, reference_bytes / 2**20
    label = f"peak memory above baseline over {steps} training steps of the large MLP"
    return Result(label, "MB", *megabytes, MEMORY_TARGET, [megabytes[0]], [megabytes[1]])


# ---- reporting ---------------------------------------------------------------------------------


def load_average() -> str:
    """The system's 1, 5 and 15 minute load averages: how busy the CPUs were with other work."""
    if not hasattr(os, "getloadavg"):
        return "unknown"
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())


def environment() -> dict[str, Any]:
    """What the numbers depend on: versions, BLAS, CPUs and thread settings."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas_summary = f"{blas['name']} {blas['version']}"
        blas_summary += f" ({blas['openblas configuration']})" if "openblas configuration" in blas else ""
    except (TypeError, KeyError):  # numpy < 1.26 has no mode="dicts"
        blas_summary = "unknown"
    threads = {
        name: os.environ[name]
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
        if name in os.environ
    }
    return {
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "numpy": np.__version__,
        "blas": blas_summary,
        "blas threads": ", ".join(f"{k}={v}" for k, v in threads.items()) or "library default",
        "cpus": os.cpu_count(),
        "usable cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": platform.platform(),
        "minigrad": mg.__version__,
        "load average at start": load_average(),
    }


def format_quantity(value: float, unit: str) -> str:
    """Three significant figures, without scientific notation: 0.123 ms, 12.3 ms, 1,234 ms."""
    decimals = max(0, 2 - math.floor(math.log10(abs(value)))) if value else 0
    return f"{value:,.{decimals}f} {unit}"


def table(results: list[Result], settings: Settings) -> str:
    """The results as a markdown table, with a heading saying how they were measured."""
    if settings.quick:
        heading = (
            f"### QUICK MODE: a smoke test ({settings.rounds} rounds, {settings.chain_ops:,}-op chain). "
            f"These numbers are NOT the benchmark; run without --quick for them."
        )
    else:
        heading = f"### minigrad vs hand-written numpy: medians of {settings.rounds} interleaved rounds"
    rows = [
        heading,
        "",
        "| workload | minigrad | numpy reference | ratio | target | met? |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    for result in results:
        rows.append(
            f"| {result.workload} | {format_quantity(result.minigrad, result.unit)} "
            f"| {format_quantity(result.reference, result.unit)} | {result.ratio:.2f}x "
            f"| <= {result.target:g}x | {'yes' if result.met else 'no'} |"
        )
    return "\n".join(rows)


def write_json(path: str, results: list[Result], settings: Settings, env: dict[str, Any]) -> None:
    rows = [{**asdict(result), "ratio": result.ratio, "met": result.met} for result in results]
    document = {
        "settings": asdict(settings),
        "environment": env,
        "correctness": "passed",
        "results": rows,
    }
    with open(path, "w") as file:
        json.dump(document, file, indent=2)


# ---- running -------------------------------------------------------------------------------------


def check_all(workloads: list[Workload]) -> dict[str, Pair]:
    """Set up every workload and check both sides agree; raise MismatchError if not."""
    pairs = {}
    for workload in workloads:
        pairs[workload.key] = workload.make_pair()
        pairs[workload.key].check()
        print(f"  same numbers: {workload.label}", flush=True)
    return pairs


def benchmark(workloads: list[Workload], settings: Settings, memory: bool = True) -> list[Result]:
    """Check that both sides agree on every workload, then time them, then measure memory."""
    print(f"Checking that minigrad and numpy compute the same numbers (rtol={RTOL}, atol={ATOL}):")
    pairs = check_all(workloads)
    results = []
    for workload in workloads:
        print(f"timing: {workload.label}", flush=True)
        results.append(measure_time(workload, pairs.pop(workload.key), settings))
    if memory:
        print("measuring memory", flush=True)
        results.append(measure_memory(settings))
    return results


def profile(workload: Workload, seconds: float = 3.0, top: int = 25) -> None:
    """Print cProfile's ``top`` functions by own time for minigrad's side of ``workload``."""
    pair = workload.make_pair()
    calls = calls_per_sample(pair.run_minigrad, seconds)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        pair.run_minigrad()
    profiler.disable()
    print(f"cProfile of minigrad, {calls} calls of: {workload.label}")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark minigrad against hand-written numpy.")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke test in under a minute (not the benchmark)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results, with every sample, to PATH")
    parser.add_argument(
        "--profile",
        metavar="WORKLOAD",
        choices=[workload.key for workload in timed_workloads(FULL)],
        help="instead of benchmarking, profile minigrad's side of one workload",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="WORKLOAD",
        choices=[workload.key for workload in timed_workloads(FULL)] + ["memory"],
        help="measure only these rows (e.g. --only batch_norm memory); all five by default",
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    workloads = timed_workloads(settings)
    if args.profile:
        profile(next(workload for workload in workloads if workload.key == args.profile))
        return 0

    env = environment()
    print("\n".join(f"{key}: {value}" for key, value in env.items()), end="\n\n")
    try:
        if args.only:
            workloads = [workload for workload in workloads if workload.key in args.only]
        results = benchmark(workloads, settings, memory=not args.only or "memory" in args.only)
    except MismatchError as mismatch:
        print(f"\nABORTED, nothing was timed: {mismatch}", file=sys.stderr)
        return 1
    env["load average at end"] = load_average()
    print("\n" + table(results, settings))
    start, end = env["load average at start"], env["load average at end"]
    print(f"\nload average (1, 5, 15 min): {start} at start, {end} at end")
    if args.json:
        write_json(args.json, results, settings, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
