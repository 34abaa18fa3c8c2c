"""Layers for sequences and images: Conv1d, Conv2d, the pooling layers, and Unfold and Fold (im2col, col2im)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from minigrad.creation import zeros
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.functional.adaptive import OutputSize, _output_size
from minigrad.nn.functional.convolution import (
    IntPair,
    _pad_sizes,
    _padding_arg,
    _per_axis,
    _same_padding,
    _show,
)
from minigrad.nn.functional.convolution1d import IntSingle
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor

# What a convolution's border holds: zeros, or the input's own values as F.pad's modes copy them.
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

IntTuple = int | tuple[int, ...]


def check_groups(name: str, in_channels: int, out_channels: int, groups: int) -> None:
    """A convolution layer's channels must split evenly into its groups."""
    if groups < 1 or in_channels % groups or out_channels % groups:
        raise ValueError(
            f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
            f"divisible by groups ({groups})"
        )


def init_parameters(
    module: Module, weight_shape: tuple[int, ...], out_channels: int, bias: bool, dtype: object
) -> None:
    """Give a convolution layer its ``weight`` and ``bias`` (or None), initialized as in PyTorch.

    Both are uniform on [-1/sqrt(fan_in), 1/sqrt(fan_in)], with fan_in counted on the
    weight's layout (its axis 1 times the kernel's taps).
    """
    module.weight = Parameter(zeros(*weight_shape, dtype=dtype))
    init.kaiming_uniform_(module.weight, a=math.sqrt(5))  # a bound of 1 / sqrt(fan_in)
    if bias:
        module.bias = Parameter(zeros(out_channels, dtype=dtype))
        fan_in = init.fan_in(module.weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(module.bias, -bound, bound)
    else:
        module.register_parameter("bias", None)


class _Conv(Module):
    """What Conv1d and Conv2d share: the arguments, PyTorch's init, the border, the repr.

    A subclass sets ``_dims`` (the spatial axes: 1 or 2) and ``_convolve`` (the function).
    """

    _dims: int
    _convolve: Callable[..., Tensor]

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntTuple,
        stride: IntTuple = 1,
        padding: IntTuple | str = 0,
        dilation: IntTuple = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        dtype: object = None,
    ) -> None:
        super().__init__()
        name, dims = type(self).__name__, self._dims
        check_groups(name, in_channels, out_channels, groups)
        if padding_mode not in PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, "
                f"got {padding_mode!r}"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _per_axis(kernel_size, "kernel_size", name, 1, dims)
        self.stride = _per_axis(stride, "stride", name, 1, dims)
        self.dilation = _per_axis(dilation, "dilation", name, 1, dims)
        self.padding = _padding_arg(name, padding, dims)
        if self.padding == "same" and self.stride != (1,) * dims:
            raise ValueError(f"{name}: padding='same' needs stride 1, got stride {_show(self.stride)}")
        self.padding_mode = padding_mode
        init_parameters(
            self, (out_channels, in_channels // groups, *self.kernel_size), out_channels, bias, dtype
        )

    def forward(self, x: Tensor) -> Tensor:
        if self.padding_mode == "zeros":
            return self._convolve(
                x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
            )
        x = F.pad(x, self._padding_per_side(), mode=self.padding_mode)
        return self._convolve(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def _padding_per_side(self) -> tuple[int, ...]:
        """The border as :func:`F.pad` takes it: (left, right), then (top, bottom) for an image."""
        if self.padding == "same":
            return _pad_sizes(_same_padding(self.kernel_size, self.dilation))
        padding = (0,) * self._dims if self.padding == "valid" else self.padding
        return _pad_sizes([(p, p) for p in padding])

    def extra_repr(self) -> str:
        # PyTorch's repr: the settings that differ from their defaults.
        options = [
            f"{self.in_channels}, {self.out_channels}",
            f"kernel_size={self.kernel_size}",
            f"stride={self.stride}",
        ]
        if self.padding != (0,) * self._dims:
            options.append(f"padding={self.padding}")
        if self.dilation != (1,) * self._dims:
            options.append(f"dilation={self.dilation}")
        if self.groups != 1:
            options.append(f"groups={self.groups}")
        if self.bias is None:
            options.append("bias=False")
        if self.padding_mode != "zeros":
            options.append(f"padding_mode={self.padding_mode}")
        return ", ".join(options)


class Conv1d(_Conv):
    """1-D convolution of (N, C, L) sequences by ``out_channels`` filters (see :func:`F.conv1d`).

    ``weight`` has shape (out_channels, in_channels / groups, k), ``bias``
    (out_channels,). Initialized as in PyTorch: both uniform on [-1/sqrt(fan_in),
    1/sqrt(fan_in)], fan_in = in_channels / groups * k, the values one output reads.
    ``padding_mode`` is what the two ends get: ``"zeros"``, or the sequence's own values
    ``"reflect"``-ed, ``"replicate"``-d or wrapped around (``"circular"``), as
    :func:`F.pad` makes them.
    """

    _dims = 1
    _convolve = staticmethod(F.conv1d)


class Conv2d(_Conv):
    """2-D convolution of (N, C, H, W) images by ``out_channels`` filters (see :func:`F.conv2d`).

    ``weight`` has shape (out_channels, in_channels / groups, kh, kw), ``bias``
    (out_channels,). Initialized as in PyTorch: both uniform on [-1/sqrt(fan_in),
    1/sqrt(fan_in)], fan_in = in_channels / groups * kh * kw, the values one output reads.
    ``padding_mode`` is what the border holds: ``"zeros"``, or the image's own values
    ``"reflect"``-ed, ``"replicate"``-d or wrapped around (``"circular"``), as
    :func:`F.pad` makes them.
    """

    _dims = 2
    _convolve = staticmethod(F.conv2d)


class _MaxPool(Module):
    """What MaxPool1d and MaxPool2d share: PyTorch's arguments, kept as given, and its repr.

    A subclass sets ``_pool`` (the function).
    """

    _pool: Callable[..., Tensor | tuple[Tensor, Tensor]]

    def __init__(
        self,
        kernel_size: IntTuple,
        stride: IntTuple | None = None,
        padding: IntTuple = 0,
        dilation: IntTuple = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation, self.ceil_mode = padding, dilation, ceil_mode
        self.return_indices = return_indices

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return self._pool(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPool):
    """The largest value in each window of a sequence (see :func:`F.max_pool1d`); ``stride`` defaults to ``kernel_size``."""

    _pool = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPool):
    """The largest value in each window (see :func:`F.max_pool2d`); ``stride`` defaults to ``kernel_size``."""

    _pool = staticmethod(F.max_pool2d)


class _AvgPool(Module):
    """What AvgPool1d and AvgPool2d share: PyTorch's repr."""

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPool):
    """The mean of each window of a sequence (see :func:`F.avg_pool1d`); ``stride`` defaults to ``kernel_size``.

    As PyTorch's, it keeps ``kernel_size``, ``stride`` and ``padding`` as tuples of one int.
    """

    def __init__(
        self,
        kernel_size: IntSingle,
        stride: IntSingle | None = None,
        padding: IntSingle = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size = _per_axis(kernel_size, "kernel_size", "AvgPool1d", 1, 1)
        self.stride = self.kernel_size if stride is None else _per_axis(stride, "stride", "AvgPool1d", 1, 1)
        self.padding = _per_axis(padding, "padding", "AvgPool1d", 0, 1)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool1d(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad
        )


class AvgPool2d(_AvgPool):
    """The mean of each window (see :func:`F.avg_pool2d`); ``stride`` defaults to ``kernel_size``."""

    def __init__(
        self,
        kernel_size: IntPair,
        stride: IntPair | None = None,
        padding: IntPair = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class AdaptiveAvgPool2d(Module):
    """The mean of each window, sized to give ``output_size`` (see :func:`F.adaptive_avg_pool2d`)."""

    def __init__(self, output_size: OutputSize) -> None:
        super().__init__()
        _output_size(output_size, "AdaptiveAvgPool2d")  # a bad size fails here, not at the first forward
        self.output_size = output_size  # as given, for the repr, as in PyTorch

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """The largest value of each window, sized to give ``output_size`` (see :func:`F.adaptive_max_pool2d`)."""

    def __init__(self, output_size: OutputSize, return_indices: bool = False) -> None:
        super().__init__()
        _output_size(output_size, "AdaptiveMaxPool2d")
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"  # PyTorch's repr leaves return_indices out


class Unfold(Module):
    """Every sliding window as a column, (N, C, H, W) -> (N, C * kh * kw, L) (see :func:`F.unfold`)."""

    def __init__(
        self, kernel_size: IntPair, dilation: IntPair = 1, padding: IntPair = 0, stride: IntPair = 1
    ) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, x: Tensor) -> Tensor:
        return F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
            f"stride={self.stride}"
        )


class Fold(Module):
    """Columns summed back into (N, C, H, W) images of ``output_size``, the adjoint of Unfold (see :func:`F.fold`)."""

    def __init__(
        self,
        output_size: IntPair,
        kernel_size: IntPair,
        dilation: IntPair = 1,
        padding: IntPair = 0,
        stride: IntPair = 1,
    ) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, x: Any) -> Tensor:
        return F.fold(x, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )
