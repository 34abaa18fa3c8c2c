"""Tests of minigrad.optim.lr_scheduler: PyTorch's learning rates, epoch by epoch."""

import math
import re

import numpy as np
import pytest

from conftest import PlainGradientDescent, assert_resumes_from_a_file_exactly, run_then_copy_optimizer

import minigrad as mg
from minigrad import optim

lr_scheduler = optim.lr_scheduler


def make_optimizer(*lrs):
    """An SGD optimizer with one parameter group per learning rate."""
    groups = [{"params": [mg.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups)


def group_rates(make_schedulers, lrs=(0.1,), epochs=10):
    """Every group's lr at creation and after each of ``epochs`` scheduler steps, a row per epoch."""
    opt = make_optimizer(*lrs)
    schedulers = make_schedulers(opt)
    rates = [[group["lr"] for group in opt.param_groups]]
    for _ in range(epochs):
        opt.step()
        for scheduler in schedulers:
            scheduler.step()
        rates.append([group["lr"] for group in opt.param_groups])
    return rates


def learning_rates(make_schedulers, lrs=(0.1,), epochs=10):
    """The first group's lr at creation and after each of ``epochs`` scheduler steps."""
    return [row[0] for row in group_rates(make_schedulers, lrs, epochs)]


# ---- the documented formulas ---------------------------------------------------------


def test_step_lr_decays_by_gamma_every_step_size_epochs():
    rates = learning_rates(lambda opt: [lr_scheduler.StepLR(opt, step_size=3, gamma=0.1)], lrs=(0.05,))
    expected = [0.05 * 0.1 ** (epoch // 3) for epoch in range(11)]
    np.testing.assert_allclose(rates, expected, rtol=1e-12)


def test_exponential_lr_decays_by_gamma_every_epoch():
    rates = learning_rates(lambda opt: [lr_scheduler.ExponentialLR(opt, gamma=0.9)])
    np.testing.assert_allclose(rates, [0.1 * 0.9**epoch for epoch in range(11)], rtol=1e-12)


@pytest.mark.parametrize(("T_max", "eta_min"), [(4, 0.0), (4, 0.01), (7, 0.02)])
def test_cosine_annealing_lr_follows_the_cosine_down_and_back_up(T_max, eta_min):
    rates = learning_rates(
        lambda opt: [lr_scheduler.CosineAnnealingLR(opt, T_max, eta_min)], epochs=3 * T_max
    )
    expected = [
        eta_min + (0.1 - eta_min) * (1 + math.cos(math.pi * epoch / T_max)) / 2
        for epoch in range(3 * T_max + 1)
    ]
    np.testing.assert_allclose(rates, expected, rtol=1e-12, atol=1e-15)
    assert rates[T_max] == pytest.approx(eta_min, abs=1e-15)


def test_lambda_lr_scales_the_initial_rate_of_each_group():
    opt = make_optimizer(0.1, 0.01)
    scheduler = lr_scheduler.LambdaLR(opt, [lambda epoch: 0.5**epoch, lambda epoch: epoch + 1])
    rates = [scheduler.get_last_lr()]
    for _ in range(3):
        scheduler.step()
        rates.append(scheduler.get_last_lr())
    np.testing.assert_allclose(rates, [[0.1, 0.01], [0.05, 0.02], [0.025, 0.03], [0.0125, 0.04]], rtol=1e-12)


def test_lambda_lr_with_one_function_serves_every_group():
    opt = make_optimizer(0.1, 0.2)
    scheduler = lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (epoch + 1))
    scheduler.step()
    assert scheduler.get_last_lr() == [0.05, 0.1]


# ---- PyTorch's values, to the last bit (printed by torch 2.13 for the same schedules) ----


@pytest.mark.parametrize(
    ("make_schedulers", "torch_rates"),
    [
        (
            lambda opt: [lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.01)],
            [0.1, 0.08681980515339464, 0.05500000000000001, 0.023180194846605363, 0.01,
             0.023180194846605363, 0.05500000000000002, 0.08681980515339469, 0.10000000000000006,
             0.0868198051533947, 0.05500000000000005],
        ),
        (
            lambda opt: [lr_scheduler.ExponentialLR(opt, gamma=0.9)],
            [0.1, 0.09000000000000001, 0.08100000000000002, 0.07290000000000002, 0.06561000000000002,
             0.05904900000000002],
        ),
        (
            # Two schedulers on one optimizer multiply their effects.
            lambda opt: [lr_scheduler.StepLR(opt, 2, gamma=0.5), lr_scheduler.ExponentialLR(opt, 0.9)],
            [0.1, 0.09000000000000001, 0.04050000000000001, 0.03645000000000001, 0.016402500000000004,
             0.014762250000000005],
        ),
        (
            # A milestone listed twice decays twice.
            lambda opt: [lr_scheduler.MultiStepLR(opt, [2, 5, 5], gamma=0.5)],
            [0.1, 0.1, 0.05, 0.05, 0.05, 0.0125, 0.0125, 0.0125],
        ),
        (
            # A linear warm-up chained with a decay.
            lambda opt: [lr_scheduler.LinearLR(opt, 0.25, total_iters=4), lr_scheduler.ExponentialLR(opt, 0.9)],
            [0.025, 0.03937500000000001, 0.05062500000000001, 0.05923125000000001, 0.06561000000000002,
             0.05904900000000002, 0.05314410000000002],
        ),
    ],
    ids=["cosine", "exponential", "chained", "multistep", "warm-up"],
)  # fmt: skip
def test_rates_equal_pytorchs_exactly(make_schedulers, torch_rates):
    assert learning_rates(make_schedulers, epochs=len(torch_rates) - 1) == torch_rates


# ---- the scheduler's bookkeeping -------------------------------------------------------


def test_last_epoch_and_get_last_lr_follow_the_steps():
    opt = make_optimizer(0.1, 1.0)
    scheduler = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    assert scheduler.last_epoch == 0
    assert scheduler.get_last_lr() == [0.1, 1.0]
    assert scheduler.base_lrs == [0.1, 1.0]
    for _ in range(2):
        opt.step()
        scheduler.step()
    assert scheduler.last_epoch == 2
    assert scheduler.get_last_lr() == [0.05, 0.5] == [group["lr"] for group in opt.param_groups]
    assert [group["initial_lr"] for group in opt.param_groups] == [0.1, 1.0]


def test_the_optimizer_steps_with_the_scheduled_rate():
    param = mg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([param], lr=0.1)
    scheduler = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        param.grad = mg.tensor([1.0])
        opt.step()
        scheduler.step()
    np.testing.assert_allclose(param.data, [1.0 - 0.1 - 0.05 - 0.025], rtol=1e-6)


@pytest.mark.parametrize(
    "make_scheduler",
    [
        lambda opt: lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
        lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.8),
        lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=0.001),
        lambda opt: lr_scheduler.LambdaLR(opt, lambda epoch: 0.9**epoch),
    ],
    ids=["step", "exponential", "cosine", "lambda"],
)
def test_resuming_from_state_dicts_continues_the_schedule_exactly(make_scheduler):
    opt = make_optimizer(0.1, 0.3)
    scheduler = make_scheduler(opt)
    for _ in range(4):
        opt.step()
        scheduler.step()
    saved_optimizer, saved_scheduler = opt.state_dict(), scheduler.state_dict()
    assert "optimizer" not in saved_scheduler

    resumed_opt = make_optimizer(0.1, 0.3)
    resumed = make_scheduler(resumed_opt)
    resumed_opt.load_state_dict(saved_optimizer)
    resumed.load_state_dict(saved_scheduler)
    assert resumed.last_epoch == 4
    for _ in range(6):
        opt.step()
        scheduler.step()
        resumed_opt.step()
        resumed.step()
        assert resumed.get_last_lr() == scheduler.get_last_lr()


def test_state_dict_is_a_copy():
    opt = make_optimizer(0.1)
    scheduler = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    saved = scheduler.state_dict()
    scheduler.step()
    assert saved["last_epoch"] == 0
    assert saved["_last_lr"] == [0.1]


def test_load_state_dict_of_another_kind_of_scheduler_is_an_error():
    opt = make_optimizer(0.1)
    step = lr_scheduler.StepLR(opt, step_size=3)
    cosine = lr_scheduler.CosineAnnealingLR(make_optimizer(0.1), T_max=5)
    with pytest.raises(ValueError, match="StepLR.load_state_dict: expected the keys"):
        step.load_state_dict(cosine.state_dict())
    assert step.step_size == 3 and not hasattr(step, "T_max")


def resumed_optimizer(make_scheduler, epochs):
    """A new optimizer holding the state of one whose schedule ran ``epochs`` epochs."""
    return run_then_copy_optimizer(lambda: make_optimizer(0.1), make_scheduler, epochs)[1]


def rates_after_resuming(make_scheduler):
    """The rates of epochs 3 to 9 of a schedule resumed with last_epoch=2 after 3 epochs, and its scheduler."""
    opt = resumed_optimizer(make_scheduler, 3)
    scheduler = make_scheduler(opt, 2)
    rates = [opt.param_groups[0]["lr"]]
    for _ in range(6):
        opt.step()
        scheduler.step()
        rates.append(opt.param_groups[0]["lr"])
    return rates, scheduler


def test_resuming_with_last_epoch_keeps_the_restored_rate():
    opt = resumed_optimizer(lambda opt, last_epoch: lr_scheduler.ExponentialLR(opt, 0.5, last_epoch), 3)
    assert opt.param_groups[0]["lr"] == 0.0125
    scheduler = lr_scheduler.ExponentialLR(opt, gamma=0.5, last_epoch=2)
    assert scheduler.last_epoch == 3
    assert scheduler.get_last_lr() == [0.0125] == [opt.param_groups[0]["lr"]]
    assert scheduler.base_lrs == [0.1]
    scheduler.step()
    assert scheduler.get_last_lr() == [0.00625]


@pytest.mark.parametrize(
    ("make_scheduler", "torch_rates"),
    [
        (
            # StepLR computes its first rate as any other, so it decays again at epoch 3.
            lambda opt, last_epoch: lr_scheduler.StepLR(opt, 3, gamma=0.5, last_epoch=last_epoch),
            [0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125, 0.00625],
        ),
        (
            lambda opt, last_epoch: lr_scheduler.ExponentialLR(opt, gamma=0.5, last_epoch=last_epoch),
            [0.0125, 0.00625, 0.003125, 0.0015625, 0.00078125, 0.000390625, 0.0001953125],
        ),
        (
            lambda opt, last_epoch: lr_scheduler.CosineAnnealingLR(opt, 5, eta_min=0.001, last_epoch=last_epoch),
            [0.035203658778440096, 0.010453658778440105, 0.001, 0.010453658778440102, 0.03520365877844012,
             0.06579634122155993, 0.09054634122155995],
        ),
        (
            lambda opt, last_epoch: lr_scheduler.LambdaLR(opt, lambda epoch: 0.9**epoch, last_epoch=last_epoch),
            [0.0729, 0.06561, 0.05904900000000001, 0.05314410000000001, 0.04782969000000001,
             0.04304672100000001, 0.03874204890000001],
        ),
        (
            # As StepLR, MultiStepLR decays again at a milestone on resuming.
            lambda opt, last_epoch: lr_scheduler.MultiStepLR(opt, [3, 5], gamma=0.5, last_epoch=last_epoch),
            [0.025, 0.025, 0.0125, 0.0125, 0.0125, 0.0125, 0.0125],
        ),
        (
            lambda opt, last_epoch: lr_scheduler.LinearLR(opt, 0.2, 1.0, 5, last_epoch=last_epoch),
            [0.06800000000000002, 0.08400000000000003, 0.10000000000000003, 0.10000000000000003,
             0.10000000000000003, 0.10000000000000003, 0.10000000000000003],
        ),
    ],
    ids=["step", "exponential", "cosine", "lambda", "multistep", "linear"],
)  # fmt: skip
def test_resuming_with_last_epoch_equals_pytorchs_rates_exactly(make_scheduler, torch_rates):
    # Printed by torch 2.13: three epochs, the optimizer's state loaded into a new
    # one, then a new scheduler with last_epoch=2 and six more epochs.
    rates, scheduler = rates_after_resuming(make_scheduler)
    assert scheduler.last_epoch == 9
    assert rates == torch_rates


def test_resuming_with_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(make_optimizer(0.1), step_size=2, last_epoch=5)


def test_a_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="StepLR: expected an optimizer"):
        lr_scheduler.StepLR([mg.zeros(1, requires_grad=True)], step_size=2)


def test_lambda_lr_needs_one_function_per_group():
    with pytest.raises(
        ValueError, match="LambdaLR: got 1 lr_lambdas for an optimizer with 2 parameter groups"
    ):
        lr_scheduler.LambdaLR(make_optimizer(0.1, 0.2), [lambda epoch: 1.0])


def test_linear_lr_checks_its_factors():
    with pytest.raises(ValueError, match=r"LinearLR: start_factor must be in \(0, 1\], got 0"):
        lr_scheduler.LinearLR(make_optimizer(0.1), start_factor=0)
    with pytest.raises(ValueError, match=r"LinearLR: end_factor must be in \[0, 1\], got 1.5"):
        lr_scheduler.LinearLR(make_optimizer(0.1), end_factor=1.5)


# ---- ReduceLROnPlateau: steps on a metric --------------------------------------------------

PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.96, 0.97, 0.89, 0.9, 0.9, 0.9, 0.9, 0.5, 0.6]


def plateau_rates(scheduler, opt, metrics):
    rates = []
    for metric in metrics:
        opt.step()
        scheduler.step(metric)
        rates.append(opt.param_groups[0]["lr"])
    return rates


def test_reduce_lr_on_plateau_equals_pytorchs_rates_exactly():
    opt = make_optimizer(0.1)
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=0.02)
    # Printed by torch 2.13: halved after two epochs without a new best, never below min_lr.
    assert plateau_rates(scheduler, opt, PLATEAU_METRICS) == [
        0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.025
    ]  # fmt: skip
    assert scheduler.get_last_lr() == [0.025] and scheduler.best == 0.5 and scheduler.last_epoch == 12


@pytest.mark.parametrize(
    ("options", "metrics", "expected"),
    [
        ({"mode": "max", "patience": 0}, [0.5, 0.6, 0.6, 0.7], [0.1, 0.1, 0.01, 0.01]),
        ({"threshold_mode": "abs", "threshold": 0.05, "patience": 0}, [1.0, 0.96, 0.9], [0.1, 0.01, 0.01]),
        ({"patience": 0, "min_lr": 0.04, "eps": 0.02}, [1.0, 2.0, 2.0], [0.1, 0.04, 0.04]),
    ],
    ids=["max", "abs", "eps"],
)
def test_reduce_lr_on_plateau_modes(options, metrics, expected):
    opt = make_optimizer(0.1)
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, **options)
    assert plateau_rates(scheduler, opt, metrics) == pytest.approx(expected, rel=1e-15)


def test_reduce_lr_on_plateau_resumes_from_a_saved_file(tmp_path):
    opt = make_optimizer(0.1, 0.3)
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, min_lr=[0.01, 0.02])
    plateau_rates(scheduler, opt, PLATEAU_METRICS[:5])
    mg.save({"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()}, tmp_path / "run.npz")
    checkpoint = mg.load(tmp_path / "run.npz")
    resumed_opt = make_optimizer(0.1, 0.3)
    resumed = lr_scheduler.ReduceLROnPlateau(resumed_opt, factor=0.5, patience=1, min_lr=[0.01, 0.02])
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    resumed.load_state_dict(checkpoint["scheduler"])
    rest = PLATEAU_METRICS[5:]
    assert plateau_rates(resumed, resumed_opt, rest) == plateau_rates(scheduler, opt, rest)
    assert resumed.state_dict() == scheduler.state_dict()


def test_reduce_lr_on_plateau_checks_its_arguments():
    opt = make_optimizer(0.1, 0.2)
    for options, message in [
        ({"mode": "lowest"}, "mode must be 'min' or 'max', got 'lowest'"),
        ({"threshold_mode": "pct"}, "threshold_mode must be 'rel' or 'abs'"),
        ({"factor": 1.0}, "factor must be below 1, got 1.0"),
        ({"min_lr": [0.1]}, "got 1 min_lrs for an optimizer with 2 parameter groups"),
    ]:
        with pytest.raises(ValueError, match=f"ReduceLROnPlateau: {re.escape(message)}"):
            lr_scheduler.ReduceLROnPlateau(opt, **options)
    with pytest.raises(TypeError, match="ReduceLROnPlateau: expected an optimizer"):
        lr_scheduler.ReduceLROnPlateau([1.0])


def test_multistep_lr_resumes_from_a_saved_file(tmp_path):
    opt = make_optimizer(0.1)
    scheduler = lr_scheduler.MultiStepLR(opt, np.array([2, 4, 4]), gamma=0.5)  # numpy ints too
    for _ in range(3):
        opt.step()
        scheduler.step()
    mg.save(scheduler.state_dict(), tmp_path / "scheduler.npz")
    resumed = lr_scheduler.MultiStepLR(make_optimizer(0.1), [2, 4, 4], gamma=0.5)
    resumed.load_state_dict(mg.load(tmp_path / "scheduler.npz"))
    resumed.optimizer.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    scheduler.step()
    resumed.step()
    assert resumed.get_last_lr() == scheduler.get_last_lr() == [0.0125]


# ---- ConstantLR and PolynomialLR -------------------------------------------------------


@pytest.mark.parametrize(("factor", "total_iters"), [(0.5, 4), (1 / 3, 5), (0.1, 1), (1.0, 2)])
def test_constant_lr_reduces_the_rate_for_total_iters_epochs(factor, total_iters):
    lrs = (0.1, 0.02)
    rates = group_rates(
        lambda opt: [lr_scheduler.ConstantLR(opt, factor, total_iters)], lrs, epochs=total_iters + 4
    )
    expected = [
        [lr * (factor if epoch < total_iters else 1.0) for lr in lrs] for epoch in range(total_iters + 5)
    ]
    np.testing.assert_allclose(rates, expected, rtol=1e-15)


@pytest.mark.parametrize(("total_iters", "power"), [(5, 1.0), (6, 2.0), (7, 0.5), (1, 1.0)])
def test_polynomial_lr_decays_to_zero_along_a_power(total_iters, power):
    lrs = (0.1, 0.3)
    rates = group_rates(
        lambda opt: [lr_scheduler.PolynomialLR(opt, total_iters, power)], lrs, epochs=2 * total_iters
    )
    expected = [
        [lr * (1 - min(epoch, total_iters) / total_iters) ** power for lr in lrs]
        for epoch in range(2 * total_iters + 1)
    ]
    np.testing.assert_allclose(rates, expected, rtol=1e-14, atol=1e-17)
    assert rates[total_iters:] == [[0.0, 0.0]] * (total_iters + 1)


@pytest.mark.parametrize(
    ("make_schedulers", "formula"),
    [
        (
            lambda opt: [lr_scheduler.ConstantLR(opt, 0.25, 4), lr_scheduler.ExponentialLR(opt, 0.9)],
            lambda epoch: 0.1 * 0.9**epoch * (0.25 if epoch < 4 else 1.0),
        ),
        (
            lambda opt: [
                lr_scheduler.LinearLR(opt, 0.2, total_iters=3),
                lr_scheduler.PolynomialLR(opt, 6, 2.0),
            ],
            lambda epoch: 0.1 * (0.2 + 0.8 * min(epoch, 3) / 3) * (1 - min(epoch, 6) / 6) ** 2,
        ),
        (
            lambda opt: [lr_scheduler.PolynomialLR(opt, 8, 0.5), lr_scheduler.StepLR(opt, 3, gamma=0.5)],
            lambda epoch: 0.1 * (1 - min(epoch, 8) / 8) ** 0.5 * 0.5 ** (epoch // 3),
        ),
    ],
    ids=["constant-exponential", "linear-polynomial", "polynomial-step"],
)
def test_constant_and_polynomial_lr_chain_with_other_schedules(make_schedulers, formula):
    rates = learning_rates(make_schedulers, epochs=10)
    np.testing.assert_allclose(rates, [formula(epoch) for epoch in range(11)], rtol=1e-14, atol=1e-17)


def test_constant_and_polynomial_lr_check_their_arguments():
    opt = make_optimizer(0.1)
    for make, message in [
        (lambda: lr_scheduler.ConstantLR(opt, factor=0), r"ConstantLR: factor must be in \(0, 1\], got 0"),
        (
            lambda: lr_scheduler.ConstantLR(opt, factor=1.5),
            r"ConstantLR: factor must be in \(0, 1\], got 1.5",
        ),
        (
            lambda: lr_scheduler.ConstantLR(opt, total_iters=0),
            "ConstantLR: total_iters must be at least 1, got 0",
        ),
        (
            lambda: lr_scheduler.PolynomialLR(opt, total_iters=0),
            "PolynomialLR: total_iters must be at least 1",
        ),
    ]:
        with pytest.raises(ValueError, match=message):
            make()
    with pytest.raises(TypeError, match="PolynomialLR: expected an optimizer"):
        lr_scheduler.PolynomialLR([mg.zeros(1, requires_grad=True)])


# ---- OneCycleLR: stepped once per batch ---------------------------------------------------


def one_cycle(step, start, peak, end, total_steps, pct_start=0.3, anneal_strategy="cos", three_phase=False):
    """OneCycleLR's docstring formula: from start to peak, then to end (three phases: back to start first)."""

    def anneal(u, v, x):
        if anneal_strategy == "cos":
            return v + (u - v) * (1 + math.cos(math.pi * x)) / 2
        return u + (v - u) * x

    a = pct_start * total_steps - 1  # the step of the peak
    if step <= a:
        return anneal(start, peak, step / a)
    if not three_phase:
        return anneal(peak, end, (step - a) / (total_steps - 1 - a))
    if step <= 2 * a:
        return anneal(peak, start, (step - a) / a)
    return anneal(start, end, (step - 2 * a) / (total_steps - 1 - 2 * a))


@pytest.mark.parametrize("three_phase", [False, True], ids=["two-phase", "three-phase"])
@pytest.mark.parametrize("anneal_strategy", ["cos", "linear"])
@pytest.mark.parametrize(("total_steps", "pct_start"), [(20, 0.3), (23, 0.25)])
def test_one_cycle_lr_climbs_to_max_lr_and_anneals(total_steps, pct_start, anneal_strategy, three_phase):
    max_lrs = (1.0, 0.5)
    options = {"pct_start": pct_start, "anneal_strategy": anneal_strategy, "three_phase": three_phase}
    # The step after the last batch, to step total_steps, is allowed.
    rates = group_rates(
        lambda opt: [lr_scheduler.OneCycleLR(opt, list(max_lrs), total_steps, **options)],
        lrs=(0.1, 0.1),
        epochs=total_steps,
    )
    expected = [
        [one_cycle(step, peak / 25, peak, peak / 25 / 1e4, total_steps, **options) for peak in max_lrs]
        for step in range(total_steps + 1)
    ]
    np.testing.assert_allclose(rates, expected, rtol=1e-12)
    assert rates[0] == pytest.approx([0.04, 0.02], rel=1e-15)  # max_lr / div_factor, whatever the lr was
    peak = pct_start * total_steps - 1
    if peak.is_integer():  # the peak falls on a step
        assert rates[int(peak)] == pytest.approx(list(max_lrs), rel=1e-15)


@pytest.mark.parametrize(
    ("make_optimizer_with_momentum", "momentum_of"),
    [
        (lambda: optim.SGD([mg.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9), lambda g: g["momentum"]),
        (lambda: optim.Adam([mg.zeros(1, requires_grad=True)], betas=(0.9, 0.99)), lambda g: g["betas"][0]),
    ],
    ids=["sgd-momentum", "adam-beta1"],
)
def test_one_cycle_lr_cycles_the_momentum_the_other_way(make_optimizer_with_momentum, momentum_of):
    opt = make_optimizer_with_momentum()
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, base_momentum=0.8, max_momentum=0.9)
    momenta = [momentum_of(opt.param_groups[0])]
    for _ in range(10):
        opt.step()
        scheduler.step()
        momenta.append(momentum_of(opt.param_groups[0]))
    np.testing.assert_allclose(
        momenta, [one_cycle(step, 0.9, 0.8, 0.9, 10) for step in range(11)], rtol=1e-12
    )
    assert min(momenta) == pytest.approx(0.8, rel=1e-15)  # at the peak of the rate
    if "betas" in opt.param_groups[0]:
        assert opt.param_groups[0]["betas"][1] == 0.99


def test_one_cycle_lr_takes_epochs_and_steps_per_epoch():
    by_epochs = learning_rates(
        lambda opt: [lr_scheduler.OneCycleLR(opt, 1.0, epochs=3, steps_per_epoch=7)], epochs=21
    )
    assert by_epochs == learning_rates(
        lambda opt: [lr_scheduler.OneCycleLR(opt, 1.0, total_steps=21)], epochs=21
    )


def test_one_cycle_lr_stepping_past_total_steps_is_an_error():
    opt = make_optimizer(0.1)
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=4)
    for _ in range(4):
        scheduler.step()
    with pytest.raises(ValueError, match="OneCycleLR: tried to go to step 5, past total_steps=4"):
        scheduler.step()


def test_one_cycle_lr_cycles_the_momentum_only_of_an_optimizer_with_one():
    opt = PlainGradientDescent([mg.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(
        ValueError, match="OneCycleLR: cycle_momentum=True needs an optimizer with a momentum"
    ):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, cycle_momentum=False)
    scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([one_cycle(1, 0.04, 1.0, 4e-6, 10)], rel=1e-12)
    assert set(opt.param_groups[0]) == {"params", "lr", "initial_lr", "max_lr", "min_lr"}


def test_one_cycle_lr_checks_its_arguments():
    opt = make_optimizer(0.1, 0.2)
    for options, message in [
        ({}, "pass total_steps, or both epochs and steps_per_epoch"),
        ({"epochs": 3}, "pass total_steps, or both epochs and steps_per_epoch"),
        ({"total_steps": 0}, "total_steps must be a positive int, got 0"),
        ({"total_steps": 10.0}, "total_steps must be a positive int, got 10.0"),
        ({"epochs": 2, "steps_per_epoch": -5}, "steps_per_epoch must be a positive int, got -5"),
        ({"total_steps": 10, "pct_start": 1.5}, "pct_start must be in [0, 1], got 1.5"),
        ({"total_steps": 10, "pct_start": 0.1}, "pct_start=0.1 and total_steps=10 put the peak at step 0"),
        (
            {"total_steps": 10, "anneal_strategy": "exp"},
            "anneal_strategy must be 'cos' or 'linear', got 'exp'",
        ),
        ({"total_steps": 10, "max_lr": [1.0]}, "got 1 max_lrs for an optimizer with 2 parameter groups"),
        ({"total_steps": 10, "base_momentum": [0.8] * 3}, "got 3 base_momentums for an optimizer with 2"),
    ]:
        with pytest.raises(ValueError, match=f"OneCycleLR: {re.escape(message)}"):
            lr_scheduler.OneCycleLR(opt, **{"max_lr": 1.0, **options})
    with pytest.raises(
        KeyError, match="OneCycleLR: resuming at last_epoch=3 needs 'initial_lr', 'max_lr', 'min_lr'"
    ):
        lr_scheduler.OneCycleLR(make_optimizer(0.1), max_lr=1.0, total_steps=10, last_epoch=3)


# ---- SequentialLR: one schedule after another ------------------------------------------------


def warm_up_then_cosine(opt):
    warm_up = lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=5)
    decay = lr_scheduler.CosineAnnealingLR(opt, T_max=20, eta_min=0.001)
    return lr_scheduler.SequentialLR(opt, [warm_up, decay], milestones=[5])


def test_sequential_lr_warms_up_then_follows_the_cosine():
    lrs = (0.1, 0.02)
    rates = group_rates(lambda opt: [warm_up_then_cosine(opt)], lrs, epochs=45)

    def formula(epoch, lr):
        if epoch < 5:
            return lr * (0.1 + 0.9 * epoch / 5)
        return 0.001 + (lr - 0.001) * (1 + math.cos(math.pi * (epoch - 5) / 20)) / 2

    expected = [[formula(epoch, lr) for lr in lrs] for epoch in range(46)]
    np.testing.assert_allclose(rates, expected, rtol=1e-12)
    # The warm-up stops short of the full rate (0.82 of it at epoch 4); the cosine starts at it.
    assert rates[5] == pytest.approx(list(lrs), rel=1e-15)


def test_sequential_lr_runs_three_schedules():
    def make(opt):
        constant = lr_scheduler.ConstantLR(opt, factor=0.1, total_iters=2)
        exponential = lr_scheduler.ExponentialLR(opt, gamma=0.9)
        step = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return [lr_scheduler.SequentialLR(opt, [constant, exponential, step], milestones=[3, 7])]

    def formula(epoch):
        if epoch < 3:
            return 0.1 * (0.1 if epoch < 2 else 1.0)
        if epoch < 7:
            return 0.1 * 0.9 ** (epoch - 3)
        return 0.1 * 0.5 ** ((epoch - 7) // 2)

    rates = learning_rates(make, epochs=14)
    np.testing.assert_allclose(rates, [formula(epoch) for epoch in range(15)], rtol=1e-14)


@pytest.mark.parametrize(
    "make_second",
    [
        lambda opt: lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
        lambda opt: lr_scheduler.MultiStepLR(opt, [0, 2, 3, 3], gamma=0.5),  # 0: it starts decayed
        lambda opt: lr_scheduler.ConstantLR(opt, factor=0.25, total_iters=3),
        lambda opt: lr_scheduler.LinearLR(opt, start_factor=0.3, end_factor=0.9, total_iters=4),
        lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.7),
        lambda opt: lr_scheduler.PolynomialLR(opt, total_iters=5, power=2.0),
        lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.01),
        lambda opt: lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (epoch + 1)),
        lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=9),
    ],
    ids=[
        "step",
        "multistep",
        "constant",
        "linear",
        "exponential",
        "polynomial",
        "cosine",
        "lambda",
        "one-cycle",
    ],
)
def test_sequential_lr_starts_each_schedule_afresh_at_its_milestone(make_second):
    def make(opt):
        first = lr_scheduler.ExponentialLR(opt, gamma=0.5)
        return [lr_scheduler.SequentialLR(opt, [first, make_second(opt)], milestones=[3])]

    # Whatever rate the first schedule leaves, the second runs from epoch 3 as on its own.
    in_sequence = group_rates(make, (0.1, 0.3), epochs=12)
    alone = group_rates(lambda opt: [make_second(opt)], (0.1, 0.3), epochs=9)
    np.testing.assert_allclose(in_sequence[3:], alone, rtol=1e-15)


@pytest.mark.parametrize(
    "make_scheduler",
    [
        lambda opt: lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
        lambda opt: lr_scheduler.MultiStepLR(opt, [0, 2, 5, 5], gamma=0.5),
        lambda opt: lr_scheduler.ConstantLR(opt, factor=0.25, total_iters=4),
        lambda opt: lr_scheduler.LinearLR(opt, start_factor=0.3, end_factor=0.9, total_iters=4),
        lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.7),
        lambda opt: lr_scheduler.PolynomialLR(opt, total_iters=5, power=2.0),
        lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.01),
    ],
    ids=["step", "multistep", "constant", "linear", "exponential", "polynomial", "cosine"],
)
def test_the_closed_forms_agree_with_the_chained_rates(make_scheduler):
    # SequentialLR starts a schedule at its milestone from its closed form: the
    # formula in its docstring, computed from the initial rates alone.
    opt = make_optimizer(0.1, 0.3)
    scheduler = make_scheduler(opt)
    for _ in range(12):
        np.testing.assert_allclose(
            scheduler._closed_form_lrs(), scheduler.get_last_lr(), rtol=1e-14, atol=1e-17
        )
        opt.step()
        scheduler.step()


def test_sequential_lr_bookkeeping():
    opt = make_optimizer(0.1, 0.2)
    warm_up = lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=5)
    decay = lr_scheduler.CosineAnnealingLR(opt, T_max=20)
    scheduler = lr_scheduler.SequentialLR(opt, [warm_up, decay], milestones=[5])
    assert scheduler.last_epoch == 0 and scheduler.base_lrs == [0.1, 0.2]
    assert scheduler.get_last_lr() == pytest.approx([0.01, 0.02], rel=1e-15)
    for _ in range(7):
        opt.step()
        scheduler.step()
    assert scheduler.last_epoch == 7
    assert scheduler.get_last_lr() == [group["lr"] for group in opt.param_groups] == decay.get_last_lr()
    assert (warm_up.last_epoch, decay.last_epoch) == (4, 2)


def test_sequential_lr_checks_its_schedulers_and_milestones():
    opt = make_optimizer(0.1)
    warm_up, decay = lr_scheduler.LinearLR(opt), lr_scheduler.ExponentialLR(opt, 0.9)
    elsewhere = lr_scheduler.ExponentialLR(make_optimizer(0.1), 0.9)
    for schedulers, milestones, message in [
        ([], [], "got no schedulers"),
        ([warm_up, elsewhere], [5], "schedulers[1] (ExponentialLR) wraps another optimizer"),
        ([warm_up, lr_scheduler.ReduceLROnPlateau(opt)], [5], "schedulers[1] is a ReduceLROnPlateau"),
        (
            [warm_up, lr_scheduler.SequentialLR(opt, [decay], [])],
            [5],
            "schedulers[1] is itself a SequentialLR",
        ),
        ([warm_up, decay], [], "2 schedulers need 1 milestones"),
        ([warm_up, decay], [3, 6], "2 schedulers need 1 milestones"),
        ([warm_up, decay, warm_up], [5, 5], "milestones must be increasing epochs from 1 on, got [5, 5]"),
        ([warm_up, decay], [0], "milestones must be increasing epochs from 1 on, got [0]"),
    ]:
        with pytest.raises(ValueError, match=f"SequentialLR: {re.escape(message)}"):
            lr_scheduler.SequentialLR(opt, schedulers, milestones)
    with pytest.raises(TypeError, match=re.escape("SequentialLR: schedulers[0] is a dict")):
        lr_scheduler.SequentialLR(opt, [{"lr": 0.1}], [])


# ---- resuming the schedules above ------------------------------------------------------------


def sgd_with_momentum():
    return optim.SGD(
        [{"params": [mg.zeros(1, requires_grad=True)], "lr": lr} for lr in (0.1, 0.3)], momentum=0.9
    )


def adam_of_two_groups():
    return optim.Adam([{"params": [mg.zeros(1, requires_grad=True)], "lr": lr} for lr in (0.1, 0.3)])


@pytest.mark.parametrize(
    ("make_opt", "make_scheduler", "saved_after"),
    [
        (sgd_with_momentum, lambda opt: lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=6), 4),
        (sgd_with_momentum, lambda opt: lr_scheduler.PolynomialLR(opt, total_iters=8, power=2.0), 4),
        (sgd_with_momentum, lambda opt: lr_scheduler.OneCycleLR(opt, [1.0, 0.5], total_steps=12), 4),
        (
            adam_of_two_groups,
            lambda opt: lr_scheduler.OneCycleLR(opt, 0.01, total_steps=12, three_phase=True),
            5,
        ),
        (sgd_with_momentum, warm_up_then_cosine, 3),
        (sgd_with_momentum, warm_up_then_cosine, 7),
    ],
    ids=[
        "constant",
        "polynomial",
        "one-cycle-sgd",
        "one-cycle-adam",
        "warm-up-cosine-in-warm-up",
        "warm-up-cosine",
    ],
)
def test_resuming_from_a_saved_file_continues_exactly(tmp_path, make_opt, make_scheduler, saved_after):
    assert_resumes_from_a_file_exactly(tmp_path, make_opt, make_scheduler, saved_after, steps_after=7)


def test_sequential_lr_state_dict_holds_its_schedulers_states():
    opt = make_optimizer(0.1)
    scheduler = warm_up_then_cosine(opt)
    for _ in range(6):
        scheduler.step()
    saved = scheduler.state_dict()
    assert [state["last_epoch"] for state in saved["_schedulers"]] == [4, 1]
    assert "optimizer" not in saved and all("optimizer" not in state for state in saved["_schedulers"])
    with pytest.raises(
        ValueError, match="SequentialLR.load_state_dict: the state dict holds 1 schedulers' states"
    ):
        warm_up_then_cosine(make_optimizer(0.1)).load_state_dict(
            {**saved, "_schedulers": saved["_schedulers"][:1]}
        )


def test_sequential_lr_loads_all_or_nothing():
    """The second schedule's state is another kind's: nothing is loaded, not even the first's."""
    opt = make_optimizer(0.1)
    saved = warm_up_then_cosine(opt)
    for _ in range(6):
        saved.step()
    state = saved.state_dict()
    state["_schedulers"][1] = lr_scheduler.StepLR(make_optimizer(0.1), step_size=2).state_dict()
    fresh = warm_up_then_cosine(make_optimizer(0.1))
    before = fresh.state_dict()
    with pytest.raises(ValueError, match="CosineAnnealingLR.load_state_dict: expected the keys"):
        fresh.load_state_dict(state)
    assert fresh.state_dict() == before


@pytest.mark.parametrize(
    "make_scheduler",
    [
        lambda opt, last_epoch: lr_scheduler.ConstantLR(opt, 0.5, total_iters=5, last_epoch=last_epoch),
        lambda opt, last_epoch: lr_scheduler.PolynomialLR(
            opt, total_iters=7, power=2.0, last_epoch=last_epoch
        ),
        lambda opt, last_epoch: lr_scheduler.OneCycleLR(opt, 1.0, total_steps=9, last_epoch=last_epoch),
    ],
    ids=["constant", "polynomial", "one-cycle"],
)
def test_new_schedules_resume_with_last_epoch(make_scheduler):
    uninterrupted = learning_rates(lambda opt: [make_scheduler(opt, -1)], epochs=9)
    rates, scheduler = rates_after_resuming(make_scheduler)
    assert scheduler.last_epoch == 9
    assert rates == uninterrupted[3:]


@pytest.mark.parametrize("last_epoch", [-2, 1.5, -1.0, "3", None])
def test_last_epoch_must_be_minus_one_or_an_epoch_index(last_epoch):
    opt = make_optimizer(0.1)
    with pytest.raises(
        ValueError, match=f"StepLR: last_epoch must be -1 .*, got {re.escape(repr(last_epoch))}"
    ):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=last_epoch)
    assert "initial_lr" not in opt.param_groups[0]


@pytest.mark.parametrize(
    "make",
    [
        lambda opt: lr_scheduler.CyclicLR(opt, 0.01, 0.1, last_epoch=-1.0),
        lambda opt: lr_scheduler.OneCycleLR(opt, 1.0, total_steps=10, last_epoch=-1.0),
    ],
    ids=["CyclicLR", "OneCycleLR"],
)
def test_schedulers_that_write_rates_first_check_last_epoch_first(make):
    opt = optim.SGD([mg.zeros(1, requires_grad=True)], lr=0.5, momentum=0.7)
    before = [dict(group) for group in opt.param_groups]
    with pytest.raises(ValueError, match="last_epoch must be -1"):
        make(opt)
    assert opt.param_groups == before
