"""Composite ops: functions made of primitives, with no backward code of their own.

Their gradients come from the chain rule through the primitives they call. Each is
marked with :func:`~minigrad.engine.composite`, which tags the nodes it creates with a
scope of its name (``std`` contains ``var``, which contains ``mean``), so a drawing can
show the call as one box or open it up.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.engine import composite
from minigrad.tensor import Tensor


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    """How many elements a reduction over ``axes`` combines."""
    return math.prod(shape[axis] for axis in axes)


@composite
def mean(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The mean over ``axis``: ``sum(x) / n``, where n is the number of values combined."""
    x = ops._tensor(x)  # a Tensor as it is; an array, a list or a number made one
    axes = ops.normalize_axes(axis, x.ndim, "mean")
    return x.sum(axes, keepdims) / _count(x.shape, axes)


@composite
def var(x: Tensor, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """The variance over ``axis``: ``sum((x - mean(x))**2) / (n - ddof)``.

    ``ddof=0`` gives the biased (population) variance, numpy's default; ``ddof=1`` the
    unbiased sample variance, PyTorch's default.
    """
    x = ops._tensor(x)
    axes = ops.normalize_axes(axis, x.ndim, "var")
    deviation = x - mean(x, axes, keepdims=True)
    # Never a negative count: with ddof >= n the variance is inf (or nan), as in numpy and PyTorch.
    return (deviation**2).sum(axes, keepdims) / max(_count(x.shape, axes) - ddof, 0)


@composite
def std(x: Tensor, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """The standard deviation over ``axis``: ``sqrt(var(x, ddof))``.

    Where the variance is 0 (all the values equal), the gradient is 0, as in PyTorch.
    The chain rule alone would give nan there: sqrt's slope at 0 is infinite, and the
    deviations it multiplies are 0. So those entries take the square root of 1
    instead, and their result is replaced by 0: a where on each side of the sqrt, so
    that no infinite slope is ever formed (one where alone would still form it).
    """
    x = ops._tensor(x)
    variance = var(x, ops.normalize_axes(axis, x.ndim, "std"), keepdims, ddof)
    constant = variance.data == 0
    if not constant.any():
        return variance.sqrt()
    return ops.where(constant, 0.0, ops.where(constant, 1.0, variance).sqrt())


@composite
def min(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The smallest value over ``axis``: ``-max(-x)``.

    Integers and bools, which have no gradient, are not negated (an unsigned int would
    wrap around) but reduced directly, unrecorded.
    """
    x = ops._tensor(x)
    axes = ops.normalize_axes(axis, x.ndim, "min")
    ops.check_not_empty(x, axes, "min")
    if x.dtype.kind != "f":
        return Tensor._wrap(x.data.min(axis=axes, keepdims=keepdims))
    return -ops.max(-x, axes, keepdims)


@composite
def minimum(a: Any, b: Any) -> Tensor:
    """The elementwise minimum of a and b: ``-maximum(-a, -b)``.

    Integers and bools, which have no gradient, are compared directly, unrecorded.
    """
    a, b = ops.as_tensors((a, b))
    ops.broadcast_shapes("minimum", a.shape, b.shape)  # so that an error names minimum, not maximum
    if a.dtype.kind != "f":
        return Tensor._wrap(np.minimum(a.data, b.data))
    return -ops.maximum(-a, -b)


@composite
def clip(x: Any, min: Any = None, max: Any = None) -> Tensor:
    """x limited to the range [min, max], elementwise: two wheres.

    ``where(x < min, min, x)``, then the same with ``max``. Either bound may be left out
    (None), a number, or a tensor or array that broadcasts with x. So, as in PyTorch's
    clamp, the gradient reaches x where ``min <= x <= max``, and a bound that is a
    tensor where it is the result. Where min > max, every value is max, as in numpy
    and PyTorch.
    """
    if min is None and max is None:
        raise ValueError("clip: give min, max or both; with neither there is nothing to clip")
    x = ops._tensor(x)
    if min is not None:
        x = ops.where(x.data < _numbers(min), min, x)
    if max is not None:
        x = ops.where(x.data > _numbers(max), max, x)
    return x


def _numbers(value: Any) -> np.ndarray:
    """A bound's values, for the comparison that picks a branch (no gradient flows there)."""
    return np.asarray(value.data if isinstance(value, Tensor) else value)


@composite
def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis: each gets a length-1 axis there first."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    tensors = ops.as_tensors(tensors)
    shape = tensors[0].shape
    if any(tensor.shape != shape for tensor in tensors):
        shapes = ", ".join(str(tensor.shape) for tensor in tensors)
        raise ValueError(f"stack: all tensors must have one shape, got {shapes}")
    if not isinstance(axis, numbers.Integral):
        raise TypeError(f"stack: axis must be an int, got {axis!r}")
    (axis,) = ops.normalize_axes(axis, len(shape) + 1, "stack")
    return ops.concatenate([ops.unsqueeze(tensor, axis) for tensor in tensors], axis)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge the axes from ``start_dim`` to ``end_dim`` (all, by default) into one."""
    if x.ndim == 0:
        return x.reshape(1)
    start, end = (ops.normalize_axes(axis, x.ndim, "flatten")[0] for axis in (start_dim, end_dim))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return x.reshape(x.shape[:start] + (math.prod(x.shape[start : end + 1]),) + x.shape[end + 1 :])


@composite
def softmax(x: Any, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``.

    The maximum is subtracted first so that exp cannot overflow; softmax does not
    change when a constant is subtracted, so that maximum is held constant (detached).
    """
    x = ops._tensor(x)
    axes = ops.normalize_axes(axis, x.ndim, "softmax")  # so that a bad axis is an error naming softmax
    if x.size == 0 and any(x.shape[position] == 0 for position in axes):
        return ops.clone(x)  # nothing to normalize, and no maximum to subtract
    shifted = x - x.max(axis, keepdims=True).detach()
    exponentials = shifted.exp()
    return exponentials / exponentials.sum(axis, keepdims=True)


@composite
def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``x - log(sum(exp(x)))`` along ``axis``, stable for logits of 1000 and more."""
    x = ops._tensor(x)
    axes = ops.normalize_axes(
        axis, x.ndim, "log_softmax"
    )  # so that a bad axis is an error naming log_softmax
    if x.size == 0 and any(x.shape[position] == 0 for position in axes):
        return ops.clone(x)  # nothing to normalize, and no maximum to subtract
    shifted = x - x.max(axis, keepdims=True).detach()
    return shifted - shifted.exp().sum(axis, keepdims=True).log()


@composite
def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, which cannot overflow; its gradient is softmax(x).

    The largest value is subtracted before exp and added back after log: the result
    does not depend on it, so it is a constant here, taken from the numbers. Where it
    is infinite (a slice of all -inf, or an inf) 0 is subtracted instead, which gives
    -inf or inf, as in PyTorch.
    """
    x = ops._tensor(x)
    axes = ops.normalize_axes(axis, x.ndim, "logsumexp")
    if x.size == 0:  # no largest value; the sum of no exponentials is 0, its log -inf
        return x.exp().sum(axes, keepdims).log()
    peak = x.data.max(axis=axes, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0).astype(x.dtype)
    total = (x - peak).exp().sum(axes, keepdims).log()
    return total + (peak if keepdims else peak.squeeze(axes))
