"""ReduceLROnPlateau: lower the rate when a metric stops improving."""

from __future__ import annotations

import math
from collections.abc import Sequence

from minigrad.optim.lr_scheduler.base import LRScheduler, _check_optimizer, _one_per_group
from minigrad.optim.optimizer import Optimizer


class ReduceLROnPlateau(LRScheduler):
    r"""Multiply the learning rate by ``factor`` once a metric stops improving.

    Its :meth:`step` takes the metric of the epoch (a validation loss, say). When
    more than ``patience`` epochs in a row have not improved on the best value so
    far, each group's rate is multiplied by ``factor`` (but not below ``min_lr``), and
    the count starts again after ``cooldown`` more epochs. PyTorch's rules:

    - in ``mode="min"`` a value improves on ``best`` if it is below
      ``best * (1 - threshold)`` (``threshold_mode="rel"``) or ``best - threshold``
      (``"abs"``); in ``mode="max"``, above ``best * (1 + threshold)`` or ``best + threshold``;
    - a reduction smaller than ``eps`` is skipped.

    Parameters
    ----------
    optimizer : Optimizer
    mode : {"min", "max"}
        Whether the metric should go down (a loss) or up (an accuracy).
    factor : float
        The factor of each reduction, below 1.
    patience : int
        How many epochs without improvement are tolerated.
    threshold : float
        How much better a value must be to count as an improvement.
    threshold_mode : {"rel", "abs"}
        Whether ``threshold`` is relative to ``best`` or absolute.
    cooldown : int
        Epochs after a reduction during which bad epochs are not counted.
    min_lr : float or list of float
        The lowest rate, for every group or one per group.
    eps : float
        The smallest change of rate worth making.

    Examples
    --------
    >>> scheduler = ReduceLROnPlateau(opt, factor=0.5, patience=5)  # doctest: +SKIP
    >>> for epoch in range(100):  # doctest: +SKIP
    ...     train_one_epoch(opt)
    ...     scheduler.step(validation_loss())
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        _check_optimizer(optimizer, "ReduceLROnPlateau")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be below 1, got {factor}")
        self.optimizer = optimizer
        self.min_lrs = _one_per_group(min_lr, "min_lrs", optimizer, "ReduceLROnPlateau")
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = self._current_lrs()

    def step(self, metrics: float) -> None:  # type: ignore[override]
        """End an epoch whose metric is ``metrics``; reduce the rates if it has stopped improving."""
        current = float(metrics)
        self.last_epoch += 1
        if self._improves(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:  # bad epochs in a cooldown do not count
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                reduced = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - reduced > self.eps:
                    group["lr"] = reduced
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._current_lrs()

    def _improves(self, current: float) -> bool:
        relative = self.threshold_mode == "rel"
        if self.mode == "min":
            return current < (self.best * (1 - self.threshold) if relative else self.best - self.threshold)
        return current > (self.best * (1 + self.threshold) if relative else self.best + self.threshold)
