r"""Learning-rate schedules: change each parameter group's ``lr`` once per epoch.

As in PyTorch, a scheduler wraps an optimizer, sets the starting learning rates on
creation (epoch 0), and moves to the next epoch's rates at each :meth:`step`, which
is called after the epoch's ``optimizer.step()`` calls::

    scheduler = StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(opt)
        scheduler.step()

:class:`StepLR`, :class:`MultiStepLR`, :class:`ExponentialLR`, :class:`LinearLR`
and :class:`CosineAnnealingLR` compute the new rate from the current one, as PyTorch
does, so they can be chained: two schedulers on one optimizer multiply their effects,
and a rate changed by hand is carried on. :class:`LambdaLR` computes each rate from
the initial one. :class:`ReduceLROnPlateau` follows a metric instead of the epochs:
``scheduler.step(validation_loss)``.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
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
        _check_optimizer(optimizer, name)
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


def _check_optimizer(optimizer: Any, name: str) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: expected an optimizer such as optim.SGD, got {type(optimizer).__name__}")


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


class MultiStepLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` at each of the ``milestones`` epochs.

    .. math:: \eta_t = \eta_0 \cdot \gamma^{\text{number of milestones} \le t}

    e.g. ``lr=0.05, milestones=[30, 80], gamma=0.1`` gives 0.05 for epochs 0-29, 0.005
    for 30-79 and 0.0005 from 80 on. A milestone listed twice decays twice.

    Parameters
    ----------
    optimizer : Optimizer
    milestones : iterable of int
        The epochs at which to decay.
    gamma : float
        :math:`\gamma`, the factor of each decay.
    last_epoch : int
        See :class:`LRScheduler`.
    """

    def __init__(
        self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        # A plain dict of ints, epoch -> decays there, so that the state dict saves and loads as it is.
        self.milestones = dict(Counter(int(milestone) for milestone in milestones))
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        decays = self.milestones.get(self.last_epoch, 0)
        return [lr * self.gamma**decays for lr in self._current_lrs()] if decays else self._current_lrs()


class LinearLR(LRScheduler):
    r"""Change the learning rate linearly over ``total_iters`` epochs: a warm-up, usually.

    The rate goes from ``start_factor`` times the initial rate at epoch 0 to
    ``end_factor`` times it at epoch ``total_iters``, and stays there:

    .. math::

        \eta_t = \eta_0 \left(f_{start} + (f_{end} - f_{start})
                 \frac{\min(t, T)}{T}\right)

    As in PyTorch, each rate is computed from the previous one, by the ratio of two
    consecutive factors.

    Parameters
    ----------
    optimizer : Optimizer
    start_factor : float
        :math:`f_{start}`, in (0, 1].
    end_factor : float
        :math:`f_{end}`, in [0, 1].
    total_iters : int
        :math:`T`, the number of epochs the change takes.
    last_epoch : int
        See :class:`LRScheduler`.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def _first_lrs(self) -> list[float]:
        # A new schedule starts at start_factor; a resumed one at the rates it holds.
        return self.get_lr() if self.last_epoch == 0 else self._current_lrs()

    def get_lr(self) -> list[float]:
        t, T, start, end = self.last_epoch, self.total_iters, self.start_factor, self.end_factor
        if t == 0:
            return [lr * start for lr in self._current_lrs()]
        if t > T:
            return self._current_lrs()
        ratio = 1 + (end - start) / (T * start + (t - 1) * (end - start))
        return [lr * ratio for lr in self._current_lrs()]


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
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)) and len(min_lr) != groups:
            raise ValueError(
                f"ReduceLROnPlateau: got {len(min_lr)} min_lrs for an optimizer with {groups} "
                f"parameter groups; pass one number, or one per group"
            )
        self.optimizer = optimizer
        self.min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * groups
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
