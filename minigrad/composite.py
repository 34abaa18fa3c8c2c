"""Composite ops: functions made of primitives, with no backward code of their own.

Their gradients come from the chain rule through the primitives they call. Each is
marked with :func:`~minigrad.engine.composite`, which tags the nodes it creates with a
scope of its name (``std`` contains ``var``, which contains ``mean``), so a drawing can
show the call as one box or open it up.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
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
    return _sqrt_with_slope_0_at_0(var(x, ops.normalize_axes(axis, x.ndim, "std"), keepdims, ddof))


def _sqrt_with_slope_0_at_0(value: Tensor) -> Tensor:
    """sqrt(value), whose gradient is 0 where value is 0 (see :func:`std`)."""
    return with_slope_0_at_0(value, Tensor.sqrt)


def with_slope_0_at_0(value: Tensor, power: Callable[[Tensor], Tensor]) -> Tensor:
    """``power(value)`` for value >= 0 (a root, or a power below 1), with slope 0 where value is 0.

    The chain rule would give an infinite slope at 0, and nan once multiplied by a slope
    of 0 before it. So the zeros go through ``power`` as ones and are put back as zeros:
    a where on each side, so that no infinite slope is ever formed.
    """
    zero = value.data == 0
    if not zero.any():
        return power(value)
    return ops.where(zero, 0.0, power(ops.where(zero, 1.0, value)))


@composite
def norm(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The Euclidean norm over ``axis``: ``sqrt(sum(x**2))``; of all the values when axis is None.

    Its gradient is ``x / norm``; where the norm is 0 (all the values 0) it is 0, as in
    PyTorch, by the same two wheres as :func:`std`.
    """
    x = ops._tensor(x)
    return _sqrt_with_slope_0_at_0((x * x).sum(ops.normalize_axes(axis, x.ndim, "norm"), keepdims))


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


amin = min  # PyTorch's name: min's values, whose ties share the gradient as amin's do


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
        x = ops.where(x.data < np.asarray(min), min, x)
    if max is not None:
        x = ops.where(x.data > np.asarray(max), max, x)
    return x


clamp = clip  # PyTorch's name


@composite
def masked_fill(x: Any, mask: Any, value: Any) -> Tensor:
    """x with ``value`` where ``mask`` is True (``mask`` broadcasts to x's shape): a where.

    ``where(mask, value, x)``: no gradient reaches the filled entries. Used to hide
    entries from a softmax, e.g. ``masked_fill(scores, ~allowed, -np.inf)``. ``value``
    is a number or a 0-d tensor, converted to x's dtype (2.7 fills an int64 tensor
    with 2), as in PyTorch.
    """
    x = ops._tensor(x)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"masked_fill: the mask must be boolean, got {mask.dtype}")
    if ops.broadcast_shapes("masked_fill", mask.shape, x.shape) != x.shape:
        raise ValueError(
            f"masked_fill: a mask of shape {mask.shape} does not broadcast to the tensor's shape {x.shape}"
        )
    if np.ndim(value) != 0:
        raise ValueError(
            f"masked_fill: the value must be a number or a 0-d tensor, got shape {np.shape(value)}"
        )
    value = ops.astype(value, x.dtype) if isinstance(value, Tensor) else np.asarray(value).astype(x.dtype)
    return ops.where(mask, value, x)


@composite
def rsqrt(x: Any) -> Tensor:
    """1 / sqrt(x), elementwise: a sqrt and a div. Integers give the default float dtype."""
    return 1 / ops.sqrt(x)


@composite
def outer(a: Any, b: Any) -> Tensor:
    """The outer product of two vectors: ``out[i, j] = a[i] * b[j]``, a column times a row, broadcasting."""
    a, b = ops.as_tensors((a, b))
    for name, vector in (("a", a), ("b", b)):
        if vector.ndim != 1:
            raise ValueError(
                f"outer: takes two vectors (1-D), but {name} has shape {vector.shape}; "
                f"flatten it first, or use broadcasting: a[..., None] * b"
            )
    return a.reshape(-1, 1) * b.reshape(1, -1)


@composite
def bmm(a: Any, b: Any) -> Tensor:
    """Batched matrix product of two 3-D tensors: ``out[n] = a[n] @ b[n]``, as PyTorch's bmm.

    Shapes (N, n, m) and (N, m, p) give (N, n, p). Unlike :func:`~minigrad.ops.matmul`
    it does not broadcast: both must be 3-D with the same batch length N.
    """
    a, b = ops.as_tensors((a, b))
    if a.ndim != 3 or b.ndim != 3:
        raise ValueError(
            f"bmm: takes two 3-D tensors (batches of matrices), got shapes {a.shape} and {b.shape}; "
            f"use matmul for other shapes, which also broadcasts"
        )
    if b.shape[:2] != (a.shape[0], a.shape[2]):
        raise ValueError(
            f"bmm: shapes {a.shape} and {b.shape} do not fit: the second must be "
            f"({a.shape[0]}, {a.shape[2]}, p), the same number of matrices, each with as many rows "
            f"as the first's have columns"
        )
    return ops.matmul(a, b)


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


@composite
def square(x: Any) -> Tensor:
    """x * x, elementwise: one mul, whose rule gives the slope 2 * x."""
    x = ops._tensor(x)
    return x * x


@composite
def flip(x: Any, axis: Any = None) -> Tensor:
    """x with the order of its values reversed along ``axis`` (all axes when None, as numpy's flip).

    An index with a step of -1 along those axes, so getitem's rule sends each gradient
    back to the position it came from. PyTorch's ``flip`` needs the axes (its ``dims``).
    """
    x = ops._tensor(x)
    axes = ops.normalize_axes(axis, x.ndim, "flip")
    return x[tuple(slice(None, None, -1) if position in axes else slice(None) for position in range(x.ndim))]


@composite
def split(x: Any, split_size_or_sections: Any, axis: int = 0) -> tuple[Tensor, ...]:
    """x cut along ``axis`` into a tuple of pieces, with PyTorch's sizes (not numpy's split).

    An int is the length of every piece but the last, which has what remains: 5 values
    in pieces of 2 give 2, 2 and 1. A list or tuple gives the length of each piece and
    must add up to the length of the axis. Each piece is a slice of x, so its gradient
    lands back where the piece came from.
    """
    x = ops._tensor(x)
    axis = _one_axis(x, axis, "split")
    length = x.shape[axis]
    if isinstance(split_size_or_sections, numbers.Integral):
        sizes = _equal_pieces(int(split_size_or_sections), length)
    elif isinstance(split_size_or_sections, (list, tuple)):
        sizes = _given_pieces(split_size_or_sections, length, axis)
    else:
        raise TypeError(
            f"split: give the length of the pieces (an int) or of each piece (a list), "
            f"got {split_size_or_sections!r}"
        )
    leading = (slice(None),) * axis
    pieces, start = [], 0
    for size in sizes:
        pieces.append(x[(*leading, slice(start, start + size))])
        start += size
    return tuple(pieces)


def _one_axis(x: Tensor, axis: Any, op_name: str) -> int:
    """``axis`` as one non-negative int, for ops that cut a tensor with at least one dimension."""
    if x.ndim == 0:
        raise ValueError(f"{op_name}: a 0-d tensor has no axis to cut along; reshape it to 1-D first")
    if not isinstance(axis, numbers.Integral):
        raise TypeError(f"{op_name}: axis must be an int, got {axis!r}")
    return ops.normalize_axes(axis, x.ndim, op_name)[0]


def _equal_pieces(size: int, length: int) -> list[int]:
    """Pieces of ``size`` (the last one shorter if need be) covering ``length``; one empty piece for 0."""
    if size < 0 or (size == 0 and length > 0):
        raise ValueError(
            f"split: the length of the pieces must be positive (0 only for an empty axis), got {size}"
        )
    if length == 0:
        return [0]
    count = -(-length // size)  # rounded up
    return [size] * (count - 1) + [length - size * (count - 1)]


def _given_pieces(sections: Sequence[Any], length: int, axis: int) -> list[int]:
    if not all(isinstance(size, numbers.Integral) and size >= 0 for size in sections):
        raise ValueError(f"split: the lengths of the pieces must be non-negative ints, got {list(sections)}")
    if sum(sections) != length:
        raise ValueError(
            f"split: the lengths {list(sections)} add up to {sum(sections)}, but axis {axis} "
            f"has length {length}; they must add up to it exactly"
        )
    return [int(size) for size in sections]


@composite
def chunk(x: Any, chunks: int, axis: int = 0) -> tuple[Tensor, ...]:
    """x cut along ``axis`` into ``chunks`` pieces of equal length, as PyTorch's chunk.

    Each piece has ``ceil(length / chunks)`` values along the axis and the last one what
    remains, so there may be fewer pieces than asked for: 6 values in 4 chunks give 3
    pieces of 2. An axis of length 0 gives ``chunks`` empty pieces.
    """
    x = ops._tensor(x)
    if not isinstance(chunks, numbers.Integral):
        raise TypeError(f"chunk: chunks must be an int, got {chunks!r}")
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be at least 1, got {chunks}")
    axis = _one_axis(x, axis, "chunk")
    length = x.shape[axis]
    return split(x, [0] * int(chunks) if length == 0 else -(-length // chunks), axis)


def expand(x: Any, *sizes: Any) -> Tensor:
    """x repeated to ``sizes`` (ints, or one tuple) as PyTorch's expand: a ``broadcast_to``.

    -1 keeps the length of an axis; new axes go in front; only axes of length 1 can
    take a new length.
    """
    x = ops._tensor(x)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not all(isinstance(size, numbers.Integral) for size in sizes):
        raise TypeError(f"expand: the sizes must be ints, got {sizes}")
    new_axes = len(sizes) - x.ndim
    if new_axes < 0:
        raise ValueError(
            f"expand: sizes {sizes} are fewer than the {x.ndim} axes of a tensor of shape {x.shape}; "
            f"give one size per axis (-1 keeps its length), and any new axes in front"
        )
    shape = []
    for position, size in enumerate(sizes):
        length = x.shape[position - new_axes] if position >= new_axes else None
        if size == -1 and length is not None:
            size = length
        if size < 0 or (length not in (None, 1, size)):
            keep = "" if length is None else f" (-1 keeps its length {length})"
            raise ValueError(
                f"expand: cannot expand shape {x.shape} to {sizes}: axis {position} of the result "
                f"cannot have length {size}{keep}; only axes of length 1 can be stretched, and new "
                f"axes, in front, need a length"
            )
        shape.append(int(size))
    return ops.broadcast_to(x, tuple(shape))


def _largest(x: Tensor, axes: tuple[int, ...]) -> Tensor:
    """The maximum of x over ``axes`` (kept as axes of length 1), as a constant.

    It is read from the numbers rather than recorded and detached: subtracting it
    changes no value of softmax or log_softmax, so no gradient flows through it, and a
    recorded max would be an op made only to be thrown away.
    """
    return Tensor._wrap(x.data.max(axis=axes, keepdims=True))


@composite
def softmax(x: Any, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``.

    The maximum is subtracted first so that exp cannot overflow; softmax does not
    change when a constant is subtracted, so that maximum is held constant. Integers
    are computed in the default float dtype.
    """
    x = ops._floats(x)  # in floats before the maximum is subtracted: uint8 would wrap around
    axes = ops.normalize_axes(axis, x.ndim, "softmax")  # so that a bad axis is an error naming softmax
    if x.size == 0 and any(x.shape[position] == 0 for position in axes):
        return ops.clone(x)  # nothing to normalize, and no maximum to subtract
    shifted = x - _largest(x, axes)
    exponentials = shifted.exp()
    return exponentials / exponentials.sum(axis, keepdims=True)


@composite
def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``x - log(sum(exp(x)))`` along ``axis``, stable for logits of 1000 and more.

    Integers are computed in the default float dtype.
    """
    x = ops._floats(x)
    axes = ops.normalize_axes(
        axis, x.ndim, "log_softmax"
    )  # so that a bad axis is an error naming log_softmax
    if x.size == 0 and any(x.shape[position] == 0 for position in axes):
        return ops.clone(x)  # nothing to normalize, and no maximum to subtract
    shifted = x - _largest(x, axes)
    return shifted - shifted.exp().sum(axis, keepdims=True).log()


@composite
def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, which cannot overflow; its gradient is softmax(x).

    The largest value is subtracted before exp and added back after log: the result
    does not depend on it, so it is a constant here, taken from the numbers. Where it
    is infinite (a slice of all -inf, or an inf) 0 is subtracted instead, which gives
    -inf or inf, as in PyTorch. Integers are computed in the default float dtype.
    """
    x = ops._floats(x)
    axes = ops.normalize_axes(axis, x.ndim, "logsumexp")
    if x.size == 0:  # no largest value; the sum of no exponentials is 0, its log -inf
        return x.exp().sum(axes, keepdims).log()
    peak = x.data.max(axis=axes, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0).astype(x.dtype)
    total = (x - peak).exp().sum(axes, keepdims).log()
    return total + (peak if keepdims else peak.squeeze(axes))


@composite
def gather(x: Any, axis: int, index: Any) -> Tensor:
    """The values of ``x`` that ``index`` picks along ``axis``: PyTorch's ``gather``.

    For a 2-D ``x`` and ``axis=1``, ``out[i, j] = x[i, index[i, j]]``: each row picks
    its own columns (numpy's ``take_along_axis``). ``index`` has as many axes as
    ``x``, no longer than x's along the other axes, and gives the result its shape.
    It is indexing, so the gradient adds up where a value was picked more than once.
    """
    x = ops._tensor(x)
    (axis,) = ops.normalize_axes(axis, x.ndim, "gather")
    index = np.asarray(index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"gather: the index must hold integers, got {index.dtype}")
    if index.ndim != x.ndim or any(
        index.shape[other] > x.shape[other] for other in range(x.ndim) if other != axis
    ):
        raise ValueError(
            f"gather: an index of shape {index.shape} does not fit a tensor of shape {x.shape} "
            f"(as many axes, and no longer along any axis but {axis})"
        )
    if index.size and (index.min() < 0 or index.max() >= x.shape[axis]):
        raise IndexError(
            f"gather: index values must be in [0, {x.shape[axis]}) along axis {axis}, "
            f"got {index.min()} to {index.max()}"
        )
    positions = list(np.indices(index.shape, sparse=True))
    positions[axis] = index
    return x[tuple(positions)]
