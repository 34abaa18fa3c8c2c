"""Schedules that set each epoch's rate by a formula of the epoch: step, linear, exponential, cosine, ..."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from minigrad.optim.lr_scheduler.base import LRScheduler, _check_optimizer, _one_per_group
from minigrad.optim.optimizer import Optimizer


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
