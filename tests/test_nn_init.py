"""Tests for minigrad/nn/init.py: trunc_normal_, orthogonal_ and eye_.

The older initializers (uniform_, kaiming_*, xavier_*, calculate_gain) are tested in
test_nn_modules.py.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.nn import init

# ---- trunc_normal_ ------------------------------------------------------------------------


def standard_normal_pdf(x: float) -> float:
    return 0.0 if math.isinf(x) else math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def standard_normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def truncated_normal_moments(mean: float, std: float, a: float, b: float) -> tuple[float, float]:
    """Mean and standard deviation of N(mean, std**2) truncated to [a, b], from the closed form.

    With alpha = (a - mean) / std, beta = (b - mean) / std and Z = Phi(beta) - Phi(alpha):
    E = mean + std * (phi(alpha) - phi(beta)) / Z and
    Var = std**2 * (1 + (alpha phi(alpha) - beta phi(beta)) / Z - ((phi(alpha) - phi(beta)) / Z)**2).
    """
    alpha, beta = (a - mean) / std, (b - mean) / std
    mass = standard_normal_cdf(beta) - standard_normal_cdf(alpha)
    shift = (standard_normal_pdf(alpha) - standard_normal_pdf(beta)) / mass

    def x_pdf(x: float) -> float:  # x phi(x), which is 0 at +-inf
        return 0.0 if math.isinf(x) else x * standard_normal_pdf(x)

    variance = 1 + (x_pdf(alpha) - x_pdf(beta)) / mass - shift**2
    return mean + std * shift, std * math.sqrt(variance)


def assert_follows_truncated_normal(values: np.ndarray, mean: float, std: float, a: float, b: float):
    """In [a, b], with the truncated normal's mean, std and CDF, to within 5 standard errors."""
    n = values.size
    assert a <= values.min() and values.max() <= b
    expected_mean, expected_std = truncated_normal_moments(mean, std, a, b)
    # The standard error of the mean is std / sqrt(n), that of the sample std about
    # std * sqrt((kurtosis - 1) / (4 n)).
    kurtosis = np.mean((values - values.mean()) ** 4) / values.var() ** 2
    assert abs(values.mean() - expected_mean) < 5 * expected_std / math.sqrt(n)
    assert abs(values.std() - expected_std) < 5 * expected_std * math.sqrt((kurtosis - 1) / (4 * n))
    # The moments alone would miss a wrong shape: compare the CDF at the sample's deciles too.
    alpha, beta = (a - mean) / std, (b - mean) / std
    low, high = standard_normal_cdf(alpha), standard_normal_cdf(beta)
    for x in np.quantile(values, np.linspace(0.1, 0.9, 9)):
        expected = (standard_normal_cdf((x - mean) / std) - low) / (high - low)
        assert abs(np.mean(values <= x) - expected) < 5 * 0.5 / math.sqrt(n)


# (mean, std, a, b): which of trunc_normal_'s ways of sampling each case takes is in its comment.
TRUNCATIONS = {
    "defaults": (0.0, 1.0, -2.0, 2.0),  # redraw the normal samples outside [a, b]
    "std 0.02 cut at 2 std": (0.0, 0.02, -0.04, 0.04),
    "one-sided": (0.0, 1.0, 0.5, math.inf),
    "off-centre": (1.0, 2.0, 0.0, 1.5),  # uniform proposals on a narrow interval about the mean
    "narrow": (0.0, 1.0, -0.1, 0.2),
    "right tail": (0.0, 1.0, 2.0, 3.0),  # exponential proposals
    "far left tail": (0.0, 1.0, -4.0, -3.5),  # the same, mirrored
}


@pytest.mark.filterwarnings("ignore:trunc_normal_. mean=0.0 is more than 2 std")  # the far tail
@pytest.mark.parametrize("name", TRUNCATIONS)
def test_trunc_normal_follows_the_truncated_normal(name):
    mean, std, a, b = TRUNCATIONS[name]
    mg.manual_seed(0)
    weight = mg.zeros(200, 1000, dtype=np.float64)
    assert init.trunc_normal_(weight, mean, std, a, b) is weight
    assert_follows_truncated_normal(weight.data, mean, std, a, b)


@pytest.mark.filterwarnings("ignore:trunc_normal_. mean=0.0 is more than 2 std")
def test_trunc_normal_samples_far_tails_exactly_and_quickly():
    """Sampling N(0, 1) in [10, 1000] by redrawing normals would take some 1e23 draws per value."""
    mg.manual_seed(0)
    weight = init.trunc_normal_(mg.zeros(100_000, dtype=np.float64), a=10.0, b=1000.0)
    # The mean of N(0, 1) beyond alpha is phi(alpha) / (1 - Phi(alpha)), with erfc for precision.
    tail_mean = standard_normal_pdf(10.0) / (0.5 * math.erfc(10.0 / math.sqrt(2)))
    assert weight.data.min() >= 10.0
    assert abs(weight.data.mean() - tail_mean) < 5 * weight.data.std() / math.sqrt(weight.size)


def test_trunc_normal_warns_when_the_mean_is_far_outside_the_bounds():
    mg.manual_seed(0)
    weight = mg.zeros(200_000, dtype=np.float64)
    with pytest.warns(UserWarning, match=r"trunc_normal_: mean=3.0 is more than 2 std from \[a, b\]"):
        init.trunc_normal_(weight, mean=3.0, a=-1.0, b=0.0)
    assert_follows_truncated_normal(weight.data, 3.0, 1.0, -1.0, 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trunc_normal_keeps_the_dtype(dtype):
    weight = mg.zeros(50, 40, dtype=dtype)
    init.trunc_normal_(weight, mean=0.25, std=0.5, a=-0.25, b=0.5)
    assert weight.dtype == dtype and weight.shape == (50, 40)
    assert weight.data.min() >= -0.25 and weight.data.max() <= 0.5
    assert len(np.unique(weight.data)) > 1900  # filled with draws, not a constant


@pytest.mark.filterwarnings("ignore:trunc_normal_. mean=0.0 is more than 2 std")
@pytest.mark.parametrize("bounds", [(-2.0, 2.0), (3.0, 4.0)], ids=["redrawn normals", "tail proposals"])
def test_trunc_normal_is_reproducible_under_manual_seed(bounds):
    a, b = bounds
    mg.manual_seed(7)
    first = init.trunc_normal_(mg.zeros(30, 20), a=a, b=b).data
    mg.manual_seed(7)
    second = init.trunc_normal_(mg.zeros(30, 20), a=a, b=b).data
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, init.trunc_normal_(mg.zeros(30, 20), a=a, b=b).data)


def test_trunc_normal_checks_its_arguments():
    for a, b in [(1.0, 1.0), (2.0, -2.0), (math.nan, 1.0)]:
        with pytest.raises(ValueError, match=rf"trunc_normal_: needs bounds a < b, got a={a}, b={b}; swap"):
            init.trunc_normal_(mg.zeros(3), a=a, b=b)
    for mean, std in [(0.0, 0.0), (0.0, -1.0), (0.0, math.inf), (math.nan, 1.0)]:
        with pytest.raises(ValueError, match=rf"trunc_normal_: .* got mean={mean}, std={std}"):
            init.trunc_normal_(mg.zeros(3), mean, std)


# ---- orthogonal_ --------------------------------------------------------------------------


def assert_semi_orthogonal(weight: mg.Tensor, gain: float, atol: float):
    """Read as (rows, rest), the rows (if fewer than the columns) or else the columns are orthogonal, of norm gain."""
    matrix = weight.data.reshape(weight.shape[0], -1).astype(np.float64)
    rows, cols = matrix.shape
    gram = matrix @ matrix.T if rows <= cols else matrix.T @ matrix
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), rtol=0, atol=atol)


@pytest.mark.parametrize(
    "shape",
    [(3, 5), (5, 3), (4, 4), (1, 7), (7, 1), (6, 2, 3, 3), (20, 2, 3, 1)],
    ids=["wide", "tall", "square", "one row", "one column", "conv weight", "tall conv weight"],
)
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    mg.manual_seed(0)
    weight = mg.zeros(*shape, dtype=np.float64)
    assert init.orthogonal_(weight, gain=2.0) is weight
    assert_semi_orthogonal(weight, 2.0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 8),
    rest=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    gain=st.sampled_from([1.0, 0.5, math.sqrt(2)]),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_orthogonal_for_any_weight_shape(rows, rest, gain, dtype):
    weight = mg.zeros(rows, *rest, dtype=dtype)
    init.orthogonal_(weight, gain)
    assert weight.dtype == dtype and weight.shape == (rows, *rest)
    assert_semi_orthogonal(weight, gain, atol=1e-5 if dtype == np.float32 else 1e-12)


def test_orthogonal_is_uniform_over_orthogonal_matrices():
    """Haar-distributed: each entry of a random 3 x 3 orthogonal matrix has mean 0 and variance 1/3.

    Q from a QR routine without the sign correction is not: with numpy's it has Q[0, 0] < 0 always.
    """
    mg.manual_seed(0)
    draws = np.stack([init.orthogonal_(mg.zeros(3, 3, dtype=np.float64)).data for _ in range(2000)])
    standard_error = math.sqrt(1 / 3) / math.sqrt(len(draws))
    assert np.abs(draws.mean(axis=0)).max() < 5 * standard_error
    # Rotations (det 1) and reflections (det -1) are equally likely.
    assert abs(np.linalg.det(draws).mean()) < 5 / math.sqrt(len(draws))


def test_orthogonal_is_reproducible_under_manual_seed():
    mg.manual_seed(3)
    first = init.orthogonal_(mg.zeros(4, 6)).data
    mg.manual_seed(3)
    np.testing.assert_array_equal(first, init.orthogonal_(mg.zeros(4, 6)).data)


def test_orthogonal_checks_its_weight():
    for shape in [(4,), (), (0,)]:
        with pytest.raises(
            ValueError, match=r"orthogonal_: needs a weight of at least 2 dimensions, got shape"
        ):
            init.orthogonal_(mg.zeros(*shape))
    for shape in [(0, 3), (3, 0)]:
        with pytest.warns(UserWarning, match="orthogonal_: initializing zero-element tensors is a no-op"):
            assert init.orthogonal_(mg.zeros(*shape)).shape == shape


# ---- eye_ ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)])
def test_eye_fills_the_identity(shape, dtype):
    weight = mg.tensor(np.full(shape, 5.0, dtype=dtype))
    assert init.eye_(weight) is weight
    assert weight.dtype == dtype
    np.testing.assert_array_equal(weight.data, np.eye(*shape))


def test_eye_makes_a_linear_layer_pass_its_inputs_through():
    layer = nn.Linear(3, 5)
    init.eye_(layer.weight)
    init.zeros_(layer.bias)
    x = mg.randn(4, 3)
    np.testing.assert_array_equal(layer(x).data, np.concatenate([x.data, np.zeros((4, 2))], axis=1))


def test_eye_needs_a_2d_tensor():
    for shape in [(3,), (2, 2, 2)]:
        with pytest.raises(ValueError, match=r"eye_: the identity needs a 2-D tensor .* got shape"):
            init.eye_(mg.zeros(*shape))


# ---- zero-element tensors -----------------------------------------------------------------


def test_elementwise_fillers_leave_zero_element_tensors_quietly():
    """Like uniform_ and normal_ (and PyTorch), nothing to fill is no reason to warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert init.trunc_normal_(mg.zeros(0, 3)).shape == (0, 3)
        assert init.trunc_normal_(mg.zeros(0), a=1.0, b=1.5).shape == (0,)
        assert init.eye_(mg.zeros(0, 3)).shape == (0, 3)
