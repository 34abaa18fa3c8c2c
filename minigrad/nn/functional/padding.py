"""Padding: a border of a constant around a tensor, or of its own values reflected, repeated or wrapped around.

Composed from the core ops, so the gradient needs no code of its own:

- ``constant`` puts x inside a tensor of zeros of the padded shape (``ScatterAdd``,
  whose backward slices the gradient back out), plus the border's value;
- ``reflect``, ``replicate`` and ``circular`` index each padded axis with the positions
  of x that each new position copies. The backward of indexing adds up the gradients
  of every copy of a value, so an edge value that was copied three times gets the
  gradients of all three places.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.engine import composite
from minigrad.primitives import ScatterAdd
from minigrad.tensor import Tensor

MODES = ("constant", "reflect", "replicate", "circular")

# numpy's names for the same borders, used to find which position each new one copies.
_NUMPY_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@composite
def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """``input`` with a border added to (or, for negative sizes, cut from) its last axes, as PyTorch's ``F.pad``.

    ``pad`` lists the sizes from the last axis backwards, two per axis: ``(left,
    right)`` pads the last axis, ``(left, right, top, bottom)`` the last two, and so on.
    A negative size cuts that many values off instead. The modes, for a row
    ``[1, 2, 3]`` padded by 2 on each side:

    - ``constant``: ``[0, 0, 1, 2, 3, 0, 0]``, a border of ``value`` (0 by default);
    - ``reflect``: ``[3, 2, 1, 2, 3, 2, 1]``, the values mirrored about the edge
      value, which is not repeated; each size must be less than the axis's length;
    - ``replicate``: ``[1, 1, 1, 2, 3, 3, 3]``, the edge value repeated;
    - ``circular``: ``[2, 3, 1, 2, 3, 1, 2]``, the values from the other end, as if
      the axis wrapped around; each size at most the axis's length.

    As in PyTorch, reflect and replicate pad first and then cut; constant and circular
    cut first and pad what is left. The gradient of every copy of a value adds up in that value.

    Examples
    --------
    >>> pad(Tensor([[1.0, 2.0, 3.0]]), (1, 2), mode="reflect")
    tensor([[2., 1., 2., 3., 2., 1.]])
    """
    x = ops._tensor(input)
    sizes = _sizes(pad, x.shape)
    if mode not in MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
    if mode != "constant" and value is not None:
        raise ValueError(
            f"pad: mode {mode!r} copies the input's own values, so it takes no value (got {value!r})"
        )
    axes = [(x.ndim - 1 - i, sizes[2 * i], sizes[2 * i + 1]) for i in range(len(sizes) // 2)]
    for axis, before, after in axes:
        _check_axis(mode, x.shape, axis, before, after, sizes)
    if mode == "constant":
        return _pad_constant(x, axes, 0 if value is None else value)
    for axis, before, after in axes:
        if before or after:
            x = x[(slice(None),) * axis + (_source_positions(mode, x.shape[axis], before, after),)]
    return x


def _sizes(pad: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """``pad`` as a tuple of ints, two for each of at most all of the axes."""
    if not isinstance(pad, (tuple, list)) or not all(
        isinstance(size, numbers.Integral) and not isinstance(size, bool) for size in pad
    ):
        raise TypeError(f"pad: pad must be a tuple or list of ints, two per padded axis, got {pad!r}")
    if len(pad) % 2:
        raise ValueError(
            f"pad: pad needs two sizes for each axis it pads (before, after), got {len(pad)}: {pad}"
        )
    if len(pad) // 2 > len(shape):
        raise ValueError(
            f"pad: pad {tuple(pad)} pads {len(pad) // 2} axes, but the input of shape {shape} has {len(shape)}"
        )
    return tuple(int(size) for size in pad)


def _check_axis(mode: str, shape: tuple[int, ...], axis: int, before: int, after: int, sizes: tuple) -> None:
    """That ``mode`` can pad (or cut) ``axis`` by ``before`` and ``after``."""
    length = shape[axis]
    where = f"axis {axis} of length {length} (input of shape {shape}, pad {sizes})"
    cut = max(-before, 0) + max(-after, 0)
    # constant and circular cut before they pad, reflect and replicate after.
    if length + before + after < 0 or (mode in ("constant", "circular") and cut > length):
        raise ValueError(f"pad: cutting {cut} values from {where} leaves fewer than 0")
    grow = max(before, 0), max(after, 0)
    if mode == "reflect" and max(grow) >= length:
        raise ValueError(
            f"pad: a reflection mirrors the values beside the edge, so each size must be less than the "
            f"length; got ({before}, {after}) for {where}. Use mode='replicate' or a smaller pad"
        )
    if mode == "replicate" and max(grow) > 0 and length == 0:
        raise ValueError(f"pad: replicate has no edge value to repeat in the empty {where}")
    kept = length - cut
    if mode == "circular" and max(grow) > kept:
        raise ValueError(
            f"pad: circular padding wraps around at most once, so each size must be at most the "
            f"{kept} values it wraps; got ({before}, {after}) for {where}"
        )


def _source_positions(mode: str, length: int, before: int, after: int) -> np.ndarray:
    """For each position of the padded axis, the position of the input whose value it takes."""
    grow = max(before, 0), max(after, 0)
    positions = np.arange(length)
    if mode == "circular":
        return np.pad(positions[_kept(before, after)], grow, mode=_NUMPY_MODES[mode])
    return np.pad(positions, grow, mode=_NUMPY_MODES[mode])[_kept(before, after)]


def _kept(before: int, after: int) -> slice:
    """What is left of an axis once negative sizes have cut its ends."""
    return slice(max(-before, 0), min(after, 0) or None)


def _pad_constant(x: Tensor, axes: list[tuple[int, int, int]], value: Any) -> Tensor:
    """x cut where a size is negative, then placed inside a border of ``value``."""
    if any(min(before, after) < 0 for _, before, after in axes):
        kept = [slice(None)] * x.ndim
        for axis, before, after in axes:
            kept[axis] = _kept(before, after)
        x = x[tuple(kept)]
    shape, inside = list(x.shape), [slice(None)] * x.ndim
    for axis, before, after in axes:
        shape[axis] += max(before, 0) + max(after, 0)
        inside[axis] = slice(max(before, 0), max(before, 0) + x.shape[axis])
    if shape == list(x.shape):
        return x
    padded = ScatterAdd.apply(x, index=tuple(inside), shape=tuple(shape))
    if value == 0:
        return padded
    border = np.full(shape, value, dtype=x.dtype)
    border[tuple(inside)] = 0
    return padded + Tensor._wrap(border)
