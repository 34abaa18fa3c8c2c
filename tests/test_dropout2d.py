"""Channel dropout: F.dropout2d (minigrad/nn/functional/layers.py) and nn.Dropout2d (minigrad/nn/layers.py).

The reprs were checked by hand against PyTorch 2.13.0.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import random_array

import minigrad as mg
import minigrad.nn.functional as F  # noqa: N812
from minigrad import nn


def kept_channels(result: np.ndarray) -> np.ndarray:
    """Which (n, c) maps of a dropout2d result of positive values were kept, after checking each is whole."""
    kept = result != 0
    whole = kept.all(axis=(-2, -1)) | ~kept.any(axis=(-2, -1))
    assert whole.all(), "a channel was partly zeroed"
    return kept.all(axis=(-2, -1))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_zeroes_whole_channels_about_p_of_them_and_scales_the_rest(p):
    mg.manual_seed(0)
    x = random_array(20, 500, 3, 4, positive=True)  # 10,000 channels
    result = F.dropout2d(mg.tensor(x), p).data
    kept = kept_channels(result)
    assert abs((~kept).mean() - p) < 0.02
    np.testing.assert_allclose(result[kept], x[kept] / (1 - p), rtol=1e-12)


def test_an_unbatched_image_gets_the_mask_of_a_batch_of_one():
    x = random_array(1, 40, 2, 3, positive=True)
    mg.manual_seed(3)
    batched = F.dropout2d(mg.tensor(x), 0.5).data
    mg.manual_seed(3)
    unbatched = F.dropout2d(mg.tensor(x[0]), 0.5).data
    kept = kept_channels(unbatched)
    assert 0 < kept.sum() < 40
    np.testing.assert_array_equal(unbatched, batched[0])


def test_the_gradient_is_the_mask_times_the_scale():
    mg.manual_seed(1)
    x = mg.tensor(random_array(3, 8, 2, 2, positive=True), requires_grad=True)
    y = F.dropout2d(x, 0.25)
    grad = random_array(3, 8, 2, 2, seed=2)
    y.backward(grad)
    kept = kept_channels(y.data)[:, :, np.newaxis, np.newaxis]
    assert 0 < kept.sum() < 24
    np.testing.assert_allclose(x.grad.data, grad * kept / 0.75, rtol=1e-15)


def test_eval_and_p_zero_return_the_input_and_p_one_zeroes_everything():
    x = mg.tensor(random_array(2, 3, 4, 4), requires_grad=True)
    assert F.dropout2d(x, 0.5, training=False) is x
    assert F.dropout2d(x, 0.0) is x
    assert nn.Dropout2d(0.5).eval()(x) is x
    zeros = F.dropout2d(x, 1.0)
    zeros.sum().backward()
    np.testing.assert_array_equal(zeros.data, np.zeros((2, 3, 4, 4)))
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3, 4, 4)))


def test_float32_stays_float32_and_manual_seed_repeats_the_mask():
    x = mg.tensor(random_array(4, 6, 3, 3, positive=True).astype(np.float32))
    mg.manual_seed(7)
    first = F.dropout2d(x, 0.5)
    mg.manual_seed(7)
    assert first.dtype == np.float32
    np.testing.assert_array_equal(F.dropout2d(x, 0.5).data, first.data)


def test_inplace_gives_the_same_values_and_leaves_the_input_alone():
    x = random_array(2, 10, 3, 3, positive=True)
    before = x.copy()
    mg.manual_seed(5)
    copied = F.dropout2d(mg.tensor(x), 0.5, True, False).data
    mg.manual_seed(5)
    layer = nn.Dropout2d(0.5, inplace=True)
    np.testing.assert_array_equal(layer(mg.tensor(x)).data, copied)
    np.testing.assert_array_equal(x, before)


def test_the_module_matches_the_function():
    x = mg.tensor(random_array(2, 10, 3, 3, positive=True))
    mg.manual_seed(11)
    expected = F.dropout2d(x, 0.3).data
    mg.manual_seed(11)
    layer = nn.Dropout2d(0.3)
    np.testing.assert_array_equal(layer(x).data, expected)
    assert list(layer.parameters()) == [] and layer.state_dict() == {}


def test_module_reprs_are_pytorchs():
    # repr(...) of the same modules in PyTorch 2.13.0.
    assert repr(nn.Dropout2d()) == "Dropout2d(p=0.5, inplace=False)"
    assert repr(nn.Dropout2d(0.3, inplace=True)) == "Dropout2d(p=0.3, inplace=True)"


@pytest.mark.parametrize("p", [-0.1, 1.1, float("nan")])
def test_p_outside_zero_to_one_is_an_error(p):
    with pytest.raises(ValueError, match=rf"dropout2d: p must be between 0 and 1, got {p}"):
        F.dropout2d(mg.zeros(1, 2, 3, 3), p)
    with pytest.raises(ValueError, match=rf"Dropout2d: p must be between 0 and 1, got {p}"):
        nn.Dropout2d(p)


def test_inplace_must_be_a_bool():
    with pytest.raises(TypeError, match="dropout2d: inplace"):
        F.dropout2d(mg.zeros(1, 2, 3, 3), 0.5, True, 0.2)
    with pytest.raises(TypeError, match="Dropout2d: inplace"):
        nn.Dropout2d(0.5, 1)


@pytest.mark.parametrize("shape", [(3, 4), (1, 2, 3, 4, 5)])
@pytest.mark.parametrize("training", [True, False])
def test_input_that_is_not_an_image_is_an_error(shape, training):
    with pytest.raises(
        ValueError, match=rf"dropout2d: .*\(N, C, H, W\) or \(C, H, W\), got {re.escape(str(shape))}"
    ):
        F.dropout2d(mg.zeros(*shape), 0.5, training)
