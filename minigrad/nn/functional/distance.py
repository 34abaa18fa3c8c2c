"""Lengths and angles of vectors: normalize, cosine_similarity and pairwise_distance.

Each works along one axis of its inputs (the vectors are the slices along it) and is
composed from the core ops (abs, pow, sum, max, div, where) with PyTorch's formulas,
``eps`` included where PyTorch puts it.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from minigrad import ops
from minigrad.composite import clip, norm, with_slope_0_at_0
from minigrad.engine import composite
from minigrad.tensor import Tensor


def _check_p(p: Any, op_name: str) -> None:
    """That the order ``p`` of a norm is a positive number or math.inf."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not p > 0:
        raise ValueError(
            f"{op_name}: p must be a positive number or math.inf, got {p!r}; p=2 is the Euclidean "
            f"norm, p=1 the sum of absolute values, p=math.inf the largest absolute value"
        )


def _vector_norm(x: Tensor, p: float, axes: tuple[int, ...], keepdims: bool) -> Tensor:
    """The p-norm over ``axes``: ``sum(|x|**p) ** (1/p)``, and ``max(|x|)`` for p = inf.

    The gradient is PyTorch's everywhere: the slope of ``|x|**p`` at x = 0 (infinite
    for p < 1) and that of the root where the sum is 0 (infinite for p > 1) are taken
    as 0, and for p = inf tied largest values share the gradient.
    """
    if p == 2:
        return norm(x, axes, keepdims)  # drawn as one norm box; slope 0 at the zero vector too
    magnitude = x.abs()
    if p == math.inf:
        return magnitude.max(axes, keepdims)
    if p == 1:
        return magnitude.sum(axes, keepdims)
    powers = with_slope_0_at_0(magnitude, lambda value: value**p)
    return with_slope_0_at_0(powers.sum(axes, keepdims), lambda value: value ** (1 / p))


@composite
def normalize(x: Any, p: float = 2.0, axis: Any = 1, eps: float = 1e-12) -> Tensor:
    """x divided by its p-norm along ``axis`` (PyTorch's ``dim``): ``x / max(||x||_p, eps)``.

    Each vector along ``axis`` becomes one of norm 1. One whose norm is below ``eps``
    is divided by ``eps`` instead, so the zero vector stays zero rather than 0 / 0;
    there the divisor is a constant and the gradient is ``grad / eps``, as in PyTorch.
    ``axis`` may be a tuple; ``p`` a positive number or math.inf.
    """
    _check_p(p, "normalize")
    x = ops._tensor(x)
    axes = ops.normalize_axes(axis, x.ndim, "normalize")
    return x / clip(_vector_norm(x, p, axes, keepdims=True), min=eps)


@composite
def cosine_similarity(x1: Any, x2: Any, axis: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between the vectors along ``axis`` (PyTorch's ``dim``)::

        cosine_similarity = sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))
                      = sum(normalize(x1, eps=eps) * normalize(x2, eps=eps))

    x1 and x2 broadcast together first, and ``axis`` is an axis of that shape, which
    the result lacks. Each vector is divided by its own norm before the product, as
    PyTorch does; a vector of norm below ``eps`` is divided by ``eps``, so a zero
    vector has similarity 0 with anything.

    PyTorch clamps the norms in place with autograd off, so for a norm strictly
    between 0 and ``eps`` its gradient still has the slope of the norm, although the
    value no longer depends on it; here the clamp is a recorded :func:`clip`, and the
    gradient is the derivative of the value (they agree everywhere else, zero vectors
    included).
    """
    x1, x2 = ops.as_tensors((x1, x2))
    shape = ops.broadcast_shapes("cosine_similarity", x1.shape, x2.shape)
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"cosine_similarity: axis must be an int, got {axis!r}")
    (axis,) = ops.normalize_axes(axis, len(shape), "cosine_similarity")
    unit1 = normalize(x1.broadcast_to(shape), axis=axis, eps=eps)
    unit2 = normalize(x2.broadcast_to(shape), axis=axis, eps=eps)
    return (unit1 * unit2).sum(axis)


@composite
def pairwise_distance(x1: Any, x2: Any, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """The p-norm distance between the vectors along the last axis: ``||x1 - x2 + eps||_p``.

    As in PyTorch, ``eps`` is added to every difference (not to the norm), so the
    distance of a vector to itself is ``eps * n ** (1/p)`` for vectors of n values,
    and its gradient is defined. x1 and x2 broadcast together (a single vector against
    a batch, say); ``keepdim=True`` keeps the last axis, with length 1. ``p`` is a
    positive number or math.inf.
    """
    _check_p(p, "pairwise_distance")
    x1, x2 = ops.as_tensors((x1, x2))
    if not ops.broadcast_shapes("pairwise_distance", x1.shape, x2.shape):
        raise ValueError(
            "pairwise_distance: expected vectors (or batches of them along the last axis), got two 0-d "
            "tensors; reshape them to (1,)"
        )
    difference = x1 - x2 + eps
    return _vector_norm(difference, p, (difference.ndim - 1,), keepdims=keepdim)
