"""Convolution and pooling, composed from Unfold and Fold: no backward code of their own.

:class:`~minigrad.primitives.Unfold` (im2col) lays out every window of an image batch
(N, C, H, W) as a column of C * kh * kw values, one column per output position. On
those columns

- ``conv2d`` is one matrix product with the weight, plus the bias;
- ``max_pool2d`` is a max over each window's taps, ``avg_pool2d`` a sum divided by a count.

Their gradients are the chain rule through ``matmul``, ``max``, ``sum`` and Unfold,
whose backward is Fold (col2im): each pixel gets the gradients of all the windows that
read it. As in PyTorch, each function also takes one unbatched image (C, H, W).
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


# ---- the arguments -----------------------------------------------------------------------


def _pair(value: Any, name: str, function: str, smallest: int) -> tuple[int, int]:
    """``value`` as (for rows, for columns): one int serves both, as in PyTorch."""
    pair = (value, value) if isinstance(value, numbers.Integral) else value
    if (
        not isinstance(pair, (tuple, list))
        or len(pair) != 2
        or not all(
            isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= smallest for n in pair
        )
    ):
        raise ValueError(
            f"{function}: {name} must be an int or a pair of ints (rows, columns), "
            f"each at least {smallest}, got {value!r}"
        )
    return int(pair[0]), int(pair[1])


def _window_args(
    function: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any
) -> dict[str, tuple[int, int]]:
    """The window arguments of Unfold and Fold, checked and made pairs."""
    return {
        "kernel_size": _pair(kernel_size, "kernel_size", function, 1),
        "dilation": _pair(dilation, "dilation", function, 1),
        "padding": _pair(padding, "padding", function, 0),
        "stride": _pair(stride, "stride", function, 1),
    }


def _as_batch(x: Tensor, function: str) -> tuple[Tensor, bool]:
    """An (N, C, H, W) batch, and whether ``x`` was one unbatched image (C, H, W)."""
    if x.ndim == 3:
        return x.reshape((1, *x.shape)), True
    if x.ndim != 4:
        raise ValueError(f"{function}: expected input of shape (N, C, H, W) or (C, H, W), got {x.shape}")
    return x, False


def _windows_per_axis(
    function: str,
    image_size: tuple[int, int],
    kernel_size: tuple[int, int],
    dilation: tuple[int, int],
    padding: tuple[int, int],
    stride: tuple[int, int],
    ceil_mode: bool = False,
) -> tuple[int, int]:
    """How many windows fit down and across the padded image: the output's (H, W).

    With ``ceil_mode`` (pooling), a last window that hangs past the padded image's end
    counts too, as in PyTorch, if it starts inside the image or its first padding.
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
        raise ValueError(
            f"{function}: the kernel {kernel_size} with dilation {dilation} spans {spans} pixels, more "
            f"than the padded input: {tuple(image_size)} with padding {padding} on each side is {padded}; "
            f"use a smaller kernel or dilation, or more padding"
        )
    return counts[0], counts[1]


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
    output_size = _pair(output_size, "output_size", "fold", 1)
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
    x = ops._tensor(input)
    input_shape = x.shape
    x, unbatched = _as_batch(x, "conv2d")
    weight = ops._tensor(weight)
    if weight.ndim != 4:
        raise ValueError(
            f"conv2d: weight must have shape (out_channels, in_channels / groups, kh, kw), got {weight.shape}"
        )
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"conv2d: groups must be a positive int, got {groups!r}")
    out_channels, group_channels, kh, kw = weight.shape
    if x.shape[1] != group_channels * groups:
        raise ValueError(
            f"conv2d: a weight of shape {weight.shape} with groups={groups} expects "
            f"{group_channels * groups} input channels in axis 1, got input of shape {input_shape}"
        )
    if out_channels % groups:
        raise ValueError(
            f"conv2d: the {out_channels} filters (axis 0 of the weight, shape {weight.shape}) must split "
            f"evenly into groups={groups}"
        )
    if bias is not None:
        bias = ops._tensor(bias)
        if bias.shape != (out_channels,):
            raise ValueError(f"conv2d: bias must have shape ({out_channels},), got {bias.shape}")
    stride = _pair(stride, "stride", "conv2d", 1)
    dilation = _pair(dilation, "dilation", "conv2d", 1)
    x, padding = _conv_padding(x, padding, (kh, kw), dilation, stride)
    out_h, out_w = _windows_per_axis("conv2d", x.shape[2:], (kh, kw), dilation, padding, stride)
    columns = Unfold.apply(x, kernel_size=(kh, kw), dilation=dilation, padding=padding, stride=stride)
    # Each group's filters see only its group's channels: one batched matrix product per group.
    n, positions = x.shape[0], out_h * out_w
    filters = weight.reshape(groups, out_channels // groups, group_channels * kh * kw)
    y = (filters @ columns.reshape(n, groups, group_channels * kh * kw, positions)).reshape(
        n, out_channels, positions
    )
    if bias is not None:
        y = y + bias.reshape(out_channels, 1)
    y = y.reshape(n, out_channels, out_h, out_w)
    return y.reshape(y.shape[1:]) if unbatched else y


def _conv_padding(
    x: Tensor, padding: Any, kernel_size: tuple[int, int], dilation: tuple[int, int], stride: tuple[int, int]
) -> tuple[Tensor, tuple[int, int]]:
    """The padding on each side as a pair, with ``"valid"`` and ``"same"`` worked out.

    For ``"same"`` with an odd total (an even kernel), the extra row or column of zeros
    is added to the end of ``x`` here, as PyTorch does.
    """
    if not isinstance(padding, str):
        return x, _pair(padding, "padding", "conv2d", 0)
    if padding == "valid":
        return x, (0, 0)
    if padding != "same":
        raise ValueError(
            f"conv2d: padding must be an int, a pair of ints, 'valid' or 'same', got {padding!r}"
        )
    if stride != (1, 1):
        raise ValueError(
            f"conv2d: padding='same' keeps the input's size, which only stride 1 does; got stride {stride}"
        )
    totals = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
    return pad(x, (0, totals[1] % 2, 0, totals[0] % 2)), (totals[0] // 2, totals[1] // 2)


# ---- pooling ------------------------------------------------------------------------------


def _pool_windows(
    function: str,
    input: Any,
    kernel_size: IntPair,
    stride: IntPair | None,
    padding: IntPair,
    dilation: IntPair,
    ceil_mode: bool,
) -> tuple[Tensor, np.ndarray, tuple[int, ...]]:
    """The pooling windows, where each of their taps falls, and the result's shape.

    Returns the windows as (N, C, kh * kw, L), padding as zeros; an int array of shape
    (kh * kw, L) giving, for each tap, its position in the input (``row * W + column``),
    or -1 on the padding, or -2 past the padded input; and the result's shape.
    ``stride=None`` means ``kernel_size``, as in PyTorch. With ``ceil_mode`` a last
    window may hang past the padded input's end, if it starts inside the input or its
    left padding; its taps out there are -2.
    """
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"{function}: ceil_mode must be True or False, got {ceil_mode!r}")
    x = ops._tensor(input)
    batch, _ = _as_batch(x, function)  # the result's shape comes from x's
    kernel_size = _pair(kernel_size, "kernel_size", function, 1)
    stride = kernel_size if stride is None else _pair(stride, "stride", function, 1)
    padding, dilation = _pair(padding, "padding", function, 0), _pair(dilation, "dilation", function, 1)
    if padding[0] > kernel_size[0] // 2 or padding[1] > kernel_size[1] // 2:
        raise ValueError(
            f"{function}: padding {padding} must be at most half the kernel_size {kernel_size} on each axis, "
            f"as PyTorch requires"
        )
    out_size = _windows_per_axis(function, batch.shape[2:], kernel_size, dilation, padding, stride, ceil_mode)
    # The rows and columns past the padded input that ceil_mode's last window reaches.
    extra = [
        max(0, (count - 1) * s + d * (k - 1) + 1 - (size + 2 * p))
        for count, size, k, d, p, s in zip(out_size, batch.shape[2:], kernel_size, dilation, padding, stride)
    ]
    windows = {"kernel_size": kernel_size, "dilation": dilation, "padding": padding, "stride": stride}
    columns = Unfold.apply(pad(batch, (0, extra[1], 0, extra[0])), **windows)
    n, channels = batch.shape[:2]
    columns = columns.reshape(n, channels, kernel_size[0] * kernel_size[1], out_size[0] * out_size[1])
    # Where each tap falls: the input's positions, -1 on the padding, -2 past the padded input.
    height, width = batch.shape[2:]
    frame = np.full((1, 1, height + 2 * padding[0] + extra[0], width + 2 * padding[1] + extra[1]), -2)
    frame[:, :, : height + 2 * padding[0], : width + 2 * padding[1]] = -1
    frame[:, :, padding[0] : padding[0] + height, padding[1] : padding[1] + width] = np.arange(
        height * width
    ).reshape(height, width)
    taps = Unfold().forward(frame, **{**windows, "padding": (0, 0)})[0]
    shape = (*x.shape[:-2], *out_size)
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
    if not isinstance(return_indices, (bool, np.bool_)):
        raise TypeError(f"max_pool2d: return_indices must be True or False, got {return_indices!r}")
    columns, taps, shape = _pool_windows(
        "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode
    )
    columns = _never_the_largest(columns, taps >= 0)
    values = columns.max(axis=2).reshape(shape)
    if not return_indices:
        return values
    largest_tap = columns.data.argmax(axis=2)  # (N, C, L): the first largest, nan counting as largest
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
    columns, taps, shape = _pool_windows("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    on_input, on_padded = taps >= 0, taps >= -1
    if divisor_override is not None:
        if (
            not isinstance(divisor_override, numbers.Integral)
            or isinstance(divisor_override, bool)
            or divisor_override == 0
        ):
            raise ValueError(f"avg_pool2d: divisor_override must be a nonzero int, got {divisor_override!r}")
        divisor = divisor_override
    else:
        counted = on_padded if count_include_pad else on_input
        divisor = counted.sum(axis=0).astype(columns.dtype)
    return (columns.sum(axis=2) / divisor).reshape(shape)
