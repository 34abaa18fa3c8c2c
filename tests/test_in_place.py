"""Changing tensors in place: the operators ``+= -= *= /=`` and the methods ``add_`` ... ``copy_``.

Covers minigrad/in_place.py: where a tensor changes in its own memory, where the
operators compute a new recorded tensor instead, and where it is an error.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array

import minigrad as mg
from minigrad import nn, optim

OPERATORS = {
    "+=": lambda t, u: t.__iadd__(u),
    "-=": lambda t, u: t.__isub__(u),
    "*=": lambda t, u: t.__imul__(u),
    "/=": lambda t, u: t.__itruediv__(u),
}
METHODS = {
    "add_": lambda t, u: t.add_(u),
    "sub_": lambda t, u: t.sub_(u),
    "mul_": lambda t, u: t.mul_(u),
    "div_": lambda t, u: t.div_(u),
    "fill_": lambda t, u: t.fill_(2.0),
    "zero_": lambda t, u: t.zero_(),
    "copy_": lambda t, u: t.copy_(u),
}


def test_updating_parameters_by_hand_in_no_grad_changes_the_models_own_parameters():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    copy = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    copy.load_state_dict(model.state_dict())
    x, target = (
        mg.tensor(random_array(8, 3).astype(np.float32)),
        mg.tensor(random_array(8, 1).astype(np.float32)),
    )
    by_optimizer = optim.SGD(copy.parameters(), lr=0.1)
    for _ in range(3):
        for network in (model, copy):
            network.zero_grad()
            ((network(x) - target) ** 2).mean().backward()
        parameters = list(model.parameters())
        with mg.no_grad():
            for p in parameters:
                p -= 0.1 * p.grad
        assert [id(p) for p in model.parameters()] == [id(p) for p in parameters]
        by_optimizer.step()
    for (name, mine), (_, theirs) in zip(model.named_parameters(), copy.named_parameters()):
        assert mine.dtype == np.float32 and mine.is_leaf and mine.requires_grad, name
        np.testing.assert_allclose(mine.data, theirs.data, rtol=1e-6, err_msg=name)


@pytest.mark.parametrize("name", [*OPERATORS, *METHODS])
def test_a_leaf_that_requires_grad_cannot_change_while_recording(name):
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    before = p.data.copy()
    change = {**OPERATORS, **METHODS}[name]
    with pytest.raises(
        RuntimeError, match=rf"{re.escape(name)}: this leaf tensor of shape \(2,\) requires grad.*mg.no_grad"
    ):
        change(p, mg.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(p.data, before)


def test_add_and_sub_scale_by_alpha_and_keep_the_dtype():
    p = mg.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    p.grad = mg.tensor(np.array([10.0, 20.0]))  # float64: the result stays float32
    with mg.no_grad():
        assert p.add_(p.grad, alpha=-0.1) is p
        np.testing.assert_allclose(p.data, [0.0, 0.0], atol=1e-7)
        p.sub_(mg.tensor([1.0, 1.0]), alpha=2)
    np.testing.assert_allclose(p.data, [-2.0, -2.0], atol=1e-6)
    assert p.dtype == np.float32


def test_fill_zero_and_copy_write_over_the_numbers():
    t = mg.tensor([np.nan, 1.0, 2.0])
    t.zero_()  # nan * 0 would stay nan
    np.testing.assert_array_equal(t.data, [0.0, 0.0, 0.0])
    t.fill_(2.5)
    np.testing.assert_array_equal(t.data, [2.5, 2.5, 2.5])
    t.copy_(np.arange(3))  # integers converted, as PyTorch's copy_
    np.testing.assert_array_equal(t.data, [0.0, 1.0, 2.0])
    grid = mg.zeros(2, 3)
    grid.copy_(mg.tensor([1.0, 2.0, 3.0]))  # broadcast to the shape
    np.testing.assert_array_equal(grid.data, [[1, 2, 3], [1, 2, 3]])
    assert t.dtype == np.float32


@pytest.mark.parametrize("name", list(OPERATORS))
def test_a_tensor_that_requires_no_grad_changes_in_place_while_recording_too(name):
    t = mg.tensor([2.0, 4.0])
    memory = t.data
    result = OPERATORS[name](t, 2.0)
    assert result is t and t.data is memory
    expected = {"+=": [4.0, 6.0], "-=": [0.0, 2.0], "*=": [4.0, 8.0], "/=": [1.0, 2.0]}[name]
    np.testing.assert_array_equal(t.data, expected)


def test_operators_on_a_computed_result_record_a_new_tensor():
    def double_then_shift(x):
        h = x * 2.0
        h += x  # h = h + x, recorded: the gradient is 3
        h *= x
        return h

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    first = h
    h += 1.0
    assert h is not first and h.op is not None
    np.testing.assert_array_equal(first.data, [2.0, 4.0])  # the result its op made is unchanged
    assert_gradcheck(double_then_shift, random_array(3))


def test_adding_a_term_that_requires_grad_to_a_constant_records_it():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    total = mg.zeros(2)
    start = total
    total += w * 3.0
    assert total is not start and total.requires_grad
    np.testing.assert_array_equal(start.data, [0.0, 0.0])
    total.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [3.0, 3.0])


@pytest.mark.parametrize("name", ["add_", "mul_", "zero_"])
def test_methods_on_a_computed_result_raise_as_they_cannot_rebind_a_name(name):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    with pytest.raises(RuntimeError, match=rf"{name}: cannot change a computed result in place.*x = x \+ y"):
        METHODS[name](h, mg.tensor([1.0, 1.0]))
    with mg.no_grad(), pytest.raises(RuntimeError, match="computed result"):
        METHODS[name](h, mg.tensor([1.0, 1.0]))
    np.testing.assert_array_equal(h.data, [2.0, 4.0])


def test_a_method_cannot_add_a_term_that_requires_grad_while_recording():
    total = mg.zeros(2)
    with pytest.raises(RuntimeError, match=r"add_: cannot change a tensor from one that requires grad"):
        total.add_(mg.tensor([1.0, 1.0], requires_grad=True))
    np.testing.assert_array_equal(total.data, [0.0, 0.0])


def test_in_place_keeps_the_dtype_and_the_shape_and_says_why_not():
    counts = mg.tensor([1, 2])
    with pytest.raises(
        TypeError, match=r"\+=: cannot change a int64 tensor of shape \(2,\) in place with 0.5"
    ):
        counts += 0.5
    counts += 1
    np.testing.assert_array_equal(counts.data, [2, 3])
    t = mg.zeros(2)
    with pytest.raises(ValueError, match=r"-=: cannot change a float32 tensor of shape \(2,\).*shape \(3,\)"):
        t -= np.ones(3)
    np.testing.assert_array_equal(t.data, [0.0, 0.0])
