"""OneCycleLR: the 1cycle policy, up to a peak rate and far down again, stepped once per batch."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

from minigrad import ops
from minigrad.optim.lr_scheduler.base import (
    LRScheduler,
    _check_last_epoch,
    _check_momentum_can_cycle,
    _check_optimizer,
    _one_per_group,
    _set_momentum,
)
from minigrad.optim.optimizer import Optimizer


class _Phase(NamedTuple):
    """A phase of OneCycleLR: its last step, and the group keys of the values it goes between."""

    end: float
    lr_from: str
    lr_to: str
    momentum_from: str
    momentum_to: str


class OneCycleLR(LRScheduler):
    r"""The 1cycle policy: up to ``max_lr`` and far down again, stepped once per batch.

    Over :math:`T` = ``total_steps`` steps (call :meth:`step` after every batch, not
    every epoch), the rate climbs from :math:`\eta_{initial} = \eta_{max} / \text{div\_factor}`
    to :math:`\eta_{max}` = ``max_lr`` during the first ``pct_start`` of the steps,
    then anneals down to :math:`\eta_{min} = \eta_{initial} / \text{final\_div\_factor}`
    (Smith & Topin, 2017). With :math:`a = \text{pct\_start} \cdot T - 1`, the step of
    the peak,

    .. math::

        \eta_t = \begin{cases}
            \text{anneal}(\eta_{initial}, \eta_{max}, t / a) & t \le a \\
            \text{anneal}(\eta_{max}, \eta_{min}, (t - a) / (T - 1 - a)) & t > a
        \end{cases}

    where :math:`\text{anneal}(u, v, x)` goes from :math:`u` at :math:`x = 0` to
    :math:`v` at :math:`x = 1`, along a half cosine or a straight line:

    .. math::

        \text{cos: } v + \tfrac{1}{2} (u - v) (1 + \cos \pi x)
        \qquad \text{linear: } u + (v - u) x

    These two phases are fastai's. ``three_phase=True`` follows the paper instead: back
    down to :math:`\eta_{initial}` in as many steps as the climb took (:math:`x = (t - a) / a`
    for :math:`a < t \le 2a`), then to :math:`\eta_{min}` over the remaining steps
    (:math:`x = (t - 2a) / (T - 1 - 2a)`).

    The momentum moves the other way, as in PyTorch: from ``max_momentum`` down to
    ``base_momentum`` while the rate climbs, and back up while it falls (in three
    phases it stays at ``max_momentum`` in the last). It is SGD's ``momentum``, or
    Adam's :math:`\beta_1` (the first of ``betas``).

    Each rate is computed from the values stored in each group on creation
    (``"initial_lr"``, ``"max_lr"``, ``"min_lr"``, ``"max_momentum"``,
    ``"base_momentum"``), not from the current rate: the optimizer's own ``lr`` is
    ignored, and the schedule does not chain. The step after the last batch, to step
    :math:`T`, is allowed; stepping beyond it is an error, as in PyTorch.

    Parameters
    ----------
    optimizer : Optimizer
    max_lr : float or list of float
        :math:`\eta_{max}`, the peak rate, for every group or one per group.
    total_steps : int, optional
        :math:`T`, the number of batches of the whole run.
    epochs, steps_per_epoch : int, optional
        Give :math:`T = \text{epochs} \cdot \text{steps\_per\_epoch}` instead of ``total_steps``.
    pct_start : float
        The fraction of the steps spent climbing, in [0, 1].
    anneal_strategy : {"cos", "linear"}
        How the rate moves within a phase.
    cycle_momentum : bool
        Whether to cycle the momentum too; needs an optimizer with ``momentum`` or ``betas``.
    base_momentum, max_momentum : float or list of float
        The momentum at the peak of the rate, and at its start and end.
    div_factor : float
        :math:`\eta_{initial} = \eta_{max} / \text{div\_factor}`.
    final_div_factor : float
        :math:`\eta_{min} = \eta_{initial} / \text{final\_div\_factor}`.
    three_phase : bool
        Use the paper's three phases rather than fastai's two.
    last_epoch : int
        The last *step* done; see :class:`LRScheduler`.

    Examples
    --------
    >>> scheduler = OneCycleLR(opt, max_lr=0.1, epochs=10, steps_per_epoch=len(batches))  # doctest: +SKIP
    >>> for epoch in range(10):  # doctest: +SKIP
    ...     for batch in batches:
    ...         train_one_batch(opt, batch)
    ...         scheduler.step()
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.85,
        max_momentum: float | Sequence[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer(optimizer, "OneCycleLR")
        _check_last_epoch(last_epoch, "OneCycleLR")  # before a new schedule's rates are written
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError(
                    "OneCycleLR: pass total_steps, or both epochs and steps_per_epoch "
                    "(total_steps = epochs * steps_per_epoch)"
                )
            ops.check_positive_int(epochs, "epochs", "OneCycleLR")
            ops.check_positive_int(steps_per_epoch, "steps_per_epoch", "OneCycleLR")
            total_steps = epochs * steps_per_epoch
        ops.check_positive_int(total_steps, "total_steps", "OneCycleLR")
        if not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start must be in [0, 1], got {pct_start}")
        if pct_start * total_steps == 1:
            raise ValueError(
                f"OneCycleLR: pct_start={pct_start} and total_steps={total_steps} put the peak at step 0 "
                f"(pct_start * total_steps - 1), leaving the climb no steps (PyTorch divides by zero); "
                f"change pct_start or total_steps"
            )
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}"
            )
        if cycle_momentum:
            _check_momentum_can_cycle(optimizer, "OneCycleLR")
        self.total_steps, self.pct_start, self.three_phase = total_steps, pct_start, three_phase
        self.anneal_strategy, self.cycle_momentum = anneal_strategy, cycle_momentum
        peaks = _one_per_group(max_lr, "max_lrs", optimizer, "OneCycleLR")
        highs = _one_per_group(max_momentum, "max_momentums", optimizer, "OneCycleLR")
        lows = _one_per_group(base_momentum, "base_momentums", optimizer, "OneCycleLR")
        if last_epoch == -1:  # a resumed schedule finds these in the optimizer's state dict
            for group, peak, high, low in zip(optimizer.param_groups, peaks, highs, lows):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
                if cycle_momentum:
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    @property
    def _group_keys(self) -> tuple[str, ...]:  # type: ignore[override]
        lr_keys = ("initial_lr", "max_lr", "min_lr")
        return (*lr_keys, "max_momentum", "base_momentum") if self.cycle_momentum else lr_keys

    def get_lr(self) -> list[float]:
        x, phase = self._phase()
        return [
            self._anneal(group[phase.lr_from], group[phase.lr_to], x) for group in self.optimizer.param_groups
        ]

    def _set_lrs(self, lrs: list[float]) -> None:
        super()._set_lrs(lrs)
        if not self.cycle_momentum:
            return
        x, phase = self._phase()
        for group in self.optimizer.param_groups:
            momentum = self._anneal(group[phase.momentum_from], group[phase.momentum_to], x)
            _set_momentum(group, momentum)

    def _phase(self) -> tuple[float, _Phase]:
        """The phase that step ``last_epoch`` is in, and the fraction ``x`` of it done."""
        t, T = self.last_epoch, self.total_steps
        if t > T:
            raise ValueError(
                f"OneCycleLR: tried to go to step {t}, past total_steps={T}, where the schedule ends; "
                f"call step() once per batch, and make total_steps (or epochs * steps_per_epoch) the "
                f"number of batches"
            )
        peak = float(self.pct_start * T) - 1  # a in the docstring
        phases = [_Phase(peak, "initial_lr", "max_lr", "max_momentum", "base_momentum")]
        if self.three_phase:
            phases.append(
                _Phase(
                    float(2 * self.pct_start * T) - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"
                )
            )
            phases.append(_Phase(T - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"))
        else:
            phases.append(_Phase(T - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"))
        start = 0.0
        for phase in phases[:-1]:
            if t <= phase.end:
                return (t - start) / (phase.end - start), phase
            start = phase.end
        last = phases[-1]  # which also takes step T, one past its end
        return (t - start) / (last.end - start), last

    def _anneal(self, start: float, end: float, x: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * x) + 1)
        return (end - start) * x + start
