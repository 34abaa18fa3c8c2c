"""The neural-network functions: values, gradients and errors (minigrad/nn/functional.py)."""

import re

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F  # noqa: N812

REDUCTIONS = ["mean", "sum", "none"]


def re_shape(shape: tuple) -> str:
    """A regular expression matching a shape as it prints, e.g. ``(2, 3)``."""
    return re.escape(str(shape))


def log_softmax_reference(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def reduce_reference(losses: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]


def constant(array: np.ndarray) -> mg.Tensor:
    """A float64 tensor that gradcheck leaves alone (no requires_grad)."""
    return mg.tensor(np.asarray(array, dtype=np.float64))


# ---- activations ------------------------------------------------------------------------


@pytest.mark.parametrize("function", [F.relu, F.sigmoid, F.tanh], ids=["relu", "sigmoid", "tanh"])
def test_activation_gradcheck(function):
    assert_gradcheck(function, random_array(3, 4))


@pytest.mark.parametrize(
    ("function", "reference"),
    [
        (F.relu, lambda x: np.maximum(x, 0)),
        (F.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
        (F.tanh, np.tanh),
    ],
    ids=["relu", "sigmoid", "tanh"],
)
def test_activation_values(function, reference):
    x = random_array(3, 4)
    np.testing.assert_allclose(function(mg.tensor(x)).data, reference(x), rtol=1e-12)


# ---- softmax and log_softmax --------------------------------------------------------------


@pytest.mark.parametrize("function", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_gradcheck(function, axis):
    assert_gradcheck(lambda x: function(x, axis=axis), random_array(3, 4))


@settings(max_examples=30, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
    data=st.data(),
    scale=st.sampled_from([1.0, 100.0, 1e4]),
)
def test_softmax_sums_to_one_along_its_axis(shape, data, scale):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = random_array(*shape) * scale
    probabilities = F.softmax(mg.tensor(x), axis=axis).data
    assert np.all(probabilities >= 0)
    np.testing.assert_allclose(probabilities.sum(axis=axis), 1.0, rtol=1e-12)
    np.testing.assert_allclose(probabilities, np.exp(log_softmax_reference(x, axis)), rtol=1e-12)


def test_log_softmax_is_stable_for_large_logits():
    logits = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0], [5000.0, 5000.0, 5000.0]])
    x = mg.tensor(logits, requires_grad=True)
    result = F.log_softmax(x, axis=1)
    assert np.all(np.isfinite(result.data))
    # Shifting by the maximum gives the exact values: log_softmax(1000 + [0, 1, 2]).
    np.testing.assert_allclose(result.data[0], log_softmax_reference(np.array([0.0, 1.0, 2.0])), rtol=1e-12)
    np.testing.assert_allclose(result.data[1], [-2000.0, -1000.0, 0.0], rtol=1e-12)
    np.testing.assert_allclose(result.data[2], np.full(3, -np.log(3.0)), rtol=1e-12)
    result.sum().backward()
    assert np.all(np.isfinite(x.grad.data))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_as_a_method_and_a_function_of_mg_and_of_arrays(name):
    x = np.random.default_rng(0).standard_normal((3, 4))
    expected = getattr(F, name)(mg.tensor(x), axis=0).data
    assert getattr(mg, name) is getattr(F, name)
    np.testing.assert_array_equal(getattr(mg.tensor(x), name)(0).data, expected)
    np.testing.assert_array_equal(getattr(F, name)(x, axis=0).data, expected)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_along_an_empty_axis_is_empty(name):
    x = mg.zeros(3, 0, requires_grad=True)
    assert getattr(F, name)(x, axis=1).shape == (3, 0) == getattr(F, name)(x, axis=0).shape


def test_softmax_is_stable_for_large_logits():
    probabilities = F.softmax(mg.tensor(np.array([[1000.0, 1001.0], [-1e4, 1e4]]))).data
    assert np.all(np.isfinite(probabilities))
    np.testing.assert_allclose(probabilities[0], np.exp(log_softmax_reference(np.array([0.0, 1.0]))))
    np.testing.assert_allclose(probabilities[1], [0.0, 1.0])


# ---- linear ---------------------------------------------------------------------------


def test_linear_gradcheck_with_bias():
    assert_gradcheck(
        F.linear, random_array(5, 3, seed=1), random_array(4, 3, seed=2), random_array(4, seed=3)
    )


def test_linear_takes_lists_and_any_bias_that_broadcasts_as_pytorch_does():
    weight, x = random_array(4, 3), random_array(2, 3)
    np.testing.assert_allclose(
        F.linear(x.tolist(), mg.tensor(weight)).data, x @ weight.T, rtol=1e-5
    )  # float32 x
    for bias in (np.array([0.5]), np.array(0.5), random_array(2, 4)):
        np.testing.assert_allclose(F.linear(mg.tensor(x), weight, bias).data, x @ weight.T + bias, rtol=1e-12)


def test_linear_gradcheck_without_bias():
    assert_gradcheck(F.linear, random_array(5, 3, seed=1), random_array(4, 3, seed=2))


def test_linear_gradcheck_on_a_batch_of_sequences():
    assert_gradcheck(
        F.linear, random_array(2, 5, 3, seed=1), random_array(4, 3, seed=2), random_array(4, seed=3)
    )


def test_linear_values_use_weight_of_shape_out_by_in():
    x, weight, bias = random_array(5, 3, seed=1), random_array(4, 3, seed=2), random_array(4, seed=3)
    result = F.linear(mg.tensor(x), mg.tensor(weight), mg.tensor(bias))
    assert result.shape == (5, 4)
    np.testing.assert_allclose(result.data, x @ weight.T + bias, rtol=1e-12)
    np.testing.assert_allclose(F.linear(mg.tensor(x), mg.tensor(weight)).data, x @ weight.T, rtol=1e-12)


def test_linear_with_mismatched_weight_names_the_shapes():
    with pytest.raises(ValueError, match=r"\(5, 3\).*(\(4, 2\)|\(2, 4\))"):
        F.linear(mg.tensor(random_array(5, 3)), mg.tensor(random_array(4, 2)))


# ---- cross_entropy ----------------------------------------------------------------------

TARGET = np.array([0, 2, 1, 2, 0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("as_tensor", [False, True], ids=["int-array", "int-tensor"])
def test_cross_entropy_gradcheck_with_class_indices(reduction, as_tensor):
    target = mg.tensor(TARGET) if as_tensor else TARGET
    assert_gradcheck(lambda logits: F.cross_entropy(logits, target, reduction=reduction), random_array(5, 3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_gradcheck_with_class_probabilities(reduction):
    probabilities = np.exp(log_softmax_reference(random_array(5, 3, seed=7)))
    assert_gradcheck(
        lambda logits: F.cross_entropy(logits, probabilities, reduction=reduction), random_array(5, 3)
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_values(reduction):
    logits = random_array(5, 3)
    losses = -log_softmax_reference(logits)[np.arange(5), TARGET]
    expected = reduce_reference(losses, reduction)
    for target in (TARGET, mg.tensor(TARGET), TARGET.astype(np.int32), list(TARGET)):
        result = F.cross_entropy(mg.tensor(logits), target, reduction=reduction)
        np.testing.assert_allclose(result.data, expected, rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_one_hot_probabilities_equals_class_indices(reduction):
    logits = mg.tensor(random_array(5, 3))
    one_hot = np.eye(3)[TARGET]
    np.testing.assert_allclose(
        F.cross_entropy(logits, one_hot, reduction=reduction).data,
        F.cross_entropy(logits, TARGET, reduction=reduction).data,
        rtol=1e-12,
    )


def test_cross_entropy_is_finite_for_large_logits():
    logits = mg.tensor(np.array([[1000.0, -1000.0], [0.0, 2000.0]]), requires_grad=True)
    loss = F.cross_entropy(logits, np.array([1, 1]))
    np.testing.assert_allclose(loss.data, 1000.0)
    loss.backward()
    assert np.all(np.isfinite(logits.grad.data))


@pytest.mark.parametrize("bad", [3, -1, 7])
def test_cross_entropy_target_out_of_range_names_the_value_and_classes(bad):
    with pytest.raises(ValueError, match=rf"cross_entropy.*{bad}.*3 classes"):
        F.cross_entropy(mg.tensor(random_array(2, 3)), np.array([0, bad]))


@pytest.mark.parametrize(
    "target",
    [np.array([0, 1, 2]), np.array([[0], [1]]), np.array(1)],
    ids=["too-many", "column", "scalar"],
)
def test_cross_entropy_target_of_wrong_shape_names_both_shapes(target):
    with pytest.raises(ValueError, match=rf"cross_entropy.*\(2, 3\).*{re_shape(target.shape)}"):
        F.cross_entropy(mg.tensor(random_array(2, 3)), target)


def test_cross_entropy_probabilities_of_wrong_shape_name_both_shapes():
    with pytest.raises(ValueError, match=r"cross_entropy.*\(2, 3\).*\(2, 4\)"):
        F.cross_entropy(mg.tensor(random_array(2, 3)), np.full((2, 4), 0.25))


def test_cross_entropy_of_one_sample_needs_one_index():
    with pytest.raises(
        ValueError,
        match=r"cross_entropy: expected integer class indices of shape \(\) for logits of shape \(3,\)",
    ):
        F.cross_entropy(mg.tensor(random_array(3)), np.array([1]))
    with pytest.raises(ValueError, match=r"cross_entropy: expected logits of shape \(N, C\), got \(\)"):
        F.cross_entropy(mg.tensor(1.0), np.array(0))


# PyTorch's weight, ignore_index and label_smoothing, written out with numpy for (N, C) logits.
def cross_entropy_reference(
    logits, target, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"
):
    n, classes = logits.shape
    log_p = log_softmax_reference(logits, axis=1)
    weight = np.ones(classes) if weight is None else weight
    kept = target != ignore_index
    safe = np.where(kept, target, 0)
    sample_weights = np.where(kept, weight[safe], 0.0)
    nll = -log_p[np.arange(n), safe] * sample_weights
    smooth = np.where(kept, -(log_p * weight).sum(axis=1), 0.0)
    losses = (1 - label_smoothing) * nll + label_smoothing / classes * smooth
    if reduction == "mean":
        return losses.sum() / sample_weights.sum()
    return reduce_reference(losses, reduction)


CROSS_ENTROPY_OPTIONS = {
    "weight": {"weight": np.array([0.5, 2.0, 1.0])},
    "ignore_index": {"ignore_index": 2},
    "label_smoothing": {"label_smoothing": 0.2},
    "all three": {"weight": np.array([0.5, 2.0, 1.0]), "ignore_index": 0, "label_smoothing": 0.1},
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", CROSS_ENTROPY_OPTIONS)
def test_cross_entropy_options_are_pytorchs(name, reduction):
    options = CROSS_ENTROPY_OPTIONS[name]
    logits = random_array(5, 3)
    result = F.cross_entropy(mg.tensor(logits), TARGET, reduction, **options)
    expected = cross_entropy_reference(logits, TARGET, reduction=reduction, **options)
    np.testing.assert_allclose(result.data, expected, rtol=1e-12)
    assert_gradcheck(lambda t: F.cross_entropy(t, TARGET, reduction, **options), logits)


def test_cross_entropy_ignored_samples_get_no_gradient_and_do_not_count():
    logits = mg.tensor(random_array(3, 4), requires_grad=True)
    loss = F.cross_entropy(logits, np.array([1, -100, 3]))
    np.testing.assert_allclose(loss.data, F.cross_entropy(logits[[0, 2]], np.array([1, 3])).data, rtol=1e-12)
    loss.backward()
    assert not logits.grad.data[1].any()


def test_cross_entropy_with_smoothed_probabilities_and_weights():
    logits, probabilities = random_array(5, 3), np.exp(log_softmax_reference(random_array(5, 3, seed=7)))
    weight, smoothing = np.array([0.5, 2.0, 1.0]), 0.3
    target = (probabilities * (1 - smoothing) + smoothing / 3) * weight
    expected = -(log_softmax_reference(logits) * target).sum(axis=1).mean()  # mean over N, weights or not
    result = F.cross_entropy(mg.tensor(logits), probabilities, weight=weight, label_smoothing=smoothing)
    np.testing.assert_allclose(result.data, expected, rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_takes_classes_along_axis_1_and_single_samples(reduction):
    logits = random_array(2, 3, 4)  # (N, C, d): every (sample, position) is a row of 3 classes
    target = np.array([[0, 2, 1, 2], [1, 1, 0, 2]])
    rows = logits.transpose(0, 2, 1).reshape(8, 3)
    result = F.cross_entropy(mg.tensor(logits), target, reduction, label_smoothing=0.1)
    expected = F.cross_entropy(mg.tensor(rows), target.reshape(8), reduction, label_smoothing=0.1).data
    np.testing.assert_allclose(
        result.data, expected.reshape(2, 4) if reduction == "none" else expected, rtol=1e-12
    )
    assert_gradcheck(lambda t: F.cross_entropy(t, target, reduction), logits)
    single = F.cross_entropy(mg.tensor(logits[:, :, 0][0]), np.array(0), reduction)
    assert single.shape == ()
    np.testing.assert_allclose(single.data, -log_softmax_reference(logits[0, :, 0])[0], rtol=1e-12)


def test_cross_entropy_checks_its_options():
    logits = mg.tensor(random_array(2, 3))
    with pytest.raises(
        ValueError, match=r"cross_entropy: weight must have shape \(3,\), one per class, got \(2,\)"
    ):
        F.cross_entropy(logits, np.array([0, 1]), weight=np.ones(2))
    with pytest.raises(ValueError, match=r"cross_entropy: label_smoothing must be in \[0, 1\], got 1.5"):
        F.cross_entropy(logits, np.array([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"cross_entropy: target 3 is out of range for 3 classes"):
        F.cross_entropy(logits, np.array([3, -100]))


# ---- mse_loss -----------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss_gradcheck_wrt_input_and_target(reduction):
    assert_gradcheck(
        lambda input, target: F.mse_loss(input, target, reduction=reduction),
        random_array(4, 3, seed=1),
        random_array(4, 3, seed=2),
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss_values(reduction):
    input, target = random_array(4, 3, seed=1), random_array(4, 3, seed=2)
    expected = reduce_reference((input - target) ** 2, reduction)
    for given_target in (target, mg.tensor(target)):
        result = F.mse_loss(mg.tensor(input), given_target, reduction=reduction)
        np.testing.assert_allclose(result.data, expected, rtol=1e-12)


@pytest.mark.parametrize("target_shape", [(3, 4), (3,), (4, 1), (1, 4, 3)])
def test_mse_loss_shape_mismatch_names_both_shapes(target_shape):
    with pytest.raises(ValueError, match=rf"mse_loss.*\(4, 3\).*{re_shape(target_shape)}"):
        F.mse_loss(mg.tensor(random_array(4, 3)), np.zeros(target_shape))


@pytest.mark.parametrize(
    "loss",
    [
        lambda reduction: F.mse_loss(mg.tensor(random_array(2, 3)), random_array(2, 3), reduction=reduction),
        lambda reduction: F.cross_entropy(
            mg.tensor(random_array(2, 3)), np.array([0, 1]), reduction=reduction
        ),
    ],
    ids=["mse_loss", "cross_entropy"],
)
@pytest.mark.parametrize("reduction", ["avg", "MEAN", None])
def test_bad_reduction_names_the_op_and_the_value(loss, reduction):
    with pytest.raises(
        ValueError, match=rf"(mse_loss|cross_entropy).*reduction.*{re.escape(repr(reduction))}"
    ):
        loss(reduction)


# ---- dropout ------------------------------------------------------------------------------


def test_dropout_gradcheck_with_a_fixed_seed():
    def dropout_with_fixed_mask(x):
        mg.manual_seed(0)
        return F.dropout(x, p=0.4, training=True)

    assert_gradcheck(dropout_with_fixed_mask, random_array(6, 5))


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_zeroes_about_p_and_scales_the_rest(p):
    mg.manual_seed(1)
    x = random_array(200, 100, positive=True)
    result = F.dropout(mg.tensor(x), p=p, training=True).data
    dropped = result == 0
    assert abs(dropped.mean() - p) < 0.02
    np.testing.assert_allclose(result[~dropped], x[~dropped] / (1 - p), rtol=1e-12)


def test_dropout_gradient_is_the_mask_scaled():
    mg.manual_seed(2)
    x = mg.tensor(random_array(50, 20), requires_grad=True)
    result = F.dropout(x, p=0.5)
    result.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.where(result.data == 0, 0.0, 2.0))


def test_dropout_is_reproducible_with_manual_seed():
    x = mg.tensor(random_array(10, 10))
    mg.manual_seed(3)
    first = F.dropout(x, p=0.5).data
    mg.manual_seed(3)
    second = F.dropout(x, p=0.5).data
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, F.dropout(x, p=0.5).data)


@pytest.mark.parametrize(("p", "training"), [(0.5, False), (0.0, True), (0.0, False)])
def test_dropout_is_the_identity_when_not_training_or_p_is_zero(p, training):
    x = random_array(4, 5)
    np.testing.assert_array_equal(F.dropout(mg.tensor(x), p=p, training=training).data, x)


def test_dropout_with_p_one_zeroes_everything():
    assert not F.dropout(mg.tensor(random_array(4, 5)), p=1.0).data.any()


def test_dropout_keeps_float32():
    assert F.dropout(mg.randn(4, 5), p=0.5).dtype == np.float32


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_p_outside_zero_one(p):
    with pytest.raises(ValueError, match=rf"dropout.*{p}"):
        F.dropout(mg.tensor(random_array(2, 2)), p=p)


# ---- batch_norm (its module, the running statistics and the closed-form gradient are in
# ---- test_batchnorm.py) ---------------------------------------------------------------------


def batch_norm_reference(x, mean, var, weight=None, bias=None, eps=1e-5):
    channel_shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(channel_shape)) / np.sqrt(var.reshape(channel_shape) + eps)
    if weight is not None:
        y = y * weight.reshape(channel_shape)
    if bias is not None:
        y = y + bias.reshape(channel_shape)
    return y


AFFINE_CASES = [(True, True), (True, False), (False, True), (False, False)]
AFFINE_IDS = ["weight-bias", "weight", "bias", "none"]


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2)])
@pytest.mark.parametrize(("with_weight", "with_bias"), AFFINE_CASES, ids=AFFINE_IDS)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm_gradcheck(shape, with_weight, with_bias, training):
    channels = shape[1]
    running_mean = constant(random_array(channels, seed=4))
    running_var = constant(random_array(channels, positive=True, seed=5))
    inputs = [random_array(*shape, seed=1)]
    if with_weight:
        inputs.append(random_array(channels, seed=2))
    if with_bias:
        inputs.append(random_array(channels, seed=3))

    def normalize(x, *affine):
        weight = affine[0] if with_weight else None
        bias = affine[-1] if with_bias else None
        return F.batch_norm(x, running_mean, running_var, weight, bias, training=training)

    assert_gradcheck(normalize, *inputs)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2), (2, 3, 2, 2)])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm_values(shape, training):
    x, weight, bias = random_array(*shape, seed=1), random_array(3, seed=2), random_array(3, seed=3)
    running_mean, running_var = random_array(3, seed=4), random_array(3, positive=True, seed=5)
    axes = (0, *range(2, len(shape)))
    tensors = [mg.tensor(array) for array in (x, running_mean, running_var, weight, bias)]
    result = F.batch_norm(*tensors, training=training)
    if training:
        expected = batch_norm_reference(x, x.mean(axis=axes), x.var(axis=axes), weight, bias)
    else:
        expected = batch_norm_reference(x, running_mean, running_var, weight, bias)
    np.testing.assert_allclose(result.data, expected, rtol=1e-10, atol=1e-12)


def test_batch_norm_updates_the_running_statistics_in_place():
    x = random_array(5, 3, seed=1)
    running_mean, running_var = mg.tensor(np.zeros(3)), mg.tensor(np.ones(3))
    mean_array, var_array = running_mean.data, running_var.data
    F.batch_norm(mg.tensor(x), running_mean, running_var, training=True, momentum=0.3)
    np.testing.assert_allclose(running_mean.data, 0.3 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(running_var.data, 0.7 + 0.3 * x.var(axis=0, ddof=1), rtol=1e-12)
    assert running_mean.data is mean_array and running_var.data is var_array


def test_batch_norm_in_training_without_running_statistics_uses_batch_statistics():
    x = random_array(5, 3, seed=1)
    result = F.batch_norm(mg.tensor(x), None, None, training=True)
    np.testing.assert_allclose(
        result.data, batch_norm_reference(x, x.mean(axis=0), x.var(axis=0)), rtol=1e-10
    )


def test_batch_norm_rejects_a_one_dimensional_input():
    with pytest.raises(ValueError, match=r"batch_norm.*\(3,\)"):
        F.batch_norm(mg.tensor(random_array(3)), None, None, training=True)


def test_batch_norm_rejects_one_value_per_channel_in_training():
    running_mean, running_var = mg.tensor(np.zeros(3)), mg.tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"batch_norm.*\(1, 3\)"):
        F.batch_norm(mg.tensor(random_array(1, 3)), running_mean, running_var, training=True)
    np.testing.assert_array_equal(running_mean.data, np.zeros(3))
    np.testing.assert_array_equal(running_var.data, np.ones(3))


# ---- layer_norm ---------------------------------------------------------------------------

LAYER_NORM_CASES = [((4, 5), (5,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4))]


@pytest.mark.parametrize(("shape", "normalized_shape"), LAYER_NORM_CASES)
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
def test_layer_norm_gradcheck(shape, normalized_shape, affine):
    inputs = [random_array(*shape, seed=1)]
    if affine:
        inputs += [random_array(*normalized_shape, seed=2), random_array(*normalized_shape, seed=3)]
    assert_gradcheck(lambda x, *weight_bias: F.layer_norm(x, normalized_shape, *weight_bias), *inputs)


@pytest.mark.parametrize(("shape", "normalized_shape"), LAYER_NORM_CASES)
def test_layer_norm_values(shape, normalized_shape):
    x = random_array(*shape, seed=1)
    weight, bias = random_array(*normalized_shape, seed=2), random_array(*normalized_shape, seed=3)
    axes = tuple(range(len(shape) - len(normalized_shape), len(shape)))
    x_hat = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + 1e-5)
    result = F.layer_norm(mg.tensor(x), normalized_shape, mg.tensor(weight), mg.tensor(bias))
    np.testing.assert_allclose(result.data, x_hat * weight + bias, rtol=1e-10, atol=1e-12)


def test_layer_norm_takes_an_int_normalized_shape():
    x = mg.tensor(random_array(4, 5))
    np.testing.assert_array_equal(F.layer_norm(x, 5).data, F.layer_norm(x, (5,)).data)


@pytest.mark.parametrize(("shape", "normalized_shape"), [((2, 3), (4,)), ((2, 3), (2, 4)), ((3,), (2, 3))])
def test_layer_norm_shape_mismatch_names_both_shapes(shape, normalized_shape):
    with pytest.raises(ValueError, match=rf"layer_norm.*{re_shape(normalized_shape)}.*{re_shape(shape)}"):
        F.layer_norm(mg.tensor(random_array(*shape)), normalized_shape)
