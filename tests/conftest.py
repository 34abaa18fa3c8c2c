"""What the test files share: one gradcheck helper, random data, and hypothesis strategies."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim


def assert_gradcheck(
    fn: Callable[..., mg.Tensor], *inputs: Any, second_order: bool = False, **tolerances: Any
):
    """Check ``fn``'s gradients (or, with ``second_order``, its second derivatives) numerically.

    Each ndarray in ``inputs`` becomes a float64 tensor that requires grad; a Tensor is
    passed as it is (so a constant input is a Tensor without ``requires_grad``); anything
    else (a scalar, an index) is passed through. ``tolerances`` go to ``mg.gradcheck``
    (``eps``, ``atol``, ``rtol``).
    """
    tensors = [
        mg.tensor(np.asarray(value, dtype=np.float64), requires_grad=True)
        if isinstance(value, np.ndarray)
        else value
        for value in inputs
    ]
    check = mg.gradgradcheck if second_order else mg.gradcheck
    assert check(fn, tensors, **tolerances) is True


@contextlib.contextmanager
def parameters_replaced(module: nn.Module, tensors: list[mg.Tensor]):
    """Make ``module`` compute with ``tensors`` in place of its parameters, in order.

    gradcheck hands its function float64 copies of the inputs, so a check with respect to
    the parameters must run the module on those copies. Forward reads each parameter as
    an attribute, so the attribute is swapped (past Module.__setattr__, which would
    rightly refuse a plain Tensor) and put back afterwards.
    """
    slots = [
        (owner, name)
        for _, owner in module.named_modules()
        for name, _ in owner.named_parameters(recurse=False)
    ]
    originals = [getattr(owner, name) for owner, name in slots]
    for (owner, name), tensor in zip(slots, tensors):
        object.__setattr__(owner, name, tensor)
    try:
        yield
    finally:
        for (owner, name), original in zip(slots, originals):
            object.__setattr__(owner, name, original)


def random_array(*shape: int, positive: bool = False, seed: int = 0) -> np.ndarray:
    """Float64 test data: standard normal values (no ties), or values in [0.5, 2) if ``positive``."""
    rng = np.random.default_rng(seed)
    if positive:
        return rng.uniform(0.5, 2.0, size=shape)
    return rng.standard_normal(shape)


@pytest.fixture(autouse=True)
def fresh_global_state():
    """Start every test recording, with float32 as the default, whatever the test before did."""
    mg.set_grad_enabled(True)
    mg.set_default_dtype(np.float32)


@pytest.fixture
def float64_default():
    """Make float64 the default dtype for one test, and put the old default back after it."""
    previous = mg.get_default_dtype()
    mg.set_default_dtype(np.float64)
    yield
    mg.set_default_dtype(previous)


# ---- hypothesis strategies ------------------------------------------------------------

shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


@st.composite
def axes_for(draw: st.DrawFn, shape: tuple[int, ...]) -> Any:
    """An ``axis`` argument for a tensor of ``shape``: None, an int or a tuple, negatives included."""
    ndim = len(shape)
    if ndim == 0:
        return None
    one_axis = st.integers(-ndim, ndim - 1)
    several_axes = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
        lambda axes: st.tuples(*[st.sampled_from([axis, axis - ndim]) for axis in axes])
    )
    return draw(st.one_of(st.none(), one_axis, several_axes))


@st.composite
def shapes_and_axes(draw: st.DrawFn) -> tuple[tuple[int, ...], Any]:
    """A shape and an ``axis`` argument that fits it."""
    shape = draw(shapes)
    return shape, draw(axes_for(shape))


def reduced_count(shape: tuple[int, ...], axis: Any) -> int:
    """How many values a reduction over ``axis`` combines into each result."""
    if axis is None:
        return int(np.prod(shape))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([shape[a] for a in axes]))


# ---- models and state, for the nn and serialization tests --------------------------


def make_model() -> nn.Sequential:
    return nn.Sequential(nn.Linear(64, 100), nn.BatchNorm1d(100), nn.Sigmoid(), nn.Linear(100, 10))


def train_steps(model: nn.Module, steps: int = 3, lr: float = 0.1, seed: int = 0) -> list[float]:
    """Plain gradient descent on random data and labels; returns the losses."""
    rng = np.random.default_rng(seed)
    in_features = next(model.parameters()).shape[1]
    losses = []
    for _ in range(steps):
        x = mg.tensor(rng.standard_normal((16, in_features)))
        target = rng.integers(0, 10, 16)
        loss = F.cross_entropy(model(x), target)
        model.zero_grad()
        loss.backward()
        for parameter in model.parameters():
            parameter.data -= lr * parameter.grad.data
        losses.append(loss.item())
    return losses


def snapshot(module: nn.Module) -> dict[str, np.ndarray]:
    """The module's state, copied again so that nothing the module does can reach it."""
    return {key: value.copy() for key, value in module.state_dict().items()}


def assert_same_arrays(actual: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    """The same keys in the same order, and every array the same in dtype, shape and value."""
    assert list(actual) == list(expected)
    for key, value in expected.items():
        assert actual[key].dtype == value.dtype and actual[key].shape == value.shape, key
        np.testing.assert_array_equal(actual[key], value, err_msg=key)


class PlainGradientDescent(optim.Optimizer):
    """An optimizer with neither momentum nor betas, for schedulers that cycle a momentum."""

    def __init__(self, params: Any, lr: float) -> None:
        super().__init__(params, {"lr": lr})

    def _update(self, param: Any, group: dict[str, Any]) -> None:
        param.data -= group["lr"] * param.grad.data


# ---- schedulers -------------------------------------------------------------------------


def hyperparameters(opt: optim.Optimizer) -> list[tuple[Any, Any, Any]]:
    """What schedulers move, group by group: the rate, SGD's momentum, Adam's betas."""
    return [(group["lr"], group.get("momentum"), group.get("betas")) for group in opt.param_groups]


def run_then_copy_optimizer(
    make_opt: Callable[[], optim.Optimizer], make_scheduler: Callable[..., Any], epochs: int
) -> tuple[Any, optim.Optimizer]:
    """A schedule run for ``epochs`` epochs (made with ``last_epoch=-1``), and a new
    optimizer holding its optimizer's state, ready for a schedule resumed with last_epoch."""
    opt = make_opt()
    scheduler = make_scheduler(opt, -1)
    for _ in range(epochs):
        opt.step()
        scheduler.step()
    resumed_opt = make_opt()
    resumed_opt.load_state_dict(opt.state_dict())
    return scheduler, resumed_opt


def assert_resumes_from_a_file_exactly(
    tmp_path: Any,
    make_opt: Callable[[], optim.Optimizer],
    make_scheduler: Callable[[optim.Optimizer], Any],
    saved_after: int,
    steps_after: int,
) -> None:
    """Run ``saved_after`` steps, save optimizer and schedule to a file, load both into new
    ones, and check that the two then step exactly alike for ``steps_after`` steps."""
    opt = make_opt()
    scheduler = make_scheduler(opt)
    for _ in range(saved_after):
        opt.step()
        scheduler.step()
    saved = scheduler.state_dict()
    assert "optimizer" not in saved
    mg.save({"optimizer": opt.state_dict(), "scheduler": saved}, tmp_path / "run.npz")
    checkpoint = mg.load(tmp_path / "run.npz")
    resumed_opt = make_opt()
    resumed = make_scheduler(resumed_opt)
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    resumed.load_state_dict(checkpoint["scheduler"])
    assert resumed.last_epoch == saved_after
    assert resumed.state_dict() == scheduler.state_dict()
    for _ in range(steps_after):
        opt.step()
        scheduler.step()
        resumed_opt.step()
        resumed.step()
        assert hyperparameters(resumed_opt) == hyperparameters(opt)
        assert resumed.get_last_lr() == scheduler.get_last_lr()
