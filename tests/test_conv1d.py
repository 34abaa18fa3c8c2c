"""1-D convolution and pooling: values, gradients, modules, and errors.

Covers the functions of minigrad/nn/functional/convolution1d.py and the 1-D modules of
minigrad/nn/conv.py. Values are checked against direct references written below, one
output position at a time; gradients with gradcheck in float64. Literal values, reprs
and state dict keys are PyTorch 2.13.0's, checked by hand.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import optim, viz
from minigrad.nn.conv import AvgPool1d, Conv1d, MaxPool1d
from minigrad.nn.container import Sequential
from minigrad.nn.functional.convolution1d import avg_pool1d, conv1d, max_pool1d
from minigrad.nn.functional.losses import cross_entropy
from minigrad.nn.activation import ReLU
from minigrad.nn.layers import Flatten, Linear

# ---- references: one output position at a time ---------------------------------------------


def reference_conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Each output position as its window of the zero-padded input times the filter, summed."""
    n, channels, length = x.shape
    out_channels, group_channels, kernel = weight.shape
    padded = np.zeros((n, channels, length + 2 * padding))
    padded[:, :, padding : padding + length] = x
    out_length = (length + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    out = np.zeros((n, out_channels, out_length))
    for o in range(out_channels):
        first = o // (out_channels // groups) * group_channels  # the group's first input channel
        for i in range(out_length):
            window = padded[
                :, first : first + group_channels, i * stride : i * stride + dilation * kernel : dilation
            ]
            out[:, o, i] = (window * weight[o]).sum(axis=(1, 2)) + (0 if bias is None else bias[o])
    return out


def pooling_windows(length, kernel, stride, padding, dilation, ceil_mode):
    """The positions each pooling window reads, in input coordinates (the padding is outside 0..length-1).

    Windows start at -padding, a stride apart. One counts if it ends inside the padded
    input; with ceil_mode, a last one hanging past the end counts too, if the window
    before it left part of the padded input unread and it starts inside the input or
    its left padding.
    """
    windows, start = [], -padding
    while True:
        taps = [start + j * dilation for j in range(kernel)]
        inside = taps[-1] < length + padding
        previous_left_some = taps[-1] - stride < length + padding - 1
        if not (inside or (ceil_mode and previous_left_some and start < length)):
            return windows
        windows.append(taps)
        start += stride


def reference_pool1d(x, kind, kernel, stride, padding, dilation=1, ceil_mode=False, count_include_pad=True):
    """Max (with the first largest value's position, -1 for padding alone) or mean of each window."""
    length = x.shape[-1]
    windows = pooling_windows(length, kernel, stride, padding, dilation, ceil_mode)
    values = np.zeros((*x.shape[:-1], len(windows)))
    positions = np.zeros(values.shape, np.int64)
    for i, taps in enumerate(windows):
        real = [t for t in taps if 0 <= t < length]
        if kind == "max":
            for index in np.ndindex(*x.shape[:-1]):
                best = max(real, key=lambda t: x[index][t], default=-1)  # max keeps the first largest
                values[index + (i,)] = x[index][best] if real else -np.inf
                positions[index + (i,)] = best
        else:
            on_padded = [t for t in taps if -padding <= t < length + padding]
            divisor = len(on_padded) if count_include_pad else len(real)
            values[..., i] = x[..., real].sum(axis=-1) / divisor
    return (values, positions) if kind == "max" else values


# ---- hypothesis: window arguments that fit an input -----------------------------------------


def int_or_single(value):
    """``value`` as PyTorch's 1-D functions take it: an int, or a tuple of one int."""
    return st.sampled_from([value, (value,)])


@st.composite
def conv1d_setups(draw):
    """A conv1d's input shape, weight shape, bias, window arguments (some as 1-tuples) and their ints."""
    kernel, stride, dilation, padding = (
        draw(st.integers(1, 4)),
        draw(st.integers(1, 3)),
        draw(st.integers(1, 3)),
        draw(st.integers(0, 3)),
    )
    span = dilation * (kernel - 1) + 1
    length = draw(st.integers(max(1, span - 2 * padding), span + 6))
    groups = draw(st.integers(1, 3))
    in_per_group, out_per_group = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    x_shape = (draw(st.integers(1, 2)), in_per_group * groups, length)
    weight_shape = (out_per_group * groups, in_per_group, kernel)
    arguments = {
        "stride": draw(int_or_single(stride)),
        "padding": draw(int_or_single(padding)),
        "dilation": draw(int_or_single(dilation)),
        "groups": groups,
    }
    ints = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return x_shape, weight_shape, draw(st.booleans()), arguments, ints


@st.composite
def pool1d_setups(draw):
    """An input shape and pooling arguments: padding at most half the kernel, as PyTorch needs."""
    kernel, dilation = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    stride = draw(st.one_of(st.none(), st.integers(1, 4)))
    padding = draw(st.integers(0, kernel // 2))
    span = dilation * (kernel - 1) + 1
    length = draw(st.integers(max(1, span - 2 * padding), span + 6))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), length)
    return shape, kernel, stride, padding, dilation


fast = settings(max_examples=40, deadline=None)


# ---- values ----------------------------------------------------------------------------------


@fast
@given(conv1d_setups())
def test_conv1d_matches_the_direct_sum(setup):
    x_shape, weight_shape, has_bias, arguments, ints = setup
    x, weight = random_array(*x_shape, seed=1), random_array(*weight_shape, seed=2)
    bias = random_array(weight_shape[0], seed=3) if has_bias else None
    y = conv1d(x, weight, bias, **arguments)
    np.testing.assert_allclose(y.data, reference_conv1d(x, weight, bias, **ints), rtol=1e-12, atol=1e-12)


@fast
@given(pool1d_setups(), st.booleans(), st.booleans())
def test_max_pool1d_matches_the_direct_max_and_its_position(setup, ceil_mode, ties):
    shape, kernel, stride, padding, dilation = setup
    x = random_array(*shape)
    if ties:
        x = np.round(x)  # integer values: many windows hold their largest value twice
    values, indices = max_pool1d(x, kernel, stride, padding, dilation, ceil_mode, return_indices=True)
    expected_values, expected_indices = reference_pool1d(
        x, "max", kernel, stride or kernel, padding, dilation, ceil_mode
    )
    np.testing.assert_array_equal(values.data, expected_values)
    assert indices.dtype == np.int64 and not indices.requires_grad
    np.testing.assert_array_equal(indices.data, expected_indices)
    np.testing.assert_array_equal(
        max_pool1d(x, kernel, stride, padding, dilation, ceil_mode).data, values.data
    )


@fast
@given(pool1d_setups(), st.booleans(), st.booleans())
def test_avg_pool1d_matches_the_direct_mean(setup, ceil_mode, count_include_pad):
    shape, kernel, stride, padding, _ = setup
    x = random_array(*shape)
    y = avg_pool1d(x, kernel, stride, padding, ceil_mode, count_include_pad)
    expected = reference_pool1d(x, "avg", kernel, stride or kernel, padding, 1, ceil_mode, count_include_pad)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)


def test_values_pytorch_gives():
    # torch.nn.functional in PyTorch 2.13.0, checked by hand.
    x = np.arange(1.0, 8.0).reshape(1, 1, 7)
    np.testing.assert_allclose(avg_pool1d(x, 3, 2, padding=1, ceil_mode=True).data, [[[1, 3, 5, 13 / 3]]])
    np.testing.assert_allclose(
        avg_pool1d(x, 3, 2, padding=1, ceil_mode=True, count_include_pad=False).data, [[[1.5, 3, 5, 6.5]]]
    )
    np.testing.assert_allclose(avg_pool1d(x, 2, ceil_mode=True).data, [[[1.5, 3.5, 5.5, 7]]])
    p = np.array([[[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]]])
    values, indices = max_pool1d(p, 3, 2, 1, dilation=2, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(values.data, [[[1, 9, 9, 9]]])
    np.testing.assert_array_equal(indices.data, [[[1, 5, 5, 5]]])
    values, indices = max_pool1d(p, 2, return_indices=True)
    np.testing.assert_array_equal(values.data, [[[3, 4, 9, 6]]])
    np.testing.assert_array_equal(indices.data, [[[0, 2, 5, 7]]])
    assert max_pool1d(np.zeros((1, 1, 6)), 2, stride=3, padding=1, ceil_mode=True).shape == (1, 1, 3)
    weight = np.array([[[1.0, 0.0, -1.0, 2.0]]])
    np.testing.assert_array_equal(conv1d(x, weight, padding="same").data, [[[4, 6, 8, 10, 12, -2, 6]]])
    np.testing.assert_array_equal(
        conv1d(x, weight, padding="same", dilation=2).data, [[[6, 7, 8, 10, -4, -4, 4]]]
    )
    y = conv1d(
        np.arange(12.0).reshape(1, 2, 6),
        np.array([[[1.0, -1.0]], [[2.0, 1.0]]]),
        np.array([0.5, -1.0]),
        stride=2,
        padding=1,
        dilation=2,
        groups=2,
    )
    np.testing.assert_array_equal(y.data, [[[-0.5, -1.5, -1.5], [6, 22, 28]]])


def test_same_padding_keeps_the_length_and_pads_an_odd_total_at_the_end():
    x, weight = random_array(2, 3, 7), random_array(4, 3, 4, seed=1)
    y = conv1d(x, weight, padding="same")
    assert y.shape == (2, 4, 7)
    # PyTorch pads k - 1 = 3 zeros as 1 before and 2 after.
    np.testing.assert_allclose(y.data, reference_conv1d(np.pad(x, ((0, 0), (0, 0), (1, 2))), weight))
    y = conv1d(x, weight, padding="same", dilation=(3,))  # 9 zeros: 4 before, 5 after
    np.testing.assert_allclose(
        y.data, reference_conv1d(np.pad(x, ((0, 0), (0, 0), (4, 5))), weight, dilation=3)
    )
    assert conv1d(x, weight, padding="valid").shape == (2, 4, 4)


def test_unbatched_input_gives_unbatched_output():
    x, weight, bias = random_array(1, 2, 9), random_array(4, 2, 3, seed=1), random_array(4, seed=2)
    for function in (
        lambda t: conv1d(t, weight, bias, padding=1, stride=2),
        lambda t: max_pool1d(t, 3, 2, 1, ceil_mode=True),
        lambda t: avg_pool1d(t, 3, 2, 1, count_include_pad=False),
    ):
        unbatched = function(x[0])
        assert unbatched.ndim == 2
        np.testing.assert_array_equal(unbatched.data, function(x).data[0])
    values, indices = max_pool1d(x[0], 2, return_indices=True)
    np.testing.assert_array_equal(indices.data, max_pool1d(x, 2, return_indices=True)[1].data[0])


def test_max_pool1d_pads_with_minus_infinity_and_integers_with_their_smallest_value():
    np.testing.assert_array_equal(max_pool1d(np.full((1, 1, 2), -2.0), 2, 1, 1).data, [[[-2, -2, -2]]])
    x = np.array([[[16777217, 3]]], np.int64)  # not exact in float32
    y = max_pool1d(mg.tensor(x), 2, 1, 1)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y.data, [[[16777217, 16777217, 3]]])


def test_max_pool1d_index_of_a_window_on_padding_alone_is_minus_one():
    values, indices = max_pool1d(np.ones((1, 1, 1)), 2, stride=1, padding=1, dilation=2, return_indices=True)
    np.testing.assert_array_equal(values.data, [[[-np.inf]]])  # both taps are padding
    np.testing.assert_array_equal(indices.data, [[[-1]]])


# ---- gradients -------------------------------------------------------------------------------


@fast
@given(conv1d_setups())
def test_conv1d_gradients(setup):
    x_shape, weight_shape, has_bias, arguments, _ = setup
    inputs = [random_array(*x_shape, seed=1), random_array(*weight_shape, seed=2)]
    if has_bias:
        inputs.append(random_array(weight_shape[0], seed=3))
    assert_gradcheck(lambda *tensors: conv1d(*tensors, **arguments), *inputs)


@fast
@given(pool1d_setups(), st.booleans(), st.booleans())
def test_pooling_gradients(setup, ceil_mode, count_include_pad):
    shape, kernel, stride, padding, dilation = setup
    x = random_array(*shape)
    # A window that sees only padding has max -inf, where no derivative is defined.
    assume(np.isfinite(max_pool1d(x, kernel, stride, padding, dilation, ceil_mode).data).all())
    assert_gradcheck(lambda t: max_pool1d(t, kernel, stride, padding, dilation, ceil_mode), x)
    assert_gradcheck(lambda t: avg_pool1d(t, kernel, stride, padding, ceil_mode, count_include_pad), x)


def test_gradients_of_same_padding_and_of_unbatched_input():
    x, weight, bias = random_array(3, 8), random_array(4, 3, 4, seed=1), random_array(4, seed=2)
    assert_gradcheck(lambda *tensors: conv1d(*tensors, padding="same", dilation=2), x, weight, bias)
    assert_gradcheck(lambda t: max_pool1d(t, 3, 2, 1, ceil_mode=True), x)


def test_tied_maxima_share_the_gradient():
    x = mg.tensor(np.array([[[2.0, 2.0, 1.0, 5.0]]]), requires_grad=True)
    max_pool1d(x, 2).sum().backward()  # PyTorch would give the first window's 1 to one of the 2s
    np.testing.assert_array_equal(x.grad.data, [[[0.5, 0.5, 0, 1]]])


def test_second_order_gradients_through_conv1d_and_pooling():
    x, weight, bias = random_array(2, 2, 7), random_array(3, 2, 3, seed=1), random_array(3, seed=2)

    def network(x, weight, bias):
        y = conv1d(x, weight, bias, stride=2, padding=2, dilation=2).tanh()
        return max_pool1d(y, 2, 1) + avg_pool1d(y * y, 2, 1)

    assert_gradcheck(network, x, weight, bias, second_order=True)


def test_each_function_is_one_box_and_its_backward_is_fold():
    x = mg.tensor(random_array(1, 1, 8), requires_grad=True)
    weight = mg.tensor(random_array(2, 1, 3), requires_grad=True)
    loss = avg_pool1d(max_pool1d(conv1d(x, weight, padding=1), 2), 2).sum()
    collapsed = viz.draw_graph(loss, depth=0).source
    boxes = re.findall(r"<b>([^<]+)</b>", collapsed)  # every node's bold title
    assert sorted(box for box in boxes if box.endswith("1d")) == ["avg_pool1d", "conv1d", "max_pool1d"]
    assert "unfold" not in boxes and "mat_mul" not in boxes  # they are inside the boxes
    assert "conv2d" not in collapsed
    assert "fold" in viz.draw_backward(loss).source


def test_an_empty_batch_goes_through_forward_and_backward():
    x = mg.zeros(0, 3, 6, requires_grad=True)
    weight = mg.randn(4, 3, 3, requires_grad=True)
    outputs = [conv1d(x, weight, padding=1), max_pool1d(x, 2), avg_pool1d(x, 2)]
    assert [y.shape for y in outputs] == [(0, 4, 6), (0, 3, 3), (0, 3, 3)]
    sum(y.sum() for y in outputs).backward()
    assert x.grad.shape == (0, 3, 6)
    np.testing.assert_array_equal(weight.grad.data, 0)


# ---- dtypes ----------------------------------------------------------------------------------


def test_float32_stays_float32():
    x = mg.tensor(random_array(2, 3, 10).astype(np.float32), requires_grad=True)
    conv = Conv1d(3, 4, 3, padding=1, padding_mode="reflect")
    y = avg_pool1d(max_pool1d(conv(x), 2, padding=1), 2, ceil_mode=True, count_include_pad=False)
    assert conv.weight.dtype == np.float32 and conv.bias.dtype == np.float32 and y.dtype == np.float32
    y.sum().backward()
    for tensor in (x, conv.weight, conv.bias):
        assert tensor.grad.dtype == np.float32
    assert Conv1d(3, 4, 3, dtype=np.float64).weight.dtype == np.float64


# ---- modules ---------------------------------------------------------------------------------


def test_conv1d_module_matches_the_function_and_has_pytorchs_state_dict():
    conv = Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2)
    state = conv.state_dict()
    assert list(state) == ["weight", "bias"]
    assert state["weight"].shape == (6, 2, 3) and state["bias"].shape == (6,)
    assert list(Conv1d(4, 6, 3, bias=False).state_dict()) == ["weight"]
    assert conv.kernel_size == (3,) and conv.stride == (2,) and conv.padding == (1,) and conv.dilation == (2,)
    x = random_array(2, 4, 9).astype(np.float32)
    expected = conv1d(x, conv.weight, conv.bias, 2, 1, 2, 2)
    np.testing.assert_array_equal(conv(mg.tensor(x)).data, expected.data)
    np.testing.assert_array_equal(conv(mg.tensor(x[0])).data, expected.data[0])


def test_conv1d_module_loads_a_state_dict():
    conv = Conv1d(2, 3, 2)
    weight, bias = random_array(3, 2, 2, seed=1), random_array(3, seed=2)
    conv.load_state_dict({"weight": weight, "bias": bias})
    x = random_array(1, 2, 5, seed=3)
    np.testing.assert_allclose(conv(mg.tensor(x)).data, reference_conv1d(x, weight, bias), rtol=1e-6)
    with pytest.raises(ValueError, match=r"load_state_dict for Conv1d: .weight. has shape \(3, 2, 3\)"):
        conv.load_state_dict({"weight": np.zeros((3, 2, 3)), "bias": bias})


def test_conv1d_init_is_uniform_within_one_over_root_fan_in():
    mg.manual_seed(0)
    conv = Conv1d(6, 64, 5, groups=2)
    bound = 1 / math.sqrt(6 // 2 * 5)
    for values in (conv.weight.data, conv.bias.data):
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound
    assert abs(conv.weight.data.std() - bound / math.sqrt(3)) < 0.05 * bound
    mg.manual_seed(0)
    np.testing.assert_array_equal(Conv1d(6, 64, 5, groups=2).weight.data, conv.weight.data)


@pytest.mark.parametrize(
    ("padding_mode", "expected"),
    [
        # Conv1d(1, 1, 3, padding=2, padding_mode=..., bias=False) with weight [1, 10, 100]
        # on [1, 2, 3, 4], in PyTorch 2.13.0.
        ("zeros", [[[100, 210, 321, 432, 43, 4]]]),
        ("reflect", [[[123, 212, 321, 432, 343, 234]]]),
        ("replicate", [[[111, 211, 321, 432, 443, 444]]]),
        ("circular", [[[143, 214, 321, 432, 143, 214]]]),
    ],
)
def test_padding_modes_are_pytorchs(padding_mode, expected):
    conv = Conv1d(1, 1, 3, padding=2, padding_mode=padding_mode, bias=False)
    conv.weight.data[...] = [[[1, 10, 100]]]
    x = mg.tensor(np.array([[[1.0, 2.0, 3.0, 4.0]]], np.float32))
    np.testing.assert_array_equal(conv(x).data, expected)
    np.testing.assert_array_equal(conv(x[0]).data, np.array(expected)[0])


def test_same_padding_with_a_padding_mode_puts_the_odd_one_at_the_end():
    # PyTorch 2.13.0: Conv1d(1, 1, 4, padding="same", padding_mode="circular", bias=False).
    conv = Conv1d(1, 1, 4, padding="same", padding_mode="circular", bias=False)
    conv.weight.data[...] = [[[1, 10, 100, 1000]]]
    y = conv(mg.tensor(np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]], np.float32)))
    np.testing.assert_array_equal(y.data, [[[3215, 4321, 5432, 1543, 2154]]])


def test_reprs_are_pytorchs():
    # repr(...) of the same modules in PyTorch 2.13.0.
    assert repr(Conv1d(2, 4, 3)) == "Conv1d(2, 4, kernel_size=(3,), stride=(1,))"
    assert repr(Conv1d(2, 4, (3,), 2, (1,), 2, 2, False, "reflect")) == (
        "Conv1d(2, 4, kernel_size=(3,), stride=(2,), padding=(1,), dilation=(2,), groups=2, bias=False, "
        "padding_mode=reflect)"
    )
    assert (
        repr(Conv1d(2, 4, 3, padding="same")) == "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=same)"
    )
    assert (
        repr(Conv1d(2, 4, 3, padding="valid")) == "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=valid)"
    )
    assert (
        repr(Conv1d(2, 4, 3, padding_mode="circular"))
        == "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding_mode=circular)"
    )
    assert repr(MaxPool1d(2)) == "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert (
        repr(MaxPool1d((2,)))
        == "MaxPool1d(kernel_size=(2,), stride=(2,), padding=0, dilation=1, ceil_mode=False)"
    )
    assert (
        repr(MaxPool1d(3, 2, 1, 2, True, True))
        == "MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)"
    )
    assert repr(AvgPool1d(3)) == "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"
    assert repr(AvgPool1d(3, 2, 1, True, False)) == "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(1,))"
    assert repr(AvgPool1d((3,), [2])) == "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(0,))"


def test_pooling_modules_match_the_functions():
    x = mg.tensor(random_array(2, 3, 11))
    np.testing.assert_array_equal(
        MaxPool1d(3, 2, 1, ceil_mode=True)(x).data, max_pool1d(x, 3, 2, 1, ceil_mode=True).data
    )
    np.testing.assert_array_equal(
        AvgPool1d(4, padding=2, ceil_mode=True, count_include_pad=False)(x).data,
        avg_pool1d(x, 4, padding=2, ceil_mode=True, count_include_pad=False).data,
    )
    values, indices = MaxPool1d(2, 2, 0, 1, True)(mg.tensor(np.array([[[3.0, 1.0, 4.0, 1.0, 5.0]]])))
    np.testing.assert_array_equal(values.data, [[[3, 4]]])  # return_indices is fifth, as in PyTorch
    np.testing.assert_array_equal(indices.data, [[[0, 2]]])
    assert MaxPool1d(2).state_dict() == {} and AvgPool1d(2).state_dict() == {}


def test_a_small_1d_cnn_trains():
    mg.manual_seed(0)
    model = Sequential(Conv1d(2, 4, 3, padding=1), ReLU(), MaxPool1d(2), Flatten(), Linear(4 * 4, 3))
    # list(model.state_dict()) of the same model in PyTorch 2.13.0.
    assert list(model.state_dict()) == ["0.weight", "0.bias", "4.weight", "4.bias"]
    rng = np.random.default_rng(0)
    signals = mg.tensor(rng.standard_normal((12, 2, 8)).astype(np.float32))
    labels = rng.integers(0, 3, 12)
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(8):
        loss = cross_entropy(model(signals), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), losses


# ---- errors: named by the 1-D function, in 1-D shapes ----------------------------------------

x3 = np.zeros((1, 3, 5))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: conv1d(np.zeros(5), np.zeros((1, 1, 1))),
            r"conv1d: expected input of shape \(N, C, L\) or \(C, L\), got \(5,\)",
        ),
        (
            lambda: conv1d(np.zeros((1, 1, 1, 5)), np.zeros((1, 1, 1))),
            r"conv1d: expected .*got \(1, 1, 1, 5\)",
        ),
        (
            lambda: conv1d(x3, np.zeros((4, 2, 3))),
            r"conv1d: a weight of shape \(4, 2, 3\) with groups=1 expects 2 input channels in axis 1, "
            r"got input of shape \(1, 3, 5\)",
        ),
        (
            lambda: conv1d(x3, np.zeros((4, 3, 3, 3))),
            r"conv1d: weight must have shape \(out_channels, in_channels / groups, k\), got \(4, 3, 3, 3\)",
        ),
        (
            lambda: conv1d(x3, np.zeros((4, 3, 3)), np.zeros(3)),
            r"conv1d: bias must have shape \(4,\), got \(3,\)",
        ),
        (
            lambda: conv1d(np.zeros((1, 2, 5)), np.zeros((3, 1, 3)), groups=2),
            r"conv1d: the 3 filters \(axis 0 of the weight, shape \(3, 1, 3\)\) must split evenly into groups=2",
        ),
        (lambda: conv1d(x3, np.zeros((4, 3, 3)), groups=0), r"conv1d: groups must be a positive int, got 0"),
        (
            lambda: conv1d(x3, np.zeros((4, 3, 3)), stride=(1, 2)),
            r"conv1d: stride must be an int or a tuple of one int, at least 1, got \(1, 2\)",
        ),
        (
            lambda: conv1d(x3, np.zeros((4, 3, 3)), dilation=0),
            r"conv1d: dilation must be .* at least 1, got 0",
        ),
        (
            lambda: conv1d(x3, np.zeros((4, 3, 3)), padding=-1),
            r"conv1d: padding must be .* at least 0, got -1",
        ),
        (
            lambda: conv1d(x3, np.zeros((4, 3, 3)), padding="full"),
            r"conv1d: padding must be an int, a tuple of one int, 'valid' or 'same', got 'full'",
        ),
        (
            lambda: conv1d(x3, np.zeros((4, 3, 3)), stride=2, padding="same"),
            r"conv1d: padding='same' keeps the input's size, which only stride 1 does; got stride 2$",
        ),
        (
            lambda: conv1d(x3, np.zeros((4, 3, 4)), dilation=2),
            r"conv1d: the kernel 4 with dilation 2 spans 7 positions, more than the padded input: 5 with "
            r"padding 0 on each side is 5; use a smaller kernel",
        ),
        (lambda: max_pool1d(x3, 7), r"max_pool1d: the kernel 7 with dilation 1 spans 7 positions"),
        (
            lambda: max_pool1d(x3, 3, padding=2),
            r"max_pool1d: padding 2 must be at most half the kernel_size 3, as PyTorch requires",
        ),
        (lambda: max_pool1d(x3, (2, 2)), r"max_pool1d: kernel_size must be an int or a tuple of one int"),
        (lambda: max_pool1d(np.zeros(5), 2), r"max_pool1d: expected input of shape \(N, C, L\) or \(C, L\)"),
        (lambda: avg_pool1d(x3, 2, stride=0), r"avg_pool1d: stride must be an int or a tuple of one int"),
        (
            lambda: avg_pool1d(x3, 3, padding=2),
            r"avg_pool1d: padding 2 must be at most half the kernel_size 3",
        ),
        (lambda: avg_pool1d(np.zeros((2, 2, 2, 2)), 2), r"avg_pool1d: expected input of shape \(N, C, L\)"),
        (
            lambda: Conv1d(3, 4, 3, groups=2),
            r"Conv1d: in_channels \(3\) and out_channels \(4\) must both be divisible by groups \(2\)",
        ),
        (lambda: Conv1d(3, 4, (3, 3)), r"Conv1d: kernel_size must be an int or a tuple of one int"),
        (lambda: Conv1d(3, 4, 3, padding="full"), r"Conv1d: padding must be an int, a tuple of one int"),
        (
            lambda: Conv1d(3, 4, 3, stride=2, padding="same"),
            r"Conv1d: padding='same' needs stride 1, got stride 2$",
        ),
        (
            lambda: Conv1d(3, 4, 3, padding_mode="mirror"),
            r"Conv1d: padding_mode must be one of 'zeros'.*'mirror'",
        ),
        (lambda: Conv1d(2, 4, 3)(mg.tensor(x3)), r"conv1d: .*expects 2 input channels.*\(1, 3, 5\)"),
        (lambda: AvgPool1d(2, stride=(1, 1)), r"AvgPool1d: stride must be an int or a tuple of one int"),
    ],
)
def test_bad_input_is_an_error_that_names_the_1d_function(call, message):
    with pytest.raises(ValueError, match=message) as error:
        call()
    assert "2d" not in str(error.value) and "(N, C, H, W)" not in str(error.value)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda x: max_pool1d(x, 2, ceil_mode="yes"),
            "max_pool1d: ceil_mode must be True or False, got 'yes'",
        ),
        (lambda x: avg_pool1d(x, 2, ceil_mode=1), "avg_pool1d: ceil_mode must be True or False, got 1"),
        (lambda x: max_pool1d(x, 2, return_indices=1), "max_pool1d: return_indices must be True or False"),
    ],
)
def test_pooling_flags_must_be_bools(call, message):
    with pytest.raises(TypeError, match=message):
        call(mg.zeros(1, 1, 4))
