"""Sorting and tiling: composites that put values in a new order or repeat them.

None of them has a backward rule of its own. Sorting finds an order with numpy (an
order has no gradient) and picks the values in that order by indexing, whose rule
sends each gradient back to the position the value came from. Tiling is a reshape,
a ``broadcast_to`` and a reshape, so its gradient is the sum of the gradients of the
copies, which broadcasting's rule gives.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np

# Modules, not names: minigrad.tensor imports this module at its end, before
# minigrad.composite has finished loading.
from minigrad import composite, engine, ops
from minigrad.tensor import Tensor


class ValuesAndIndices(NamedTuple):
    """What :func:`sort` and :func:`topk` return: a pair, also readable by name as in PyTorch.

    ``values`` are recorded (gradients flow back through them); ``indices`` say where
    along the axis each value came from, as an int64 tensor with no gradient.
    """

    values: Tensor
    indices: Tensor


# ---- sorting ----------------------------------------------------------------------------


def _order(data: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """The int64 indices that put ``data`` in order along ``axis``.

    Equal values keep their original order, and nan counts as the largest value: last
    in ascending order, first in descending order, as in PyTorch. Descending order is
    found by sorting the values back to front and reading that order back to front:
    equal values, reversed twice, stay in their original order, which negating the
    values instead would not give for unsigned integers or nan.
    """
    if not descending:
        return np.argsort(data, axis=axis, kind="stable").astype(np.int64, copy=False)
    backwards = np.argsort(np.flip(data, axis), axis=axis, kind="stable")
    return (data.shape[axis] - 1 - np.flip(backwards, axis)).astype(np.int64, copy=False)


def _at_least_1d(x: Any, axis: Any, op_name: str) -> tuple[Tensor, Tensor, int]:
    """x as a tensor, x with at least one axis (a 0-d x as one value), and ``axis`` as a non-negative int.

    A 0-d tensor has one axis to sort along, 0 or -1, as in PyTorch.
    """
    x = ops._tensor(x)
    if not isinstance(axis, numbers.Integral):
        raise TypeError(f"{op_name}: axis must be an int, got {axis!r}")
    (axis,) = ops.normalize_axes(axis, max(x.ndim, 1), op_name)
    return x, x.reshape(1) if x.ndim == 0 else x, axis


def _pick(x: Tensor, axis: int, indices: np.ndarray, shape: tuple[int, ...]) -> ValuesAndIndices:
    """The values of ``x`` at ``indices`` along ``axis``, and the indices, both in ``shape``."""
    values = composite.gather(x, axis, indices)
    return ValuesAndIndices(values.reshape(shape), Tensor._wrap(indices.reshape(shape)))


@engine.composite
def sort(x: Any, axis: int = -1, descending: bool = False, stable: bool = False) -> ValuesAndIndices:
    """The values of x in order along ``axis``, and where each came from: ``(values, indices)``.

    ``values`` is ``gather(x, axis, indices)``, so each value's gradient goes back to
    the position it came from. nan counts as the largest value (last, or first when
    ``descending``), as in PyTorch. The sort is always stable: equal values keep their
    original order, so ``stable=False`` changes nothing (it allows any order of equal
    values, and this one is among them).

    Examples
    --------
    >>> values, indices = sort(Tensor([3.0, 1.0, 2.0]))
    >>> values, indices
    (tensor([1., 2., 3.]), tensor([1, 2, 0]))
    """
    x, line, axis = _at_least_1d(x, axis, "sort")
    return _pick(line, axis, _order(line.data, axis, descending), x.shape)


def argsort(x: Any, axis: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort x along ``axis`` (an int64 tensor, never recorded): ``sort(x).indices``.

    Equal values keep their original order; nan counts as the largest value.
    """
    x, line, axis = _at_least_1d(x, axis, "argsort")
    return Tensor._wrap(_order(line.data, axis, descending).reshape(x.shape))


@engine.composite
def topk(x: Any, k: int, axis: int = -1, largest: bool = True, sorted: bool = True) -> ValuesAndIndices:
    """The ``k`` largest values of x along ``axis`` (smallest if not ``largest``), and their indices.

    The first ``k`` of ``sort(x, axis, descending=largest)``: so the values come in
    order, and of equal values the first ones in x are taken. ``sorted=False`` allows
    any order, and gives this one. nan counts as the largest value, as in PyTorch. The
    gradient reaches the ``k`` values picked and no others.
    """
    x, line, axis = _at_least_1d(x, axis, "topk")
    if not isinstance(k, numbers.Integral) or isinstance(k, bool):
        raise TypeError(f"topk: k must be an int, got {k!r}")
    length = line.shape[axis]
    fewest = 1 if x.ndim == 0 else 0  # the result of a 0-d tensor is 0-d: one value
    if not fewest <= k <= length:
        where = (
            "a 0-d tensor, which has one value"
            if x.ndim == 0
            else f"axis {axis} of length {length} of a tensor of shape {x.shape}"
        )
        raise ValueError(f"topk: k={k} is out of range for {where}; k must be from {fewest} to {length}")
    first_k = (slice(None),) * axis + (slice(0, int(k)),)
    indices = _order(line.data, axis, descending=largest)[first_k]
    return _pick(line, axis, indices, indices.shape if x.ndim else ())


# ---- tiling -----------------------------------------------------------------------------


def _counts(reps: Any, op_name: str) -> tuple[int, ...]:
    """``reps`` (an int, or a tuple or list of ints) as a tuple of non-negative ints."""
    counts = tuple(reps) if isinstance(reps, (tuple, list)) else (reps,)
    if not all(isinstance(count, numbers.Integral) for count in counts):
        raise TypeError(f"{op_name}: the numbers of copies must be ints, got {reps!r}")
    if any(count < 0 for count in counts):
        raise ValueError(f"{op_name}: the numbers of copies must not be negative, got {reps!r}")
    return tuple(int(count) for count in counts)


@engine.composite
def tile(x: Any, reps: Any) -> Tensor:
    """x repeated ``reps[i]`` times along each axis i, the copies one after another: numpy's tile.

    ``reps`` is an int or a tuple of ints. With fewer reps than x has axes, the first
    axes get 1; with more, x gets new leading axes of length 1 first. So
    ``tile([1, 2], 2)`` is ``[1, 2, 1, 2]`` and ``tile([1, 2], (2, 1))`` is
    ``[[1, 2], [1, 2]]``.

    Each axis of length n gets a new axis of length 1 in front of it, which
    ``broadcast_to`` stretches to ``reps[i]``; merging the two gives ``reps[i] * n``
    values, copy after copy. The gradient of x is the sum over the copies: the
    backward of broadcasting.
    """
    x = ops._tensor(x)
    counts = _counts(reps, "tile")
    ndim = max(len(counts), x.ndim)
    counts = (1,) * (ndim - len(counts)) + counts
    lengths = (1,) * (ndim - x.ndim) + x.shape
    pairs = list(zip(counts, lengths))
    spaced = x.reshape([size for length in lengths for size in (1, length)])
    copies = spaced.broadcast_to([size for pair in pairs for size in pair])
    return copies.reshape([count * length for count, length in pairs])


def repeat(x: Any, *sizes: Any) -> Tensor:
    """PyTorch's ``Tensor.repeat``: :func:`tile`, with one size per axis of x (new axes in front).

    ``sizes`` are ints or one tuple. Unlike ``tile``, fewer sizes than x has axes is
    an error. (numpy's ``repeat`` is something else: :func:`repeat_interleave`.)
    """
    x = ops._tensor(x)
    sizes = _counts(sizes[0] if len(sizes) == 1 else sizes, "repeat")
    if len(sizes) < x.ndim:
        raise ValueError(
            f"repeat: a tensor of shape {x.shape} has {x.ndim} axes, but sizes {sizes} give copies "
            f"for {len(sizes)}; give one number of copies per axis (more put new axes in front), "
            f"or use tile, which takes fewer"
        )
    return tile(x, sizes)


@engine.composite
def repeat_interleave(x: Any, repeats: Any, axis: int | None = None) -> Tensor:
    """Each value of x repeated ``repeats`` times along ``axis``, the copies side by side.

    ``repeat_interleave([1, 2], 2)`` is ``[1, 1, 2, 2]`` (``tile`` would give
    ``[1, 2, 1, 2]``); numpy calls it ``repeat``. ``repeats`` is an int, or one int
    per value along the axis (a list, array or tensor): ``repeat_interleave([1, 2],
    [3, 0])`` is ``[1, 1, 1]``. ``axis=None`` works on the flattened x and gives a 1-D
    result. It is indexing with each index repeated, so the gradient of a value is the
    sum over its copies.
    """
    x = ops._tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    elif not isinstance(axis, numbers.Integral):
        raise TypeError(f"repeat_interleave: axis must be an int or None, got {axis!r}")
    else:
        (axis,) = ops.normalize_axes(axis, x.ndim, "repeat_interleave")
    counts = _interleave_counts(repeats, x.shape, axis)
    sources = np.repeat(np.arange(x.shape[axis]), counts)
    return x[(slice(None),) * axis + (sources,)]


def _interleave_counts(repeats: Any, shape: tuple[int, ...], axis: int) -> np.ndarray:
    """``repeats`` as a 1-D integer array: one count, or one per value along ``axis``."""
    counts = np.asarray(repeats)
    if counts.size == 0 and counts.dtype.kind == "f":  # numpy makes an empty list float
        counts = counts.astype(np.int64)
    if counts.dtype.kind not in "iu":
        raise TypeError(f"repeat_interleave: repeats must be an int or integers, got {counts.dtype}")
    if counts.ndim > 1 or counts.size not in (1, shape[axis]):
        raise ValueError(
            f"repeat_interleave: repeats of shape {counts.shape} do not fit axis {axis} of length "
            f"{shape[axis]} of a tensor of shape {shape}; give one int, or a 1-D list of "
            f"{shape[axis]} (one per value)"
        )
    if (counts < 0).any():
        raise ValueError(f"repeat_interleave: repeats must not be negative, got {counts.tolist()}")
    return counts.reshape(-1)
