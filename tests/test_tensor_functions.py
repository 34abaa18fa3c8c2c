"""Tensor functions PyTorch users reach for: triangles, diagonals, roll, products, grids, tests.

Values against numpy, gradients against finite differences. Covers the functions of
minigrad/arrange.py, composite.py, ops.py, creation.py and engine.py that mirror
PyTorch's tril, triu, diag, diagonal, roll, flatten, unflatten, meshgrid, outer, bmm,
rsqrt, amax, amin, masked_fill, isclose, any, all, count_nonzero, numel, from_numpy,
randperm and inference_mode. PyTorch's behaviour, where numpy's differs, was checked
by hand against PyTorch 2.13.
"""

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array, shapes_and_axes
from hypothesis import given, settings

import minigrad as mg
from minigrad import ops
from minigrad.arrange import diag, diagonal, flatten, meshgrid, roll, tril, triu, unflatten
from minigrad.composite import amin, bmm, clamp, clip, masked_fill, outer, rsqrt
from minigrad.creation import from_numpy, numel, randperm
from minigrad.engine import inference_mode

# ---- triangles and diagonals ------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2), (2, 3, 4), (1, 1)])
@pytest.mark.parametrize("offset", [-5, -1, 0, 1, 2, 5])
def test_tril_and_triu_match_numpy_and_their_gradients_reach_the_kept_values(shape, offset):
    x = random_array(*shape)
    np.testing.assert_array_equal(tril(x, offset).data, np.tril(x, offset))
    np.testing.assert_array_equal(triu(x, offset).data, np.triu(x, offset))
    assert_gradcheck(lambda t: tril(t, offset), x)
    assert_gradcheck(lambda t: triu(t, offset), x)


def test_triangles_of_masks_and_float32():
    mask = tril(np.ones((3, 3), dtype=bool))
    assert mask.dtype == np.bool_
    np.testing.assert_array_equal(mask.data, np.tri(3, dtype=bool))
    x = mg.tensor(np.ones((2, 2), np.float32), requires_grad=True)
    upper = x.triu(1)
    assert upper.dtype == np.float32
    upper.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 1.0], [0.0, 0.0]])
    np.testing.assert_array_equal(x.tril(-1).data, [[0.0, 0.0], [1.0, 0.0]])


@pytest.mark.parametrize("function", [tril, triu])
def test_triangles_need_a_matrix(function):
    with pytest.raises(ValueError, match=rf"{function.__name__}: needs a matrix .* shape \(3,\)"):
        function(np.zeros(3))
    with pytest.raises(TypeError, match="diagonal must be an int"):
        function(np.zeros((2, 2)), 0.5)


@pytest.mark.parametrize("length", [1, 3])
@pytest.mark.parametrize("offset", [-2, 0, 1, 3])
def test_diag_of_a_vector_is_a_matrix_as_numpy(length, offset):
    v = random_array(length)
    np.testing.assert_array_equal(diag(v, offset).data, np.diag(v, offset))
    assert_gradcheck(lambda t: diag(t, offset), v)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)])
@pytest.mark.parametrize("offset", [-4, -1, 0, 2, 4])
def test_diag_of_a_matrix_is_its_diagonal_as_numpy(shape, offset):
    x = random_array(*shape)
    np.testing.assert_array_equal(diag(x, offset).data, np.diag(x, offset))  # empty past the edge
    assert_gradcheck(lambda t: diag(t, offset), x)


def test_diag_takes_one_or_two_dimensions():
    with pytest.raises(ValueError, match=r"diag: takes a vector .* shape \(2, 2, 2\); .* diagonal\("):
        diag(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"shape \(\)"):
        diag(np.zeros(()))
    v = mg.tensor(np.ones(2, np.float32))
    assert v.diag().dtype == np.float32 and v.diag().shape == (2, 2)


@pytest.mark.parametrize(
    ("shape", "offset", "axis1", "axis2"),
    [
        ((3, 4), 0, 0, 1),
        ((3, 4), 1, 1, 0),
        ((2, 3, 4), -1, 0, 2),
        ((2, 3, 4, 5), 2, -1, 1),
        ((2, 2), 3, 0, 1),
    ],
)
def test_diagonal_matches_numpy(shape, offset, axis1, axis2):
    x = random_array(*shape)
    out = diagonal(x, offset, axis1, axis2)
    np.testing.assert_array_equal(out.data, np.diagonal(x, offset, axis1, axis2))
    assert_gradcheck(lambda t: t.diagonal(offset, axis1, axis2), x)


def test_diagonal_needs_two_different_axes():
    with pytest.raises(ValueError, match=r"diagonal: axis1=1 and axis2=-1 are the same axis .* \(2, 3\)"):
        diagonal(np.zeros((2, 3)), 0, 1, -1)


# ---- roll, flatten, unflatten, meshgrid -------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "shifts", "axis"),
    [
        ((5,), 2, 0),
        ((5,), -7, None),
        ((2, 3), 4, None),
        ((2, 3), (1, 2), (0, 1)),
        ((2, 3, 4), (-1, 5, 2), (2, 0, 2)),  # axis 2 twice: rolled by the sum
        ((3, 4), 4, -1),  # a whole turn
        ((0, 3), 1, 0),
        ((), 3, None),
    ],
)
def test_roll_matches_numpy(shape, shifts, axis):
    x = random_array(*shape)
    out = roll(x, shifts, axis)
    np.testing.assert_array_equal(out.data, np.roll(x, shifts, axis))
    if x.size:
        assert_gradcheck(
            lambda t: t.roll(shifts, axis) * mg.tensor(np.arange(1.0, x.size + 1).reshape(shape)), x
        )


def test_roll_errors():
    with pytest.raises(TypeError, match=r"roll: with axis=None .* got \(1, 2\)"):
        roll(np.zeros((2, 3)), (1, 2))
    with pytest.raises(ValueError, match=r"roll: 2 shifts \(1, 2\) and 1 axes 0 must pair up"):
        roll(np.zeros((2, 3)), (1, 2), 0)
    with pytest.raises(ValueError, match="roll: axis 2 is out of range"):
        roll(np.zeros((2, 3)), 1, 2)


def test_flatten_and_unflatten_undo_each_other():
    x = random_array(2, 3, 4)
    flat = flatten(x, 1)
    assert flat.shape == (2, 12)
    assert flatten(x).shape == (24,) and flatten(np.float64(1.0)).shape == (1,)
    assert unflatten(flat, 1, (3, 4)).shape == (2, 3, 4)
    assert unflatten(flat, -1, (2, -1, 3)).shape == (2, 2, 2, 3)
    assert mg.tensor(x).flatten(0, 1).unflatten(0, [2, 3]).shape == (2, 3, 4)
    np.testing.assert_array_equal(unflatten(flat, 1, (3, 4)).data, x)
    assert_gradcheck(
        lambda t: unflatten(t, 1, (2, -1)) * mg.tensor(np.arange(24.0).reshape(2, 2, 6)), flat.data
    )


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ((4, -1), r"unflatten: sizes \(4, -1\) do not multiply to the length 6 of axis 1 .* \(2, 6\)"),
        ((), "unflatten: sizes must be a non-empty tuple"),
        ((-1, -1), "one of them -1 at most"),
        ((2, 2.5), "non-negative ints"),
    ],
)
def test_unflatten_errors(sizes, message):
    with pytest.raises(ValueError, match=message):
        unflatten(np.zeros((2, 6)), 1, sizes)


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_numpy(indexing):
    lines = [random_array(3), random_array(2, seed=1), random_array(4, seed=2)]
    grids = meshgrid(*lines, indexing=indexing)
    for grid, expected in zip(grids, np.meshgrid(*lines, indexing=indexing)):
        np.testing.assert_array_equal(grid.data, expected)
    weights = [mg.tensor(random_array(*grids[0].shape, seed=seed)) for seed in range(3)]
    assert_gradcheck(
        lambda *tensors: sum(
            grid * weight for grid, weight in zip(meshgrid(*tensors, indexing=indexing), weights)
        ),
        *lines,
    )


def test_meshgrid_defaults_to_ij_and_takes_a_list_and_0d_tensors():
    rows, columns = meshgrid([np.arange(3), np.float64(5.0)])
    assert rows.shape == columns.shape == (3, 1)
    np.testing.assert_array_equal(columns.data, [[5.0], [5.0], [5.0]])
    with pytest.raises(ValueError, match=r"meshgrid: takes 0-d or 1-D tensors, got one of shape \(2, 2\)"):
        meshgrid(np.zeros((2, 2)))
    with pytest.raises(ValueError, match='indexing must be "ij" or "xy"'):
        meshgrid(np.zeros(2), indexing="yx")
    with pytest.raises(ValueError, match="at least one tensor"):
        meshgrid()


# ---- products and elementwise functions -------------------------------------------------


def test_outer_matches_numpy():
    a, b = random_array(3), random_array(4, seed=1)
    np.testing.assert_allclose(outer(a, b).data, np.outer(a, b))
    assert_gradcheck(outer, a, b)
    assert_gradcheck(lambda u, v: u.outer(v), a, b)
    with pytest.raises(ValueError, match=r"outer: takes two vectors \(1-D\), but a has shape \(2, 2\)"):
        outer(np.zeros((2, 2)), np.zeros(2))


def test_bmm_matches_numpy_and_is_3d_only():
    a, b = random_array(2, 3, 4), random_array(2, 4, 5, seed=1)
    np.testing.assert_allclose(bmm(a, b).data, a @ b)
    assert_gradcheck(bmm, a, b)
    with pytest.raises(ValueError, match=r"bmm: takes two 3-D tensors .* \(3, 4\) and \(4, 5\)"):
        bmm(np.zeros((3, 4)), np.zeros((4, 5)))
    with pytest.raises(
        ValueError, match=r"bmm: shapes \(2, 3, 4\) and \(1, 4, 5\) do not fit: .* \(2, 4, p\)"
    ):
        bmm(a, np.zeros((1, 4, 5)))  # no broadcasting, as in PyTorch


def test_rsqrt():
    x = random_array(3, 4, positive=True)
    np.testing.assert_allclose(rsqrt(x).data, 1 / np.sqrt(x))
    assert_gradcheck(rsqrt, x)
    assert mg.tensor(np.ones(2, np.float32)).rsqrt().dtype == np.float32
    assert rsqrt(np.array([4])).dtype == np.float32  # integers give the default float dtype
    with np.errstate(divide="ignore"):
        assert rsqrt(np.array([0.0])).item() == np.inf


@settings(deadline=None, max_examples=30)
@given(shapes_and_axes())
def test_amax_and_amin_match_numpy(shape_and_axis):
    shape, axis = shape_and_axis
    x = random_array(*shape)
    np.testing.assert_array_equal(ops.amax(x, axis).data, np.max(x, axis))
    np.testing.assert_array_equal(amin(x, axis, keepdims=True).data, np.min(x, axis, keepdims=True))
    assert_gradcheck(lambda t: t.amax(axis), x)
    assert_gradcheck(lambda t: t.amin(axis), x)


def test_amax_and_amin_split_the_gradient_evenly_between_ties():
    x = mg.tensor([[2.0, 5.0, 5.0], [1.0, 1.0, 1.0]], requires_grad=True)
    x.amax(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    y = mg.tensor([3.0, 1.0, 1.0], requires_grad=True)
    y.amin().backward()
    np.testing.assert_allclose(y.grad.data, [0.0, 0.5, 0.5])


def test_module_level_functions_are_the_tensor_methods():
    x = mg.tensor([[1.0, -2.0], [3.0, 0.0]], requires_grad=True)
    mask = np.array([[True, False], [False, True]])
    np.testing.assert_array_equal(masked_fill(x, mask, 9.0).data, x.masked_fill(mask, 9.0).data)
    filled = masked_fill(x, mask, 9.0)
    filled.sum().backward()
    np.testing.assert_array_equal(x.grad.data, ~mask)
    assert clamp is clip
    np.testing.assert_array_equal(clamp(x, -1, 1).data, x.clamp(-1, 1).data)
    assert ops.any(x > 2).item() and not ops.all(x > 0).item()
    np.testing.assert_array_equal(ops.all(x > -3, axis=1).data, [True, True])
    np.testing.assert_array_equal(ops.any(x.data > 2, axis=0, keepdims=True).data, [[True, False]])


def test_never_recorded_results_require_no_grad():
    x = mg.tensor([[0.0, 1.0], [2.0, 0.0]], requires_grad=True)
    for result in (ops.isclose(x, 1.0), ops.count_nonzero(x), x.count_nonzero(0), ops.any(x), ops.all(x)):
        assert not result.requires_grad and result.op is None


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
def test_count_nonzero_matches_numpy(axis):
    x = np.random.default_rng(0).integers(-1, 2, (3, 4, 5))
    out = ops.count_nonzero(x, axis)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.data, np.count_nonzero(x, axis=axis))


@pytest.mark.parametrize("equal_nan", [False, True])
def test_isclose_matches_numpy(equal_nan):
    a = np.array([1.0, 1.0, np.nan, np.inf, -np.inf, 0.0, 1e-9])
    b = np.array([1.0 + 1e-6, 1.1, np.nan, np.inf, np.inf, 1e-9, 0.0])
    out = ops.isclose(a, b, equal_nan=equal_nan)
    assert out.dtype == np.bool_
    np.testing.assert_array_equal(out.data, np.isclose(a, b, equal_nan=equal_nan))
    np.testing.assert_array_equal(mg.tensor(a).isclose(b, rtol=0.2).data, np.isclose(a, b, rtol=0.2))
    with pytest.raises(ValueError, match=r"isclose: shapes \(2,\) and \(3,\) do not broadcast"):
        ops.isclose(np.zeros(2), np.zeros(3))


# ---- making tensors, and inference_mode -------------------------------------------------


def test_numel_and_from_numpy_sharing_memory():
    array = np.zeros((2, 3), np.float32)
    shared = from_numpy(array)
    assert shared.dtype == np.float32 and numel(shared) == 6 and numel(np.zeros((4, 0))) == 0
    array[0, 0] = 5.0
    assert shared.data[0, 0] == 5.0
    shared.data[1, 1] = 7.0
    assert array[1, 1] == 7.0
    with pytest.raises(TypeError, match="from_numpy: expected an np.ndarray, got list"):
        from_numpy([1.0, 2.0])
    with pytest.raises(TypeError, match="complex"):
        from_numpy(np.zeros(2, complex))


def test_randperm_is_a_permutation_reproducible_by_manual_seed():
    mg.manual_seed(3)
    first = randperm(10)
    mg.manual_seed(3)
    second = randperm(10)
    assert first.dtype == np.int64
    np.testing.assert_array_equal(first.data, second.data)
    np.testing.assert_array_equal(np.sort(first.data), np.arange(10))
    assert randperm(4, dtype=np.float32).dtype == np.float32 and randperm(0).shape == (0,)
    with pytest.raises(ValueError, match="randperm: n must be a non-negative int, got -1"):
        randperm(-1)
    with pytest.raises(TypeError, match="randperm: the dtype must be an integer or float dtype"):
        randperm(3, dtype=bool)


def test_inference_mode_is_no_grad_as_context_and_decorator():
    x = mg.tensor([1.0], requires_grad=True)
    with inference_mode():
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad

    @inference_mode
    def without_parentheses():
        return x * 2

    @inference_mode()
    def with_parentheses():
        return x * 2

    assert not without_parentheses().requires_grad and not with_parentheses().requires_grad
    with mg.no_grad(), inference_mode(mode=False):  # False records again, as in PyTorch
        assert (x * 2).requires_grad
    assert mg.is_grad_enabled()
