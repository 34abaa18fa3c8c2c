"""Batch normalization on handwritten digits: Ioffe & Szegedy (2015), Figure 1, redone.

The paper's MNIST experiment, on scikit-learn's 1,797 8x8 digits: three fully
connected hidden layers of 100 sigmoid units and a 10-way softmax, trained with
cross-entropy on mini-batches of 60, once as it is and once with batch normalization
before each sigmoid. Both networks start from the same weights and see the same
batches in the same order.

The paper leaves these open; the choices made here:

- inputs: pixel values / 16, so in [0, 1]; 1,297 digits to train on, 500 held out;
- initial weights: Gaussian with standard deviation 0.1 (about Glorot's scale for
  100-unit layers), biases 0. The batch-norm network keeps its Linear biases (which
  batch norm cancels, as the paper notes) so that both start from identical weights;
- optimizer: plain SGD with learning rate 2.0 for both networks, about the best for
  the network without batch norm (of 0.5 to 8: 0.5 and 1 are slower, 3 and 4 about
  as fast, 8 does not learn at all).

It prints the comparison table, shows eval mode at work, and writes into ``--out``:

- ``figure1.png``: (a) test accuracy against training steps; (b), (c) the 15th, 50th
  and 85th percentiles of the input to one sigmoid of the last hidden layer, over
  the 500 test digits, without and with batch norm;
- ``forward_graph`` and ``backward_graph`` (.svg, .png): one training step of the
  trained batch-norm network, drawn by ``minigrad.viz``.

Run ``python examples/batchnorm_digits.py`` (under a minute on two cores), or add
``--quick`` for a short smoke run. ``--out docs/images/digits`` refreshes the docs' copy.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window

import matplotlib.pyplot as plt
import numpy as np
from _common import Digits, command_line, load_digit_split, minibatches
from threadpoolctl import threadpool_limits
from tqdm import tqdm

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim, viz
from minigrad.nn import init

SEED = 0
HIDDEN_UNITS = 100
BATCH_SIZE = 60
LEARNING_RATE = 2.0
WEIGHT_SCALE = 0.1
TARGET_ACCURACY = 0.95
PERCENTILES = (15, 50, 85)
WATCHED_UNIT = 0  # which sigmoid of the last hidden layer Figure 1 (b), (c) follows
WITHOUT_BN, WITH_BN = "without batch norm", "with batch norm"
FULL_RUN = {"steps": 3000, "eval_every": 20}
QUICK_RUN = {"steps": 200, "eval_every": 10}


@dataclass
class History:
    """What was measured on the test digits every ``eval_every`` training steps."""

    steps: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    percentiles: list[np.ndarray] = field(default_factory=list)  # one row of PERCENTILES per step

    def steps_to_reach(self, target: float) -> int | None:
        """The first measured step with test accuracy of at least ``target`` (None: never)."""
        return next((step for step, value in zip(self.steps, self.accuracy) if value >= target), None)


def paper_network(batch_norm: bool, weight_scale: float) -> nn.Sequential:
    """64 inputs, 3 hidden layers of 100 sigmoids (batch norm before each, if asked), 10 outputs.

    The weights are drawn from N(0, weight_scale**2) after ``mg.manual_seed(SEED)``;
    batch norm draws no random numbers, so both variants get the same weights.
    """
    mg.manual_seed(SEED)
    layers: list[nn.Module] = []
    for in_features in (64, HIDDEN_UNITS, HIDDEN_UNITS):
        layers.append(nn.Linear(in_features, HIDDEN_UNITS))
        if batch_norm:
            layers.append(nn.BatchNorm1d(HIDDEN_UNITS))
        layers.append(nn.Sigmoid())
    layers.append(nn.Linear(HIDDEN_UNITS, 10))
    network = nn.Sequential(*layers)
    for layer in network:
        if isinstance(layer, nn.Linear):
            init.normal_(layer.weight, std=weight_scale)
            init.zeros_(layer.bias)
    return network


@mg.no_grad()
def evaluate(network: nn.Sequential, data: Digits, history: History, step: int) -> None:
    """Record the test accuracy and the percentiles of the watched sigmoid's input.

    The network runs in eval mode, layer by layer: everything before the last Sigmoid
    gives that sigmoid's input, and the last two layers (Sigmoid, Linear) the logits.
    """
    network.eval()
    sigmoid_input = network[:-2](mg.tensor(data.test_images))
    logits = network[-2:](sigmoid_input)
    network.train()
    history.steps.append(step)
    history.accuracy.append(float(np.mean(logits.data.argmax(axis=1) == data.test_labels)))
    history.percentiles.append(np.percentile(sigmoid_input.data[:, WATCHED_UNIT], PERCENTILES))


def train(
    network: nn.Sequential, data: Digits, steps: int, eval_every: int, learning_rate: float, label: str
) -> History:
    """SGD on mini-batches of 60 for ``steps`` steps, with a progress bar.

    Parameters
    ----------
    network : nn.Sequential
        A network from :func:`paper_network`, trained in place.
    data : Digits
        The training digits to learn from and the test digits to measure on.
    steps : int
        How many mini-batches (SGD steps) to train on.
    eval_every : int
        Measure on the test digits every this many steps (and before the first).
    learning_rate : float
        SGD's learning rate.
    label : str
        The progress bar's name.

    Returns
    -------
    History
        The test accuracy and the watched sigmoid's input percentiles over training.
    """
    optimizer = optim.SGD(network.parameters(), lr=learning_rate)
    batches = minibatches(len(data.train_labels), BATCH_SIZE, np.random.default_rng(SEED))
    history = History()
    evaluate(network, data, history, step=0)
    progress = tqdm(range(1, steps + 1), desc=label, unit="step", mininterval=0.5)
    for step in progress:
        batch = next(batches)
        loss = F.cross_entropy(network(mg.tensor(data.train_images[batch])), data.train_labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % eval_every == 0:
            evaluate(network, data, history, step)
            progress.set_postfix(test_accuracy=f"{history.accuracy[-1]:.1%}", refresh=False)
    return history


def print_table(histories: dict[str, History], eval_every: int) -> None:
    """Final test accuracy and steps to the target accuracy, one row per network."""
    reach = f"steps to {TARGET_ACCURACY:.0%}"
    print(f"\n{'network':<22}{'test accuracy':>15}{reach:>15}")
    for label, history in histories.items():
        steps = history.steps_to_reach(TARGET_ACCURACY)
        shown = "not reached" if steps is None else f"{steps:,}"
        print(f"{label:<22}{history.accuracy[-1]:>15.1%}{shown:>15}")
    print(f"(test accuracy after the last step, on 500 held-out digits; measured every {eval_every} steps)")
    without_bn, with_bn = (
        histories[label].steps_to_reach(TARGET_ACCURACY) for label in (WITHOUT_BN, WITH_BN)
    )
    if without_bn and with_bn:
        print(f"batch norm reached {TARGET_ACCURACY:.0%} in {without_bn / with_bn:.1f} times fewer steps")


def plot_figure1(without_bn: History, with_bn: History, path: Path) -> Path:
    """The paper's Figure 1: (a) test accuracy; (b), (c) percentiles of a sigmoid's input."""
    figure, axes = plt.subplots(1, 3, figsize=(14, 4), constrained_layout=True)
    axes[0].plot(without_bn.steps, without_bn.accuracy, color="tab:gray", label=WITHOUT_BN)
    axes[0].plot(with_bn.steps, with_bn.accuracy, color="tab:blue", label=WITH_BN)
    axes[0].axhline(TARGET_ACCURACY, color="black", linewidth=0.6, linestyle=":")
    axes[0].set(title="(a) test accuracy", xlabel="training steps", ylim=(0, 1.01))
    axes[0].legend(loc="lower right")
    for axis, history, title in (
        (axes[1], without_bn, f"(b) {WITHOUT_BN}"),
        (axes[2], with_bn, f"(c) {WITH_BN}"),
    ):
        percentiles = np.array(history.percentiles)
        for column, percentile in enumerate(PERCENTILES):
            axis.plot(history.steps, percentiles[:, column], label=f"{percentile}th percentile")
        axis.set(title=title, xlabel="training steps", ylabel="input to a sigmoid of hidden layer 3")
    axes[2].sharey(axes[1])
    axes[2].legend(title="over the 500 test digits", loc="lower right")
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


@mg.no_grad()
def classify_one_at_a_time(network: nn.Sequential, data: Digits) -> None:
    """Eval mode: each test digit alone, normalized with the running averages, as in a batch."""
    network.eval()
    images = mg.tensor(data.test_images)
    batch_logits = network(images).data
    single_logits = np.concatenate([network(images[i : i + 1]).data for i in range(len(images))])
    batch_predictions, single_predictions = batch_logits.argmax(axis=1), single_logits.argmax(axis=1)
    agree = int(np.sum(single_predictions == batch_predictions))
    print(
        f"\neval mode: the batch-norm network classified the {len(images)} test digits one at a time "
        f"with its running averages;\n{agree} of {len(images)} predictions equal those of one batch "
        f"(largest logit difference {np.abs(single_logits - batch_logits).max():.1e})."
    )
    print("first digits:  label " + " ".join(map(str, data.test_labels[:16])))
    print("           predicted " + " ".join(map(str, single_predictions[:16])))


def draw_graphs(network: nn.Sequential, data: Digits, out: Path) -> list[Path]:
    """Draw one training step of the trained batch-norm network: its forward and backward graphs.

    A forward pass in training mode updates the running averages, so it runs on a
    copy. ``depth=2`` opens each layer's box and keeps the ``linear`` and ``batch_norm``
    inside it closed.
    """
    copy = paper_network(batch_norm=True, weight_scale=WEIGHT_SCALE)
    copy.load_state_dict(network.state_dict())
    images = mg.tensor(data.train_images[:BATCH_SIZE], name="images")
    loss = F.cross_entropy(copy(images), data.train_labels[:BATCH_SIZE])
    loss.name = "loss"
    return [
        *viz.render(viz.draw_graph(loss, depth=2), out / "forward_graph"),
        *viz.render(viz.draw_backward(loss, depth=2), out / "backward_graph"),
    ]


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line: ``--out``, ``--quick``, and the two choices the paper leaves open."""
    parser = command_line(__doc__.split("\n")[0], "batchnorm_digits")
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE, help="SGD's learning rate")
    parser.add_argument("--weight-scale", type=float, default=WEIGHT_SCALE, help="initial weights' std")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Train both networks, print the table, show eval mode, write the figure and graphs."""
    started = time.perf_counter()
    arguments = parse_arguments(argv)
    # The matrices here are small: one BLAS thread is about as fast as two, and does
    # not stall waiting for a core that another program is using.
    threadpool_limits(limits=1, user_api="blas")
    run = QUICK_RUN if arguments.quick else FULL_RUN
    data = load_digit_split(SEED)
    print(
        f"Ioffe & Szegedy (2015), Figure 1, on scikit-learn's digits: {len(data.train_labels):,} to "
        f"train on, {len(data.test_labels)} to test.\nNetwork 64-100-100-100-10 with sigmoids; "
        f"SGD, learning rate {arguments.learning_rate}, batches of {BATCH_SIZE}, "
        f"{run['steps']:,} steps; initial weights N(0, {arguments.weight_scale}^2); seed {SEED}.\n"
    )
    histories, networks = {}, {}
    for label, batch_norm in ((WITHOUT_BN, False), (WITH_BN, True)):
        networks[label] = paper_network(batch_norm, arguments.weight_scale)
        histories[label] = train(
            networks[label], data, run["steps"], run["eval_every"], arguments.learning_rate, label
        )
    print_table(histories, run["eval_every"])
    classify_one_at_a_time(networks[WITH_BN], data)

    arguments.out.mkdir(parents=True, exist_ok=True)
    written = [plot_figure1(histories[WITHOUT_BN], histories[WITH_BN], arguments.out / "figure1.png")]
    written += draw_graphs(networks[WITH_BN], data, arguments.out)
    print("\nwrote:\n" + "\n".join(f"  {path}" for path in written))
    print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
