"""Tensor creation, dtype rules, and what a tensor tells about itself (minigrad/tensor.py)."""

import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg

# ---- the package ------------------------------------------------------------------------


def test_import_minigrad_gives_nn_and_optim():
    # As `import torch` gives torch.nn and torch.optim. A fresh interpreter: the tests
    # themselves import minigrad.nn, which would hide a missing import.
    code = "import minigrad as mg; print(mg.nn.Linear.__name__, mg.optim.Adam.__name__)"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert completed.stdout.split() == ["Linear", "Adam"], completed.stderr


# ---- dtypes -----------------------------------------------------------------------------


def test_python_floats_get_the_default_float32():
    assert mg.get_default_dtype() == np.float32
    assert mg.tensor(1.5).dtype == np.float32
    assert mg.tensor([[1.0, 2.0], [3.0, 4.0]]).dtype == np.float32
    assert mg.Tensor([1.0, 2]).dtype == np.float32


def test_python_ints_become_int64_and_bools_bool():
    assert mg.tensor(3).dtype == np.int64
    assert mg.tensor([1, 2, 3]).dtype == np.int64
    assert mg.tensor([True, False]).dtype == np.bool_


def test_numpy_data_keeps_its_dtype():
    assert mg.tensor(np.ones(3)).dtype == np.float64
    assert mg.tensor(np.ones(3, dtype=np.float32)).dtype == np.float32
    assert mg.tensor(np.float64(2.0)).dtype == np.float64
    assert mg.tensor(np.arange(3, dtype=np.int32)).dtype == np.int32


def test_dtype_argument_wins():
    assert mg.tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert mg.tensor(np.ones(2), dtype=np.float32).dtype == np.float32


def test_set_default_dtype_changes_new_float_tensors(float64_default):
    assert mg.get_default_dtype() == np.float64
    assert mg.tensor(1.5).dtype == np.float64
    assert mg.zeros(2).dtype == np.float64
    assert mg.randn(2).dtype == np.float64
    assert mg.tensor(1).dtype == np.int64


def test_set_default_dtype_rejects_non_float_dtypes():
    with pytest.raises(TypeError, match="floating-point"):
        mg.set_default_dtype(np.int64)
    assert mg.get_default_dtype() == np.float32


def test_tensor_copies_its_data():
    array = np.ones(3)
    t = mg.tensor(array)
    array[0] = 5.0
    assert t.data[0] == 1.0


# ---- no silent upcast ------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        lambda t: t * 2.0,
        lambda t: 2.0 * t,
        lambda t: t + 1,
        lambda t: t - 0.5,
        lambda t: 1.0 / t,
        lambda t: t**2,
        lambda t: t**0.5,
        lambda t: 2.0**t,
        lambda t: t * np.float64(2),
        lambda t: np.float64(2) * t,
        lambda t: np.float64(2) - t,
        lambda t: np.float64(2) / t,
        lambda t: np.int64(3) + t,
        lambda t: mg.maximum(t, 0.5),
        lambda t: mg.where(np.array([True, False, True]), t, 0.0),
    ],
)
def test_scalars_do_not_upcast_a_float32_tensor(expression):
    t = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = expression(t)
    assert isinstance(out, mg.Tensor)
    assert out.dtype == np.float32
    out.sum().backward()
    assert t.grad.dtype == np.float32


@pytest.mark.parametrize("as_tensor", [False, True])
def test_a_float64_gradient_does_not_upcast_a_float32_leaf_grad(as_tensor):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    upstream = np.ones(2)
    (x * 2).backward(mg.tensor(upstream) if as_tensor else upstream)
    assert x.grad.dtype == np.float32


def test_integer_tensors_stay_integer_with_int_scalars():
    t = mg.tensor([1, 2, 3])
    assert (t * 2).dtype == np.int64
    assert (t + np.int64(1)).dtype == np.int64


@pytest.mark.parametrize(
    "expression", [lambda t: t / 2, lambda t: 6 / t, lambda t: t / t], ids=["t/2", "6/t", "t/t"]
)
def test_integer_division_gives_the_default_float_dtype(expression):
    out = expression(mg.tensor([1, 2, 3]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, expression(np.array([1, 2, 3])))


# ---- reflected operators ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (lambda a, t: a + t, lambda a, x: a + x),
        (lambda a, t: a - t, lambda a, x: a - x),
        (lambda a, t: a * t, lambda a, x: a * x),
        (lambda a, t: a / t, lambda a, x: a / x),
        (lambda a, t: a**t, lambda a, x: a**x),
        (lambda a, t: a @ t, lambda a, x: a @ x),
    ],
)
def test_ndarray_on_the_left_gives_a_tensor(expression, expected):
    array = np.array([[1.0, 2.0], [3.0, 4.0]])
    t = mg.tensor(np.array([[0.5, 1.5], [2.0, 1.0]]), requires_grad=True)
    out = expression(array, t)
    assert isinstance(out, mg.Tensor)
    assert out.requires_grad
    np.testing.assert_allclose(out.data, expected(array, t.data))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (lambda t: np.float64(3) * t, [3.0, 6.0]),
        (lambda t: np.float64(3) + t, [4.0, 5.0]),
        (lambda t: np.float64(3) - t, [2.0, 1.0]),
        (lambda t: np.float64(4) / t, [4.0, 2.0]),
        (lambda t: np.float32(2) ** t, [2.0, 4.0]),
        (lambda t: 2.0**t, [2.0, 4.0]),
        (lambda t: 3 - t, [2.0, 1.0]),
    ],
)
def test_scalar_on_the_left_gives_a_tensor(expression, expected):
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    out = expression(t)
    assert isinstance(out, mg.Tensor)
    assert out.requires_grad
    np.testing.assert_allclose(out.data, expected)


# ---- what a tensor tells about itself ---------------------------------------------------


def test_shape_ndim_dtype_size_len():
    t = mg.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4)
    assert t.ndim == 3
    assert t.dtype == np.float32
    assert t.size == 24
    assert type(t.size) is int
    assert len(t) == 2


def test_len_of_a_0d_tensor_is_an_error():
    with pytest.raises(TypeError, match="0-d"):
        len(mg.tensor(1.0))


def test_item():
    assert mg.tensor([[2.5]]).item() == 2.5
    assert isinstance(mg.tensor(3).item(), int)
    with pytest.raises(ValueError, match=r"\(2,\)"):
        mg.tensor([1.0, 2.0]).item()


def test_numpy_and_asarray_give_the_data():
    t = mg.tensor([1.0, 2.0])
    assert isinstance(t.numpy(), np.ndarray)
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
    array = np.asarray(t)
    assert isinstance(array, np.ndarray)
    assert array.dtype == np.float32
    np.testing.assert_array_equal(array, [1.0, 2.0])
    assert np.asarray(t, dtype=np.float64).dtype == np.float64


def test_data_is_assignable():
    t = mg.tensor([1.0, 2.0], requires_grad=True)
    t.data = np.array([5.0, 6.0], dtype=np.float32)
    np.testing.assert_array_equal((t * 2).data, [10.0, 12.0])


def test_fresh_tensor_state():
    t = mg.tensor([1.0, 2.0])
    assert t.requires_grad is False
    assert t.grad is None
    assert t.is_leaf
    assert t.name is None
    u = mg.tensor([1.0], requires_grad=True)
    assert u.requires_grad is True
    assert u.is_leaf
    assert not (u * 2).is_leaf


def test_name_is_kept():
    t = mg.tensor([1.0], name="weight")
    assert t.name == "weight"
    t.name = "w"
    assert t.name == "w"


def test_detach_shares_data_and_leaves_the_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    detached = y.detach()
    assert detached.requires_grad is False
    assert detached.is_leaf
    np.testing.assert_array_equal(detached.data, y.data)
    assert np.shares_memory(detached.data, y.data)


def test_requires_grad_on_an_integer_tensor_raises():
    with pytest.raises(TypeError, match="floating-point"):
        mg.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError):
        mg.tensor([1, 2, 3]).requires_grad_()


def test_requires_grad_underscore_on_a_leaf():
    t = mg.tensor([1.0])
    assert t.requires_grad_() is t
    assert t.requires_grad


def test_repr():
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(mg.tensor([1.0], requires_grad=True))
    assert "dtype=float64" in repr(mg.tensor(np.array([1.0])))
    assert "name='w'" in repr(mg.tensor([1.0], name="w"))
    computed = mg.tensor([1.0], requires_grad=True) * 2
    assert repr(computed).startswith("tensor([2.]")
    assert "Mul" in repr(computed)
    # An empty tensor prints as [] whatever its shape, so the shape is added, as PyTorch does.
    assert repr(mg.zeros(0, 3)) == "tensor([], size=(0, 3))"
    assert repr(mg.zeros(0)) == "tensor([])"


# ---- factories ----------------------------------------------------------------------------


@pytest.mark.parametrize("factory, value", [(mg.zeros, 0.0), (mg.ones, 1.0)])
def test_zeros_and_ones(factory, value):
    for t in (factory(2, 3), factory((2, 3))):
        assert t.shape == (2, 3)
        assert t.dtype == np.float32
        assert t.requires_grad is False
        assert np.all(t.data == value)
    t = factory(4, dtype=np.float64, requires_grad=True)
    assert t.dtype == np.float64
    assert t.requires_grad


@pytest.mark.parametrize("factory", [mg.randn, mg.rand])
def test_random_factories(factory):
    t = factory(3, 4)
    assert t.shape == (3, 4)
    assert t.dtype == np.float32
    assert factory((3, 4)).shape == (3, 4)
    t = factory(5, dtype=np.float64, requires_grad=True)
    assert t.dtype == np.float64
    assert t.requires_grad


@pytest.mark.parametrize("factory", [mg.randn, mg.rand])
def test_random_factories_refuse_a_dtype_that_would_truncate_the_samples(factory):
    with pytest.raises(TypeError, match=rf"{factory.__name__}: samples need a floating-point dtype"):
        factory(3, dtype=np.int64)


def test_full_takes_the_fill_values_kind_as_numpy_and_pytorch_do():
    assert mg.full((2, 3), 1.5).dtype == np.float32
    assert mg.full((2,), 7).dtype == np.int64 and mg.full(2, 7).data.tolist() == [7, 7]
    assert mg.full((2,), True).dtype == np.bool_
    assert mg.full((2,), 7, dtype=np.float64).dtype == np.float64
    assert mg.full((2,), np.float64(0.5)).dtype == np.float64  # numpy data keeps its dtype
    assert mg.full((2,), 0.5, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        mg.full((2,), 7, requires_grad=True)


def test_rand_is_in_the_unit_interval():
    mg.manual_seed(0)
    values = mg.rand(1000).data
    assert values.min() >= 0.0
    assert values.max() < 1.0


@pytest.mark.parametrize("factory", [mg.randn, mg.rand])
def test_manual_seed_makes_random_factories_reproducible(factory):
    mg.manual_seed(123)
    first = factory(5).data
    second = factory(5).data
    mg.manual_seed(123)
    np.testing.assert_array_equal(factory(5).data, first)
    np.testing.assert_array_equal(factory(5).data, second)
    assert not np.array_equal(first, second)
    mg.manual_seed(124)
    assert not np.array_equal(factory(5).data, first)


def test_arange():
    t = mg.arange(5)
    assert t.dtype == np.int64
    np.testing.assert_array_equal(t.data, [0, 1, 2, 3, 4])
    t = mg.arange(1, 2, 0.25)
    assert t.dtype == np.float32
    np.testing.assert_allclose(t.data, [1.0, 1.25, 1.5, 1.75])
    t = mg.arange(3, dtype=np.float64, requires_grad=True)
    assert t.dtype == np.float64
    assert t.requires_grad
    np.testing.assert_array_equal(t.data, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(mg.arange(5, step=2).data, [0, 2, 4])  # a step with the stop alone


@pytest.mark.parametrize("factory", [mg.zeros, mg.ones, mg.randn, mg.rand])
def test_negative_shape_is_an_error_that_names_the_factory(factory):
    with pytest.raises(ValueError, match=rf"{factory.__name__}: the shape must be non-negative integers"):
        factory(2, -1)


def test_arange_with_a_zero_step_is_an_error():
    with pytest.raises(ValueError, match="arange: step must not be zero"):
        mg.arange(0, 1, 0)


def test_an_integer_tensor_meeting_a_float32_tensor_stays_float32():
    floats = mg.tensor([1.0, 2.0])
    integers = mg.tensor([1, 2])
    assert (floats + integers).dtype == np.float32
    assert (integers * floats).dtype == np.float32
    assert mg.concatenate([integers, floats]).dtype == np.float32
    assert (mg.tensor(np.array([1.0]), dtype=np.float64) + integers[:1]).dtype == np.float64


def test_python_abs_is_the_recorded_abs():
    x = mg.tensor([-1.5, 2.0], requires_grad=True)
    y = abs(x)
    assert y.op.name == "abs"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, 1.0])


# ---- PyTorch's names and small helpers ---------------------------------------------------


def test_pytorch_method_names_do_what_the_numpy_ones_do():
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.view(3, 2).shape == (3, 2) and x.view(-1).shape == (6,)
    assert x.numel() == 6 and x.dim() == 2
    np.testing.assert_array_equal(x.pow(2).data, (x**2).data)
    np.testing.assert_array_equal(x.neg().data, (-x).data)
    np.testing.assert_array_equal(x.matmul(x.T).data, (x @ x.T).data)
    (x.view(6) * mg.arange(6.0)).sum().backward()  # gradients flow through view
    np.testing.assert_array_equal(x.grad.data, np.arange(6.0).reshape(2, 3))


def test_math_methods_are_the_functions_of_the_same_names():
    x = mg.tensor(np.array([[0.5, -0.75, 2.0], [3.0, -0.25, 1.5]]))
    for name in ["log1p", "expm1", "sin", "cos", "erf", "square", "sign", "flip", "prod", "cumsum"]:
        np.testing.assert_array_equal(getattr(x, name)().data, getattr(mg, name)(x).data, err_msg=name)
    np.testing.assert_array_equal(x.cumsum(1).data, np.cumsum(x.data, 1))
    np.testing.assert_array_equal(x.prod(0, keepdims=True).data, np.prod(x.data, 0, keepdims=True))
    np.testing.assert_array_equal(x.flip(1).data, x.data[:, ::-1])


def test_split_and_chunk_give_tuples_of_tensors_and_expand_a_tensor():
    x = mg.tensor(np.arange(10.0).reshape(2, 5), requires_grad=True)
    pieces = x.split(2, axis=1)
    assert type(pieces) is tuple and all(isinstance(piece, mg.Tensor) for piece in pieces)
    assert [piece.shape for piece in pieces] == [(2, 2), (2, 2), (2, 1)]
    assert [piece.shape for piece in mg.split(x, [1, 1])] == [(1, 5), (1, 5)]
    assert [piece.shape for piece in x.chunk(2)] == [(1, 5), (1, 5)]
    assert [piece.shape for piece in mg.chunk(x, 2, axis=1)] == [(2, 3), (2, 2)]
    assert x[:, :1].expand(3, -1, 4).shape == (3, 2, 4)
    (pieces[2] * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0, 0, 0, 3], [0, 0, 0, 0, 3]])


def test_float_and_double_convert_and_pass_gradients_back_in_the_original_dtype():
    x = mg.tensor([1.5, 2.5], requires_grad=True)
    assert x.float() is x  # float32 already, as in PyTorch
    wide = x.double()
    assert wide.dtype == np.float64 and wide.double() is wide
    (wide * 2.0).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    assert mg.tensor([1, 2]).float().dtype == np.float32


def test_all_and_any_reduce_to_booleans_and_are_never_recorded():
    x = mg.tensor([[1.0, 0.0], [2.0, 3.0]], requires_grad=True)
    assert not x.all().item() and x.any().item()
    np.testing.assert_array_equal(x.all(axis=1).data, [False, True])
    np.testing.assert_array_equal(x.any(axis=0, keepdims=True).data, [[True, True]])
    assert not x.all().requires_grad
    with pytest.raises(ValueError, match="all: axis 2"):
        x.all(axis=2)


def test_masked_fill_fills_where_the_mask_is_true_and_passes_no_gradient_there():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    mask = np.array([True, False])  # broadcasts over the rows
    filled = x.masked_fill(mask, -np.inf)
    np.testing.assert_array_equal(filled.data, [[-np.inf, 2.0], [-np.inf, 4.0]])
    filled.softmax(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data[:, 0], [0.0, 0.0])
    with pytest.raises(TypeError, match="masked_fill: the mask must be boolean"):
        x.masked_fill(np.array([1, 0]), 0.0)
    with pytest.raises(ValueError, match=r"masked_fill: shapes \(3, 2\) and \(2, 2\) do not broadcast"):
        x.masked_fill(np.ones((3, 2), dtype=bool), 0.0)
    with pytest.raises(ValueError, match=r"masked_fill: a mask of shape \(2, 1, 2\) does not broadcast"):
        x.masked_fill(np.ones((2, 1, 2), dtype=bool), 0.0)  # it would make the result larger


def test_creation_functions_with_pytorchs_names():
    x = mg.tensor(np.zeros((2, 3), dtype=np.float64))
    full = mg.full_like(x, 7.0)
    assert full.shape == (2, 3) and full.dtype == np.float64 and (full.data == 7.0).all()
    assert mg.full_like(x, 1, dtype=np.int64).dtype == np.int64
    line = mg.linspace(0, 1, 5)
    assert line.dtype == np.float32
    np.testing.assert_array_equal(line.data, [0.0, 0.25, 0.5, 0.75, 1.0])
    with pytest.raises(ValueError, match="linspace: steps must be a non-negative int"):
        mg.linspace(0, 1, 2.5)
    for like in (mg.randn_like, mg.rand_like):
        mg.manual_seed(3)
        first = like(x, requires_grad=True)
        mg.manual_seed(3)
        assert first.shape == (2, 3) and first.dtype == np.float64 and first.requires_grad
        np.testing.assert_array_equal(first.data, like(x).data)
    assert mg.is_tensor(x) and mg.is_tensor(mg.nn.Parameter(np.ones(2))) and not mg.is_tensor(x.data)
    assert mg.allclose(x, np.zeros((2, 3)) + 1e-9) and not mg.allclose(x, 1e-3)
    assert mg.cat([x, x]).shape == (4, 3)


@pytest.mark.parametrize(
    "call, low, high, shape",
    [
        (lambda: mg.randint(0, 10, (50,)), 0, 10, (50,)),
        (lambda: mg.randint(10, (5, 10)), 0, 10, (5, 10)),  # randint(high, size), as in PyTorch
        (lambda: mg.randint(5, size=40), 0, 5, (40,)),
        (lambda: mg.randint(-3, 3, size=(60,), dtype=np.int32), -3, 3, (60,)),
    ],
)
def test_randint_draws_integers_in_the_half_open_range(call, low, high, shape):
    mg.manual_seed(0)
    values = call()
    assert values.shape == shape and values.dtype.kind == "i" and not values.requires_grad
    assert values.data.min() >= low and values.data.max() < high
    assert len(np.unique(values.data)) > 1
    mg.manual_seed(0)
    np.testing.assert_array_equal(call().data, values.data)


def test_randint_errors_say_what_to_pass():
    with pytest.raises(TypeError, match=r"randint: give the shape"):
        mg.randint(0, 10)
    with pytest.raises(ValueError, match=r"randint: the range \[5, 5\) is empty"):
        mg.randint(5, 5, (2,))
    with pytest.raises(TypeError, match="randint: the dtype must be an integer dtype"):
        mg.randint(0, 5, (2,), dtype=np.float32)


def test_masked_fill_keeps_the_tensors_dtype_and_takes_a_single_value():
    mask = np.array([True, False, True])
    filled = mg.tensor([1, 2, 3]).masked_fill(mask, 2.7)
    assert filled.dtype == np.int64  # 2.7 becomes 2, as in PyTorch
    np.testing.assert_array_equal(filled.data, [2, 2, 2])
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    value = mg.tensor(np.float64(5.0), requires_grad=True)
    filled = x.masked_fill(mask, value)
    assert filled.dtype == np.float32
    filled.sum().backward()
    assert value.grad.dtype == np.float64 and value.grad.item() == 2.0
    with pytest.raises(
        ValueError, match=r"masked_fill: the value must be a number or a 0-d tensor, got shape \(1,\)"
    ):
        x.masked_fill(mask, np.ones(1))


def test_numel_and_dim_work_on_a_dropped_result():
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    stand_in = (x * 2.0).exp().op.inputs[0]  # exp's rule keeps its result, not x * 2.0
    assert stand_in.numel() == 2 and stand_in.dim() == 2


def test_randint_takes_high_by_name_and_refuses_non_integer_bounds():
    mg.manual_seed(0)
    values = mg.randint(high=3, size=(20,))
    assert values.data.min() >= 0 and values.data.max() < 3
    with pytest.raises(TypeError, match="randint: low and high must be ints, got 0.5"):
        mg.randint(0.5, 3, (2,))
