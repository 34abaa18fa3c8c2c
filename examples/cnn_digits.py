"""A small convolutional network on handwritten digits, beside a batch-norm MLP.

scikit-learn's 1,797 8x8 digits, seen as images of one channel, (1, 8, 8). Two
networks with about the same number of weights learn them from the same batches:

- **CNN**: Conv2d(1, 8, 3, padding=1) -> BatchNorm2d -> ReLU -> MaxPool2d(2) ->
  Conv2d(8, 16, 3, padding=1) -> BatchNorm2d -> ReLU -> MaxPool2d(2) -> Flatten ->
  Linear(64, 10): 1,946 weights;
- **MLP**: Linear(64, 30) -> BatchNorm1d -> ReLU -> Linear(30, 10): 2,320 weights.

Both train with Adam (learning rate 0.01) on batches of 60, starting from PyTorch's
initial weights. A convolution reuses each 3x3 filter at every position of the image,
so with fewer weights than the MLP it learns shapes that may appear anywhere.

``conv2d`` is not a primitive: it lays every 3x3 window of the image out as a column
(the primitive ``unfold``, im2col) and multiplies the columns by the filters, one
``matmul``. Its gradient is the chain rule through those, and the backward of
``unfold`` is ``fold``, which adds each window's gradient back onto the pixels it read.

It prints the comparison table, and writes into ``--out``:

- ``filters.png``: the 8 filters the first convolution learned, and what each makes
  of one test digit;
- ``conv2d_graph`` and ``conv2d_backward`` (.svg, .png): one ``conv2d`` call drawn by
  ``minigrad.viz``, forward and backward, every primitive shown.

Run ``python examples/cnn_digits.py`` (about ten seconds), or add ``--quick``
for a short smoke run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
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

SEED = 0
BATCH_SIZE = 60
LEARNING_RATE = 0.01
FULL_STEPS, QUICK_STEPS = 1500, 40
CNN, MLP = "CNN", "MLP"


def cnn() -> nn.Sequential:
    """Two 3x3 convolution blocks, each halving the image, then a linear layer: 8x8 -> 4x4 -> 2x2."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 2 * 2, 10),
    )


def mlp() -> nn.Sequential:
    """One hidden layer of 30 units with batch norm, on the 64 pixels as a vector."""
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 30), nn.BatchNorm1d(30), nn.ReLU(), nn.Linear(30, 10))


def as_images(rows: np.ndarray) -> mg.Tensor:
    """Rows of 64 pixels as a batch of (1, 8, 8) images."""
    return mg.tensor(rows.reshape(-1, 1, 8, 8))


def weight_count(network: nn.Module) -> int:
    return sum(param.size for param in network.parameters())


@mg.no_grad()
def test_accuracy(network: nn.Sequential, data: Digits) -> float:
    """The share of the test digits classified right, in eval mode (batch norm's running averages)."""
    network.eval()
    logits = network(as_images(data.test_images))
    network.train()
    return float(np.mean(logits.data.argmax(axis=1) == data.test_labels))


def train(network: nn.Sequential, data: Digits, steps: int, label: str) -> list[tuple[int, float]]:
    """Adam on batches of 60 for ``steps`` steps; the test accuracy at 10 points along the way."""
    optimizer = optim.Adam(network.parameters(), lr=LEARNING_RATE)
    batches = minibatches(len(data.train_labels), BATCH_SIZE, np.random.default_rng(SEED))
    measure_every = max(1, steps // 10)
    accuracies = []
    for step in tqdm(range(1, steps + 1), desc=label, unit="step", mininterval=0.5):
        batch = next(batches)
        loss = F.cross_entropy(network(as_images(data.train_images[batch])), data.train_labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % measure_every == 0:
            accuracies.append((step, test_accuracy(network, data)))
    return accuracies


def print_table(networks: dict[str, nn.Sequential], accuracies: dict[str, list[tuple[int, float]]]) -> None:
    """Test accuracy along training, one column per network."""
    print(f"\n{'steps':>6} " + " ".join(f"{label:>8}" for label in networks))
    for row in zip(*accuracies.values()):
        print(f"{row[0][0]:>6} " + " ".join(f"{accuracy:>8.1%}" for _, accuracy in row))
    print("weights" + "".join(f"{weight_count(network):>9,}" for network in networks.values()))
    print("(test accuracy on the 500 held-out digits, in eval mode, along training)")


@mg.no_grad()
def plot_filters(network: nn.Sequential, data: Digits, path: Path) -> Path:
    """The first convolution's 8 filters (top) and what each makes of one test digit (bottom)."""
    filters = network[0].weight.data[:, 0]  # (8, 3, 3)
    network.eval()
    digit = as_images(data.test_images[:1])
    feature_maps = network[:3](digit).data[0]  # after conv, batch norm and ReLU: (8, 8, 8)
    network.train()
    figure, axes = plt.subplots(2, 9, figsize=(13, 3.4), constrained_layout=True)
    axes[0, 0].imshow(digit.data[0, 0], cmap="gray_r")
    axes[0, 0].set_title(f"digit {data.test_labels[0]}")
    axes[1, 0].axis("off")
    limit = np.abs(filters).max()
    for index in range(8):
        axes[0, index + 1].imshow(filters[index], cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[0, index + 1].set_title(f"filter {index}")
        axes[1, index + 1].imshow(feature_maps[index], cmap="viridis")
    for axis in axes.flat:
        axis.set_xticks([])
        axis.set_yticks([])
    figure.suptitle(
        "first convolution: learned 3x3 filters (top), their ReLU'd response to the digit (bottom)"
    )
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def draw_conv2d(network: nn.Sequential, data: Digits, out: Path) -> list[Path]:
    """One conv2d call, every primitive shown: unfold (im2col), then one matmul with the filters.

    Drawn on two digits and the trained first layer, so the shapes stay readable:
    (2, 1, 8, 8) images unfold into (2, 9, 64) columns, one per output pixel. The
    images are made to require grad, as the input of every layer after the first
    does: otherwise unfold has nothing to pass a gradient to, is not recorded, and its
    columns are a constant of the graph.
    """
    layer = network[0]
    images = as_images(data.test_images[:2]).requires_grad_()
    images.name = "images"
    weight = layer.weight.detach().requires_grad_()
    weight.name = "weight"
    bias = layer.bias.detach().requires_grad_()
    bias.name = "bias"
    feature_maps = F.conv2d(images, weight, bias, padding=1)
    feature_maps.name = "feature maps"
    return [
        *viz.render(viz.draw_graph(feature_maps), out / "conv2d_graph"),
        *viz.render(viz.draw_backward(feature_maps), out / "conv2d_backward"),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Train both networks on the same batches, print the table, write the filters and graphs."""
    started = time.perf_counter()
    arguments = command_line(__doc__.split("\n")[0], "cnn_digits").parse_args(argv)
    # Small matrices: one BLAS thread is about as fast as two, and never waits for a busy core.
    threadpool_limits(limits=1, user_api="blas")
    steps = QUICK_STEPS if arguments.quick else FULL_STEPS
    data = load_digit_split(SEED)
    print(
        f"A CNN and an MLP on scikit-learn's digits as 1x8x8 images: {len(data.train_labels):,} to "
        f"train on, {len(data.test_labels)} to test.\nAdam, learning rate {LEARNING_RATE}, batches of "
        f"{BATCH_SIZE}, {steps:,} steps; seed {SEED}."
    )
    networks, accuracies = {}, {}
    for label, make in ((CNN, cnn), (MLP, mlp)):
        mg.manual_seed(SEED)
        networks[label] = make()
        accuracies[label] = train(networks[label], data, steps, label)
    print_table(networks, accuracies)

    arguments.out.mkdir(parents=True, exist_ok=True)
    written = [plot_filters(networks[CNN], data, arguments.out / "filters.png")]
    written += draw_conv2d(networks[CNN], data, arguments.out)
    print("\nwrote:\n" + "\n".join(f"  {path}" for path in written))
    print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
