"""Resampling: resizing signals and images, and trading channels for pixels, composed from indexing and reshapes.

``interpolate`` computes, along each spatial axis in turn, which input positions each
output position reads and how much of each: the nearest modes read one position, the
linear modes two neighbours weighted by their distance. Reading is indexing with an
integer array, whose backward adds the gradient of every output that read a position
into it, so upsampling's gradient (the sum over each input's copies) and the weighted
sums' gradients come from the chain rule alone.

``pixel_shuffle`` and ``pixel_unshuffle`` only move values: a reshape, a transpose and a
reshape back, whose backwards undo them.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.engine import composite
from minigrad.nn.functional.adaptive import _pick
from minigrad.tensor import Tensor

MODES = ("nearest", "nearest-exact", "linear", "bilinear")

# The one input dimension each linear mode fits: (N, C, L) for linear, (N, C, H, W) for bilinear.
_LINEAR_MODE_NDIM = {"linear": 3, "bilinear": 4}


@composite
def interpolate(
    input: Any,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
) -> Tensor:
    """Resize the spatial axes of an (N, C, L) or (N, C, H, W) input, as PyTorch's ``F.interpolate``.

    Give either ``size`` (the output's spatial size: an int for every axis, or one per
    axis) or ``scale_factor`` (a number, or one per axis): then each output size is
    ``floor(input size * scale_factor)``. Along an axis of ``L_in`` inputs resized to
    ``L_out``, ``scale`` is ``L_in / L_out``, or ``1 / scale_factor`` when a scale factor
    is given (unless ``recompute_scale_factor=True``, which uses the sizes), and output
    position ``i`` reads, as in PyTorch:

    - ``nearest``: input ``floor(i * scale)``; this shifts the image by half a pixel
      when downsampling, as PyTorch's does;
    - ``nearest-exact``: input ``floor((i + 0.5) * scale)``, the input whose pixel
      contains the output pixel's centre (as Pillow and scipy);
    - ``linear`` (3-D input) and ``bilinear`` (4-D input, one axis after the other):
      the two inputs beside the source coordinate ``s``, weighted by how near they are::

          s = i * (L_in - 1) / (L_out - 1)            with align_corners=True
          s = max((i + 0.5) * scale - 0.5, 0)         with align_corners=False (the default)
          y[i] = (1 - t) * x[floor(s)] + t * x[floor(s) + 1],  t = s - floor(s)

      ``align_corners=True`` puts the first and last output exactly on the first and
      last input; ``False`` treats positions as pixel centres.

    Indices stop at the last input, and a linear axis whose size does not change is
    copied. Source coordinates are computed in the precision PyTorch's CPU kernels use
    and floored in float32 as there, so that each output reads the same inputs (see
    ``_nearest_positions`` for how PyTorch's nearest differs between signals and images).

    The gradient of each output goes back to the inputs it read, times their weight:
    indexing's backward adds up what every output gives each input.

    Examples
    --------
    >>> interpolate(Tensor([[[1.0, 2.0]]]), scale_factor=2)
    tensor([[[1., 1., 2., 2.]]])
    >>> interpolate(Tensor([[[1.0, 2.0]]]), size=3, mode="linear", align_corners=True)
    tensor([[[1. , 1.5, 2. ]]])
    """
    x = ops._tensor(input)
    output_sizes, scale_factors = _output_sizes(
        x, size, scale_factor, mode, align_corners, recompute_scale_factor
    )
    linear = mode in _LINEAR_MODE_NDIM
    if linear:
        x = ops._floats(x)
    for axis, (output_size, factor) in enumerate(zip(output_sizes, scale_factors), start=2):
        if linear:
            x = _linear_along(x, axis, output_size, factor, bool(align_corners))
        else:
            exact = mode == "nearest-exact"
            x = _pick(x, axis, _nearest_positions(x.shape[axis], output_size, factor, exact, x))
    return x


def _coordinate_dtype(x: Tensor) -> np.dtype:
    """The precision PyTorch's separable kernels compute source coordinates in: float64 for float64, else float32."""
    return np.dtype(np.float64) if x.dtype == np.float64 else np.dtype(np.float32)


def _output_sizes(
    x: Tensor,
    size: Any,
    scale_factor: Any,
    mode: str,
    align_corners: bool | None,
    recompute_scale_factor: bool | None,
) -> tuple[list[int], list[float | None]]:
    """Each spatial axis's output size, and the scale factor its coordinates use (None: the sizes').

    Every argument is checked here, before anything is computed.
    """
    if x.ndim not in (3, 4):
        raise ValueError(
            f"interpolate: expected a 3-D (N, C, L) or 4-D (N, C, H, W) input, got shape {x.shape}. "
            f"For a single signal or image, add the batch axis with x.reshape(1, *x.shape)"
        )
    if mode not in MODES:
        raise ValueError(f"interpolate: mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
    if mode in _LINEAR_MODE_NDIM and x.ndim != _LINEAR_MODE_NDIM[mode]:
        fitting = "linear" if x.ndim == 3 else "bilinear"
        raise ValueError(
            f"interpolate: mode {mode!r} needs a {_LINEAR_MODE_NDIM[mode]}-D input, got shape {x.shape}. "
            f"Use mode={fitting!r} for a {x.ndim}-D input"
        )
    if mode not in _LINEAR_MODE_NDIM and align_corners is not None:
        raise ValueError(
            f"interpolate: align_corners is only for the modes that interpolate ('linear', 'bilinear'); "
            f"mode {mode!r} copies the nearest value, so leave align_corners as None"
        )
    if (size is None) == (scale_factor is None):
        raise ValueError(
            "interpolate: give exactly one of size (the output's spatial size) or scale_factor "
            f"(how many times larger), got size={size!r} and scale_factor={scale_factor!r}"
        )
    if size is not None and recompute_scale_factor:
        raise ValueError(
            "interpolate: recompute_scale_factor=True computes the output size from scale_factor, "
            "so it has no meaning with an explicit size; leave it as None"
        )
    input_sizes = x.shape[2:]
    if size is not None:
        output_sizes = _per_axis("size", size, input_sizes, numbers.Integral)
        factors: list[float | None] = [None] * len(input_sizes)
    else:
        factors = _per_axis("scale_factor", scale_factor, input_sizes, numbers.Real)
        output_sizes = [math.floor(length * factor) for length, factor in zip(input_sizes, factors)]
        if recompute_scale_factor:
            factors = [None] * len(input_sizes)
    if min(input_sizes) < 1 or min(output_sizes) < 1:
        raise ValueError(
            f"interpolate: input and output sizes must be at least 1, got input of shape {x.shape} "
            f"and output spatial size {tuple(output_sizes)} (size={size!r}, scale_factor={scale_factor!r})"
        )
    return [int(length) for length in output_sizes], factors


def _per_axis(name: str, value: Any, input_sizes: tuple[int, ...], kind: type) -> list:
    """``value`` (one number for every spatial axis, or one per axis) as a list with one per axis."""
    values = list(value) if isinstance(value, (tuple, list)) else [value] * len(input_sizes)
    if len(values) != len(input_sizes) or not all(
        isinstance(item, kind) and not isinstance(item, bool) for item in values
    ):
        kind_name = "int" if kind is numbers.Integral else "number"
        raise ValueError(
            f"interpolate: {name} must be a {kind_name} or {len(input_sizes)} of them (one per spatial "
            f"axis of the input's {input_sizes}), got {value!r}"
        )
    return values


def _nearest_positions(
    input_size: int, output_size: int, scale_factor: float | None, exact: bool, x: Tensor
) -> np.ndarray:
    """The input position each output position copies: floor(i * scale), or the nearest to its centre if exact.

    ``nearest-exact`` rounds the centre's coordinate, ``max((i + 0.5) * scale - 0.5, 0)``,
    half up, which is ``floor((i + 0.5) * scale)`` up to rounding: the input pixel that
    contains the output pixel's centre.

    PyTorch's CPU kernels for signals and for images differ in two details, which are
    followed here so that each output copies the same input as there: the image kernel
    computes in float32 whatever the input's precision, and its ``nearest`` copies an axis
    whose size does not change and reads ``i // 2`` on an axis made twice as long,
    whatever the scale factor (so ``scale_factor=1.1`` on 5 pixels is a copy for an image,
    a shift for a signal).
    """
    image = x.ndim == 4
    if not exact and image and output_size in (input_size, 2 * input_size):
        return np.arange(output_size) * input_size // output_size
    dtype = np.dtype(np.float32) if image else _coordinate_dtype(x)
    scale = _scale(input_size, output_size, scale_factor, dtype)
    if exact:
        source = _centre_coordinates(scale, output_size, dtype) + dtype.type(0.5)
    else:
        source = scale * np.arange(output_size, dtype=dtype)
    return np.minimum(_floor(source), input_size - 1)


def _linear_along(
    x: Tensor, axis: int, output_size: int, scale_factor: float | None, align_corners: bool
) -> Tensor:
    """``x`` resized along ``axis`` by linear interpolation between the two inputs beside each source coordinate.

    Both neighbours are read in one indexing, as a new axis of 2 after ``axis``, then
    weighted and summed over it.
    """
    input_size = x.shape[axis]
    if output_size == input_size:
        return x  # PyTorch copies an axis whose size does not change, whatever the scale factor
    dtype = _coordinate_dtype(x)
    if align_corners:
        scale = dtype.type(input_size - 1) / dtype.type(output_size - 1) if output_size > 1 else dtype.type(0)
        source = scale * np.arange(output_size, dtype=dtype)
    else:
        source = _centre_coordinates(_scale(input_size, output_size, scale_factor, dtype), output_size, dtype)
    left = np.minimum(_floor(source), input_size - 1)
    right = np.minimum(left + 1, input_size - 1)
    right_weight = np.clip(source - left, 0, 1).astype(x.dtype)
    weights = np.stack([1 - right_weight, right_weight], axis=1)  # (output_size, 2)
    neighbours = _pick(x, axis, np.stack([left, right], axis=1))
    trailing_axes = (1,) * (x.ndim - axis - 1)
    return (neighbours * weights.reshape(output_size, 2, *trailing_axes)).sum(axis=axis + 1)


def _scale(input_size: int, output_size: int, scale_factor: float | None, dtype: np.dtype) -> np.floating:
    """Input positions per output position: 1 / scale_factor if one was given, else the ratio of the sizes."""
    if scale_factor is not None and scale_factor > 0:
        return dtype.type(1.0 / scale_factor)
    return dtype.type(input_size) / dtype.type(output_size)


def _centre_coordinates(scale: np.floating, output_size: int, dtype: np.dtype) -> np.ndarray:
    """Where each output pixel's centre falls in the input, ``(i + 0.5) * scale - 0.5``, clamped at 0.

    Pixel i covers [i, i + 1) and has its centre at i + 0.5, in both the input's and the
    output's units; the clamp keeps the first outputs of an upsampling on input 0.
    """
    position = np.arange(output_size, dtype=dtype)
    return np.maximum(scale * (position + dtype.type(0.5)) - dtype.type(0.5), dtype.type(0))


def _floor(source: np.ndarray) -> np.ndarray:
    """The integer part of each coordinate, taken as PyTorch's kernels do: in float32.

    A float64 coordinate such as 12.999999999999998 (from 11 * 26 / 22) is rounded to
    float32, 13.0, before its floor, so that it reads input 13 there and here alike.
    """
    return np.floor(source.astype(np.float32)).astype(np.int64)


@composite
def pixel_shuffle(input: Any, upscale_factor: int) -> Tensor:
    """Trade channels for pixels: (*, C * r * r, H, W) -> (*, C, H * r, W * r), with r = ``upscale_factor``.

    As PyTorch's (Shi et al., 2016, "sub-pixel convolution"): output channel c at row
    ``h * r + i`` and column ``w * r + j`` is input channel ``c * r * r + i * r + j`` at
    (h, w). A reshape to (*, C, r, r, H, W), a transpose to (*, C, H, r, W, r) and a
    reshape that merges each (H, r) and (W, r): values move, none change, and the
    gradient moves back the same way. :func:`pixel_unshuffle` undoes it.

    Examples
    --------
    >>> pixel_shuffle(Tensor([[[[0.0]], [[1.0]], [[2.0]], [[3.0]]]]), 2)
    tensor([[[[0., 1.],
              [2., 3.]]]])
    """
    x = ops._tensor(input)
    r = _positive_factor("pixel_shuffle", "upscale_factor", upscale_factor, x)
    *batch, channels, height, width = x.shape
    if channels % (r * r):
        raise ValueError(
            f"pixel_shuffle: the input's {channels} channels (axis -3 of shape {x.shape}) must be "
            f"divisible by upscale_factor**2 = {r * r}, to make {r} x {r} pixels of each output channel"
        )
    n = len(batch)
    blocks = x.reshape(*batch, channels // (r * r), r, r, height, width)
    interleaved = blocks.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return interleaved.reshape(*batch, channels // (r * r), height * r, width * r)


@composite
def pixel_unshuffle(input: Any, downscale_factor: int) -> Tensor:
    """Trade pixels for channels: (*, C, H * r, W * r) -> (*, C * r * r, H, W), with r = ``downscale_factor``.

    The inverse of :func:`pixel_shuffle`, as PyTorch's: output channel
    ``c * r * r + i * r + j`` at (h, w) is input channel c at row ``h * r + i`` and
    column ``w * r + j``. A reshape, a transpose and a reshape.

    Examples
    --------
    >>> pixel_unshuffle(Tensor([[[[0.0, 1.0], [2.0, 3.0]]]]), 2).reshape(4)
    tensor([0., 1., 2., 3.])
    """
    x = ops._tensor(input)
    r = _positive_factor("pixel_unshuffle", "downscale_factor", downscale_factor, x)
    *batch, channels, height, width = x.shape
    for axis_name, axis, length in (("height", -2, height), ("width", -1, width)):
        if length % r:
            raise ValueError(
                f"pixel_unshuffle: the input's {axis_name} {length} (axis {axis} of shape {x.shape}) must "
                f"be divisible by downscale_factor={r}, to cut it into {r} x {r} blocks"
            )
    n = len(batch)
    blocks = x.reshape(*batch, channels, height // r, r, width // r, r)
    stacked = blocks.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return stacked.reshape(*batch, channels * r * r, height // r, width // r)


def _positive_factor(function: str, name: str, factor: Any, x: Tensor) -> int:
    """``factor`` checked to be a positive int, and ``x`` to have channel, height and width axes."""
    if not isinstance(factor, numbers.Integral) or isinstance(factor, bool) or factor < 1:
        raise ValueError(f"{function}: {name} must be a positive int, got {factor!r}")
    if x.ndim < 3:
        raise ValueError(
            f"{function}: expected an input of shape (*, C, H, W), with at least 3 axes, got shape {x.shape}"
        )
    return int(factor)
