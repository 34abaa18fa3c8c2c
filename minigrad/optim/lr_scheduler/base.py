"""The base class of the learning-rate schedules, and the argument checks they share."""

from __future__ import annotations

import copy
from numbers import Integral, Real
from typing import Any

from minigrad.optim.optimizer import Optimizer


class LRScheduler:
    r"""Base class of the schedules; subclasses define :meth:`get_lr`.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``param_groups[i]["lr"]`` the schedule sets.
    last_epoch : int
        The last epoch done. Leave it at -1 to start a schedule; a value >= 0
        resumes one, and needs the ``"initial_lr"`` that a scheduler stores in each
        group (restored with the optimizer's state dict).

    Attributes
    ----------
    base_lrs : list of float
        Each group's initial learning rate, :math:`\eta_0`.
    last_epoch : int
        The epoch whose learning rates are set, :math:`t`.
    """

    # What state_dict leaves out: the optimizer saves its own state.
    _not_saved: tuple[str, ...] = ("optimizer",)
    # What a schedule reads from each parameter group, stored there when it starts.
    _group_keys: tuple[str, ...] = ("initial_lr",)

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        name = type(self).__name__
        _check_optimizer(optimizer, name)
        _check_last_epoch(last_epoch, name)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        for index, group in enumerate(optimizer.param_groups):
            missing = [key for key in self._group_keys if key not in group]
            if missing:
                raise KeyError(
                    f"{name}: resuming at last_epoch={last_epoch} needs {', '.join(map(repr, missing))} in "
                    f"param_groups[{index}]; load the optimizer's state dict first, or leave last_epoch=-1"
                )
        self.optimizer = optimizer
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def get_lr(self) -> list[float]:
        """The learning rate of each group at epoch ``last_epoch`` (subclasses define it)."""
        raise NotImplementedError

    def _first_lrs(self) -> list[float]:
        """The learning rates set on creation, at epoch ``last_epoch``.

        :meth:`get_lr`'s by default. The schedules that compute each rate from the
        previous one (ExponentialLR, CosineAnnealingLR) keep the optimizer's current
        rates instead, as PyTorch's do: a new schedule starts at them, and a resumed
        optimizer already holds this epoch's rates, so one more decay would skip an epoch.
        """
        return self.get_lr()

    def _closed_form_lrs(self) -> list[float]:
        """The learning rates at epoch ``last_epoch`` computed from ``base_lrs`` alone.

        :class:`SequentialLR` starts a schedule at its milestone with these, as PyTorch
        does. The schedules that compute each rate from the previous one give their
        formula; for the others (LambdaLR, OneCycleLR), :meth:`get_lr` already is one.
        """
        return self.get_lr()

    def _initial_step(self) -> None:
        # Creation counts as a step, as in PyTorch: a new schedule starts at epoch 0,
        # and one resumed with last_epoch=k at epoch k + 1.
        self.last_epoch += 1
        self._set_lrs(self._first_lrs())

    def step(self) -> None:
        """Move to the next epoch and set its learning rates on the optimizer."""
        self.last_epoch += 1
        self._set_lrs(self.get_lr())

    def get_last_lr(self) -> list[float]:
        """The learning rates the last :meth:`step` (or the creation) set, one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's attributes (a copy), without the optimizer, as in PyTorch."""
        return {key: copy.deepcopy(value) for key, value in vars(self).items() if key not in self._not_saved}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore attributes saved by :meth:`state_dict` (from the same kind of scheduler)."""
        expected = set(self.state_dict())
        if set(state_dict) != expected:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: expected the keys {sorted(expected)}, "
                f"got {sorted(state_dict)}; was it saved from another kind of scheduler?"
            )
        vars(self).update(
            {key: copy.deepcopy(value) for key, value in state_dict.items() if key not in self._not_saved}
        )

    def _set_lrs(self, lrs: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = self._current_lrs()

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


def _is_number(value: Any, kind: type = Real) -> bool:
    """Whether ``value`` is a number of ``kind`` (Real, Integral), a bool not counting as one."""
    return isinstance(value, kind) and not isinstance(value, bool)


def _check_last_epoch(last_epoch: Any, name: str) -> None:
    """-1 for a new schedule, or the int index of the last epoch done, to resume."""
    if not _is_number(last_epoch, Integral) or last_epoch < -1:
        raise ValueError(
            f"{name}: last_epoch must be -1 (a new schedule) or the int index of the last epoch "
            f"done (to resume), got {last_epoch!r}"
        )


def _check_momentum_can_cycle(optimizer: Optimizer, name: str) -> None:
    """For ``cycle_momentum=True``: the optimizer must have a momentum to move."""
    if not {"momentum", "betas"} & set(optimizer.defaults):
        raise ValueError(
            f"{name}: cycle_momentum=True needs an optimizer with a momentum ('momentum' as in "
            f"SGD, or 'betas' as in Adam), and {type(optimizer).__name__} has neither; "
            f"pass cycle_momentum=False"
        )


def _set_momentum(group: dict[str, Any], momentum: float) -> None:
    """Set a group's momentum: Adam's first beta if it has betas, else SGD's ``momentum``."""
    if "betas" in group:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _check_optimizer(optimizer: Any, name: str) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: expected an optimizer such as optim.SGD, got {type(optimizer).__name__}")


def _one_per_group(
    value: Any, plural: str, optimizer: Optimizer, name: str, kind: str = "number"
) -> list[Any]:
    """``value`` for every parameter group, or a list with one per group, as a list."""
    groups = len(optimizer.param_groups)
    if not isinstance(value, (list, tuple)):
        return [value] * groups
    if len(value) != groups:
        raise ValueError(
            f"{name}: got {len(value)} {plural} for an optimizer with {groups} parameter groups; "
            f"pass one {kind}, or one per group"
        )
    return list(value)
