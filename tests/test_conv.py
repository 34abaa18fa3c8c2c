"""Convolution and pooling: values, gradients, modules, and errors.

Covers the Unfold and Fold primitives (minigrad/primitives.py), the functions of
minigrad/nn/functional/convolution.py and the modules of minigrad/nn/conv.py. Values
are checked against direct references written below, one output value at a time;
gradients with gradcheck in float64.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F  # noqa: N812
from minigrad import nn, optim, viz

# ---- references: one output value at a time ------------------------------------------------


def reference_conv2d(x, weight, bias, stride, padding, dilation, groups):
    """Each output value as its window of the zero-padded input times the filter, summed."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, channels, height, width = x.shape
    out_channels, group_channels, kh, kw = weight.shape
    padded = np.zeros((n, channels, height + 2 * ph, width + 2 * pw))
    padded[:, :, ph : ph + height, pw : pw + width] = x
    out_h = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    out_w = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, out_channels, out_h, out_w))
    for o in range(out_channels):
        first = o // (out_channels // groups) * group_channels  # the group's first input channel
        for i in range(out_h):
            for j in range(out_w):
                rows = slice(i * sh, i * sh + dh * (kh - 1) + 1, dh)
                cols = slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)
                window = padded[:, first : first + group_channels, rows, cols]
                out[:, o, i, j] = (window * weight[o]).sum(axis=(1, 2, 3)) + (0 if bias is None else bias[o])
    return out


def window_starts(size, kernel, stride, padding, dilation, ceil_mode):
    """Where pooling windows start along one axis, in input coordinates (padding is negative).

    A window counts if it ends inside the padded input, or, with ceil_mode, if it starts
    inside the input and less than a stride of it hangs past the padded input.
    """
    span = dilation * (kernel - 1) + 1
    starts, start = [], -padding
    while start + span <= size + padding or (
        ceil_mode and start < size and start + span - stride < size + padding
    ):
        starts.append(start)
        start += stride
    return starts


def reference_pool(
    x, kind, kernel, stride, padding, dilation=(1, 1), ceil_mode=False, count_include_pad=True
):
    """Max or mean of each window, one output value at a time."""
    n, channels, height, width = x.shape
    row_starts = window_starts(height, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    col_starts = window_starts(width, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    out = np.zeros((n, channels, len(row_starts), len(col_starts)))
    for i, top in enumerate(row_starts):
        for j, left in enumerate(col_starts):
            rows = [top + a * dilation[0] for a in range(kernel[0])]
            cols = [left + b * dilation[1] for b in range(kernel[1])]
            values, on_padded = [], 0
            for r in rows:
                for c in cols:
                    if 0 <= r < height and 0 <= c < width:
                        values.append(x[:, :, r, c])
                    if -padding[0] <= r < height + padding[0] and -padding[1] <= c < width + padding[1]:
                        on_padded += 1
            if kind == "max":
                out[:, :, i, j] = np.max(values, axis=0) if values else -np.inf
            else:
                out[:, :, i, j] = np.sum(values, axis=0) / (on_padded if count_include_pad else len(values))
    return out


# ---- hypothesis: window arguments that fit an input ------------------------------------------

pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


@st.composite
def window_setups(draw, max_padding=2):
    """kernel_size, stride, padding, dilation (pairs) and an input size they fit."""
    kernel, stride, dilation = draw(pairs), draw(pairs), draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
    padding = draw(st.tuples(st.integers(0, max_padding), st.integers(0, max_padding)))
    size = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), d * (k - 1) + 5 - 2 * p))
        for k, d, p in zip(kernel, dilation, padding)
    )
    return kernel, stride, padding, dilation, size


@st.composite
def conv_setups(draw):
    """A conv2d's input shape, weight shape, bias, and window arguments."""
    kernel, stride, padding, dilation, size = draw(window_setups())
    groups = draw(st.integers(1, 2))
    in_per_group, out_per_group = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    x_shape = (draw(st.integers(1, 2)), in_per_group * groups, *size)
    weight_shape = (out_per_group * groups, in_per_group, *kernel)
    return x_shape, weight_shape, draw(st.booleans()), stride, padding, dilation, groups


@st.composite
def pool_setups(draw):
    """Pooling arguments (padding at most half the kernel, as PyTorch needs) and an input shape."""
    kernel, stride, _, dilation, _ = draw(window_setups())
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), d * (k - 1) + 5 - 2 * p))
        for k, d, p in zip(kernel, dilation, padding)
    )
    return (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *size), kernel, stride, padding, dilation


fast = settings(max_examples=40, deadline=None)


# ---- values ----------------------------------------------------------------------------------


@fast
@given(conv_setups())
def test_conv2d_matches_the_direct_sum(setup):
    x_shape, weight_shape, has_bias, stride, padding, dilation, groups = setup
    x, weight = random_array(*x_shape, seed=1), random_array(*weight_shape, seed=2)
    bias = random_array(weight_shape[0], seed=3) if has_bias else None
    y = F.conv2d(x, weight, bias, stride, padding, dilation, groups)
    expected = reference_conv2d(x, weight, bias, stride, padding, dilation, groups)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)


@fast
@given(pool_setups(), st.booleans())
def test_max_pool2d_matches_the_direct_max(setup, ceil_mode):
    x_shape, kernel, stride, padding, dilation = setup
    x = random_array(*x_shape)
    y = F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
    np.testing.assert_array_equal(
        y.data, reference_pool(x, "max", kernel, stride, padding, dilation, ceil_mode)
    )


@fast
@given(pool_setups(), st.booleans(), st.booleans())
def test_avg_pool2d_matches_the_direct_mean(setup, ceil_mode, count_include_pad):
    x_shape, kernel, stride, padding, _ = setup
    x = random_array(*x_shape)
    y = F.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad)
    expected = reference_pool(x, "avg", kernel, stride, padding, (1, 1), ceil_mode, count_include_pad)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)


def test_pooling_values_pytorch_gives():
    # torch.nn.functional in PyTorch 2.13.0, checked by hand.
    x = np.arange(1.0, 26.0).reshape(1, 1, 5, 5)
    np.testing.assert_allclose(
        F.avg_pool2d(x, 2, ceil_mode=True).data[0, 0], [[4, 6, 7.5], [14, 16, 17.5], [21.5, 23.5, 25]]
    )
    np.testing.assert_allclose(
        F.avg_pool2d(x, 3, 2, padding=1, ceil_mode=True).data[0, 0],
        [[16 / 9, 33 / 9, 28 / 9], [69 / 9, 13, 87 / 9], [76 / 9, 123 / 9, 88 / 9]],
    )
    np.testing.assert_allclose(
        F.avg_pool2d(np.ones((1, 1, 4, 4)), 3, 1, 1, divisor_override=2).data[0, 0],
        [[2, 3, 3, 2], [3, 4.5, 4.5, 3], [3, 4.5, 4.5, 3], [2, 3, 3, 2]],
    )
    assert F.max_pool2d(np.zeros((1, 1, 6, 6)), 2, stride=3, padding=1, ceil_mode=True).shape == (1, 1, 3, 3)


def test_max_pool2d_pads_with_minus_infinity():
    x = np.full((1, 1, 2, 2), -2.0)  # zeros from the padding would win
    np.testing.assert_array_equal(F.max_pool2d(x, 2, stride=1, padding=1).data, np.full((1, 1, 3, 3), -2.0))


def test_max_pool2d_sends_the_gradient_to_a_nan_in_its_window():
    x = mg.tensor(np.array([[[[1.0, np.nan, 2.0, 3.0], [0.0, 1.0, 2.0, 5.0]]]]), requires_grad=True)
    y = F.max_pool2d(x, 2)
    y.sum().backward()  # as PyTorch: the window's other values get none
    np.testing.assert_array_equal(y.data, [[[[np.nan, 5.0]]]])
    np.testing.assert_array_equal(x.grad.data, [[[[0, 1, 0, 0], [0, 0, 0, 1]]]])


def test_unfold_lays_windows_out_channel_then_row_then_column():
    x = np.arange(2 * 3 * 3.0).reshape(1, 2, 3, 3)
    columns = F.unfold(x, (2, 1)).data  # windows at (0, 0), (0, 1), ..., (1, 2)
    assert columns.shape == (1, 2 * 2 * 1, 2 * 3)
    np.testing.assert_array_equal(
        columns[0, :, 0], [x[0, 0, 0, 0], x[0, 0, 1, 0], x[0, 1, 0, 0], x[0, 1, 1, 0]]
    )
    np.testing.assert_array_equal(columns[0, 0], x[0, 0, :2].reshape(-1))


@fast
@given(window_setups(), st.integers(1, 3))
def test_fold_is_the_adjoint_of_unfold(setup, channels):
    """<unfold(x), y> = <x, fold(y)> for every x and y: fold is unfold's transpose."""
    kernel, stride, padding, dilation, size = setup
    x = random_array(2, channels, *size, seed=1)
    columns = F.unfold(x, kernel, dilation, padding, stride)
    y = random_array(*columns.shape, seed=2)
    image = F.fold(y, size, kernel, dilation, padding, stride)
    assert image.shape == x.shape
    assert math.isclose((columns.data * y).sum(), (x * image.data).sum(), rel_tol=1e-12, abs_tol=1e-12)


def test_fold_of_unfold_counts_the_windows_over_each_pixel():
    ones = np.ones((1, 1, 3, 4))
    counts = F.fold(F.unfold(ones, 2), (3, 4), 2).data[0, 0]
    np.testing.assert_array_equal(counts, [[1, 2, 2, 1], [2, 4, 4, 2], [1, 2, 2, 1]])


def test_same_padding_keeps_the_size_and_pads_an_odd_total_at_the_end():
    x, weight = random_array(1, 2, 5, 6), random_array(3, 2, 2, 4, seed=1)
    y = F.conv2d(x, weight, padding="same")
    assert y.shape == (1, 3, 5, 6)
    # PyTorch pads kh - 1 = 1 row at the bottom and kw - 1 = 3 columns as 1 left, 2 right.
    padded = np.pad(x, ((0, 0), (0, 0), (0, 1), (1, 2)))
    np.testing.assert_allclose(y.data, reference_conv2d(padded, weight, None, (1, 1), (0, 0), (1, 1), 1))
    assert F.conv2d(x, weight, padding="valid").shape == (1, 3, 4, 3)


def test_unbatched_input_gives_unbatched_output():
    x, weight, bias = random_array(1, 2, 5, 5), random_array(4, 2, 3, 3, seed=1), random_array(4, seed=2)
    for function in (
        lambda t: F.conv2d(t, weight, bias, padding=1),
        lambda t: F.max_pool2d(t, 2),
        lambda t: F.avg_pool2d(t, 3, 2, 1),
        lambda t: F.unfold(t, 2),
    ):
        np.testing.assert_array_equal(function(x[0]).data, function(x).data[0])
    columns = random_array(8, 16)
    np.testing.assert_array_equal(F.fold(columns, 5, 2).data, F.fold(columns[None], 5, 2).data[0])


# ---- gradients -------------------------------------------------------------------------------


@fast
@given(conv_setups())
def test_conv2d_gradients(setup):
    x_shape, weight_shape, has_bias, stride, padding, dilation, groups = setup
    inputs = [random_array(*x_shape, seed=1), random_array(*weight_shape, seed=2)]
    if has_bias:
        inputs.append(random_array(weight_shape[0], seed=3))
    assert_gradcheck(
        lambda *tensors: F.conv2d(*tensors, stride=stride, padding=padding, dilation=dilation, groups=groups),
        *inputs,
    )


@fast
@given(pool_setups(), st.booleans(), st.booleans())
def test_pooling_gradients(setup, ceil_mode, count_include_pad):
    x_shape, kernel, stride, padding, dilation = setup
    x = random_array(*x_shape)
    # A window that sees only padding has max -inf, where no derivative is defined.
    assume(np.isfinite(F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode).data).all())
    assert_gradcheck(lambda t: F.max_pool2d(t, kernel, stride, padding, dilation, ceil_mode), x)
    assert_gradcheck(lambda t: F.avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad), x)


@fast
@given(window_setups())
def test_unfold_and_fold_gradients(setup):
    kernel, stride, padding, dilation, size = setup
    x = random_array(1, 2, *size)
    assert_gradcheck(lambda t: F.unfold(t, kernel, dilation, padding, stride), x)
    columns_shape = F.unfold(x, kernel, dilation, padding, stride).shape
    assert_gradcheck(
        lambda t: F.fold(t, size, kernel, dilation, padding, stride), random_array(*columns_shape)
    )


def test_second_order_gradients_through_conv2d_and_pooling():
    x, weight, bias = random_array(1, 2, 5, 4), random_array(3, 2, 3, 2, seed=1), random_array(3, seed=2)

    def network(x, weight, bias):
        y = F.conv2d(x, weight, bias, stride=(2, 1), padding=1, dilation=(1, 2)).tanh()
        return F.max_pool2d(y, 2, 1) + F.avg_pool2d(y * y, 2, 1)

    assert_gradcheck(network, x, weight, bias, second_order=True)


def test_the_backward_graph_is_made_of_fold_and_unfold():
    x = mg.tensor(random_array(1, 1, 4, 4), requires_grad=True)
    weight = mg.tensor(random_array(2, 1, 3, 3), requires_grad=True)
    loss = F.max_pool2d(F.conv2d(x, weight, padding=1), 2).sum()
    assert "conv2d" in viz.draw_graph(loss, depth=0).source
    backward = viz.draw_backward(loss).source
    assert "fold" in backward and "unfold" in backward


# ---- dtypes ----------------------------------------------------------------------------------


def test_float32_stays_float32():
    x = mg.tensor(random_array(2, 3, 6, 6).astype(np.float32), requires_grad=True)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    y = (
        F.avg_pool2d(F.max_pool2d(conv(x), 2, padding=1), 2, ceil_mode=True)
        + F.fold(F.unfold(x, 2), 6, 2).sum()
    )
    assert conv.weight.dtype == np.float32 and y.dtype == np.float32
    y.sum().backward()
    for tensor in (x, conv.weight, conv.bias):
        assert tensor.grad.dtype == np.float32
    assert nn.Conv2d(3, 4, 3, dtype=np.float64).weight.dtype == np.float64


# ---- modules ---------------------------------------------------------------------------------


def test_conv2d_module_matches_the_function_and_has_pytorchs_state_dict():
    conv = nn.Conv2d(4, 6, (3, 2), stride=2, padding=(1, 0), dilation=(1, 2), groups=2)
    state = conv.state_dict()
    assert list(state) == ["weight", "bias"]
    assert state["weight"].shape == (6, 2, 3, 2) and state["bias"].shape == (6,)
    assert list(nn.Conv2d(4, 6, 3, bias=False).state_dict()) == ["weight"]
    x = random_array(2, 4, 7, 7).astype(np.float32)
    expected = F.conv2d(x, conv.weight, conv.bias, 2, (1, 0), (1, 2), 2)
    np.testing.assert_array_equal(conv(mg.tensor(x)).data, expected.data)


def test_conv2d_init_is_uniform_within_one_over_root_fan_in():
    mg.manual_seed(0)
    conv = nn.Conv2d(6, 64, (3, 2), groups=2)
    bound = 1 / math.sqrt(6 // 2 * 3 * 2)
    for values in (conv.weight.data, conv.bias.data):
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound
    assert abs(conv.weight.data.std() - bound / math.sqrt(3)) < 0.05 * bound
    mg.manual_seed(0)
    np.testing.assert_array_equal(nn.Conv2d(6, 64, (3, 2), groups=2).weight.data, conv.weight.data)


def test_reprs_are_pytorchs():
    # repr(...) of the same modules in PyTorch 2.13.0.
    assert repr(nn.Conv2d(3, 8, 3)) == "Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))"
    assert repr(nn.Conv2d(4, 8, (3, 2), stride=2, padding=1, dilation=2, groups=2, bias=False)) == (
        "Conv2d(4, 8, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), dilation=(2, 2), groups=2, bias=False)"
    )
    assert (
        repr(nn.Conv2d(3, 8, 3, padding="same"))
        == "Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=same)"
    )
    assert (
        repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    )
    assert repr(nn.AvgPool2d(3, 2, 1)) == "AvgPool2d(kernel_size=3, stride=2, padding=1)"
    assert repr(nn.Unfold(2)) == "Unfold(kernel_size=2, dilation=1, padding=0, stride=1)"
    assert repr(nn.Fold((4, 5), 2, stride=(1, 2))) == (
        "Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=(1, 2))"
    )


def test_pooling_and_window_modules_match_the_functions():
    x = random_array(2, 3, 7, 6)
    pairs = [
        (nn.MaxPool2d((3, 2), 2, 1, ceil_mode=True), F.max_pool2d(x, (3, 2), 2, 1, ceil_mode=True)),
        (
            nn.AvgPool2d(2, count_include_pad=False, padding=1),
            F.avg_pool2d(x, 2, padding=1, count_include_pad=False),
        ),
        (nn.Unfold(2, padding=1), F.unfold(x, 2, padding=1)),
    ]
    for module, expected in pairs:
        np.testing.assert_array_equal(module(mg.tensor(x)).data, expected.data)
    columns = F.unfold(x, 2)
    np.testing.assert_array_equal(nn.Fold((7, 6), 2)(columns).data, F.fold(columns, (7, 6), 2).data)


def test_a_small_cnn_trains():
    mg.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 3),
    )
    # list(model.state_dict()) of the same model in PyTorch 2.13.0.
    assert list(model.state_dict()) == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
        "5.weight",
        "5.bias",
    ]
    rng = np.random.default_rng(0)
    images = mg.tensor(rng.standard_normal((12, 1, 8, 8)).astype(np.float32))
    labels = rng.integers(0, 3, 12)
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(8):
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), losses


# ---- errors ----------------------------------------------------------------------------------


def test_wrong_channel_count_names_the_function_and_shapes():
    x = np.zeros((1, 3, 5, 5))
    with pytest.raises(ValueError, match=r"conv2d: a weight of shape \(4, 2, 3, 3\).*\(1, 3, 5, 5\)"):
        F.conv2d(x, np.zeros((4, 2, 3, 3)))
    with pytest.raises(
        ValueError, match=r"conv2d: .*expects 2 input channels in axis 1, got input of shape \(1, 3, 5, 5\)"
    ):
        nn.Conv2d(2, 4, 3)(mg.tensor(x))
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(4,\), got \(3,\)"):
        F.conv2d(x, np.zeros((4, 3, 3, 3)), np.zeros(3))


def test_a_kernel_larger_than_the_padded_input_is_an_error():
    with pytest.raises(ValueError, match=r"conv2d: the kernel \(3, 3\).*\(2, 2\) with padding \(0, 0\)"):
        F.conv2d(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"max_pool2d: the kernel \(3, 3\).*\(2, 2\)"):
        F.max_pool2d(np.zeros((1, 1, 2, 2)), 3)
    with pytest.raises(ValueError, match=r"unfold: the kernel \(2, 2\) with dilation \(3, 1\)"):
        F.unfold(np.zeros((1, 1, 3, 3)), 2, dilation=(3, 1))


@pytest.mark.parametrize("shape", [(5, 5), (1, 1, 1, 5, 5)])
def test_input_must_be_an_image_batch_or_one_image(shape):
    for name, function in [
        ("conv2d", lambda x: F.conv2d(x, np.zeros((1, 1, 1, 1)))),
        ("max_pool2d", lambda x: F.max_pool2d(x, 2)),
        ("avg_pool2d", lambda x: F.avg_pool2d(x, 2)),
        ("unfold", lambda x: F.unfold(x, 2)),
    ]:
        with pytest.raises(ValueError, match=rf"{name}: expected input of shape \(N, C, H, W\).*{shape}"):
            function(np.zeros(shape))
    with pytest.raises(ValueError, match=r"fold: expected input of shape \(N, C \* kh \* kw, L\)"):
        F.fold(np.zeros((1, 1, 4, 4)), 3, 2)


@pytest.mark.parametrize("stride", [0, -1, 1.5, (1, 2, 3), (1, 0)])
def test_bad_stride_is_an_error(stride):
    with pytest.raises(ValueError, match=r"conv2d: stride must be an int or a pair of ints.*at least 1"):
        F.conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 2)), stride=stride)
    with pytest.raises(ValueError, match=r"max_pool2d: stride must be"):
        F.max_pool2d(np.zeros((1, 1, 4, 4)), 2, stride=stride)
    with pytest.raises(ValueError, match=r"Conv2d: stride must be"):
        nn.Conv2d(1, 1, 2, stride=stride)


def test_other_bad_arguments_are_errors():
    x = np.zeros((1, 2, 6, 6))
    with pytest.raises(ValueError, match=r"conv2d: padding='same'.*stride \(2, 2\)"):
        F.conv2d(x, np.zeros((1, 2, 3, 3)), stride=2, padding="same")
    with pytest.raises(ValueError, match=r"conv2d: padding must be .*'full'"):
        F.conv2d(x, np.zeros((1, 2, 3, 3)), padding="full")
    with pytest.raises(ValueError, match=r"conv2d: the 3 filters .*\(3, 1, 3, 3\).*groups=2"):
        F.conv2d(x, np.zeros((3, 1, 3, 3)), groups=2)
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(3\) and out_channels \(4\).*groups \(2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"Conv2d: padding_mode must be one of 'zeros'.*got 'mirror'"):
        nn.Conv2d(2, 4, 3, padding_mode="mirror")
    with pytest.raises(
        ValueError, match=r"max_pool2d: padding \(2, 2\) must be at most half the kernel_size"
    ):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(
        ValueError, match=r"fold: an image of size \(4, 4\) has 3 \* 3 = 9 windows.*\(1, 8, 8\)"
    ):
        F.fold(np.zeros((1, 8, 8)), 4, 2)
    with pytest.raises(ValueError, match=r"fold: axis 1 .* multiple of the kernel's 4 taps"):
        F.fold(np.zeros((1, 6, 9)), 4, 2)


# ---- what the audits found ----------------------------------------------------------------


def reference_max_indices(x, kernel, stride, padding, dilation, ceil_mode):
    """For each window, ``row * W + column`` of its first largest value, scanning row by row."""
    n, channels, height, width = x.shape
    rows = window_starts(height, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    cols = window_starts(width, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    indices = np.zeros((n, channels, len(rows), len(cols)), np.int64)
    for b, c, i, j in np.ndindex(*indices.shape):
        best = None
        for r in range(rows[i], rows[i] + dilation[0] * (kernel[0] - 1) + 1, dilation[0]):
            for q in range(cols[j], cols[j] + dilation[1] * (kernel[1] - 1) + 1, dilation[1]):
                if (
                    0 <= r < height
                    and 0 <= q < width
                    and (best is None or x[b, c, r, q] > x[b, c, best[0], best[1]])
                ):
                    best = (r, q)
        indices[b, c, i, j] = -1 if best is None else best[0] * width + best[1]  # -1: only padding
    return indices


@fast
@given(pool_setups(), st.booleans(), st.booleans())
def test_max_pool2d_return_indices_gives_the_first_largest(setup, ceil_mode, ties):
    x_shape, kernel, stride, padding, dilation = setup
    x = random_array(*x_shape)
    if ties:
        x = np.round(x)  # integer values: many windows hold their largest value twice
    values, indices = F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode, return_indices=True)
    pairs = [(k, k) if isinstance(k, int) else k for k in (kernel, stride, padding, dilation)]
    expected = reference_max_indices(x, *pairs, ceil_mode)
    assert indices.dtype == np.int64 and not indices.requires_grad
    np.testing.assert_array_equal(indices.data, expected)
    flat = np.concatenate([x.reshape(*x.shape[:2], -1), np.full((*x.shape[:2], 1), -np.inf)], axis=2)
    picked = np.take_along_axis(flat, expected.reshape(*x.shape[:2], -1), axis=2)  # index -1: the -inf
    np.testing.assert_array_equal(values.data, picked.reshape(values.shape))


def test_max_pool2d_module_takes_return_indices_fifth_as_pytorch():
    values, indices = nn.MaxPool2d(2, 2, 0, 1, True)(mg.tensor(np.arange(25.0).reshape(1, 1, 5, 5)))
    np.testing.assert_array_equal(indices.data, [[[[6, 8], [16, 18]]]])
    assert values.shape == (1, 1, 2, 2)


def test_max_pool2d_of_integers_pads_with_their_smallest_value():
    x = np.array([[[[16777217, 3], [5, 7]]]], np.int64)  # not exact in float32
    y = F.max_pool2d(mg.tensor(x), 2, 1, 1)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y.data, [[[[16777217, 16777217, 3], [16777217, 16777217, 7], [5, 7, 7]]]])


def test_an_empty_batch_goes_through_forward_and_backward():
    x = mg.zeros(0, 3, 5, 5, requires_grad=True)
    weight = mg.randn(4, 3, 3, 3, requires_grad=True)
    outputs = [
        F.conv2d(x, weight, padding=1),
        F.max_pool2d(x, 2),
        F.avg_pool2d(x, 2),
        F.unfold(x, 2),
        F.fold(F.unfold(x, 2), (5, 5), 2),
    ]
    assert [y.shape for y in outputs] == [(0, 4, 5, 5), (0, 3, 2, 2), (0, 3, 2, 2), (0, 12, 16), (0, 3, 5, 5)]
    sum(y.sum() for y in outputs).backward()
    assert x.grad.shape == (0, 3, 5, 5)
    np.testing.assert_array_equal(weight.grad.data, 0)


@pytest.mark.parametrize("kernel", [1, (5, 4)], ids=["1x1", "the whole image"])
def test_unfold_gives_an_array_of_its_own_even_where_the_windows_are_the_input(kernel):
    x = mg.tensor(np.ones((1, 2, 5, 4), np.float32))
    columns = F.unfold(x, kernel)
    columns.data *= 2  # writable
    np.testing.assert_array_equal(x.data, 1)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda x: F.max_pool2d(x, 2, ceil_mode="yes"),
            "max_pool2d: ceil_mode must be True or False, got 'yes'",
        ),
        (lambda x: F.avg_pool2d(x, 2, ceil_mode=1), "avg_pool2d: ceil_mode must be True or False, got 1"),
        (lambda x: F.max_pool2d(x, 2, return_indices=1), "max_pool2d: return_indices must be True or False"),
    ],
)
def test_pooling_flags_must_be_bools(call, message):
    with pytest.raises(TypeError, match=message):
        call(mg.zeros(1, 1, 4, 4))


def test_divisor_override_must_not_be_a_bool():
    with pytest.raises(ValueError, match="avg_pool2d: divisor_override must be a nonzero int, got True"):
        F.avg_pool2d(mg.zeros(1, 1, 4, 4), 2, divisor_override=True)


def test_max_pool2d_index_of_a_window_on_padding_alone_is_minus_one():
    x = mg.tensor(np.ones((1, 1, 1, 1)))
    values, indices = F.max_pool2d(x, (1, 2), stride=1, padding=(0, 1), dilation=(1, 2), return_indices=True)
    np.testing.assert_array_equal(values.data, [[[[-np.inf]]]])  # the window's two taps are both padding
    np.testing.assert_array_equal(indices.data, [[[[-1]]]])
