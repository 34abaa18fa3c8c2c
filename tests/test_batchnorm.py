"""Batch normalization: the composed gradient, running statistics, modes and edge cases.

The functional ``F.batch_norm`` is gradchecked in test_nn_functional.py and the modules
in test_nn_modules.py; this file holds what is particular to batch norm (the modules in
minigrad/nn/normalization.py).
"""

import re

import numpy as np
import pytest
from conftest import random_array
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from conftest import assert_same_arrays, snapshot

import minigrad as mg
from minigrad import nn

EPS = 1e-5

# float64_default only sets the default dtype, so sharing it between examples is fine.
bn_settings = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
LAYOUTS = ["BatchNorm1d-NC", "BatchNorm1d-NCL", "BatchNorm2d"]  # inputs of 2, 3 and 4 dimensions


def channel_axes(x: np.ndarray) -> tuple[int, ...]:
    """Every axis but the channel axis 1: where batch norm takes its statistics."""
    return (0, *range(2, x.ndim))


def module_for(shape: tuple[int, ...], **options) -> nn.Module:
    """The batch norm layer that takes inputs of ``shape``."""
    layer = nn.BatchNorm2d if len(shape) == 4 else nn.BatchNorm1d
    return layer(shape[1], **options)


def batch_norm_shapes(ndim: int) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes (N, C), (N, C, L) or (N, C, H, W) with more than one value per channel."""
    return (
        st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)
        .map(tuple)
        .filter(lambda shape: np.prod(shape) // shape[1] > 1)
    )


# ---- the proof of the design: the chain rule gives the hand-derived gradient -------------


@pytest.mark.parametrize("ndim", [2, 3, 4], ids=LAYOUTS)
@bn_settings
@given(data=st.data(), seed=st.integers(0, 2**16), scale=st.sampled_from([0.1, 1.0, 30.0]))
def test_composed_gradient_equals_the_closed_form(float64_default, ndim, data, seed, scale):
    shape = data.draw(batch_norm_shapes(ndim))
    rng = np.random.default_rng(seed)
    channels = shape[1]
    x = rng.standard_normal(shape) * scale + rng.standard_normal()
    gamma, beta = rng.standard_normal(channels), rng.standard_normal(channels)
    dy = rng.standard_normal(shape)

    layer = module_for(shape)
    layer.weight.data[...] = gamma
    layer.bias.data[...] = beta
    x_tensor = mg.tensor(x, requires_grad=True)
    layer(x_tensor).backward(dy)

    # The textbook formula, derived by hand (N values per channel, sums over all axes but 1).
    axes = channel_axes(x)
    n = x.size // channels
    line_up = (1, channels) + (1,) * (x.ndim - 2)
    invstd = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + EPS)
    x_hat = (x - x.mean(axis=axes, keepdims=True)) * invstd
    sum_dy = dy.sum(axis=axes, keepdims=True)
    sum_dy_x_hat = (dy * x_hat).sum(axis=axes, keepdims=True)
    dx = (1 / n) * gamma.reshape(line_up) * invstd * (n * dy - sum_dy - x_hat * sum_dy_x_hat)

    np.testing.assert_allclose(x_tensor.grad.data, dx, rtol=0, atol=1e-10)
    np.testing.assert_allclose(layer.weight.grad.data, sum_dy_x_hat.reshape(channels), rtol=0, atol=1e-10)
    np.testing.assert_allclose(layer.bias.grad.data, sum_dy.reshape(channels), rtol=0, atol=1e-10)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2), (2, 3, 2, 2)])
def test_gradient_in_eval_mode_is_gamma_over_running_std(float64_default, shape):
    layer = module_for(shape)
    layer.weight.data[...] = random_array(3, seed=1)
    layer.running_var.data[...] = random_array(3, positive=True, seed=2)
    layer.eval()
    x = mg.tensor(random_array(*shape, seed=3), requires_grad=True)
    dy = random_array(*shape, seed=4)
    layer(x).backward(dy)
    line_up = (1, 3) + (1,) * (len(shape) - 2)
    expected = dy * (layer.weight.data / np.sqrt(layer.running_var.data + EPS)).reshape(line_up)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


# ---- training output ---------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 2)])
def test_training_normalizes_with_the_biased_batch_variance(float64_default, shape):
    layer = module_for(shape)
    layer.weight.data[...] = random_array(3, seed=1)
    layer.bias.data[...] = random_array(3, seed=2)
    x = random_array(*shape, seed=3)
    axes = channel_axes(x)
    line_up = (1, 3) + (1,) * (len(shape) - 2)
    x_hat = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + EPS)
    expected = x_hat * layer.weight.data.reshape(line_up) + layer.bias.data.reshape(line_up)
    np.testing.assert_allclose(layer(mg.tensor(x)).data, expected, rtol=1e-10, atol=1e-12)


# ---- running statistics --------------------------------------------------------------------


def test_buffers_start_at_mean_zero_var_one_and_no_batches():
    layer = nn.BatchNorm1d(4)
    np.testing.assert_array_equal(layer.running_mean.data, np.zeros(4))
    np.testing.assert_array_equal(layer.running_var.data, np.ones(4))
    assert layer.num_batches_tracked.shape == ()
    assert layer.num_batches_tracked.dtype == np.int64
    assert int(layer.num_batches_tracked.item()) == 0
    assert layer.running_mean.dtype == layer.running_var.dtype == np.float32
    assert not layer.running_mean.requires_grad and not layer.running_var.requires_grad


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (3, 3, 2, 2)])
def test_running_statistics_follow_the_moving_average(float64_default, momentum, shape):
    layer = module_for(shape, momentum=momentum)
    running_mean, running_var = np.zeros(3), np.ones(3)
    for step in range(1, 6):
        x = random_array(*shape, seed=step) * step + step  # a different mean and spread each batch
        layer(mg.tensor(x))
        axes = channel_axes(x)
        weight = 1 / step if momentum is None else momentum  # None: the cumulative average
        running_mean = (1 - weight) * running_mean + weight * x.mean(axis=axes)
        running_var = (1 - weight) * running_var + weight * x.var(axis=axes, ddof=1)
        np.testing.assert_allclose(layer.running_mean.data, running_mean, rtol=1e-12)
        np.testing.assert_allclose(layer.running_var.data, running_var, rtol=1e-12)
        assert layer.num_batches_tracked.item() == step
        assert layer.num_batches_tracked.dtype == np.int64


def test_cumulative_average_is_the_plain_mean_of_the_batch_statistics(float64_default):
    layer = nn.BatchNorm1d(2, momentum=None)
    batches = [random_array(4, 2, seed=seed) + seed for seed in range(4)]
    for batch in batches:
        layer(mg.tensor(batch))
    np.testing.assert_allclose(layer.running_mean.data, np.mean([b.mean(axis=0) for b in batches], axis=0))
    np.testing.assert_allclose(
        layer.running_var.data, np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0)
    )


def test_running_statistics_keep_the_float32_dtype():
    layer = nn.BatchNorm1d(3)
    layer(mg.tensor(random_array(5, 3)))  # float64 data into a float32 layer
    assert layer.running_mean.dtype == layer.running_var.dtype == np.float32
    assert layer.num_batches_tracked.dtype == np.int64


def test_backward_does_not_touch_the_running_statistics(float64_default):
    layer = nn.BatchNorm1d(3)
    y = layer(mg.tensor(random_array(5, 3), requires_grad=True))
    before = snapshot(layer)
    y.sum().backward()
    assert_same_arrays(layer.state_dict(), before)
    assert layer.running_mean.grad is None and layer.running_var.grad is None


# ---- eval mode ---------------------------------------------------------------------------


def trained(shape: tuple[int, ...], steps: int = 3) -> nn.Module:
    """A batch norm layer for ``shape`` with non-trivial running statistics and affine."""
    layer = module_for(shape)
    layer.weight.data[...] = random_array(shape[1], seed=100)
    layer.bias.data[...] = random_array(shape[1], seed=101)
    for step in range(steps):
        layer(mg.tensor(random_array(*shape, seed=step) * 2 + 1))
    return layer


@pytest.mark.parametrize("ndim", [2, 3, 4], ids=LAYOUTS)
@bn_settings
@given(data=st.data())
def test_eval_mode_is_per_sample(float64_default, ndim, data):
    shape = data.draw(batch_norm_shapes(ndim))
    layer = trained(shape).eval()
    x = random_array(*shape, seed=data.draw(st.integers(0, 100)))
    index = data.draw(st.integers(0, shape[0] - 1))
    whole_batch = layer(mg.tensor(x)).data
    one_sample = layer(mg.tensor(x[index : index + 1])).data
    np.testing.assert_allclose(one_sample[0], whole_batch[index], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2), (2, 3, 2, 2)])
def test_eval_mode_normalizes_with_the_running_statistics(float64_default, shape):
    layer = trained(shape).eval()
    x = random_array(*shape, seed=42)
    line_up = (1, 3) + (1,) * (len(shape) - 2)
    expected = (x - layer.running_mean.data.reshape(line_up)) / np.sqrt(
        layer.running_var.data.reshape(line_up) + EPS
    ) * layer.weight.data.reshape(line_up) + layer.bias.data.reshape(line_up)
    np.testing.assert_allclose(layer(mg.tensor(x)).data, expected, rtol=1e-12)


@pytest.mark.parametrize("shape", [(5, 3), (1, 3), (1, 3, 1), (4, 3, 2), (1, 3, 1, 1), (2, 3, 2, 2)])
def test_eval_mode_updates_nothing(float64_default, shape):
    layer = trained(shape if shape[0] > 1 else (4, *shape[1:])).eval()
    before = snapshot(layer)
    for seed in range(3):
        layer(mg.tensor(random_array(*shape, seed=seed), requires_grad=True)).sum().backward()
    assert_same_arrays(layer.state_dict(), before)


def test_fresh_layer_in_eval_mode_divides_by_sqrt_one_plus_eps(float64_default):
    x = random_array(4, 3)
    np.testing.assert_allclose(nn.BatchNorm1d(3).eval()(mg.tensor(x)).data, x / np.sqrt(1 + EPS), rtol=1e-12)


def test_train_and_eval_switch_back_and_forth(float64_default):
    layer = trained((6, 3))
    x = random_array(6, 3, seed=9)
    layer.eval()
    eval_output = layer(mg.tensor(x)).data
    layer.train()
    training_output = layer(mg.tensor(x)).data
    assert not np.allclose(eval_output, training_output)
    assert layer.num_batches_tracked.item() == 4


# ---- track_running_stats=False, affine=False -----------------------------------------------


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2), (2, 3, 2, 2)])
def test_without_running_stats_batch_statistics_are_used_in_both_modes(float64_default, shape):
    layer = module_for(shape, track_running_stats=False)
    x = random_array(*shape, seed=1)
    axes = channel_axes(x)
    expected = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + EPS)
    np.testing.assert_allclose(layer(mg.tensor(x)).data, expected, rtol=1e-10, atol=1e-12)
    layer.eval()
    np.testing.assert_allclose(layer(mg.tensor(x)).data, expected, rtol=1e-10, atol=1e-12)


def test_without_running_stats_the_buffers_are_none_and_not_saved():
    layer = nn.BatchNorm1d(3, track_running_stats=False)
    assert layer.running_mean is None and layer.running_var is None and layer.num_batches_tracked is None
    assert list(layer.named_buffers()) == []
    assert list(layer.state_dict()) == ["weight", "bias"]  # as PyTorch
    layer(mg.tensor(random_array(4, 3)))
    assert layer.running_mean is None and list(layer.state_dict()) == ["weight", "bias"]


def test_without_running_stats_eval_still_needs_more_than_one_value_per_channel():
    # PyTorch normalizes with batch statistics here too, so a single sample is an error.
    layer = nn.BatchNorm1d(3, track_running_stats=False).eval()
    with pytest.raises(ValueError, match="1 value per channel"):
        layer(mg.tensor(random_array(1, 3)))


def test_without_affine_there_are_no_parameters(float64_default):
    layer = nn.BatchNorm1d(3, affine=False)
    assert list(layer.parameters()) == []
    assert layer.weight is None and layer.bias is None
    assert list(layer.state_dict()) == ["running_mean", "running_var", "num_batches_tracked"]  # as PyTorch
    x = random_array(5, 3)
    expected = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + EPS)
    np.testing.assert_allclose(layer(mg.tensor(x)).data, expected, rtol=1e-10, atol=1e-12)


def test_without_affine_the_input_gradient_is_still_right(float64_default):
    assert mg.gradcheck(nn.BatchNorm1d(3, affine=False), [mg.tensor(random_array(4, 3), requires_grad=True)])


# ---- one value per channel -----------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1), (1, 3, 1, 1)])
@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("steps_before", [0, 2])
def test_training_on_one_value_per_channel_is_an_error_that_changes_nothing(shape, momentum, steps_before):
    layer = module_for(shape, momentum=momentum)
    for step in range(steps_before):
        layer(mg.tensor(random_array(4, *shape[1:], seed=step)))
    before = snapshot(layer)
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*" + re.escape(str(shape))):
        layer(mg.tensor(random_array(*shape)))
    assert_same_arrays(layer.state_dict(), before)  # PyTorch would have counted the batch; minigrad does not
    assert layer.num_batches_tracked.item() == steps_before


@pytest.mark.parametrize("shape", [(1, 3, 2), (1, 3, 5), (1, 3, 2, 1), (1, 3, 1, 2)])
def test_a_single_sample_with_several_values_per_channel_trains(float64_default, shape):
    layer = module_for(shape)
    x = random_array(*shape)
    axes = channel_axes(x)
    y = layer(mg.tensor(x)).data
    np.testing.assert_allclose(y.mean(axis=axes), 0.0, atol=1e-12)
    np.testing.assert_allclose(layer.running_mean.data, 0.1 * x.mean(axis=axes), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var.data, 0.9 + 0.1 * x.var(axis=axes, ddof=1), rtol=1e-12)
    assert layer.num_batches_tracked.item() == 1


# ---- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "shape"),
    [(nn.BatchNorm1d(3), (4, 5)), (nn.BatchNorm1d(3), (4, 2, 6)), (nn.BatchNorm2d(3), (2, 4, 3, 3))],
)
def test_wrong_number_of_channels_names_the_layer_channels_and_shape(layer, shape):
    pattern = rf"{type(layer).__name__}.*3 channels.*{re.escape(str(shape))}"
    with pytest.raises(ValueError, match=pattern):
        layer(mg.tensor(random_array(*shape)))


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (nn.BatchNorm1d(3), (2, 3, 4, 5)),
        (nn.BatchNorm1d(3), (3,)),
        (nn.BatchNorm2d(3), (2, 3, 4)),
        (nn.BatchNorm2d(3), (2, 3)),
    ],
)
def test_wrong_number_of_dimensions_names_the_layer_and_shape(layer, shape):
    pattern = rf"{type(layer).__name__}.*{re.escape(str(shape))}"
    with pytest.raises(ValueError, match=pattern):
        layer(mg.tensor(random_array(*shape)))
    layer.eval()
    with pytest.raises(ValueError, match=pattern):
        layer(mg.tensor(random_array(*shape)))
    assert layer.num_batches_tracked.item() == 0
