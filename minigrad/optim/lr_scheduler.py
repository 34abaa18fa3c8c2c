r"""Learning-rate schedules: change each parameter group's ``lr`` once per epoch.

As in PyTorch, a scheduler wraps an optimizer, sets the starting learning rates on
creation (epoch 0), and moves to the next epoch's rates at each :meth:`step`, which
is called after the epoch's ``optimizer.step()`` calls::

    scheduler = StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(opt)
        scheduler.step()

:class:`StepLR`, :class:`MultiStepLR`, :class:`ConstantLR`, :class:`LinearLR`,
:class:`ExponentialLR`, :class:`PolynomialLR` and :class:`CosineAnnealingLR` compute
the new rate from the current one, as PyTorch does, so they can be chained: two
schedulers on one optimizer multiply their effects, and a rate changed by hand is
carried on. :class:`LambdaLR` and :class:`OneCycleLR` (stepped once per batch)
compute each rate from the initial one. :class:`SequentialLR` runs schedules one
after another. :class:`ReduceLROnPlateau` follows a metric instead of the epochs:
``scheduler.step(validation_loss)``.
"""

from __future__ import annotations

import bisect
import copy
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

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
        _check_optimizer(optimizer, "LambdaLR")
        self.lr_lambdas = _one_per_group(lr_lambda, "lr_lambdas", optimizer, "LambdaLR", kind="function")
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

    def _closed_form_lrs(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


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

    def _closed_form_lrs(self) -> list[float]:
        decays = sum(count for milestone, count in self.milestones.items() if milestone <= self.last_epoch)
        return [base_lr * self.gamma**decays for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    r"""Multiply the learning rate by ``factor`` for the first ``total_iters`` epochs.

    .. math::

        \eta_t = \begin{cases} f \, \eta_0 & t < T \\ \eta_0 & t \ge T \end{cases}

    e.g. ``lr=0.05, factor=0.5, total_iters=4`` gives 0.025 for epochs 0-3 and 0.05
    from epoch 4 on: a few epochs at a reduced rate before the real schedule.

    As in PyTorch, each rate is computed from the previous one: multiplied by
    :math:`f` at epoch 0, by :math:`1 / f` at epoch :math:`T`, and kept in between,
    so it can be chained with another schedule.

    Parameters
    ----------
    optimizer : Optimizer
    factor : float
        :math:`f`, in (0, 1].
    total_iters : int
        :math:`T`, the number of epochs at the reduced rate, at least 1.
    last_epoch : int
        See :class:`LRScheduler`.
    """

    def __init__(
        self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1
    ) -> None:
        if not 0 < factor <= 1:
            raise ValueError(
                f"ConstantLR: factor must be in (0, 1], got {factor}; the rate is divided by it at total_iters"
            )
        if total_iters < 1:
            raise ValueError(f"ConstantLR: total_iters must be at least 1, got {total_iters}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current_lrs()]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        # Times 1 / f rather than divided by f: PyTorch's rounding.
        return [lr * (1.0 / self.factor) for lr in self._current_lrs()]

    def _closed_form_lrs(self) -> list[float]:
        done = self.last_epoch >= self.total_iters
        return [base_lr * (self.factor + done * (1 - self.factor)) for base_lr in self.base_lrs]


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

    def _closed_form_lrs(self) -> list[float]:
        t, T, start, end = self.last_epoch, self.total_iters, self.start_factor, self.end_factor
        return [base_lr * (start + (end - start) * min(T, t) / T) for base_lr in self.base_lrs]


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

    def _closed_form_lrs(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    r"""Decay the learning rate to 0 over ``total_iters`` epochs along a polynomial.

    .. math:: \eta_t = \eta_0 \left(1 - \frac{\min(t, T)}{T}\right)^p

    ``power=1`` is a straight line from :math:`\eta_0` at epoch 0 to 0 at epoch
    :math:`T`; the rate stays 0 after that. As in PyTorch, each rate is computed from
    the previous one,

    .. math::

        \eta_t = \eta_{t-1} \left(\frac{1 - t / T}{1 - (t - 1) / T}\right)^p
        \quad \text{for } 1 \le t \le T,

    which equals the formula above up to rounding when nothing else changes the rate.

    Parameters
    ----------
    optimizer : Optimizer
    total_iters : int
        :math:`T`, the number of epochs the decay takes, at least 1.
    power : float
        :math:`p`, the power of the polynomial.
    last_epoch : int
        See :class:`LRScheduler`.
    """

    def __init__(
        self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1
    ) -> None:
        if total_iters < 1:
            raise ValueError(f"PolynomialLR: total_iters must be at least 1, got {total_iters}")
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def _first_lrs(self) -> list[float]:
        return self._current_lrs()  # see LRScheduler._first_lrs

    def get_lr(self) -> list[float]:
        t, T = self.last_epoch, self.total_iters
        if t > T:
            return self._current_lrs()
        ratio = ((1.0 - t / T) / (1.0 - (t - 1) / T)) ** self.power
        return [lr * ratio for lr in self._current_lrs()]

    def _closed_form_lrs(self) -> list[float]:
        t, T = self.last_epoch, self.total_iters
        return [base_lr * (1.0 - min(T, t) / T) ** self.power for base_lr in self.base_lrs]


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

    def _closed_form_lrs(self) -> list[float]:
        cosine = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base_lr - self.eta_min) * cosine / 2 for base_lr in self.base_lrs]


class _Phase(NamedTuple):
    """A phase of OneCycleLR: its last step, and the group keys of the values it goes between."""

    end: float
    lr_from: str
    lr_to: str
    momentum_from: str
    momentum_to: str


def _check_positive_int(value: Any, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"OneCycleLR: {what} must be a positive int, got {value!r}")


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
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError(
                    "OneCycleLR: pass total_steps, or both epochs and steps_per_epoch "
                    "(total_steps = epochs * steps_per_epoch)"
                )
            _check_positive_int(epochs, "epochs")
            _check_positive_int(steps_per_epoch, "steps_per_epoch")
            total_steps = epochs * steps_per_epoch
        _check_positive_int(total_steps, "total_steps")
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
        if cycle_momentum and not {"momentum", "betas"} & set(optimizer.defaults):
            raise ValueError(
                f"OneCycleLR: cycle_momentum=True needs an optimizer with a momentum ('momentum' as in "
                f"SGD, or 'betas' as in Adam), and {type(optimizer).__name__} has neither; "
                f"pass cycle_momentum=False"
            )
        self.total_steps, self.pct_start, self.three_phase = total_steps, pct_start, three_phase
        self.anneal_strategy, self.cycle_momentum = anneal_strategy, cycle_momentum
        self.use_beta1 = "betas" in optimizer.defaults
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
            if self.use_beta1:
                group["betas"] = (momentum, *group["betas"][1:])
            else:
                group["momentum"] = momentum

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
        super().load_state_dict(state_dict)
        for scheduler, scheduler_state in zip(self._schedulers, saved):
            scheduler.load_state_dict(scheduler_state)
