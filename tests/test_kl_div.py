"""kl_div and KLDivLoss (minigrad/nn/functional/losses.py, minigrad/nn/loss.py)."""

import warnings

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array

import minigrad as mg
from minigrad.nn.functional.losses import kl_div
from minigrad.nn.loss import KLDivLoss

REDUCTIONS = ["mean", "batchmean", "sum", "none"]
pytestmark = pytest.mark.filterwarnings("ignore:kl_div. reduction=.mean.")


def log_probabilities(*shape: int, seed: int = 0) -> np.ndarray:
    """Rows of log-probabilities along the last axis: a log_softmax of random logits."""
    logits = random_array(*shape, seed=seed)
    return logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))


def reduce_reference(losses: np.ndarray, reduction: str) -> np.ndarray:
    batch = losses.shape[0] if losses.ndim else 1
    return {"mean": losses.mean(), "batchmean": losses.sum() / batch, "sum": losses.sum(), "none": losses}[
        reduction
    ]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (6,)])
def test_values(shape, reduction):
    input, target = log_probabilities(*shape, seed=1), np.exp(log_probabilities(*shape, seed=2))
    target[..., 0] = 0.0  # adds nothing: 0 * log(0) is taken as its limit, 0
    with np.errstate(divide="ignore", invalid="ignore"):
        losses = np.where(target > 0, target * (np.log(target) - input), 0.0)
    result = kl_div(mg.tensor(input), target, reduction)
    np.testing.assert_allclose(result.data, reduce_reference(losses, reduction), rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_log_target_values(reduction):
    input, log_target = log_probabilities(3, 4, seed=1), log_probabilities(3, 4, seed=2)
    losses = np.exp(log_target) * (log_target - input)
    result = kl_div(mg.tensor(input), log_target, reduction, log_target=True)
    np.testing.assert_allclose(result.data, reduce_reference(losses, reduction), rtol=1e-13)


def test_batchmean_is_the_mean_kl_divergence_of_the_rows():
    p, q = np.exp(log_probabilities(5, 3, seed=1)), np.exp(log_probabilities(5, 3, seed=2))
    row_divergences = (p * np.log(p / q)).sum(axis=1)
    np.testing.assert_allclose(kl_div(mg.tensor(np.log(q)), p, "batchmean").item(), row_divergences.mean())
    # a 0-d input has no batch axis: batchmean is the sum, as in PyTorch
    assert kl_div(mg.tensor(-1.0), 0.5, "batchmean").item() == pytest.approx(0.5 * (np.log(0.5) + 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (3,)])
def test_gradcheck_input(shape, reduction):
    target = mg.tensor(np.exp(log_probabilities(*shape, seed=2)))
    assert_gradcheck(lambda x: kl_div(x, target, reduction), log_probabilities(*shape, seed=1))


@pytest.mark.parametrize("log_target", [False, True])
def test_gradcheck_input_and_target(log_target):
    target = log_probabilities(3, 4, seed=2)
    target = target if log_target else np.exp(target)
    assert_gradcheck(lambda x, t: kl_div(x, t, "sum", log_target), log_probabilities(3, 4, seed=1), target)


def test_gradient_is_finite_where_the_target_is_0():
    # d/d input = -target, 0 there, as in PyTorch; d/d target = log(target) + 1 - input, and -input
    # where target is 0 (PyTorch's is nan)
    input = mg.tensor(np.log([0.2, 0.3, 0.5]), requires_grad=True)
    target = mg.tensor(np.array([0.0, 0.4, 0.6]), requires_grad=True)
    kl_div(input, target, "sum").backward()
    np.testing.assert_array_equal(input.grad.data, [-0.0, -0.4, -0.6])
    np.testing.assert_allclose(target.grad.data, [-np.log(0.2), np.log(0.4 / 0.3) + 1, np.log(0.6 / 0.5) + 1])


def test_float32_stays_float32():
    input = mg.tensor(log_probabilities(3, 4).astype(np.float32), requires_grad=True)
    for log_target in (False, True):
        target = log_probabilities(3, 4, seed=1).astype(np.float32)
        result = kl_div(input, target if log_target else np.exp(target), "batchmean", log_target)
        result.backward()
        assert result.dtype == input.grad.dtype == np.float32


def test_mean_warns_as_pytorch_does():
    input, target = mg.tensor(log_probabilities(2, 3)), np.full((2, 3), 1 / 3)
    with pytest.warns(UserWarning, match='kl_div: reduction="mean" divides .* reduction="batchmean"'):
        kl_div(input, target)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kl_div(input, target, "batchmean")


def test_drawn_as_one_box():
    result = kl_div(mg.tensor(log_probabilities(2, 3), requires_grad=True), np.full((2, 3), 1 / 3), "sum")
    assert result.op.scope[0].label == "kl_div"


def test_errors():
    input = mg.tensor(log_probabilities(2, 3))
    with pytest.raises(ValueError, match=r"kl_div: input shape \(2, 3\) and target shape \(3,\) differ"):
        kl_div(input, np.full(3, 1 / 3), "sum")
    with pytest.raises(
        ValueError, match='kl_div: reduction must be "mean", "batchmean", "sum" or "none", got'
    ):
        kl_div(input, np.full((2, 3), 1 / 3), "batch_mean")


# ---- KLDivLoss ------------------------------------------------------------------------------


def test_module_computes_kl_div():
    input, target = mg.tensor(log_probabilities(3, 4, seed=1)), log_probabilities(3, 4, seed=2)
    module = KLDivLoss(reduction="batchmean", log_target=True)
    np.testing.assert_array_equal(module(input, target).data, kl_div(input, target, "batchmean", True).data)


def test_module_reprs():
    # PyTorch 2.13.0 prints KLDivLoss() whatever the options; minigrad shows those that are not
    # the defaults, as its other losses do
    assert repr(KLDivLoss()) == "KLDivLoss()"
    assert (
        repr(KLDivLoss("batchmean", log_target=True)) == "KLDivLoss(reduction='batchmean', log_target=True)"
    )


def test_module_checks_the_reduction():
    with pytest.raises(ValueError, match='KLDivLoss: reduction must be "mean", "batchmean", "sum" or "none"'):
        KLDivLoss("average")
