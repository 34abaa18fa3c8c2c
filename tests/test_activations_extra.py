"""hardtanh, relu6, hardsigmoid, hardswish, mish, logsigmoid, softsign, tanhshrink and their modules
(minigrad/nn/functional/activations.py, minigrad/nn/activation.py)."""

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array

import minigrad as mg
from minigrad.nn.functional.activations import (
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    relu6,
    softsign,
    tanhshrink,
)
from minigrad.nn.activation import (
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    ReLU6,
    Softsign,
    Tanhshrink,
)


def softplus_reference(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0, x)


# Each function with its options, and its formula written out with numpy.
ACTIVATIONS = {
    "hardtanh": (hardtanh, lambda x: np.clip(x, -1, 1)),
    "hardtanh-(-2, 0.5)": (lambda x: hardtanh(x, -2.0, 0.5), lambda x: np.clip(x, -2, 0.5)),
    "relu6": (relu6, lambda x: np.minimum(np.maximum(x, 0), 6)),
    "hardsigmoid": (hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    "hardswish": (hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    "mish": (mish, lambda x: x * np.tanh(softplus_reference(x))),
    "logsigmoid": (logsigmoid, lambda x: -softplus_reference(-x)),
    "softsign": (softsign, lambda x: x / (1 + np.abs(x))),
    "tanhshrink": (tanhshrink, lambda x: x - np.tanh(x)),
}
SMOOTH = ["mish", "logsigmoid", "tanhshrink"]
WITH_INPLACE = {
    "hardtanh": hardtanh,
    "relu6": relu6,
    "hardsigmoid": hardsigmoid,
    "hardswish": hardswish,
    "mish": mish,
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_values(name):
    function, reference = ACTIVATIONS[name]
    x = random_array(4, 5) * 4
    np.testing.assert_allclose(function(mg.tensor(x)).data, reference(x), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_gradcheck(name, shape):
    assert_gradcheck(ACTIVATIONS[name][0], random_array(*shape) * 4)


@pytest.mark.parametrize("name", SMOOTH)
def test_smooth_activation_second_derivatives(name):
    assert_gradcheck(ACTIVATIONS[name][0], random_array(3, 4) * 3, second_order=True)


@pytest.mark.parametrize(
    ("name", "points", "slopes"),
    [
        ("hardtanh", [-1.0, 1.0, 0.0], [0.0, 0.0, 1.0]),
        ("hardtanh-(-2, 0.5)", [-2.0, 0.5], [0.0, 0.0]),
        ("relu6", [0.0, -0.0, 6.0], [0.0, 0.0, 0.0]),
        ("hardsigmoid", [-3.0, 3.0, 0.0], [0.0, 0.0, 1 / 6]),
        ("hardswish", [-3.0, 3.0, 0.0], [0.0, 1.0, 0.5]),
        ("mish", [0.0], [0.6]),  # tanh(log 2) = 0.6
        ("logsigmoid", [0.0], [0.5]),
        ("softsign", [0.0, -0.0], [1.0, 1.0]),
        ("tanhshrink", [0.0], [0.0]),
    ],
)
def test_slopes_at_the_kinks_are_pytorchs(name, points, slopes):
    # PyTorch 2.13.0's gradients exactly at each kink, checked by hand (but for hardsigmoid's
    # 1/6 between the kinks: PyTorch's is float32's, 0.16666667163, even for float64 inputs)
    x = mg.tensor(np.array(points), requires_grad=True)
    ACTIVATIONS[name][0](x).sum().backward()
    np.testing.assert_allclose(x.grad.data, slopes, rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", ["hardtanh", "relu6"])
def test_nan_passes_with_slope_1_as_in_pytorch(name):
    x = mg.tensor(np.array([np.nan]), requires_grad=True)
    result = ACTIVATIONS[name][0](x)
    result.sum().backward()
    assert np.isnan(result.data).all() and x.grad.data.tolist() == [1.0]


LARGE = np.array([-1e4, -800.0, -40.0, 40.0, 800.0, 1e4])


def step(left: float, right: float):
    """Slopes that are ``left`` for negative inputs and ``right`` for positive ones."""
    return lambda x: np.where(x < 0, left, right)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("name", "slopes"),
    [
        ("hardtanh", step(0.0, 0.0)),
        ("relu6", step(0.0, 0.0)),
        ("hardsigmoid", step(0.0, 0.0)),
        ("hardswish", step(0.0, 1.0)),
        ("mish", step(0.0, 1.0)),
        ("logsigmoid", step(1.0, 0.0)),
        ("softsign", lambda x: 1 / (1 + np.abs(x)) ** 2),
        ("tanhshrink", step(1.0, 1.0)),
    ],
)
def test_stable_for_large_inputs(name, slopes, dtype):
    function, reference = ACTIVATIONS[name]
    x = mg.tensor(LARGE.astype(dtype), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no inf, no nan, not even in between
        result = function(x)
        result.sum().backward()
    assert result.dtype == x.grad.dtype == dtype
    np.testing.assert_allclose(result.data, reference(LARGE).astype(dtype), rtol=1e-6)
    np.testing.assert_allclose(x.grad.data, slopes(LARGE), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_float32_stays_float32(name):
    x = mg.tensor(random_array(3, 4).astype(np.float32), requires_grad=True)
    result = ACTIVATIONS[name][0](x)
    result.sum().backward()
    assert result.dtype == x.grad.dtype == np.float32


@pytest.mark.parametrize("name", ["hardtanh", "relu6", "hardsigmoid", "hardswish", "mish", "logsigmoid"])
def test_drawn_as_one_box(name):
    result = ACTIVATIONS[name][0](mg.tensor(random_array(2, 3), requires_grad=True))
    assert result.op.scope[0].label == name


@pytest.mark.parametrize("name", WITH_INPLACE)
def test_inplace_returns_a_new_tensor_and_leaves_the_input(name):
    x = mg.tensor(random_array(3, 4) * 4)
    before = x.data.copy()
    result = WITH_INPLACE[name](x, inplace=True)
    np.testing.assert_array_equal(x.data, before)
    np.testing.assert_array_equal(result.data, WITH_INPLACE[name](x).data)


@pytest.mark.parametrize("name", WITH_INPLACE)
def test_inplace_must_be_a_bool(name):
    with pytest.raises(TypeError, match=f"{name}: inplace must be True or False, got 0.5"):
        WITH_INPLACE[name](mg.tensor(random_array(3)), inplace=0.5)


def test_hardtanh_bounds():
    with pytest.raises(
        ValueError, match=r"hardtanh: min_val \(2.0\) must not be greater than max_val \(1.0\)"
    ):
        hardtanh(mg.tensor(random_array(3)), 2.0, 1.0)
    np.testing.assert_array_equal(hardtanh(np.array([-1.0, 0.0, 3.0]), 0.5, 0.5).data, [0.5, 0.5, 0.5])


# ---- modules --------------------------------------------------------------------------------

MODULES = [
    (Hardtanh(-2.0, 0.5), "hardtanh-(-2, 0.5)"),
    (ReLU6(), "relu6"),
    (Hardsigmoid(), "hardsigmoid"),
    (Hardswish(), "hardswish"),
    (Mish(), "mish"),
    (LogSigmoid(), "logsigmoid"),
    (Softsign(), "softsign"),
    (Tanhshrink(), "tanhshrink"),
]


@pytest.mark.parametrize(("module", "name"), MODULES, ids=[name for _, name in MODULES])
def test_modules_compute_the_functions(module, name):
    x = mg.tensor(random_array(3, 4) * 4)
    np.testing.assert_array_equal(module(x).data, ACTIVATIONS[name][0](x).data)


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (Hardtanh(), "Hardtanh(min_val=-1.0, max_val=1.0)"),
        (Hardtanh(-2.0, 3.0, inplace=True), "Hardtanh(min_val=-2.0, max_val=3.0, inplace=True)"),
        (ReLU6(), "ReLU6()"),
        (ReLU6(inplace=True), "ReLU6(inplace=True)"),
        (Hardsigmoid(inplace=True), "Hardsigmoid()"),
        (Hardswish(inplace=True), "Hardswish()"),
        (Mish(), "Mish()"),
        (Mish(inplace=True), "Mish(inplace=True)"),
        (LogSigmoid(), "LogSigmoid()"),
        (Softsign(), "Softsign()"),
        (Tanhshrink(), "Tanhshrink()"),
    ],
)
def test_module_reprs_are_pytorchs(module, expected):
    # PyTorch 2.13.0's reprs, checked by hand (its Hardsigmoid and Hardswish never show inplace)
    assert repr(module) == expected


def test_relu6_is_a_hardtanh_as_in_pytorch():
    module = ReLU6()
    assert isinstance(module, Hardtanh) and (module.min_val, module.max_val) == (0.0, 6.0)


def test_module_argument_errors():
    with pytest.raises(ValueError, match=r"Hardtanh: max_val \(1.0\) must be greater than min_val \(1.0\)"):
        Hardtanh(1.0, 1.0)
    for module in (Hardtanh, Hardsigmoid, Hardswish, Mish):
        with pytest.raises(TypeError, match=f"{module.__name__}: inplace must be True or False"):
            module(inplace="yes")
    with pytest.raises(TypeError, match="ReLU6: inplace must be True or False"):
        ReLU6("yes")
