"""A convolutional autoencoder squeezes each 8x8 digit into 2 numbers, and digits cluster by label.

An autoencoder learns without labels: it is trained to give back its input through a
narrow middle, the code. Here the code has 2 numbers, so the network must find the two
that say the most about a digit's 64 pixels; the labels are used only afterwards, to
colour the codes and to see whether digits of one kind land together.

- **encoder**: Conv2d(1, 16, 3, stride=2, padding=1) -> ReLU -> Conv2d(16, 32, 3,
  stride=2, padding=1) -> ReLU -> Flatten -> Linear(128, 2): 8x8 -> 4x4 -> 2x2 -> 2 numbers;
- **decoder**, its mirror: Linear(2, 128) -> ReLU -> Unflatten(1, (32, 2, 2)) ->
  ConvTranspose2d(32, 16, 4, stride=2, padding=1) -> ReLU -> ConvTranspose2d(16, 1, 4,
  stride=2, padding=1) -> Sigmoid: 2x2 -> 4x4 -> 8x8, pixels between 0 and 1.

A stride-2 Conv2d halves an image; a stride-2 ConvTranspose2d, its adjoint, doubles
one: each input pixel stamps a copy of the 4x4 kernel, scaled by its value, onto the
output, the copies 2 pixels apart, their overlaps added. That is conv2d's backward
(with respect to its input) run forward, and its own backward is a conv2d. (The other
common way to grow an image, ``nn.Upsample(scale_factor=2)`` then a Conv2d, repeats
pixels and learns nothing in the growing.)

The data go through ``minigrad.utils.data`` as in PyTorch: the 1,297 training digits of
the usual split (``load_digit_split``) become a ``TensorDataset``, ``random_split``
holds 200 of them out for validation, and a ``DataLoader`` serves the rest in batches
of 64, shuffled anew each epoch; ``mg.manual_seed`` fixes the split, the shuffles and
the initial weights. Adam (learning rate 0.005) minimises the mean squared error
between each image and its reconstruction. The 500 test digits are touched only at the
end, against two baselines: the mean training image for every digit, and PCA with 2
components, the best that any *linear* code of 2 numbers can do on the training digits.
After 100 epochs the autoencoder's error is about two thirds of PCA's, and a test
digit's code lies nearest the centre of its own digit's codes about 3 times in 4
(PCA's, 3 in 5), though no label was used to train it.

It prints the errors along training and at the end, how well a digit's 2 numbers alone
tell its label, and writes into ``--out``:

- ``reconstructions.png``: one test digit of each kind, with its autoencoder and PCA
  reconstructions;
- ``codes.png``: the test digits' codes, coloured by label, beside what the decoder
  makes of every point of that plane;
- ``conv_transpose2d_graph`` and ``conv_transpose2d_backward`` (.svg, .png): the
  decoder's last ``conv_transpose2d`` call drawn by ``minigrad.viz``, forward and
  backward, every primitive shown.

Run ``python examples/autoencoder_digits.py`` (about ten seconds), or add ``--quick``
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
from _common import Digits, command_line, load_digit_split
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim, viz
from minigrad.utils.data import DataLoader, Subset, TensorDataset, random_split

SEED = 0
CODE_SIZE = 2
VALIDATION_SIZE = 200
BATCH_SIZE = 64
LEARNING_RATE = 0.005
FULL_EPOCHS, QUICK_EPOCHS = 100, 3
REPORTS = 5  # progress lines along training
GRID = 12  # the decoded plane of codes.png is GRID x GRID digits


class Autoencoder(nn.Module):
    """8x8 digit -> CODE_SIZE numbers -> 8x8 digit; ``encoder`` and ``decoder`` can be called on their own."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1),  # 8x8 -> 4x4
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),  # 4x4 -> 2x2
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(32 * 2 * 2, CODE_SIZE),
        )
        self.decoder = nn.Sequential(
            nn.Linear(CODE_SIZE, 32 * 2 * 2),
            nn.ReLU(),
            nn.Unflatten(1, (32, 2, 2)),
            # kernel 4, stride 2, padding 1 doubles the size exactly: (2 - 1) * 2 - 2 + 4 = 4
            nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1),  # 2x2 -> 4x4
            nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1),  # 4x4 -> 8x8
            nn.Sigmoid(),  # the pixels are between 0 and 1
        )

    def forward(self, images: mg.Tensor) -> mg.Tensor:
        return self.decoder(self.encoder(images))


def as_images(rows: np.ndarray) -> mg.Tensor:
    """Rows of 64 pixels as a batch of (1, 8, 8) images."""
    return mg.tensor(rows.reshape(-1, 1, 8, 8))


@mg.no_grad()
def reconstruction_error(model: Autoencoder, loader: DataLoader) -> float:
    """The mean squared error per pixel over every image the loader serves."""
    total, pixels = 0.0, 0
    for images, _ in loader:
        total += F.mse_loss(model(images), images, reduction="sum").item()
        pixels += images.size
    return total / pixels


def train(model: Autoencoder, train_set: Subset, validation_set: Subset, epochs: int) -> None:
    """Adam on shuffled batches; the train and validation errors after ``REPORTS`` of the epochs."""
    loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True)
    # Measuring needs no shuffling, and one batch holds all the images.
    train_all = DataLoader(train_set, batch_size=len(train_set))
    validation_all = DataLoader(validation_set, batch_size=len(validation_set))
    optimizer = optim.Adam(model.parameters(), lr=LEARNING_RATE)
    report_every = max(1, epochs // REPORTS)
    print(f"{'epoch':>6}{'train':>10}{'validation':>12}")
    for epoch in range(1, epochs + 1):
        for images, _ in loader:  # the labels are not used: the image is its own target
            loss = F.mse_loss(model(images), images)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if epoch % report_every == 0 or epoch == epochs:
            train_error = reconstruction_error(model, train_all)
            validation_error = reconstruction_error(model, validation_all)
            print(f"{epoch:>6}{train_error:>10.4f}{validation_error:>12.4f}")
    print("(mean squared error per pixel, pixels from 0 to 1)")


def fit_pca(data: Digits) -> PCA:
    """PCA on the training digits: the CODE_SIZE directions, around the mean image, along which they vary most."""
    return PCA(n_components=CODE_SIZE).fit(data.train_images)


@mg.no_grad()
def encode(model: Autoencoder, rows: np.ndarray) -> np.ndarray:
    """The autoencoder's codes of rows of 64 pixels, (N, CODE_SIZE)."""
    return model.encoder(as_images(rows)).data


@mg.no_grad()
def decode(model: Autoencoder, codes: np.ndarray) -> np.ndarray:
    """The decoder's images of codes, (N, 8, 8)."""
    return model.decoder(mg.tensor(codes)).data[:, 0]


def nearest_centre_accuracy(train_codes: np.ndarray, test_codes: np.ndarray, data: Digits) -> float:
    """How often a test digit's code lies nearest the centre (mean) of its own digit's training codes.

    How well the codes cluster by label: 10% is chance. Neither code saw a label.
    """
    centres = np.stack([train_codes[data.train_labels == digit].mean(axis=0) for digit in range(10)])
    distances = np.linalg.norm(test_codes[:, np.newaxis] - centres, axis=-1)  # (N, 10)
    return float(np.mean(distances.argmin(axis=1) == data.test_labels))


def print_results(model: Autoencoder, pca: PCA, data: Digits) -> None:
    """The test errors against the two baselines, and how well each code tells the digits apart."""
    test_set = TensorDataset(as_images(data.test_images), data.test_labels)
    errors = {
        "the mean training image, whatever the digit": np.mean(
            (data.test_images - data.train_images.mean(axis=0)) ** 2
        ),
        f"PCA, {CODE_SIZE} numbers (the best linear code)": np.mean(
            (data.test_images - pca.inverse_transform(pca.transform(data.test_images))) ** 2
        ),
        f"the autoencoder, {CODE_SIZE} numbers": reconstruction_error(
            model, DataLoader(test_set, batch_size=len(test_set))
        ),
    }
    print(f"\nreconstruction error on the {len(test_set)} test digits (mean squared error per pixel):")
    for label, error in errors.items():
        print(f"  {label:<46}{error:.4f}")
    accuracies = {
        "PCA": nearest_centre_accuracy(
            pca.transform(data.train_images), pca.transform(data.test_images), data
        ),
        "autoencoder": nearest_centre_accuracy(
            encode(model, data.train_images), encode(model, data.test_images), data
        ),
    }
    print(f"\ntest digits whose {CODE_SIZE}-number code lies nearest their own digit's centre (chance: 10%):")
    for label, accuracy in accuracies.items():
        print(f"  {label + ' codes':<18}{accuracy:.1%}")


def one_of_each(data: Digits) -> np.ndarray:
    """The index of the first test image of each digit, 0 to 9."""
    return np.array([np.flatnonzero(data.test_labels == digit)[0] for digit in range(10)])


def plot_reconstructions(model: Autoencoder, pca: PCA, data: Digits, path: Path) -> Path:
    """One test digit of each kind (top), the autoencoder's reconstruction, PCA's (bottom)."""
    originals = data.test_images[one_of_each(data)]
    rows = {
        "test digit": originals.reshape(-1, 8, 8),
        f"autoencoder\n({CODE_SIZE} numbers)": decode(model, encode(model, originals)),
        f"PCA\n({CODE_SIZE} numbers)": pca.inverse_transform(pca.transform(originals)).reshape(-1, 8, 8),
    }
    figure, axes = plt.subplots(len(rows), 10, figsize=(11, 3.9), constrained_layout=True)
    for row, (label, images) in zip(axes, rows.items()):
        row[0].set_ylabel(label)
        for axis, image in zip(row, images):
            axis.imshow(image, cmap="gray_r", vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
    figure.suptitle(f"held-out digits through a code of {CODE_SIZE} numbers")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def plot_codes(model: Autoencoder, data: Digits, path: Path) -> Path:
    """The test digits' codes coloured by label (left); the decoder's image of each point of that plane (right).

    The right panel decodes a GRID x GRID lattice of codes spanning the left panel's
    axes, each image drawn centred on its code.
    """
    codes = encode(model, data.test_images)
    low, high = codes.min(axis=0), codes.max(axis=0)
    margin = (high - low) * 0.05
    low, high = low - margin, high + margin
    # cell centres, the top row (highest second number) first, as an image is drawn
    first = low[0] + (np.arange(GRID) + 0.5) * (high[0] - low[0]) / GRID
    second = high[1] - (np.arange(GRID) + 0.5) * (high[1] - low[1]) / GRID
    lattice = np.stack(np.meshgrid(first, second), axis=-1).reshape(-1, 2).astype(np.float32)
    # a blank pixel around each image, or the digits, as tall as their 8 rows, run into each other
    tiles = np.pad(decode(model, lattice), ((0, 0), (1, 1), (1, 1))).reshape(GRID, GRID, 10, 10)
    mosaic = tiles.transpose(0, 2, 1, 3).reshape(GRID * 10, GRID * 10)

    figure, (scatter, plane) = plt.subplots(1, 2, figsize=(13, 6.2), constrained_layout=True)
    colours = plt.get_cmap("tab10")
    scatter.scatter(codes[:, 0], codes[:, 1], c=colours(data.test_labels), s=12, alpha=0.7)
    for digit in range(10):
        centre = np.median(codes[data.test_labels == digit], axis=0)
        scatter.text(
            *centre,
            str(digit),
            color=colours(digit),
            fontsize=17,
            weight="bold",
            ha="center",
            va="center",
            bbox={"facecolor": "white", "alpha": 0.8, "pad": 1},
        )
    scatter.set_title(f"codes of the {len(codes)} test digits, coloured by label (the label at each median)")
    plane.imshow(
        mosaic, cmap="gray_r", vmin=0, vmax=1, extent=(low[0], high[0], low[1], high[1]), aspect="auto"
    )
    plane.set_title(f"what the decoder makes of each code ({GRID} x {GRID} codes)")
    for axis in (scatter, plane):
        axis.set_xlim(low[0], high[0])
        axis.set_ylim(low[1], high[1])
        axis.set_xlabel("code, first number")
        axis.set_ylabel("code, second number")
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def draw_conv_transpose2d(model: Autoencoder, data: Digits, out: Path) -> list[Path]:
    """The decoder's last layer, one conv_transpose2d call, every primitive shown.

    Drawn on two test digits, so the shapes stay readable. Their (2, 16, 4, 4) feature
    maps times the (16, 1, 4, 4) weight, one ``mat_mul`` over the 16 channels, give
    each image 16 columns, one per input pixel, each the 16 values of the 4x4 window
    that pixel stamps; ``fold`` (col2im) adds the windows, 2 pixels apart, into a 10x10
    image, overlaps summed; ``pad`` by -1 cuts the padding of 1 off each side (a slice,
    ``get_item``), 8x8 left; the bias is added. Backward, fold's gradient is ``unfold``
    (im2col), so the feature maps' gradient is a conv2d of the images'. The feature
    maps are made to require grad, as every layer's input but the first's does.
    """
    layer = model.decoder[-2]
    with mg.no_grad():
        feature_maps = model.decoder[:-2](model.encoder(as_images(data.test_images[:2])))
    feature_maps.requires_grad_()
    feature_maps.name = "feature maps"
    weight = layer.weight.detach().requires_grad_()
    weight.name = "weight"
    bias = layer.bias.detach().requires_grad_()
    bias.name = "bias"
    images = F.conv_transpose2d(feature_maps, weight, bias, stride=layer.stride, padding=layer.padding)
    images.name = "images (before the sigmoid)"
    return [
        *viz.render(viz.draw_graph(images), out / "conv_transpose2d_graph"),
        *viz.render(viz.draw_backward(images), out / "conv_transpose2d_backward"),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Train the autoencoder, print its errors against the baselines, write the figures and graphs."""
    started = time.perf_counter()
    arguments = command_line(__doc__.split("\n")[0], "autoencoder_digits").parse_args(argv)
    # Small matrices: one BLAS thread is about as fast as two, and never waits for a busy core.
    threadpool_limits(limits=1, user_api="blas")
    epochs = QUICK_EPOCHS if arguments.quick else FULL_EPOCHS
    data = load_digit_split(SEED)
    # One seed for the split, the initial weights and the order of the batches.
    mg.manual_seed(SEED)
    digits = TensorDataset(as_images(data.train_images), data.train_labels)
    train_set, validation_set = random_split(digits, [len(digits) - VALIDATION_SIZE, VALIDATION_SIZE])
    model = Autoencoder()
    weights = sum(parameter.size for parameter in model.parameters())
    print(
        f"A convolutional autoencoder on scikit-learn's 8x8 digits, {weights:,} weights, a code of "
        f"{CODE_SIZE} numbers: {len(train_set):,} digits to train on, {len(validation_set)} to validate, "
        f"{len(data.test_labels)} to test.\nAdam, learning rate {LEARNING_RATE}, batches of {BATCH_SIZE}, "
        f"{epochs} epochs; seed {SEED}.\n"
    )
    train(model, train_set, validation_set, epochs)
    pca = fit_pca(data)
    print_results(model, pca, data)

    arguments.out.mkdir(parents=True, exist_ok=True)
    written = [
        plot_reconstructions(model, pca, data, arguments.out / "reconstructions.png"),
        plot_codes(model, data, arguments.out / "codes.png"),
    ]
    written += draw_conv_transpose2d(model, data, arguments.out)
    print("\nwrote:\n" + "\n".join(f"  {path}" for path in written))
    print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
