"""Transposed convolution: each input value stamps a scaled copy of the kernel onto the output.

``conv_transpose2d`` is the adjoint of ``conv2d`` with the same weight and arguments:
where conv2d reads a window of the input into one output value, the transposed
convolution spreads one input value over a window of the output. It is conv2d's
gradient with respect to its input, which is why a decoder or a generator uses it to
grow an image: with stride 2 each input pixel lands 2 pixels from its neighbours'.

It is composed, like conv2d, from a matrix product and the window primitives:

1. each input pixel times the weight gives one column of out_channels * kh * kw values,
   the window it stamps (a matrix product over the input channels);
2. ``Fold`` (col2im) adds each column into its window of the output, stride apart, so
   overlapping windows add up;
3. :func:`pad` cuts ``padding`` off each side and adds ``output_padding`` at the end.

The gradient is the chain rule through those nodes: Fold's backward is Unfold, so the
gradient of the input is conv2d of the output's gradient, as it should be.

Another way to compute it is to space the input's pixels ``stride`` apart with zeros
and run conv2d with the flipped kernel. That reads s**2 times as many windows, most of
them zeros, so it costs s**2 times the memory and the multiplications; the columns
here hold only products that count, as many as conv2d's backward computes.

The 1-D function treats a sequence (N, C, L) as an image one row high, as
:mod:`minigrad.nn.functional.convolution1d` does.
"""

from __future__ import annotations

import math
from typing import Any

from minigrad import ops
from minigrad.engine import composite
from minigrad.nn.functional.convolution import (
    _KERNEL_AXES,
    IntPair,
    _as_batch,
    _checked_bias,
    _image_sizes,
    _image_windows,
    _pad_sizes,
    _per_axis,
    _show,
)
from minigrad.nn.functional.convolution1d import IntSingle
from minigrad.nn.functional.padding import pad
from minigrad.primitives import Fold
from minigrad.tensor import Tensor


@composite
def conv_transpose2d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
    output_padding: IntPair = 0,
    groups: int = 1,
    dilation: IntPair = 1,
) -> Tensor:
    """2-D transposed convolution, conv2d's adjoint: (N, C, H, W) -> (N, out_channels, H', W').

    ``weight`` has shape (C, out_channels / groups, kh, kw), as in PyTorch: the layout
    of the conv2d weight that maps out_channels back to C. Each input pixel adds its
    value times the kernel into the output, the kernel's taps ``dilation`` apart, and
    neighbouring pixels' kernels land ``stride`` apart:

        y[n, o, i * stride + j * dilation - padding] += x[n, c, i] * weight[c, o, j]

    per axis, for c in o's group; then ``bias`` (out_channels,) is added. ``padding``
    cuts that many rows and columns off each side of the result, and
    ``output_padding`` (smaller than ``stride`` or ``dilation``) adds that many at the
    end, so that a strided conv2d's several possible input sizes can all be reached.
    The output has

        H' = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1

    rows, and W' columns likewise. ``groups`` splits the channels into that many groups,
    each with its own C / groups kernels. As in PyTorch, one unbatched image (C, H, W)
    gives (out_channels, H', W').

    Examples
    --------
    >>> conv_transpose2d(Tensor([[[[1.0, 2.0]]]]), Tensor([[[[1.0, 10.0]]]]), stride=2)
    tensor([[[[ 1., 10.,  2., 20.]]]])
    """
    return _conv_transpose(
        "conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


@composite
def conv_transpose1d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: IntSingle = 1,
    padding: IntSingle = 0,
    output_padding: IntSingle = 0,
    groups: int = 1,
    dilation: IntSingle = 1,
) -> Tensor:
    """1-D transposed convolution, conv1d's adjoint: (N, C, L) -> (N, out_channels, L').

    ``weight`` has shape (C, out_channels / groups, k), ``bias`` (out_channels,). Each
    input position adds its value times the kernel into the output:

        y[n, o, i * stride + j * dilation - padding] += x[n, c, i] * weight[c, o, j]

    for c in o's group, then the bias is added; there are

        L' = (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1

    positions. See :func:`conv_transpose2d` for the arguments. One unbatched sequence
    (C, L) gives (out_channels, L').

    Examples
    --------
    >>> conv_transpose1d(Tensor([[[1.0, 2.0]]]), Tensor([[[1.0, 1.0, 1.0]]]), stride=2)
    tensor([[[1., 1., 3., 2., 2.]]])
    """
    return _conv_transpose(
        "conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def _conv_transpose(
    function: str,
    dims: int,
    input: Any,
    weight: Any,
    bias: Any,
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: int,
    dilation: Any,
) -> Tensor:
    """conv_transpose1d (``dims=1``) and conv_transpose2d: checked in their own dimensions, computed on images."""
    x = ops._tensor(input)
    input_shape = x.shape
    x, unbatched = _as_batch(x, function, dims)
    weight = ops._tensor(weight)
    if weight.ndim != dims + 2:
        raise ValueError(
            f"{function}: weight must have shape (in_channels, out_channels / groups, "
            f"{_KERNEL_AXES[dims]}), got {weight.shape}"
        )
    ops.check_positive_int(groups, "groups", function)
    (in_channels, group_out_channels), kernel_size = weight.shape[:2], weight.shape[2:]
    if x.shape[1] != in_channels:
        raise ValueError(
            f"{function}: a weight of shape {weight.shape} takes {in_channels} input channels (its axis 0), "
            f"got input of shape {input_shape}; a transposed convolution's weight is laid out "
            f"(in_channels, out_channels / groups, {_KERNEL_AXES[dims]})"
        )
    if in_channels % groups:
        raise ValueError(
            f"{function}: the {in_channels} input channels (axis 0 of the weight, shape {weight.shape}) "
            f"must split evenly into groups={groups}"
        )
    out_channels = group_out_channels * groups
    bias = _checked_bias(function, bias, out_channels)
    stride = _per_axis(stride, "stride", function, 1, dims)
    padding = _per_axis(padding, "padding", function, 0, dims)
    output_padding = _per_axis(output_padding, "output_padding", function, 0, dims)
    dilation = _per_axis(dilation, "dilation", function, 1, dims)
    if any(extra >= max(s, d) for extra, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(
            f"{function}: output_padding {_show(output_padding)} must be smaller than either the stride "
            f"{_show(stride)} or the dilation {_show(dilation)}{' on each axis' if dims == 2 else ''}, as "
            f"PyTorch requires; for a larger output use a larger stride or less padding"
        )
    size = x.shape[2:]
    # Every tap of every input position's kernel, before padding is cut off.
    stamped_size = tuple(
        (n - 1) * s + d * (k - 1) + 1 for n, s, d, k in zip(size, stride, dilation, kernel_size)
    )
    out_size = tuple(whole - 2 * p + extra for whole, p, extra in zip(stamped_size, padding, output_padding))
    if min(out_size) < 1:
        raise ValueError(
            f"{function}: an input of size {_show(tuple(size))} gives an output of size {_show(out_size)} = "
            f"(size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1, "
            f"which must be at least 1; use less padding than {_show(padding)}, or a larger kernel"
        )
    # Each group's input channels feed only its own out_channels / groups outputs.
    n, positions = x.shape[0], math.prod(size)
    group_in_channels, taps = in_channels // groups, group_out_channels * math.prod(kernel_size)
    kernels = weight.reshape(groups, group_in_channels, taps).swapaxes(1, 2)  # (groups, taps, channels)
    columns = kernels @ x.reshape(n, groups, group_in_channels, positions)
    windows = _image_windows(kernel_size, dilation, (0,) * dims, stride)
    image = Fold.apply(
        columns.reshape(n, out_channels * math.prod(kernel_size), positions),
        output_size=_image_sizes(stamped_size, 1),
        **windows,
    )
    # A negative size cuts: padding off the start, and off the end less the output_padding,
    # which, if it is the larger, adds zeros past the last tap.
    y = pad(image, _pad_sizes([(-p, extra - p) for p, extra in zip(padding, output_padding)]))
    if bias is not None:
        y = y + bias.reshape(out_channels, 1, 1)
    y = y.reshape(n, out_channels, *out_size)
    return y.reshape(y.shape[1:]) if unbatched else y
