"""An LSTM keeps a running sum in its memory; a plain RNN of the same size does not learn to.

The task: read 20 random digits one at a time and, after each one, say the sum so far
modulo 10: ``3 9 4 7 -> 3 2 6 3``. Only the first answer can be read off the input;
every later one needs the sum of all the digits before it, carried from step to step.
The sequences are drawn at random (seeded), so the data is endless and nothing is
downloaded; 1,000 of them are held out to measure the accuracy (with 10^20 possible
sequences, a training batch meets one of them with a chance of about 1 in 10^12).

Two models, the same but for their recurrent layer, learn from the same batches:

- each digit becomes a one-hot vector of 10 features;
- ``nn.LSTM(10, 32, batch_first=True)``, or ``nn.RNN(10, 32, batch_first=True)``
  (tanh), runs over the sequence, one step per digit;
- ``nn.Linear(32, 10)`` reads 10 logits out of the hidden state at every step. The
  loss is ``F.cross_entropy`` over all steps.

Backpropagation through time: run over a sequence, a recurrent layer is one cell
applied again and again, step t reading step t - 1's state, every step with the same
weights. Written out step by step (unrolled) it is a deep feed-forward graph, one
layer per step, and its gradient is the chain rule through that graph, from the last
step back to the first: nothing more than ``backward()`` on the unrolled graph. Two
things set it apart. The gradient reaching step t has passed through every later step,
so it can shrink (or grow) step by step. And the same weights are used at every step,
so their gradient is the sum of one contribution per step.

That first point is why the gates matter. A plain RNN's state passes through
``tanh(h @ W_hh^T + ...)`` at every step, and so does the gradient going back: after a
few steps of it, little is left to say how a digit read early should have changed the
weights. An LSTM keeps a second state, the cell ``c``, that goes from step to step
through ``c' = f * c + i * g`` only, a product with the forget gate ``f`` and a sum:
where ``f`` stays near 1, memory and gradient pass on unchanged. Here the RNN only
learns to repeat the digit it reads, right at the first step and nowhere else, while
the LSTM gets every step right.

Both train with Adam (learning rate 0.01, annealed to 0 along a cosine) on batches of
64 fresh sequences. It prints the accuracy along the way and at the end, and one
sequence with both models' answers, and writes into ``--out``:

- ``lstm_states.png``: the trained LSTM's forget gate and cell state, all 32 units, at
  each step of one held-out sequence;
- ``lstm_graph`` and ``lstm_backward`` (.svg, .png): the trained LSTM's loss on 2
  sequences of 3 digits, drawn by ``minigrad.viz`` with each step collapsed into one
  ``lstm_cell`` box. Forward, the three boxes form a chain, each taking the state of
  the one before and the same four weights. Backward is that chain run in reverse,
  from the last step to the first: backpropagation through time. Each weight's
  gradient collects the three steps' contributions in ``add`` nodes ("sum of uses").

Run ``python examples/lstm_sum.py`` (about fifteen seconds), or add ``--quick`` for a
short smoke run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
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
LENGTH, DIGITS = 20, 10  # sequences of 20 digits, each 0 to 9; sums modulo 10
HIDDEN = 32
BATCH_SIZE = 64
HELD_OUT = 1000
LEARNING_RATE = 0.01
FULL_STEPS, QUICK_STEPS = 1000, 30
REPORTS = 5  # progress lines along training
DRAWN_STEPS = 3  # the length of the sequences in the drawn graphs


class RunningSum(nn.Module):
    """Digits in, 10 logits per step out: one-hot digits, a recurrent layer, a linear read-out."""

    def __init__(self, recurrent: type[nn.LSTM] | type[nn.RNN]) -> None:
        super().__init__()
        self.recurrent = recurrent(DIGITS, HIDDEN, batch_first=True)
        self.read_out = nn.Linear(HIDDEN, DIGITS)

    def forward(self, sequences: np.ndarray) -> mg.Tensor:
        """(N, L) digits in, (N, L, DIGITS) logits out."""
        hidden, _ = self.recurrent(one_hot(sequences))
        return self.read_out(hidden)


def one_hot(sequences: np.ndarray) -> mg.Tensor:
    """(N, L) digits as (N, L, DIGITS) one-hot vectors, float32 as the weights are.

    A float64 input would not fail: it would make every step, and the loss, float64.
    """
    return mg.tensor(np.eye(DIGITS, dtype=np.float32)[sequences])


def running_sums(sequences: np.ndarray) -> np.ndarray:
    """The targets: the sum of the digits so far at each step, modulo 10."""
    return np.cumsum(sequences, axis=1) % DIGITS


def loss_on(model: RunningSum, sequences: np.ndarray) -> mg.Tensor:
    """Cross-entropy of the running sums, each step a separate 10-way classification."""
    logits = model(sequences)
    return F.cross_entropy(logits.reshape(-1, DIGITS), running_sums(sequences).reshape(-1))


@mg.no_grad()
def predict(model: RunningSum, sequences: np.ndarray) -> np.ndarray:
    """The most likely running sum at each step, (N, L)."""
    return model(sequences).data.argmax(axis=-1)


def accuracy(model: RunningSum, sequences: np.ndarray) -> float:
    """The share of steps at which the model gives the right running sum."""
    return float((predict(model, sequences) == running_sums(sequences)).mean())


def train(model: RunningSum, held_out: np.ndarray, steps: int, rng: np.random.Generator) -> None:
    """Adam on fresh batches, the rate annealed along a cosine; ``REPORTS`` progress lines."""
    optimizer = optim.Adam(model.parameters(), lr=LEARNING_RATE)
    schedule = lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    report_every = max(1, steps // REPORTS)
    print(f"{'step':>6}{'loss':>8}{'accuracy':>10}")
    for step in range(1, steps + 1):
        loss = loss_on(model, rng.integers(0, DIGITS, (BATCH_SIZE, LENGTH)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % report_every == 0 or step == steps:
            print(f"{step:>6}{loss.item():>8.3f}{accuracy(model, held_out):>10.1%}")


def show(digits: np.ndarray) -> str:
    """Digits as text: ``5 1 4``."""
    return " ".join(map(str, digits))


def print_example(models: dict[str, RunningSum], sequence: np.ndarray) -> None:
    """One sequence, its running sums, and each model's answers, a ``^`` under each wrong one."""
    target = running_sums(sequence[np.newaxis])[0]
    print(f"  {'digits':<16}{show(sequence)}\n  {'running sum':<16}{show(target)}")
    for name, model in models.items():
        predicted = predict(model, sequence[np.newaxis])[0]
        wrong = " ".join("^" if miss else " " for miss in predicted != target)
        print(f"  {name + ' predicted':<16}{show(predicted)}\n  {'':<16}{wrong}".rstrip())


@mg.no_grad()
def lstm_states(lstm: nn.LSTM, sequence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The forget gate and the cell state at each step of one sequence, (LENGTH, HIDDEN) each.

    ``nn.LSTM`` returns only the last cell state, so this runs its cell by hand, one
    step at a time, with its weights: ``F.lstm_cell`` for the states, and the first
    lines of that cell again for the gates (PyTorch's order: input, forget, cell, output).
    """
    w_ih, w_hh, b_ih, b_hh = lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0
    inputs = one_hot(sequence[np.newaxis])
    h = c = mg.zeros(1, HIDDEN)
    forget_gates, cells = [], []
    for step in range(len(sequence)):
        x = inputs[:, step]
        gates = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
        forget_gates.append(gates.chunk(4, axis=-1)[1].sigmoid().data[0])
        h, c = F.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
        cells.append(c.data[0])
    return np.array(forget_gates), np.array(cells)


def plot_states(lstm: nn.LSTM, sequence: np.ndarray, path: Path) -> Path:
    """Two heatmaps, units by steps: the forget gate, then the cell state."""
    forget_gates, cells = lstm_states(lstm, sequence)
    steps = [f"{digit}\n{total}" for digit, total in zip(sequence, running_sums(sequence[np.newaxis])[0])]
    figure, axes = plt.subplots(2, 1, figsize=(9, 8.5), constrained_layout=True)
    panels = [
        (forget_gates, "forget gate f (1 keeps the memory, 0 wipes it)", "Greens", 0, 1),
        (cells, "cell state c (the memory)", "RdBu_r", -np.abs(cells).max(), np.abs(cells).max()),
    ]
    for axis, (values, title, colours, low, high) in zip(axes, panels):
        image = axis.imshow(values.T, cmap=colours, vmin=low, vmax=high, aspect="auto")
        axis.set_title(title)
        axis.set_xticks(range(len(sequence)), steps)
        axis.set_xlabel("digit read, running sum")
        axis.set_ylabel("unit")
        figure.colorbar(image, ax=axis)
    figure.suptitle(f"the trained LSTM reading {show(sequence)}")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def draw_unrolled(model: RunningSum, sequences: np.ndarray, out: Path) -> list[Path]:
    """The LSTM's loss on short sequences, forward and backward, each step one ``lstm_cell`` box.

    Frames count from the outside: the model (depth 0), its ``nn.LSTM`` (1), and inside
    it one ``lstm_cell`` per step (2), so ``depth=2`` draws each step as one box.
    """
    loss = loss_on(model, sequences)
    loss.name = "loss"
    return [
        # grads=False: the leaves' .grad is the last training step's, not this loss's.
        *viz.render(viz.draw_graph(loss, depth=2, grads=False), out / "lstm_graph"),
        *viz.render(viz.draw_backward(loss, depth=2), out / "lstm_backward"),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Train an LSTM and an RNN, print their accuracies and one sequence, write the states and graphs."""
    started = time.perf_counter()
    arguments = command_line(__doc__.split("\n")[0], "lstm_sum").parse_args(argv)
    # Small matrices: one BLAS thread is about as fast as two, and never waits for a busy core.
    threadpool_limits(limits=1, user_api="blas")
    steps = QUICK_STEPS if arguments.quick else FULL_STEPS
    rng = np.random.default_rng(SEED)
    held_out = rng.integers(0, DIGITS, (HELD_OUT, LENGTH))
    mg.manual_seed(SEED)
    models = {"LSTM": RunningSum(nn.LSTM), "RNN": RunningSum(nn.RNN)}
    print(
        f"Running sums modulo {DIGITS} of {LENGTH} random digits, {HIDDEN} hidden units: "
        + ", ".join(
            f"{name} {sum(parameter.size for parameter in model.parameters()):,} weights"
            for name, model in models.items()
        )
        + f".\nAdam, learning rate {LEARNING_RATE} along a cosine, batches of {BATCH_SIZE} fresh "
        f"sequences, {steps:,} steps; seed {SEED}. Accuracy on {HELD_OUT:,} held-out sequences."
    )
    for name, model in models.items():
        print(f"\n{name}")
        # Both see the same batches.
        train(model, held_out, steps, np.random.default_rng(SEED + 1))
    # The first answer is the digit just read; a model that gets only that one right
    # and guesses the rest scores 1/20 + 19/20 * 1/10.
    baseline = 1 / LENGTH + (1 - 1 / LENGTH) / DIGITS
    print(f"\nheld-out accuracy per step (the first step right, the others guessed: {baseline:.1%}):")
    for name, model in models.items():
        print(f"  {name:<5}{accuracy(model, held_out):.1%}")
    print()
    print_example(models, held_out[0])

    arguments.out.mkdir(parents=True, exist_ok=True)
    lstm_model = models["LSTM"]
    written = [plot_states(lstm_model.recurrent, held_out[0], arguments.out / "lstm_states.png")]
    written += draw_unrolled(lstm_model, held_out[:2, :DRAWN_STEPS], arguments.out)
    print("\nwrote:\n" + "\n".join(f"  {path}" for path in written))
    print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
