"""Layers for images: Conv2d, the pooling layers, and Unfold and Fold (im2col, col2im)."""

from __future__ import annotations

import math
from typing import Any

from minigrad.creation import zeros
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.functional.adaptive import OutputSize, _output_size
from minigrad.nn.functional.convolution import IntPair, _pair
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor

# What Conv2d's border holds: zeros, or the image's own values as F.pad's modes copy them.
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(Module):
    """2-D convolution of (N, C, H, W) images by ``out_channels`` filters (see :func:`F.conv2d`).

    ``weight`` has shape (out_channels, in_channels / groups, kh, kw), ``bias``
    (out_channels,). Initialized as in PyTorch: both uniform on [-1/sqrt(fan_in),
    1/sqrt(fan_in)], fan_in = in_channels / groups * kh * kw, the values one output reads.
    ``padding_mode`` is what the border holds: ``"zeros"``, or the image's own values
    ``"reflect"``-ed, ``"replicate"``-d or wrapped around (``"circular"``), as
    :func:`F.pad` makes them.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntPair,
        stride: IntPair = 1,
        padding: IntPair | str = 0,
        dilation: IntPair = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        dtype: object = None,
    ) -> None:
        super().__init__()
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                f"divisible by groups ({groups})"
            )
        if padding_mode not in PADDING_MODES:
            raise ValueError(
                f"Conv2d: padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, "
                f"got {padding_mode!r}"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = _pair(stride, "stride", "Conv2d", 1)
        self.dilation = _pair(dilation, "dilation", "Conv2d", 1)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(
                    f"Conv2d: padding must be an int, a pair of ints, 'valid' or 'same', got {padding!r}"
                )
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(f"Conv2d: padding='same' needs stride 1, got stride {self.stride}")
            self.padding: tuple[int, int] | str = padding
        else:
            self.padding = _pair(padding, "padding", "Conv2d", 0)
        self.padding_mode = padding_mode
        self.weight = Parameter(zeros(out_channels, in_channels // groups, *self.kernel_size, dtype=dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # a bound of 1 / sqrt(fan_in)
        if bias:
            self.bias = Parameter(zeros(out_channels, dtype=dtype))
            fan_in = init.fan_in(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        if self.padding_mode == "zeros":
            return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        x = F.pad(x, self._padding_per_side(), mode=self.padding_mode)
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def _padding_per_side(self) -> tuple[int, int, int, int]:
        """(left, right, top, bottom), as :func:`F.pad` takes them; for "same", the odd one at the end."""
        if self.padding == "valid":
            return (0, 0, 0, 0)
        if self.padding == "same":
            (kh, kw), (dh, dw) = self.kernel_size, self.dilation
            rows, columns = dh * (kh - 1), dw * (kw - 1)
            return (columns // 2, columns - columns // 2, rows // 2, rows - rows // 2)
        rows, columns = self.padding
        return (columns, columns, rows, rows)

    def extra_repr(self) -> str:
        # PyTorch's repr: the settings that differ from their defaults.
        options = [
            f"{self.in_channels}, {self.out_channels}",
            f"kernel_size={self.kernel_size}",
            f"stride={self.stride}",
        ]
        if self.padding != (0, 0):
            options.append(f"padding={self.padding}")
        if self.dilation != (1, 1):
            options.append(f"dilation={self.dilation}")
        if self.groups != 1:
            options.append(f"groups={self.groups}")
        if self.bias is None:
            options.append("bias=False")
        if self.padding_mode != "zeros":
            options.append(f"padding_mode={self.padding_mode}")
        return ", ".join(options)


class MaxPool2d(Module):
    """The largest value in each window (see :func:`F.max_pool2d`); ``stride`` defaults to ``kernel_size``."""

    def __init__(
        self,
        kernel_size: IntPair,
        stride: IntPair | None = None,
        padding: IntPair = 0,
        dilation: IntPair = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation, self.ceil_mode = padding, dilation, ceil_mode
        self.return_indices = return_indices

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F.max_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
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

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


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
