"""Gradient clipping (minigrad/nn/utils.py)."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def parameters_with_gradients(*gradients):
    parameters = []
    for gradient in gradients:
        parameter = nn.Parameter(np.zeros(len(gradient), dtype=np.float32))
        parameter.grad = mg.tensor(np.array(gradient, dtype=np.float32))
        parameters.append(parameter)
    return parameters


def test_clip_grad_norm_scales_all_gradients_by_one_factor_and_returns_the_norm_before():
    w, b = parameters_with_gradients([3.0, 4.0], [12.0])
    total = nn.utils.clip_grad_norm_([w, b], max_norm=1.0)  # sqrt(9 + 16 + 144) = 13
    assert total.dtype == np.float32 and np.isclose(total.item(), 13.0)
    scale = 1.0 / (13.0 + 1e-6)
    np.testing.assert_allclose(w.grad.data, [3.0 * scale, 4.0 * scale], rtol=1e-6)
    np.testing.assert_allclose(b.grad.data, [12.0 * scale], rtol=1e-6)
    assert w.grad.dtype == np.float32
    (w,) = parameters_with_gradients([3.0, 4.0])
    assert np.isclose(nn.utils.clip_grad_norm_(w, max_norm=10.0).item(), 5.0)  # below: unchanged
    np.testing.assert_array_equal(w.grad.data, [3.0, 4.0])


def test_clip_grad_norm_with_other_orders_and_no_gradients():
    (w,) = parameters_with_gradients([3.0, -4.0])
    assert nn.utils.clip_grad_norm_([w], 10.0, norm_type="inf").item() == 4.0
    assert np.isclose(nn.utils.clip_grad_norm_([w], 10.0, norm_type=1).item(), 7.0)
    assert nn.utils.clip_grad_norm_([nn.Parameter(np.ones(2))], 1.0).item() == 0.0  # no .grad


def test_clip_grad_norm_of_a_nan_gradient_is_an_error_only_when_asked():
    (w,) = parameters_with_gradients([np.nan, 1.0])
    with pytest.raises(
        RuntimeError, match="clip_grad_norm_: the total norm of order 2.0 of the gradients is nan"
    ):
        nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    assert np.isnan(nn.utils.clip_grad_norm_([w], 1.0).item())


def test_clip_grad_value_clips_each_value():
    w, b = parameters_with_gradients([3.0, -4.0], [0.5])
    nn.utils.clip_grad_value_([w, b], 3.5)
    np.testing.assert_array_equal(w.grad.data, [3.0, -3.5])
    np.testing.assert_array_equal(b.grad.data, [0.5])


def test_clipping_between_backward_and_step_in_a_training_loop():
    mg.manual_seed(0)
    model = nn.Linear(3, 1)
    optimizer = mg.optim.SGD(model.parameters(), lr=0.1)
    loss = (model(mg.randn(8, 3) * 100.0) ** 2).mean()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
    norm = np.sqrt(
        sum((parameter.grad.data.astype(np.float64) ** 2).sum() for parameter in model.parameters())
    )
    assert np.isclose(norm, 0.5, rtol=1e-5)
    optimizer.step()
