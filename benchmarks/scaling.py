"""How minigrad's cost over hand-written numpy grows with batch size, width, depth and chain length.

Run from the repository root::

    python benchmarks/scaling.py          # the sweeps, a few minutes; writes the figure
    python benchmarks/scaling.py --quick  # a smoke test; writes no figure unless --plot is given

``run.py`` measures five fixed workloads. This script takes the training step of
``run.py`` (the same models, the same numpy reference, the same interleaved timing)
and varies one size at a time:

- the batch size, at width 256 (MLP 784-256-BN-ReLU-256-BN-ReLU-10);
- the width, at batch 256 (width 1024 is ``run.py``'s large MLP);
- the depth, as the number of Linear-BN-ReLU blocks at width 128 and batch 64 (two
  blocks is ``run.py``'s small MLP);

and the chain workload at 1,000, 10,000 and 100,000 ops, once as ``run.py`` times it
and once with Python's cyclic garbage collector switched off, to show how much of the
chain's cost is the collector walking the growing graph.

It prints a markdown table and draws the curves in ``docs/images/performance_scaling.png``.
The table also counts the page faults of each training step: memory that the
allocator handed back to the system and the next step had to fault in again, a cost
that comes and goes with what ran before in the process (``docs/performance.md``).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import resource  # Unix only: counts page faults
except ImportError:
    resource = None

from run import ChainPair, MLPPair, Settings, environment, load_average, time_pair

import minigrad.nn.functional as F
from minigrad.autograd import dependency_order

FIGURE = Path(__file__).resolve().parents[1] / "docs" / "images" / "performance_scaling.png"

# run.py's settings; chain_ops is the longest chain measured, and no memory is measured here.
FULL = Settings(rounds=9, min_sample_seconds=0.25, chain_ops=100_000, memory_steps=0, quick=False)
QUICK = Settings(rounds=3, min_sample_seconds=0.02, chain_ops=10_000, memory_steps=0, quick=True)

INPUT_FEATURES, CLASSES = 784, 10  # the batch and width sweeps use the large MLP's input and output
BATCH_SIZES, BATCH_SWEEP_WIDTH = (16, 64, 256, 1024), 256
WIDTHS, WIDTH_SWEEP_BATCH = (64, 256, 1024), 256
DEPTHS, DEPTH_SWEEP_WIDTH, DEPTH_SWEEP_BATCH = (1, 2, 4, 8), 128, 64
DEPTH_SWEEP_INPUT = 64  # as the small MLP, so two blocks is exactly run.py's small MLP
CHAIN_LENGTHS = (1_000, 10_000, 100_000)


def mlp_sizes(input_features: int, width: int, blocks: int) -> tuple[int, ...]:
    """Layer sizes of ``blocks`` Linear-BN-ReLU blocks of ``width``, then a Linear to 10 classes."""
    return (input_features, *[width] * blocks, CLASSES)


# ---- measuring -----------------------------------------------------------------------------------


@dataclass
class StepPoint:
    """One training step measured at one size: medians of both sides, and the graph's size."""

    sweep: str
    value: int  # the batch size, width or number of blocks
    sizes: tuple[int, ...]
    batch: int
    minigrad_ms: float
    reference_ms: float
    graph_nodes: int
    minigrad_page_faults: float | None  # per step; None where the OS does not count them
    reference_page_faults: float | None

    @property
    def ratio(self) -> float:
        return self.minigrad_ms / self.reference_ms

    @property
    def extra_us_per_node(self) -> float:
        """minigrad's time over numpy's, spread over the recorded ops of the forward graph."""
        return 1e3 * (self.minigrad_ms - self.reference_ms) / self.graph_nodes


@dataclass
class ChainPoint:
    """The chain workload at one length, with the garbage collector on and off."""

    ops: int
    minigrad_ms: float
    minigrad_no_gc_ms: float
    reference_ms: float
    gc_ms: float  # time spent inside the collector during one call of minigrad's side

    def per_op_us(self, milliseconds: float) -> float:
        return 1e3 * milliseconds / self.ops


def median_ms(samples: list[float]) -> float:
    return 1e3 * statistics.median(samples)


def graph_nodes(pair: MLPPair) -> int:
    """How many ops one forward pass of the pair's model and loss records (the graph backward walks)."""
    loss = F.cross_entropy(pair.model(pair.inputs), pair.labels)
    recorded = dependency_order([loss], lambda tensor: tensor.op.inputs if tensor.op else ())
    return sum(1 for tensor in recorded if tensor.op is not None)


def page_faults_per_call(run: Callable[[], Any], calls: int = 5) -> float | None:
    """Minor page faults per call of ``run``: memory the system had to map in (and zero) for it.

    Thousands per step mean the allocator gave memory back to the system at the end of
    one step and the next step had to fault it in again, page by page.
    """
    if resource is None:
        return None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        run()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


def measure_step(sweep: str, value: int, sizes: tuple[int, ...], batch: int, settings: Settings) -> StepPoint:
    pair = MLPPair(sizes, batch)
    pair.check()  # the same numbers on both sides, as in run.py, before timing
    minigrad_seconds, reference_seconds = time_pair(pair, settings)
    return StepPoint(
        sweep,
        value,
        sizes,
        batch,
        median_ms(minigrad_seconds),
        median_ms(reference_seconds),
        graph_nodes(pair),
        page_faults_per_call(pair.run_minigrad),
        page_faults_per_call(pair.run_reference),
    )


def step_sweeps(settings: Settings) -> list[StepPoint]:
    """The training step as batch size, width and depth grow, one at a time."""
    plan = [
        *[("batch", batch, mlp_sizes(INPUT_FEATURES, BATCH_SWEEP_WIDTH, 2), batch) for batch in BATCH_SIZES],
        *[("width", width, mlp_sizes(INPUT_FEATURES, width, 2), WIDTH_SWEEP_BATCH) for width in WIDTHS],
        *[
            ("depth", blocks, mlp_sizes(DEPTH_SWEEP_INPUT, DEPTH_SWEEP_WIDTH, blocks), DEPTH_SWEEP_BATCH)
            for blocks in DEPTHS
        ],
    ]
    points = []
    for sweep, value, sizes, batch in plan:
        print(f"timing: {sweep} sweep, MLP {'-'.join(map(str, sizes))}, batch {batch}", flush=True)
        points.append(measure_step(sweep, value, sizes, batch, settings))
    return points


def seconds_in_gc(run: Callable[[], Any]) -> float:
    """Wall time spent inside the cyclic garbage collector during one call of ``run``."""
    spent, started = [0.0], [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]

    gc.collect()
    gc.callbacks.append(on_gc)
    try:
        run()
    finally:
        gc.callbacks.remove(on_gc)
    return spent[0]


def measure_chain(ops: int, settings: Settings) -> ChainPoint:
    print(f"timing: {ops:,}-op chain, garbage collector on, then off", flush=True)
    pair = ChainPair(ops)
    pair.check()
    minigrad_seconds, reference_seconds = time_pair(pair, settings)
    gc.disable()
    try:
        minigrad_no_gc_seconds, _ = time_pair(pair, settings)
    finally:
        gc.enable()
    return ChainPoint(
        ops,
        median_ms(minigrad_seconds),
        median_ms(minigrad_no_gc_seconds),
        median_ms(reference_seconds),
        1e3 * seconds_in_gc(pair.run_minigrad),
    )


# ---- reporting -----------------------------------------------------------------------------------


def format_faults(faults: float | None) -> str:
    return "n/a" if faults is None else f"{faults:,.0f}"


def step_table(points: list[StepPoint]) -> str:
    rows = [
        "| sweep | MLP | batch | minigrad | numpy reference | ratio | graph nodes | extra µs per node "
        "| page faults per step, minigrad / numpy |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for point in points:
        rows.append(
            f"| {point.sweep} | {'-'.join(map(str, point.sizes))} | {point.batch} "
            f"| {point.minigrad_ms:.2f} ms | {point.reference_ms:.2f} ms | {point.ratio:.2f}x "
            f"| {point.graph_nodes} | {point.extra_us_per_node:.1f} "
            f"| {format_faults(point.minigrad_page_faults)} / {format_faults(point.reference_page_faults)} |"
        )
    return "\n".join(rows)


def chain_table(points: list[ChainPoint]) -> str:
    rows = [
        "| chain ops | minigrad, µs/op | of which in the GC | minigrad, GC off, µs/op "
        "| numpy, µs/op | ratio | ratio, GC off |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for point in points:
        rows.append(
            f"| {point.ops:,} | {point.per_op_us(point.minigrad_ms):.2f} "
            f"| {point.per_op_us(point.gc_ms):.2f} | {point.per_op_us(point.minigrad_no_gc_ms):.2f} "
            f"| {point.per_op_us(point.reference_ms):.2f} | {point.minigrad_ms / point.reference_ms:.1f}x "
            f"| {point.minigrad_no_gc_ms / point.reference_ms:.1f}x |"
        )
    return "\n".join(rows)


def plot(steps: list[StepPoint], chain: list[ChainPoint], path: Path, title: str) -> None:
    """Four panels: time per step against batch size, width and depth; time per op against chain length."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator

    figure, axes = plt.subplots(2, 2, figsize=(10, 8), layout="constrained")
    panels = [
        ("batch", "batch size", f"width {BATCH_SWEEP_WIDTH}, 2 blocks, 784 inputs"),
        ("width", "width (features per hidden layer)", f"batch {WIDTH_SWEEP_BATCH}, 2 blocks, 784 inputs"),
        ("depth", "Linear-BN-ReLU blocks", f"width {DEPTH_SWEEP_WIDTH}, batch {DEPTH_SWEEP_BATCH}"),
    ]
    for ax, (sweep, xlabel, fixed) in zip(axes.flat, panels):
        points = [point for point in steps if point.sweep == sweep]
        x = [point.value for point in points]
        ax.plot(x, [p.minigrad_ms for p in points], "o-", color="tab:blue", label="minigrad")
        ax.plot(x, [p.reference_ms for p in points], "s--", color="tab:gray", label="numpy by hand")
        for point in points:
            ax.annotate(
                f"{point.ratio:.2f}x",
                (point.value, point.minigrad_ms),
                textcoords="offset points",
                xytext=(0, 8),
                ha="center",
                fontsize=9,
                color="tab:blue",
            )
        ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="ms per training step")
        ax.set_title(f"Training step vs {sweep}\n({fixed})", fontsize=10)
        ax.set_xticks(x, [str(v) for v in x])
        ax.minorticks_off()
        ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.margins(x=0.08, y=0.15)
        ax.legend(fontsize=9, loc="upper left")

    ax = axes.flat[3]
    ops = [point.ops for point in chain]
    ax.plot(ops, [p.per_op_us(p.minigrad_ms) for p in chain], "o-", color="tab:blue", label="minigrad")
    ax.plot(
        ops,
        [p.per_op_us(p.minigrad_no_gc_ms) for p in chain],
        "^-",
        color="tab:green",
        label="minigrad, gc.disable()",
    )
    ax.plot(ops, [p.per_op_us(p.reference_ms) for p in chain], "s--", color="tab:gray", label="numpy by hand")
    for point in chain:
        ax.annotate(
            f"{point.minigrad_ms / point.reference_ms:.1f}x",
            (point.ops, point.per_op_us(point.minigrad_ms)),
            textcoords="offset points",
            xytext=(0, 8),
            ha="center",
            fontsize=9,
            color="tab:blue",
        )
    highest = max(point.per_op_us(point.minigrad_ms) for point in chain)
    ax.set(
        xscale="log",
        xlabel="ops in the chain",
        ylabel="µs per op (build + backward)",
        ylim=(0, 1.2 * highest),
    )
    ax.set_title("Chain y = y * 1.0001 + 0.0001\n(16 values)", fontsize=10)
    ax.set_xticks(ops, [f"{n:,}" for n in ops])
    ax.minorticks_off()
    ax.margins(x=0.1)
    ax.legend(fontsize=9, loc="lower right", bbox_to_anchor=(1, 0.12))

    figure.suptitle(title + "   (labels: minigrad / numpy)", fontsize=11)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="How minigrad's cost over numpy grows with size.")
    parser.add_argument("--quick", action="store_true", help="a smoke test (not the measurement)")
    parser.add_argument(
        "--plot",
        metavar="PATH",
        type=Path,
        help="where to draw the figure (default: docs/images/performance_scaling.png; none with --quick)",
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    figure_path = args.plot or (None if args.quick else FIGURE)

    env = environment()
    print("\n".join(f"{key}: {value}" for key, value in env.items()), end="\n\n")
    steps = step_sweeps(settings)
    chain = [measure_chain(ops, settings) for ops in CHAIN_LENGTHS if ops <= settings.chain_ops]
    end_load = load_average()

    if settings.quick:
        print(f"\n### QUICK MODE ({settings.rounds} rounds): a smoke test, NOT the measurement")
    else:
        print(f"\n### Scaling: medians of {settings.rounds} interleaved rounds")
    print("\n" + step_table(steps) + "\n\n" + chain_table(chain))
    print(f"\nload average (1, 5, 15 min): {env['load average at start']} at start, {end_load} at end")
    if figure_path is not None:
        title = "minigrad vs hand-written numpy" + (
            " (QUICK MODE, not the measurement)" if args.quick else ""
        )
        plot(steps, chain, figure_path, title)
        print(f"figure: {figure_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
