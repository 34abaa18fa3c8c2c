"""What the examples share: their command line, and for the digit examples the data split
and the order of the mini-batches.

``batchnorm_digits.py`` and ``train_vs_eval.py`` train on the same digits, split the
same way, so their numbers can be compared.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TEST_SIZE = 500


@dataclass
class Digits:
    """scikit-learn's 1,797 8x8 digits, split into training and test sets.

    Images are rows of 64 pixels scaled from 0..16 to 0..1, as float32; labels are
    the digits 0 to 9.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def command_line(description: str, name: str) -> argparse.ArgumentParser:
    """The options every example that writes files takes: ``--out`` (``out/<name>``) and ``--quick``.

    An example with options of its own adds them to the parser this returns.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=Path("out") / name, help="folder to write to")
    parser.add_argument("--quick", action="store_true", help="a short run, for CI")
    return parser


def load_digit_split(seed: int = 0) -> Digits:
    """The digits, 500 held out for testing (every digit in proportion), shuffled by ``seed``.

    The data ships with scikit-learn: nothing is downloaded. scikit-learn is imported
    here, so that the examples that use only the command line above start without it.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.data / 16).astype(np.float32)
    train_images, test_images, train_labels, test_labels = train_test_split(
        images, digits.target, test_size=TEST_SIZE, random_state=seed, stratify=digits.target
    )
    return Digits(train_images, train_labels, test_images, test_labels)


def minibatches(count: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Endless mini-batches of indices into ``count`` examples, reshuffled every epoch.

    Each epoch is a new permutation cut into full batches; the few examples left over
    are left out of that epoch (they come back in another, shuffled differently).

    Parameters
    ----------
    count : int
        How many examples there are to draw from.
    batch_size : int
        How many indices each batch holds.
    rng : np.random.Generator
        The shuffling's source of randomness: the same seed gives the same batches.

    Yields
    ------
    np.ndarray
        ``batch_size`` distinct indices in ``range(count)``.
    """
    while True:
        order = rng.permutation(count)
        for start in range(0, count - batch_size + 1, batch_size):
            yield order[start : start + batch_size]
