"""Batch norm's gradient, composed by minigrad vs derived by hand: the same numbers.

minigrad's ``F.batch_norm`` has no backward code: it is made of ``mean``, ``var``,
``sub``, ``pow``, ``sqrt``, ``div``, ``mul``, ``add`` and ``broadcast_to``, and its
gradient is whatever the chain rule through those primitives gives. Here it is checked
against the backward pass Ioffe & Szegedy (2015) derive by hand in Section 3, written
in numpy, for an input of m rows (the mini-batch) and C channels::

    forward                                  backward (from dl/dy)
    mu      = mean(x)                        dl/dx_hat = dl/dy * gamma
    sigma2  = mean((x - mu)**2)              dl/dsigma2 = sum(dl/dx_hat * (x - mu)) * -1/2 * (sigma2 + eps)**-3/2
    x_hat   = (x - mu) / sqrt(sigma2 + eps)  dl/dmu = sum(dl/dx_hat) * -1 / sqrt(sigma2 + eps)
    y       = gamma * x_hat + beta                   + dl/dsigma2 * sum(-2 (x - mu)) / m
                                             dl/dx = dl/dx_hat / sqrt(sigma2 + eps)
                                                     + dl/dsigma2 * 2 (x - mu) / m + dl/dmu / m
                                             dl/dgamma = sum(dl/dy * x_hat),  dl/dbeta = sum(dl/dy)

(sums and means run over the m rows). In float64 the two agree to 1e-10. Then both
forward+backward passes are timed. ``--quick`` times fewer repetitions.
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Sequence

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F

EPS = 1e-5
TOLERANCE = 1e-10


def handwritten(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, grad_y: np.ndarray
) -> dict[str, np.ndarray]:
    """Batch norm's forward and backward passes, as the paper derives them, in numpy."""
    m = x.shape[0]
    mu = x.mean(axis=0)
    sigma2 = ((x - mu) ** 2).mean(axis=0)
    x_hat = (x - mu) / np.sqrt(sigma2 + EPS)
    y = gamma * x_hat + beta

    grad_x_hat = grad_y * gamma
    grad_sigma2 = np.sum(grad_x_hat * (x - mu), axis=0) * -0.5 * (sigma2 + EPS) ** -1.5
    grad_mu = (
        np.sum(grad_x_hat, axis=0) * -1 / np.sqrt(sigma2 + EPS)
        + grad_sigma2 * np.sum(-2 * (x - mu), axis=0) / m
    )
    grad_x = grad_x_hat / np.sqrt(sigma2 + EPS) + grad_sigma2 * 2 * (x - mu) / m + grad_mu / m
    return {
        "y": y,
        "dl/dx": grad_x,
        "dl/dgamma": np.sum(grad_y * x_hat, axis=0),
        "dl/dbeta": np.sum(grad_y, axis=0),
    }


def composed(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, grad_y: np.ndarray) -> dict[str, np.ndarray]:
    """The same with minigrad: ``F.batch_norm`` forward, then ``y.backward(dl/dy)``."""
    x_tensor, gamma_tensor, beta_tensor = (mg.tensor(value, requires_grad=True) for value in (x, gamma, beta))
    y = F.batch_norm(x_tensor, None, None, gamma_tensor, beta_tensor, training=True, eps=EPS)
    y.backward(grad_y)
    return {
        "y": y.data,
        "dl/dx": x_tensor.grad.data,
        "dl/dgamma": gamma_tensor.grad.data,
        "dl/dbeta": beta_tensor.grad.data,
    }


def random_inputs(rows: int, channels: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """x, gamma, beta and an upstream gradient dl/dy, in float64."""
    rng = np.random.default_rng(seed)
    x = rng.normal(3.0, 2.0, (rows, channels))
    gamma, beta = rng.normal(1.0, 0.5, channels), rng.normal(0.0, 0.5, channels)
    return x, gamma, beta, rng.standard_normal((rows, channels))


def compare(rows: int, channels: int) -> None:
    """Print the largest difference between the two for the output and each gradient."""
    inputs = random_inputs(rows, channels)
    by_hand, by_minigrad = handwritten(*inputs), composed(*inputs)
    print(f"float64, x of shape ({rows}, {channels}); largest |minigrad - hand-derived|:")
    worst = 0.0
    for name, expected in by_hand.items():
        difference = float(np.abs(by_minigrad[name] - expected).max())
        worst = max(worst, difference)
        print(f"  {name:<10} {difference:.1e}")
    verdict = "agree" if worst < TOLERANCE else "DISAGREE"
    print(f"the composed and the hand-derived gradients {verdict} to {TOLERANCE:g}\n")
    if worst >= TOLERANCE:
        raise SystemExit(1)


def time_both(rows: int, channels: int, repeats: int) -> None:
    """Time forward+backward of each, best of ``repeats`` rounds."""
    inputs = random_inputs(rows, channels)
    print(f"forward+backward of x of shape ({rows}, {channels}), float64, best of {repeats} rounds:")
    seconds = {}
    for name, function in (("hand-derived numpy", handwritten), ("minigrad, composed", composed)):
        timer = timeit.Timer(lambda function=function: function(*inputs))
        calls, _ = timer.autorange()
        seconds[name] = min(timer.repeat(repeats, calls)) / calls
        print(f"  {name:<20} {seconds[name] * 1e3:8.3f} ms")
    ratio = seconds["minigrad, composed"] / seconds["hand-derived numpy"]
    print(f"the composed version takes {ratio:.1f} times as long as the hand-derived one")


def main(argv: Sequence[str] | None = None) -> None:
    """Compare the gradients in float64, then time both versions."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer timing rounds, for CI")
    arguments = parser.parse_args(argv)
    compare(rows=60, channels=100)
    time_both(rows=256, channels=1024, repeats=3 if arguments.quick else 7)


if __name__ == "__main__":
    main()
