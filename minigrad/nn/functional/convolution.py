"""Convolution and pooling, composed from Unfold and Fold: no backward code of their own.

:class:`~minigrad.primitives.Unfold` (im2col) lays out every window of an image batch
(N, C, H, W) as a column of C * kh * kw values, one column per output position. On
those columns

- ``conv2d`` is one matrix product with the weight, plus the bias;
- ``max_pool2d`` is a max over each window's taps, ``avg_pool2d`` a sum divided by a count.

Their gradients are the chain rule through ``matmul``, ``max``, ``sum`` and Unfold,
whose backward is Fold (col2im): each pixel gets the gradients of all the windows that
read it. As in PyTorch, each function also takes one unbatched image (C, H, W).

The 1-D functions (:mod:`minigrad.nn.functional.convolution1d`) share this code: a
sequence (N, C, L) is an image one row high, (N, C, 1, L), whose windows are one row
tall. The arguments are checked, and errors worded, in the caller's own dimensions
(``dims``: 1 or 2); only the computation works on images.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.engine import composite
from minigrad.nn.functional.padding import pad
from minigrad.primitives import Fold, Unfold
from minigrad.tensor import Tensor

IntPair = int | tuple[int, int]

# How messages name the spatial axes of an input and of a kernel, for 1-D and for 2-D.
_AXES = {1: "L", 2: "H, W"}
_KERNEL_AXES = {1: "k", 2: "kh, kw"}


# ---- the arguments -----------------------------------------------------------------------


def _per_axis(value: Any, name: str, function: str, smallest: int, dims: int) -> tuple[int, ...]:
    """``value`` as one int per spatial axis (``dims`` of them): one int serves all, as in PyTorch."""
    sizes = (value,) * dims if isinstance(value, numbers.Integral) else value
    if (
        not isinstance(sizes, (tuple, list))
        or len(sizes) != dims
        or not all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= smallest for n in sizes
        )
    ):
        several = "a pair of ints (rows, columns), each" if dims == 2 else "a tuple of one int,"
        raise ValueError(f"{function}: {name} must be an int or {several} at least {smallest}, got {value!r}")
    return tuple(int(n) for n in sizes)


def _show(sizes: tuple[int, ...]) -> int | tuple[int, ...]:
    """Sizes as messages show them: a pair for an image, the one int for a sequence."""
    return sizes[0] if len(sizes) == 1 else sizes


def _window_args(
    function: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any
) -> dict[str, tuple[int, ...]]:
    """The window arguments of Unfold and Fold, checked and made pairs."""
    return {
        "kernel_size": _per_axis(kernel_size, "kernel_size", function, 1, 2),
        "dilation": _per_axis(dilation, "dilation", function, 1, 2),
        "padding": _per_axis(padding, "padding", function, 0, 2),
        "stride": _per_axis(stride, "stride", function, 1, 2),
    }


def _as_batch(x: Tensor, function: str, dims: int = 2) -> tuple[Tensor, bool]:
    """A batch (N, C, H, W), or (N, C, L) for ``dims=1``, and whether ``x`` was one unbatched input."""
    if x.ndim == dims + 1:
        return x.reshape((1, *x.shape)), True
    if x.ndim != dims + 2:
        raise ValueError(
            f"{function}: expected input of shape (N, C, {_AXES[dims]}) or (C, {_AXES[dims]}), got {x.shape}"
        )
    return x, False


def _windows_per_axis(
    function: str,
    image_size: tuple[int, ...],
    kernel_size: tuple[int, ...],
    dilation: tuple[int, ...],
    padding: tuple[int, ...],
    stride: tuple[int, ...],
    ceil_mode: bool = False,
) -> tuple[int, ...]:
    """How many windows fit along each axis of the padded input: the output's (H, W), or (L,).

    With ``ceil_mode`` (pooling), a last window that hangs past the padded input's end
    counts too, as in PyTorch, if it starts inside the input or its first padding.
    """
    counts = []
    for size, k, d, p, s in zip(image_size, kernel_size, dilation, padding, stride):
        reach = size + 2 * p - (d * (k - 1) + 1)  # how far the first window can move
        count = (-(-reach // s) if ceil_mode else reach // s) + 1
        if ceil_mode and (count - 1) * s >= size + p:
            count -= 1
        counts.append(count)
    if min(counts) < 1:
        spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel_size, dilation))
        padded = tuple(n + 2 * p for n, p in zip(image_size, padding))
        unit = "pixels" if len(image_size) == 2 else "positions"
        raise ValueError(
            f"{function}: the kernel {_show(kernel_size)} with dilation {_show(dilation)} spans "
            f"{_show(spans)} {unit}, more than the padded input: {_show(tuple(image_size))} with padding "
            f"{_show(padding)} on each side is {_show(padded)}; use a smaller kernel or dilation, or more "
            f"padding"
        )
    return tuple(counts)


# ---- computing on images: a sequence is an image one row high -------------------------------


def _as_image(batch: Tensor) -> Tensor:
    """An (N, C, H, W) batch as it is, an (N, C, L) batch as (N, C, 1, L)."""
    return batch.reshape(*batch.shape[:2], *_image_sizes(batch.shape[2:], 1))


def _image_sizes(sizes: tuple[int, ...], row: int) -> tuple[int, ...]:
    """Sizes for (rows, columns): a sequence's one size is the columns', and ``row`` the rows'."""
    return (row,) * (2 - len(sizes)) + tuple(sizes)


def _image_windows(
    kernel_size: tuple[int, ...], dilation: tuple[int, ...], padding: tuple[int, ...], stride: tuple[int, ...]
) -> dict[str, tuple[int, ...]]:
    """Unfold's window arguments for the image: a sequence's windows are one row tall, unpadded."""
    return {
        "kernel_size": _image_sizes(kernel_size, 1),
        "dilation": _image_sizes(dilation, 1),
        "padding": _image_sizes(padding, 0),
        "stride": _image_sizes(stride, 1),
    }


# ---- unfold and fold ----------------------------------------------------------------------


@composite
def unfold(
    input: Any, kernel_size: IntPair, dilation: IntPair = 1, padding: IntPair = 0, stride: IntPair = 1
) -> Tensor:
    """Every sliding window of ``input`` as a column (im2col): (N, C, H, W) -> (N, C * kh * kw, L).

    After zero ``padding``, a window of ``kernel_size`` taps, ``dilation`` apart, is
    placed at every ``stride``-th position; each of the L positions (row by row) gives
    one column, ordered channel first, then kernel row, then kernel column. An
    unbatched (C, H, W) input gives (C * kh * kw, L). The gradient is :func:`fold`'s sum.
    """
    x, unbatched = _as_batch(ops._tensor(input), "unfold")
    windows = _window_args("unfold", kernel_size, dilation, padding, stride)
    _windows_per_axis("unfold", x.shape[2:], **windows)
    columns = Unfold.apply(x, **windows)
    return columns.reshape(columns.shape[1:]) if unbatched else columns


@composite
def fold(
    input: Any,
    output_size: IntPair,
    kernel_size: IntPair,
    dilation: IntPair = 1,
    padding: IntPair = 0,
    stride: IntPair = 1,
) -> Tensor:
    """Columns summed back into images (col2im): (N, C * kh * kw, L) -> (N, C, H, W).

    The adjoint of :func:`unfold` with the same arguments, ``output_size`` (H, W) being
    the image's size: each value is added to the pixel its window tap covers, so
    overlapping windows add up, and values that fall on the padding are dropped.
    ``fold(unfold(x))`` is x times the number of windows covering each pixel. An
    unbatched (C * kh * kw, L) input gives (C, H, W).
    """
    columns = ops._tensor(input)
    shape = columns.shape
    if columns.ndim not in (2, 3):
        raise ValueError(
            f"fold: expected input of shape (N, C * kh * kw, L) or (C * kh * kw, L), got {shape}"
        )
    unbatched = columns.ndim == 2
    if unbatched:
        columns = columns.reshape((1, *shape))
    output_size = _per_axis(output_size, "output_size", "fold", 1, 2)
    windows = _window_args("fold", kernel_size, dilation, padding, stride)
    out_h, out_w = _windows_per_axis("fold", output_size, **windows)
    taps = math.prod(windows["kernel_size"])
    if columns.shape[1] % taps:
        raise ValueError(
            f"fold: axis {columns.ndim - 2 - unbatched} of the input holds C * kh * kw values, a multiple "
            f"of the kernel's {taps} taps; got input of shape {shape} for kernel_size {windows['kernel_size']}"
        )
    if columns.shape[2] != out_h * out_w:
        raise ValueError(
            f"fold: an image of size {output_size} has {out_h} * {out_w} = {out_h * out_w} windows with "
            f"these arguments, so the input needs as many columns in its last axis; got shape {shape}"
        )
    image = Fold.apply(columns, output_size=output_size, **windows)
    return image.reshape(image.shape[1:]) if unbatched else image


# ---- convolution --------------------------------------------------------------------------


@composite
def conv2d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: IntPair = 1,
    padding: IntPair | str = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch): (N, C, H, W) -> (N, out_channels, H', W').

    ``weight`` has shape (out_channels, C / groups, kh, kw) and ``bias`` (out_channels,).
    Each output value is a window of the zero-padded input times a filter, summed, plus
    the bias: with the windows unfolded into columns (see :func:`unfold`), the whole
    batch is one matrix product. ``groups`` splits the channels into that many groups,
    each convolved with its own out_channels / groups filters. ``padding`` is an int, a
    pair, ``"valid"`` (none) or ``"same"`` (an output as large as the input, stride 1;
    an odd total padding puts the extra row or column at the end, as PyTorch does).
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv(
    function: str,
    dims: int,
    input: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> Tensor:
    """conv1d (``dims=1``) and conv2d: checked in their own dimensions, computed on images."""
    x = ops._tensor(input)
    input_shape = x.shape
    x, unbatched = _as_batch(x, function, dims)
    weight = ops._tensor(weight)
    if weight.ndim != dims + 2:
        raise ValueError(
            f"{function}: weight must have shape (out_channels, in_channels / groups, {_KERNEL_AXES[dims]}), "
            f"got {weight.shape}"
        )
    ops.check_positive_int(groups, "groups", function)
    (out_channels, group_channels), kernel_size = weight.shape[:2], weight.shape[2:]
    if x.shape[1] != group_channels * groups:
        raise ValueError(
            f"{function}: a weight of shape {weight.shape} with groups={groups} expects "
            f"{group_channels * groups} input channels in axis 1, got input of shape {input_shape}"
        )
    if out_channels % groups:
        raise ValueError(
            f"{function}: the {out_channels} filters (axis 0 of the weight, shape {weight.shape}) must split "
            f"evenly into groups={groups}"
        )
    bias = _checked_bias(function, bias, out_channels)
    stride = _per_axis(stride, "stride", function, 1, dims)
    dilation = _per_axis(dilation, "dilation", function, 1, dims)
    x, padding = _conv_padding(function, x, padding, kernel_size, dilation, stride)
    out_size = _windows_per_axis(function, x.shape[2:], kernel_size, dilation, padding, stride)
    columns = Unfold.apply(_as_image(x), **_image_windows(kernel_size, dilation, padding, stride))
    # Each group's filters see only its group's channels: one batched matrix product per group.
    n, positions, taps = x.shape[0], math.prod(out_size), group_channels * math.prod(kernel_size)
    filters = weight.reshape(groups, out_channels // groups, taps)
    y = (filters @ columns.reshape(n, groups, taps, positions)).reshape(n, out_channels, positions)
    if bias is not None:
        y = y + bias.reshape(out_channels, 1)
    y = y.reshape(n, out_channels, *out_size)
    return y.reshape(y.shape[1:]) if unbatched else y


def _checked_bias(function: str, bias: Any, out_channels: int) -> Tensor | None:
    """A convolution's ``bias`` as a tensor, one value per output channel (or None)."""
    if bias is None:
        return None
    bias = ops._tensor(bias)
    if bias.shape != (out_channels,):
        raise ValueError(
            f"{function}: bias must have shape ({out_channels},), got {bias.shape}: one value per output channel"
        )
    return bias


def _conv_padding(
    function: str,
    x: Tensor,
    padding: Any,
    kernel_size: tuple[int, ...],
    dilation: tuple[int, ...],
    stride: tuple[int, ...],
) -> tuple[Tensor, tuple[int, ...]]:
    """The padding on each side of each axis, with ``"valid"`` and ``"same"`` worked out.

    For ``"same"`` with an odd total (an even kernel), the extra row, column or position
    of zeros is added to the end of ``x`` here, as PyTorch does.
    """
    dims = len(kernel_size)
    padding = _padding_arg(function, padding, dims)
    if padding == "valid":
        return x, (0,) * dims
    if padding != "same":
        return x, padding
    if stride != (1,) * dims:
        raise ValueError(
            f"{function}: padding='same' keeps the input's size, which only stride 1 does; "
            f"got stride {_show(stride)}"
        )
    sides = _same_padding(kernel_size, dilation)
    at_the_end = _pad_sizes([(0, after - before) for before, after in sides])
    return pad(x, at_the_end), tuple(before for before, _ in sides)


def _padding_arg(function: str, padding: Any, dims: int) -> tuple[int, ...] | str:
    """A convolution's ``padding``, checked: ``"valid"``, ``"same"``, or one int per axis."""
    if not isinstance(padding, str):
        return _per_axis(padding, "padding", function, 0, dims)
    if padding not in ("valid", "same"):
        several = "a pair of ints" if dims == 2 else "a tuple of one int"
        raise ValueError(f"{function}: padding must be an int, {several}, 'valid' or 'same', got {padding!r}")
    return padding


def _same_padding(kernel_size: tuple[int, ...], dilation: tuple[int, ...]) -> list[tuple[int, int]]:
    """(before, after) on each axis for an output as long as the input (stride 1).

    A window spans ``dilation * (kernel_size - 1)`` values more than one; an odd total
    puts its extra one after, as PyTorch does.
    """
    totals = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
    return [(total // 2, total - total // 2) for total in totals]


def _pad_sizes(sides: list[tuple[int, int]]) -> tuple[int, ...]:
    """(before, after) for each axis, first axis first, as :func:`pad` takes them: last axis first."""
    return tuple(size for side in reversed(sides) for size in side)


# ---- pooling ------------------------------------------------------------------------------


def _pool_windows(
    function: str,
    dims: int,
    input: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
) -> tuple[Tensor, np.ndarray, tuple[int, ...]]:
    """The pooling windows, where each of their taps falls, and the result's shape.

    Returns the windows as (N, C, taps, windows), padding as zeros; an int array of
    shape (taps, windows) giving, for each tap, its position in the input (``row * W +
    column``, or the position along L for a sequence), or -1 on the padding, or -2 past
    the padded input; and the result's shape. ``stride=None`` means ``kernel_size``, as
    in PyTorch. With ``ceil_mode`` a last window may hang past the padded input's end,
    if it starts inside the input or its left padding; its taps out there are -2.
    """
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"{function}: ceil_mode must be True or False, got {ceil_mode!r}")
    x = ops._tensor(input)
    batch, _ = _as_batch(x, function, dims)  # the result's shape comes from x's
    kernel_size = _per_axis(kernel_size, "kernel_size", function, 1, dims)
    stride = kernel_size if stride is None else _per_axis(stride, "stride", function, 1, dims)
    padding = _per_axis(padding, "padding", function, 0, dims)
    dilation = _per_axis(dilation, "dilation", function, 1, dims)
    if any(p > k // 2 for p, k in zip(padding, kernel_size)):
        raise ValueError(
            f"{function}: padding {_show(padding)} must be at most half the kernel_size "
            f"{_show(kernel_size)}{' on each axis' if dims == 2 else ''}, as PyTorch requires"
        )
    size = batch.shape[2:]
    out_size = _windows_per_axis(function, size, kernel_size, dilation, padding, stride, ceil_mode)
    # The rows and columns past the padded input that ceil_mode's last window reaches.
    extra = [
        max(0, (count - 1) * s + d * (k - 1) + 1 - (length + 2 * p))
        for count, length, k, d, p, s in zip(out_size, size, kernel_size, dilation, padding, stride)
    ]
    windows = _image_windows(kernel_size, dilation, padding, stride)
    past_the_end = _pad_sizes([(0, e) for e in extra])
    columns = Unfold.apply(_as_image(pad(batch, past_the_end)), **windows)
    n, channels = batch.shape[:2]
    columns = columns.reshape(n, channels, math.prod(kernel_size), math.prod(out_size))
    # Where each tap falls: the input's positions, -1 on the padding, -2 past the padded input.
    (height, width), (pad_h, pad_w) = _image_sizes(size, 1), windows["padding"]
    extra_h, extra_w = _image_sizes(tuple(extra), 0)
    frame = np.full((1, 1, height + 2 * pad_h + extra_h, width + 2 * pad_w + extra_w), -2)
    frame[:, :, : height + 2 * pad_h, : width + 2 * pad_w] = -1
    frame[:, :, pad_h : pad_h + height, pad_w : pad_w + width] = np.arange(height * width).reshape(
        height, width
    )
    taps = Unfold().forward(frame, **{**windows, "padding": (0, 0)})[0]
    shape = (*x.shape[:-dims], *out_size)
    return columns, taps, shape


def _never_the_largest(windows: Tensor, real: np.ndarray) -> Tensor:
    """``windows`` with the taps that are not ``real`` set to their dtype's lowest value.

    Those taps (padding, or the taps a shorter window lacks) then never win a max
    against a real value: -inf for floats, the smallest value for integers, False for
    bools. Only a window of real values as low as that ties with them.
    """
    if real.all():
        return windows
    kind = windows.dtype.kind
    lowest = -np.inf if kind == "f" else False if kind == "b" else np.iinfo(windows.dtype).min
    return ops.where(real, windows, Tensor._wrap(np.array(lowest, windows.dtype)))


@composite
def max_pool2d(
    input: Any,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The largest value in each window: (N, C, H, W) -> (N, C, H', W').

    ``stride`` defaults to ``kernel_size``; ``padding`` pads with -inf (the smallest
    integer for integers), so it never wins. The gradient goes to the largest value
    of each window; where a window holds its largest value more than once, the copies
    share it equally (PyTorch gives it all to one of them).

    With ``return_indices=True`` the result is ``(values, indices)``, as in PyTorch:
    ``indices`` (int64, no gradient) holds where in its channel's H x W input each
    largest value is, as ``row * W + column``, the first one where there are several,
    and -1 for a window that covers only padding (its value is -inf).
    """
    return _max_pool(
        "max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def _max_pool(
    function: str,
    dims: int,
    input: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    return_indices: bool,
) -> Tensor | tuple[Tensor, Tensor]:
    """max_pool1d (``dims=1``) and max_pool2d."""
    if not isinstance(return_indices, (bool, np.bool_)):
        raise TypeError(f"{function}: return_indices must be True or False, got {return_indices!r}")
    columns, taps, shape = _pool_windows(
        function, dims, input, kernel_size, stride, padding, dilation, ceil_mode
    )
    columns = _never_the_largest(columns, taps >= 0)
    values = columns.max(axis=2).reshape(shape)
    if not return_indices:
        return values
    largest_tap = columns.data.argmax(axis=2)  # (N, C, windows): the first largest, nan counting as largest
    indices = np.take_along_axis(taps[np.newaxis, np.newaxis], largest_tap[:, :, np.newaxis], axis=2)
    return values, Tensor._wrap(indices.reshape(shape).astype(np.int64))


@composite
def avg_pool2d(
    input: Any,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each window: (N, C, H, W) -> (N, C, H', W').

    ``stride`` defaults to ``kernel_size``; ``padding`` pads with zeros. Each window's
    sum is divided by its number of taps on the padded input (``count_include_pad=True``)
    or on the input alone (False), or by ``divisor_override`` if given, as in PyTorch.
    """
    return _avg_pool(
        "avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def _avg_pool(
    function: str,
    dims: int,
    input: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: bool,
    count_include_pad: bool,
    divisor_override: int | None,
) -> Tensor:
    """avg_pool1d (``dims=1``, never a ``divisor_override``) and avg_pool2d."""
    columns, taps, shape = _pool_windows(function, dims, input, kernel_size, stride, padding, 1, ceil_mode)
    on_input, on_padded = taps >= 0, taps >= -1
    if divisor_override is not None:
        if (
            not isinstance(divisor_override, numbers.Integral)
            or isinstance(divisor_override, bool)
            or divisor_override == 0
        ):
            raise ValueError(f"{function}: divisor_override must be a nonzero int, got {divisor_override!r}")
        divisor = divisor_override
    else:
        counted = on_padded if count_include_pad else on_input
        divisor = counted.sum(axis=0).astype(columns.dtype)
    return (columns.sum(axis=2) / divisor).reshape(shape)
