"""Adaptive pooling: values, indices, gradients, modules, and errors.

Covers minigrad/nn/functional/adaptive.py and the AdaptiveAvgPool2d and
AdaptiveMaxPool2d modules of minigrad/nn/conv.py. Values are checked against a direct
reference written below, one window at a time; gradients with gradcheck in float64.
The reprs were checked by hand against PyTorch 2.13.0.
"""

from __future__ import annotations

import re
from fractions import Fraction
from math import ceil, floor

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F  # noqa: N812
from minigrad import nn, viz

# ---- the reference: one window at a time ------------------------------------------------------


def window(cell, cells, size):
    """The input positions that output ``cell`` of ``cells`` covers along an axis of ``size``."""
    return list(range(floor(Fraction(cell * size, cells)), ceil(Fraction((cell + 1) * size, cells))))


def reference_adaptive_pool(x, output_size):
    """The mean, the max and the index of the first max of each window, for a (..., H, W) array."""
    height, width = x.shape[-2:]
    out_h, out_w = output_size
    means = np.zeros((*x.shape[:-2], out_h, out_w))
    maxima = np.zeros((*x.shape[:-2], out_h, out_w))
    indices = np.zeros((*x.shape[:-2], out_h, out_w), dtype=np.int64)
    for i in range(out_h):
        for j in range(out_w):
            rows, cols = window(i, out_h, height), window(j, out_w, width)
            values = x[..., rows, :][..., cols]
            means[..., i, j] = values.mean(axis=(-2, -1))
            maxima[..., i, j] = values.max(axis=(-2, -1))
            first = values.reshape(*values.shape[:-2], -1).argmax(axis=-1)
            indices[..., i, j] = (
                np.array(rows)[first // len(cols)] * width + np.array(cols)[first % len(cols)]
            )
    return means, maxima, indices


def output_size_for(height, width, output_size):
    """``output_size`` (an int, or a pair with None for the input's size) as the result's (H, W)."""
    sizes = (output_size, output_size) if isinstance(output_size, int) else output_size
    return (height if sizes[0] is None else sizes[0], width if sizes[1] is None else sizes[1])


@st.composite
def adaptive_setups(draw):
    """An input shape, batched or not, with H and W from 1 to 9, and an output_size for it.

    The output sizes run past the input's (windows that repeat inputs) and include ones
    that do not divide it (overlapping windows of two lengths), None, and a single int.
    """
    height, width = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    leading = draw(st.sampled_from([(2, 3), (1, 2), (3,)]))
    rows = draw(st.one_of(st.none(), st.integers(1, height + 3)))
    columns = draw(st.one_of(st.none(), st.integers(1, width + 3)))
    output_size = draw(st.sampled_from([(rows, columns), rows or 1]))
    return (*leading, height, width), output_size


fast = settings(max_examples=60, deadline=None)


# ---- values ----------------------------------------------------------------------------------


@fast
@given(adaptive_setups())
def test_values_and_indices_match_the_reference(setup):
    shape, output_size = setup
    x = random_array(*shape)
    expected_size = output_size_for(*shape[-2:], output_size)
    means, maxima, indices = reference_adaptive_pool(x, expected_size)
    average = F.adaptive_avg_pool2d(mg.tensor(x), output_size)
    values, found = F.adaptive_max_pool2d(mg.tensor(x), output_size, return_indices=True)
    assert average.shape == values.shape == found.shape == (*shape[:-2], *expected_size)
    np.testing.assert_allclose(average.data, means, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(values.data, maxima)
    np.testing.assert_array_equal(found.data, indices)
    assert found.dtype == np.int64 and not found.requires_grad
    np.testing.assert_array_equal(F.adaptive_max_pool2d(mg.tensor(x), output_size).data, maxima)


def test_windows_overlap_and_repeat_as_in_pytorch():
    # 5 rows into 3 cells: rows 0-1, 1-3 and 3-4; 2 columns into 3 cells: 0, 0-1, 1.
    x = np.arange(10.0).reshape(1, 1, 5, 2)
    expected = [[[[1.0, 1.5, 2.0], [4.0, 4.5, 5.0], [7.0, 7.5, 8.0]]]]
    np.testing.assert_array_equal(F.adaptive_avg_pool2d(mg.tensor(x), 3).data, expected)
    values, indices = F.adaptive_max_pool2d(mg.tensor(x), 3, return_indices=True)
    np.testing.assert_array_equal(values.data, [[[[2.0, 3.0, 3.0], [6.0, 7.0, 7.0], [8.0, 9.0, 9.0]]]])
    np.testing.assert_array_equal(indices.data, values.data.astype(np.int64))  # x's values are positions


def test_output_size_one_is_the_global_mean_and_max_of_each_channel():
    x = random_array(2, 3, 5, 7)
    np.testing.assert_allclose(
        F.adaptive_avg_pool2d(mg.tensor(x), 1).data, x.mean(axis=(2, 3), keepdims=True), rtol=1e-12
    )
    np.testing.assert_array_equal(
        F.adaptive_max_pool2d(mg.tensor(x), (1, 1)).data, x.max(axis=(2, 3), keepdims=True)
    )


def test_none_keeps_the_input_size_and_the_input_size_is_the_identity():
    x = random_array(2, 3, 4, 6)
    np.testing.assert_array_equal(F.adaptive_max_pool2d(mg.tensor(x), (None, None)).data, x)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(mg.tensor(x), (4, 6)).data, x, rtol=1e-15)
    np.testing.assert_allclose(
        F.adaptive_avg_pool2d(mg.tensor(x), (None, 2)).data, x.reshape(2, 3, 4, 2, 3).mean(axis=4), rtol=1e-12
    )


@pytest.mark.parametrize(("size", "output_size"), [((6, 8), (3, 2)), ((6, 8), (1, 4)), ((9, 3), 3)])
def test_sizes_that_divide_the_input_are_plain_pooling(size, output_size):
    x = mg.tensor(random_array(2, 3, *size))
    out_h, out_w = output_size_for(*size, output_size)
    kernel = (size[0] // out_h, size[1] // out_w)
    np.testing.assert_allclose(
        F.adaptive_avg_pool2d(x, output_size).data, F.avg_pool2d(x, kernel).data, rtol=1e-12
    )
    np.testing.assert_array_equal(F.adaptive_max_pool2d(x, output_size).data, F.max_pool2d(x, kernel).data)


def test_an_unbatched_image_gives_the_batch_of_one_result():
    x = random_array(1, 3, 5, 4)
    for function in (
        lambda t: F.adaptive_avg_pool2d(t, (3, 6)),
        lambda t: F.adaptive_max_pool2d(t, (2, None)),
        lambda t: F.adaptive_max_pool2d(t, 3, return_indices=True)[1],
    ):
        batched, unbatched = function(mg.tensor(x)), function(mg.tensor(x[0]))
        assert unbatched.shape == batched.shape[1:]
        np.testing.assert_array_equal(unbatched.data, batched.data[0])


def test_float32_stays_float32_and_integers_are_averaged_as_floats():
    x = random_array(2, 3, 7, 5)
    means, maxima, _ = reference_adaptive_pool(x.astype(np.float32).astype(np.float64), (3, 4))
    average = F.adaptive_avg_pool2d(mg.tensor(x.astype(np.float32)), (3, 4))
    largest = F.adaptive_max_pool2d(mg.tensor(x.astype(np.float32)), (3, 4))
    assert average.dtype == largest.dtype == np.float32
    np.testing.assert_allclose(average.data, means, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(largest.data, maxima.astype(np.float32))
    counts = np.arange(20).reshape(1, 4, 5)
    assert F.adaptive_avg_pool2d(mg.tensor(counts), 2).dtype == mg.get_default_dtype()
    np.testing.assert_array_equal(F.adaptive_avg_pool2d(mg.tensor(counts), 1).data, [[[9.5]]])
    integer_max = F.adaptive_max_pool2d(mg.tensor(counts), 3)  # windows of unequal length: filled in
    assert integer_max.dtype == counts.dtype
    np.testing.assert_array_equal(integer_max.data, [[[6, 8, 9], [11, 13, 14], [16, 18, 19]]])


def test_tied_maxima_give_the_first_index():
    x = np.array([[[[1.0, 3.0, 3.0], [3.0, 0.0, 0.0]]]])
    values, indices = F.adaptive_max_pool2d(mg.tensor(x), 1, return_indices=True)
    assert (values.item(), indices.item()) == (3.0, 1)


def test_infinities_and_nans_stay_in_their_windows():
    # 5 into 3: rows (and columns) 0-1, 1-3 and 3-4; the shorter windows' filler copies
    # their first value, here the inf, and must not let it through.
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 0, 0], x[0, 0, 4, 4] = np.inf, np.nan
    expected = [[[[np.inf, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, np.nan]]]]
    tensor = mg.tensor(x, requires_grad=True)
    average = F.adaptive_avg_pool2d(tensor, 3)
    np.testing.assert_array_equal(average.data, expected)
    values, indices = F.adaptive_max_pool2d(mg.tensor(x), 3, return_indices=True)
    np.testing.assert_array_equal(values.data, expected)
    np.testing.assert_array_equal(indices.data, [[[[0, 1, 3], [5, 6, 8], [15, 16, 24]]]])
    average.sum().backward()
    assert np.isfinite(tensor.grad.data).all() and tensor.grad.data[0, 0, 0, 0] == 1 / 4


# ---- gradients -------------------------------------------------------------------------------


@fast
@given(adaptive_setups())
def test_gradients(setup):
    shape, output_size = setup
    x = random_array(*shape)
    assert_gradcheck(lambda t: F.adaptive_avg_pool2d(t, output_size), x)
    assert_gradcheck(lambda t: F.adaptive_max_pool2d(t, output_size), x)


def test_the_mean_spreads_each_gradient_over_its_window():
    # 3 rows into 2 cells: rows 0-1 and 1-2, so row 1 gets a share of both.
    x = mg.tensor(random_array(1, 1, 3, 2), requires_grad=True)
    F.adaptive_avg_pool2d(x, (2, 1)).backward(np.array([[[[1.0], [10.0]]]]))
    np.testing.assert_allclose(x.grad.data, [[[[0.25, 0.25], [2.75, 2.75], [2.5, 2.5]]]])


def test_tied_maxima_share_the_gradient_and_shorter_windows_are_not_diluted():
    # 5 rows into 3 cells: rows 0-1, 1-3 and 3-4, windows of 2, 3 and 2 values, all tied at 0.
    # Each shares its gradient among its own values only: 1/2, 1/3, 1/2 (the filler of
    # the two shorter windows takes none), and rows 1 and 3 get two shares each.
    x = mg.zeros(1, 1, 5, 1, dtype=np.float64, requires_grad=True)
    F.adaptive_max_pool2d(x, (3, 1)).sum().backward()
    np.testing.assert_allclose(x.grad.data.ravel(), [1 / 2, 1 / 2 + 1 / 3, 1 / 3, 1 / 3 + 1 / 2, 1 / 2])


def test_a_nan_takes_its_windows_gradient():
    x = mg.tensor([[[[1.0, np.nan], [2.0, 3.0]]]], requires_grad=True)
    F.adaptive_max_pool2d(x, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[[0.0, 1.0], [0.0, 0.0]]]])


def test_second_order_gradients():
    def network(t):
        y = t.tanh()
        return F.adaptive_max_pool2d(y, (2, 3)) * F.adaptive_avg_pool2d(y * y, (2, 3))

    assert_gradcheck(network, random_array(2, 1, 5, 4), second_order=True)


@pytest.mark.parametrize(
    ("name", "constants"),
    [("adaptive_avg_pool2d", ["constant"]), ("adaptive_max_pool2d", [])],  # the mean's window sizes
)
def test_is_drawn_as_one_box(name, constants):
    x = mg.tensor(random_array(1, 2, 5, 4), requires_grad=True)
    x.name = "x"
    titles = re.findall(r"<b>(.*?)</b>", viz.draw_graph(getattr(F, name)(x, 3), depth=0).source)
    assert sorted(titles) == sorted([name, "output", "x", *constants])


# ---- modules ---------------------------------------------------------------------------------


def test_modules_match_the_functions():
    x = mg.tensor(random_array(2, 3, 7, 6))
    np.testing.assert_array_equal(
        nn.AdaptiveAvgPool2d((3, None))(x).data, F.adaptive_avg_pool2d(x, (3, None)).data
    )
    np.testing.assert_array_equal(nn.AdaptiveMaxPool2d(4)(x).data, F.adaptive_max_pool2d(x, 4).data)
    values, indices = nn.AdaptiveMaxPool2d((2, 5), return_indices=True)(x)
    expected_values, expected_indices = F.adaptive_max_pool2d(x, (2, 5), return_indices=True)
    np.testing.assert_array_equal(values.data, expected_values.data)
    np.testing.assert_array_equal(indices.data, expected_indices.data)
    assert list(nn.AdaptiveAvgPool2d(1).parameters()) == [] and nn.AdaptiveMaxPool2d(1).state_dict() == {}


def test_module_reprs_are_pytorchs():
    # repr(...) of the same modules in PyTorch 2.13.0: output_size as it was given.
    assert repr(nn.AdaptiveAvgPool2d(1)) == "AdaptiveAvgPool2d(output_size=1)"
    assert repr(nn.AdaptiveAvgPool2d((5, 7))) == "AdaptiveAvgPool2d(output_size=(5, 7))"
    assert repr(nn.AdaptiveAvgPool2d([5, 7])) == "AdaptiveAvgPool2d(output_size=[5, 7])"
    assert repr(nn.AdaptiveMaxPool2d((None, 7))) == "AdaptiveMaxPool2d(output_size=(None, 7))"
    assert repr(nn.AdaptiveMaxPool2d(3, return_indices=True)) == "AdaptiveMaxPool2d(output_size=3)"


# ---- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["adaptive_avg_pool2d", "adaptive_max_pool2d"])
@pytest.mark.parametrize("shape", [(5, 6), (1, 2, 3, 4, 5), (2, 0, 4), (1, 2, 3, 0)])
def test_input_that_is_not_an_image_is_an_error(name, shape):
    with pytest.raises(ValueError, match=rf"{name}: .*{re.escape(str(shape))}"):
        getattr(F, name)(mg.zeros(*shape), 2)


BAD_OUTPUT_SIZES = [0, -1, (2, 0), (None, -3), 2.5, "3", (1, 2, 3), (2,), None, True, (2, 1.0)]


@pytest.mark.parametrize("name", ["adaptive_avg_pool2d", "adaptive_max_pool2d"])
@pytest.mark.parametrize("output_size", BAD_OUTPUT_SIZES, ids=repr)
def test_bad_output_size_is_an_error(name, output_size):
    with pytest.raises(ValueError, match=rf"{name}: output_size .*{re.escape(repr(output_size))}"):
        getattr(F, name)(mg.zeros(1, 2, 4, 4), output_size)


@pytest.mark.parametrize("module", [nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d])
@pytest.mark.parametrize("output_size", [0, (3, -1), 1.5], ids=repr)
def test_modules_reject_a_bad_output_size_when_made(module, output_size):
    with pytest.raises(ValueError, match=rf"{module.__name__}: output_size"):
        module(output_size)


def test_return_indices_must_be_a_bool():
    with pytest.raises(TypeError, match="adaptive_max_pool2d: return_indices"):
        F.adaptive_max_pool2d(mg.zeros(1, 2, 4, 4), 2, 1)
