"""Filling parameters in place with initial values, drawn from minigrad's generator."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import engine, random
from minigrad.tensor import Tensor


def _filled(tensor: Tensor, values: Any) -> Tensor:
    """``tensor`` with ``values`` written over its numbers in place (a change backward will notice)."""
    tensor.data[...] = values
    engine.mark_changed(tensor)
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with samples of the uniform distribution on [a, b)."""
    return _filled(tensor, random.generator().uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples of the normal distribution N(mean, std**2)."""
    return _filled(tensor, random.generator().normal(mean, std, tensor.shape))


def trunc_normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0
) -> Tensor:
    """Fill with samples of N(mean, std**2) truncated to [a, b]: values outside are redrawn.

    ``a`` and ``b`` are absolute bounds, not multiples of ``std``: a weight of std 0.02 cut at
    two standard deviations is ``trunc_normal_(w, std=0.02, a=-0.04, b=0.04)``.

    With ``alpha = (a - mean) / std`` and ``beta = (b - mean) / std``, and phi, Phi the
    density and CDF of N(0, 1), the values have density::

        p(x) = phi((x - mean) / std) / (std * Z)  on [a, b],  Z = Phi(beta) - Phi(alpha),

    mean ``mean + std * (phi(alpha) - phi(beta)) / Z`` and a variance below ``std**2``.
    """
    if not (math.isfinite(mean) and math.isfinite(std) and std > 0):
        raise ValueError(
            f"trunc_normal_: needs a finite mean and a finite, positive std, got mean={mean}, std={std}"
        )
    if not a < b:
        raise ValueError(
            f"trunc_normal_: needs bounds a < b, got a={a}, b={b}; "
            f"swap them, or use constant_ to fill with a single value"
        )
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn(
            f"trunc_normal_: mean={mean} is more than 2 std from [a, b] = [{a}, {b}], so the values "
            f"crowd at the bound nearest the mean; a and b are absolute bounds, not offsets from the mean",
            stacklevel=2,
        )
    z = _standard_truncated_normal((a - mean) / std, (b - mean) / std, tensor.size)
    # mean + std * z can round one ulp past a bound.
    return _filled(tensor, np.clip(mean + std * z, a, b).reshape(tensor.shape))


def _normal_cdf(x: float) -> float:
    """Phi(x), the probability that a sample of N(0, 1) is at most x."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


# Inverting Phi would need erfinv, which numpy lacks, and loses all precision in a tail, where
# Phi(alpha) and Phi(beta) round to the same float. Rejection sampling is exact with only exp and
# log: draw from a proposal, keep each value with the right probability, redraw the rest.
def _standard_truncated_normal(alpha: float, beta: float, count: int) -> np.ndarray:
    """``count`` samples of N(0, 1) truncated to [alpha, beta]."""
    rng = random.generator()
    if _normal_cdf(beta) - _normal_cdf(alpha) > 0.3:
        # Most samples of N(0, 1) fall in [alpha, beta] already.
        return _redraw_rejected(rng.standard_normal, lambda z: (alpha <= z) & (z <= beta), count)
    if beta <= 0:  # N(0, 1) is symmetric: take -z with z in [-beta, -alpha]
        return -_standard_truncated_normal(-beta, -alpha, count)
    # [alpha, beta] is narrow, or far out in the right tail. Propose z = alpha + e, with e
    # exponential of rate `peak`, cut at beta - alpha (uniform if peak = 0). The target density
    # divided by the proposal's is then proportional to exp(-(z - peak)**2 / 2), largest (1) at
    # z = peak: keeping each z with that probability leaves exactly the truncated normal. Some
    # 45% or more of the proposals are kept, however narrow or far out the interval is.
    peak = max(alpha, 0.0)  # where exp(-z**2 / 2) is highest on [alpha, beta]
    cut = math.expm1(-peak * (beta - alpha))

    def propose(n: int) -> np.ndarray:
        if peak == 0.0:
            return rng.uniform(alpha, beta, n)
        return alpha - np.log1p(rng.uniform(size=n) * cut) / peak  # the cut exponential's inverse CDF

    def accept(z: np.ndarray) -> np.ndarray:
        return rng.uniform(size=z.shape) < np.exp(-0.5 * (z - peak) ** 2)

    return _redraw_rejected(propose, accept, count)


def _redraw_rejected(
    draw: Callable[[int], np.ndarray], accept: Callable[[np.ndarray], np.ndarray], count: int
) -> np.ndarray:
    """``count`` draws, each redrawn until ``accept`` keeps it (one vectorized round at a time)."""
    samples = draw(count)
    rejected = ~accept(samples)
    while rejected.any():
        redrawn = draw(np.count_nonzero(rejected))
        samples[rejected] = redrawn
        rejected[rejected] = ~accept(redrawn)
    return samples


def constant_(tensor: Tensor, value: float) -> Tensor:
    """Fill with ``value``."""
    return _filled(tensor, value)


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity: ones on the diagonal, zeros elsewhere.

    A Linear layer of this weight (and a zero bias) passes its first min(out, in) inputs through.
    """
    if tensor.ndim != 2:
        raise ValueError(
            f"eye_: the identity needs a 2-D tensor such as a Linear weight, got shape {tensor.shape}"
        )
    return _filled(tensor, np.eye(*tensor.shape))


def fan_in(tensor: Tensor) -> int:
    """The number of inputs feeding each output: ``in_features`` for a Linear weight."""
    return _fans(tensor, "fan_in")[0]


def _check_is_weight(tensor: Tensor, caller: str) -> None:
    """A weight has at least 2 dimensions: (out, in, *receptive field)."""
    if tensor.ndim < 2:
        raise ValueError(
            f"{caller}: needs a weight of at least 2 dimensions, got shape {tensor.shape}; "
            f"fill a bias or other 1-D tensor elementwise, with zeros_, uniform_ or normal_"
        )


def _fans(tensor: Tensor, caller: str) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *receptive field), as PyTorch counts them."""
    _check_is_weight(tensor, caller)
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


# The gain that keeps the variance of activations steady through a nonlinearity.
_GAINS = {
    "linear": 1.0,
    **{f"conv{kind}{n}d": 1.0 for kind in ("", "_transpose") for n in (1, 2, 3)},
    "sigmoid": 1.0,
    "tanh": 5.0 / 3,
    "relu": math.sqrt(2.0),
    "selu": 3.0 / 4,
}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity, as PyTorch gives it.

    1 for linear, the convolutions and sigmoid, 5/3 for tanh, sqrt(2) for relu, 3/4 for selu, and
    ``sqrt(2 / (1 + slope**2))`` for leaky_relu of negative slope ``param``
    (0.01 if not given).
    """
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, numbers.Real):
            raise ValueError(f"calculate_gain: the negative slope must be a number, got {slope!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity not in _GAINS:
        raise ValueError(
            f"calculate_gain: unknown nonlinearity {nonlinearity!r}; expected one of "
            f"{', '.join(sorted([*_GAINS, 'leaky_relu']))}"
        )
    return _GAINS[nonlinearity]


def _has_elements(tensor: Tensor, caller: str) -> bool:
    """False, with PyTorch's warning, for a tensor with nothing to fill (``Linear(0, 3).weight``).

    Its fan would be 0, which would make the bound or the standard deviation infinite.
    """
    if 0 in tensor.shape:
        warnings.warn(f"{caller}: initializing zero-element tensors is a no-op", stacklevel=3)
        return False
    return True


def _kaiming_fan(tensor: Tensor, mode: str, caller: str) -> int:
    """fan_in (keeps the variance of the forward pass) or fan_out (that of the backward pass)."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{caller}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fans = _fans(tensor, caller)
    return fans[0] if mode == "fan_in" else fans[1]


def kaiming_uniform_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He initialization (He et al., 2015): uniform on [-bound, bound], bound = gain * sqrt(3 / fan).

    That is a standard deviation of gain / sqrt(fan). With the defaults the gain is
    leaky ReLU's of slope ``a``, ``sqrt(2 / (1 + a**2))``. PyTorch's Linear uses
    ``a = sqrt(5)``, which makes the bound ``1 / sqrt(fan_in)``.
    """
    if not _has_elements(tensor, "kaiming_uniform_"):
        return tensor
    fan = _kaiming_fan(tensor, mode, "kaiming_uniform_")
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He initialization from N(0, std**2), std = gain / sqrt(fan) (see :func:`kaiming_uniform_`)."""
    if not _has_elements(tensor, "kaiming_normal_"):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_kaiming_fan(tensor, mode, "kaiming_normal_"))
    return normal_(tensor, 0.0, std)


def _xavier_std(tensor: Tensor, gain: float, caller: str) -> float:
    """gain * sqrt(2 / (fan_in + fan_out)): a compromise between the forward and backward variances."""
    return gain * math.sqrt(2.0 / sum(_fans(tensor, caller)))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot initialization (Glorot & Bengio, 2010): uniform on [-sqrt(3) * std, sqrt(3) * std].

    ``std = gain * sqrt(2 / (fan_in + fan_out))``.
    """
    if not _has_elements(tensor, "xavier_uniform_"):
        return tensor
    bound = math.sqrt(3.0) * _xavier_std(tensor, gain, "xavier_uniform_")
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot initialization from N(0, std**2), ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    if not _has_elements(tensor, "xavier_normal_"):
        return tensor
    return normal_(tensor, 0.0, _xavier_std(tensor, gain, "xavier_normal_"))


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Fill with a (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2014).

    The weight is read as a matrix W of shape (rows, cols) = (shape[0], size / shape[0]).
    When rows <= cols its rows are orthonormal, ``W W^T = gain**2 I``; otherwise its columns
    are, ``W^T W = gain**2 I``. Every singular value is ``gain``, so a deep linear network of
    such square weights keeps the norm of what flows through it, forward and backward.

    W is uniform (Haar-distributed) among such matrices: factorize a matrix A of N(0, 1)
    samples as A = QR, then flip the sign of each column of Q whose diagonal entry of R is
    negative. Without the flip, Q would follow the sign convention of the QR routine rather
    than the uniform distribution (Mezzadri, 2007).
    """
    _check_is_weight(tensor, "orthogonal_")
    if not _has_elements(tensor, "orthogonal_"):
        return tensor
    rows = tensor.shape[0]
    cols = tensor.size // rows
    # QR makes the columns of Q orthonormal, so factorize the tall way and transpose back.
    wide = rows < cols
    gaussian = random.generator().standard_normal((cols, rows) if wide else (rows, cols))
    q, r = np.linalg.qr(gaussian)
    q *= np.where(np.diag(r) < 0, -1.0, 1.0)
    return _filled(tensor, (gain * (q.T if wide else q)).reshape(tensor.shape))
