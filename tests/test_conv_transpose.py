"""Transposed convolution: values, gradients, the adjoint of conv, modules, and errors.

Covers minigrad/nn/functional/transposed_convolution.py and minigrad/nn/transposed_conv.py.
Values are checked against a direct reference written below, one input position at a
time, and against the identity that makes it a transposed convolution: it is the
adjoint of conv1d and conv2d. Gradients are checked with gradcheck in float64.
Literal values, reprs and error cases are PyTorch 2.13.0's, checked by hand.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array

import minigrad as mg
from minigrad import viz
from minigrad.nn.functional.convolution import conv2d
from minigrad.nn.functional.convolution1d import conv1d
from minigrad.nn.functional.transposed_convolution import conv_transpose1d, conv_transpose2d
from minigrad.nn.transposed_conv import ConvTranspose1d, ConvTranspose2d

# ---- the reference: each input value stamps the kernel onto the output --------------------


def reference_conv_transpose(
    x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """y[n, o, i * stride + j * dilation - padding] += x[n, c, i] * weight[c, o, j], per axis, in any dims."""
    dims = x.ndim - 2
    stride, padding, output_padding, dilation = (
        (value,) * dims if isinstance(value, int) else value
        for value in (stride, padding, output_padding, dilation)
    )
    in_channels, group_out_channels, *kernel_size = weight.shape
    group_in_channels = in_channels // groups
    out_size = [
        (n - 1) * s - 2 * p + d * (k - 1) + extra + 1
        for n, s, p, d, k, extra in zip(x.shape[2:], stride, padding, dilation, kernel_size, output_padding)
    ]
    y = np.zeros((x.shape[0], group_out_channels * groups, *out_size))
    for c, i, j in itertools.product(range(in_channels), np.ndindex(*x.shape[2:]), np.ndindex(*kernel_size)):
        at = tuple(a * s + b * d - p for a, b, s, d, p in zip(i, j, stride, dilation, padding))
        if all(0 <= position < size for position, size in zip(at, out_size)):
            first = c // group_in_channels * group_out_channels  # the group's first output channel
            for o in range(group_out_channels):
                y[(slice(None), first + o, *at)] += x[(slice(None), c, *i)] * weight[(c, o, *j)]
    return y if bias is None else y + bias.reshape(-1, *(1,) * dims)


# (input spatial size, kernel_size, stride, padding, output_padding, dilation, groups)
CONFIGS_2D = [
    ((3, 3), 3, 1, 0, 0, 1, 1),
    ((3, 4), 3, 2, 1, 1, 1, 1),
    ((2, 3), (2, 3), (2, 1), (0, 1), (1, 0), (1, 2), 2),
    ((3, 2), 2, 3, 2, 2, 1, 1),
    ((2, 2), 3, 1, 1, 1, 2, 2),  # output_padding 1 < dilation 2, with stride 1
    ((4, 3), 1, 2, 0, 1, 1, 3),
]

CONFIGS_1D = [
    (5, 3, 1, 0, 0, 1, 1),
    (4, 3, 2, 1, 1, 1, 2),
    (3, 2, 3, 2, 2, 2, 1),
    (4, 2, 1, 1, 2, 3, 3),  # output_padding 2 < dilation 3, past the last tap
]


def case(config, batch=2, seed=0):
    """Random x, weight and bias for ``config``, and its keyword arguments."""
    size, kernel_size, stride, padding, output_padding, dilation, groups = config
    size = (size,) if isinstance(size, int) else size
    kernel_size = (kernel_size,) * len(size) if isinstance(kernel_size, int) else kernel_size
    in_channels, out_channels = 2 * groups, 3 * groups
    x = random_array(batch, in_channels, *size, seed=seed)
    weight = random_array(in_channels, out_channels // groups, *kernel_size, seed=seed + 1)
    bias = random_array(out_channels, seed=seed + 2)
    arguments = dict(
        stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation
    )
    return x, weight, bias, arguments


ALL_CONFIGS = [(conv_transpose2d, config) for config in CONFIGS_2D] + [
    (conv_transpose1d, config) for config in CONFIGS_1D
]


# ---- values -----------------------------------------------------------------------------------


def test_values_are_pytorchs():
    # F.conv_transpose2d and F.conv_transpose1d of the same tensors in PyTorch 2.13.0.
    x = mg.tensor(np.arange(1.0, 5.0).reshape(1, 1, 2, 2))
    weight = mg.tensor([[[[1.0, 2.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]]])
    y = conv_transpose2d(x, weight, stride=2, padding=1, output_padding=1)
    np.testing.assert_array_equal(y.data, [[[[1, 0, 2, 0], [6, 7, 8, 2], [3, 0, 4, 0], [0, 7, 0, 4]]]])
    sequence, kernels = mg.tensor([[[1.0, 2.0, 3.0]]]), mg.tensor([[[1.0, -1.0], [2.0, 0.5]]])
    y = conv_transpose1d(sequence, kernels, mg.tensor([0.5, -1.0]), stride=2, padding=1, dilation=2)
    np.testing.assert_array_equal(y.data, [[[0.5, 1.5, 0.5, 1.5, 0.5], [-1, 3.5, -1, 6, -1]]])


@pytest.mark.parametrize("function, config", ALL_CONFIGS)
def test_values_match_the_reference(function, config):
    x, weight, bias, arguments = case(config)
    expected = reference_conv_transpose(x, weight, bias, **arguments)
    np.testing.assert_allclose(function(x, weight, bias, **arguments).data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("function, config", ALL_CONFIGS)
def test_output_size_follows_the_formula(function, config):
    x, weight, _, arguments = case(config)
    dims = x.ndim - 2
    per_axis = {name: (v,) * dims if isinstance(v, int) else v for name, v in arguments.items()}
    expected = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + extra + 1
        for n, k, s, p, extra, d in zip(
            x.shape[2:],
            weight.shape[2:],
            per_axis["stride"],
            per_axis["padding"],
            per_axis["output_padding"],
            per_axis["dilation"],
        )
    )
    assert function(x, weight, **arguments).shape == (
        x.shape[0],
        weight.shape[1] * arguments["groups"],
        *expected,
    )


@pytest.mark.parametrize("function, size", [(conv_transpose2d, (3, 4)), (conv_transpose1d, (5,))])
def test_one_unbatched_input_gives_one_unbatched_output(function, size):
    x, weight, bias = random_array(2, *size), random_array(2, 3, *(2,) * len(size), seed=1), random_array(3)
    batched = function(x[np.newaxis], weight, bias, stride=2, padding=1)
    np.testing.assert_array_equal(function(x, weight, bias, stride=2, padding=1).data, batched.data[0])


def test_an_empty_batch_goes_through_forward_and_backward():
    x = mg.tensor(np.zeros((0, 2, 3, 3)), requires_grad=True)
    weight = mg.tensor(random_array(2, 4, 3, 3), requires_grad=True)
    y = conv_transpose2d(x, weight, stride=2)
    assert y.shape == (0, 4, 7, 7)
    y.sum().backward()
    assert x.grad.shape == x.shape and not weight.grad.data.any()


def test_float32_stays_float32():
    x = mg.tensor(random_array(2, 4, 5, 5).astype(np.float32), requires_grad=True)
    layer = ConvTranspose2d(4, 3, 3, stride=2)
    y = layer(x)
    assert layer.weight.dtype == np.float32 and y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == layer.weight.grad.dtype == layer.bias.grad.dtype == np.float32


# ---- the adjoint of convolution -----------------------------------------------------------------

# (conv's input size, kernel_size, stride, padding, dilation, groups)
ADJOINT_CONFIGS_2D = [
    ((7, 6), 3, 2, 1, 1, 1),
    ((8, 9), (2, 3), (3, 2), (1, 0), (2, 1), 2),
    ((5, 5), 4, 2, 2, 1, 3),
    ((6, 7), 1, (1, 3), 0, 1, 1),
]

ADJOINT_CONFIGS_1D = [
    ((7,), 3, 2, 1, 1, 1),
    ((9,), 3, 2, 0, 1, 2),
    ((8,), 2, 3, 1, 2, 3),
    ((10,), 4, 3, 2, 1, 1),
]


@pytest.mark.parametrize(
    "conv, conv_transpose, config",
    [
        *[(conv2d, conv_transpose2d, config) for config in ADJOINT_CONFIGS_2D],
        *[(conv1d, conv_transpose1d, config) for config in ADJOINT_CONFIGS_1D],
    ],
)
def test_it_is_the_adjoint_of_convolution(conv, conv_transpose, config):
    # <conv(x, w), y> = <x, conv_transpose(y, w)> for every x and y: conv_transpose is conv's transpose.
    size, kernel_size, stride, padding, dilation, groups = config
    dims = len(size)
    kernel_size, stride, padding, dilation = (
        (value,) * dims if isinstance(value, int) else value
        for value in (kernel_size, stride, padding, dilation)
    )
    x = random_array(2, 2 * groups, *size)
    weight = random_array(3 * groups, 2, *kernel_size, seed=1)  # conv's layout: (out, in / groups, ...)
    convolved = conv(x, weight, None, stride, padding, dilation, groups)
    y = random_array(*convolved.shape, seed=2)
    # The sizes a strided conv maps onto the same output differ by the output_padding.
    output_padding = tuple(
        n - ((m - 1) * s - 2 * p + d * (k - 1) + 1)
        for n, m, s, p, d, k in zip(size, convolved.shape[2:], stride, padding, dilation, kernel_size)
    )
    transposed = conv_transpose(y, weight, None, stride, padding, output_padding, groups, dilation)
    assert transposed.shape == x.shape
    np.testing.assert_allclose((convolved.data * y).sum(), (x * transposed.data).sum(), rtol=1e-12)


def test_its_input_gradient_is_convolution():
    x = mg.tensor(random_array(2, 4, 3, 3), requires_grad=True)
    weight = random_array(4, 3, 3, 3, seed=1)
    y = conv_transpose2d(x, weight, stride=2, padding=1, output_padding=1)
    grad = random_array(*y.shape, seed=2)
    y.backward(mg.tensor(grad))
    np.testing.assert_allclose(x.grad.data, conv2d(grad, weight, stride=2, padding=1).data, rtol=1e-12)


# ---- gradients --------------------------------------------------------------------------------


@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("function, config", ALL_CONFIGS)
def test_gradcheck(function, config, with_bias):
    x, weight, bias, arguments = case(config, batch=1)

    def transposed(x, weight, *bias):
        return function(x, weight, *bias, **arguments)

    assert_gradcheck(transposed, x, weight, *([bias] if with_bias else []))


def test_second_order_gradients():
    x, weight, bias = random_array(1, 2, 2, 3), random_array(2, 2, 2, 2, seed=1), random_array(2, seed=2)

    def network(x, weight, bias):
        return conv_transpose2d(x, weight, bias, stride=2, padding=1, output_padding=1).tanh()

    assert_gradcheck(network, x, weight, bias, second_order=True)


def test_each_function_is_one_box_and_its_backward_is_unfold():
    x = mg.tensor(random_array(1, 2, 3, 3), requires_grad=True)
    weight = mg.tensor(random_array(2, 2, 3, 3), requires_grad=True)
    loss = conv_transpose1d(conv_transpose2d(x, weight, stride=2).reshape(1, 2, -1), weight[:, :, 0]).sum()
    boxes = re.findall(r"<b>([^<]+)</b>", viz.draw_graph(loss, depth=0).source)  # every node's bold title
    assert sorted(box for box in boxes if box.startswith("conv")) == ["conv_transpose1d", "conv_transpose2d"]
    assert "fold" not in boxes and "mat_mul" not in boxes  # they are inside the boxes
    assert "unfold" in viz.draw_backward(loss).source


# ---- modules --------------------------------------------------------------------------------


def test_the_module_matches_the_function_and_has_pytorchs_state_dict():
    layer = ConvTranspose2d(
        4, 6, (3, 2), stride=2, padding=(1, 0), output_padding=(1, 0), groups=2, dilation=(1, 2)
    )
    state = layer.state_dict()
    assert list(state) == ["weight", "bias"]
    assert state["weight"].shape == (4, 3, 3, 2) and state["bias"].shape == (6,)
    assert list(ConvTranspose1d(4, 6, 3, bias=False).state_dict()) == ["weight"]
    assert ConvTranspose1d(4, 6, 3, groups=2).weight.shape == (4, 3, 3)
    x = random_array(2, 4, 5, 5).astype(np.float32)
    expected = conv_transpose2d(x, layer.weight, layer.bias, 2, (1, 0), (1, 0), 2, (1, 2))
    np.testing.assert_array_equal(layer(mg.tensor(x)).data, expected.data)


def test_a_state_dict_of_pytorchs_shapes_loads():
    layer = ConvTranspose2d(4, 6, 3, groups=2)
    state = {
        "weight": random_array(4, 3, 3, 3).astype(np.float32),
        "bias": random_array(6).astype(np.float32),
    }
    layer.load_state_dict(state)
    np.testing.assert_array_equal(layer.weight.data, state["weight"])


@pytest.mark.parametrize(
    "make, fan_in",
    [
        (lambda: ConvTranspose2d(6, 64, (3, 2), groups=2), 64 // 2 * 3 * 2),
        (lambda: ConvTranspose1d(64, 8, 5), 8 * 5),
    ],
)
def test_init_is_uniform_within_one_over_root_fan_in_of_the_weights_layout(make, fan_in):
    # fan_in counts axis 1 of the (in, out / groups, ...) weight, as PyTorch's reset_parameters does.
    mg.manual_seed(0)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    for values in (layer.weight.data, layer.bias.data):
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.8 * bound
    assert abs(layer.weight.data.std() - bound / math.sqrt(3)) < 0.05 * bound
    mg.manual_seed(0)
    np.testing.assert_array_equal(make().weight.data, layer.weight.data)


def test_output_size_picks_the_output_padding():
    layer = ConvTranspose2d(2, 3, 3, stride=2)
    x = mg.tensor(random_array(1, 2, 4, 4))
    assert layer(x).shape == (1, 3, 9, 9)
    assert layer(x, output_size=[10, 10]).shape == (1, 3, 10, 10)
    assert layer(x, output_size=(1, 3, 9, 10)).shape == (1, 3, 9, 10)
    assert layer(x[0], output_size=[3, 10, 9]).shape == (3, 10, 9)
    np.testing.assert_array_equal(
        layer(x, output_size=[10, 9]).data, conv_transpose2d(x, layer.weight, layer.bias, 2, 0, (1, 0)).data
    )
    assert ConvTranspose1d(2, 3, 3, stride=3, padding=1)(x[0, :, 0], output_size=[11]).shape == (3, 11)


def test_reprs_are_pytorchs():
    # repr(...) of the same modules in PyTorch 2.13.0.
    assert repr(ConvTranspose1d(4, 6, 3)) == "ConvTranspose1d(4, 6, kernel_size=(3,), stride=(1,))"
    assert repr(
        ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, bias=False, dilation=2)
    ) == (
        "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(2, 2), "
        "output_padding=(1, 1), groups=2, bias=False)"
    )


# ---- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda x, w: conv_transpose2d(x, w, stride=2, output_padding=2),
            r"conv_transpose2d: output_padding \(2, 2\) must be smaller than either the stride \(2, 2\) or the dilation",
        ),
        (
            lambda x, w: conv_transpose2d(x[:, :3], w),
            r"takes 4 input channels .* got input of shape \(2, 3, 5, 5\)",
        ),
        (
            lambda x, w: conv_transpose2d(x, w, groups=3),
            r"the 4 input channels .* must split evenly into groups=3",
        ),
        (lambda x, w: conv_transpose2d(x, w, mg.zeros(4)), r"bias must have shape \(3,\)"),
        (lambda x, w: conv_transpose2d(x[:, :, :1, :1], w, padding=2), r"gives an output of size \(-1, -1\)"),
        (lambda x, w: conv_transpose2d(x, w, padding=-1), r"padding must be an int or a pair"),
        (
            lambda x, w: conv_transpose2d(x, w[0]),
            r"weight must have shape \(in_channels, out_channels / groups, kh, kw\)",
        ),
        (lambda x, w: conv_transpose2d(x[0, 0], w), r"expected input of shape \(N, C, H, W\) or \(C, H, W\)"),
        (lambda x, w: conv_transpose2d(x, w, groups=0), r"groups must be a positive int"),
        (
            lambda x, w: conv_transpose1d(x[:, :, 0], w[:, :, 0], stride=2, output_padding=3),
            r"conv_transpose1d: output_padding 3 must be smaller than either the stride 2 or the dilation 1",
        ),
    ],
)
def test_function_errors_name_the_function_and_the_shapes(call, message):
    x, weight = mg.tensor(random_array(2, 4, 5, 5)), mg.tensor(random_array(4, 3, 3, 3))
    with pytest.raises(ValueError, match=message):
        call(x, weight)


def test_module_errors():
    with pytest.raises(ValueError, match=r"ConvTranspose2d: only padding_mode='zeros' is supported"):
        ConvTranspose2d(2, 4, 3, padding_mode="reflect")
    with pytest.raises(
        ValueError, match=r"ConvTranspose1d: in_channels \(3\) and out_channels \(4\).*groups \(2\)"
    ):
        ConvTranspose1d(3, 4, 3, groups=2)
    layer, x = ConvTranspose2d(2, 3, 3, stride=2), mg.tensor(random_array(1, 2, 4, 4))
    with pytest.raises(ValueError, match=r"output_size of \(11, 11\).* range from \(9, 9\) to \(10, 10\)"):
        layer(x, output_size=[11, 11])
    with pytest.raises(ValueError, match=r"output_size must have 2 or 4 sizes, got \(1, 11, 11\)"):
        layer(x, output_size=[1, 11, 11])
