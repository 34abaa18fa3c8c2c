"""CosineAnnealingWarmRestarts: cosine annealing that starts over, in cycles that may grow (SGDR)."""

from __future__ import annotations

import math
from numbers import Integral

from minigrad.optim.lr_scheduler.base import LRScheduler, _check_optimizer, _is_number
from minigrad.optim.optimizer import Optimizer


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Anneal the learning rate along a cosine to ``eta_min``, then restart at the initial rate.

    The schedule of SGDR (Loshchilov & Hutter, 2017). The first cycle lasts
    :math:`T_0` epochs, and each one after it :math:`T_{mult}` times as long as the one
    before: :math:`T_i = T_0 T_{mult}^i`. With :math:`T_{cur}` the epochs since the
    last restart,

    .. math::

        \eta_t = \eta_{min} + \tfrac{1}{2} (\eta_0 - \eta_{min})
                 \left(1 + \cos\left(\pi \tfrac{T_{cur}}{T_i}\right)\right)

    so each cycle starts at :math:`\eta_0` and falls towards :math:`\eta_{min}`; the
    epoch it would reach it is the first of the next cycle, back at :math:`\eta_0`.
    e.g. ``T_0=2, T_mult=2`` restarts at epochs 2, 6, 14, 30, ...

    Each rate is computed from the initial one, so the schedule does not chain.

    :meth:`step` can also take the epoch, which may be fractional, to move within an
    epoch, e.g. after every batch, as in PyTorch::

        for epoch in range(epochs):
            for index, batch in enumerate(batches):
                train_one_batch(opt, batch)
                scheduler.step(epoch + index / len(batches))

    Parameters
    ----------
    optimizer : Optimizer
    T_0 : int
        :math:`T_0`, the number of epochs of the first cycle, at least 1.
    T_mult : int
        :math:`T_{mult}`, the factor by which each cycle is longer than the one before,
        at least 1 (1: every cycle lasts :math:`T_0` epochs).
    eta_min : float
        :math:`\eta_{min}`, the rate that each cycle falls towards.
    last_epoch : int
        See :class:`LRScheduler`.

    Attributes
    ----------
    T_cur : float
        :math:`T_{cur}`, the epochs since the last restart.
    T_i : int
        :math:`T_i`, the number of epochs of the current cycle.

    Notes
    -----
    Resuming with ``last_epoch=k`` counts the epochs from the start of the first cycle
    and restarts at most once on the way to epoch :math:`k + 1`, as PyTorch does: right
    for ``T_mult=1``, but with ``T_mult > 1`` and :math:`k + 1 \ge T_0` the cycles
    differ from those of an uninterrupted run. Load the scheduler's state dict to resume
    such a schedule exactly.

    Examples
    --------
    >>> scheduler = CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2, eta_min=1e-4)  # doctest: +SKIP
    >>> for epoch in range(70):  # doctest: +SKIP
    ...     train_one_epoch(opt)
    ...     scheduler.step()
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,
        T_mult: int = 1,
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer(optimizer, "CosineAnnealingWarmRestarts")
        if not _is_number(T_0, Integral) or T_0 < 1:
            raise ValueError(
                f"CosineAnnealingWarmRestarts: T_0, the epochs of the first cycle, must be a positive int, "
                f"got {T_0!r}"
            )
        if not _is_number(T_mult, Integral) or T_mult < 1:
            raise ValueError(
                f"CosineAnnealingWarmRestarts: T_mult, the factor by which the cycles grow, must be an int "
                f"of at least 1, got {T_mult!r}"
            )
        if not _is_number(eta_min):
            raise ValueError(f"CosineAnnealingWarmRestarts: eta_min must be a number, got {eta_min!r}")
        self.T_0, self.T_i, self.T_mult = int(T_0), int(T_0), int(T_mult)
        self.eta_min = float(eta_min)
        self.T_cur: float = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        cosine = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (base_lr - self.eta_min) * cosine / 2 for base_lr in self.base_lrs]

    def _initial_step(self) -> None:
        # Creation moves T_cur too: to epoch 0, or one epoch on from a resumed last_epoch.
        self.step()

    def step(self, epoch: float | None = None) -> None:  # type: ignore[override]
        """Move to the next epoch, or to ``epoch`` (fractional too), and set its learning rates.

        Without ``epoch``, :math:`T_{cur}` goes up by one, and the cycle restarts once it
        reaches :math:`T_i`. With ``epoch``, :math:`T_{cur}` and :math:`T_i` are those of
        that epoch of the schedule, and ``last_epoch`` becomes ``floor(epoch)``.
        """
        if epoch is None and self.last_epoch >= 0:
            self.last_epoch += 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:  # a restart
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch is None:  # a new schedule starts at epoch 0
                epoch = 0
            if not _is_number(epoch) or not 0 <= epoch < math.inf:
                raise ValueError(
                    f"CosineAnnealingWarmRestarts: step(epoch) needs a finite number of epochs >= 0, "
                    f"got {epoch!r}"
                )
            epoch = int(epoch) if isinstance(epoch, Integral) else float(epoch)
            self.T_cur, self.T_i = self._position(epoch)
            self.last_epoch = math.floor(epoch)
        self._set_lrs(self.get_lr())

    def _position(self, epoch: float) -> tuple[float, int]:
        """:math:`T_{cur}` and :math:`T_i` at ``epoch``: how far into its cycle, and the cycle's length."""
        if self.T_mult == 1:
            return epoch % self.T_0, self.T_0
        # Walked cycle by cycle rather than solved with a logarithm, which can round an
        # epoch that starts a cycle (e.g. 121 for T_0=1, T_mult=3) into the one before.
        start, length = 0, self.T_0
        while epoch >= start + length:
            start, length = start + length, length * self.T_mult
        return epoch - start, length
