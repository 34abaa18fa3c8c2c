"""CyclicLR: the rate goes back and forth between two bounds, stepped once per batch."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from minigrad.optim.lr_scheduler.base import (
    LRScheduler,
    _check_last_epoch,
    _check_momentum_can_cycle,
    _check_optimizer,
    _is_number,
    _one_per_group,
    _set_momentum,
)
from minigrad.optim.optimizer import Optimizer

_MODES = ("triangular", "triangular2", "exp_range")


def _numbers(values: list[Any], name: str) -> list[float]:
    """``values`` as floats, after checking that each is a number."""
    for value in values:
        if not _is_number(value):
            raise TypeError(f"CyclicLR: {name} must be a number (or a list, one per group), got {value!r}")
    return [float(value) for value in values]


class CyclicLR(LRScheduler):
    r"""Cycle the learning rate between ``base_lr`` and ``max_lr``, stepped once per batch.

    The cyclical learning rates of Smith (2017). Each cycle takes
    :math:`S = S_{up} + S_{down}` steps (call :meth:`step` after every batch, not every
    epoch): the rate climbs in a straight line from :math:`\eta_{base}` towards
    :math:`\eta_{max}` for :math:`S_{up}` = ``step_size_up`` steps, then comes back down
    in :math:`S_{down}` = ``step_size_down`` steps. At step :math:`t`, in cycle
    :math:`c = \lfloor 1 + t / S \rfloor` (counted from 1), a fraction
    :math:`x = 1 + t / S - c` of the cycle is done, and with :math:`r = S_{up} / S`,

    .. math::

        h = \begin{cases} x / r & x \le r \\ (1 - x) / (1 - r) & x > r \end{cases}
        \qquad
        \eta_t = \eta_{base} + (\eta_{max} - \eta_{base}) \, h \, s

    :math:`h` goes from 0 to 1 and back in each cycle, and :math:`s`, the scale of the
    cycle's height, is set by ``mode``:

    - ``"triangular"``: :math:`s = 1`, every cycle the same;
    - ``"triangular2"``: :math:`s = 1 / 2^{c - 1}`, each cycle half as high as the one before;
    - ``"exp_range"``: :math:`s = \gamma^t`, the height shrinking at every step.

    ``scale_fn`` replaces ``mode`` with a function of one argument: of :math:`c` when
    ``scale_mode="cycle"``, of :math:`t` when ``scale_mode="iterations"``.

    The momentum moves the other way, as in PyTorch, from ``max_momentum`` at the
    bottom of the rate to ``base_momentum`` at its top:
    :math:`m_t = m_{max} - (m_{max} - m_{base}) \, h \, s`. It is SGD's ``momentum``, or
    Adam's :math:`\beta_1` (the first of ``betas``). An SGD created without momentum gets
    one, as in PyTorch; pass ``cycle_momentum=False`` to keep plain SGD.

    On creation each group's ``lr`` is set to ``base_lr``, whatever it was: the
    optimizer's own rate is not used. Each rate is computed from ``base_lr`` and
    ``max_lr`` alone, so the schedule does not chain.

    Parameters
    ----------
    optimizer : Optimizer
    base_lr, max_lr : float or list of float
        :math:`\eta_{base}` and :math:`\eta_{max}`, the bounds of the rate, for every
        group or one per group.
    step_size_up : float
        :math:`S_{up}`, the steps of the climb, above 0.
    step_size_down : float, optional
        :math:`S_{down}`, the steps of the descent, at least 0; ``step_size_up`` if None.
    mode : {"triangular", "triangular2", "exp_range"}
        How the height of the cycles changes; ignored if ``scale_fn`` is given.
    gamma : float
        :math:`\gamma` of ``"exp_range"``.
    scale_fn : callable, optional
        ``scale_fn(c or t) -> float``, :math:`s` in place of ``mode``'s.
    scale_mode : {"cycle", "iterations"}
        What ``scale_fn`` takes, :math:`c` or :math:`t`; ``mode`` sets it when there is no ``scale_fn``.
    cycle_momentum : bool
        Whether to cycle the momentum too; needs an optimizer with ``momentum`` or ``betas``.
    base_momentum, max_momentum : float or list of float
        :math:`m_{base}` and :math:`m_{max}`, the momentum at the top and at the bottom of the rate.
    last_epoch : int
        The last *step* done; see :class:`LRScheduler`.

    Notes
    -----
    :meth:`state_dict` leaves ``scale_fn`` out: pass the same one when resuming.

    Examples
    --------
    >>> scheduler = CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=4 * len(batches))  # doctest: +SKIP
    >>> for epoch in range(40):  # doctest: +SKIP
    ...     for batch in batches:
    ...         train_one_batch(opt, batch)
    ...         scheduler.step()
    """

    _not_saved = ("optimizer", "_scale_fn_custom")

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | Sequence[float],
        max_lr: float | Sequence[float],
        step_size_up: float = 2000,
        step_size_down: float | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.8,
        max_momentum: float | Sequence[float] = 0.9,
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer(optimizer, "CyclicLR")
        _check_last_epoch(last_epoch, "CyclicLR")  # before a new schedule's rates are written
        # Every argument is checked before anything changes: an error leaves the optimizer as it was.
        lows = _numbers(_one_per_group(base_lr, "base_lrs", optimizer, "CyclicLR"), "base_lr")
        highs = _numbers(_one_per_group(max_lr, "max_lrs", optimizer, "CyclicLR"), "max_lr")
        if not _is_number(step_size_up) or not step_size_up > 0:
            raise ValueError(
                f"CyclicLR: step_size_up, the steps from base_lr to max_lr, must be a number above 0, "
                f"got {step_size_up!r}"
            )
        if step_size_down is not None and (not _is_number(step_size_down) or not step_size_down >= 0):
            raise ValueError(
                f"CyclicLR: step_size_down, the steps from max_lr back to base_lr, must be a number of at "
                f"least 0 (or None: as many as step_size_up), got {step_size_down!r}"
            )
        if scale_fn is None and mode not in _MODES:
            raise ValueError(
                f"CyclicLR: mode must be 'triangular', 'triangular2' or 'exp_range', got {mode!r}; "
                f"or pass your own scale_fn"
            )
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"CyclicLR: scale_fn must be a function, got {type(scale_fn).__name__}")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}")
        if cycle_momentum:
            _check_momentum_can_cycle(optimizer, "CyclicLR")
        self.base_momentums = _numbers(
            _one_per_group(base_momentum, "base_momentums", optimizer, "CyclicLR"), "base_momentum"
        )
        self.max_momentums = _numbers(
            _one_per_group(max_momentum, "max_momentums", optimizer, "CyclicLR"), "max_momentum"
        )
        (self.gamma,) = _numbers([gamma], "gamma")
        self.max_lrs = highs
        up = float(step_size_up)
        down = up if step_size_down is None else float(step_size_down)
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        self.mode = mode
        self._scale_fn_custom = scale_fn
        if scale_fn is None:
            scale_mode = "iterations" if mode == "exp_range" else "cycle"
        self.scale_mode = scale_mode
        if scale_fn is not None:
            self._check_scale_fn(last_epoch + 1)
        self.cycle_momentum = cycle_momentum
        if last_epoch == -1:  # a resumed schedule finds its rates in the optimizer's state dict
            for group, low, momentum_low, momentum_high in zip(
                optimizer.param_groups, lows, self.base_momentums, self.max_momentums
            ):
                group["lr"] = low
                if cycle_momentum:
                    group["max_momentum"], group["base_momentum"] = momentum_high, momentum_low
        super().__init__(optimizer, last_epoch)
        # LRScheduler took base_lrs from the groups' "initial_lr", which a scheduler created
        # earlier on this optimizer keeps at its own rate; the cycle starts from base_lr.
        self.base_lrs = lows
        self._set_lrs(self.get_lr())

    def _check_scale_fn(self, step: int) -> None:
        """Call a custom ``scale_fn`` as the first step will, before the optimizer is changed.

        Otherwise a function that fails (it takes two arguments, say) or gives no number
        would fail only on that first step, after the groups' rates had been set.
        """
        x = math.floor(1 + step / self.total_size) if self.scale_mode == "cycle" else step
        try:
            scale = self._scale_fn_custom(x)
        except Exception as error:
            raise ValueError(
                f"CyclicLR: scale_fn({x}), as the first step calls it, raised {type(error).__name__}: {error}"
            ) from error
        if not _is_number(scale):
            raise TypeError(f"CyclicLR: scale_fn must return a number, scale_fn({x}) gave {scale!r}")

    def scale_fn(self, x: float) -> float:
        """:math:`s`, the scale of the height of the cycles: ``scale_fn(x)``, or that of ``mode``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 0.5 ** (x - 1)  # 1 / 2 ** (x - 1) would overflow after 1024 cycles; this goes to 0
        return self.gamma**x

    def get_lr(self) -> list[float]:
        h, scale = self._position()
        return [low + (high - low) * h * scale for low, high in zip(self.base_lrs, self.max_lrs)]

    def _set_lrs(self, lrs: list[float]) -> None:
        super()._set_lrs(lrs)
        if not self.cycle_momentum:
            return
        h, scale = self._position()
        for group, low, high in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
            momentum = high - (high - low) * h * scale
            _set_momentum(group, momentum)

    def _position(self) -> tuple[float, float]:
        """:math:`h` and :math:`s` at step ``last_epoch``: how far up its cycle it is, and the scale."""
        t = self.last_epoch
        position = 1 + t / self.total_size
        cycle = math.floor(position)  # c, counted from 1
        x = position - cycle  # the fraction of the cycle done
        h = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        return h, self.scale_fn(cycle if self.scale_mode == "cycle" else t)
