"""Group normalization: ``F.group_norm`` and ``nn.GroupNorm``.

The function is in minigrad/nn/functional/normalization.py, the module in
minigrad/nn/normalization.py. The reprs were checked by hand against PyTorch 2.13.0.
"""

import re

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import viz
import minigrad.nn.functional as F  # noqa: N812
from minigrad import nn

EPS = 1e-5


def group_norm_reference(x, num_groups, weight=None, bias=None, eps=EPS):
    """Group norm in plain numpy, one sample and one group of channels at a time."""
    channels = x.shape[1]
    group_size = channels // num_groups
    y = np.empty_like(x)
    for sample in range(x.shape[0]):
        for group in range(num_groups):
            channels_of_group = slice(group * group_size, (group + 1) * group_size)
            values = x[sample, channels_of_group]
            y[sample, channels_of_group] = (values - values.mean()) / np.sqrt(values.var() + eps)
    channel_shape = (1, channels) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(channel_shape)
    if bias is not None:
        y = y + bias.reshape(channel_shape)
    return y


def tensors(*arrays):
    """Each array a Tensor, None left as it is."""
    return [None if array is None else mg.tensor(array) for array in arrays]


@st.composite
def inputs_and_groups(draw):
    """An (N, C), (N, C, L) or (N, C, H, W) shape and a num_groups that divides its C."""
    num_groups = draw(st.integers(1, 4))
    channels = num_groups * draw(st.integers(1, 3))
    positions = draw(st.lists(st.integers(1, 4), min_size=0, max_size=2))
    return (draw(st.integers(1, 3)), channels, *positions), num_groups


# ---- values ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    shape_and_groups=inputs_and_groups(),
    with_weight=st.booleans(),
    with_bias=st.booleans(),
    seed=st.integers(0, 2**16),
    scale=st.sampled_from([0.1, 1.0, 30.0]),
)
def test_values_match_the_numpy_reference(shape_and_groups, with_weight, with_bias, seed, scale):
    shape, num_groups = shape_and_groups
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * scale + rng.standard_normal()
    weight = rng.standard_normal(shape[1]) if with_weight else None
    bias = rng.standard_normal(shape[1]) if with_bias else None
    result = F.group_norm(*tensors(x), num_groups, *tensors(weight, bias))
    assert result.shape == shape and result.dtype == np.float64
    expected = group_norm_reference(x, num_groups, weight, bias)
    np.testing.assert_allclose(result.data, expected, rtol=1e-10, atol=1e-12)


def test_each_group_of_each_sample_has_mean_zero_and_variance_near_one():
    x = random_array(3, 6, 5, seed=1) * 4 + 2
    y = F.group_norm(mg.tensor(x), 3).data.reshape(3, 3, 10)
    np.testing.assert_allclose(y.mean(axis=2), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=2), 1, rtol=1e-4)
    # The groups are runs of neighbouring channels: channels 0 and 1 share statistics.
    x_first_group = x[:, :2].reshape(3, -1)
    expected = (x[:, 0] - x_first_group.mean(axis=1, keepdims=True)) / np.sqrt(
        x_first_group.var(axis=1, keepdims=True) + EPS
    )
    np.testing.assert_allclose(y[:, 0, :5], expected, rtol=1e-10)


def test_one_group_is_layer_norm_over_the_channels_and_positions():
    x, weight, bias = random_array(3, 4, 2, 5, seed=1), random_array(4, seed=2), random_array(4, seed=3)
    result = F.group_norm(*tensors(x), 1, *tensors(weight, bias))
    # Layer norm takes an affine of the normalized shape; the per-channel one, spread out.
    full_weight, full_bias = (np.broadcast_to(a.reshape(4, 1, 1), (4, 2, 5)).copy() for a in (weight, bias))
    expected = F.layer_norm(*tensors(x), (4, 2, 5), *tensors(full_weight, full_bias))
    np.testing.assert_allclose(result.data, expected.data, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 2, 4)])
def test_one_group_per_channel_is_instance_norm(shape):
    x = random_array(*shape, seed=1)
    result = F.group_norm(mg.tensor(x), shape[1])
    # Instance norm: each channel of each sample normalized over its own positions.
    expected = F.layer_norm(mg.tensor(x), shape[2:])
    np.testing.assert_allclose(result.data, expected.data, rtol=1e-10, atol=1e-12)
    spatial = tuple(range(2, len(shape)))
    by_hand = (x - x.mean(axis=spatial, keepdims=True)) / np.sqrt(x.var(axis=spatial, keepdims=True) + EPS)
    np.testing.assert_allclose(result.data, by_hand, rtol=1e-10, atol=1e-12)


def test_one_value_per_group_gives_the_bias_and_no_gradient():
    # As in PyTorch: a group of one value is 0 after centering, unlike batch norm's error.
    x, bias = mg.tensor(random_array(3, 4, seed=1), requires_grad=True), random_array(4, seed=2)
    result = F.group_norm(x, 4, mg.tensor(random_array(4, seed=3)), mg.tensor(bias))
    np.testing.assert_array_equal(result.data, np.broadcast_to(bias, (3, 4)))
    result.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros((3, 4)))


def test_float32_stays_float32():
    x = mg.tensor(random_array(2, 6, 3, seed=1).astype(np.float32), requires_grad=True)
    weight = mg.tensor(random_array(6, seed=2).astype(np.float32), requires_grad=True)
    bias = mg.tensor(random_array(6, seed=3).astype(np.float32), requires_grad=True)
    result = F.group_norm(x, 2, weight, bias)
    assert result.dtype == np.float32
    (result * result).sum().backward()
    assert x.grad.dtype == weight.grad.dtype == bias.grad.dtype == np.float32
    expected = group_norm_reference(x.data.astype(np.float64), 2, weight.data, bias.data)
    np.testing.assert_allclose(result.data, expected, rtol=1e-5, atol=1e-5)


def test_the_input_is_left_alone():
    x = random_array(2, 4, 3, seed=1)
    before = x.copy()
    F.group_norm(mg.tensor(x), 2)
    np.testing.assert_array_equal(x, before)


def test_is_drawn_as_one_group_norm_box():
    x = mg.tensor(random_array(2, 4, 3), requires_grad=True)
    x.name = "x"
    titles = re.findall(r"<b>(.*?)</b>", viz.draw_graph(F.group_norm(x, 2), depth=0).source)
    assert sorted(titles) == ["group_norm", "output", "x"]


# ---- gradients -----------------------------------------------------------------------------

AFFINE_CASES = [(True, True), (True, False), (False, True), (False, False)]
AFFINE_IDS = ["weight-bias", "weight", "bias", "none"]


@pytest.mark.parametrize("shape", [(4, 6), (2, 6, 3), (2, 6, 2, 2)], ids=["NC", "NCL", "NCHW"])
@pytest.mark.parametrize("num_groups", [1, 3, 6])
@pytest.mark.parametrize(("with_weight", "with_bias"), AFFINE_CASES, ids=AFFINE_IDS)
def test_gradcheck(shape, num_groups, with_weight, with_bias):
    inputs = [random_array(*shape, seed=1) * 2 + 1]
    if with_weight:
        inputs.append(random_array(6, seed=2))
    if with_bias:
        inputs.append(random_array(6, seed=3))

    def normalize(x, *affine):
        weight = affine[0] if with_weight else None
        bias = affine[-1] if with_bias else None
        return F.group_norm(x, num_groups, weight, bias)

    assert_gradcheck(normalize, *inputs)


@pytest.mark.parametrize(("num_groups", "normalized_axes"), [(1, slice(1, None)), (4, slice(2, None))])
def test_gradients_equal_those_of_layer_norm_and_instance_norm(num_groups, normalized_axes):
    x = mg.tensor(random_array(2, 4, 3, seed=1), requires_grad=True)
    upstream = random_array(2, 4, 3, seed=2)
    (from_group_norm,) = mg.grad(F.group_norm(x, num_groups), [x], upstream)
    (from_layer_norm,) = mg.grad(F.layer_norm(x, x.shape[normalized_axes]), [x], upstream)
    assert np.abs(from_group_norm.data).max() > 1e-3
    np.testing.assert_allclose(from_group_norm.data, from_layer_norm.data, rtol=1e-9, atol=1e-12)


# ---- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "num_groups"), [((3, 6), 4), ((2, 5, 4), 2), ((2, 4, 2, 2), 3)])
def test_channels_not_divisible_by_num_groups_name_both(shape, num_groups):
    channels = shape[1]
    with pytest.raises(
        ValueError,
        match=rf"group_norm: the input's {channels} channels \(shape {re.escape(str(shape))}\) "
        rf"are not divisible by num_groups={num_groups}\. Use a num_groups that divides {channels}",
    ):
        F.group_norm(mg.tensor(random_array(*shape)), num_groups)


@pytest.mark.parametrize("num_groups", [0, -2, 2.0, None])
def test_num_groups_must_be_a_positive_integer(num_groups):
    with pytest.raises(
        ValueError, match=rf"group_norm: num_groups must be a positive integer, got {num_groups}"
    ):
        F.group_norm(mg.tensor(random_array(2, 4)), num_groups)


@pytest.mark.parametrize(
    ("argument", "value", "given"),
    [
        ("weight", mg.ones(5), "shape (5,)"),
        ("weight", mg.ones(1, 6), "shape (1, 6)"),
        ("bias", mg.zeros(3), "shape (3,)"),
        ("weight", np.ones(6), "a ndarray"),
    ],
)
def test_per_channel_arguments_must_be_tensors_of_shape_c(argument, value, given):
    with pytest.raises(
        ValueError,
        match=rf"group_norm: {argument} must be a Tensor of shape \(6,\) for an input of shape "
        rf"\(3, 6, 2\), got {re.escape(given)}",
    ):
        F.group_norm(mg.tensor(random_array(3, 6, 2)), 2, **{argument: value})


@pytest.mark.parametrize("shape", [(6,), ()])
def test_input_needs_a_batch_and_a_channel_axis(shape):
    with pytest.raises(
        ValueError,
        match=rf"group_norm: expected an input of shape \(N, C, \.\.\.\), got {re.escape(str(shape))}",
    ):
        F.group_norm(mg.tensor(random_array(*shape)), 1)


# ---- the module ----------------------------------------------------------------------------


def test_module_parameters_start_at_ones_and_zeros():
    layer = nn.GroupNorm(2, 6)
    assert [(name, p.shape, p.dtype) for name, p in layer.named_parameters()] == [
        ("weight", (6,), np.float32),
        ("bias", (6,), np.float32),
    ]
    np.testing.assert_array_equal(layer.weight.data, np.ones(6))
    np.testing.assert_array_equal(layer.bias.data, np.zeros(6))
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert list(layer.buffers()) == []
    assert (layer.num_groups, layer.num_channels, layer.eps, layer.affine) == (2, 6, EPS, True)


@pytest.mark.parametrize(
    ("options", "names"),
    [({"affine": False}, []), ({"bias": False}, ["weight"]), ({"affine": False, "bias": False}, [])],
)
def test_module_without_affine_or_bias_has_fewer_parameters(options, names):
    layer = nn.GroupNorm(3, 6, **options)
    assert [name for name, _ in layer.named_parameters()] == names
    assert list(layer.state_dict()) == names
    assert layer.bias is None
    x = random_array(2, 6, 4)
    weight = layer.weight.data if layer.weight is not None else None
    expected = group_norm_reference(x, 3, weight)
    np.testing.assert_allclose(layer(mg.tensor(x)).data, expected, rtol=1e-5, atol=1e-6)


def test_module_takes_a_dtype_and_bias_only_by_name():
    layer = nn.GroupNorm(2, 4, 1e-3, True, np.float64)
    assert layer.weight.dtype == layer.bias.dtype == np.float64 and layer.eps == 1e-3
    with pytest.raises(TypeError):
        nn.GroupNorm(2, 4, 1e-5, True, None, False)  # bias is keyword-only, as in PyTorch


def test_module_equals_the_function_in_training_and_evaluation(float64_default):
    layer = nn.GroupNorm(2, 4, eps=1e-3)
    layer.weight.data[...] = random_array(4, seed=1)
    layer.bias.data[...] = random_array(4, seed=2)
    x = mg.tensor(random_array(3, 4, 2, 2, seed=3))
    expected = group_norm_reference(x.data, 2, layer.weight.data, layer.bias.data, eps=1e-3)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(layer.eval()(x).data, layer.train()(x).data)


def test_module_gradients_reach_its_parameters(float64_default):
    layer = nn.GroupNorm(2, 4)
    x = random_array(3, 4, 5, seed=1)
    upstream = random_array(3, 4, 5, seed=2)
    layer(mg.tensor(x)).backward(mg.tensor(upstream))
    x_hat = group_norm_reference(x, 2)
    np.testing.assert_allclose(layer.weight.grad.data, (upstream * x_hat).sum(axis=(0, 2)), rtol=1e-10)
    np.testing.assert_allclose(layer.bias.grad.data, upstream.sum(axis=(0, 2)), rtol=1e-10)


def test_module_state_dict_round_trip():
    source, target = nn.GroupNorm(2, 4), nn.GroupNorm(2, 4)
    source.weight.data[...] = random_array(4, seed=1)
    source.bias.data[...] = random_array(4, seed=2)
    target.load_state_dict(source.state_dict())
    np.testing.assert_array_equal(target.weight.data, source.weight.data)
    np.testing.assert_array_equal(target.bias.data, source.bias.data)
    with pytest.raises(ValueError, match="weight"):
        nn.GroupNorm(2, 6).load_state_dict(source.state_dict())


@pytest.mark.parametrize(("num_groups", "num_channels"), [(4, 6), (0, 6), (-1, 3)])
def test_module_checks_that_num_groups_divides_num_channels(num_groups, num_channels):
    with pytest.raises(
        ValueError,
        match=rf"GroupNorm: num_channels \({num_channels}\) must be divisible by num_groups \({num_groups}\)",
    ):
        nn.GroupNorm(num_groups, num_channels)


def test_module_with_the_wrong_number_of_channels_names_the_shapes():
    with pytest.raises(
        ValueError,
        match=r"group_norm: weight must be a Tensor of shape \(4,\) .*\(2, 4, 3\), got shape \(6,\)",
    ):
        nn.GroupNorm(2, 6)(mg.tensor(random_array(2, 4, 3)))


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (nn.GroupNorm(2, 6), "GroupNorm(2, 6, eps=1e-05, affine=True, bias=True)"),
        (nn.GroupNorm(3, 6, eps=1e-3, affine=False), "GroupNorm(3, 6, eps=0.001, affine=False, bias=False)"),
        (nn.GroupNorm(1, 4, bias=False), "GroupNorm(1, 4, eps=1e-05, affine=True, bias=False)"),
    ],
)
def test_module_repr_matches_pytorch(module, expected):
    assert repr(module) == expected
