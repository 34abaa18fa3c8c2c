"""Activations: relu (the core op, with PyTorch's signature) and others composed from the core ops.

**inplace.** ``relu``, ``leaky_relu``, ``elu``, ``silu``, ``hardtanh``, ``relu6``,
``hardsigmoid``, ``hardswish`` and ``mish`` (and ``dropout``) take PyTorch's ``inplace``
argument, so code written for PyTorch runs, but minigrad never overwrites the input:
with ``inplace=True`` the result is a new tensor with the same values, and the input
keeps its own. Backward rules read the numbers that their inputs had when the op ran
(a product's rule reads the other factor, relu's its result), and a computed result
is never changed in place in minigrad (see :mod:`minigrad.in_place`). Use the returned tensor, as ``x = F.relu(x, inplace=True)``
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


@composite
def hardtanh(x: Any, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """x clipped to [min_val, max_val]: ``min_val`` where x <= min_val, ``max_val`` where x >= max_val.

    The slope is 1 strictly between the bounds and 0 elsewhere, at the bounds too, as
    in PyTorch (:func:`minigrad.clip` lets the gradient through at the bounds). A nan
    stays nan, with slope 1, as in PyTorch.

    ``inplace=True`` still returns a new tensor and leaves ``x`` as it was (see the
    module docstring for why).
    """
    _check_inplace(inplace, "hardtanh")
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val ({min_val}) must not be greater than max_val ({max_val}); swap them"
        )
    x = ops._tensor(x)
    return where(x.data <= min_val, min_val, where(x.data >= max_val, max_val, x))


@composite
def relu6(x: Any, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``: :func:`hardtanh` between 0 and 6, with slope 0 at 0 and at 6, as in PyTorch.

    ``inplace=True`` still returns a new tensor and leaves ``x`` as it was (see the
    module docstring for why).
    """
    return hardtanh(x, 0.0, 6.0, _check_inplace(inplace, "relu6"))


@composite
def hardsigmoid(x: Any, inplace: bool = False) -> Tensor:
    """A piecewise-linear sigmoid, ``relu6(x + 3) / 6``: 0 where x <= -3, 1 where x >= 3.

    Between the two it is ``x / 6 + 1/2``, with slope 1/6; the slope is 0 elsewhere,
    at -3 and 3 too, as in PyTorch.

    ``inplace=True`` still returns a new tensor and leaves ``x`` as it was (see the
    module docstring for why).
    """
    _check_inplace(inplace, "hardsigmoid")
    x = ops._tensor(x)
    return relu6(x + 3) / 6


@composite
def hardswish(x: Any, inplace: bool = False) -> Tensor:
    """``x * hardsigmoid(x)`` (Howard et al., 2019): 0 where x <= -3, x where x >= 3.

    Between the two it is ``x * (x + 3) / 6``. By the product rule the slope is
    ``hardsigmoid(x) + x * hardsigmoid'(x)``: ``x / 3 + 1/2`` strictly between -3 and 3,
    0 below and at -3, and 1 at 3 and above, as in PyTorch.

    ``inplace=True`` still returns a new tensor and leaves ``x`` as it was (see the
    module docstring for why).
    """
    _check_inplace(inplace, "hardswish")
    x = ops._tensor(x)
    return x * hardsigmoid(x)


@composite
def mish(x: Any, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))`` (Misra, 2019), a smooth activation close to :func:`silu`.

    softplus(x) = log(1 + exp(x)) is computed so that it cannot overflow.

    ``inplace=True`` still returns a new tensor and leaves ``x`` as it was (see the
    module docstring for why).
    """
    _check_inplace(inplace, "mish")
    x = ops._tensor(x)
    return x * _log_one_plus_exp(x).tanh()


@composite
def logsigmoid(x: Any) -> Tensor:
    """``log(sigmoid(x)) = -log(1 + exp(-x)) = -softplus(-x)``, computed so that it cannot overflow.

    Its slope is ``sigmoid(-x) = 1 - sigmoid(x)``: 1 far to the left, where the value is about x.
    """
    x = ops._tensor(x)
    return -_log_one_plus_exp(-x)


@composite
def softsign(x: Any) -> Tensor:
    """``x / (1 + |x|)``, a sigmoid-shaped curve from -1 to 1 with slope ``1 / (1 + |x|)**2``."""
    x = ops._tensor(x)
    return x / (x.abs() + 1)


@composite
def tanhshrink(x: Any) -> Tensor:
    """``x - tanh(x)``, with slope ``tanh(x)**2``."""
    x = ops._tensor(x)
    return x - x.tanh()
