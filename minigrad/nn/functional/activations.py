"""Activations: relu (the core op, with PyTorch's signature) and others composed from the core ops.

**inplace.** ``relu``, ``leaky_relu``, ``elu`` and ``silu`` (and ``dropout``) take
PyTorch's ``inplace`` argument, so code written for PyTorch runs, but minigrad never
overwrites the input: with ``inplace=True`` the result is a new tensor with the same
values, and the input keeps its own. Backward rules read the numbers that their
inputs had when the op ran (a product's rule reads the other factor, relu's its
result), and a computed result is never changed in place in minigrad (see
:mod:`minigrad.in_place`). Use the returned tensor, as ``x = F.relu(x, inplace=True)``
and ``nn.ReLU(inplace=True)`` inside a model do.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.engine import composite
from minigrad.ops import sigmoid, where
from minigrad.tensor import Tensor


def _check_inplace(inplace: Any, name: str) -> bool:
    """``inplace`` as a bool, after checking that it is one (PyTorch would take any value).

    A non-bool is more likely a misplaced positional argument (``F.relu(x, 0.2)``
    meant for leaky_relu) than a request, so it is an error rather than a truth value.
    """
    if not isinstance(inplace, (bool, np.bool_)):
        raise TypeError(
            f"{name}: inplace must be True or False, got {inplace!r}; minigrad computes "
            f"the result as a new tensor either way"
        )
    return bool(inplace)


def relu(x: Any, inplace: bool = False) -> Tensor:
    """max(x, 0), elementwise: :func:`minigrad.relu`, taking PyTorch's ``inplace``.

    ``inplace=True`` still returns a new tensor and leaves ``x`` as it was (see the
    module docstring for why).
    """
    _check_inplace(inplace, "relu")
    return ops.relu(x)


@composite
def leaky_relu(x: Any, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where x > 0, else ``negative_slope * x``; the slope at 0 is ``negative_slope``, as in PyTorch.

    ``inplace=True`` still returns a new tensor and leaves ``x`` as it was (see the
    module docstring for why).
    """
    _check_inplace(inplace, "leaky_relu")
    x = ops._tensor(x)
    return where(x.data > 0, x, x * negative_slope)


@composite
def elu(x: Any, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """The exponential linear unit: ``x`` where x > 0, else ``alpha * (exp(x) - 1)``.

    The slope at 0 is the left one, ``alpha``, as in PyTorch. ``exp(x) - 1`` is computed
    by expm1, which keeps its digits for x near 0. expm1 is given only the values that
    are not positive (0 in place of the others): exp of a large x would be inf, and
    although where discards that branch, its gradient would be 0 * inf = nan.

    ``inplace=True`` still returns a new tensor and leaves ``x`` as it was (see the
    module docstring for why).
    """
    _check_inplace(inplace, "elu")
    x = ops._tensor(x)
    positive = ~(x.data <= 0)  # nan counts here too, so its gradient passes on, as in PyTorch
    not_positive = where(positive, 0.0, x)
    return where(positive, x, not_positive.expm1() * alpha)


@composite
def silu(x: Any, inplace: bool = False) -> Tensor:
    """The sigmoid linear unit (also called swish): ``x * sigmoid(x)``.

    ``inplace=True`` still returns a new tensor and leaves ``x`` as it was (see the
    module docstring for why).
    """
    _check_inplace(inplace, "silu")
    x = ops._tensor(x)
    return x * sigmoid(x)


@composite
def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, a smooth relu whose slope is ``sigmoid(beta * x)``.

    Where ``beta * x > threshold`` the result is ``x`` itself (slope 1), as in PyTorch:
    the two differ by less than ``exp(-threshold) / beta`` there.
    """
    x = ops._tensor(x)
    scaled = x * beta
    return where(scaled.data > threshold, x, _log_one_plus_exp(scaled) / beta)


def _log_one_plus_exp(z: Tensor) -> Tensor:
    """``log(1 + exp(z))`` for z of any size: as written where z <= 0, ``z + log(1 + exp(-z))`` where z > 0.

    The two are equal (take exp(z) out of the sum: log(exp(z) * (exp(-z) + 1))), and
    this way exp only ever sees ``-|z|``, so it cannot overflow. The log is log1p, so
    that a tiny exp(-|z|) is not lost when 1 is added: softplus(-40) is 4.25e-18, not 0.
    Each piece is smooth, so the slope, sigmoid(z), and its own slope come out right
    everywhere, at 0 too.
    """
    positive = z.data > 0
    log_term = where(positive, -z, z).exp().log1p()  # log(1 + exp(-|z|))
    return where(positive, z + log_term, log_term)


@composite
def gelu(x: Any, approximate: str = "none") -> Tensor:
    """The Gaussian error linear unit (Hendrycks & Gimpel, 2016): ``x * Phi(x)``.

    Phi is the standard normal CDF, the probability that a sample of N(0, 1) is below x::

        gelu(x) = 0.5 * x * (1 + erf(x / sqrt(2)))

    ``approximate="tanh"`` uses the paper's approximation of Phi, which needs no erf::

        gelu(x) ~ 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f'gelu: approximate must be "none" or "tanh", got {approximate!r}')
    x = ops._tensor(x)
    if approximate == "tanh":
        cdf = 0.5 * (1 + ((x + x**3 * 0.044715) * math.sqrt(2 / math.pi)).tanh())
    else:
        cdf = 0.5 * (1 + ops.erf(x * math.sqrt(0.5)))
    return x * cdf
