"""Loss modules: thin wrappers over the functional losses."""

from __future__ import annotations

from typing import Any

from minigrad.nn import functional as F
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


class _Loss(Module):
    # The options that repr shows when they are not at their defaults, after the reduction.
    _repr_defaults: dict[str, Any] = {}
    # The reductions the loss accepts; KLDivLoss adds "batchmean".
    _reductions: tuple[str, ...] = ("mean", "sum", "none")

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in self._reductions:
            *others, last = (f'"{name}"' for name in self._reductions)
            raise ValueError(
                f"{type(self).__name__}: reduction must be {', '.join(others)} or {last}, got {reduction!r}"
            )
        self.reduction = reduction

    def extra_repr(self) -> str:
        defaults = {"reduction": "mean", **self._repr_defaults}
        return ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name, default in defaults.items()
            if getattr(self, name) != default
        )


class _WeightedLoss(_Loss):
    """A loss with an optional ``weight``, a buffer as in PyTorch (so it is in the state dict)."""

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", None if weight is None else Tensor(weight))


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits (N, C) against class indices (N,) or probabilities.

    The options are :func:`minigrad.nn.functional.cross_entropy`'s; ``weight``, one
    number per class, is a buffer, as in PyTorch.
    """

    def __init__(
        self,
        weight: Any = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return F.cross_entropy(
            logits,
            target,
            self.reduction,
            weight=self.weight,
            ignore_index=self.ignore_index,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices, given log-probabilities (N, C) (``LogSoftmax``'s output).

    The options are :func:`minigrad.nn.functional.nll_loss`'s; ``weight``, one number
    per class, is a buffer, as in PyTorch.
    """

    def __init__(self, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities against targets in [0, 1], of the same shape.

    ``weight`` (a buffer, as in PyTorch) multiplies each element's loss.
    """

    def __init__(self, weight: Any = None, *, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy of ``sigmoid(input)``, computed from the logits, stable for any size.

    ``weight`` multiplies each element's loss, ``pos_weight`` its positive term; both
    are buffers, as in PyTorch.
    """

    def __init__(self, weight: Any = None, *, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", None if pos_weight is None else Tensor(pos_weight))

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class MSELoss(_Loss):
    """Mean squared error between input and target of the same shape."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error between input and target of the same shape."""

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    """Squared error where ``|input - target| < delta``, absolute error (times delta) beyond."""

    _repr_defaults = {"delta": 1.0}

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.huber_loss(input, target, self.reduction, self.delta)


class SmoothL1Loss(_Loss):
    """``HuberLoss / beta``: squared error / beta where ``|input - target| < beta``, absolute error beyond."""

    _repr_defaults = {"beta": 1.0}

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities ``input`` from ``target`` (probabilities, or their logs).

    The options are :func:`minigrad.nn.functional.losses.kl_div`'s: ``log_target=True``
    reads the target as log-probabilities; ``reduction="batchmean"`` (recommended, as in
    PyTorch) gives the mean over the batch of each row's KL divergence.
    """

    _reductions = ("mean", "batchmean", "sum", "none")
    _repr_defaults = {"log_target": False}

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return F.kl_div(input, target, self.reduction, self.log_target)
