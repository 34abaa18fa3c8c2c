"""Layers that grow sequences and images: ConvTranspose1d and ConvTranspose2d.

Each is the adjoint of the Conv layer with the same arguments (see
:mod:`minigrad.nn.functional.transposed_convolution`): a stride-2 ConvTranspose2d
doubles an image's size where a stride-2 Conv2d halves it. A strided Conv2d maps
several input sizes to one output size, so ``forward`` takes an ``output_size`` that
says which of them to give back, as in PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from minigrad.nn.functional.convolution import _per_axis
from minigrad.nn.conv import check_groups, init_parameters
from minigrad.nn.functional.transposed_convolution import conv_transpose1d, conv_transpose2d
from minigrad.nn.module import Module
from minigrad.tensor import Tensor

IntTuple = int | tuple[int, ...]


class _ConvTranspose(Module):
    """What ConvTranspose1d and ConvTranspose2d share: the arguments, PyTorch's init, ``output_size``, the repr.

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
        padding: IntTuple = 0,
        output_padding: IntTuple = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: IntTuple = 1,
        padding_mode: str = "zeros",
        *,
        dtype: object = None,
    ) -> None:
        super().__init__()
        name, dims = type(self).__name__, self._dims
        if padding_mode != "zeros":
            raise ValueError(
                f"{name}: only padding_mode='zeros' is supported, as in PyTorch, got {padding_mode!r}; "
                f"its padding cuts rows off the output, so there is no border to fill"
            )
        check_groups(name, in_channels, out_channels, groups)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _per_axis(kernel_size, "kernel_size", name, 1, dims)
        self.stride = _per_axis(stride, "stride", name, 1, dims)
        self.padding = _per_axis(padding, "padding", name, 0, dims)
        self.output_padding = _per_axis(output_padding, "output_padding", name, 0, dims)
        self.dilation = _per_axis(dilation, "dilation", name, 1, dims)
        self.padding_mode = padding_mode
        # PyTorch's layout, the transpose of the matching Conv's: (in, out / groups, *kernel);
        # fan_in is counted on it, as PyTorch does: out_channels / groups * kernel taps.
        weight_shape = (in_channels, out_channels // groups, *self.kernel_size)
        init_parameters(self, weight_shape, out_channels, bias, dtype)

    def forward(self, x: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        """The transposed convolution of ``x``; ``output_size`` (the spatial sizes, optionally
        preceded by the batch and channel sizes) picks the output_padding that gives it."""
        output_padding = self.output_padding if output_size is None else self._output_padding(x, output_size)
        return self._convolve(
            x, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups, self.dilation
        )

    def _output_padding(self, x: Tensor, output_size: Sequence[int]) -> tuple[int, ...]:
        """The output_padding that makes the output ``output_size``, which must be one a stride allows."""
        name, dims = type(self).__name__, self._dims
        batch_and_channels = 2 if x.ndim == dims + 2 else 1
        sizes = tuple(output_size)
        if len(sizes) == batch_and_channels + dims:
            sizes = sizes[batch_and_channels:]
        if len(sizes) != dims:
            raise ValueError(
                f"{name}: for an input of shape {x.shape}, output_size must have {dims} or "
                f"{batch_and_channels + dims} sizes, got {tuple(output_size)}"
            )
        # Without output_padding the output is smallest; each stride - 1 more rows map back to the same input.
        smallest = tuple(
            (n - 1) * s - 2 * p + d * (k - 1) + 1
            for n, s, p, d, k in zip(
                x.shape[-dims:], self.stride, self.padding, self.dilation, self.kernel_size
            )
        )
        largest = tuple(low + s - 1 for low, s in zip(smallest, self.stride))
        if any(not low <= size <= high for size, low, high in zip(sizes, smallest, largest)):
            raise ValueError(
                f"{name}: requested an output_size of {sizes}, but for an input of shape {x.shape} the sizes "
                f"it can give range from {smallest} to {largest}"
            )
        return tuple(size - low for size, low in zip(sizes, smallest))

    def extra_repr(self) -> str:
        # PyTorch's repr: the settings that differ from their defaults, in its order.
        options = [
            f"{self.in_channels}, {self.out_channels}",
            f"kernel_size={self.kernel_size}",
            f"stride={self.stride}",
        ]
        defaults = {"padding": 0, "dilation": 1, "output_padding": 0}
        options += [
            f"{setting}={getattr(self, setting)}"
            for setting, default in defaults.items()
            if getattr(self, setting) != (default,) * self._dims
        ]
        if self.groups != 1:
            options.append(f"groups={self.groups}")
        if self.bias is None:
            options.append("bias=False")
        return ", ".join(options)


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution of (N, C, L) sequences (see :func:`conv_transpose1d`).

    ``weight`` has shape (in_channels, out_channels / groups, k), ``bias``
    (out_channels,). Initialized as in PyTorch: both uniform on [-1/sqrt(fan_in),
    1/sqrt(fan_in)], with fan_in = out_channels / groups * k counted on the weight's
    layout. The output has L' = (L - 1) * stride - 2 * padding + dilation * (k - 1) +
    output_padding + 1 positions; ``forward(x, output_size)`` picks output_padding
    to give ``output_size`` instead.
    """

    _dims = 1
    _convolve = staticmethod(conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution of (N, C, H, W) images (see :func:`conv_transpose2d`).

    ``weight`` has shape (in_channels, out_channels / groups, kh, kw), ``bias``
    (out_channels,). Initialized as in PyTorch: both uniform on [-1/sqrt(fan_in),
    1/sqrt(fan_in)], with fan_in = out_channels / groups * kh * kw counted on the
    weight's layout. The output has H' = (H - 1) * stride - 2 * padding + dilation *
    (kh - 1) + output_padding + 1 rows, W' likewise; ``forward(x, output_size)`` picks
    output_padding to give ``output_size`` instead.
    """

    _dims = 2
    _convolve = staticmethod(conv_transpose2d)
