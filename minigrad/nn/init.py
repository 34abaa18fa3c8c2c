"""Filling parameters in place with initial values, drawn from minigrad's generator."""

from __future__ import annotations

import math
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
    if tensor.ndim < 2:
        raise ValueError(f"fan_in: needs a weight of at least 2 dimensions, got shape {tensor.shape}")
    return math.prod(tensor.shape[1:])


def kaiming_uniform_(tensor: Tensor, a: float = 0.0) -> Tensor:
    """He initialization: uniform on [-bound, bound], bound = gain * sqrt(3 / fan_in).

    The gain for a leaky ReLU of slope ``a`` is ``sqrt(2 / (1 + a**2))``. PyTorch's
    Linear uses ``a = sqrt(5)``, which makes the bound ``1 / sqrt(fan_in)``.

    A tensor with no elements (e.g. the weight of ``Linear(0, 3)``) is left as it is,
    with a warning as in PyTorch: there is nothing to fill, and a fan_in of 0 would
    make the bound infinite.
    """
    if 0 in tensor.shape:
        warnings.warn("kaiming_uniform_: initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    gain = math.sqrt(2.0 / (1 + a**2))
    bound = gain * math.sqrt(3.0 / fan_in(tensor))
    return uniform_(tensor, -bound, bound)
