"""Adaptive pooling: windows sized to give an output of a chosen size, composed from indexing, sum and max.

Along an axis of L inputs pooled into S output cells, cell i covers the inputs
floor(i * L / S) up to, not including, ceil((i + 1) * L / S), as in PyTorch. Where S
divides L the windows tile the axis, L / S inputs each; otherwise neighbours overlap by
one input (or, for S > L, repeat inputs), and windows are one shorter or longer than
others. For a (N, C, H, W) batch and an output of (S_h, S_w) cells:

- the window rows of each output row are picked by indexing, then the window columns of
  each output column, giving every window's values as a (N, C, S_h, kh, S_w, kw) tensor,
  kh and kw the longest window's length along each axis; a shorter window's missing
  taps are filled in by ``where``, with 0 for the mean and -inf for the max;
- ``adaptive_avg_pool2d`` sums over (kh, kw) and divides by each window's length;
  ``adaptive_max_pool2d`` takes the max over (kh, kw).

The gradients are the chain rule through ``sum`` or ``max``, ``where`` and indexing,
whose backward adds each window's gradient into the positions it read. As in PyTorch,
each function also takes one unbatched image (C, H, W).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.engine import composite
from minigrad.nn.functional.convolution import _as_batch, _never_the_largest
from minigrad.tensor import Tensor

# One int for both axes, or (rows, columns), where None keeps the input's size.
OutputSize = int | tuple[int | None, int | None]


def _output_size(output_size: Any, function: str) -> tuple[int | None, int | None]:
    """``output_size`` as (rows, columns), checked: one int serves both, None keeps the input's size."""
    sizes = (output_size, output_size) if isinstance(output_size, numbers.Integral) else output_size
    if (
        not isinstance(sizes, (tuple, list))
        or len(sizes) != 2
        or not all(
            size is None or (isinstance(size, numbers.Integral) and not isinstance(size, bool) and size >= 1)
            for size in sizes
        )
    ):
        raise ValueError(
            f"{function}: output_size must be an int or a pair (rows, columns) of ints or None "
            f"(None keeps the input's size), each int at least 1, got {output_size!r}"
        )
    return tuple(None if size is None else int(size) for size in sizes)


def _window_taps(size: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``cells`` windows along an axis of ``size`` inputs reads, and which taps are real.

    Returns the positions as (cells, k), k the longest window's length, and a bool array
    of that shape, False for the taps a shorter window lacks; those read the window's
    first input, as any position would do: the caller replaces their values.
    """
    cell = np.arange(cells)
    starts = cell * size // cells
    ends = -(-(cell + 1) * size // cells)  # the ceiling of (i + 1) * size / cells
    positions = starts[:, np.newaxis] + np.arange((ends - starts).max())
    real = positions < ends[:, np.newaxis]
    return np.where(real, positions, starts[:, np.newaxis]), real


def _pick(x: Tensor, axis: int, positions: np.ndarray) -> Tensor:
    """``x`` at ``positions`` along ``axis``, by indexing: a position read twice gets both gradients."""
    if np.array_equal(positions, np.arange(x.shape[axis])):
        return x  # windows that tile the axis read every slice once, in order
    return x[(slice(None),) * axis + (positions,)]


def _adaptive_windows(
    function: str, x: Tensor, output_size: Any
) -> tuple[Tensor, np.ndarray, tuple[int, ...]]:
    """Every output cell's window, where each of its taps reads, and the result's shape.

    Returns the windows as (N, C, S_h, kh, S_w, kw); an int array of shape (S_h, kh,
    S_w, kw) giving each tap's position in its channel's input (``row * W + column``),
    or -1 for a tap that a shorter window lacks (its value is a copy, to be replaced);
    and the result's shape, (N, C, S_h, S_w) or (C, S_h, S_w) as ``x`` is batched or not.
    """
    batch, _ = _as_batch(x, function)  # the result's shape comes from x's
    n, channels, height, width = batch.shape
    if height == 0 or width == 0:
        raise ValueError(
            f"{function}: the input's H and W must be at least 1, to have values to pool; got shape {x.shape}"
        )
    rows_out, columns_out = _output_size(output_size, function)
    out_h = height if rows_out is None else rows_out
    out_w = width if columns_out is None else columns_out
    rows, real_rows = _window_taps(height, out_h)
    columns, real_columns = _window_taps(width, out_w)
    # (N, C, S_h * kh, W): each window's rows; then (N, C, S_h * kh, S_w * kw): their columns.
    windows = _pick(_pick(batch, 2, rows.ravel()), 3, columns.ravel())
    windows = windows.reshape(n, channels, *rows.shape, *columns.shape)
    taps = rows[:, :, np.newaxis, np.newaxis] * width + columns
    taps[~(real_rows[:, :, np.newaxis, np.newaxis] & real_columns)] = -1
    return windows, taps, (*x.shape[:-2], out_h, out_w)


@composite
def adaptive_avg_pool2d(input: Any, output_size: OutputSize) -> Tensor:
    """The mean of each window, sized to give ``output_size``: (N, C, H, W) -> (N, C, S_h, S_w).

    ``output_size`` is an int (both axes) or a pair (S_h, S_w), where None keeps the
    input's size. Output cell (i, j) is the mean of the input rows floor(i * H / S_h)
    to ceil((i + 1) * H / S_h) - 1 and the columns found the same way, as in PyTorch:

        y[i, j] = sum over the window of x / (rows in the window * columns in the window)

    So ``output_size=1`` is the global mean of each channel, and where S_h divides H
    and S_w divides W it is ``avg_pool2d`` with a kernel and stride of (H / S_h, W / S_w).
    Integers are averaged in the default float dtype, as ``mean`` does. The gradient
    of each output value is spread evenly over its window, 1 / (its number of values)
    each; an input read by several (overlapping) windows gets the sum of their shares.
    """
    windows, taps, shape = _adaptive_windows("adaptive_avg_pool2d", ops._floats(input), output_size)
    real = taps >= 0
    if not real.all():
        windows = ops.where(real, windows, Tensor._wrap(np.zeros((), windows.dtype)))
    count = real.sum(axis=(1, 3)).astype(windows.dtype)  # (S_h, S_w): the values in each window
    return (windows.sum(axis=(3, 5)) / count).reshape(shape)


@composite
def adaptive_max_pool2d(
    input: Any, output_size: OutputSize, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """The largest value of each window, sized to give ``output_size``: (N, C, H, W) -> (N, C, S_h, S_w).

    The windows are :func:`adaptive_avg_pool2d`'s: output cell (i, j) is the max of the
    input rows floor(i * H / S_h) to ceil((i + 1) * H / S_h) - 1 and the columns found
    the same way, as in PyTorch. A window shorter than the longest is filled in with
    -inf (an integer's smallest value for integers), which never wins.

    The gradient goes to the largest value of each window; where a window holds its
    largest value more than once, the copies share it equally (PyTorch gives it all to
    one of them), as in :func:`max_pool2d`. A window whose values are all -inf shares
    it with its filler too, so part of it goes nowhere. A nan is its window's maximum
    and takes the gradient. An input read by several (overlapping) windows gets the
    sum of what each gives it.

    With ``return_indices=True`` the result is ``(values, indices)``, as in PyTorch:
    ``indices`` (int64, no gradient) holds where in its channel's H x W input each
    largest value is, as ``row * W + column``, the first one (row by row) where there
    are several.
    """
    if not isinstance(return_indices, (bool, np.bool_)):
        raise TypeError(f"adaptive_max_pool2d: return_indices must be True or False, got {return_indices!r}")
    windows, taps, shape = _adaptive_windows("adaptive_max_pool2d", ops._tensor(input), output_size)
    windows = _never_the_largest(windows, taps >= 0)
    values = windows.max(axis=(3, 5)).reshape(shape)
    if not return_indices:
        return values
    # Each window's taps row by row, so that argmax finds the first largest (nan counting as largest).
    n, channels, out_h, kh, out_w, kw = windows.shape
    in_row_order = windows.data.transpose(0, 1, 2, 4, 3, 5).reshape(n, channels, out_h, out_w, kh * kw)
    largest_tap = in_row_order.argmax(axis=4)
    positions = taps.transpose(0, 2, 1, 3).reshape(out_h, out_w, kh * kw)
    indices = positions[np.arange(out_h)[:, np.newaxis], np.arange(out_w), largest_tap]
    return values, Tensor._wrap(indices.reshape(shape).astype(np.int64))
