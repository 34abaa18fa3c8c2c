"""Batch norm in training and in eval mode: the running averages, and evaluating wrongly.

In training, batch norm normalizes with the statistics of the batch in hand and keeps
running averages of them, an exponentially weighted moving average (EWMA):

    running = (1 - momentum) * running + momentum * batch_statistic

(an EWMA "with beta" has ``beta = 1 - momentum``). In eval mode it normalizes with
those running averages instead, so a single example can be classified on its own.

1. The running averages converge: a fresh ``nn.BatchNorm1d(64)`` in training mode is
   fed batches of 60 digit images; its ``running_mean`` and ``running_var`` of one
   pixel are followed against the true mean and variance of that pixel over the
   training set, for momentum 0.1, 0.01 and None (a cumulative average).
2. What goes wrong when a trained network is evaluated in training mode: one digit
   at a time is an error, and two at a time gives nonsense, because each channel of
   a batch of two normalizes to -1 and +1 (unless its two values are within about
   sqrt(eps) of each other). It also changes the running
   averages: the network is no longer the one that was trained.

Writes ``running_averages.png`` into ``--out``; ``--quick`` runs fewer steps.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window

import matplotlib.pyplot as plt
import numpy as np
from _common import Digits, command_line, load_digit_split, minibatches

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim

SEED = 0
BATCH_SIZE = 60
PIXEL = 36  # row 4, column 4 of the 8x8 image: near the centre, where the digits differ
MOMENTA = (0.1, 0.01, None)
SHOWN_STEPS = (1, 10, 50, 200, 400)


def describe(momentum: float | None) -> str:
    """``0.1 (beta 0.9)``: a momentum and the EWMA weight it means; None is a cumulative average."""
    return "None (cumulative)" if momentum is None else f"{momentum} (beta {1 - momentum:g})"


@mg.no_grad()
def follow_running_averages(images: np.ndarray, steps: int, momentum: float | None) -> np.ndarray:
    """Feed ``steps`` batches to a fresh BatchNorm1d in training mode.

    Returns an array of shape (steps + 1, 2): the running mean and running variance
    of ``PIXEL`` before the first batch and after each one.
    """
    layer = nn.BatchNorm1d(64, momentum=momentum)
    batches = minibatches(len(images), BATCH_SIZE, np.random.default_rng(SEED))
    history = [(layer.running_mean.data[PIXEL], layer.running_var.data[PIXEL])]
    for _ in range(steps):
        layer(mg.tensor(images[next(batches)]))
        history.append((layer.running_mean.data[PIXEL], layer.running_var.data[PIXEL]))
    return np.array(history)


def print_running_averages(
    histories: dict[float | None, np.ndarray], true_mean: float, true_var: float
) -> None:
    """A table of the running averages after a few numbers of steps, against the truth."""
    print(f"pixel {PIXEL} over the training digits: mean {true_mean:.3f}, variance {true_var:.3f}")
    shown = [step for step in SHOWN_STEPS if step < len(next(iter(histories.values())))]
    for column, statistic in enumerate(("running_mean", "running_var")):
        print(f"{statistic + ' after':<28}" + "".join(f"{step:>8,}" for step in shown) + "  steps")
        for momentum, history in histories.items():
            print(
                f"  momentum {describe(momentum):<18}"
                + "".join(f"{history[step, column]:>8.3f}" for step in shown)
            )


def plot_running_averages(
    histories: dict[float | None, np.ndarray], true_mean: float, true_var: float, path: Path
) -> Path:
    """Two panels, running_mean and running_var against steps, with the true values dashed."""
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    for column, (statistic, truth) in enumerate((("running_mean", true_mean), ("running_var", true_var))):
        for momentum, history in histories.items():
            axes[column].plot(history[:, column], label=f"momentum {describe(momentum)}")
        axes[column].axhline(truth, color="black", linestyle="--", linewidth=1, label="true value")
        axes[column].set(title=f"{statistic} of pixel {PIXEL}", xlabel="training batches of 60")
    axes[1].legend(loc="upper right")
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def train_network(data: Digits, steps: int) -> nn.Sequential:
    """A small batch-norm network trained on the digits with SGD."""
    mg.manual_seed(SEED)
    network = nn.Sequential(nn.Linear(64, 100), nn.BatchNorm1d(100), nn.Sigmoid(), nn.Linear(100, 10))
    optimizer = optim.SGD(network.parameters(), lr=0.5)
    batches = minibatches(len(data.train_labels), BATCH_SIZE, np.random.default_rng(SEED))
    for _ in range(steps):
        batch = next(batches)
        loss = F.cross_entropy(network(mg.tensor(data.train_images[batch])), data.train_labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return network


@mg.no_grad()
def accuracy(network: nn.Module, data: Digits, batch_size: int) -> float:
    """Test accuracy, feeding the test digits ``batch_size`` at a time (in the current mode)."""
    predictions = [
        network(mg.tensor(data.test_images[start : start + batch_size])).data.argmax(axis=1)
        for start in range(0, len(data.test_labels), batch_size)
    ]
    return float(np.mean(np.concatenate(predictions) == data.test_labels))


@mg.no_grad()
def predictions_with_partners(network: nn.Module, data: Digits, index: int) -> np.ndarray:
    """Predictions for test digit ``index`` in the current mode, paired with each other test digit."""
    partners = np.delete(np.arange(len(data.test_labels)), index)
    return np.array(
        [network(mg.tensor(data.test_images[[index, partner]])).data[0].argmax() for partner in partners]
    )


def evaluate_in_train_mode(network: nn.Sequential, data: Digits) -> None:
    """Show what goes wrong when a trained network is evaluated in training mode."""
    batch_norm = network[1]
    network.eval()
    print(f"eval mode, one digit at a time:   test accuracy {accuracy(network, data, batch_size=1):.1%}")
    network.train()
    try:
        network(mg.tensor(data.test_images[:1]))
    except ValueError as error:
        print(f"train mode, one digit:  ValueError: {error}")

    tracked_before = int(batch_norm.num_batches_tracked.item())
    print(f"train mode, two digits at a time: test accuracy {accuracy(network, data, batch_size=2):.1%}")
    predicted, counts = np.unique(predictions_with_partners(network, data, index=0), return_counts=True)
    print(
        f"  test digit 0 is a {data.test_labels[0]}; paired with each of the other {counts.sum()} "
        f"test digits, it is predicted as: "
        + ", ".join(f"{p} ({c} times)" for p, c in zip(predicted, counts))
    )
    with mg.no_grad():
        x_hat = F.batch_norm(network[0](mg.tensor(data.test_images[:2])), None, None, training=True)
    print(
        "  why: with two values per channel, x_hat is close to -1 and +1 (d / sqrt(d**2 + eps) for "
        "deviations of +-d); the first channels:\n"
        + textwrap.indent(np.array2string(x_hat.data[:, :6], precision=3), "    ")
    )
    tracked = int(batch_norm.num_batches_tracked.item()) - tracked_before
    network.eval()
    print(
        f"  and it changed the network: those {tracked} batches went into the running averages;\n"
        f"eval mode afterwards: test accuracy {accuracy(network, data, batch_size=1):.1%}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Follow the running averages, then evaluate a trained network the wrong way."""
    arguments = command_line(__doc__.split("\n")[0], "train_vs_eval").parse_args(argv)
    data = load_digit_split(SEED)

    print("1. The running averages converge to the data's statistics.\n")
    steps = 100 if arguments.quick else 400
    histories = {
        momentum: follow_running_averages(data.train_images, steps, momentum) for momentum in MOMENTA
    }
    true_mean = float(data.train_images[:, PIXEL].mean())
    true_var = float(data.train_images[:, PIXEL].var(ddof=1))
    print_running_averages(histories, true_mean, true_var)

    print("\n2. Evaluating a trained network in training mode.\n")
    evaluate_in_train_mode(train_network(data, steps), data)

    arguments.out.mkdir(parents=True, exist_ok=True)
    path = plot_running_averages(histories, true_mean, true_var, arguments.out / "running_averages.png")
    print(f"\nwrote:\n  {path}")


if __name__ == "__main__":
    main()
