"""A tiny transformer learns to sort: attention picks, for each place, the digit that belongs there.

The task: a sequence of 6 digits in, the same digits sorted out, one per place:
``8 6 5 2 3 0 -> 0 2 3 5 6 8``. The sequences are drawn at random (seeded), so the
data is endless and nothing is downloaded; 2,000 of them are held out, never trained
on, to measure the accuracy.

The model is a small encoder, as in "Attention Is All You Need" but with the layer
norms first (pre-norm, the arrangement most transformers use now):

- each digit becomes a vector of 32 features (``nn.Embedding(10, 32)``), and so does
  each place (``nn.Embedding(6, 32)``, learned): their sum says "digit d at place i";
- two blocks of: LayerNorm -> ``nn.MultiheadAttention`` (2 heads) -> add back to the
  input (a residual), then LayerNorm -> MLP (32 -> 64 -> 32) -> add back;
- a last LayerNorm and ``nn.Linear(32, 10)``: 10 logits at each place, the scores of
  the digits that could go there. The loss is ``F.cross_entropy`` over all places.

Attention is how one place reads the others. Each place asks a question (its
query), every place offers a key and a value, and each place receives the values
weighted by how well their keys answer its question (softmax of query . key). To
sort, place i must find the i-th smallest digit of the input, wherever it stands: a
job for attention, because a query can match keys by content, not by position.

It trains with Adam (learning rate 0.003, annealed to 0 along a cosine) on batches of
128 fresh sequences, prints the accuracy along the way and at the end, per digit and
per whole sequence, and writes into ``--out``:

- ``attention.png``: each head's attention weights on one held-out sequence, one
  heatmap per block and head: which input digit each output place looks at;
- ``attention_graph`` and ``attention_backward`` (.svg, .png): one call of
  ``F.scaled_dot_product_attention`` drawn by ``minigrad.viz``, forward and backward,
  every primitive shown: the first head of the last block on that sequence.

Run ``python examples/attention_sort.py`` (about five seconds), or add ``--quick``
for a short smoke run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window

import matplotlib.pyplot as plt
import numpy as np
from _common import command_line
from threadpoolctl import threadpool_limits

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim, viz
from minigrad.optim import lr_scheduler

SEED = 0
LENGTH, DIGITS = 6, 10  # sequences of 6 digits, each 0 to 9
FEATURES, HEADS, BLOCKS = 32, 2, 2
BATCH_SIZE = 128
HELD_OUT = 2000
LEARNING_RATE = 0.003
FULL_STEPS, QUICK_STEPS = 600, 30
REPORTS = 5  # progress lines along training


class Block(nn.Module):
    """One transformer block: attention mixes information across places, an MLP works on each place.

    Each half adds its result to its input (a residual), so a block refines what the
    places already hold instead of replacing it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.attention_norm = nn.LayerNorm(FEATURES)
        self.attention = nn.MultiheadAttention(FEATURES, HEADS, batch_first=True)
        self.mlp_norm = nn.LayerNorm(FEATURES)
        hidden = 2 * FEATURES
        self.mlp = nn.Sequential(nn.Linear(FEATURES, hidden), nn.ReLU(), nn.Linear(hidden, FEATURES))

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        """(N, LENGTH, FEATURES) in, the same shape out."""
        normalized = self.attention_norm(x)
        # Self-attention: queries, keys and values all come from the same places. The
        # weights come back per head (not averaged) for attention_maps' hook to keep.
        attended, _ = self.attention(normalized, normalized, normalized, average_attn_weights=False)
        x = x + attended
        return x + self.mlp(self.mlp_norm(x))


class Sorter(nn.Module):
    """Digits in, 10 logits per place out: embeddings, ``BLOCKS`` blocks, a linear read-out."""

    def __init__(self) -> None:
        super().__init__()
        self.digit_embedding = nn.Embedding(DIGITS, FEATURES)
        # Attention itself ignores order (it is a weighted sum over places), so each
        # place gets a learned vector of its own: without it, place 0 could not know
        # that it must hold the smallest digit.
        self.place_embedding = nn.Embedding(LENGTH, FEATURES)
        self.blocks = nn.Sequential(*(Block() for _ in range(BLOCKS)))
        # Pre-norm blocks leave the residual sum unnormalized: normalize it once at the end.
        self.final_norm = nn.LayerNorm(FEATURES)
        self.read_out = nn.Linear(FEATURES, DIGITS)

    def forward(self, sequences: np.ndarray) -> mg.Tensor:
        """(N, LENGTH) digits in, (N, LENGTH, DIGITS) logits out."""
        x = self.digit_embedding(sequences) + self.place_embedding(np.arange(LENGTH))
        return self.read_out(self.final_norm(self.blocks(x)))


def held_out_sequences(rng: np.random.Generator) -> np.ndarray:
    """``HELD_OUT`` distinct random sequences, (HELD_OUT, LENGTH), for measuring accuracy only."""
    sequences = np.unique(rng.integers(0, DIGITS, (2 * HELD_OUT, LENGTH)), axis=0)
    return rng.permutation(sequences)[:HELD_OUT]


def as_numbers(sequences: np.ndarray) -> np.ndarray:
    """Each sequence read as one number (``0 4 2`` is 240), to look sequences up with ``np.isin``."""
    return sequences @ DIGITS ** np.arange(LENGTH)


def training_batch(rng: np.random.Generator, held_out: np.ndarray) -> np.ndarray:
    """``BATCH_SIZE`` fresh random sequences, none of them held out (those are drawn again)."""
    sequences = rng.integers(0, DIGITS, (BATCH_SIZE, LENGTH))
    while (taken := np.isin(as_numbers(sequences), as_numbers(held_out))).any():
        sequences[taken] = rng.integers(0, DIGITS, (taken.sum(), LENGTH))
    return sequences


def loss_on(model: Sorter, sequences: np.ndarray) -> mg.Tensor:
    """Cross-entropy of the sorted sequences, each place a separate 10-way classification."""
    logits = model(sequences)
    return F.cross_entropy(logits.reshape(-1, DIGITS), np.sort(sequences, axis=1).reshape(-1))


@mg.no_grad()
def predict(model: Sorter, sequences: np.ndarray) -> np.ndarray:
    """The most likely digit at each place, (N, LENGTH)."""
    model.eval()
    predicted = model(sequences).data.argmax(axis=-1)
    model.train()
    return predicted


def accuracy(model: Sorter, sequences: np.ndarray) -> tuple[float, float]:
    """The share of places holding the right digit, and of sequences sorted right throughout."""
    correct = predict(model, sequences) == np.sort(sequences, axis=1)
    return float(correct.mean()), float(correct.all(axis=1).mean())


def train(model: Sorter, held_out: np.ndarray, steps: int, rng: np.random.Generator) -> None:
    """Adam on fresh batches, the rate annealed along a cosine; ``REPORTS`` progress lines."""
    optimizer = optim.Adam(model.parameters(), lr=LEARNING_RATE)
    # A steady rate of 0.003 learns fast but now and then knocks a trained model off
    # course; lowering it to 0 by the end lets the last steps settle.
    schedule = lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    report_every = max(1, steps // REPORTS)
    print(f"\n{'step':>6}{'loss':>8}{'digits':>9}{'sequences':>11}")
    for step in range(1, steps + 1):
        loss = loss_on(model, training_batch(rng, held_out))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % report_every == 0 or step == steps:
            digits, sequences = accuracy(model, held_out)
            print(f"{step:>6}{loss.item():>8.3f}{digits:>9.1%}{sequences:>11.1%}")
    print(f"(loss on the step's batch; accuracy on the {len(held_out):,} held-out sequences)")


def show(digits: np.ndarray) -> str:
    """Digits as text: ``5 1 4``."""
    return " ".join(map(str, digits))


def print_examples(model: Sorter, sequences: np.ndarray) -> None:
    """Each sequence beside what the model makes of it and the right answer."""
    for sequence, predicted in zip(sequences, predict(model, sequences)):
        target = np.sort(sequence)
        mark = "right" if np.array_equal(predicted, target) else "wrong"
        print(f"  {show(sequence)}  ->  predicted {show(predicted)}  target {show(target)}  {mark}")


@mg.no_grad()
def attention_maps(model: Sorter, sequence: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each block, the input its attention read and the weights it gave, on one sequence.

    The input is (LENGTH, FEATURES), the block's normalized residual stream; the
    weights are (HEADS, LENGTH, LENGTH), row i saying how much place i takes from
    each place. A forward hook on each attention module catches its input and output
    as the model runs on the one sequence; the hooks come off at the end of the ``with``.
    """
    seen = []

    def keep(module: nn.Module, args: tuple, output: tuple) -> None:
        seen.append((args[0].data[0], output[1].data[0]))

    model.eval()
    with ExitStack() as hooks:
        for block in model.blocks:
            hooks.enter_context(block.attention.register_forward_hook(keep))
        model(sequence[np.newaxis])
    model.train()
    return seen


def plot_attention(
    maps: list[tuple[np.ndarray, np.ndarray]], sequence: np.ndarray, predicted: np.ndarray, path: Path
) -> Path:
    """One heatmap per block and head: rows the output places, columns the input digits."""
    figure, axes = plt.subplots(
        BLOCKS, HEADS, figsize=(3.2 * HEADS + 1, 3 * BLOCKS + 0.6), squeeze=False, constrained_layout=True
    )
    places = [f"place {place}: {digit}" for place, digit in enumerate(predicted)]
    for block, (_, weights) in enumerate(maps):
        for head in range(HEADS):
            axis = axes[block, head]
            image = axis.imshow(weights[head], cmap="Blues", vmin=0, vmax=1)
            axis.set_title(f"block {block + 1}, head {head + 1}")
            axis.set_xticks(range(LENGTH), [str(digit) for digit in sequence])
            axis.set_yticks(range(LENGTH), places)
            axis.set_xlabel("input digit (key)")
        axes[block, 0].set_ylabel("output place: predicted digit")
    figure.colorbar(image, ax=axes, shrink=0.6, label="attention weight")
    figure.suptitle(f"sorting {show(sequence)}: where each output place looks (rows add up to 1)")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def draw_attention(model: Sorter, last_input: np.ndarray, out: Path) -> list[Path]:
    """One ``F.scaled_dot_product_attention`` call, every primitive shown, forward and backward.

    The call is the first head of the last block on the plotted sequence: its queries,
    keys and values, (LENGTH, head_dim) each, are the block's normalized input
    ``last_input`` through the head's share of the projection ``in_proj_weight`` (the
    query, key and value weights stacked, each cut into heads by columns), exactly
    what ``nn.MultiheadAttention`` computes, so the weights inside are the last
    block's first map in ``attention.png``. They are made leaves that require grad,
    so the backward graph has somewhere to send the gradient.
    """
    attention = model.blocks[-1].attention
    projected = F.linear(mg.tensor(last_input), attention.in_proj_weight, attention.in_proj_bias).data
    head = projected.reshape(LENGTH, 3, HEADS, attention.head_dim)[:, :, 0]  # (LENGTH, q/k/v, head_dim)
    queries, keys, values = (
        mg.tensor(head[:, which], requires_grad=True, name=name)
        for which, name in enumerate(("queries", "keys", "values"))
    )
    attended = F.scaled_dot_product_attention(queries, keys, values)
    attended.name = "attended"
    return [
        *viz.render(viz.draw_graph(attended), out / "attention_graph"),
        *viz.render(viz.draw_backward(attended), out / "attention_backward"),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Train the sorter, print its accuracy and a few sequences, write the attention maps and graphs."""
    started = time.perf_counter()
    arguments = command_line(__doc__.split("\n")[0], "attention_sort").parse_args(argv)
    # Small matrices: one BLAS thread is about as fast as two, and never waits for a busy core.
    threadpool_limits(limits=1, user_api="blas")
    steps = QUICK_STEPS if arguments.quick else FULL_STEPS
    rng = np.random.default_rng(SEED)
    held_out = held_out_sequences(rng)
    mg.manual_seed(SEED)
    model = Sorter()
    weights = sum(parameter.size for parameter in model.parameters())
    print(
        f"Sorting {LENGTH} random digits with a transformer of {BLOCKS} blocks, {HEADS} heads, "
        f"{FEATURES} features: {weights:,} weights.\nAdam, learning rate {LEARNING_RATE} along a "
        f"cosine, batches of {BATCH_SIZE} fresh sequences, {steps:,} steps; seed {SEED}."
    )
    train(model, held_out, steps, rng)
    digits, sequences = accuracy(model, held_out)
    print(
        f"\nheld-out accuracy: {digits:.1%} of digits in the right place, {sequences:.1%} of "
        f"sequences sorted right ({round(sequences * HELD_OUT):,} of {HELD_OUT:,})"
    )
    print_examples(model, held_out[:2])

    arguments.out.mkdir(parents=True, exist_ok=True)
    sequence = held_out[0]
    maps = attention_maps(model, sequence)
    predicted = predict(model, sequence[np.newaxis])[0]
    written = [plot_attention(maps, sequence, predicted, arguments.out / "attention.png")]
    written += draw_attention(model, maps[-1][0], arguments.out)
    print("\nwrote:\n" + "\n".join(f"  {path}" for path in written))
    print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
