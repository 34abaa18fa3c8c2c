"""Sorting and tiling: values against plain Python and numpy, gradients against finite differences.

Covers minigrad/arrange.py. The expected orders with nan and ties are PyTorch 2.13's,
checked by hand.
"""

import math

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array, shapes
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg


def reference_order(line, descending):
    """The order of a 1-D array's values by Python's stable sort, nan as the largest value."""

    def key(position):
        value = line[position]
        is_nan = isinstance(value, float) and math.isnan(value)
        return (is_nan, 0.0 if is_nan else value)

    return sorted(range(len(line)), key=key, reverse=descending)  # reverse keeps ties in order


def reference_sort_indices(x, axis, descending):
    """:func:`reference_order` along ``axis`` of an array with at least one axis."""
    moved = np.moveaxis(x, axis, -1)
    indices = np.zeros(moved.shape, dtype=np.int64)
    for position in np.ndindex(*moved.shape[:-1]):
        indices[position] = reference_order(moved[position].tolist(), descending)
    return np.moveaxis(indices, -1, axis)


@st.composite
def arrays_with_ties_and_nan(draw):
    """A float64 array of 1 to 3 axes whose values repeat, with some nan, inf, -inf and -0.0."""
    shape = draw(st.lists(st.integers(0, 4), min_size=1, max_size=3).map(tuple))
    values = st.sampled_from([0.0, -0.0, 1.0, 2.0, -1.5, np.inf, -np.inf, np.nan])
    count = math.prod(shape)
    return np.array(draw(st.lists(values, min_size=count, max_size=count))).reshape(shape)


def an_axis(ndim):
    return st.integers(-ndim, ndim - 1)


def weighted(values):
    """The values times fixed weights, so that a gradient check sees each position apart."""
    return values * mg.tensor(np.arange(1.0, values.size + 1).reshape(values.shape))


# ---- sort and argsort -----------------------------------------------------------------------


@settings(deadline=None, max_examples=60)
@given(arrays_with_ties_and_nan(), st.data(), st.booleans())
def test_sort_is_a_stable_sort_with_nan_as_the_largest_value(x, data, descending):
    axis = data.draw(an_axis(x.ndim))
    values, indices = mg.sort(mg.tensor(x), axis, descending)
    expected = reference_sort_indices(x, axis, descending)
    np.testing.assert_array_equal(indices.data, expected)
    np.testing.assert_array_equal(values.data, np.take_along_axis(x, expected, axis))
    np.testing.assert_array_equal(np.signbit(values.data), np.signbit(np.take_along_axis(x, expected, axis)))
    np.testing.assert_array_equal(mg.argsort(mg.tensor(x), axis, descending).data, expected)
    assert indices.dtype == np.int64 and values.dtype == np.float64


# (values, ascending order, descending order): PyTorch 2.13's, with stable=True and without
SORT_CASES = {
    "nan and infinities": (
        [1.0, np.nan, 2.0, np.inf, -np.inf, np.nan, 2.0],
        [4, 0, 2, 6, 3, 1, 5],
        [1, 5, 3, 2, 6, 0, 4],
    ),
    "zeros of both signs are equal": ([0.0, -0.0, 0.0, -0.0], [0, 1, 2, 3], [0, 1, 2, 3]),
    "ties": ([2.0, 1.0, 2.0, 1.0, 2.0], [1, 3, 0, 2, 4], [0, 2, 4, 1, 3]),
}


@pytest.mark.parametrize("name", SORT_CASES)
def test_sort_orders_as_pytorch_does(name):
    x, ascending, descending = SORT_CASES[name]
    t = mg.tensor(np.array(x))
    assert t.sort().indices.data.tolist() == ascending
    assert t.sort(descending=True).indices.data.tolist() == descending
    assert t.sort(descending=True, stable=True).indices.data.tolist() == descending
    assert t.argsort(descending=True).data.tolist() == descending


@pytest.mark.parametrize(
    "x",
    [
        np.array([3, -1, 2, -1]),
        np.array([3, 0, 255, 1], dtype=np.uint8),  # negating would wrap around
        np.array([True, False, True, False]),
    ],
    ids=["int64", "uint8", "bool"],
)
def test_sort_keeps_integer_and_bool_dtypes(x):
    for descending in (False, True):
        values, indices = mg.sort(x, descending=descending)
        assert values.dtype == x.dtype
        order = reference_order(x.tolist(), descending)
        assert indices.data.tolist() == order
        np.testing.assert_array_equal(values.data, x[order])


def test_sort_and_topk_return_values_and_indices_by_name_and_by_position():
    x = mg.tensor([3.0, 1.0, 2.0], requires_grad=True)
    result = x.sort()
    values, indices = result
    assert result.values is values and result.indices is indices
    assert values.data.tolist() == [1.0, 2.0, 3.0] and indices.data.tolist() == [1, 2, 0]
    assert values.requires_grad and not indices.requires_grad and indices.op is None
    top = x.topk(2)
    assert top.values.data.tolist() == [3.0, 2.0] and top.indices.data.tolist() == [0, 2]


@settings(deadline=None, max_examples=30)
@given(shapes.filter(len), st.data(), st.booleans())
def test_sort_gradcheck(shape, data, descending):
    axis = data.draw(an_axis(len(shape)))
    assert_gradcheck(lambda t: weighted(mg.sort(t, axis, descending).values), random_array(*shape))


def test_each_sorted_value_sends_its_gradient_back_to_where_it_came_from_even_with_ties():
    x = mg.tensor(np.array([[2.0, 1.0, 2.0], [np.nan, 0.0, np.nan]]), requires_grad=True)
    values, indices = x.sort(axis=1, descending=True)
    upstream = np.array([[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]])
    values.backward(mg.tensor(upstream))
    np.testing.assert_array_equal(np.take_along_axis(x.grad.data, indices.data, 1), upstream)
    np.testing.assert_array_equal(x.grad.data, [[10.0, 30.0, 20.0], [40.0, 60.0, 50.0]])


def test_sort_second_derivatives():
    assert_gradcheck(lambda t: weighted(t.sort(0).values) ** 2, random_array(3, 2), second_order=True)


def test_sort_of_a_0d_tensor_is_the_value_at_index_0():
    x = mg.tensor(2.5, requires_grad=True)
    for axis in (0, -1):
        values, indices = x.sort(axis)
        assert values.shape == () and values.item() == 2.5
        assert indices.shape == () and indices.item() == 0
        assert x.argsort(axis).shape == ()
    x.sort().values.backward()
    assert x.grad.item() == 1.0


@pytest.mark.parametrize(("shape", "axis"), [((0,), 0), ((2, 0), 1), ((2, 0), 0), ((0, 3), -1)])
def test_sort_of_an_empty_tensor_is_empty(shape, axis):
    x = mg.tensor(np.zeros(shape), requires_grad=True)
    values, indices = x.sort(axis, descending=True)
    assert values.shape == indices.shape == shape and indices.dtype == np.int64
    values.sum().backward()
    assert x.grad.shape == shape


def test_sort_values_are_recorded_in_a_sort_scope():
    values = mg.tensor(random_array(3), requires_grad=True).sort().values
    assert [scope.label for scope in values.op.scope] == ["sort", "gather"]


# ---- topk -----------------------------------------------------------------------------------


@settings(deadline=None, max_examples=60)
@given(arrays_with_ties_and_nan(), st.data(), st.booleans(), st.booleans())
def test_topk_is_the_first_k_of_a_sort(x, data, largest, sort_them):
    axis = data.draw(an_axis(x.ndim))
    k = data.draw(st.integers(0, x.shape[axis]))
    values, indices = mg.topk(mg.tensor(x), k, axis, largest, sort_them)
    first_k = np.take(reference_sort_indices(x, axis, descending=largest), np.arange(k), axis)
    np.testing.assert_array_equal(indices.data, first_k)
    np.testing.assert_array_equal(values.data, np.take_along_axis(x, first_k, axis))


def test_topk_puts_nan_first_when_largest_and_last_when_smallest():
    x = mg.tensor(np.array([1.0, np.nan, 2.0, np.inf, -np.inf, np.nan, 2.0]))
    assert x.topk(3).indices.data.tolist() == [1, 5, 3]
    assert x.topk(3, largest=False).indices.data.tolist() == [4, 0, 2]


@settings(deadline=None, max_examples=30)
@given(shapes.filter(len), st.data(), st.booleans())
def test_topk_gradcheck(shape, data, largest):
    axis = data.draw(an_axis(len(shape)))
    k = data.draw(st.integers(0, shape[axis]))
    assert_gradcheck(lambda t: weighted(mg.topk(t, k, axis, largest).values), random_array(*shape))


def test_topk_sends_no_gradient_to_the_values_it_leaves_out():
    x = mg.tensor([0.5, 3.0, -1.0, 2.0], requires_grad=True)
    x.topk(2).values.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.0, 1.0])


def test_topk_of_an_empty_axis_and_of_a_0d_tensor():
    assert mg.topk(np.zeros((2, 0)), 0).values.shape == (2, 0)
    assert mg.topk(np.zeros((2, 0)), 0, axis=0).indices.shape == (0, 0)
    values, indices = mg.tensor(4.0).topk(1)
    assert values.shape == indices.shape == () and values.item() == 4.0 and indices.item() == 0


# ---- tile and repeat -------------------------------------------------------------------------

reps_lists = st.lists(st.integers(0, 3), max_size=4).map(tuple)


@settings(deadline=None, max_examples=60)
@given(shapes, reps_lists)
def test_tile_is_numpys_tile_and_its_gradient_the_sum_over_the_copies(shape, reps):
    x = random_array(*shape)
    np.testing.assert_array_equal(mg.tile(mg.tensor(x), reps).data, np.tile(x, reps))
    assert_gradcheck(lambda t: weighted(t.tile(reps)), x)


def test_tile_of_an_empty_tensor_and_tile_by_0():
    np.testing.assert_array_equal(mg.tile(np.zeros((0, 2)), (3, 2)).data, np.zeros((0, 4)))
    x = mg.tensor(random_array(2, 3), requires_grad=True)
    tiled = x.tile((0, 2))
    assert tiled.shape == (0, 6)
    tiled.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))


def test_tile_takes_an_int_a_tuple_or_ints():
    x = mg.tensor([[1.0, 2.0]])
    assert mg.tile(x, 2).data.tolist() == [[1.0, 2.0, 1.0, 2.0]]
    assert x.tile(2).data.tolist() == [[1.0, 2.0, 1.0, 2.0]]
    np.testing.assert_array_equal(x.tile(3, 1, 2).data, x.tile((3, 1, 2)).data)
    np.testing.assert_array_equal(x.tile([3, 1, 2]).data, np.tile(x.data, (3, 1, 2)))


def test_tile_is_reshape_broadcast_to_reshape_so_its_backward_is_a_sum():
    x = mg.tensor(random_array(2, 3), requires_grad=True)
    tiled = x.tile(2, 2)
    names = [tiled.op.name, tiled.op.inputs[0].op.name, tiled.op.inputs[0].op.inputs[0].op.name]
    assert names == ["reshape", "broadcast_to", "reshape"]
    assert [scope.label for scope in tiled.op.scope] == ["tile"]
    assert_gradcheck(lambda t: weighted(t.tile(2, 1)) ** 2, random_array(2, 3), second_order=True)


@settings(deadline=None, max_examples=40)
@given(shapes, st.data())
def test_repeat_is_tile_with_a_size_for_every_axis(shape, data):
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=len(shape), max_size=len(shape) + 2))
    x = random_array(*shape)
    np.testing.assert_array_equal(mg.tensor(x).repeat(*sizes).data, np.tile(x, sizes))
    np.testing.assert_array_equal(mg.tensor(x).repeat(tuple(sizes)).data, np.tile(x, sizes))
    assert_gradcheck(lambda t: weighted(t.repeat(*sizes)), x)


# ---- repeat_interleave ----------------------------------------------------------------------


@settings(deadline=None, max_examples=60)
@given(shapes, st.data(), st.booleans())
def test_repeat_interleave_is_numpys_repeat(shape, data, one_count):
    x = random_array(*shape)
    axis = data.draw(st.none() | an_axis(len(shape))) if shape else None
    length = x.size if axis is None else shape[axis]
    repeats = (
        data.draw(st.integers(0, 3))
        if one_count
        else np.array(data.draw(st.lists(st.integers(0, 3), min_size=length, max_size=length)), dtype=int)
    )
    np.testing.assert_array_equal(
        mg.repeat_interleave(mg.tensor(x), repeats, axis).data, np.repeat(x, repeats, axis)
    )
    assert_gradcheck(lambda t: weighted(t.repeat_interleave(repeats, axis)), x)


def test_repeat_interleave_puts_the_copies_side_by_side_and_adds_up_their_gradients():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert x.repeat_interleave(2).data.tolist() == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0]
    assert x.repeat_interleave([1, 2], axis=0).data.tolist() == [[1.0, 2.0], [3.0, 4.0], [3.0, 4.0]]
    x.repeat_interleave(mg.tensor([3, 0]), axis=-1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[3.0, 0.0], [3.0, 0.0]])


@pytest.mark.parametrize(
    "repeats", [2, [2], np.array(2), mg.tensor([2])], ids=["int", "list", "0-d", "tensor"]
)
def test_repeat_interleave_takes_one_count_in_any_form(repeats):
    np.testing.assert_array_equal(
        mg.repeat_interleave(mg.tensor([1, 2, 3]), repeats).data, [1, 1, 2, 2, 3, 3]
    )


def test_repeat_interleave_of_empty_and_0d_tensors():
    assert mg.repeat_interleave(np.zeros((2, 0)), [], axis=1).shape == (2, 0)
    assert mg.repeat_interleave(np.zeros((0, 3)), 2, axis=0).shape == (0, 3)
    assert mg.repeat_interleave(mg.tensor(5.0), 3).data.tolist() == [5.0, 5.0, 5.0]


# ---- dtypes and errors ------------------------------------------------------------------------

FLOAT32_OPS = {
    "sort": lambda t: t.sort(axis=0).values,
    "topk": lambda t: t.topk(2).values,
    "tile": lambda t: t.tile(2, 1),
    "repeat": lambda t: t.repeat(1, 1, 2),
    "repeat_interleave": lambda t: t.repeat_interleave(2, axis=1),
}


@pytest.mark.parametrize("name", FLOAT32_OPS)
def test_float32_stays_float32_and_so_does_its_gradient(name):
    x = mg.tensor(random_array(2, 3).astype(np.float32), requires_grad=True)
    out = FLOAT32_OPS[name](x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


ERRORS = {
    "sort a bad axis": (lambda t: t.sort(2), ValueError, "sort: axis 2 is out of range"),
    "sort a tuple of axes": (lambda t: t.sort((0, 1)), TypeError, r"sort: axis must be an int, got \(0, 1\)"),
    "argsort a bad axis": (lambda t: t.argsort(-3), ValueError, "argsort: axis -3 is out of range"),
    "sort a 0-d tensor along axis 1": (lambda t: t[0, 0].sort(1), ValueError, "sort: axis 1 is out of range"),
    "topk k too large": (
        lambda t: t.topk(3),
        ValueError,
        r"topk: k=3 is out of range for axis 1 of length 2 of a tensor of shape \(5, 2\); k must be from 0 to 2",
    ),
    "topk a negative k": (
        lambda t: t.topk(-1, axis=0),
        ValueError,
        "topk: k=-1 is out of range for axis 0 of length 5",
    ),
    "topk k=0 of a 0-d tensor": (
        lambda t: t[0, 0].topk(0),
        ValueError,
        "topk: k=0 is out of range for a 0-d tensor, which has one value; k must be from 1 to 1",
    ),
    "topk a float k": (lambda t: t.topk(1.0), TypeError, "topk: k must be an int, got 1.0"),
    "topk a bool k": (lambda t: t.topk(True), TypeError, "topk: k must be an int, got True"),
    "topk a bad axis": (lambda t: t.topk(1, axis=2), ValueError, "topk: axis 2 is out of range"),
    "tile negative reps": (
        lambda t: t.tile(2, -1),
        ValueError,
        r"tile: the numbers of copies must not be negative, got \(2, -1\)",
    ),
    "tile float reps": (
        lambda t: t.tile(1.5),
        TypeError,
        "tile: the numbers of copies must be ints, got 1.5",
    ),
    "repeat fewer sizes than axes": (
        lambda t: t.repeat(2),
        ValueError,
        r"repeat: a tensor of shape \(5, 2\) has 2 axes, but sizes \(2,\) give copies for 1;.*use tile",
    ),
    "repeat negative sizes": (
        lambda t: t.repeat(1, -2),
        ValueError,
        r"repeat: the numbers of copies must not be negative, got \(1, -2\)",
    ),
    "repeat_interleave negative repeats": (
        lambda t: t.repeat_interleave(-1),
        ValueError,
        "repeat_interleave: repeats must not be negative, got -1",
    ),
    "repeat_interleave repeats of the wrong length": (
        lambda t: t.repeat_interleave([1, 2, 3], axis=1),
        ValueError,
        r"repeat_interleave: repeats of shape \(3,\) do not fit axis 1 of length 2 of a tensor of shape \(5, 2\)",
    ),
    "repeat_interleave repeats for the flattened tensor": (
        lambda t: t.repeat_interleave([1, 2]),
        ValueError,
        r"repeat_interleave: repeats of shape \(2,\) do not fit axis 0 of length 10 of a tensor of shape \(10,\)",
    ),
    "repeat_interleave 2-d repeats": (
        lambda t: t.repeat_interleave([[1, 2]], axis=1),
        ValueError,
        r"repeat_interleave: repeats of shape \(1, 2\) do not fit",
    ),
    "repeat_interleave float repeats": (
        lambda t: t.repeat_interleave(2.0),
        TypeError,
        "repeat_interleave: repeats must be an int or integers, got float64",
    ),
    "repeat_interleave a bad axis": (
        lambda t: t.repeat_interleave(2, 2),
        ValueError,
        "repeat_interleave: axis 2 is out of range",
    ),
    "repeat_interleave a tuple of axes": (
        lambda t: t.repeat_interleave(2, (0,)),
        TypeError,
        "repeat_interleave: axis must be an int or None",
    ),
}


@pytest.mark.parametrize("name", ERRORS)
def test_bad_input_is_an_error_naming_the_op(name):
    call, error, message = ERRORS[name]
    with pytest.raises(error, match=message):
        call(mg.tensor(random_array(5, 2)))
