r"""Learning-rate schedules: change each parameter group's ``lr`` once per epoch.

As in PyTorch, a scheduler wraps an optimizer, sets the starting learning rates on
creation (epoch 0), and moves to the next epoch's rates at each :meth:`step`, which
is called after the epoch's ``optimizer.step()`` calls::

    scheduler = StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(opt)
        scheduler.step()

:class:`StepLR`, :class:`ExponentialLR` and :class:`CosineAnnealingLR` compute the
new rate from the current one, as PyTorch does, so they can be chained: two
schedulers on one optimizer multiply their effects, and a rate changed by hand is
carried on. :class:`LambdaLR` computes each rate from the initial one.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
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

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{name}: expected an optimizer such as optim.SGD, got {type(optimizer).__name__}"
            )
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        for index, group in enumerate(optimizer.param_groups):
            if "initial_lr" not in group:
                raise KeyError(
                    f"{name}: resuming at last_epoch={last_epoch} needs 'initial_lr' in "
                    f"param_groups[{index}]; load the optimizer's state dict first, or leave last_epoch=-1"
                )
        self.optimizer = optimizer
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        # Creation counts as a step, as in PyTorch: a new schedule starts at epoch 0,
        # and one resumed with last_epoch=k at epoch k + 1.
        self.last_epoch = last_epoch + 1
        self._set_lrs(self._first_lrs())

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
        vars(self).update(copy.deepcopy(state_dict))

    def _set_lrs(self, lrs: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = self._current_lrs()

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


class LambdaLR(LRScheduler):
    r"""The initial learning rate times a factor that a function gives for each epoch.

    .. math:: \eta_t = \eta_0 \cdot \text{lr\_lambda}(t)

    Parameters
    ----------
    optimizer : Optimizer
    lr_lambda : callable or list of callables
        ``lr_lambda(epoch) -> float``; one for every group, or a list with one per group.
    last_epoch : int
        See :class:`LRScheduler`.

    Notes
    -----
    :meth:`state_dict` leaves the functions out: pass the same ones when resuming.

    Examples
    --------
    Linear warm-up over the first 5 epochs:

    >>> scheduler = LambdaLR(opt, lr_lambda=lambda epoch: min(1.0, (epoch + 1) / 5))  # doctest: +SKIP
    """

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(
                    f"LambdaLR: got {len(lr_lambda)} lr_lambdas for an optimizer with "
                    f"{groups} parameter groups; pass one function, or one per group"
                )
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            base_lr * lr_lambda(self.last_epoch) for base_lr, lr_lambda in zip(self.base_lrs, self.lr_lambdas)
        ]


class StepLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    .. math:: \eta_t = \eta_0 \cdot \gamma^{\lfloor t / \text{step\_size} \rfloor}

    e.g. ``lr=0.05, step_size=30, gamma=0.1`` gives 0.05 for epochs 0-29, 0.005 for
    30-59, 0.0005 for 60-89, ...

    Parameters
    ----------
    optimizer : Optimizer
    step_size : int
        The number of epochs between decays.
    gamma : float
        :math:`\gamma`, the factor of each decay.
    last_epoch : int
        See :class:`LRScheduler`.
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` every epoch.

    .. math:: \eta_t = \eta_0 \cdot \gamma^t

    Parameters
    ----------
    optimizer : Optimizer
    gamma : float
        :math:`\gamma`, the factor of each epoch.
    last_epoch : int
        See :class:`LRScheduler`.
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _first_lrs(self) -> list[float]:
        return self._current_lrs()  # see LRScheduler._first_lrs

    def get_lr(self) -> list[float]:
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    r"""Anneal the learning rate from its initial value to ``eta_min`` along a cosine.

    The schedule of SGDR (Loshchilov & Hutter, 2017) without restarts:

    .. math::

        \eta_t = \eta_{min} + \tfrac{1}{2} (\eta_0 - \eta_{min})
                 \left(1 + \cos\left(\pi \tfrac{t}{T_{max}}\right)\right)

    It reaches :math:`\eta_{min}` at :math:`t = T_{max}`; past that it climbs back up
    along the cosine, reaching :math:`\eta_0` again at :math:`2 T_{max}`. As in
    PyTorch, each rate is computed from the previous one,

    .. math::

        \eta_t = \eta_{min} + (\eta_{t-1} - \eta_{min})
                 \frac{1 + \cos(\pi t / T_{max})}{1 + \cos(\pi (t - 1) / T_{max})},

    which equals the formula above up to rounding when nothing else changes the rate.

    Parameters
    ----------
    optimizer : Optimizer
    T_max : int
        :math:`T_{max}`, the number of epochs from the initial rate to ``eta_min``.
    eta_min : float
        :math:`\eta_{min}`, the lowest learning rate.
    last_epoch : int
        See :class:`LRScheduler`.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def _first_lrs(self) -> list[float]:
        return self._current_lrs()  # see LRScheduler._first_lrs

    def get_lr(self) -> list[float]:
        t, T_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if (t - 1 - T_max) % (2 * T_max) == 0:
            # The step just after eta_min, where the ratio below would be 0 / 0: climb back
            # up by as much as the first step went down.
            return [
                lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T_max)) / 2
                for lr, base_lr in zip(self._current_lrs(), self.base_lrs)
            ]
        ratio = (1 + math.cos(math.pi * t / T_max)) / (1 + math.cos(math.pi * (t - 1) / T_max))
        return [ratio * (lr - eta_min) + eta_min for lr in self._current_lrs()]
