"""Filling parameters in place with initial values, drawn from minigrad's generator."""

from __future__ import annotations

import math
import numbers
import warnings

from minigrad import random
from minigrad.tensor import Tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with samples of the uniform distribution on [a, b)."""
    tensor.data[...] = random.generator().uniform(a, b, tensor.shape)
    return tensor


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples of the normal distribution N(mean, std**2)."""
    tensor.data[...] = random.generator().normal(mean, std, tensor.shape)
    return tensor


def constant_(tensor: Tensor, value: float) -> Tensor:
    """Fill with ``value``."""
    tensor.data[...] = value
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def fan_in(tensor: Tensor) -> int:
    """The number of inputs feeding each output: ``in_features`` for a Linear weight."""
    return _fans(tensor, "fan_in")[0]


def _fans(tensor: Tensor, caller: str) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *receptive field), as PyTorch counts them."""
    if tensor.ndim < 2:
        raise ValueError(f"{caller}: needs a weight of at least 2 dimensions, got shape {tensor.shape}")
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
