"""1-D convolution and pooling of sequences (N, C, L): the 2-D functions on an image one row high.

A sequence (N, C, L) is an image (N, C, 1, L), and a 1-D kernel of size k a kernel of
(1, k): its windows slide along the one row only. So each function here is its 2-D
twin's code (see :mod:`minigrad.nn.functional.convolution`) run with ``dims=1``: the
arguments are checked and errors worded in 1-D, the windows are unfolded from the
one-row image, and the result loses its row again. Nothing here has backward code: the
gradient is the chain rule through the same ``reshape``, ``Unfold``, ``matmul``,
``max`` and ``sum`` nodes. As in PyTorch, each function also takes one unbatched
sequence (C, L).
"""

from __future__ import annotations

from typing import Any

from minigrad.engine import composite
from minigrad.nn.functional.convolution import _avg_pool, _conv, _max_pool
from minigrad.tensor import Tensor

IntSingle = int | tuple[int]


@composite
def conv1d(
    input: Any,
    weight: Any,
    bias: Any = None,
    stride: IntSingle = 1,
    padding: IntSingle | str = 0,
    dilation: IntSingle = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution (cross-correlation, as in PyTorch): (N, C, L) -> (N, out_channels, L').

    ``weight`` has shape (out_channels, C / groups, k) and ``bias`` (out_channels,).
    Output position i of filter o is

        y[n, o, i] = bias[o] + sum over c, j of x_padded[n, c, i * stride + j * dilation] * weight[o, c, j]

    with c running over the input channels of o's group: ``groups`` splits the channels
    into that many groups, each convolved with its own out_channels / groups filters.
    There are L' = (L + 2 * padding - dilation * (k - 1) - 1) // stride + 1 positions.
    ``padding`` is an int, a tuple of one int, ``"valid"`` (none) or ``"same"`` (L' = L,
    stride 1; an odd total padding puts the extra zero at the end, as PyTorch does).

    Examples
    --------
    >>> conv1d(Tensor([[[1.0, 2.0, 3.0, 4.0]]]), Tensor([[[1.0, -1.0]]]))
    tensor([[[-1., -1., -1.]]])
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


@composite
def max_pool1d(
    input: Any,
    kernel_size: IntSingle,
    stride: IntSingle | None = None,
    padding: IntSingle = 0,
    dilation: IntSingle = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The largest value in each window: (N, C, L) -> (N, C, L').

    ``stride`` defaults to ``kernel_size``; ``padding`` pads with -inf (the smallest
    integer for integers), so it never wins, and is at most half the kernel, as in
    PyTorch. ``ceil_mode=True`` keeps a last, partial window if it starts inside the
    input or its left padding. The gradient goes to the largest value of each window;
    where a window holds its largest value more than once, the copies share it equally
    (PyTorch gives it all to one of them).

    With ``return_indices=True`` the result is ``(values, indices)``, as in PyTorch:
    ``indices`` (int64, no gradient) holds each largest value's position along L, the
    first one where there are several, and -1 for a window that covers only padding
    (its value is -inf).

    Examples
    --------
    >>> max_pool1d(Tensor([[[1.0, 3.0, 2.0, 5.0, 4.0]]]), 2, return_indices=True)
    (tensor([[[3., 5.]]]), tensor([[[1, 3]]]))
    """
    return _max_pool(
        "max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


@composite
def avg_pool1d(
    input: Any,
    kernel_size: IntSingle,
    stride: IntSingle | None = None,
    padding: IntSingle = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """The mean of each window: (N, C, L) -> (N, C, L').

    ``stride`` defaults to ``kernel_size``; ``padding`` pads with zeros and is at most
    half the kernel. Each window's sum is divided by its number of taps on the padded
    input (``count_include_pad=True``) or on the input alone (False), as in PyTorch;
    with ``ceil_mode`` a last, partial window counts only its taps up to the padded end.

    Examples
    --------
    >>> avg_pool1d(Tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]]), 2, ceil_mode=True)
    tensor([[[1.5, 3.5, 5. ]]])
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)
