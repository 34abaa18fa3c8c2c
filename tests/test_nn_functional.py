"""The neural-network functions: values, gradients and errors (minigrad/nn/functional/)."""

import math
import re

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array, shapes
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F  # noqa: N812
from minigrad.primitives import Erf

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


# ---- leaky_relu, elu, silu, softplus, gelu -------------------------------------------------


def gelu_reference(x: np.ndarray) -> np.ndarray:
    """x * Phi(x), with Phi from math.erf, one value at a time."""
    return x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


# PyTorch's activations with their options, written out with numpy.
NEW_ACTIVATIONS = {
    "leaky_relu": (F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x)),
    "leaky_relu-0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    "elu": (F.elu, lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0)))),
    "elu-0.5": (
        lambda x: F.elu(x, alpha=0.5),
        lambda x: np.where(x > 0, x, 0.5 * np.expm1(np.minimum(x, 0))),
    ),
    "silu": (F.silu, lambda x: x / (1 + np.exp(-x))),
    "softplus": (F.softplus, lambda x: np.logaddexp(0, x)),
    "softplus-beta-2-threshold-3": (
        lambda x: F.softplus(x, beta=2.0, threshold=3.0),
        lambda x: np.where(2 * x > 3, x, np.logaddexp(0, 2 * x) / 2),
    ),
    "gelu": (F.gelu, gelu_reference),
    "gelu-tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    ),
}


@pytest.mark.parametrize("name", NEW_ACTIVATIONS)
def test_new_activation_values(name):
    function, reference = NEW_ACTIVATIONS[name]
    x = random_array(4, 5) * 3
    np.testing.assert_allclose(function(mg.tensor(x)).data, reference(x), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", NEW_ACTIVATIONS)
def test_new_activation_gradcheck(name):
    function = NEW_ACTIVATIONS[name][0]
    assert_gradcheck(function, random_array(4, 5) * 3)


@pytest.mark.parametrize("name", ["elu", "silu", "softplus", "gelu", "gelu-tanh"])
def test_smooth_activation_second_derivatives(name):
    # The backward rules are tensor ops, so a gradient can be differentiated again.
    assert_gradcheck(NEW_ACTIVATIONS[name][0], random_array(3, 4) * 3, second_order=True)


@pytest.mark.parametrize(
    ("name", "slope"),
    [
        ("leaky_relu", 0.01),
        ("leaky_relu-0.2", 0.2),
        ("elu", 1.0),
        ("elu-0.5", 0.5),
        ("silu", 0.5),
        ("softplus", 0.5),
        ("softplus-beta-2-threshold-3", 0.5),
        ("gelu", 0.5),
        ("gelu-tanh", 0.5),
    ],
)
def test_new_activation_slopes_at_zero_are_pytorchs(name, slope):
    # PyTorch 2.13.0, checked by hand: the gradient at exactly 0 (and -0.0).
    x = mg.tensor(np.array([0.0, -0.0]), requires_grad=True)
    NEW_ACTIVATIONS[name][0](x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [slope, slope])


LARGE = np.array([-1e4, -800.0, -40.0, 40.0, 800.0, 1e4])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("name", "right_slope", "left_slope"),
    [
        ("leaky_relu", 1.0, 0.01),
        ("elu", 1.0, 0.0),
        ("silu", 1.0, 0.0),
        ("softplus", 1.0, 0.0),
        ("gelu", 1.0, 0.0),
        ("gelu-tanh", 1.0, 0.0),
    ],
)
def test_new_activations_are_stable_for_large_inputs(name, right_slope, left_slope, dtype):
    function, reference = NEW_ACTIVATIONS[name]
    x = mg.tensor(LARGE.astype(dtype), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no inf, no nan, not even in between
        result = function(x)
        result.sum().backward()
    assert result.dtype == x.grad.dtype == dtype
    with np.errstate(over="ignore"):  # the reference's exp may overflow, in the branch it does not use
        expected = reference(LARGE).astype(dtype)
    np.testing.assert_allclose(result.data, expected, rtol=1e-6, atol=1e-15)
    np.testing.assert_allclose(x.grad.data, [left_slope] * 3 + [right_slope] * 3, atol=1e-6)


def test_softplus_is_x_itself_above_the_threshold():
    x = mg.tensor(np.array([5.0, 10.0, 10.5, 1000.0]), requires_grad=True)
    result = F.softplus(x, beta=2.0, threshold=20.0)  # beta * x > 20 from x > 10 on
    np.testing.assert_array_equal(result.data[2:], [10.5, 1000.0])
    np.testing.assert_allclose(result.data[:2], np.log1p(np.exp([10.0, 20.0])) / 2, rtol=1e-14)
    result.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1 / (1 + np.exp(-10)), 1 / (1 + np.exp(-20)), 1.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softplus_is_exact_in_the_far_left_tail(dtype):
    # log(1 + exp(x)) is about exp(x) there: 1 + exp(x) rounds to 1, but log1p keeps it
    x = np.array([-40.0, -80.0, -700.0], dtype=dtype)
    expected = np.log1p(np.exp(x.astype(np.float64))).astype(
        dtype
    )  # 4.25e-18, 1.8e-35, 9.9e-305 (0 in float32)
    result = F.softplus(mg.tensor(x))
    assert result.dtype == dtype
    np.testing.assert_allclose(result.data, expected, rtol=1e-6, atol=0)
    assert result.data[0] > 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_elu_is_exact_near_zero(dtype):
    # alpha * (exp(x) - 1) by expm1: exp(x) - 1 would keep only the first few digits of x
    x = np.array([-1e-10, -3e-7, -1e-4], dtype=dtype)
    result = F.elu(mg.tensor(x), alpha=0.5)
    np.testing.assert_allclose(
        result.data, 0.5 * np.expm1(x.astype(np.float64)), rtol=2 * np.finfo(dtype).eps
    )


def test_gelu_matches_pytorch_to_float64_rounding():
    # Values of PyTorch 2.13.0's exact gelu (float64), checked by hand.
    x = np.array([-3.0, -0.5, 0.1, 1.0, 2.5])
    torch_values = [
        -0.00404969409489031,
        -0.15426876936299344,
        0.053982783727702904,
        0.841344746068543,
        2.4844758366855597,
    ]
    np.testing.assert_allclose(F.gelu(mg.tensor(x)).data, torch_values, rtol=0, atol=1e-15)


def test_erf_is_exact_and_keeps_the_dtype():
    x = np.array([-6.0, -1.5, -1e-8, 0.0, 0.3, 2.0, 30.0, np.inf])
    for dtype in (np.float64, np.float32):
        result = Erf.apply(mg.tensor(x.astype(dtype)))
        assert result.dtype == dtype
        expected = np.array([math.erf(value) for value in x.astype(dtype)]).astype(dtype)
        np.testing.assert_array_equal(result.data, expected)


def test_erf_gradcheck_first_and_second_order():
    assert_gradcheck(lambda x: Erf.apply(x), random_array(3, 4))
    assert_gradcheck(lambda x: Erf.apply(x), random_array(3, 4), second_order=True)


def test_gelu_rejects_an_unknown_approximation():
    with pytest.raises(ValueError, match=r"""gelu: approximate must be "none" or "tanh", got 'exact'"""):
        F.gelu(mg.tensor(random_array(3)), approximate="exact")


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


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int32, np.uint64, np.int64, np.bool_])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_of_integers_is_that_of_the_same_numbers_as_floats(name, dtype):
    """Not computed in the integers: subtracting the maximum would wrap around for unsigned
    ones, and numpy's exp of 8-bit integers is float16."""
    info = np.iinfo(dtype) if dtype is not np.bool_ else None
    values = np.array(
        [[0, 1, 0], [1, 1, 0]] if info is None else [[info.min, 0, 3], [info.max, 2, 0]], dtype=dtype
    )
    result = getattr(mg, name)(mg.tensor(values), axis=1)
    expected = getattr(mg, name)(mg.tensor(values.astype(np.float64)).astype(np.float32), axis=1)
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result.data, expected.data)


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


def test_cross_entropy_of_a_sequence_models_layout_says_where_the_classes_go():
    logits, target = mg.randn(4, 6, 10), np.zeros((4, 6), dtype=np.int64)
    with pytest.raises(ValueError, match=r"classes go on axis 1.*input.swapaxes\(1, 2\).*reshape\(-1, 10\)"):
        F.cross_entropy(logits, target)
    expected = F.cross_entropy(logits.reshape(-1, 10), target.reshape(-1))
    np.testing.assert_allclose(F.cross_entropy(logits.swapaxes(1, 2), target).data, expected.data, rtol=1e-6)


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
        lambda reduction: F.nll_loss(mg.tensor(random_array(2, 3)), np.array([0, 1]), reduction=reduction),
        lambda reduction: F.binary_cross_entropy(
            mg.tensor(np.full((2, 3), 0.5)), np.ones((2, 3)), reduction=reduction
        ),
        lambda reduction: F.binary_cross_entropy_with_logits(
            mg.tensor(random_array(2, 3)), np.ones((2, 3)), reduction=reduction
        ),
        lambda reduction: F.l1_loss(mg.tensor(random_array(2, 3)), random_array(2, 3), reduction),
        lambda reduction: F.huber_loss(mg.tensor(random_array(2, 3)), random_array(2, 3), reduction),
        lambda reduction: F.smooth_l1_loss(mg.tensor(random_array(2, 3)), random_array(2, 3), reduction),
    ],
    ids=[
        "mse_loss",
        "cross_entropy",
        "nll_loss",
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "l1_loss",
        "huber_loss",
        "smooth_l1_loss",
    ],
)
@pytest.mark.parametrize("reduction", ["avg", "MEAN", None])
def test_bad_reduction_names_the_op_and_the_value(request, loss, reduction):
    op_name = request.node.callspec.id.split("-")[-1]
    with pytest.raises(ValueError, match=rf"^{op_name}: reduction.*{re.escape(repr(reduction))}"):
        loss(reduction)


# ---- nll_loss -----------------------------------------------------------------------------


NLL_OPTIONS = {
    "plain": {},
    "weight": {"weight": np.array([0.5, 2.0, 1.0])},
    "ignore_index": {"ignore_index": 2},
    "both": {"weight": np.array([0.5, 2.0, 1.0]), "ignore_index": 0},
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NLL_OPTIONS)
def test_nll_loss_values_and_gradcheck(name, reduction):
    options = NLL_OPTIONS[name]
    log_probabilities = log_softmax_reference(random_array(5, 3))
    result = F.nll_loss(mg.tensor(log_probabilities), TARGET, reduction=reduction, **options)
    # Log-probabilities are their own log_softmax, so the cross-entropy reference serves.
    expected = cross_entropy_reference(log_probabilities, TARGET, reduction=reduction, **options)
    np.testing.assert_allclose(result.data, expected, rtol=1e-12)
    assert_gradcheck(lambda x: F.nll_loss(x, TARGET, reduction=reduction, **options), log_probabilities)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", NLL_OPTIONS)
def test_cross_entropy_is_nll_loss_of_log_softmax(name, reduction):
    options = NLL_OPTIONS[name]
    logits = mg.tensor(random_array(2, 3, 4))  # (N, C, d): the classes along axis 1
    target = np.array([[0, 2, 1, 2], [1, 1, 0, 2]])
    np.testing.assert_allclose(
        F.nll_loss(F.log_softmax(logits, axis=1), target, reduction=reduction, **options).data,
        F.cross_entropy(logits, target, reduction, **options).data,
        rtol=1e-12,
    )


def test_nll_loss_takes_one_sample_and_a_weight_as_third_argument():
    log_probabilities = log_softmax_reference(random_array(4))
    result = F.nll_loss(mg.tensor(log_probabilities), np.array(2), np.array([1.0, 1.0, 3.0, 1.0]))
    assert result.shape == ()
    np.testing.assert_allclose(result.data, -log_probabilities[2], rtol=1e-12)  # weight 3 over weight 3


def test_nll_loss_errors_name_the_function():
    log_probabilities = mg.tensor(log_softmax_reference(random_array(2, 3)))
    with pytest.raises(ValueError, match=r"nll_loss: target 3 is out of range for 3 classes"):
        F.nll_loss(log_probabilities, np.array([0, 3]))
    with pytest.raises(
        ValueError, match=r"nll_loss: expected integer class indices of shape \(2,\) .*\(2, 3\)"
    ):
        F.nll_loss(log_probabilities, np.array([[0], [1]]))
    with pytest.raises(ValueError, match=r"nll_loss: expected integer class indices .* got float64"):
        F.nll_loss(log_probabilities, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"nll_loss: weight must have shape \(3,\), one per class"):
        F.nll_loss(log_probabilities, np.array([0, 1]), np.ones(2))
    with pytest.raises(ValueError, match=r"nll_loss: expected log-probabilities of shape \(N, C\), got \(\)"):
        F.nll_loss(mg.tensor(1.0), np.array(0))


@pytest.mark.parametrize(
    "loss",
    [F.nll_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits],
    ids=["nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"],
)
def test_a_reduction_in_place_of_weight_says_to_pass_it_by_name(loss):
    # cross_entropy and mse_loss take the reduction third; these, as PyTorch's, take weight there.
    with pytest.raises(ValueError, match=rf"{loss.__name__}: weight \(the third argument\).*reduction='sum'"):
        loss(mg.tensor(np.full((2, 3), 0.5)), np.array([0, 1]), "sum")


# ---- binary_cross_entropy and binary_cross_entropy_with_logits ----------------------------


def bce_reference(probabilities, target, weight=1.0, pos_weight=1.0):
    """The textbook formula, elementwise."""
    return -weight * (pos_weight * target * np.log(probabilities) + (1 - target) * np.log(1 - probabilities))


@settings(max_examples=25, deadline=None)
@given(shape=shapes, reduction=st.sampled_from(REDUCTIONS), weighted=st.booleans())
def test_binary_cross_entropy_values_and_gradcheck(shape, reduction, weighted):
    probabilities = np.asarray(1 / (1 + np.exp(-random_array(*shape, seed=1))))
    target = np.asarray(np.random.default_rng(2).uniform(size=shape))
    weight = random_array(*shape[-1:], positive=True, seed=3) if weighted else None
    result = F.binary_cross_entropy(mg.tensor(probabilities), target, weight, reduction=reduction)
    expected = bce_reference(probabilities, target, 1.0 if weight is None else weight)
    np.testing.assert_allclose(result.data, reduce_reference(expected, reduction), rtol=1e-12)
    assert_gradcheck(
        lambda p, t: F.binary_cross_entropy(p, t, weight, reduction=reduction), probabilities, target
    )


@settings(max_examples=25, deadline=None)
@given(
    shape=shapes, reduction=st.sampled_from(REDUCTIONS), weighted=st.booleans(), pos_weighted=st.booleans()
)
def test_binary_cross_entropy_with_logits_values_and_gradcheck(shape, reduction, weighted, pos_weighted):
    logits = np.asarray(random_array(*shape, seed=1) * 3)
    target = np.asarray(np.random.default_rng(2).uniform(size=shape))
    weight = random_array(*shape[-1:], positive=True, seed=3) if weighted else None
    pos_weight = random_array(*shape[-1:], positive=True, seed=4) * 2 if pos_weighted else None
    result = F.binary_cross_entropy_with_logits(
        mg.tensor(logits), target, weight, reduction=reduction, pos_weight=pos_weight
    )
    expected = bce_reference(
        1 / (1 + np.exp(-logits)),
        target,
        1.0 if weight is None else weight,
        1.0 if pos_weight is None else pos_weight,
    )
    np.testing.assert_allclose(result.data, reduce_reference(expected, reduction), rtol=1e-12)
    assert_gradcheck(
        lambda x, t: F.binary_cross_entropy_with_logits(
            x, t, weight, reduction=reduction, pos_weight=pos_weight
        ),
        logits,
        target,
    )


def test_binary_cross_entropy_with_logits_is_binary_cross_entropy_of_the_sigmoid():
    logits, target = mg.tensor(random_array(4, 3)), np.random.default_rng(2).uniform(size=(4, 3))
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(logits, target, reduction="none").data,
        F.binary_cross_entropy(F.sigmoid(logits), target, reduction="none").data,
        rtol=1e-5,  # float32
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_cross_entropy_with_logits_is_exact_for_large_logits(dtype):
    logits = mg.tensor(
        np.array([1000.0, -1000.0, 1000.0, -1000.0, 50.0, 0.0], dtype=dtype), requires_grad=True
    )
    target = np.array([0.0, 1.0, 1.0, 0.0, 0.0, 1.0], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        losses = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        losses.sum().backward()
    # Wrong with certainty costs |x|; right with certainty costs about exp(-|x|).
    np.testing.assert_allclose(losses.data, [1000.0, 1000.0, 0.0, 0.0, 50.0, np.log(2)], rtol=1e-6)
    # The gradient is sigmoid(x) - target, 1/2 - 1 at x = 0.
    np.testing.assert_allclose(logits.grad.data, [1.0, -1.0, 0.0, 0.0, 1.0, -0.5], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_cross_entropy_with_logits_is_exact_when_nearly_right(dtype):
    # A right, confident logit costs softplus(-|x|) = log1p(exp(-|x|)): tiny, but not 0
    logits = mg.tensor(np.array([40.0, 60.0], dtype=dtype), requires_grad=True)
    target = np.array([1.0, 1.0], dtype=dtype)
    losses = F.binary_cross_entropy_with_logits(
        logits, target, reduction="none", pos_weight=np.array([1.0, 2.0])
    )
    losses.sum().backward()
    expected = np.log1p(np.exp(-np.array([40.0, 60.0]))) * [1.0, 2.0]  # 4.25e-18 and 1.75e-26
    np.testing.assert_allclose(losses.data, expected, rtol=1e-6, atol=0)
    # The gradient, (1 + (p - 1) * t) * sigmoid(x) - p * t, is -p * exp(-x) to first order
    np.testing.assert_allclose(logits.grad.data, -np.exp(-np.array([40.0, 60.0])) * [1.0, 2.0], rtol=1e-6)


def test_binary_cross_entropy_clamps_its_logs_at_minus_100():
    probabilities = mg.tensor(np.array([0.0, 1.0, 0.0, 1.0, 1e-50]), requires_grad=True)
    target = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        losses = F.binary_cross_entropy(probabilities, target, reduction="none")
        losses.sum().backward()
    np.testing.assert_array_equal(losses.data, [100.0, 100.0, 0.0, 0.0, 100.0])
    # The chain rule's slopes: none through a clamped log, -t/p + (1-t)/(1-p) elsewhere.
    np.testing.assert_array_equal(probabilities.grad.data, [0.0, 0.0, 1.0, -1.0, 0.0])
    float32 = F.binary_cross_entropy(
        mg.tensor(np.float32([0.0, 1.0])), np.float32([1.0, 0.0]), reduction="none"
    )
    np.testing.assert_array_equal(float32.data, np.float32([100.0, 100.0]))


@pytest.mark.parametrize(
    ("input", "target", "message"),
    [
        (
            [0.5, 1.5],
            [0.0, 1.0],
            r"input values must be probabilities in \[0, 1\], got values from 0.5 to 1.5; for logits",
        ),
        ([0.5, -2.0], [0.0, 1.0], r"input values .* from -2.0 to 0.5"),
        ([0.5, np.nan], [0.0, 1.0], r"input values must be probabilities"),
        (
            [0.5, 0.5],
            [0.0, 2.0],
            r"target values must be probabilities in \[0, 1\], got values from 0.0 to 2.0$",
        ),
    ],
)
def test_binary_cross_entropy_rejects_values_outside_zero_one(input, target, message):
    with pytest.raises(ValueError, match=rf"binary_cross_entropy: {message}"):
        F.binary_cross_entropy(mg.tensor(np.array(input)), np.array(target))


@pytest.mark.parametrize(
    "loss", [F.binary_cross_entropy, F.binary_cross_entropy_with_logits], ids=lambda loss: loss.__name__
)
def test_binary_cross_entropy_weights_must_broadcast_to_the_input(loss):
    input, target = mg.tensor(np.full((4, 3), 0.5)), np.zeros((4, 3))
    with pytest.raises(
        ValueError,
        match=rf"{loss.__name__}: weight of shape \(4,\) must broadcast to the input's shape \(4, 3\)",
    ):
        loss(input, target, np.ones(4))
    with pytest.raises(ValueError, match=r"weight of shape \(2, 4, 3\) must broadcast"):
        loss(input, target, np.ones((2, 4, 3)))
    if loss is F.binary_cross_entropy_with_logits:
        with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\) must broadcast"):
            loss(input, target, pos_weight=np.ones(2))


# ---- l1_loss, huber_loss, smooth_l1_loss ---------------------------------------------------


def huber_reference(difference, delta):
    size = np.abs(difference)
    return np.where(size < delta, 0.5 * difference**2, delta * (size - 0.5 * delta))


ELEMENTWISE_LOSSES = {
    "l1_loss": (F.l1_loss, np.abs),
    "huber_loss": (F.huber_loss, lambda d: huber_reference(d, 1.0)),
    "huber_loss-delta-0.5": (lambda *args: F.huber_loss(*args, delta=0.5), lambda d: huber_reference(d, 0.5)),
    "smooth_l1_loss": (F.smooth_l1_loss, lambda d: huber_reference(d, 1.0)),
    "smooth_l1_loss-beta-0.5": (
        lambda *args: F.smooth_l1_loss(*args, beta=0.5),
        lambda d: np.where(np.abs(d) < 0.5, 0.5 * d**2 / 0.5, np.abs(d) - 0.25),
    ),
    "smooth_l1_loss-beta-0": (lambda *args: F.smooth_l1_loss(*args, beta=0.0), np.abs),
}


@settings(max_examples=10, deadline=None)
@given(shape=shapes, reduction=st.sampled_from(REDUCTIONS), name=st.sampled_from(sorted(ELEMENTWISE_LOSSES)))
def test_elementwise_loss_values_and_gradcheck(shape, reduction, name):
    loss, reference = ELEMENTWISE_LOSSES[name]
    input, target = np.asarray(random_array(*shape, seed=1) * 2), np.asarray(random_array(*shape, seed=2))
    result = loss(mg.tensor(input), target, reduction)
    np.testing.assert_allclose(
        result.data, reduce_reference(reference(input - target), reduction), rtol=1e-12
    )
    assert_gradcheck(lambda x, t: loss(x, t, reduction), input, target)


@pytest.mark.parametrize(
    ("name", "slopes"),
    [
        # d = input - target at 0, ±1/2, ±1 and ±3: PyTorch 2.13.0's gradients, checked by hand.
        ("l1_loss", [0.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0]),
        ("huber_loss", [0.0, 0.5, -0.5, 1.0, -1.0, 1.0, -1.0]),
        ("huber_loss-delta-0.5", [0.0, 0.5, -0.5, 0.5, -0.5, 0.5, -0.5]),
        ("smooth_l1_loss-beta-0.5", [0.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0]),
        ("smooth_l1_loss-beta-0", [0.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0]),
    ],
)
def test_elementwise_loss_slopes_at_the_joins_are_pytorchs(name, slopes):
    input = mg.tensor(np.array([0.0, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0]), requires_grad=True)
    ELEMENTWISE_LOSSES[name][0](input, np.zeros(7), "sum").backward()
    np.testing.assert_array_equal(input.grad.data, slopes)


@pytest.mark.parametrize(("dtype", "huge"), [(np.float64, 1e200), (np.float32, 1e20)])
@pytest.mark.parametrize(
    ("name", "far_slope"),
    [(name, 0.5 if name == "huber_loss-delta-0.5" else 1.0) for name in ELEMENTWISE_LOSSES],
)
def test_elementwise_losses_are_finite_for_large_differences(name, far_slope, dtype, huge):
    # huge**2 would overflow: only the differences below the cutoff may be squared.
    input = mg.tensor(np.array([huge, -huge, 1e10], dtype=dtype), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        losses = ELEMENTWISE_LOSSES[name][0](input, np.zeros(3, dtype=dtype), "none")
        losses.sum().backward()
    np.testing.assert_allclose(losses.data, far_slope * np.abs(input.data), rtol=1e-6)
    np.testing.assert_array_equal(input.grad.data, far_slope * np.sign(input.data))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: F.huber_loss(x, x.data, delta=0.0), r"huber_loss: delta must be positive, got 0.0"),
        (lambda x: F.huber_loss(x, x.data, delta=-1.0), r"huber_loss: delta must be positive, got -1.0"),
        (
            lambda x: F.smooth_l1_loss(x, x.data, beta=-0.5),
            r"smooth_l1_loss: beta must not be negative, got -0.5",
        ),
    ],
)
def test_huber_and_smooth_l1_check_their_cutoff(call, message):
    with pytest.raises(ValueError, match=message):
        call(mg.tensor(random_array(3)))


@pytest.mark.parametrize(
    "loss",
    [F.l1_loss, F.huber_loss, F.smooth_l1_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits],
    ids=lambda loss: loss.__name__,
)
@pytest.mark.parametrize("target_shape", [(3, 4), (3,), (4, 1)])
def test_elementwise_loss_shape_mismatch_names_both_shapes(loss, target_shape):
    # PyTorch broadcasts some of these with a warning; minigrad, as its mse_loss, refuses.
    with pytest.raises(
        ValueError, match=rf"{loss.__name__}: input shape \(4, 3\) and target shape {re_shape(target_shape)}"
    ):
        loss(mg.tensor(np.full((4, 3), 0.5)), np.zeros(target_shape))


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


# ---- one_hot and embedding ------------------------------------------------------------------


@pytest.mark.parametrize("as_tensor", [False, True], ids=["array", "tensor"])
def test_one_hot_values_shape_and_dtype(as_tensor):
    indices = np.array([[0, 2, 1], [2, 2, 0]])
    result = F.one_hot(mg.tensor(indices) if as_tensor else indices, num_classes=4)
    assert result.shape == (2, 3, 4) and result.dtype == np.int64 and not result.requires_grad
    np.testing.assert_array_equal(result.data, np.eye(4, dtype=np.int64)[indices])
    # num_classes=-1: one more than the largest index.
    np.testing.assert_array_equal(F.one_hot(indices).data, np.eye(3, dtype=np.int64)[indices])
    np.testing.assert_array_equal(F.one_hot(np.array(1), 3).data, [0, 1, 0])
    assert F.one_hot(np.zeros(0, dtype=np.int64), 3).shape == (0, 3)


@pytest.mark.parametrize(
    ("indices", "num_classes", "message"),
    [
        (np.array([0, -1]), -1, r"one_hot: class indices must not be negative, got -1"),
        (np.array([0, 3]), 3, r"one_hot: class 3 is out of range for num_classes=3 \(0 to 2\)"),
        (np.array([0, 1]), -2, r"one_hot: num_classes must be -1 .* got -2"),
        (np.array([0.0, 1.0]), 3, r"one_hot: expected integer class indices, got float64"),
        (np.zeros(0, dtype=np.int64), -1, r"one_hot: an empty tensor .*; pass num_classes"),
    ],
    ids=["negative", "too-large", "bad-num_classes", "float", "empty"],
)
def test_one_hot_errors_name_the_function_and_the_value(indices, num_classes, message):
    with pytest.raises(ValueError, match=message):
        F.one_hot(indices, num_classes)


def test_embedding_picks_rows_and_adds_up_their_gradients():
    weight = mg.tensor(random_array(5, 3), requires_grad=True)
    indices = np.array([[0, 4, 4], [1, 0, 4]])
    result = F.embedding(indices, weight)
    assert result.shape == (2, 3, 3)
    np.testing.assert_array_equal(result.data, weight.data[indices])
    upstream = random_array(2, 3, 3, seed=1)
    result.backward(mg.tensor(upstream))
    expected = np.zeros((5, 3))
    np.add.at(expected, indices, upstream)  # row 4 was picked three times
    np.testing.assert_allclose(weight.grad.data, expected, rtol=1e-12)


def test_embedding_gradcheck():
    indices = mg.tensor(np.array([[0, 4, 2], [1, 0, 4]]))
    assert_gradcheck(lambda weight: F.embedding(indices, weight), random_array(5, 3))


@pytest.mark.parametrize("padding_idx", [0, 4, -1])
def test_embedding_gradcheck_of_the_rows_other_than_padding(padding_idx):
    # The padding row gets no gradient on purpose, so it is a constant here.
    indices = mg.tensor(np.array([[0, 4, 2], [1, 0, 4]]))
    padding_row, row = constant(random_array(1, 3, seed=1)), padding_idx % 5

    def embed(other_rows):
        weight = mg.concatenate([other_rows[:row], padding_row, other_rows[row:]])
        return F.embedding(indices, weight, padding_idx)

    assert_gradcheck(embed, random_array(4, 3))


@pytest.mark.parametrize("padding_idx", [4, -1])
def test_embedding_padding_row_keeps_its_value_and_gets_no_gradient(padding_idx):
    weight = mg.tensor(random_array(5, 3), requires_grad=True)
    indices = np.array([4, 1, 4, 0])
    result = F.embedding(indices, weight, padding_idx=padding_idx)
    np.testing.assert_array_equal(result.data, weight.data[indices])  # read, but as a constant
    result.sum().backward()
    np.testing.assert_array_equal(weight.grad.data[4], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(weight.grad.data[[0, 1]], np.ones((2, 3)))


@pytest.mark.parametrize(
    ("indices", "error", "message"),
    [
        (np.array([0, 5]), IndexError, r"embedding: index 5 is out of range for 5 embeddings \(0 to 4\)"),
        (np.array([[0], [-1]]), IndexError, r"embedding: index -1 is out of range for 5 embeddings"),
        (np.array([0.0, 1.0]), ValueError, r"embedding: expected integer indices, got float64"),
    ],
    ids=["too-large", "negative", "float"],
)
def test_embedding_rejects_bad_indices(indices, error, message):
    with pytest.raises(error, match=message):
        F.embedding(indices, mg.tensor(random_array(5, 3)))


def test_embedding_checks_its_weight_and_padding_idx():
    with pytest.raises(ValueError, match=r"embedding: weight must be 2-D, .* got shape \(5,\)"):
        F.embedding(np.array([0]), mg.tensor(random_array(5)))
    with pytest.raises(
        ValueError, match=r"embedding: padding_idx must be a row of the 5 embeddings \(-5 to 4\), got 5"
    ):
        F.embedding(np.array([0]), mg.tensor(random_array(5, 3)), padding_idx=5)


def test_elu_gradient_keeps_its_precision_far_below_zero():
    # alpha * exp(x), not alpha * (expm1(x) + 1), which is 0 once expm1(x) rounds to -1.
    for dtype, x in [(np.float32, -20.0), (np.float64, -40.0)]:
        t = mg.tensor(np.array([x], dtype=dtype), requires_grad=True)
        F.elu(t).sum().backward()
        np.testing.assert_allclose(t.grad.data, [np.exp(x)], rtol=1e-6)
