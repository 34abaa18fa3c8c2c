"""SequentialLR: schedules one after another, each from a milestone epoch on."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from minigrad.optim.lr_scheduler.base import LRScheduler, _check_optimizer
from minigrad.optim.lr_scheduler.plateau import ReduceLROnPlateau
from minigrad.optim.optimizer import Optimizer


class SequentialLR(LRScheduler):
    r"""Run schedules one after another, handing over at the ``milestones`` epochs.

    ``schedulers[0]`` sets the rates of epochs 0 to ``milestones[0] - 1``,
    ``schedulers[1]`` those from ``milestones[0]`` to ``milestones[1] - 1``, and so on.
    With :math:`m_0 = 0 < m_1 < \dots` the milestones, and :math:`\eta^{(i)}_s` the
    rate that ``schedulers[i]`` would set at epoch :math:`s` of a run of its own,

    .. math:: \eta_t = \eta^{(i)}_{t - m_i} \quad \text{for } m_i \le t < m_{i+1}.

    At its milestone a schedule starts over from its epoch 0, computed from the initial
    rates, as PyTorch does: where the previous schedule left the rate does not matter.
    So a warm-up that stops short of the full rate hands over to a decay that starts
    exactly at it::

        warm_up = LinearLR(opt, start_factor=0.1, total_iters=5)
        decay = CosineAnnealingLR(opt, T_max=95)
        scheduler = SequentialLR(opt, [warm_up, decay], milestones=[5])

    gives 0.1, 0.28, 0.46, 0.64 and 0.82 times the initial rate for epochs 0-4, then the
    cosine from the full rate at epoch 5 down to 0 at epoch 100.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer that every one of the ``schedulers`` wraps.
    schedulers : list of LRScheduler
        The schedules, in order. Creating them changes the rates; SequentialLR sets the
        initial rates back and starts ``schedulers[0]`` again at epoch 0.
    milestones : list of int
        The increasing epochs at which each schedule after the first starts, one fewer
        than ``schedulers``.
    last_epoch : int
        The last epoch done, for this scheduler's count only: the schedules keep their own.

    Notes
    -----
    :meth:`state_dict` holds those of the ``schedulers`` too. To resume, create the same
    schedulers and SequentialLR, then load the optimizer's state dict and this one.
    """

    _not_saved = ("optimizer", "_schedulers")

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer(optimizer, "SequentialLR")
        schedulers, milestones = list(schedulers), [int(milestone) for milestone in milestones]
        if not schedulers:
            raise ValueError("SequentialLR: got no schedulers; pass a list of them, e.g. [warm_up, decay]")
        for index, scheduler in enumerate(schedulers):
            kind = type(scheduler).__name__
            if not isinstance(scheduler, LRScheduler):
                raise TypeError(
                    f"SequentialLR: schedulers[{index}] is a {kind}, not a learning-rate scheduler"
                )
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(
                    f"SequentialLR: schedulers[{index}] is a ReduceLROnPlateau, whose step() takes a metric; "
                    f"it cannot run in a sequence"
                )
            if isinstance(scheduler, SequentialLR):
                raise ValueError(
                    f"SequentialLR: schedulers[{index}] is itself a SequentialLR; list its schedulers in this one"
                )
            if scheduler.optimizer is not optimizer:
                raise ValueError(
                    f"SequentialLR: schedulers[{index}] ({kind}) wraps another optimizer; create every "
                    f"scheduler with the optimizer given to SequentialLR"
                )
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR: {len(schedulers)} schedulers need {len(schedulers) - 1} milestones (the "
                f"epochs at which the schedulers after the first start), got {len(milestones)}: {milestones}"
            )
        if any(later <= earlier for earlier, later in zip([0, *milestones], milestones)):
            raise ValueError(
                f"SequentialLR: milestones must be increasing epochs from 1 on, got {milestones}"
            )
        self.optimizer = optimizer
        self._schedulers, self._milestones = schedulers, milestones
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch + 1
        # Each scheduler took a step when it was created: take those back, and start
        # again from the initial rates with the first schedule alone.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in schedulers:
            scheduler.last_epoch -= 1
        schedulers[0]._initial_step()
        self._last_lr = schedulers[0].get_last_lr()

    def step(self) -> None:
        """Move to the next epoch: step the schedule whose turn it is, or start the next one."""
        self.last_epoch += 1
        index = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            # Its turn starts: epoch 0 again, from the initial rates, whatever the rates are now.
            scheduler.last_epoch = 0
            scheduler._set_lrs(scheduler._closed_form_lrs())
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        """This scheduler's attributes and, under ``"_schedulers"``, the state dicts of its schedules."""
        return {
            **super().state_dict(),
            "_schedulers": [scheduler.state_dict() for scheduler in self._schedulers],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved, the schedules' states too."""
        saved = state_dict.get("_schedulers")
        if saved is not None and len(saved) != len(self._schedulers):
            raise ValueError(
                f"SequentialLR.load_state_dict: the state dict holds {len(saved)} schedulers' states, "
                f"this SequentialLR runs {len(self._schedulers)}"
            )
        # All or nothing: if one schedule's state does not fit it, every schedule (this
        # one too) gets back the state it had, as a module's load_state_dict does.
        schedules = [self, *self._schedulers]
        before = [schedule.state_dict() for schedule in schedules]
        try:
            super().load_state_dict(state_dict)
            for scheduler, scheduler_state in zip(self._schedulers, saved):
                scheduler.load_state_dict(scheduler_state)
        except Exception:
            for schedule, state in zip(schedules, before):
                schedule.load_state_dict(state)
            raise
