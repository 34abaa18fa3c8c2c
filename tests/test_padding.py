"""Padding: F.pad's four modes, the padding layers, and Conv2d's padding_mode.

Covers minigrad/nn/functional/padding.py and minigrad/nn/padding.py. Values are
checked against ``np.pad``, whose "constant", "reflect", "edge" and "wrap" modes are
PyTorch's constant, reflect, replicate and circular borders; gradients with gradcheck
in float64.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F  # noqa: N812
from minigrad import nn

NUMPY_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def reference_pad(x: np.ndarray, pad: tuple[int, ...], mode: str, value: float = 0.0) -> np.ndarray:
    """``np.pad`` with PyTorch's order of sizes (last axis first) and its negative sizes.

    A negative size cuts: after padding for reflect and replicate, before padding for
    constant and circular, as PyTorch does.
    """
    pairs = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        pairs[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    grow = [(max(before, 0), max(after, 0)) for before, after in pairs]
    cut = tuple(slice(max(-before, 0), min(after, 0) or None) for before, after in pairs)
    options = {"constant_values": value} if mode == "constant" else {}
    if mode in ("constant", "circular"):
        return np.pad(x[cut], grow, mode=NUMPY_MODES[mode], **options)
    return np.pad(x, grow, mode=NUMPY_MODES[mode])[cut]


def accepted(mode: str, length: int, before: int, after: int) -> bool:
    """Whether ``mode`` can pad an axis of ``length`` by ``(before, after)`` (the documented limits)."""
    cut = max(-before, 0) + max(-after, 0)
    if length + before + after < 0 or (mode in ("constant", "circular") and cut > length):
        return False
    if mode == "reflect":
        return max(before, after) < length
    if mode == "circular":
        return max(before, after) <= length - cut
    return True


@st.composite
def padding_cases(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...], str]:
    """A shape, pad sizes (some negative) that its mode accepts, and the mode."""
    mode = draw(st.sampled_from(sorted(NUMPY_MODES)))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=4)))
    pad: list[int] = []
    for length in reversed(shape[-draw(st.integers(1, len(shape))) :]):
        sides = st.tuples(st.integers(-length, 4), st.integers(-length, 4))
        pad += draw(sides.filter(lambda sizes, length=length: accepted(mode, length, *sizes)))
    return shape, tuple(pad), mode


@settings(max_examples=150, deadline=None)
@given(padding_cases(), st.booleans())
def test_pad_matches_numpy_in_every_mode(case, with_value):
    shape, pad, mode = case
    x = random_array(*shape)
    value = 2.5 if with_value and mode == "constant" else None
    expected = reference_pad(x, pad, mode, 0.0 if value is None else value)
    np.testing.assert_array_equal(F.pad(mg.tensor(x), pad, mode=mode, value=value).data, expected)


@settings(max_examples=40, deadline=None)
@given(padding_cases())
def test_pad_gradients_in_every_mode(case):
    shape, pad, mode = case
    assert_gradcheck(lambda x: F.pad(x, pad, mode=mode), random_array(*shape))


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("constant", [0, 0, 1, 2, 3, 0, 0]),
        ("reflect", [3, 2, 1, 2, 3, 2, 1]),
        ("replicate", [1, 1, 1, 2, 3, 3, 3]),
        ("circular", [2, 3, 1, 2, 3, 1, 2]),
    ],
)
def test_the_four_borders_of_a_row(mode, expected):
    x = mg.tensor([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(F.pad(x, (2, 2), mode=mode).data, [expected])


@pytest.mark.parametrize(
    ("mode", "copies"),
    [("constant", [1, 1, 1]), ("reflect", [2, 3, 2]), ("replicate", [3, 1, 3]), ("circular", [2, 3, 2])],
)
def test_each_copy_of_a_value_adds_its_gradient(mode, copies):
    # [1, 2, 3] padded (2, 2): how many places of the result each value fills.
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    F.pad(x, (2, 2), mode=mode).sum().backward()
    np.testing.assert_array_equal(x.grad.data, copies)


def test_negative_sizes_cut_after_reflecting_and_before_wrapping():
    x = mg.tensor([0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(F.pad(x, (-2, 3), mode="reflect").data, [2, 3, 2, 1, 0])
    np.testing.assert_array_equal(F.pad(x, (3, -2), mode="replicate").data, [0, 0, 0, 0, 1])
    np.testing.assert_array_equal(F.pad(x, (-1, 2), mode="circular").data, [1, 2, 3, 1, 2])
    np.testing.assert_array_equal(F.pad(x, (-1, -2)).data, [1])


def test_constant_pad_with_a_value_and_its_gradient():
    x = mg.tensor(random_array(2, 3), requires_grad=True)
    y = F.pad(x, (1, 0, 0, 2), value=-1.5)
    expected = np.full((4, 4), -1.5)
    expected[:2, 1:] = x.data
    np.testing.assert_array_equal(y.data, expected)
    y.backward(np.arange(16.0).reshape(4, 4))
    np.testing.assert_array_equal(x.grad.data, np.arange(16.0).reshape(4, 4)[:2, 1:])


def test_pad_keeps_the_dtype():
    x32 = mg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    for mode in NUMPY_MODES:
        y = F.pad(x32, (1, 1, 1, 1), mode=mode)
        assert y.dtype == np.float32
        y.sum().backward()
        assert x32.grad.dtype == np.float32
    integers = F.pad(mg.tensor(np.arange(3)), (1, 1), value=7)
    assert integers.dtype == np.arange(3).dtype
    np.testing.assert_array_equal(integers.data, [7, 0, 1, 2, 7])


def test_pad_of_nothing_returns_the_input_unchanged():
    x = mg.tensor(random_array(2, 3))
    np.testing.assert_array_equal(F.pad(x, (0, 0, 0, 0)).data, x.data)
    np.testing.assert_array_equal(F.pad(x, [0, 0], mode="reflect").data, x.data)


def test_pad_is_drawn_as_one_box_of_primitives():
    x = mg.tensor(random_array(2, 3), requires_grad=True)
    # reflect: one indexing per padded axis, the rows' first.
    columns = F.pad(x, (1, 1, 1, 1), mode="reflect").op
    rows = columns.parents[0]
    assert (rows.name, columns.name, rows.parents) == ("get_item", "get_item", (x,))
    # constant: x inside zeros (scatter_add), plus the border's value.
    border = F.pad(x, (1, 1, 1, 1), value=2.0).op
    assert (border.name, border.parents[0].name, border.parents[0].parents) == ("add", "scatter_add", (x,))
    assert all(op.scope[-1].label == "pad" for op in (rows, columns, border, border.parents[0]))


def test_second_derivatives_through_pad():
    def square_then_pad(x):
        return F.pad(x * x, (1, 2), mode="replicate")

    assert_gradcheck(square_then_pad, random_array(2, 3), second_order=True)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (((1, 1, 1),), {}, ValueError, r"pad: pad needs two sizes for each axis.*got 3"),
        (((1, 1, 1, 1, 1, 1),), {}, ValueError, r"pad: pad \(1, 1, 1, 1, 1, 1\) pads 3 axes.*\(2, 3\) has 2"),
        (((1.5, 1),), {}, TypeError, r"pad: pad must be a tuple or list of ints"),
        ((1,), {}, TypeError, r"pad: pad must be a tuple or list of ints"),
        (((1, 1),), {"mode": "wrap"}, ValueError, r"pad: mode must be one of 'constant', 'reflect'.*'wrap'"),
        (((1, 1),), {"mode": "reflect", "value": 1.0}, ValueError, r"pad: mode 'reflect'.*takes no value"),
        (((3, 0),), {"mode": "reflect"}, ValueError, r"each size must be less than the length; got \(3, 0\)"),
        (((0, 4),), {"mode": "circular"}, ValueError, r"wraps around at most once.*the 3 values"),
        (((-1, 3),), {"mode": "circular"}, ValueError, r"at most the 2 values it wraps; got \(-1, 3\)"),
        (((-2, -2),), {}, ValueError, r"pad: cutting 4 values from axis 1 of length 3"),
        (((5, -4),), {}, ValueError, r"pad: cutting 4 values from axis 1 of length 3"),
    ],
)
def test_pad_errors_name_the_sizes_and_the_shape(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        F.pad(mg.tensor(random_array(2, 3)), *args, **kwargs)


def test_replicate_needs_an_edge_value():
    with pytest.raises(ValueError, match=r"replicate has no edge value to repeat in the empty axis 1"):
        F.pad(mg.zeros(2, 0), (1, 1), mode="replicate")
    assert F.pad(mg.zeros(2, 0), (1, 1)).shape == (2, 2)


# ---- layers ---------------------------------------------------------------------------------

LAYERS = [
    (nn.ZeroPad1d, "constant", 1),
    (nn.ZeroPad2d, "constant", 2),
    (nn.ReflectionPad1d, "reflect", 1),
    (nn.ReflectionPad2d, "reflect", 2),
    (nn.ReplicationPad1d, "replicate", 1),
    (nn.ReplicationPad2d, "replicate", 2),
    (nn.CircularPad1d, "circular", 1),
    (nn.CircularPad2d, "circular", 2),
]


@pytest.mark.parametrize(("layer", "mode", "axes"), LAYERS)
def test_padding_layers_are_pad_in_their_mode(layer, mode, axes):
    x = mg.tensor(random_array(2, 3, 4, 5))
    sizes = (1, 2, 2, 1)[: 2 * axes]
    np.testing.assert_array_equal(layer(sizes)(x).data, reference_pad(x.data, sizes, mode))
    np.testing.assert_array_equal(layer(2)(x).data, reference_pad(x.data, (2,) * (2 * axes), mode))
    assert repr(layer(2)) == f"{layer.__name__}({(2,) * (2 * axes)})"
    assert list(layer(1).parameters()) == []


@pytest.mark.parametrize("layer", [nn.ConstantPad1d, nn.ConstantPad2d])
def test_constant_padding_layers_take_a_value(layer):
    x = mg.tensor(random_array(2, 3, 4))
    axes = 1 if layer is nn.ConstantPad1d else 2
    np.testing.assert_array_equal(
        layer(1, 3.5)(x).data, reference_pad(x.data, (1,) * (2 * axes), "constant", 3.5)
    )
    assert repr(layer(1, 3.5)) == f"{layer.__name__}(padding={(1,) * (2 * axes)}, value=3.5)"


def test_padding_layers_check_the_number_of_sizes():
    with pytest.raises(
        ValueError, match=r"ReflectionPad2d: padding must be an int or 4 ints \(left, right, top"
    ):
        nn.ReflectionPad2d((1, 1))
    with pytest.raises(ValueError, match=r"ZeroPad1d: padding must be an int or 2 ints \(left, right\)"):
        nn.ZeroPad1d((1, 1, 1, 1))


# ---- Conv2d's padding_mode -------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    ("kernel_size", "padding", "sides"),
    [(3, 1, (1, 1, 1, 1)), ((3, 2), (2, 1), (1, 1, 2, 2)), (4, "same", (1, 2, 1, 2)), (3, "valid", (0,) * 4)],
)
def test_conv2d_pads_with_its_padding_mode(mode, kernel_size, padding, sides):
    conv = nn.Conv2d(2, 3, kernel_size, padding=padding, padding_mode=mode, dtype=np.float64)
    x = mg.tensor(random_array(2, 2, 5, 6))
    expected = F.conv2d(mg.tensor(reference_pad(x.data, sides, mode)), conv.weight, conv.bias)
    np.testing.assert_allclose(conv(x).data, expected.data, rtol=1e-12, atol=1e-12)
    if padding == "same":
        assert conv(x).shape == (2, 3, 5, 6)


def test_circular_conv2d_of_a_periodic_image_is_periodic():
    # A 3x3 box filter on a torus: every output is the sum of its 9 neighbours, wrapping around.
    image = random_array(1, 1, 4, 5)
    conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False, dtype=np.float64)
    conv.weight.data[...] = 1.0
    neighbours = sum(np.roll(image, (i, j), axis=(2, 3)) for i in (-1, 0, 1) for j in (-1, 0, 1))
    np.testing.assert_allclose(conv(mg.tensor(image)).data, neighbours, rtol=1e-12)


def test_conv2d_gradients_through_a_reflected_border():
    conv = nn.Conv2d(2, 2, 3, padding=2, padding_mode="reflect", dtype=np.float64)
    # The weight is passed as it is, so gradcheck perturbs the module's own parameter.
    assert_gradcheck(lambda x, weight: conv(x), random_array(1, 2, 4, 4), conv.weight)


def test_conv2d_repr_and_bad_padding_mode():
    assert "padding_mode=circular" in repr(nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular"))
    assert "padding_mode" not in repr(nn.Conv2d(1, 2, 3))
    with pytest.raises(
        ValueError, match=r"Conv2d: padding_mode must be one of 'zeros', 'reflect'.*got 'wrap'"
    ):
        nn.Conv2d(1, 2, 3, padding_mode="wrap")
