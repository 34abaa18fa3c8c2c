"""normalize, cosine_similarity, pairwise_distance and their modules (minigrad/nn/functional/distance.py)."""

import math

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.nn.functional.distance import cosine_similarity, normalize, pairwise_distance
from minigrad.nn.distance import CosineSimilarity, PairwiseDistance

P_VALUES = [1.0, 2.0, 3.0, 1.5, 0.5, math.inf]


def norm_reference(x: np.ndarray, p: float, axis, keepdims: bool = False) -> np.ndarray:
    """The p-norm over ``axis``, written out with numpy."""
    if p == math.inf:
        return np.abs(x).max(axis=axis, keepdims=keepdims)
    return (np.abs(x) ** p).sum(axis=axis, keepdims=keepdims) ** (1 / p)


def unit_reference(x: np.ndarray, axis: int, eps: float) -> np.ndarray:
    return x / np.maximum(norm_reference(x, 2, axis, keepdims=True), eps)


def labels_of_ops(result: mg.Tensor) -> tuple[str, ...]:
    return tuple(scope.label for scope in result.op.scope)


# ---- normalize ----------------------------------------------------------------------------


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize(("shape", "axis"), [((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((2, 3, 4), (0, 2))])
def test_normalize_values(p, shape, axis):
    x = random_array(*shape)
    expected = x / np.maximum(norm_reference(x, p, axis, keepdims=True), 1e-12)
    np.testing.assert_allclose(normalize(mg.tensor(x), p, axis).data, expected, rtol=1e-13)


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize(("shape", "axis"), [((3, 4), 1), ((4,), 0), ((2, 3, 2), -1), ((2, 3, 2), (0, 2))])
def test_normalize_gradcheck(p, shape, axis):
    assert_gradcheck(lambda x: normalize(x, p, axis), random_array(*shape))


@settings(max_examples=20, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
    data=st.data(),
)
def test_normalize_gradcheck_any_shape_and_axis(shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    assert_gradcheck(lambda x: normalize(x, axis=axis), random_array(*shape, seed=len(shape)))


def test_normalized_vectors_have_norm_1():
    x = random_array(5, 3)
    for p in P_VALUES:
        np.testing.assert_allclose(norm_reference(normalize(mg.tensor(x), p).data, p, 1), 1.0, rtol=1e-13)


def test_normalize_divides_short_vectors_by_eps_as_pytorch():
    # x / max(||x||, eps): below eps the divisor is the constant eps, so the gradient is grad / eps
    x = mg.tensor(np.array([[0.0, 0.0], [1e-13, 0.0], [3.0, 4.0]]), requires_grad=True)
    weight = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]])
    result = normalize(x)
    (result * weight).sum().backward()
    np.testing.assert_allclose(result.data, [[0.0, 0.0], [0.1, 0.0], [0.6, 0.8]], rtol=1e-14)
    np.testing.assert_allclose(x.grad.data[:2], weight[:2] / 1e-12, rtol=1e-14)


def test_normalize_gradient_is_finite_at_zero_values_for_p_below_1():
    # |x|**0.5 has an infinite slope at 0; PyTorch takes it as 0, so the 0 is just divided by the norm
    x = mg.tensor(np.array([[0.0, 1.0, 4.0]]), requires_grad=True)
    normalize(x, p=0.5).sum().backward()
    n = (1.0 + 2.0) ** 2
    slope_of_norm = np.array([0.0, 1.0, 0.5]) * math.sqrt(n)  # |x_i|**(p - 1) * n**(1 - p), p = 1/2
    expected = 1 / n - np.array([0.0, 1.0, 4.0]).sum() / n**2 * slope_of_norm
    np.testing.assert_allclose(x.grad.data[0], expected, rtol=1e-14)


def test_normalize_infinity_norm_shares_the_gradient_between_tied_largest_values():
    x = mg.tensor(np.array([[1.0, -2.0, 2.0]]), requires_grad=True)
    (normalize(x, p=math.inf) * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[0.5, 1.375, 1.125]], rtol=1e-14)  # PyTorch 2.13.0's


# ---- cosine_similarity ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "axis"), [((4, 5), 1), ((4, 5), 0), ((2, 3, 4), -1), ((2, 3, 4), 1), ((6,), 0)]
)
def test_cosine_similarity_values(shape, axis):
    x1, x2 = random_array(*shape, seed=1), random_array(*shape, seed=2)
    expected = (x1 * x2).sum(axis) / (norm_reference(x1, 2, axis) * norm_reference(x2, 2, axis))
    result = cosine_similarity(mg.tensor(x1), mg.tensor(x2), axis)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result.data, expected, rtol=1e-13)


@pytest.mark.parametrize(("shape", "axis"), [((4, 5), 1), ((4, 5), 0), ((2, 3, 4), -1), ((3,), 0)])
def test_cosine_similarity_gradcheck(shape, axis):
    x1, x2 = random_array(*shape, seed=1), random_array(*shape, seed=2)
    assert_gradcheck(lambda a, b: cosine_similarity(a, b, axis), x1, x2)


def test_cosine_similarity_broadcasts_before_choosing_the_axis():
    # a (5,) vector against (4, 5) rows: axis 1 is an axis of the broadcast shape, as in PyTorch
    x1, x2 = random_array(5, seed=1), random_array(4, 5, seed=2)
    result = cosine_similarity(mg.tensor(x1), mg.tensor(x2))
    np.testing.assert_allclose(
        result.data, (unit_reference(x1, 0, 1e-8) * unit_reference(x2, 1, 1e-8)).sum(1)
    )
    assert_gradcheck(cosine_similarity, x1, x2)


def test_cosine_similarity_clamps_each_norm_separately():
    # Each norm is at least eps, as in PyTorch: a short vector's similarity is scaled down by ||x|| / eps
    x1, x2 = np.array([[0.3, 0.4]]), np.array([[3.0, 4.0]])
    result = cosine_similarity(mg.tensor(x1), mg.tensor(x2), eps=1.0)
    np.testing.assert_allclose(result.data, [0.5], rtol=1e-15)
    assert_gradcheck(lambda a, b: cosine_similarity(a, b, eps=1.0), x1, x2)


def test_cosine_similarity_with_a_zero_vector_is_0_with_finite_gradient():
    x1 = mg.tensor(np.zeros((1, 3)), requires_grad=True)
    x2 = mg.tensor(np.array([[1.0, 2.0, 2.0]]), requires_grad=True)
    result = cosine_similarity(x1, x2)
    result.sum().backward()
    assert result.data.tolist() == [0.0]
    np.testing.assert_allclose(x1.grad.data, [[1 / 3 / 1e-8, 2 / 3 / 1e-8, 2 / 3 / 1e-8]], rtol=1e-14)
    np.testing.assert_array_equal(x2.grad.data, [[0.0, 0.0, 0.0]])


def test_cosine_similarity_of_parallel_and_opposite_vectors_is_plus_or_minus_1():
    x = random_array(50, 7, seed=3)
    np.testing.assert_allclose(cosine_similarity(mg.tensor(x), x * 3.7).data, 1.0, rtol=1e-15)
    np.testing.assert_allclose(cosine_similarity(x, -x).data, -1.0, rtol=1e-15)


# ---- pairwise_distance ----------------------------------------------------------------------


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("p", P_VALUES)
def test_pairwise_distance_values(p, keepdim):
    x1, x2 = random_array(4, 3, seed=1), random_array(4, 3, seed=2)
    expected = norm_reference(x1 - x2 + 1e-6, p, -1, keepdims=keepdim)
    result = pairwise_distance(mg.tensor(x1), mg.tensor(x2), p, keepdim=keepdim)
    assert result.shape == ((4, 1) if keepdim else (4,))
    np.testing.assert_allclose(result.data, expected, rtol=1e-13)


@pytest.mark.parametrize("p", P_VALUES)
@pytest.mark.parametrize(
    ("shape1", "shape2"), [((4, 3), (4, 3)), ((3,), (4, 3)), ((2, 3, 4), (4,)), ((5,), (5,))]
)
def test_pairwise_distance_gradcheck(p, shape1, shape2):
    x1, x2 = random_array(*shape1, seed=1), random_array(*shape2, seed=2)
    assert_gradcheck(lambda a, b: pairwise_distance(a, b, p), x1, x2)


def test_pairwise_distance_adds_eps_to_each_difference():
    # The distance of a vector to itself is ||(eps, ..., eps)||_p = eps * n ** (1/p), as in PyTorch
    x = random_array(2, 4)
    np.testing.assert_allclose(pairwise_distance(mg.tensor(x), mg.tensor(x)).data, [2e-6, 2e-6], rtol=1e-10)
    np.testing.assert_allclose(pairwise_distance(x, x, p=1.0, eps=0.5).data, [2.0, 2.0], rtol=1e-15)


def test_pairwise_distance_broadcasts_one_vector_against_a_batch():
    x1, x2 = random_array(3, seed=1), random_array(5, 3, seed=2)
    result = pairwise_distance(mg.tensor(x1), mg.tensor(x2), keepdim=True)
    assert result.shape == (5, 1)
    np.testing.assert_allclose(result.data, norm_reference(x1 - x2 + 1e-6, 2, 1, keepdims=True), rtol=1e-13)


def test_pairwise_distance_gradient_is_0_where_the_difference_vanishes():
    # x1 - x2 + eps = 0 exactly: the norm's slope there is 0, as in PyTorch, not nan
    x1 = mg.tensor(np.zeros((2, 3)), requires_grad=True)
    for p in P_VALUES:
        x1.grad = None
        pairwise_distance(x1, np.full((2, 3), 1e-6), p).sum().backward()
        np.testing.assert_array_equal(x1.grad.data, np.zeros((2, 3)))


# ---- dtypes, drawings, errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    "function",
    [
        lambda a, b: normalize(a),
        lambda a, b: normalize(a, p=3.0),
        cosine_similarity,
        pairwise_distance,
        lambda a, b: pairwise_distance(a, b, p=0.5),
    ],
    ids=["normalize", "normalize-p3", "cosine_similarity", "pairwise_distance", "pairwise_distance-p0.5"],
)
def test_float32_stays_float32(function):
    x1 = mg.tensor(random_array(3, 4, seed=1).astype(np.float32), requires_grad=True)
    x2 = mg.tensor(random_array(3, 4, seed=2).astype(np.float32), requires_grad=True)
    result = function(x1, x2)
    result.sum().backward()
    assert result.dtype == x1.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("function", "label"),
    [
        (lambda a, b: normalize(a), "normalize"),
        (cosine_similarity, "cosine_similarity"),
        (pairwise_distance, "pairwise_distance"),
    ],
)
def test_drawn_as_one_box(function, label):
    x1, x2 = mg.tensor(random_array(2, 3), requires_grad=True), mg.tensor(random_array(2, 3, seed=1))
    assert labels_of_ops(function(x1, x2))[0] == label


@pytest.mark.parametrize("p", [0, -1.0, math.nan, "2", True])
@pytest.mark.parametrize(
    ("function", "name"),
    [
        (lambda x, p: normalize(x, p), "normalize"),
        (lambda x, p: pairwise_distance(x, x, p), "pairwise_distance"),
        (lambda x, p: PairwiseDistance(p), "PairwiseDistance"),
    ],
)
def test_p_must_be_positive(function, name, p):
    with pytest.raises(ValueError, match=f"{name}: p must be a positive number or math.inf, got"):
        function(mg.tensor(random_array(2, 3)), p)


def test_errors_name_the_function_and_the_shapes():
    x = mg.tensor(random_array(2, 3))
    with pytest.raises(ValueError, match=r"cosine_similarity: shapes \(2, 3\) and \(4,\) do not broadcast"):
        cosine_similarity(x, random_array(4))
    with pytest.raises(ValueError, match=r"pairwise_distance: shapes \(2, 3\) and \(2,\) do not broadcast"):
        pairwise_distance(x, random_array(2))
    with pytest.raises(ValueError, match="cosine_similarity: axis 2 is out of range for a tensor with 2"):
        cosine_similarity(x, x, axis=2)
    with pytest.raises(TypeError, match=r"cosine_similarity: axis must be an int, got \(0, 1\)"):
        cosine_similarity(x, x, axis=(0, 1))
    with pytest.raises(ValueError, match="normalize: axis 1 is out of range for a tensor with 1 dimensions"):
        normalize(random_array(3))  # axis=1 by default, as in PyTorch: a single vector needs axis=0
    with pytest.raises(ValueError, match=r"pairwise_distance: expected vectors .* reshape them to \(1,\)"):
        pairwise_distance(1.0, 2.0)


# ---- modules --------------------------------------------------------------------------------


def test_modules_compute_the_functions():
    x1, x2 = mg.tensor(random_array(3, 4, seed=1)), mg.tensor(random_array(3, 4, seed=2))
    np.testing.assert_array_equal(
        CosineSimilarity(0, 0.5)(x1, x2).data, cosine_similarity(x1, x2, 0, 0.5).data
    )
    np.testing.assert_array_equal(
        PairwiseDistance(1.0, 0.1, keepdim=True)(x1, x2).data, pairwise_distance(x1, x2, 1.0, 0.1, True).data
    )


def test_module_reprs():
    # PyTorch 2.13.0 prints CosineSimilarity() and PairwiseDistance() whatever the options;
    # minigrad matches that at the defaults and shows the options that differ from them.
    assert repr(CosineSimilarity()) == "CosineSimilarity()"
    assert repr(CosineSimilarity(axis=0, eps=1e-3)) == "CosineSimilarity(axis=0, eps=0.001)"
    assert repr(PairwiseDistance()) == "PairwiseDistance()"
    assert repr(PairwiseDistance(p=1.0, keepdim=True)) == "PairwiseDistance(p=1.0, keepdim=True)"
    assert repr(PairwiseDistance(eps=0.0)) == "PairwiseDistance(eps=0.0)"


def test_cosine_similarity_module_checks_its_axis():
    with pytest.raises(TypeError, match="CosineSimilarity: axis must be an int, got 1.0"):
        CosineSimilarity(axis=1.0)
