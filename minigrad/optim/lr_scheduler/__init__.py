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
carried on. :class:`LambdaLR` and :class:`CosineAnnealingWarmRestarts` (cosine
cycles, each restarting at the initial rate) compute each rate from the initial one;
:class:`OneCycleLR` and :class:`CyclicLR`, stepped once per batch, from the bounds
they are given. :class:`SequentialLR` runs schedules one after another.
:class:`ReduceLROnPlateau` follows a metric instead of the epochs:
``scheduler.step(validation_loss)``.
"""

from minigrad.optim.lr_scheduler.base import LRScheduler
from minigrad.optim.lr_scheduler.cyclic import CyclicLR
from minigrad.optim.lr_scheduler.epochwise import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from minigrad.optim.lr_scheduler.one_cycle import OneCycleLR
from minigrad.optim.lr_scheduler.plateau import ReduceLROnPlateau
from minigrad.optim.lr_scheduler.sequential import SequentialLR
from minigrad.optim.lr_scheduler.warm_restarts import CosineAnnealingWarmRestarts

__all__ = [
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]
