"""Tests of CosineAnnealingWarmRestarts and CyclicLR: the schedules that cycle, step by step."""

import itertools
import math
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conftest import (
    PlainGradientDescent,
    assert_resumes_from_a_file_exactly,
    hyperparameters,
    run_then_copy_optimizer,
)

import minigrad as mg
from minigrad import optim

lr_scheduler = optim.lr_scheduler


def sgd(*lrs, momentum=0.9):
    """An SGD optimizer with one parameter group per learning rate."""
    return optim.SGD(
        [{"params": [mg.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs], momentum=momentum
    )


def adam(*lrs):
    return optim.Adam(
        [{"params": [mg.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs], betas=(0.9, 0.99)
    )


def lrs_of(opt):
    return [group["lr"] for group in opt.param_groups]


def momenta_of(opt):
    """SGD's momentum or Adam's beta1, one per group (None for an optimizer without momentum)."""
    return [group["betas"][0] if "betas" in group else group.get("momentum") for group in opt.param_groups]


def run(scheduler, steps):
    """Every group's (lr, momentum) at creation and after each of ``steps`` optimizer and scheduler steps."""
    opt = scheduler.optimizer
    rows = [list(zip(lrs_of(opt), momenta_of(opt)))]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        rows.append(list(zip(lrs_of(opt), momenta_of(opt))))
    return rows


def rates(scheduler, steps):
    return [[lr for lr, _ in row] for row in run(scheduler, steps)]


# ---- CosineAnnealingWarmRestarts: SGDR's formula ---------------------------------------


def restarts(T_0, T_mult, until):
    """The epochs at which the cycles start: 0, T_0, T_0 + T_0 T_mult, ... up to ``until``."""
    starts = [0]
    for cycle in itertools.count():
        next_start = starts[-1] + T_0 * T_mult**cycle
        if next_start > until:
            return starts
        starts.append(next_start)


def sgdr(epoch, lr, T_0, T_mult=1, eta_min=0.0):
    """The docstring's rate at ``epoch`` (fractional too): the cosine of the cycle it falls in."""
    starts = restarts(T_0, T_mult, epoch)
    cycle = len(starts) - 1
    T_cur, T_i = epoch - starts[-1], T_0 * T_mult**cycle
    return eta_min + (lr - eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2


@pytest.mark.parametrize(
    ("T_0", "T_mult", "eta_min"),
    [(1, 1, 0.0), (4, 1, 0.01), (1, 2, 0.0), (2, 2, 0.001), (3, 3, 0.02), (5, 2, 0.0)],
)
def test_warm_restarts_follow_the_cosine_and_restart(T_0, T_mult, eta_min):
    lrs = (0.1, 0.03)
    epochs = 100
    actual = rates(lr_scheduler.CosineAnnealingWarmRestarts(sgd(*lrs), T_0, T_mult, eta_min), epochs)
    expected = [[sgdr(epoch, lr, T_0, T_mult, eta_min) for lr in lrs] for epoch in range(epochs + 1)]
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-15)
    for start in restarts(T_0, T_mult, epochs):  # each cycle starts at the initial rates, exactly
        assert actual[start] == list(lrs)


def test_warm_restarts_doubling_cycles_restart_at_2_6_14_30():
    actual = [
        row[0] for row in rates(lr_scheduler.CosineAnnealingWarmRestarts(sgd(0.1), T_0=2, T_mult=2), 31)
    ]
    assert [epoch for epoch in range(31) if actual[epoch] == 0.1] == [0, 2, 6, 14, 30]


def test_warm_restarts_bookkeeping():
    opt = sgd(0.1, 0.2)
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
    assert (scheduler.last_epoch, scheduler.T_cur, scheduler.T_i) == (0, 0, 3)
    assert scheduler.get_last_lr() == [0.1, 0.2] and scheduler.base_lrs == [0.1, 0.2]
    for _ in range(4):
        opt.step()
        scheduler.step()
    assert (scheduler.last_epoch, scheduler.T_cur, scheduler.T_i) == (4, 1, 6)
    assert scheduler.get_last_lr() == lrs_of(opt)
    assert momenta_of(opt) == [0.9, 0.9]  # the momentum is not touched


def batches_per_epoch_rates(scheduler, epochs, batches):
    """The rates set by ``step(epoch + batch / batches)`` after every batch, and the epochs given."""
    rows, times = [], []
    for epoch in range(epochs):
        for batch in range(batches):
            time = epoch + batch / batches
            scheduler.step(time)
            assert scheduler.last_epoch == epoch == math.floor(time)
            rows.append(scheduler.get_last_lr())
            times.append(time)
    return rows, times


@pytest.mark.parametrize(("T_0", "T_mult"), [(2, 1), (2, 2), (3, 3)])
def test_warm_restarts_step_to_fractional_epochs_within_each_epoch(T_0, T_mult):
    lrs = (0.1, 0.5)
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(sgd(*lrs), T_0, T_mult, eta_min=0.001)
    rows, times = batches_per_epoch_rates(scheduler, epochs=30, batches=7)
    expected = [[sgdr(time, lr, T_0, T_mult, 0.001) for lr in lrs] for time in times]
    np.testing.assert_allclose(rows, expected, rtol=1e-12)


def test_warm_restarts_step_after_a_fractional_epoch_moves_one_epoch_on():
    # As in PyTorch, step() adds one epoch to where step(epoch) left the schedule, restarting
    # when it passes the end of the cycle.
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(sgd(0.1), T_0=2, T_mult=2)
    scheduler.step(1.25)
    positions = [(scheduler.last_epoch, scheduler.T_cur, scheduler.T_i)]
    for _ in range(3):
        scheduler.step()
        positions.append((scheduler.last_epoch, scheduler.T_cur, scheduler.T_i))
    assert positions == [(1, 1.25, 2), (2, 0.25, 4), (3, 1.25, 4), (4, 2.25, 4)]
    assert scheduler.get_last_lr() == pytest.approx([sgdr(4.25, 0.1, 2, 2)], rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    T_0=st.integers(1, 6),
    T_mult=st.integers(1, 4),
    epochs=st.lists(
        st.one_of(st.integers(0, 300), st.floats(0, 300, allow_nan=False, allow_infinity=False)),
        min_size=1,
        max_size=10,
    ),
)
def test_warm_restarts_step_to_any_epoch_in_any_order(T_0, T_mult, epochs):
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(sgd(0.1), T_0, T_mult, eta_min=0.002)
    for epoch in epochs:
        scheduler.step(epoch)
        assert scheduler.last_epoch == math.floor(epoch)
        assert scheduler.get_last_lr() == pytest.approx([sgdr(epoch, 0.1, T_0, T_mult, 0.002)], rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(T_0=st.integers(1, 5), T_mult=st.integers(1, 4), epoch=st.integers(0, 200))
def test_warm_restarts_step_to_an_epoch_equals_stepping_there(T_0, T_mult, epoch):
    stepped = lr_scheduler.CosineAnnealingWarmRestarts(sgd(0.1), T_0, T_mult)
    for _ in range(epoch):
        stepped.step()
    jumped = lr_scheduler.CosineAnnealingWarmRestarts(sgd(0.1), T_0, T_mult)
    jumped.step(epoch)
    assert (jumped.last_epoch, jumped.T_cur, jumped.T_i) == (stepped.last_epoch, stepped.T_cur, stepped.T_i)
    assert jumped.get_last_lr() == stepped.get_last_lr()


@pytest.mark.parametrize(("T_0", "T_mult", "epoch"), [(1, 3, 121), (2, 10, 222), (3, 3, 363)])
def test_warm_restarts_step_to_the_first_epoch_of_a_long_cycle_restarts(T_0, T_mult, epoch):
    # Cycle starts where log(epoch / T_0 * (T_mult - 1) + 1) / log(T_mult) rounds just below
    # an integer: computed that way, as PyTorch does, the epoch would end the cycle before.
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(sgd(0.1), T_0, T_mult)
    scheduler.step(epoch)
    assert scheduler.T_cur == 0 and scheduler.get_last_lr() == [0.1]


# ---- PyTorch's values, to the last bit (printed by torch 2.13 for the same schedules) ----


def test_warm_restarts_equal_pytorchs_rates_exactly():
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(sgd(0.1), T_0=3, T_mult=2, eta_min=0.01)
    assert [row[0] for row in rates(scheduler, 12)] == [
        0.1, 0.0775, 0.032500000000000015, 0.1, 0.09397114317029975, 0.0775, 0.05500000000000001,
        0.032500000000000015, 0.01602885682970026, 0.1, 0.09846666218300808, 0.09397114317029975,
        0.08681980515339464,
    ]  # fmt: skip


def test_warm_restarts_with_explicit_epochs_equal_pytorchs_exactly():
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(sgd(0.1), T_0=2)
    positions = []
    for epoch in [0.5, 1.25, None, 3.0, 7.75, None, None]:
        scheduler.step(epoch)
        positions.append((scheduler.get_last_lr()[0], scheduler.last_epoch, scheduler.T_cur))
    assert positions == [
        (0.08535533905932738, 0, 0.5), (0.030865828381745515, 1, 1.25), (0.09619397662556434, 2, 0.25),
        (0.05, 3, 1.0), (0.0038060233744356634, 7, 1.75), (0.0691341716182545, 8, 0.75),
        (0.0038060233744356634, 9, 1.75),
    ]  # fmt: skip


def test_cyclic_lr_equals_pytorchs_rates_and_momenta_exactly():
    opt = sgd(0.5)
    scheduler = lr_scheduler.CyclicLR(
        opt, 0.01, 0.1, step_size_up=2, step_size_down=3, mode="exp_range", gamma=0.9
    )
    assert [row[0] for row in run(scheduler, 11)] == [
        (0.01, 0.9), (0.0505, 0.8550000000000001), (0.0829, 0.8190000000000001), (0.05374, 0.8514),
        (0.029683, 0.8781300000000001), (0.01, 0.9), (0.03391484500000003, 0.87342795),
        (0.053046721000000005, 0.85217031), (0.035828032600000004, 0.871302186),
        (0.021622614670000012, 0.8870859837), (0.01, 0.9), (0.02412147682405002, 0.8843094701955),
    ]  # fmt: skip


def test_cyclic_lr_equals_pytorchs_adam_betas_exactly():
    opt = adam(0.5)
    scheduler = lr_scheduler.CyclicLR(
        opt, 0.001, 0.004, step_size_up=3, mode="triangular2", base_momentum=0.85, max_momentum=0.95
    )
    betas = [opt.param_groups[0]["betas"]]
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(13):
        opt.step()
        scheduler.step()
        betas.append(opt.param_groups[0]["betas"])
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == [
        0.001, 0.0020000000000000005, 0.0029999999999999996, 0.004, 0.003000000000000001,
        0.001999999999999999, 0.001, 0.001500000000000001, 0.001999999999999999, 0.0025,
        0.001999999999999999, 0.001500000000000001, 0.001, 0.0012499999999999998,
    ]  # fmt: skip
    assert [beta1 for beta1, _ in betas] == [
        0.95, 0.9166666666666666, 0.8833333333333333, 0.85, 0.8833333333333333, 0.9166666666666666, 0.95,
        0.9333333333333332, 0.9166666666666666, 0.8999999999999999, 0.9166666666666666, 0.9333333333333332,
        0.95, 0.9416666666666667,
    ]  # fmt: skip
    assert all(beta2 == 0.99 for _, beta2 in betas)


# ---- CyclicLR: the triangle and its scales ---------------------------------------------


def triangle(t, up, down):
    """How far step ``t`` is from the bottom to the top of its cycle (0 to 1), and the cycle (from 1)."""
    length = up + down
    cycle = int(t // length) + 1
    into = t - (cycle - 1) * length
    return (into / up if into <= up else (length - into) / down), cycle


def cyclic(t, low, high, up, down=None, scale=lambda cycle, t: 1.0):
    """The docstring's rate, or momentum with ``low`` and ``high`` swapped, at step ``t``."""
    height, cycle = triangle(t, up, up if down is None else down)
    return low + (high - low) * height * scale(cycle, t)


MODE_SCALES = {
    "triangular": lambda cycle, t: 1.0,
    "triangular2": lambda cycle, t: 0.5 ** (cycle - 1),
    "exp_range": lambda cycle, t: 0.97**t,
}


@pytest.mark.parametrize("mode", list(MODE_SCALES))
@pytest.mark.parametrize(("up", "down"), [(4, None), (2, 5), (5, 2), (3, 0), (2.5, 1.5), (1, None)])
def test_cyclic_lr_climbs_and_falls_in_each_mode(mode, up, down):
    base_lrs, max_lrs = [0.001, 0.01], [0.1, 0.05]
    opt = sgd(0.5, 0.5)
    scheduler = lr_scheduler.CyclicLR(opt, base_lrs, max_lrs, up, down, mode=mode, gamma=0.97)
    assert lrs_of(opt) == base_lrs  # set on creation, whatever the optimizer's rate was
    steps = 60
    expected = [
        [cyclic(t, low, high, up, down, MODE_SCALES[mode]) for low, high in zip(base_lrs, max_lrs)]
        for t in range(steps + 1)
    ]
    np.testing.assert_allclose(rates(scheduler, steps), expected, rtol=1e-12)
    assert scheduler.get_last_lr() == lrs_of(opt) and scheduler.last_epoch == steps
    assert scheduler.base_lrs == base_lrs and scheduler.max_lrs == max_lrs


def test_cyclic_lr_reaches_max_lr_and_comes_back():
    actual = [row[0] for row in rates(lr_scheduler.CyclicLR(sgd(0.5), 0.1, 1.0, step_size_up=2), 8)]
    assert actual == pytest.approx([0.1, 0.55, 1.0, 0.55, 0.1, 0.55, 1.0, 0.55, 0.1], rel=1e-15)
    halving = lr_scheduler.CyclicLR(sgd(0.5), 0.1, 1.0, step_size_up=2, mode="triangular2")
    assert [row[0] for row in rates(halving, 10)][2::4] == pytest.approx([1.0, 0.55, 0.325], rel=1e-15)


@pytest.mark.parametrize(
    ("scale_fn", "scale_mode", "scale"),
    [
        (lambda cycle: 1 / cycle, "cycle", lambda cycle, t: 1 / cycle),
        (lambda t: 1 / (1 + t / 10), "iterations", lambda cycle, t: 1 / (1 + t / 10)),
    ],
    ids=["cycle", "iterations"],
)
def test_cyclic_lr_with_a_scale_fn(scale_fn, scale_mode, scale):
    # mode is ignored when scale_fn is given, even a mode that is not one.
    scheduler = lr_scheduler.CyclicLR(
        sgd(0.5), 0.01, 0.1, 3, 4, mode="custom", scale_fn=scale_fn, scale_mode=scale_mode
    )
    assert scheduler.scale_mode == scale_mode
    expected = [[cyclic(t, 0.01, 0.1, 3, 4, scale)] for t in range(41)]
    np.testing.assert_allclose(rates(scheduler, 40), expected, rtol=1e-12)
    assert scheduler.scale_fn(4) == scale_fn(4)


def test_cyclic_lr_mode_sets_scale_mode_when_there_is_no_scale_fn():
    # As in PyTorch: exp_range scales by the step, the triangles by the cycle, whatever scale_mode says.
    opt = sgd(0.5)
    assert (
        lr_scheduler.CyclicLR(opt, 0.01, 0.1, mode="exp_range", scale_mode="cycle").scale_mode == "iterations"
    )
    assert (
        lr_scheduler.CyclicLR(opt, 0.01, 0.1, mode="triangular2", scale_mode="iterations").scale_mode
        == "cycle"
    )
    scheduler = lr_scheduler.CyclicLR(opt, 0.01, 0.1, mode="exp_range", gamma=0.5)
    assert [scheduler.scale_fn(x) for x in (0, 1, 3)] == [1.0, 0.5, 0.125]


@settings(max_examples=60, deadline=None)
@given(
    up=st.one_of(st.integers(1, 8), st.floats(0.5, 8.0)),
    down=st.one_of(st.none(), st.integers(0, 8), st.floats(0.5, 8.0)),
    mode=st.sampled_from(list(MODE_SCALES)),
    bounds=st.lists(st.tuples(st.floats(1e-4, 1.0), st.floats(1e-4, 1.0)), min_size=1, max_size=3),
)
def test_cyclic_lr_follows_the_formula_for_any_cycle(up, down, mode, bounds):
    # With step_size_down=0 the rate drops from max_lr to base_lr at each cycle's end: a
    # fractional cycle length could put a step on either side of that drop by rounding.
    assume(down != 0 or isinstance(up, int))
    base_lrs, max_lrs = [low for low, _ in bounds], [high for _, high in bounds]
    opt = sgd(*[0.5] * len(bounds))
    scheduler = lr_scheduler.CyclicLR(opt, base_lrs, max_lrs, up, down, mode=mode, gamma=0.97)
    expected = [
        [cyclic(t, low, high, up, down, MODE_SCALES[mode]) for low, high in zip(base_lrs, max_lrs)]
        for t in range(41)
    ]
    # Rounding is relative to the amplitude (max_lr - base_lr, up to 1): at a cycle's bottom
    # a rate of 1e-4 may be off by 1e-15, a relative 1e-11. Hence the absolute tolerance.
    np.testing.assert_allclose(rates(scheduler, 40), expected, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("make_opt", [sgd, adam], ids=["sgd-momentum", "adam-beta1"])
@pytest.mark.parametrize("mode", list(MODE_SCALES))
def test_cyclic_lr_cycles_the_momentum_the_other_way(make_opt, mode):
    opt = make_opt(0.5, 0.5)
    lows, highs = [0.8, 0.85], [0.9, 0.99]
    scheduler = lr_scheduler.CyclicLR(
        opt, 0.01, 0.1, 3, 2, mode=mode, gamma=0.97, base_momentum=lows, max_momentum=highs
    )
    assert momenta_of(opt) == highs  # at the bottom of the rate
    rows = run(scheduler, 30)
    expected = [
        [cyclic(t, high, low, 3, 2, MODE_SCALES[mode]) for low, high in zip(lows, highs)] for t in range(31)
    ]
    np.testing.assert_allclose([[m for _, m in row] for row in rows], expected, rtol=1e-12)
    assert [group["max_momentum"] for group in opt.param_groups] == highs
    assert [group["base_momentum"] for group in opt.param_groups] == lows
    if "betas" in opt.param_groups[0]:
        assert all(group["betas"][1] == 0.99 for group in opt.param_groups)


def test_cyclic_lr_gives_sgd_a_momentum_unless_cycle_momentum_is_false():
    opt = sgd(0.5, momentum=0)
    lr_scheduler.CyclicLR(opt, 0.01, 0.1)
    assert momenta_of(opt) == [0.9]  # as in PyTorch: SGD now runs with momentum
    opt = sgd(0.5, momentum=0)
    scheduler = lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=2, cycle_momentum=False)
    run(scheduler, 3)
    assert momenta_of(opt) == [0] and "max_momentum" not in opt.param_groups[0]


def test_cyclic_lr_ignores_a_rate_set_by_a_scheduler_before_it():
    # PyTorch would start at the "initial_lr" the StepLR stored (0.5) for one step.
    opt = sgd(0.5)
    lr_scheduler.StepLR(opt, step_size=3)
    scheduler = lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=2)
    assert scheduler.get_last_lr() == [0.01] == lrs_of(opt) and scheduler.base_lrs == [0.01]
    assert opt.param_groups[0]["initial_lr"] == 0.5  # the StepLR's, as in PyTorch


def test_the_optimizer_steps_with_the_cycled_rate_and_momentum():
    param = mg.tensor([0.0], requires_grad=True, dtype=np.float64)
    opt = optim.SGD([param], lr=1.0, momentum=0.5)
    scheduler = lr_scheduler.CyclicLR(opt, 0.1, 0.3, step_size_up=1, base_momentum=0.5, max_momentum=0.7)
    # Step 0: lr 0.1, momentum 0.7 (a first step has no buffer); step 1: lr 0.3, momentum 0.5.
    for _ in range(2):
        param.grad = mg.tensor([1.0], dtype=np.float64)
        opt.step()
        scheduler.step()
    np.testing.assert_allclose(param.data, [-0.1 - 0.3 * (0.5 * 1.0 + 1.0)], rtol=1e-12)


# ---- in a sequence, and resuming ---------------------------------------------------------


@pytest.mark.parametrize(
    "make_second",
    [
        lambda opt: lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.01),
        lambda opt: lr_scheduler.CyclicLR(opt, [0.01, 0.02], [0.1, 0.2], step_size_up=3, mode="triangular2"),
    ],
    ids=["warm-restarts", "cyclic"],
)
def test_sequential_lr_starts_them_afresh_at_their_milestone(make_second):
    def make(opt):
        first = lr_scheduler.ExponentialLR(opt, gamma=0.5)
        return lr_scheduler.SequentialLR(opt, [first, make_second(opt)], milestones=[3])

    in_sequence = run(make(sgd(0.1, 0.3)), 30)
    alone = run(make_second(sgd(0.1, 0.3)), 27)
    np.testing.assert_allclose(in_sequence[3:], alone, rtol=1e-15)


def sgd_of_two_groups():
    return sgd(0.1, 0.3)


def adam_of_two_groups():
    return adam(0.1, 0.3)


@pytest.mark.parametrize(
    ("make_opt", "make_scheduler"),
    [
        (sgd_of_two_groups, lambda opt: lr_scheduler.CosineAnnealingWarmRestarts(opt, 3, 2, eta_min=0.01)),
        (
            sgd_of_two_groups,
            lambda opt: lr_scheduler.CyclicLR(opt, [0.01, 0.02], 0.2, 3, 2, mode="triangular2"),
        ),
        (
            adam_of_two_groups,
            lambda opt: lr_scheduler.CyclicLR(
                opt, 0.001, 0.01, 2.5, mode="exp_range", gamma=0.9, max_momentum=0.95
            ),
        ),
        (sgd_of_two_groups, lambda opt: lr_scheduler.CyclicLR(opt, 0.01, 0.1, 2, cycle_momentum=False)),
    ],
    ids=["warm-restarts", "cyclic-sgd", "cyclic-adam", "cyclic-no-momentum"],
)
def test_resuming_from_a_saved_file_continues_exactly(tmp_path, make_opt, make_scheduler):
    assert_resumes_from_a_file_exactly(tmp_path, make_opt, make_scheduler, saved_after=5, steps_after=12)


def test_warm_restarts_resume_mid_epoch_from_a_saved_file(tmp_path):
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(sgd(0.1), T_0=2, T_mult=3)
    scheduler.step(4.6)
    mg.save(scheduler.state_dict(), tmp_path / "scheduler.npz")
    resumed = lr_scheduler.CosineAnnealingWarmRestarts(sgd(0.1), T_0=2, T_mult=3)
    resumed.load_state_dict(mg.load(tmp_path / "scheduler.npz"))
    assert (resumed.last_epoch, resumed.T_cur, resumed.T_i) == (4, pytest.approx(2.6, rel=1e-12), 6)
    scheduler.step()
    resumed.step()
    assert (
        resumed.get_last_lr() == scheduler.get_last_lr() == pytest.approx([sgdr(5.6, 0.1, 2, 3)], rel=1e-12)
    )


def test_cyclic_lr_state_dict_leaves_the_scale_fn_out():
    def halving(cycle):
        return 0.5**cycle

    opt = sgd(0.5)
    scheduler = lr_scheduler.CyclicLR(opt, 0.01, 0.1, 2, scale_fn=halving)
    saved = scheduler.state_dict()
    assert "_scale_fn_custom" not in saved and halving not in saved.values()
    resumed = lr_scheduler.CyclicLR(sgd(0.5), 0.01, 0.1, 2, scale_fn=halving)
    resumed.load_state_dict(saved)
    assert resumed.scale_fn(3) == 0.125


def resumed_with_last_epoch(make_scheduler, steps):
    """A scheduler that ran ``steps`` steps, and one resumed from it with ``last_epoch=steps - 1``."""
    scheduler, resumed_opt = run_then_copy_optimizer(lambda: sgd(0.1), make_scheduler, steps)
    return scheduler, make_scheduler(resumed_opt, steps - 1)


@pytest.mark.parametrize(
    "make_scheduler",
    [
        lambda opt, last_epoch: lr_scheduler.CosineAnnealingWarmRestarts(
            opt, 3, eta_min=0.01, last_epoch=last_epoch
        ),
        lambda opt, last_epoch: lr_scheduler.CosineAnnealingWarmRestarts(opt, 8, 2, last_epoch=last_epoch),
        lambda opt, last_epoch: lr_scheduler.CyclicLR(
            opt, 0.01, 0.1, 3, 4, "exp_range", 0.9, last_epoch=last_epoch
        ),
    ],
    ids=["warm-restarts", "warm-restarts-in-first-cycle", "cyclic"],
)
def test_resuming_with_last_epoch_continues_the_schedule(make_scheduler):
    scheduler, resumed = resumed_with_last_epoch(make_scheduler, 4)
    assert resumed.last_epoch == scheduler.last_epoch == 4
    assert hyperparameters(resumed.optimizer) == hyperparameters(scheduler.optimizer)
    for _ in range(20):
        scheduler.step()
        resumed.step()
        assert hyperparameters(resumed.optimizer) == hyperparameters(scheduler.optimizer)


def test_warm_restarts_resumed_with_last_epoch_past_the_first_cycle_restart_as_pytorchs():
    # PyTorch counts the epochs from the start of the first cycle and restarts once:
    # epoch 5 is in the second cycle (epochs 2 to 5) of an uninterrupted run, but here
    # it is 1 epoch into a cycle of 4. The state dict resumes exactly. Printed by torch 2.13:
    def make(opt, last_epoch):
        return lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, last_epoch=last_epoch)

    _, resumed = resumed_with_last_epoch(make, 5)
    assert (resumed.T_cur, resumed.T_i) == (1, 4)
    assert [row[0] for row in rates(resumed, 6)] == [
        0.08535533905932738, 0.05, 0.014644660940672627, 0.1, 0.09619397662556434, 0.08535533905932738,
        0.0691341716182545,
    ]  # fmt: skip


def test_resuming_with_last_epoch_needs_initial_lr():
    for make in [
        lambda: lr_scheduler.CosineAnnealingWarmRestarts(sgd(0.1), T_0=2, last_epoch=3),
        lambda: lr_scheduler.CyclicLR(sgd(0.1), 0.01, 0.1, last_epoch=3),
    ]:
        with pytest.raises(KeyError, match="resuming at last_epoch=3 needs 'initial_lr' in param_groups"):
            make()


# ---- bad arguments -------------------------------------------------------------------------


def test_warm_restarts_check_their_arguments():
    opt = sgd(0.1)
    for options, message in [
        ({"T_0": 0}, "T_0, the epochs of the first cycle, must be a positive int, got 0"),
        ({"T_0": 2.0}, "T_0, the epochs of the first cycle, must be a positive int, got 2.0"),
        ({"T_0": True}, "T_0, the epochs of the first cycle, must be a positive int, got True"),
        (
            {"T_0": 2, "T_mult": 0},
            "T_mult, the factor by which the cycles grow, must be an int of at least 1, got 0",
        ),
        (
            {"T_0": 2, "T_mult": 1.5},
            "T_mult, the factor by which the cycles grow, must be an int of at least 1, got 1.5",
        ),
        ({"T_0": 2, "eta_min": "0"}, "eta_min must be a number, got '0'"),
    ]:
        with pytest.raises(ValueError, match=f"CosineAnnealingWarmRestarts: {re.escape(message)}"):
            lr_scheduler.CosineAnnealingWarmRestarts(opt, **options)
    assert opt.param_groups[0]["lr"] == 0.1 and "initial_lr" not in opt.param_groups[0]
    with pytest.raises(TypeError, match="CosineAnnealingWarmRestarts: expected an optimizer"):
        lr_scheduler.CosineAnnealingWarmRestarts([mg.zeros(1, requires_grad=True)], T_0=2)


@pytest.mark.parametrize("epoch", [-1, -0.5, math.nan, math.inf, "3"])
def test_warm_restarts_step_to_a_bad_epoch_is_an_error(epoch):
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(sgd(0.1), T_0=2)
    scheduler.step(1.5)
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"CosineAnnealingWarmRestarts: step(epoch) needs a finite number of epochs >= 0, got {epoch!r}"
        ),
    ):
        scheduler.step(epoch)
    assert (scheduler.last_epoch, scheduler.T_cur) == (1, 1.5)


def test_cyclic_lr_checks_its_arguments():
    opt = sgd(0.1, 0.2)
    for options, message in [
        ({"base_lr": [0.01]}, "got 1 base_lrs for an optimizer with 2 parameter groups"),
        ({"max_lr": [0.1] * 3}, "got 3 max_lrs for an optimizer with 2 parameter groups"),
        ({"base_momentum": [0.8]}, "got 1 base_momentums for an optimizer with 2 parameter groups"),
        ({"max_momentum": [0.9] * 3}, "got 3 max_momentums for an optimizer with 2 parameter groups"),
        (
            {"step_size_up": 0},
            "step_size_up, the steps from base_lr to max_lr, must be a number above 0, got 0",
        ),
        (
            {"step_size_up": -2.5},
            "step_size_up, the steps from base_lr to max_lr, must be a number above 0, got -2.5",
        ),
        (
            {"step_size_down": -1},
            "step_size_down, the steps from max_lr back to base_lr, must be a number of at least 0",
        ),
        ({"mode": "triangle"}, "mode must be 'triangular', 'triangular2' or 'exp_range', got 'triangle'"),
        (
            {"scale_fn": lambda x: 1.0, "scale_mode": "steps"},
            "scale_mode must be 'cycle' or 'iterations', got 'steps'",
        ),
        ({"scale_mode": "epochs"}, "scale_mode must be 'cycle' or 'iterations', got 'epochs'"),
    ]:
        with pytest.raises(ValueError, match=f"CyclicLR: {re.escape(message)}"):
            lr_scheduler.CyclicLR(opt, **{"base_lr": 0.01, "max_lr": 0.1, **options})
    with pytest.raises(TypeError, match="CyclicLR: scale_fn must be a function, got float"):
        lr_scheduler.CyclicLR(opt, 0.01, 0.1, scale_fn=0.5)
    with pytest.raises(TypeError, match="CyclicLR: expected an optimizer"):
        lr_scheduler.CyclicLR([mg.zeros(1, requires_grad=True)], 0.01, 0.1)
    # An error changes nothing: the optimizer keeps its rates and momentum.
    assert hyperparameters(opt) == [(0.1, 0.9, None), (0.2, 0.9, None)]
    assert all("initial_lr" not in group for group in opt.param_groups)


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda: PlainGradientDescent([mg.zeros(1, requires_grad=True)], lr=0.1),
        lambda: optim.Adagrad([mg.zeros(1, requires_grad=True)], lr=0.1),
    ],
    ids=["plain", "adagrad"],
)
def test_cyclic_lr_cycles_the_momentum_only_of_an_optimizer_with_one(make_opt):
    opt = make_opt()
    name = type(opt).__name__
    with pytest.raises(
        ValueError,
        match=f"CyclicLR: cycle_momentum=True needs an optimizer with a momentum .* {name} has neither; "
        f"pass cycle_momentum=False",
    ):
        lr_scheduler.CyclicLR(opt, 0.01, 0.1)
    assert opt.param_groups[0]["lr"] == 0.1
    scheduler = lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=2, cycle_momentum=False)
    assert [row[0] for row in rates(scheduler, 2)] == pytest.approx([0.01, 0.055, 0.1], rel=1e-15)


@pytest.mark.parametrize(
    ("scale_fn", "error", "message"),
    [
        (
            lambda cycle, extra: 1.0,
            ValueError,
            r"CyclicLR: scale_fn\(1\), as the first step calls it, raised TypeError",
        ),
        (lambda cycle: 1 / 0, ValueError, "raised ZeroDivisionError"),
        (
            lambda cycle: "half",
            TypeError,
            r"CyclicLR: scale_fn must return a number, scale_fn\(1\) gave 'half'",
        ),
    ],
)
def test_cyclic_lr_with_a_scale_fn_that_fails_changes_nothing(scale_fn, error, message):
    opt = sgd(0.5, momentum=0.3)
    before = [dict(group) for group in opt.param_groups]
    with pytest.raises(error, match=message):
        lr_scheduler.CyclicLR(opt, 0.01, 0.1, scale_fn=scale_fn)
    assert opt.param_groups == before  # no lr, initial_lr or momentum bounds written


def test_cyclic_lr_triangular2_goes_on_past_a_thousand_cycles():
    """Each cycle is half as high as the one before: after 1,024 of them the height is below
    any float, and the rate stays at base_lr (1 / 2**1024 would overflow)."""
    opt = sgd(0.5)
    scheduler = lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=1, mode="triangular2")
    peaks = []
    for step in range(1, 2 * 1100 + 1):
        scheduler.step()
        if step % 2 == 1:  # the top of each cycle of two steps
            peaks.append(lrs_of(opt)[0])
    np.testing.assert_allclose(peaks[:3], [0.1, 0.01 + 0.09 / 2, 0.01 + 0.09 / 4], rtol=1e-15)
    assert peaks[-1] == 0.01


@pytest.mark.parametrize("option", ["base_lr", "max_lr", "gamma", "base_momentum", "max_momentum"])
def test_cyclic_lr_numbers_must_be_numbers(option):
    opt = sgd(0.5)
    before = [dict(group) for group in opt.param_groups]
    arguments = {"base_lr": 0.01, "max_lr": 0.1, option: "a"}
    with pytest.raises(TypeError, match=f"CyclicLR: {option} must be a number .*, got 'a'"):
        lr_scheduler.CyclicLR(opt, **arguments)
    assert opt.param_groups == before
