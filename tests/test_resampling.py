"""Resampling: ``interpolate``, ``pixel_shuffle``, ``pixel_unshuffle`` and their modules.

The functions are in minigrad/nn/functional/resampling.py, the modules in
minigrad/nn/resampling.py. Expected values are worked out by hand or by the numpy
reference below; they were checked by hand against PyTorch 2.13.0, as were the reprs.
"""

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array

import minigrad as mg
from minigrad.nn.functional.resampling import interpolate, pixel_shuffle, pixel_unshuffle
from minigrad.nn.resampling import PixelShuffle, PixelUnshuffle, Upsample


def linear_reference(row, output_size, align_corners):
    """Linear interpolation of one row, one output at a time, from the formula in the docstring."""
    size = len(row)
    result = []
    for i in range(output_size):
        if align_corners:
            source = i * (size - 1) / (output_size - 1) if output_size > 1 else 0.0
        else:
            source = max((i + 0.5) * size / output_size - 0.5, 0.0)
        left = min(int(np.floor(source)), size - 1)
        right = min(left + 1, size - 1)
        t = source - left
        result.append((1 - t) * row[left] + t * row[right])
    return np.array(result)


# ---- values ------------------------------------------------------------------------------


def test_nearest_repeats_each_value_when_upsampling_by_an_integer():
    x = mg.tensor([[[1.0, 2.0, 3.0]]])
    np.testing.assert_array_equal(interpolate(x, scale_factor=2).data, [[[1, 1, 2, 2, 3, 3]]])
    np.testing.assert_array_equal(interpolate(x, size=7).data, [[[1, 1, 1, 2, 2, 3, 3]]])


def test_nearest_reads_floor_of_i_times_scale_and_nearest_exact_the_pixel_under_the_centre():
    x = mg.tensor(np.arange(6.0).reshape(1, 1, 6))
    # scale = 6 / 4 = 1.5: floor(0, 1.5, 3, 4.5) and floor(0.75, 2.25, 3.75, 5.25)
    np.testing.assert_array_equal(interpolate(x, size=4).data.ravel(), [0, 1, 3, 4])
    np.testing.assert_array_equal(interpolate(x, size=4, mode="nearest-exact").data.ravel(), [0, 2, 3, 5])


def test_a_given_scale_factor_sets_the_scale_unless_it_is_recomputed_from_the_sizes():
    x = mg.tensor(np.arange(3.0).reshape(1, 1, 3))
    # 6 outputs either way; scale 1 / 2.1 reads floor(i / 2.1), the sizes' scale 1 / 2 reads i // 2.
    np.testing.assert_array_equal(interpolate(x, scale_factor=2.1).data.ravel(), [0, 0, 0, 1, 1, 2])
    recomputed = interpolate(x, scale_factor=2.1, recompute_scale_factor=True)
    np.testing.assert_array_equal(recomputed.data.ravel(), [0, 0, 1, 1, 2, 2])


def test_nearest_copies_an_image_axis_of_unchanged_size_as_pytorch_does():
    row = np.arange(5.0)
    signal = interpolate(mg.tensor(row.reshape(1, 1, 5)), scale_factor=1.1)
    image = interpolate(mg.tensor(row.reshape(1, 1, 1, 5)), scale_factor=1.1)
    np.testing.assert_array_equal(signal.data.ravel(), [0, 0, 1, 2, 3])
    np.testing.assert_array_equal(image.data.ravel(), row)


def test_linear_by_hand():
    x = mg.tensor([[[1.0, 3.0]]])
    np.testing.assert_allclose(interpolate(x, size=3, mode="linear", align_corners=True).data, [[[1, 2, 3]]])
    # align_corners=False: centres at -0.25 (clamped to 0), 0.25, 0.75 and 1.25 (past the last input)
    np.testing.assert_allclose(interpolate(x, scale_factor=2, mode="linear").data, [[[1, 1.5, 2.5, 3]]])


def test_bilinear_by_hand():
    x = mg.tensor([[[[0.0, 2.0], [4.0, 6.0]]]])
    y = interpolate(x, size=(3, 3), mode="bilinear", align_corners=True)
    np.testing.assert_allclose(y.data[0, 0], [[0, 1, 2], [2, 3, 4], [4, 5, 6]])


@pytest.mark.parametrize("align_corners", [True, False])
@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13])
def test_linear_matches_the_reference(align_corners, size):
    x = random_array(2, 3, 5, seed=size)
    y = interpolate(mg.tensor(x), size=size, mode="linear", align_corners=align_corners)
    expected = np.apply_along_axis(linear_reference, 2, x, size, align_corners)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("align_corners", [True, False])
@pytest.mark.parametrize("size", [(2, 7), (6, 3), (1, 4)])
def test_bilinear_is_linear_along_rows_then_columns(align_corners, size):
    x = random_array(1, 2, 4, 5, seed=1)
    y = interpolate(mg.tensor(x), size=size, mode="bilinear", align_corners=align_corners)
    rows = np.apply_along_axis(linear_reference, 2, x, size[0], align_corners)
    expected = np.apply_along_axis(linear_reference, 3, rows, size[1], align_corners)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear"])
def test_float32_stays_float32(mode):
    x = mg.tensor(random_array(1, 2, 3, 4).astype(np.float32))
    assert interpolate(x, scale_factor=1.5, mode=mode).dtype == np.float32
    assert pixel_shuffle(mg.tensor(random_array(1, 4, 2, 2).astype(np.float32)), 2).dtype == np.float32


def test_pixel_shuffle_by_hand_and_unshuffle_undoes_it():
    x = np.arange(8.0).reshape(1, 8, 1, 1)
    y = pixel_shuffle(mg.tensor(x), 2)
    assert y.shape == (1, 2, 2, 2)
    np.testing.assert_array_equal(y.data[0, 0], [[0, 1], [2, 3]])
    np.testing.assert_array_equal(y.data[0, 1], [[4, 5], [6, 7]])
    images = random_array(2, 3, 18, 2, 4)  # a leading batch axis beyond N, as PyTorch allows
    shuffled = pixel_shuffle(mg.tensor(images), 3)
    assert shuffled.shape == (2, 3, 2, 6, 12)
    np.testing.assert_array_equal(pixel_unshuffle(shuffled, 3).data, images)


# ---- gradients ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, arguments",
    [
        ((2, 3, 4), {"scale_factor": 2}),
        ((1, 2, 5), {"size": 3}),
        ((1, 2, 5), {"scale_factor": 1.5, "mode": "nearest-exact"}),
        ((1, 2, 3, 4), {"size": (5, 2)}),
        ((1, 1, 4, 3), {"scale_factor": (0.7, 2.1), "mode": "nearest-exact"}),
        ((2, 2, 5), {"size": 8, "mode": "linear"}),
        ((1, 2, 6), {"scale_factor": 0.7, "mode": "linear", "align_corners": True}),
        ((1, 2, 3, 4), {"scale_factor": 1.5, "mode": "bilinear"}),
        ((1, 1, 4, 5), {"size": (2, 7), "mode": "bilinear", "align_corners": True}),
        ((1, 1, 3, 3), {"size": 1, "mode": "bilinear", "align_corners": True}),
    ],
)
def test_interpolate_gradcheck(shape, arguments):
    assert_gradcheck(lambda x: interpolate(x, **arguments), random_array(*shape))


@pytest.mark.parametrize("shape, factor", [((1, 4, 2, 3), 2), ((2, 9, 1, 2), 3), ((3, 2, 1, 1), 1)])
def test_pixel_shuffle_and_unshuffle_gradcheck(shape, factor):
    assert_gradcheck(lambda x: pixel_shuffle(x, factor), random_array(*shape))
    *batch, channels, height, width = shape
    assert_gradcheck(
        lambda x: pixel_unshuffle(x, factor), random_array(*batch, channels, height * factor, width * factor)
    )


def test_upsampling_gradient_sums_over_the_copies():
    x = mg.tensor([[[1.0, 2.0]]], requires_grad=True)
    interpolate(x, scale_factor=3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[[3, 3]]])


# ---- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, arguments, message",
    [
        ((1, 1, 4), {}, "exactly one of size"),
        ((1, 1, 4), {"size": 2, "scale_factor": 2}, "exactly one of size"),
        ((1, 4), {"size": 2}, "3-D"),
        ((1, 1, 4), {"size": 2, "mode": "bicubic"}, "mode must be one of"),
        ((1, 1, 4), {"size": 2, "mode": "bilinear"}, "needs a 4-D input"),
        ((1, 1, 4, 4), {"size": 2, "mode": "linear"}, "needs a 3-D input"),
        ((1, 1, 4), {"size": 2, "align_corners": True}, "align_corners"),
        ((1, 1, 4), {"size": 0}, "at least 1"),
        ((1, 1, 4), {"scale_factor": 0.2}, "at least 1"),
        ((1, 1, 4, 4), {"size": (2, 3, 4)}, "one per spatial"),
        ((1, 1, 4), {"size": 2.5}, "size must be a int"),
        ((1, 1, 4), {"size": 2, "recompute_scale_factor": True}, "recompute_scale_factor"),
    ],
)
def test_interpolate_errors(shape, arguments, message):
    with pytest.raises(ValueError, match=message):
        interpolate(mg.tensor(np.zeros(shape)), **arguments)


@pytest.mark.parametrize(
    "function, shape, factor, message",
    [
        (pixel_shuffle, (1, 5, 2, 2), 2, "5 channels .* divisible by upscale_factor\\*\\*2 = 4"),
        (pixel_shuffle, (4, 2), 2, "at least 3 axes"),
        (pixel_shuffle, (1, 4, 2, 2), 0, "positive int"),
        (pixel_unshuffle, (1, 1, 5, 4), 2, "height 5"),
        (pixel_unshuffle, (1, 1, 4, 5), 2, "width 5"),
    ],
)
def test_pixel_shuffle_errors(function, shape, factor, message):
    with pytest.raises(ValueError, match=message):
        function(mg.tensor(np.zeros(shape)), factor)


# ---- modules -----------------------------------------------------------------------------


def test_modules_compute_their_functions_and_have_no_state():
    x = mg.tensor(random_array(1, 4, 3, 2))
    upsample = Upsample(scale_factor=2, mode="bilinear", align_corners=False)
    np.testing.assert_array_equal(
        upsample(x).data, interpolate(x, scale_factor=2, mode="bilinear", align_corners=False).data
    )
    np.testing.assert_array_equal(PixelShuffle(2)(x).data, pixel_shuffle(x, 2).data)
    np.testing.assert_array_equal(PixelUnshuffle(1)(x).data, x.data)
    for module in (upsample, PixelShuffle(2), PixelUnshuffle(2)):
        assert module.state_dict() == {}


def test_module_reprs_match_pytorch():
    assert repr(Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(Upsample(size=(3, 4), mode="bilinear")) == "Upsample(size=(3, 4), mode='bilinear')"
    assert repr(PixelShuffle(2)) == "PixelShuffle(upscale_factor=2)"
    assert repr(PixelUnshuffle(3)) == "PixelUnshuffle(downscale_factor=3)"
