"""Every primitive and composite op: forward against numpy, backward against finite differences.

Covers minigrad/ops.py and minigrad/composite.py.
"""

import math
import operator

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array, reduced_count, shapes, shapes_and_axes
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad as mg


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# ---- elementwise functions --------------------------------------------------------------

UNARY = {
    # name: (minigrad function, numpy function, needs a positive input)
    "neg": (lambda x: -x, np.negative, False),
    "exp": (mg.exp, np.exp, False),
    "log": (mg.log, np.log, True),
    "sqrt": (mg.sqrt, np.sqrt, True),
    "tanh": (mg.tanh, np.tanh, False),
    "sigmoid": (mg.sigmoid, sigmoid, False),
    "relu": (mg.relu, lambda x: np.maximum(x, 0), False),
    "abs": (mg.abs, np.abs, False),
    "log1p": (mg.log1p, np.log1p, True),
    "expm1": (mg.expm1, np.expm1, False),
    "sin": (mg.sin, np.sin, False),
    "cos": (mg.cos, np.cos, False),
    "erf": (mg.erf, np.vectorize(math.erf), False),
    "square": (mg.square, np.square, False),
}
SMOOTH = ["exp", "log", "sqrt", "tanh", "sigmoid", "log1p", "expm1", "sin", "cos", "erf", "square"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_forward_matches_numpy(name):
    function, reference, positive = UNARY[name]
    x = random_array(3, 4, positive=positive)
    np.testing.assert_allclose(function(mg.tensor(x)).data, reference(x), rtol=1e-12)


@pytest.mark.parametrize("name", [name for name in UNARY if name != "neg"])
def test_unary_method_matches_function(name):
    function, _, positive = UNARY[name]
    t = mg.tensor(random_array(5, positive=positive))
    np.testing.assert_array_equal(getattr(t, name)().data, function(t).data)


@pytest.mark.parametrize("name", UNARY)
def test_unary_gradcheck(name):
    function, _, positive = UNARY[name]
    assert_gradcheck(function, random_array(3, 4, positive=positive))


@pytest.mark.parametrize("name", SMOOTH)
def test_unary_second_derivatives(name):
    function, _, positive = UNARY[name]
    assert_gradcheck(function, random_array(3, 4, positive=positive), second_order=True)


def test_log1p_and_expm1_are_exact_for_tiny_inputs():
    # 1 + x rounds to 1 for these x, so log(1 + x) would be 0 and exp(x) - 1 would lose digits
    x = mg.tensor(np.array([1e-20, -3e-17, 2e-10]), requires_grad=True)
    np.testing.assert_allclose(x.log1p().data, [1e-20, -3e-17, 2e-10 - 2e-20], rtol=1e-15)
    np.testing.assert_allclose(x.expm1().data, [1e-20, -3e-17, 2e-10 + 2e-20], rtol=1e-15)
    (x.log1p() + x.expm1()).sum().backward()
    np.testing.assert_allclose(x.grad.data, 1 / (1 + x.data) + np.exp(x.data), rtol=1e-15)


def test_sin_and_cos_gradients_are_cos_and_minus_sin():
    x = mg.tensor(np.array([0.0, np.pi / 2, np.pi, 2.0]), requires_grad=True)
    (x.sin() + 2 * x.cos()).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.cos(x.data) - 2 * np.sin(x.data), rtol=1e-15)


@pytest.mark.parametrize(
    "name", ["exp", "log", "sqrt", "tanh", "sigmoid", "log1p", "expm1", "sin", "cos", "erf"]
)
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int32, np.int64, np.bool_])
def test_functions_of_integers_are_in_the_default_float_dtype(name, dtype):
    """As in PyTorch: numpy would give float16 for 8-bit integers and booleans, float64 for int64."""
    values = np.array([0, 1, 1, 0] if dtype is np.bool_ else [0, 1, 2, 7], dtype=dtype)
    with np.errstate(divide="ignore"):  # log(0)
        result = getattr(mg, name)(mg.tensor(values))
        expected = getattr(mg, name)(mg.tensor(values.astype(np.float32)))
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result.data, expected.data)
    mg.set_default_dtype(np.float64)  # the autouse fixture puts float32 back
    with np.errstate(divide="ignore"):
        assert getattr(mg, name)(mg.tensor(values)).dtype == np.float64


def test_sign_is_pytorchs_and_never_recorded():
    x = mg.tensor(np.float32([np.nan, -0.0, 0.0, -2.5, 3.0, np.inf, -np.inf]), requires_grad=True)
    result = x.sign()
    assert result.dtype == np.float32 and not result.requires_grad and result.op is None
    np.testing.assert_array_equal(result.data, [0, 0, 0, -1, 1, 1, -1])  # nan gives 0, as in PyTorch
    assert not np.signbit(result.data[:3]).any()
    assert mg.sign(mg.tensor([-3, 0, 4])).data.tolist() == [-1, 0, 1]
    assert mg.sign(mg.tensor([-3, 0, 4])).dtype == np.int64
    assert mg.sign(mg.tensor([True, False])).data.tolist() == [True, False]


def test_sigmoid_is_accurate_for_large_inputs():
    out = mg.sigmoid(mg.tensor(np.array([-800.0, 0.0, 800.0]))).data
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])


def test_relu_and_abs_gradients_at_zero_are_zero():
    x = mg.tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 1.0])
    x.grad = None
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, 0.0, 1.0])


def test_elu_passes_the_gradient_on_at_nan_as_pytorch_does():
    x = mg.tensor(np.array([np.nan, 1.0, -1.0]), requires_grad=True)
    y = mg.nn.functional.elu(x)
    y.sum().backward()
    np.testing.assert_array_equal(y.data[:2], [np.nan, 1.0])
    np.testing.assert_allclose(x.grad.data, [1.0, 1.0, np.exp(-1.0)], rtol=1e-15)


def test_relu_passes_the_gradient_on_at_nan_as_pytorch_does():
    x = mg.tensor(np.array([np.nan, -1.0, 1.0, -0.0]), requires_grad=True)
    y = x.relu()
    (y * mg.tensor([2.0, 3.0, 4.0, 5.0])).sum().backward()
    np.testing.assert_array_equal(y.data, [np.nan, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(x.grad.data, [2.0, 0.0, 4.0, 0.0])
    (second,) = mg.grad(x.relu().sum(), x, create_graph=True)  # the rule on tensors gives the same
    np.testing.assert_array_equal(second.data, [1.0, 0.0, 1.0, 0.0])


# ---- elementwise arithmetic with broadcasting ------------------------------------------

BINARY = {
    # name: (minigrad function, numpy function, needs positive operands)
    "add": (lambda a, b: a + b, np.add, False),
    "sub": (lambda a, b: a - b, np.subtract, False),
    "mul": (lambda a, b: a * b, np.multiply, False),
    "div": (lambda a, b: a / b, np.divide, True),
    "pow": (lambda a, b: a**b, np.power, True),
    "maximum": (mg.maximum, np.maximum, False),
    "minimum": (mg.minimum, np.minimum, False),
    "remainder": (lambda a, b: a % b, np.remainder, False),
}

BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (3, 1)),
    ((), (3, 4)),
    ((3, 4), ()),
]


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_forward_matches_numpy(name, shapes):
    function, reference, positive = BINARY[name]
    a = random_array(*shapes[0], positive=positive, seed=1)
    b = random_array(*shapes[1], positive=positive, seed=2)
    out = function(mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True))
    assert out.shape == np.broadcast_shapes(*shapes)
    np.testing.assert_allclose(out.data, reference(a, b), rtol=1e-12)


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_gradcheck(name, shapes):
    function, _, positive = BINARY[name]
    a = random_array(*shapes[0], positive=positive, seed=1)
    b = random_array(*shapes[1], positive=positive, seed=2)
    assert_gradcheck(function, a, b)


@pytest.mark.parametrize(
    "function",
    [
        lambda x: x + 2.5,
        lambda x: 2.5 + x,
        lambda x: x - 2.5,
        lambda x: 2.5 - x,
        lambda x: x * 3,
        lambda x: 3 * x,
        lambda x: x / 2.5,
        lambda x: 2.5 / x,
        lambda x: x**3,
        lambda x: x**0.5,
        lambda x: x**-1.5,
        lambda x: 2.0**x,
        lambda x: np.float64(1.5) ** x,
        lambda x: mg.maximum(x, 1.0),
        lambda x: mg.maximum(1.0, x),
        lambda x: x % 0.3,
        lambda x: 7.5 % x,
    ],
)
def test_python_scalar_operand_gradcheck(function):
    assert_gradcheck(function, random_array(3, 4, positive=True))


@pytest.mark.parametrize("name", BINARY)
def test_0d_tensor_operand_that_requires_grad(name):
    function, _, positive = BINARY[name]
    matrix = random_array(3, 4, positive=positive, seed=1)
    scalar = random_array(positive=True, seed=2)
    assert_gradcheck(function, scalar, matrix)
    assert_gradcheck(function, matrix, scalar)


def test_0d_tensor_operand_gradient_is_the_sum():
    scalar = mg.tensor(np.float64(2.0), requires_grad=True)
    matrix = mg.tensor(np.ones((3, 4)), requires_grad=True)
    (scalar * matrix).sum().backward()
    assert scalar.grad.shape == ()
    assert scalar.grad.item() == 12.0
    np.testing.assert_array_equal(matrix.grad.data, np.full((3, 4), 2.0))


def test_pow_tensor_exponent_gradient_is_out_times_log_base():
    base = mg.tensor(np.array([2.0, 3.0]), requires_grad=True)
    exponent = mg.tensor(np.array([3.0, 0.5]), requires_grad=True)
    (base**exponent).sum().backward()
    np.testing.assert_allclose(base.grad.data, [3.0 * 2.0**2, 0.5 * 3.0**-0.5])
    np.testing.assert_allclose(exponent.grad.data, [8.0 * np.log(2.0), np.sqrt(3.0) * np.log(3.0)])


def test_pow_of_negative_base_with_constant_exponent_has_a_finite_gradient():
    x = mg.tensor(np.array([-2.0, 3.0]), requires_grad=True)
    (x**2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-4.0, 6.0])


def test_remainder_has_the_divisors_sign_and_floor_division_is_never_recorded():
    a = mg.tensor([5.5, -3.5, 7.0], requires_grad=True, dtype=np.float64)
    b = mg.tensor([2.0, 2.0, -2.0], requires_grad=True, dtype=np.float64)
    out = a % b
    np.testing.assert_array_equal(out.data, [1.5, 0.5, -1.0])  # Python's 5.5 % 2, -3.5 % 2, 7.0 % -2
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(b.grad.data, [-2.0, 2.0, 4.0])  # -floor(a / b)
    quotient = a // b
    np.testing.assert_array_equal(quotient.data, [2.0, -2.0, -4.0])
    assert not quotient.requires_grad and quotient.op is None
    integers = mg.tensor([5, -3])
    assert (integers // 2).data.tolist() == [2, -2] and (integers % 2).data.tolist() == [1, 1]
    assert (7 // integers).data.tolist() == [1, -3] and (integers % 2).dtype == np.int64
    with pytest.raises(ValueError, match=r"floor_divide: shapes \(3,\) and \(2,\) do not broadcast"):
        a // mg.ones(2)


# ---- ties ---------------------------------------------------------------------------------


def test_max_ties_share_the_gradient_equally():
    x = mg.tensor(np.array([1.0, 3.0, 3.0]), requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.5])


def test_max_ties_along_an_axis():
    x = mg.tensor(np.array([[1.0, 3.0, 3.0], [5.0, 5.0, 5.0], [0.0, 2.0, 1.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3], [0, 1, 0]])


def test_min_ties_share_the_gradient_equally():
    x = mg.tensor(np.array([2.0, 1.0, 1.0]), requires_grad=True)
    x.min().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.5])


def test_maximum_ties_split_the_gradient_in_half():
    a = mg.tensor(np.array([1.0, 2.0, 5.0]), requires_grad=True)
    b = mg.tensor(np.array([1.0, 3.0, 4.0]), requires_grad=True)
    mg.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad.data, [0.5, 1.0, 0.0])


def test_the_gradient_of_max_and_min_goes_to_a_nan_which_is_the_result():
    nan = np.nan
    x = mg.tensor(np.array([[1.0, nan, 2.0, nan], [3.0, 4.0, 0.0, 1.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()  # as PyTorch's max: the nans share the first row's gradient
    np.testing.assert_array_equal(x.grad.data, [[0, 0.5, 0, 0.5], [0, 1, 0, 0]])
    x.grad = None
    x.min().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0.5, 0, 0.5], [0, 0, 0, 0]])


def test_the_gradient_of_maximum_goes_to_the_nan():
    a = mg.tensor(np.array([np.nan, 1.0, np.nan, 2.0]), requires_grad=True)
    b = mg.tensor(np.array([1.0, np.nan, np.nan, 1.0]), requires_grad=True)
    mg.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 0.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad.data, [0.0, 1.0, 0.5, 0.0])


# ---- where ----------------------------------------------------------------------------------

CONDITION = np.array([[True, False, True, False], [False, False, True, True], [True, True, False, True]])


def test_where_forward_matches_numpy():
    a, b = random_array(3, 4, seed=1), random_array(4, seed=2)
    out = mg.where(CONDITION, mg.tensor(a), mg.tensor(b))
    np.testing.assert_array_equal(out.data, np.where(CONDITION, a, b))
    out = mg.where(mg.tensor(CONDITION), mg.tensor(a), 0.0)
    np.testing.assert_array_equal(out.data, np.where(CONDITION, a, 0.0))


@pytest.mark.parametrize(
    ("condition", "a_shape", "b_shape"),
    [
        (CONDITION, (3, 4), (3, 4)),
        (CONDITION, (3, 4), (4,)),
        (CONDITION, (3, 1), ()),
        (CONDITION[0], (3, 4), (3, 4)),  # the condition broadcasts
        (CONDITION[:, :1], (3, 4), (1, 4)),
    ],
    ids=str,
)
def test_where_gradcheck(condition, a_shape, b_shape):
    a, b = random_array(*a_shape, seed=1), random_array(*b_shape, seed=2)
    assert_gradcheck(lambda x, y: mg.where(condition, x, y), a, b)


@pytest.mark.parametrize("scalar_first", [True, False])
def test_where_with_a_scalar_branch(scalar_first):
    x = random_array(3, 4)

    def function(t):
        return mg.where(CONDITION, 0.5, t) if scalar_first else mg.where(CONDITION, t, 0.5)

    assert_gradcheck(function, x)
    t = mg.tensor(x, requires_grad=True)
    function(t).sum().backward()
    expected = ~CONDITION if scalar_first else CONDITION
    np.testing.assert_array_equal(t.grad.data, expected.astype(float))


def test_a_number_constant_is_shared_read_only_and_exact():
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    first, second = x * 1.0001, x * 1.0001
    constant = first.op.inputs[1]
    assert second.op.inputs[1] is constant and constant.dtype == np.float32
    with pytest.raises(ValueError, match="read-only"):
        constant.data[...] = 2
    # Keys that compare equal but are different constants stay apart.
    np.testing.assert_array_equal(np.signbit((x * -0.0).data), [True, False])
    np.testing.assert_array_equal(np.signbit((x * 0.0).data), [False, True])
    assert (x * 2).op.inputs[1].dtype == np.float32 and (mg.tensor([3]) * 2).dtype == np.int64
    assert np.isnan((x * float("nan")).data).all()
    assert (x * 1.0001).sum().backward() is None
    np.testing.assert_allclose(x.grad.data, [1.0001, 1.0001])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64])
@pytest.mark.parametrize("number", [2.5, -0.0, float("nan"), float("-inf"), 3, 0, -7, 2**20])
@pytest.mark.parametrize(
    "function",
    [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.mod, mg.maximum],
)
def test_a_python_number_on_the_right_gives_what_a_numpy_scalar_gives(dtype, number, function):
    # tensor <op> Python number takes a short way past the argument conversion; a numpy
    # scalar of the same value goes the general way. Both must give the same result.
    x = mg.tensor(np.array([1.5, -2.0, 0.0, 3.0]).astype(dtype), requires_grad=dtype in (np.float32,))
    general = np.float64(number) if isinstance(number, float) else np.int64(number)
    if function is operator.pow and x.dtype.kind == "i" and type(number) is int and number < 0:
        for exponent in (number, general):  # as in numpy and PyTorch
            with pytest.raises(ValueError, match="negative integer powers"):
                function(x, exponent)
        return
    with np.errstate(all="ignore"):
        short, long = function(x, number), function(x, general)
    assert short.dtype == long.dtype and short.requires_grad == long.requires_grad
    np.testing.assert_array_equal(short.data, long.data)
    np.testing.assert_array_equal(np.signbit(short.data), np.signbit(long.data))
    if short.requires_grad:
        assert [type(parent) for parent in short.op.parents] == [type(parent) for parent in long.op.parents]


# ---- clip ------------------------------------------------------------------------------------

CLIP_BOUNDS = {
    # name: (min, max), each None, a number or an array that broadcasts with a (3, 4) input
    "both numbers": (-0.5, 0.5),
    "min only": (0.2, None),
    "max only": (None, -0.1),
    "array bounds": (np.linspace(-1.0, 0.0, 4), np.linspace(0.1, 1.0, 4)),
    "column bounds": (np.full((3, 1), -0.3), 0.4),
}


@pytest.mark.parametrize("name", CLIP_BOUNDS)
def test_clip_matches_numpy_and_passes_gradcheck(name):
    low, high = CLIP_BOUNDS[name]
    x = random_array(3, 4)
    out = mg.tensor(x).clip(low, high)
    np.testing.assert_array_equal(out.data, np.clip(x, low, high))
    assert_gradcheck(lambda t: mg.clip(t, low, high), x)  # no value of x lies on a bound


def test_clip_gradient_reaches_x_on_the_bounds_and_tensor_bounds_where_they_win():
    # PyTorch's clamp: x gets the gradient where min <= x <= max, a bound where it is the result.
    x = mg.tensor([0.0, 1.0, 2.0, 3.0], requires_grad=True, dtype=np.float64)
    low = mg.tensor(np.ones(4), requires_grad=True)
    high = mg.tensor(2.0, requires_grad=True, dtype=np.float64)
    out = x.clamp(low, high)
    out.backward(np.array([1.0, 10.0, 100.0, 1000.0]))
    np.testing.assert_array_equal(out.data, [1.0, 1.0, 2.0, 2.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 10.0, 100.0, 0.0])
    np.testing.assert_array_equal(low.grad.data, [1.0, 0.0, 0.0, 0.0])
    assert high.grad.item() == 1000.0
    assert_gradcheck(
        lambda t, lo, hi: mg.clip(t, lo, hi), random_array(5), random_array(5) - 1, random_array(1) + 1
    )


def test_clip_with_min_above_max_gives_max_everywhere():
    x = mg.tensor([0.0, 1.5, 3.0], requires_grad=True)
    out = x.clip(2.0, 1.0)
    np.testing.assert_array_equal(out.data, np.clip(x.data, 2.0, 1.0))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])


def test_clip_keeps_float32_and_needs_a_bound():
    assert mg.ones(3).clip(0.0, 0.5).dtype == np.float32
    with pytest.raises(ValueError, match="clip: give min, max or both"):
        mg.ones(3).clip()


# ---- reductions, over hypothesis-drawn shapes and axes ---------------------------------

REDUCTIONS = {
    # name: (minigrad method call, numpy call)
    "sum": (lambda t, axis, keepdims: t.sum(axis, keepdims), np.sum),
    "max": (lambda t, axis, keepdims: t.max(axis, keepdims), np.max),
    "min": (lambda t, axis, keepdims: t.min(axis, keepdims), np.min),
    "mean": (lambda t, axis, keepdims: t.mean(axis, keepdims), np.mean),
    "var": (lambda t, axis, keepdims: t.var(axis, keepdims), np.var),
    "var_ddof1": (
        lambda t, axis, keepdims: t.var(axis, keepdims, ddof=1),
        lambda x, axis, keepdims: np.var(x, axis, keepdims=keepdims, ddof=1),
    ),
    "std": (lambda t, axis, keepdims: t.std(axis, keepdims), np.std),
    "std_ddof1": (
        lambda t, axis, keepdims: t.std(axis, keepdims, ddof=1),
        lambda x, axis, keepdims: np.std(x, axis, keepdims=keepdims, ddof=1),
    ),
}

reduction_settings = settings(max_examples=30, deadline=None)


@pytest.mark.parametrize("name", REDUCTIONS)
@reduction_settings
@given(shape_and_axis=shapes_and_axes(), keepdims=st.booleans(), seed=st.integers(0, 100))
def test_reduction_forward_and_gradcheck(name, shape_and_axis, keepdims, seed):
    shape, axis = shape_and_axis
    if name.startswith(("var", "std")):
        # one value per result: the variance is 0 (or 0/0), and sqrt's slope at 0 is infinite
        assume(reduced_count(shape, axis) > 1)
    reduce, reference = REDUCTIONS[name]
    x = random_array(*shape, seed=seed)
    # finite differences must not step across a tie of max or min
    assume(x.size < 2 or np.diff(np.sort(x, axis=None)).min() > 1e-4)
    out = reduce(mg.tensor(x), axis, keepdims)
    expected = reference(x, axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)
    assert_gradcheck(lambda t: reduce(t, axis, keepdims), x)


@pytest.mark.parametrize("function", [mg.sum, mg.max, mg.min, mg.mean, mg.var, mg.std])
def test_reduction_functions_match_methods(function):
    t = mg.tensor(random_array(3, 4))
    np.testing.assert_array_equal(function(t, 1).data, getattr(t, function.__name__)(1).data)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_of_an_empty_batch_are_empty_as_in_numpy(name):
    x = mg.tensor(np.zeros((0, 3)), requires_grad=True)
    out = getattr(x, name)(axis=1)
    assert out.shape == (0,) == getattr(np.zeros((0, 3)), name)(axis=1).shape
    out.sum().backward()
    assert x.grad.shape == (0, 3)


def test_var_and_std_with_ddof_at_least_n_are_inf_or_nan_as_in_numpy():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        assert x.var(ddof=2).item() == np.inf and x.var(ddof=3).item() == np.inf
        assert x.std(ddof=3).item() == np.inf
        assert np.all(np.isnan(mg.tensor(np.zeros((2, 0))).var(axis=1, ddof=1).data))


def test_sum_gradient_is_ones():
    x = mg.tensor(random_array(2, 3), requires_grad=True)
    x.sum(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3)))


def test_mean_gradient_is_one_over_n():
    x = mg.tensor(random_array(2, 3, 4), requires_grad=True)
    x.mean(axis=(0, -1)).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full((2, 3, 4), 1 / 8))


@settings(max_examples=30, deadline=None)
@given(shape_and_axis=shapes_and_axes(), keepdims=st.booleans(), seed=st.integers(0, 100))
def test_prod_matches_numpy_and_passes_gradcheck(shape_and_axis, keepdims, seed):
    shape, axis = shape_and_axis
    x = random_array(*shape, seed=seed)
    out = mg.prod(mg.tensor(x), axis, keepdims)
    np.testing.assert_allclose(out.data, np.prod(x, axis=axis, keepdims=keepdims), rtol=1e-12)
    assert_gradcheck(lambda t: t.prod(axis, keepdims), x, second_order=True)


def test_prod_gradient_at_zeros_is_the_product_of_the_others():
    x = mg.tensor(np.array([[2.0, 0.0, 3.0], [0.0, 5.0, 0.0], [1.0, 2.0, 4.0]]), requires_grad=True)
    x.prod(axis=1).sum().backward()
    # one 0: the product of the others there, 0 elsewhere; two 0s: 0 everywhere
    np.testing.assert_array_equal(x.grad.data, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [8.0, 4.0, 2.0]])
    x.grad = None
    x[0].prod().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


def test_prod_second_derivatives_at_zeros_are_exact():
    # d2/dx0 dx1 of x0 * x1 * x2 is x2, though x0 = x1 = 0 makes every first derivative 0
    x = mg.tensor(np.array([0.0, 0.0, 3.0]), requires_grad=True)
    (slope,) = mg.grad(x.prod(), x, create_graph=True)
    np.testing.assert_array_equal(slope.data, [0.0, 0.0, 0.0])
    (curvature,) = mg.grad(slope[0], x)
    np.testing.assert_array_equal(curvature.data, [0.0, 3.0, 0.0])


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), -1])
def test_prod_with_zeros_passes_gradcheck_first_and_second_order(axis):
    x = random_array(3, 4, 2, seed=5)
    x[0, 1, 0] = x[2, 1, 0] = x[2, 3, 1] = x[1, 0, 1] = 0.0
    assert_gradcheck(lambda t: t.prod(axis), x)
    assert_gradcheck(lambda t: t.prod(axis), x, second_order=True)


def test_prod_of_nothing_is_one():
    x = mg.tensor(np.zeros((0, 3)), requires_grad=True)
    out = x.prod(axis=0)
    np.testing.assert_array_equal(out.data, [1.0, 1.0, 1.0])
    out.sum().backward()
    assert x.grad.shape == (0, 3)


@settings(max_examples=40, deadline=None)
@given(shape=shapes, data=st.data())
def test_cumsum_matches_numpy_and_passes_gradcheck(shape, data):
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1)) if shape else None
    x = random_array(*shape)
    out = mg.cumsum(mg.tensor(x), axis)
    np.testing.assert_array_equal(out.data, np.cumsum(x, axis=axis))  # None: along the flattened x
    assert_gradcheck(lambda t: t.cumsum(axis), x)


def test_cumsum_gradient_is_the_reversed_cumsum_of_the_gradient():
    x = mg.tensor(np.zeros((2, 4)), requires_grad=True)
    x.cumsum(axis=1).backward(mg.tensor(np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 1.0]])))
    np.testing.assert_array_equal(x.grad.data, [[10.0, 9.0, 7.0, 4.0], [1.0, 1.0, 1.0, 1.0]])


def test_cumsum_of_a_0d_tensor_keeps_its_shape_along_axis_0_and_is_1d_along_none():
    x = mg.tensor(np.float64(2.5), requires_grad=True)
    assert x.cumsum(0).shape == x.cumsum(-1).shape == ()
    assert x.cumsum().shape == (1,)
    x.cumsum(0).backward()
    assert x.grad.item() == 1.0


def test_cumsum_of_integers_matches_numpy():
    result = mg.tensor([[1, 2], [3, 4]]).cumsum(0)
    assert result.dtype == np.int64 and result.data.tolist() == [[1, 2], [4, 6]]


# ---- shape ops ------------------------------------------------------------------------------

SHAPE_OPS = {
    "reshape -1": (lambda t: t.reshape(-1), lambda x: x.reshape(-1)),
    "reshape 4,-1": (lambda t: t.reshape(4, -1), lambda x: x.reshape(4, -1)),
    "reshape tuple": (lambda t: t.reshape((3, 2, 4)), lambda x: x.reshape(3, 2, 4)),
    "mg.reshape": (lambda t: mg.reshape(t, (6, 4)), lambda x: x.reshape(6, 4)),
    "transpose": (lambda t: t.transpose(), lambda x: x.transpose()),
    "transpose axes": (lambda t: t.transpose(1, 2, 0), lambda x: x.transpose(1, 2, 0)),
    "transpose tuple": (lambda t: t.transpose((2, 0, 1)), lambda x: x.transpose(2, 0, 1)),
    "transpose negative": (lambda t: t.transpose(-1, 0, -2), lambda x: x.transpose(-1, 0, -2)),
    "mg.transpose": (lambda t: mg.transpose(t, (0, 2, 1)), lambda x: x.transpose(0, 2, 1)),
    "T": (lambda t: t.T, lambda x: x.T),
    "broadcast_to": (
        lambda t: t[:, :1, :].broadcast_to((5, 2, 3, 4)),
        lambda x: np.broadcast_to(x[:, :1, :], (5, 2, 3, 4)),
    ),
    "mg.broadcast_to": (
        lambda t: mg.broadcast_to(t[0, 0], (3, 4)),
        lambda x: np.broadcast_to(x[0, 0], (3, 4)),
    ),
    "permute": (lambda t: t.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1)),
    "swapaxes": (lambda t: t.swapaxes(0, 2), lambda x: x.swapaxes(0, 2)),
    "mg.swapaxes negative": (lambda t: mg.swapaxes(t, -1, 1), lambda x: x.swapaxes(-1, 1)),
    "swapaxes same axis": (lambda t: t.swapaxes(1, -2), lambda x: x.swapaxes(1, -2)),
    "squeeze": (lambda t: t[:, :1].squeeze(), lambda x: x[:, :1].squeeze()),
    "squeeze axis": (lambda t: t[:1, :1].squeeze(1), lambda x: x[:1, :1].squeeze(1)),
    "mg.squeeze axes": (lambda t: mg.squeeze(t[:1, :, :1], (0, -1)), lambda x: x[:1, :, :1].squeeze((0, -1))),
    "unsqueeze": (lambda t: t.unsqueeze(1), lambda x: np.expand_dims(x, 1)),
    "unsqueeze last": (lambda t: t.unsqueeze(-1), lambda x: np.expand_dims(x, -1)),
    "mg.unsqueeze axes": (lambda t: mg.unsqueeze(t, (0, -2)), lambda x: np.expand_dims(x, (0, -2))),
    "clone": (lambda t: t.clone(), lambda x: x.copy()),
    "flatten": (lambda t: t.flatten(), lambda x: x.flatten()),
    "flatten start": (lambda t: t.flatten(1), lambda x: x.reshape(2, 12)),
    "flatten end": (lambda t: t.flatten(0, 1), lambda x: x.reshape(6, 4)),
    "slice": (lambda t: t[1], lambda x: x[1]),
    "negative index": (lambda t: t[-1, :, -2], lambda x: x[-1, :, -2]),
    "step slice": (lambda t: t[:, ::2, 1:3], lambda x: x[:, ::2, 1:3]),
    "reversed slice": (lambda t: t[..., ::-1], lambda x: x[..., ::-1]),
    "new axis": (lambda t: t[:, None, 0], lambda x: x[:, None, 0]),
    "int array with repeats": (
        lambda t: t[:, np.array([2, 0, 2, 2])],
        lambda x: x[:, np.array([2, 0, 2, 2])],
    ),
    "list with repeats": (lambda t: t[[1, 1, 0]], lambda x: x[[1, 1, 0]]),
    "two int arrays": (
        lambda t: t[np.array([0, 1, 1]), :, np.array([3, 3, 0])],
        lambda x: x[np.array([0, 1, 1]), :, np.array([3, 3, 0])],
    ),
    "negative int array": (lambda t: t[0, np.array([-1, -1, 0])], lambda x: x[0, np.array([-1, -1, 0])]),
    "bool mask": (lambda t: t[t.data > 0], lambda x: x[x > 0]),
    "bool mask tensor": (lambda t: t[mg.tensor(t.data < 0.5)], lambda x: x[x < 0.5]),
    "bool mask on an axis": (
        lambda t: t[:, np.array([True, False, True])],
        lambda x: x[:, np.array([True, False, True])],
    ),
}


@pytest.mark.parametrize("name", SHAPE_OPS)
def test_shape_op_forward_matches_numpy(name):
    function, reference = SHAPE_OPS[name]
    x = random_array(2, 3, 4)
    out = function(mg.tensor(x, requires_grad=True))
    np.testing.assert_array_equal(out.data, reference(x))


@pytest.mark.parametrize("name", SHAPE_OPS)
def test_shape_op_gradcheck(name):
    function, _ = SHAPE_OPS[name]
    assert_gradcheck(function, random_array(2, 3, 4))


def test_getitem_repeated_positions_add_up():
    x = mg.tensor(np.zeros(4), requires_grad=True)
    x[np.array([1, 1, 3, 1])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 3.0, 0.0, 1.0])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2), st.lists(st.integers(-4, 3), max_size=12), st.integers(0, 5))
def test_getitem_along_one_axis_adds_up_the_gradients_of_repeats(axis, positions, seed):
    # x[:, ..., positions]: -1 and 3 are one position; each gradient lands where it was read
    x = mg.tensor(np.zeros((4, 4, 4)), requires_grad=True)
    index = (slice(None),) * axis + (np.array(positions, dtype=np.int64),)
    grad = random_array(*x[index].shape, seed=seed)
    x[index].backward(grad)
    expected = np.zeros((4, 4, 4))
    np.add.at(expected, index, grad)
    np.testing.assert_array_equal(x.grad.data, expected)


def test_broadcast_to_gradient_sums_the_copies():
    x = mg.tensor(np.ones((3, 1)), requires_grad=True)
    x.broadcast_to((2, 3, 4)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((3, 1), 8.0))


@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), max_size=3),
    stretch=st.lists(st.booleans(), min_size=3, max_size=3),
    leading=st.lists(st.integers(1, 3), max_size=2),
    layout=st.sampled_from(["ordered", "transposed", "a view into a larger array"]),
)
def test_a_broadcast_view_is_numpys(shape, stretch, leading, layout):
    from minigrad.primitives import _broadcast_view

    base = np.arange(float(np.prod(shape) * 2)).astype(np.float32)
    x = base[: int(np.prod(shape))].reshape(shape)
    if layout == "transposed":
        x = x.T
    elif layout == "a view into a larger array":
        x = base[len(base) // 2 :][: x.size].reshape(x.shape)
    # Cut some axes to length 1, so that the target stretches them.
    x = x[(*(slice(0, 1) if flag else slice(None) for flag, _ in zip(stretch, x.shape)), ...)]
    target = (*leading, *(n + 2 if flag and n == 1 else n for flag, n in zip(stretch, x.shape)))
    view, expected = _broadcast_view(x, target), np.broadcast_to(x, target)
    np.testing.assert_array_equal(view, expected)
    assert view.shape == expected.shape and view.dtype == x.dtype
    assert not view.flags.writeable and np.shares_memory(view, x)
    owner = x if x.base is None else x.base
    assert view.base is owner or view.base is x


def test_shape_ops_on_a_0d_tensor():
    x = mg.tensor(np.float64(2.0), requires_grad=True)
    assert x.flatten().shape == (1,)
    assert x.reshape(1, 1).shape == (1, 1)
    assert_gradcheck(lambda t: t.reshape(1, 1, 1).broadcast_to((2, 1, 3)), random_array())


def test_indexing_with_an_empty_list_gives_an_empty_tensor():
    x = mg.tensor(random_array(3, 2), requires_grad=True)
    out = x[[]]
    assert out.shape == (0, 2)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros((3, 2)))


def test_squeeze_of_an_axis_longer_than_one_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r"squeeze: axis 1 of a tensor of shape \(2, 3\) has length 3"):
        mg.zeros(2, 3).squeeze(1)


def test_squeeze_and_unsqueeze_of_a_0d_tensor():
    x = mg.tensor(2.0, requires_grad=True)
    assert x.squeeze() is x and x.squeeze(0) is x and x.squeeze(-1) is x  # as numpy and PyTorch
    with pytest.raises(ValueError, match="squeeze: axis 1 is out of range"):
        x.squeeze(1)
    assert x.unsqueeze(0).shape == (1,) and x.unsqueeze(-1).shape == (1,)
    with pytest.raises(ValueError, match="unsqueeze: axis 1 is out of range"):
        x.unsqueeze(1)


def test_clone_has_memory_of_its_own_and_passes_gradients_back():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    copy = x.clone()
    copy.data[0] = 5.0
    assert x.data[0] == 1.0 and copy.requires_grad and not copy.is_leaf
    (copy * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])
    assert not x.detach().clone().requires_grad


# ---- joining --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shapes", "axis"),
    [
        (((2, 3), (4, 3)), 0),
        (((2, 3), (2, 1), (2, 2)), 1),
        (((2, 3, 1), (2, 3, 2)), -1),
        (((3,), (3,)), 0),
    ],
    ids=str,
)
def test_concatenate(shapes, axis):
    arrays = [random_array(*shape, seed=seed) for seed, shape in enumerate(shapes)]
    out = mg.concatenate([mg.tensor(a) for a in arrays], axis=axis)
    np.testing.assert_array_equal(out.data, np.concatenate(arrays, axis=axis))
    assert_gradcheck(lambda *ts: mg.concatenate(ts, axis=axis), *arrays)


def test_concatenate_with_a_constant():
    x = random_array(2, 3)
    constant = mg.tensor(np.ones((1, 3)))
    assert_gradcheck(lambda t: mg.concatenate([constant, t, constant]), x)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack(axis):
    arrays = [random_array(2, 3, seed=seed) for seed in range(3)]
    out = mg.stack([mg.tensor(a) for a in arrays], axis=axis)
    np.testing.assert_array_equal(out.data, np.stack(arrays, axis=axis))
    assert_gradcheck(lambda *ts: mg.stack(ts, axis=axis), *arrays)


# ---- flip, split, chunk, expand ----------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(shape_and_axis=shapes_and_axes())
def test_flip_matches_numpy_and_passes_gradcheck(shape_and_axis):
    shape, axis = shape_and_axis
    x = random_array(*shape)
    np.testing.assert_array_equal(mg.flip(mg.tensor(x), axis).data, np.flip(x, axis))
    assert_gradcheck(lambda t: t.flip(axis), x)


# (shape, split_size_or_sections, axis, the pieces' lengths along axis): PyTorch 2.13's, checked by hand
SPLITS = [
    ((5, 2), 2, 0, [2, 2, 1]),
    ((5, 2), 5, 0, [5]),
    ((5, 2), 7, 0, [5]),
    ((5, 2), 1, 1, [1, 1]),
    ((5, 2), [1, 4], 0, [1, 4]),
    ((5, 2), (3, 0, 2), -2, [3, 0, 2]),
    ((2, 0), 2, 1, [0]),
    ((2, 0), [0, 0], 1, [0, 0]),
]


@pytest.mark.parametrize(("shape", "sizes", "axis", "lengths"), SPLITS, ids=str)
def test_split_cuts_pieces_of_pytorchs_lengths(shape, sizes, axis, lengths):
    x = random_array(*shape)
    pieces = mg.tensor(x).split(sizes, axis)
    assert isinstance(pieces, tuple) and [piece.shape[axis] for piece in pieces] == lengths
    np.testing.assert_array_equal(np.concatenate([piece.data for piece in pieces], axis), x)
    if x.size:
        assert_gradcheck(lambda t: mg.concatenate(weighted(mg.split(t, sizes, axis)), axis), x)


def weighted(pieces):
    """Each piece times a different number, so that a gradient in the wrong place shows."""
    return [piece * (number + 1) for number, piece in enumerate(pieces)]


# (length, chunks, the pieces' lengths): PyTorch 2.13's, checked by hand
CHUNKS = [(6, 4, [2, 2, 2]), (5, 3, [2, 2, 1]), (5, 10, [1, 1, 1, 1, 1]), (5, 1, [5]), (0, 3, [0, 0, 0])]


@pytest.mark.parametrize(("length", "chunks", "lengths"), CHUNKS, ids=str)
def test_chunk_cuts_pytorchs_pieces(length, chunks, lengths):
    x = random_array(2, length)
    pieces = mg.tensor(x).chunk(chunks, axis=-1)
    assert isinstance(pieces, tuple) and [piece.shape for piece in pieces] == [(2, n) for n in lengths]
    np.testing.assert_array_equal(np.concatenate([piece.data for piece in pieces], 1), x)
    if x.size:
        assert_gradcheck(lambda t: mg.concatenate(weighted(mg.chunk(t, chunks, 1)), 1), x)


# (sizes, the result's shape) for a tensor of shape (3, 1): PyTorch 2.13's, checked by hand
EXPANDS = [
    ((2, 3, 4), (2, 3, 4)),
    ((-1, 4), (3, 4)),
    ((3, -1), (3, 1)),
    ((2, -1, -1), (2, 3, 1)),
    ((3, 0), (3, 0)),
    (((2, 3, 4),), (2, 3, 4)),
    (([3, 5],), (3, 5)),
]


@pytest.mark.parametrize(("sizes", "shape"), EXPANDS, ids=str)
def test_expand_is_pytorchs_broadcast(sizes, shape):
    x = random_array(3, 1)
    out = mg.tensor(x).expand(*sizes)
    assert out.shape == shape
    np.testing.assert_array_equal(out.data, np.broadcast_to(x, shape))
    assert_gradcheck(lambda t: t.expand(*sizes) * random_array(*shape), x)


def test_expand_is_a_broadcast_to_in_the_graph():
    x = mg.tensor(np.ones((3, 1)), requires_grad=True)
    out = x.expand(2, -1, 4)
    assert out.op.name == "broadcast_to"
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((3, 1), 8.0))


CUTTING_ERRORS = {
    "split sizes that do not add up": (
        lambda t: t.split([2, 2]),
        ValueError,
        r"split: the lengths \[2, 2\] add up to 4, but axis 0 has length 5",
    ),
    "split a negative length": (
        lambda t: t.split([6, -1]),
        ValueError,
        r"split: the lengths .* non-negative",
    ),
    "split pieces of 0": (
        lambda t: t.split(0),
        ValueError,
        "split: the length of the pieces must be positive",
    ),
    "split pieces of -1": (
        lambda t: t.split(-1),
        ValueError,
        "split: the length of the pieces must be positive",
    ),
    "split a float": (lambda t: t.split(2.0), TypeError, "split: give the length of the pieces"),
    "split a 0-d tensor": (lambda t: t[0, 0].split(1), ValueError, "split: a 0-d tensor has no axis"),
    "split a bad axis": (lambda t: t.split(1, 2), ValueError, "split: axis 2 is out of range"),
    "chunk 0": (lambda t: t.chunk(0), ValueError, "chunk: chunks must be at least 1, got 0"),
    "chunk a float": (lambda t: t.chunk(2.0), TypeError, "chunk: chunks must be an int"),
    "chunk a 0-d tensor": (lambda t: t[0, 0].chunk(1), ValueError, "chunk: a 0-d tensor has no axis"),
    "chunk a bad axis": (lambda t: t.chunk(2, -3), ValueError, "chunk: axis -3 is out of range"),
    "expand to fewer sizes": (
        lambda t: t.expand(2),
        ValueError,
        r"expand: sizes \(2,\) are fewer than the 2 axes",
    ),
    "expand a new axis to -1": (lambda t: t.expand(-1, 5, 2), ValueError, r"expand: .* axis 0 .* length -1"),
    "expand an axis longer than 1": (
        lambda t: t.expand(4, 2),
        ValueError,
        r"expand: cannot expand shape \(5, 2\) to \(4, 2\): axis 0 .* length 4 \(-1 keeps its length 5\)",
    ),
    "expand to a float": (lambda t: t.expand(5, 2.0), TypeError, "expand: the sizes must be ints"),
    "flip a bad axis": (lambda t: t.flip(2), ValueError, "flip: axis 2 is out of range"),
    "flip an axis twice": (lambda t: t.flip((0, -2)), ValueError, "flip: axis .* names the same axis twice"),
    "cumsum a bad axis": (lambda t: t.cumsum(2), ValueError, "cumsum: axis 2 is out of range"),
    "cumsum a tuple of axes": (lambda t: t.cumsum((0, 1)), TypeError, "cumsum: axis must be an int or None"),
    "cumsum a 0-d tensor along axis 1": (
        lambda t: t[0, 0].cumsum(1),
        ValueError,
        "cumsum: axis 1 is out of range",
    ),
    "prod a bad axis": (lambda t: t.prod(-3), ValueError, "prod: axis -3 is out of range"),
}


@pytest.mark.parametrize("name", CUTTING_ERRORS)
def test_bad_sizes_and_axes_are_errors_naming_the_op(name):
    call, error, message = CUTTING_ERRORS[name]
    with pytest.raises(error, match=message):
        call(mg.tensor(random_array(5, 2)))


# Each new op on float32 gives float32, and so does its gradient.
FLOAT32_OPS = {
    "log1p": lambda t: t.log1p(),
    "expm1": lambda t: t.expm1(),
    "sin": lambda t: t.sin(),
    "cos": lambda t: t.cos(),
    "erf": lambda t: t.erf(),
    "square": lambda t: t.square(),
    "cumsum": lambda t: t.cumsum(1),
    "cumsum flattened": lambda t: t.cumsum(),
    "prod": lambda t: t.prod(0),
    "prod with a 0": lambda t: mg.concatenate([t, mg.zeros(1, 3)]).prod(0),
    "flip": lambda t: t.flip(),
    "split": lambda t: t.split([1, 1])[1],
    "chunk": lambda t: t.chunk(3, axis=1)[0],
    "expand": lambda t: t[:1].expand(4, -1),
}


@pytest.mark.parametrize("name", FLOAT32_OPS)
def test_new_ops_keep_float32(name):
    x = mg.tensor(random_array(2, 3, positive=True).astype(np.float32), requires_grad=True)
    out = FLOAT32_OPS[name](x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


# ---- matmul ---------------------------------------------------------------------------------

MATMUL_SHAPES = [
    ((3, 4), (4, 2)),
    ((4,), (4, 2)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((5, 3, 4), (5, 4, 2)),
    ((5, 3, 4), (4, 2)),
    ((3, 4), (5, 4, 2)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (5, 4, 2)),
    ((5, 3, 4), (4,)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_forward_matches_numpy(shapes):
    a, b = random_array(*shapes[0], seed=1), random_array(*shapes[1], seed=2)
    out = mg.tensor(a, requires_grad=True) @ mg.tensor(b, requires_grad=True)
    expected = a @ b
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    np.testing.assert_allclose(mg.matmul(mg.tensor(a), mg.tensor(b)).data, expected, rtol=1e-12)


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul_gradcheck(shapes):
    a, b = random_array(*shapes[0], seed=1), random_array(*shapes[1], seed=2)
    assert_gradcheck(lambda x, y: x @ y, a, b)


def test_matmul_gradients_are_the_textbook_formulas():
    a, b = random_array(3, 4, seed=1), random_array(4, 2, seed=2)
    ta, tb = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    (ta @ tb).sum().backward()
    np.testing.assert_allclose(ta.grad.data, np.ones((3, 2)) @ b.T)
    np.testing.assert_allclose(tb.grad.data, a.T @ np.ones((3, 2)))


# ---- the graph shows the chain rule at work ----------------------------------------------


def recorded_ops(output):
    """Every op in the graph behind ``output``."""
    ops, seen, stack = [], set(), [output]
    while stack:
        tensor = stack.pop()
        if tensor.op is None or id(tensor.op) in seen:
            continue
        seen.add(id(tensor.op))
        ops.append(tensor.op)
        stack.extend(tensor.op.inputs)
    return ops


def test_broadcasting_is_an_op_in_the_graph():
    a = mg.tensor(np.ones((3, 4)), requires_grad=True)
    b = mg.tensor(np.ones(4), requires_grad=True)
    out = a + b
    assert out.op.name == "add"
    assert out.op.inputs[0] is a
    assert out.op.inputs[1].op.name == "broadcast_to"
    assert out.op.inputs[1].op.inputs[0] is b
    assert out.op.inputs[1].shape == (3, 4)


def test_same_shapes_need_no_broadcast_node():
    a = mg.tensor(np.ones((3, 4)), requires_grad=True)
    out = a * mg.tensor(np.ones((3, 4)), requires_grad=True)
    assert [op.name for op in recorded_ops(out)] == ["mul"]


def test_sum_backward_is_a_broadcast():
    x = mg.tensor(np.ones((2, 3)), requires_grad=True)
    upstream = mg.tensor(np.float64(2.0), requires_grad=True)
    (grad,) = mg.grad(x.sum(), x, grad_outputs=upstream, create_graph=True)
    assert grad.op.name == "broadcast_to"
    np.testing.assert_array_equal(grad.data, np.full((2, 3), 2.0))


def test_broadcast_backward_is_a_sum():
    x = mg.tensor(np.ones((3, 1)), requires_grad=True)
    upstream = mg.tensor(np.ones((2, 3, 4)), requires_grad=True)
    (grad,) = mg.grad(x.broadcast_to((2, 3, 4)), x, grad_outputs=upstream, create_graph=True)
    assert "sum" in [op.name for op in recorded_ops(grad)]
    assert "broadcast_to" not in [op.name for op in recorded_ops(grad)]


def test_var_ops_carry_nested_composite_scopes():
    x = mg.tensor(random_array(2, 3), requires_grad=True)
    ops = recorded_ops(x.var())
    scopes = [tuple(scope.label for scope in op.scope) for op in ops]
    assert all(labels[0] == "var" for labels in scopes)
    assert ("var", "mean") in scopes
    assert ("var",) in scopes
    inner_sum = next(op for op in ops if op.name == "sum" and len(op.scope) == 2)
    assert inner_sum.scope[1].label == "mean"
    assert inner_sum.scope[1].kind == "composite"


def test_std_wraps_var_wraps_mean():
    x = mg.tensor(random_array(2, 3), requires_grad=True)
    out = x.std()
    assert [scope.label for scope in out.op.scope] == ["std"]
    labels = {tuple(scope.label for scope in op.scope) for op in recorded_ops(out)}
    assert labels == {("std",), ("std", "var"), ("std", "var", "mean")}


def test_each_composite_call_is_its_own_scope():
    x = mg.tensor(random_array(2, 3), requires_grad=True)
    first, second = x.mean(), x.mean()
    assert first.op.scope[0] is not second.op.scope[0]


def test_primitive_ops_outside_composites_have_no_scope():
    x = mg.tensor(random_array(2, 3), requires_grad=True)
    assert (x * 2).op.scope == ()


# ---- no silent state: ops leave their inputs alone ---------------------------------------


@settings(max_examples=25, deadline=None)
@given(shape_and_axis=shapes_and_axes())
def test_ops_do_not_change_their_inputs(shape_and_axis):
    shape, axis = shape_and_axis
    x = random_array(*shape)
    t = mg.tensor(x, requires_grad=True)
    out = (t.var(axis) + t.max(axis) * 2 + t.exp().sum(axis)).sum()
    out.backward()
    np.testing.assert_array_equal(t.data, x)


def test_astype_converts_and_sends_gradients_back_in_the_input_dtype():
    x = mg.tensor(np.array([1.5, -2.0], dtype=np.float32), requires_grad=True)
    y = x.astype(np.float64)
    assert y.dtype == np.float64 and y.op.name == "cast"
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, [3.0, -4.0])
    assert x.astype(np.float32) is x
    # A float32 detour rounds to ~1e-7, so the finite-difference step must be larger.
    assert_gradcheck(
        lambda t: (t.astype(np.float32) * 2).astype(np.float64), random_array(3), eps=1e-2, atol=1e-3
    )


def test_a_0d_float64_tensor_does_not_widen_float32_tensors_as_in_pytorch():
    x = mg.ones(3, requires_grad=True)
    scale = mg.tensor(np.float64(0.5), requires_grad=True)
    out = x * scale
    assert out.dtype == np.float32 and (x * np.array(0.5)).dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32 and scale.grad.dtype == np.float64
    assert scale.grad.item() == 3.0
    assert (mg.tensor(np.float32(2.0)) * scale).dtype == np.float64  # all 0-d: the wider one
    assert (mg.tensor([1, 2]) * scale).dtype == np.float64  # integers take the float's dtype


def test_a_float32_tensor_meets_a_float64_one_through_a_recorded_cast():
    # As in PyTorch: the result is float64, and each leaf's gradient has its own dtype.
    x = mg.tensor(np.array([1.5, -2.0], dtype=np.float32), requires_grad=True)
    w = mg.tensor(np.array([3.0, 0.25]), requires_grad=True)
    y = x * w
    assert y.dtype == np.float64 and y.op.inputs[0].op.name == "cast"
    y.sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.data, np.float32([3.0, 0.25]))
    np.testing.assert_array_equal(w.grad.data, [1.5, -2.0])
    (grad_x,) = mg.grad((x @ w) * 2.0, x)
    assert grad_x.dtype == np.float32
    np.testing.assert_array_equal(grad_x.data, np.float32([6.0, 0.5]))


def test_integers_meeting_a_float_tensor_are_converted_without_a_node():
    x = mg.tensor(np.array([1.5, -2.0], dtype=np.float32), requires_grad=True)
    y = mg.tensor([2, 3]) * x
    assert y.dtype == np.float32 and y.op.inputs[0].op is None
    np.testing.assert_array_equal(y.data, np.float32([3.0, -6.0]))


def test_astype_to_integers_is_not_recorded():
    x = mg.tensor([1.7, -2.2], requires_grad=True)
    rounded = x.astype(np.int64)
    assert rounded.dtype == np.int64 and not rounded.requires_grad
    np.testing.assert_array_equal(rounded.data, [1, -2])


def test_argmax_and_argmin_match_numpy_and_carry_no_gradient():
    data = random_array(3, 4)
    x = mg.tensor(data, requires_grad=True)
    for axis in (None, 0, 1, -1):
        np.testing.assert_array_equal(x.argmax(axis).data, np.argmax(data, axis=axis))
        np.testing.assert_array_equal(x.argmin(axis).data, np.argmin(data, axis=axis))
    assert x.argmax(axis=1, keepdims=True).shape == (3, 1)
    assert not x.argmax().requires_grad
    with pytest.raises(ValueError, match="argmax"):
        x.argmax(axis=2)


# ---- where the formula is 0 * inf, as PyTorch gives it -------------------------------------


def test_pow_gradients_are_zero_where_the_formula_is_zero_times_infinity():
    # PyTorch's values: d(x ** 0)/dx = 0 at x = 0; d(a ** b)/db = 0 at a = 0, b >= 0.
    x = mg.tensor(np.array([0.0, 1.0]), requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
    a = mg.tensor(np.array([0.0, 2.0]), requires_grad=True)
    b = mg.tensor(np.array([2.0, 3.0]), requires_grad=True)
    (a**b).sum().backward()
    np.testing.assert_allclose(a.grad.data, [0.0, 12.0])
    np.testing.assert_allclose(b.grad.data, [0.0, 8 * np.log(2.0)])
    t = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (0.0**t).sum().backward()
    np.testing.assert_array_equal(t.grad.data, [0.0, 0.0])
    x = mg.tensor(np.array([0.0, 1.0]), requires_grad=True)
    (x**x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.0, 1.0])
    # Elsewhere the rule is the formula: a tensor exponent, gradchecked away from 0.
    assert_gradcheck(lambda a, b: a**b, random_array(3) ** 2 + 0.5, random_array(3, seed=1))


def test_higher_derivatives_of_a_constant_power_0_at_0_are_0():
    # The 0th term of a polynomial: x**0 is 1 for every x, so every derivative is 0, as in PyTorch.
    x = mg.tensor(np.array([0.0, 2.0]), requires_grad=True)
    (first,) = mg.grad((x**0).sum(), x, create_graph=True)
    np.testing.assert_array_equal(first.data, [0.0, 0.0])
    polynomial = lambda t: (1.5 * t**0 + 2.0 * t**1 + 3.0 * t**2).sum()  # noqa: E731
    (slope,) = mg.grad(polynomial(x), x, create_graph=True)
    (curvature,) = mg.grad(slope.sum(), x)
    np.testing.assert_array_equal(slope.data, [2.0, 14.0])
    np.testing.assert_array_equal(curvature.data, [6.0, 6.0])


def test_std_of_equal_values_has_a_zero_gradient():
    x = mg.tensor(np.array([[2.0, 1.0], [2.0, 3.0]]), requires_grad=True)
    std = x.std(axis=0, ddof=1)
    std.sum().backward()
    np.testing.assert_allclose(std.data, [0.0, np.sqrt(2.0)])
    np.testing.assert_allclose(x.grad.data, [[0.0, -np.sqrt(0.5)], [0.0, np.sqrt(0.5)]])
    constant = mg.tensor(np.full(3, 2.0, dtype=np.float32), requires_grad=True)
    constant.std().backward()
    assert constant.grad.dtype == np.float32
    np.testing.assert_array_equal(constant.grad.data, np.zeros(3, np.float32))


# ---- an op keeps its own copy of what its rule reads later ----------------------------------


def test_changing_an_index_array_after_the_forward_pass_changes_no_gradient():
    index = np.array([0, 1])
    x = mg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = x[index]
    index[:] = 2
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.data, [1.0, 10.0, 0.0])
    mask = np.array([True, False, True])
    x = mg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = x[mask]
    mask[:] = False
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 1.0])


def test_changing_a_where_condition_after_the_forward_pass_changes_no_gradient():
    condition = np.array([True, False])
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = mg.where(condition, x, 0.0)
    condition[:] = False
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0])


def test_an_op_that_changes_nothing_hands_out_no_shared_constant():
    # The tensor for 2.0 is shared by every op that meets 2.0; a reshape that changes
    # nothing must not give it to the caller, who could then change it for all.
    for unchanged in (
        mg.reshape(2.0, ()),
        mg.transpose(2.0),
        mg.broadcast_to(2.0, ()),
        mg.ops.astype(2.0, mg.get_default_dtype()),
    ):
        unchanged.requires_grad_()
        unchanged.name = "changed"
        unchanged.data[...] = 5.0
    y = mg.tensor(np.ones(2, dtype=np.float32)) * 2.0
    assert not y.requires_grad
    np.testing.assert_array_equal(y.data, [2.0, 2.0])


def test_mean_var_and_std_take_arrays_lists_and_numbers_like_every_op():
    values = [1.0, 2.0, 4.0]
    for argument in (np.array(values), values):
        np.testing.assert_allclose(mg.mean(argument).data, np.mean(values))
        np.testing.assert_allclose(mg.var(argument, ddof=1).data, np.var(values, ddof=1))
        np.testing.assert_allclose(mg.std(argument).data, np.std(values), rtol=1e-6)
    assert mg.std(2.0).item() == 0.0


# ---- integers: no gradient, so no detour through negation --------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.uint64, np.int64, np.bool_])
def test_min_argmin_and_minimum_of_integers_and_bools_match_numpy(dtype):
    # min was -max(-x), and negating an unsigned int wraps around (or fails, for bool).
    info = np.iinfo(dtype) if dtype is not np.bool_ else None
    values = (
        np.array([3, 1, 0, 2], dtype=dtype)
        if info is None or info.min == 0
        else np.array([3, info.min, 0, 2], dtype=dtype)
    )
    other = np.array([1, 0, 1, 1], dtype=dtype)
    t = mg.tensor(values)
    assert t.min().item() == values.min() and t.min().dtype == values.dtype
    assert t.argmin().item() == np.argmin(values)
    np.testing.assert_array_equal(mg.minimum(t, mg.tensor(other)).data, np.minimum(values, other))


def test_argmax_and_argmin_take_one_axis():
    with pytest.raises(TypeError, match=r"argmax: axis must be an int or None, got \(0, 1\)"):
        mg.zeros(2, 3).argmax(axis=(0, 1))
    with pytest.raises(ValueError, match=r"argmin: axis 0 of a tensor of shape \(0,\) is empty"):
        mg.zeros(0).argmin()
    assert mg.zeros(0, 3).argmax(axis=1).shape == (0,)  # as numpy: nothing to reduce, no error


def test_broadcast_to_takes_an_int_as_a_one_axis_shape_like_numpy():
    np.testing.assert_array_equal(mg.broadcast_to(mg.tensor(2.0), 3).data, np.broadcast_to(2.0, 3))


# ---- logsumexp -----------------------------------------------------------------------------


@settings(deadline=None, max_examples=30)
@given(shapes_and_axes(), st.booleans())
def test_logsumexp_matches_numpy_and_its_gradient_is_softmax(shape_and_axis, keepdims):
    shape, axis = shape_and_axis
    x = np.asarray(random_array(*shape) * 3)
    expected = np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(mg.logsumexp(mg.tensor(x), axis, keepdims).data, expected, rtol=1e-12)
    assert_gradcheck(lambda t: mg.logsumexp(t, axis, keepdims), x)


def test_logsumexp_is_exact_for_large_and_infinite_values():
    x = mg.tensor([[1000.0, 1000.0], [-np.inf, -np.inf], [np.inf, 1.0], [-np.inf, 2.0]], dtype=np.float64)
    x.requires_grad_()
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) for the row of -inf, as in numpy
        result = x.logsumexp(axis=1)
        result[[0, 3]].sum().backward()
    np.testing.assert_array_equal(result.data[1:], [-np.inf, np.inf, 2.0])
    np.testing.assert_allclose(result.data[0], 1000.0 + np.log(2.0), rtol=1e-15)
    np.testing.assert_allclose(x.grad.data[[0, 3]], [[0.5, 0.5], [0.0, 1.0]])
    with np.errstate(divide="ignore"):
        assert x.logsumexp(axis=1, keepdims=True).shape == (4, 1)
    with np.errstate(divide="ignore"):
        assert mg.logsumexp(mg.zeros(0, 3), axis=0).data.tolist() == [-np.inf] * 3
    with pytest.raises(ValueError, match="logsumexp"):
        x.logsumexp(axis=2)


def test_a_python_int_too_large_for_any_integer_dtype_is_an_overflow_error():
    # numpy would hold it as an object and compute with Python ints: 2 ** 10**20 never ends.
    with pytest.raises(OverflowError, match="the Python int 100000000000000000000 is too large"):
        mg.tensor([2]) ** 10**20
    np.testing.assert_allclose((mg.tensor([2.0]) * 10**20).data, [2e20])  # a float tensor takes it


@pytest.mark.parametrize(
    "values", [[0.0, 2.0, 3.0, -1.5], [[0.0, 2.0, 3.0], [1.0, -2.0, 0.5]], [[1.0, 2.0], [0.0, 0.0]]]
)
def test_the_hessian_of_prod_at_zeros_is_the_product_of_the_other_others(values):
    # d2 prod / dx_i dx_j = the product of the values but x_i and x_j (0 on the diagonal)
    x = mg.tensor(np.array(values), requires_grad=True)
    (gradient,) = mg.grad(x.prod(axis=-1).sum(), x, create_graph=True)
    rows = np.atleast_2d(np.array(values))
    for row, index in np.ndindex(*rows.shape):
        (hessian_row,) = mg.grad(gradient[(row, index) if x.ndim > 1 else index], x)
        expected = [
            0.0 if other == index else np.prod(np.delete(rows[row], [index, other]))
            for other in range(rows.shape[1])
        ]
        np.testing.assert_allclose(np.atleast_2d(hessian_row.data)[row], expected)


def test_prod_with_one_zero_per_slice_never_multiplies_out_copies(monkeypatch):
    # Multiplying out n copies of a slice takes n times its memory: 12 GB for 40,000 values.
    from minigrad import primitives

    monkeypatch.setattr(primitives, "_multiplied_out", lambda *args: pytest.fail("multiplied out"))
    x = np.ones((3, 1000))
    x[0, 5] = x[2, 7] = 0.0
    t = mg.tensor(x, requires_grad=True)
    t.prod(axis=1).sum().backward()
    assert t.grad.data[0, 5] == 1.0 and t.grad.data[0, 6] == 0.0 and t.grad.data[1, 0] == 1.0


def test_prod_with_two_zeros_in_a_slice_multiplies_out_copies_only_for_higher_derivatives(monkeypatch):
    # Every first derivative of a slice with two 0s is 0; only a recorded rule needs the copies.
    from minigrad import primitives

    multiplied_out = primitives._multiplied_out
    calls = []
    monkeypatch.setattr(primitives, "_multiplied_out", lambda *args: calls.append(1) or multiplied_out(*args))
    x = np.ones((3, 1000))
    x[0, 5] = x[0, 9] = x[2, 7] = 0.0
    t = mg.tensor(x, requires_grad=True)
    t.prod(axis=1).sum().backward()
    assert not calls
    assert not t.grad.data[0].any() and t.grad.data[2, 7] == 1.0 and t.grad.data[1, 0] == 1.0
    (slope,) = mg.grad(t[0, :12].prod(), t, create_graph=True)
    assert calls and not slope.data.any()


def test_cumsum_of_float32_adds_up_in_float64_as_pytorch_does():
    tenths = mg.tensor(np.full(10**6, 0.1, dtype=np.float32))
    total = tenths.cumsum().data[-1]
    assert (
        tenths.cumsum().dtype == np.float32 and abs(total - 100000.0) < 0.01
    )  # float32 sums drift to 100958


# ---- gather ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, axis, index_shape",
    [((3, 4, 5), 0, (2, 4, 5)), ((3, 4, 5), 1, (3, 6, 2)), ((3, 4, 5), -1, (1, 2, 7)), ((4,), 0, (9,))],
)
def test_gather_picks_along_an_axis_and_adds_up_repeated_picks(shape, axis, index_shape):
    rng = np.random.default_rng(1)
    x = random_array(*shape)
    index = rng.integers(0, shape[axis], index_shape)
    # out[i, j, k] = x[i, index[i, j, k], k] for axis 1, and so on
    expected = np.empty(index_shape)
    for position in np.ndindex(*index_shape):
        source = list(position)
        source[axis] = index[position]
        expected[position] = x[tuple(source)]
    np.testing.assert_array_equal(mg.gather(mg.tensor(x), axis, index).data, expected)
    np.testing.assert_array_equal(mg.tensor(x).gather(axis, index).data, expected)
    assert_gradcheck(lambda t: mg.gather(t, axis, index), x)


def test_gather_errors_name_gather():
    x = mg.tensor(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="gather: the index must hold integers"):
        x.gather(1, np.zeros((2, 1)))
    with pytest.raises(
        ValueError, match=r"gather: an index of shape \(3, 1\) does not fit a tensor of shape \(2, 3\)"
    ):
        x.gather(1, np.zeros((3, 1), dtype=int))
    with pytest.raises(
        IndexError, match=r"gather: index values must be in \[0, 3\) along axis 1, got 0 to 3"
    ):
        x.gather(1, np.array([[0], [3]]))
    with pytest.raises(ValueError, match="gather: axis 2"):
        x.gather(2, np.zeros((2, 1), dtype=int))


def test_tensor_where_keeps_itself_where_the_condition_holds():
    x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    kept = x.where(x.data > 0, 0.0)
    np.testing.assert_array_equal(kept.data, [1.0, 0.0, 3.0])
    kept.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 1.0])


# ---- norm ------------------------------------------------------------------------------------


@settings(deadline=None, max_examples=25)
@given(shapes_and_axes(), st.booleans())
def test_norm_is_the_euclidean_norm_with_gradient_x_over_norm(shape_and_axis, keepdims):
    shape, axis = shape_and_axis
    x = np.asarray(random_array(*shape))
    expected = np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(mg.norm(mg.tensor(x), axis, keepdims).data, expected, rtol=1e-12)
    assume(np.all(expected > 1e-3))
    assert_gradcheck(lambda t: t.norm(axis, keepdims), x)


def test_the_gradient_of_a_zero_norm_is_zero_as_in_pytorch():
    x = mg.tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True)
    x.norm(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[0.0, 0.0], [0.6, 0.8]])
