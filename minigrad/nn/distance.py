"""Distance layers: the cosine similarity and the p-norm distance between two batches of vectors."""

from __future__ import annotations

import numbers

from minigrad.nn import functional as F
from minigrad.nn.functional.distance import _check_p
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


class CosineSimilarity(Module):
    """The cosine of the angle between the vectors of x1 and x2 along ``axis`` (PyTorch's ``dim``).

    See :func:`minigrad.nn.functional.distance.cosine_similarity`. The repr shows the
    options that differ from the defaults, so the default one is PyTorch's.
    """

    def __init__(self, axis: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"CosineSimilarity: axis must be an int, got {axis!r}")
        self.axis, self.eps = axis, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.axis, self.eps)

    def extra_repr(self) -> str:
        options = [f"axis={self.axis}"] if self.axis != 1 else []
        if self.eps != 1e-8:
            options.append(f"eps={self.eps}")
        return ", ".join(options)


class PairwiseDistance(Module):
    """The p-norm distance ``||x1 - x2 + eps||_p`` between the vectors along the last axis.

    See :func:`minigrad.nn.functional.distance.pairwise_distance`. The repr shows the
    options that differ from the defaults, so the default one is PyTorch's.
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        _check_p(p, "PairwiseDistance")
        self.p, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.p, self.eps, self.keepdim)

    def extra_repr(self) -> str:
        options = [f"p={self.p}"] if self.p != 2 else []
        if self.eps != 1e-6:
            options.append(f"eps={self.eps}")
        if self.keepdim:
            options.append("keepdim=True")
        return ", ".join(options)
