"""Instance normalization: ``instance_norm`` and ``InstanceNorm1d`` / ``InstanceNorm2d``.

The function is in minigrad/nn/functional/normalization.py, the modules in
minigrad/nn/normalization.py. The running statistics' update and the reprs were checked
by hand against PyTorch 2.13.0.
"""

import warnings

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array

import minigrad as mg
from minigrad.nn.functional.normalization import batch_norm, instance_norm
from minigrad.nn.normalization import InstanceNorm1d, InstanceNorm2d

EPS = 1e-5


def instance_norm_reference(x, weight=None, bias=None, eps=EPS):
    """Instance norm in plain numpy: each sample's each channel over its positions."""
    axes = tuple(range(2, x.ndim))
    y = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    channel_shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(channel_shape)
    if bias is not None:
        y = y + bias.reshape(channel_shape)
    return y


# ---- values ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 3, 5), (1, 2, 4, 3), (3, 1, 2, 2)])
@pytest.mark.parametrize("affine", [False, True])
def test_values_match_the_numpy_reference(shape, affine):
    x = random_array(*shape, seed=1) * 3 + 1
    weight = random_array(shape[1], seed=2) if affine else None
    bias = random_array(shape[1], seed=3) if affine else None
    affine_tensors = {"weight": mg.tensor(weight), "bias": mg.tensor(bias)} if affine else {}
    result = instance_norm(mg.tensor(x), **affine_tensors)
    np.testing.assert_allclose(result.data, instance_norm_reference(x, weight, bias), rtol=1e-10, atol=1e-12)


def test_running_statistics_average_each_samples_unbiased_statistics_over_the_batch():
    x = np.array([[[1.0, 3.0]], [[2.0, 6.0]]])  # two samples of one channel
    running_mean, running_var = mg.tensor([0.0]), mg.tensor([1.0])
    instance_norm(mg.tensor(x), running_mean, running_var, momentum=0.5)
    # sample means 2 and 4, unbiased variances 2 and 8: averaged, 3 and 5
    np.testing.assert_allclose(running_mean.data, [0.5 * 0 + 0.5 * 3])
    np.testing.assert_allclose(running_var.data, [0.5 * 1 + 0.5 * 5])


def test_without_input_statistics_it_is_batch_norm_in_evaluation_and_changes_nothing():
    x, weight, bias = mg.tensor(random_array(2, 3, 4)), mg.tensor(random_array(3)), mg.tensor(random_array(3))
    running_mean, running_var = mg.tensor(random_array(3)), mg.tensor(random_array(3, positive=True))
    y = instance_norm(x, running_mean, running_var, weight, bias, use_input_stats=False)
    expected = batch_norm(x, running_mean, running_var, weight, bias, training=False)
    np.testing.assert_array_equal(y.data, expected.data)
    np.testing.assert_array_equal(running_mean.data, random_array(3))


def test_float32_stays_float32():
    x = mg.tensor(random_array(2, 3, 4).astype(np.float32))
    running_mean, running_var = mg.zeros(3), mg.ones(3)
    assert instance_norm(x, running_mean, running_var).dtype == np.float32
    assert running_mean.dtype == np.float32 and running_var.dtype == np.float32


# ---- gradients ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 2, 3, 3), (2, 1, 2)])
def test_gradcheck_with_input_statistics(shape):
    channels = shape[1]
    arrays = random_array(*shape), random_array(channels, seed=1), random_array(channels, seed=2)
    assert_gradcheck(lambda x, weight, bias: instance_norm(x, weight=weight, bias=bias), *arrays)
    assert_gradcheck(lambda x: instance_norm(x), random_array(*shape, seed=3))


def test_gradcheck_with_running_statistics():
    running_mean, running_var = mg.tensor(random_array(3)), mg.tensor(random_array(3, positive=True))
    assert_gradcheck(
        lambda x, weight: instance_norm(x, running_mean, running_var, weight, use_input_stats=False),
        random_array(2, 3, 4),
        random_array(3, seed=1),
    )


# ---- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, arguments, message",
    [
        ((2, 3), {}, "at least one axis after the channels"),
        ((2, 3, 1), {}, "more than 1 value per channel"),
        ((2, 3, 4), {"use_input_stats": False}, "running_mean and running_var"),
        ((2, 3, 4), {"weight": mg.ones(2)}, "weight must be a Tensor of shape \\(3,\\)"),
    ],
)
def test_errors(shape, arguments, message):
    with pytest.raises(ValueError, match=message):
        instance_norm(mg.tensor(np.zeros(shape)), **arguments)


# ---- modules -----------------------------------------------------------------------------


def test_state_dict_keys_are_pytorchs():
    assert list(InstanceNorm2d(3).state_dict()) == []
    tracked = InstanceNorm1d(3, affine=True, track_running_stats=True)
    assert list(tracked.state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]


def test_training_updates_the_running_statistics_and_evaluation_uses_them():
    norm = InstanceNorm2d(2, track_running_stats=True, dtype=np.float64)
    x = random_array(3, 2, 4, 4) * 2 + 5
    norm(mg.tensor(x))
    spatial_axes = (2, 3)
    np.testing.assert_allclose(norm.running_mean.data, 0.1 * x.mean(axis=spatial_axes).mean(axis=0))
    expected_var = 0.9 + 0.1 * x.var(axis=spatial_axes, ddof=1).mean(axis=0)
    np.testing.assert_allclose(norm.running_var.data, expected_var)
    assert int(norm.num_batches_tracked.data) == 0  # as in PyTorch, instance norm does not count
    norm.eval()
    channel_shape = (1, 2, 1, 1)
    expected = (x - norm.running_mean.data.reshape(channel_shape)) / np.sqrt(
        norm.running_var.data.reshape(channel_shape) + EPS
    )
    np.testing.assert_allclose(norm(mg.tensor(x)).data, expected)


def test_evaluation_without_tracked_statistics_uses_each_samples_own():
    norm = InstanceNorm1d(2, affine=True).eval()
    x = random_array(2, 2, 5)
    np.testing.assert_allclose(norm(mg.tensor(x)).data, instance_norm_reference(x), atol=1e-6)


def test_an_unbatched_input_is_a_batch_of_one():
    norm = InstanceNorm2d(3)
    image = random_array(3, 4, 5).astype(np.float32)
    y = norm(mg.tensor(image))
    assert y.shape == (3, 4, 5) and y.dtype == np.float32
    np.testing.assert_allclose(y.data, norm(mg.tensor(image[np.newaxis])).data[0])


def test_channel_mismatch_is_an_error_with_parameters_and_a_warning_without():
    with pytest.raises(ValueError, match="expected 3 channels in axis 1"):
        InstanceNorm1d(3, affine=True)(mg.tensor(np.zeros((2, 4, 5))))
    with pytest.raises(ValueError, match="expected input of shape \\(N, C, H, W\\)"):
        InstanceNorm2d(3)(mg.tensor(np.zeros((2, 3))))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        InstanceNorm1d(3)(mg.tensor(random_array(2, 4, 5)))
    assert "num_features is unused" in str(caught[0].message)


def test_repr_matches_pytorch():
    expected = (
        "InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)"
    )
    assert repr(InstanceNorm2d(3)) == expected
