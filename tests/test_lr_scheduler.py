"""Tests of minigrad.optim.lr_scheduler: PyTorch's learning rates, epoch by epoch."""

import math
import re

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim

lr_scheduler = optim.lr_scheduler


def make_optimizer(*lrs):
    """An SGD optimizer with one parameter group per learning rate."""
    groups = [{"params": [mg.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups)


def learning_rates(make_schedulers, lrs=(0.1,), epochs=10):
    """The first group's lr at creation and after each of ``epochs`` scheduler steps."""
    opt = make_optimizer(*lrs)
    schedulers = make_schedulers(opt)
    rates = [opt.param_groups[0]["lr"]]
    for _ in range(epochs):
        opt.step()
        for scheduler in schedulers:
            scheduler.step()
        rates.append(opt.param_groups[0]["lr"])
    return rates


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
    opt = make_optimizer(0.1)
    scheduler = make_scheduler(opt, -1)
    for _ in range(epochs):
        opt.step()
        scheduler.step()
    resumed_opt = make_optimizer(0.1)
    resumed_opt.load_state_dict(opt.state_dict())
    return resumed_opt


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
    opt = resumed_optimizer(make_scheduler, 3)
    scheduler = make_scheduler(opt, 2)
    rates = [opt.param_groups[0]["lr"]]
    for _ in range(6):
        opt.step()
        scheduler.step()
        rates.append(opt.param_groups[0]["lr"])
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
