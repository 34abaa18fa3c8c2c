"""Rearranging values: sorting, tiling, rolling, reshaping axes, triangles and diagonals.

None of these composites has a backward rule of its own. Sorting finds an order with
numpy (an order has no gradient) and picks the values in that order by indexing,
whose rule sends each gradient back to the position the value came from; rolling and
taking a diagonal are indexing too. Tiling and meshgrid are reshapes and
``broadcast_to``, so the gradient of a value is the sum over its copies, which
broadcasting's rule gives. A triangle is a ``where`` with a constant mask: the
entries set to 0 get no gradient.
"""

from __future__ import annotations

import numbers
import math
from collections.abc import Sequence
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


# ---- reshaping axes ---------------------------------------------------------------------


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge the axes from ``start_dim`` to ``end_dim`` (all, by default) into one: a reshape.

    A 0-d tensor becomes 1-D, as in PyTorch.
    """
    x = ops._tensor(x)
    if x.ndim == 0:
        return x.reshape(1)
    start, end = (ops.normalize_axes(axis, x.ndim, "flatten")[0] for axis in (start_dim, end_dim))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return x.reshape(x.shape[:start] + (math.prod(x.shape[start : end + 1]),) + x.shape[end + 1 :])


def unflatten(x: Any, dim: int, sizes: Sequence[int]) -> Tensor:
    """Axis ``dim`` of x split into axes of lengths ``sizes``, undoing :func:`flatten`: a reshape.

    One size may be -1, worked out from the others, as in PyTorch: unflattening axis 1
    of a (5, 6) tensor into ``(2, -1)`` gives shape (5, 2, 3). The arguments keep
    PyTorch's names, as :func:`flatten`'s do.
    """
    x = ops._tensor(x)
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"unflatten: dim must be an int, got {dim!r}")
    (axis,) = ops.normalize_axes(dim, x.ndim, "unflatten")
    if not isinstance(sizes, (tuple, list)) or not sizes:
        raise ValueError(f"unflatten: sizes must be a non-empty tuple or list of ints, got {sizes!r}")
    whole = all(isinstance(size, numbers.Integral) and not isinstance(size, bool) for size in sizes)
    if not whole or any(size < -1 for size in sizes) or list(sizes).count(-1) > 1:
        raise ValueError(f"unflatten: sizes must be non-negative ints, one of them -1 at most, got {sizes!r}")
    length = x.shape[axis]
    known = math.prod(size for size in sizes if size != -1)
    new_sizes = tuple(length // known if size == -1 and known else int(size) for size in sizes)
    if math.prod(new_sizes) != length:
        raise ValueError(
            f"unflatten: sizes {tuple(sizes)} do not multiply to the length {length} of axis {axis} "
            f"of a tensor of shape {x.shape}; their product must be {length} (one -1 is worked out)"
        )
    return x.reshape(x.shape[:axis] + new_sizes + x.shape[axis + 1 :])


@engine.composite
def roll(x: Any, shifts: Any, axis: Any = None) -> Tensor:
    """x with its values moved ``shifts`` places along ``axis``; those pushed off the end come back at the start.

    numpy's and PyTorch's roll: ``roll([1, 2, 3], 1)`` is ``[3, 1, 2]``, and a negative
    shift moves the other way. ``shifts`` and ``axis`` are ints, or tuples of one length
    (a shift per axis; an axis named twice is rolled by the sum). With ``axis=None`` x
    is rolled as one line (flattened) and keeps its shape. Each roll is indexing with
    the positions ``(i - shift) % length``, so each gradient goes back to where its
    value came from.
    """
    x = ops._tensor(x)
    if axis is None:
        if not isinstance(shifts, numbers.Integral):
            raise TypeError(
                f"roll: with axis=None x is rolled as one line, so shifts must be one int, got {shifts!r}; "
                f"to roll several axes, give them: roll(x, {shifts!r}, axis=(0, 1, ...))"
            )
        return _roll_along(x.reshape(-1), int(shifts), 0).reshape(x.shape)
    shift_per_axis = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    if len(shift_per_axis) != len(axes):
        raise ValueError(
            f"roll: {len(shift_per_axis)} shifts {shifts!r} and {len(axes)} axes {axis!r} must pair up; "
            f"give one shift per axis"
        )
    for shift, one_axis in zip(shift_per_axis, axes):
        if not isinstance(shift, numbers.Integral):
            raise TypeError(f"roll: shifts must be ints, got {shifts!r}")
        (one_axis,) = ops.normalize_axes(one_axis, x.ndim, "roll")
        x = _roll_along(x, int(shift), one_axis)
    return x


def _roll_along(x: Tensor, shift: int, axis: int) -> Tensor:
    """x rolled by ``shift`` along one axis: the value at position i comes from ``(i - shift) % length``."""
    length = x.shape[axis]
    if length == 0 or shift % length == 0:
        return x
    sources = (np.arange(length) - shift) % length
    return x[(slice(None),) * axis + (sources,)]


@engine.composite
def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors: output i holds ``tensors[i]`` repeated along every other axis.

    For tensors of lengths n0, n1, ... each output has shape (n0, n1, ...), and output
    i runs along axis i: ``indexing="ij"``, matrix indexing, the default. ``"xy"``,
    Cartesian indexing (numpy's default), swaps the first two axes, so that for
    ``X, Y = meshgrid(x, y, indexing="xy")``, X varies along the columns (axis 1).
    PyTorch defaults to "ij" too, but warns when indexing is not given; here "ij" is
    simply the default. The tensors may also come as one list; a 0-d tensor counts as
    one of length 1. Each output is a reshape and a ``broadcast_to`` of its input, so
    the gradient of a value is the sum over its copies.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise ValueError("meshgrid: needs at least one tensor")
    if indexing not in ("ij", "xy"):
        raise ValueError(f'meshgrid: indexing must be "ij" or "xy", got {indexing!r}')
    lines = [ops._tensor(tensor) for tensor in tensors]
    for line in lines:
        if line.ndim > 1:
            raise ValueError(
                f"meshgrid: takes 0-d or 1-D tensors, got one of shape {line.shape}; flatten it first"
            )
    lines = [line.reshape(-1) for line in lines]
    # grid_axis[i]: the axis of the grid along which tensor i runs
    grid_axis = list(range(len(lines)))
    if indexing == "xy" and len(lines) > 1:
        grid_axis[0], grid_axis[1] = 1, 0
    shape = [0] * len(lines)
    for line, position in zip(lines, grid_axis):
        shape[position] = line.shape[0]
    grids = []
    for line, position in zip(lines, grid_axis):
        along = [1] * len(lines)
        along[position] = line.shape[0]
        grids.append(line.reshape(along).broadcast_to(shape))
    return tuple(grids)


# ---- triangles and diagonals ------------------------------------------------------------


def _matrices(x: Any, diagonal: Any, op_name: str) -> Tensor:
    """x as a tensor of at least 2 dimensions (a matrix, or a batch of them), with an int ``diagonal``."""
    x = ops._tensor(x)
    if x.ndim < 2:
        raise ValueError(
            f"{op_name}: needs a matrix or a batch of matrices (at least 2 dimensions), got a tensor of "
            f"shape {x.shape}; reshape a vector to (1, n) or (n, 1) first"
        )
    if not isinstance(diagonal, numbers.Integral) or isinstance(diagonal, bool):
        raise TypeError(f"{op_name}: diagonal must be an int, got {diagonal!r}")
    return x


def _kept(x: Tensor, keep: np.ndarray) -> Tensor:
    """x where the constant mask ``keep`` (over its last two axes; x broadcasts to it) is True, 0 elsewhere."""
    return ops.where(keep, x, np.zeros((), x.dtype))


@engine.composite
def tril(x: Any, diagonal: int = 0) -> Tensor:
    """The lower triangle of x: its values on and below the ``diagonal``-th diagonal, 0 above.

    ``diagonal=0`` is the main diagonal, 1 the one above it, -1 the one below. x is a
    matrix or a batch of them (the last two axes), as in PyTorch. A ``where`` with a
    constant mask (numpy's ``tri``), so the values set to 0 get no gradient.
    """
    x = _matrices(x, diagonal, "tril")
    return _kept(x, np.tri(*x.shape[-2:], k=int(diagonal), dtype=bool))


@engine.composite
def triu(x: Any, diagonal: int = 0) -> Tensor:
    """The upper triangle of x: its values on and above the ``diagonal``-th diagonal, 0 below.

    The opposite of :func:`tril` (``triu(x, k) + tril(x, k - 1)`` is x), by the same
    ``where`` with a constant mask.
    """
    x = _matrices(x, diagonal, "triu")
    return _kept(x, ~np.tri(*x.shape[-2:], k=int(diagonal) - 1, dtype=bool))


@engine.composite
def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The ``offset``-th diagonal of the matrices that axes ``axis1`` and ``axis2`` of x hold.

    numpy's and PyTorch's diagonal: ``out[..., i] = x[i, i + offset]`` over those two
    axes, which are removed, the diagonal becoming the last axis. ``offset > 0`` is
    above the main diagonal, ``< 0`` below it; one past the edge gives an empty
    diagonal. It is indexing, so the gradient goes back onto the diagonal, and the rest
    of x gets 0.
    """
    x = _matrices(x, offset, "diagonal")
    rows_axis, columns_axis = (ops.normalize_axes(axis, x.ndim, "diagonal")[0] for axis in (axis1, axis2))
    if rows_axis == columns_axis:
        raise ValueError(
            f"diagonal: axis1={axis1} and axis2={axis2} are the same axis of a tensor of shape {x.shape}; "
            f"a diagonal runs through two different axes"
        )
    return _diagonal(x, int(offset), rows_axis, columns_axis)


def _diagonal(x: Tensor, offset: int, rows_axis: int, columns_axis: int) -> Tensor:
    """The ``offset``-th diagonal through two different axes of x, as its last axis: indexing."""
    others = [position for position in range(x.ndim) if position not in (rows_axis, columns_axis)]
    matrices = ops.transpose(x, [*others, rows_axis, columns_axis])
    rows, columns = matrices.shape[-2:]
    first_row, first_column = max(-offset, 0), max(offset, 0)
    steps = np.arange(max(0, min(rows - first_row, columns - first_column)))
    return matrices[..., steps + first_row, steps + first_column]


@engine.composite
def diag(x: Any, diagonal: int = 0) -> Tensor:
    """A matrix with the vector x on its ``diagonal``-th diagonal, or the diagonal of the matrix x.

    PyTorch's diag. From a 1-D x of length n: an (n + |diagonal|)-square matrix, 0 off
    that diagonal. x, padded with zeros to the length of a row, is broadcast to every
    row and kept by a ``where`` on the diagonal, so the gradient of x is read back
    from the diagonal. From a 2-D x: ``diagonal(x, diagonal)``, a 1-D tensor.
    """
    x = ops._tensor(x)
    if x.ndim not in (1, 2):
        raise ValueError(
            f"diag: takes a vector (1-D) to make a matrix, or a matrix (2-D) to take its diagonal, "
            f"got a tensor of shape {x.shape}; for the diagonals of a batch of matrices use "
            f"diagonal(x, offset, axis1, axis2)"
        )
    if not isinstance(diagonal, numbers.Integral) or isinstance(diagonal, bool):
        raise TypeError(f"diag: diagonal must be an int, got {diagonal!r}")
    offset = int(diagonal)
    if x.ndim == 2:
        return _diagonal(x, offset, 0, 1)
    padding = np.zeros(abs(offset), x.dtype)
    # Every row is the same padded x, of which the mask keeps one entry: the entry in
    # column j holds x[j - max(offset, 0)], so the zeros go before x above the main
    # diagonal and after it below.
    row = x if offset == 0 else ops.concatenate([padding, x] if offset > 0 else [x, padding])
    return _kept(row, np.eye(len(row), k=offset, dtype=bool))
