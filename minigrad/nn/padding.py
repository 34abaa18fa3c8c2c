"""Padding layers: a border around the last one or two axes (see :func:`F.pad`).

Each layer is :func:`F.pad` with a fixed size and mode, as PyTorch's ``ZeroPad2d``,
``ReflectionPad1d`` and the rest. ``padding`` is an int for the same size on every
side, or the sizes themselves: ``(left, right)`` for the 1d layers, ``(left, right,
top, bottom)`` for the 2d ones.
"""

from __future__ import annotations

import numbers

from minigrad.nn import functional as F
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


class _Pad(Module):
    """Pads the last ``axes`` axes by ``padding`` in ``mode``."""

    axes: int
    mode: str
    value: float | None = None

    def __init__(self, padding: int | tuple[int, ...]) -> None:
        super().__init__()
        sides = 2 * self.axes
        if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
            padding = (int(padding),) * sides
        if not isinstance(padding, (tuple, list)) or len(padding) != sides:
            raise ValueError(
                f"{type(self).__name__}: padding must be an int or {sides} ints "
                f"({'left, right' if self.axes == 1 else 'left, right, top, bottom'}), got {padding!r}"
            )
        self.padding = tuple(padding)

    def forward(self, x: Tensor) -> Tensor:
        return F.pad(x, self.padding, self.mode, self.value)

    def extra_repr(self) -> str:
        return str(self.padding)


class ConstantPad1d(_Pad):
    """A border of ``value`` on both ends of the last axis."""

    axes, mode = 1, "constant"

    def __init__(self, padding: int | tuple[int, ...], value: float) -> None:
        super().__init__(padding)
        self.value = value

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad2d(ConstantPad1d):
    """A border of ``value`` around the last two axes."""

    axes = 2


class ZeroPad1d(_Pad):
    """A border of zeros on both ends of the last axis."""

    axes, mode = 1, "constant"


class ZeroPad2d(ZeroPad1d):
    """A border of zeros around the last two axes."""

    axes = 2


class ReflectionPad1d(_Pad):
    """The values beside each end of the last axis, mirrored: ``[1, 2, 3]`` by 2 is ``[3, 2, 1, 2, 3, 2, 1]``."""

    axes, mode = 1, "reflect"


class ReflectionPad2d(ReflectionPad1d):
    """The values beside each edge of the last two axes, mirrored."""

    axes = 2


class ReplicationPad1d(_Pad):
    """The end values of the last axis, repeated: ``[1, 2, 3]`` by 2 is ``[1, 1, 1, 2, 3, 3, 3]``."""

    axes, mode = 1, "replicate"


class ReplicationPad2d(ReplicationPad1d):
    """The edge values of the last two axes, repeated."""

    axes = 2


class CircularPad1d(_Pad):
    """The last axis wrapped around: ``[1, 2, 3]`` by 2 is ``[2, 3, 1, 2, 3, 1, 2]``."""

    axes, mode = 1, "circular"


class CircularPad2d(CircularPad1d):
    """The last two axes wrapped around, as on a torus."""

    axes = 2
