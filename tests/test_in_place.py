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


# ---- backward notices a change to numbers that a rule reads -------------------------------------

CHANGED = r"the rule of {op} reads a tensor of shape {shape}.* changed in place .* after {op} was recorded"


def _square_sum_then(change):
    """``sum(w * w)`` recorded, then ``change(w)``: mul's rule reads w."""
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = (w * w).sum()
    with mg.no_grad():
        change(w)
    return w, loss


@pytest.mark.parametrize("name", [*OPERATORS, *METHODS])
def test_backward_refuses_a_rule_that_reads_a_tensor_changed_since_its_op_was_recorded(name):
    change = {**OPERATORS, **METHODS}[name]
    w, loss = _square_sum_then(lambda w: change(w, mg.tensor([1.0, 1.0, 1.0])))
    with pytest.raises(RuntimeError, match=CHANGED.format(op="mul", shape=r"\(3,\)")):
        loss.backward()
    assert w.grad is None  # checked before any gradient was added
    with pytest.raises(RuntimeError, match="changed in place"):
        mg.grad(loss, [w])


def test_a_change_that_no_rule_reads_is_fine_as_in_pytorch():
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    # mul's rule for w reads the constant 2.0, exp's reads its result, add's nothing,
    # matmul's for w reads x: none of them reads w.
    losses = [(w * 2.0).sum(), w.exp().sum(), (w + 1.0).sum(), (x @ w).sum()]
    with mg.no_grad():
        w -= 1.0
    for loss in losses:
        loss.backward()
    np.testing.assert_allclose(w.grad.data, 2.0 + np.exp([1.0, 2.0, 3.0]) + 1.0 + x.data.sum(axis=0))


def test_a_constant_that_a_rule_reads_is_noticed_too():
    w = mg.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
    x = mg.tensor([[1.0, 2.0, 3.0]])
    loss = (x @ w).sum()  # the rule of matmul for w reads x
    x.add_(1.0)
    with pytest.raises(RuntimeError, match=CHANGED.format(op="mat_mul", shape=r"\(1, 3\)")):
        loss.backward()


def test_an_optimizer_step_between_forward_and_backward_is_an_error_as_in_pytorch():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss = model(mg.ones(2, 3)).sum()
    for p in model.parameters():
        p.grad = mg.zeros_like(p)
    opt.step()
    with pytest.raises(
        RuntimeError, match=r"the rule of mat_mul reads the result of transpose, of shape \(4, 1\),"
    ):
        loss.backward()
    assert all(p.grad.data.sum() == 0 for p in model.parameters())  # nothing was added


@pytest.mark.parametrize(
    "change",
    [
        lambda model: model.load_state_dict({"weight": np.zeros((1, 3)), "bias": np.zeros(1)}),
        lambda model: nn.init.zeros_(model.weight),
        lambda model: nn.init.normal_(model.weight),
    ],
    ids=["load_state_dict", "init.zeros_", "init.normal_"],
)
def test_loading_and_initializing_are_changes_too(change):
    model = nn.Linear(3, 1)
    x = mg.ones(2, 3, requires_grad=True)
    loss = model(x).sum() + (model.weight**2).sum()  # pow's rule reads the weight
    change(model)
    with pytest.raises(RuntimeError, match=r"the rule of pow reads a tensor of shape \(1, 3\)"):
        loss.backward()
    assert x.grad is None and model.weight.grad is None


def test_a_view_of_the_numbers_before_a_load_keeps_them():
    # load_state_dict gives the parameter new memory: matmul's rule reads weight.T, a
    # view of the old, so the gradient comes from the numbers the forward used.
    model = nn.Linear(3, 1)
    x = mg.ones(2, 3, requires_grad=True)
    weight = model.weight.data.copy()
    loss = model(x).sum()
    model.load_state_dict({"weight": np.zeros((1, 3)), "bias": np.zeros(1)})
    loss.backward()
    np.testing.assert_allclose(x.grad.data, np.repeat(weight, 2, axis=0))


def test_a_change_through_another_tensor_sharing_the_memory_is_noticed():
    w = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = (w * w).sum()
    w.detach().add_(1.0)  # the same memory, as in PyTorch, where they share a version count
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


def test_the_usual_training_loop_and_a_graph_recorded_after_the_change_are_fine():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    opt = optim.Adam(model.parameters(), lr=0.01)
    x = mg.tensor(random_array(8, 3))
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    w, loss = _square_sum_then(lambda w: w.add_(1.0))
    loss = (w * w).sum()  # recorded again after the change
    loss.backward()
    np.testing.assert_allclose(w.grad.data, [4.0, 6.0, 8.0])


def test_mg_grad_checks_only_the_rules_on_the_way_to_its_inputs():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    loss = (a * 2.0).sum() + (b * b).sum()
    with mg.no_grad():
        b += 1.0
    (grad_a,) = mg.grad(loss, [a])  # b's mul is off the way to a: its rule does not run
    np.testing.assert_allclose(grad_a.data, [2.0, 2.0])
    with pytest.raises(RuntimeError, match="changed in place"):
        mg.grad(loss, [b])


def test_a_recorded_backward_is_refused_too_and_the_message_names_the_tensor():
    w = mg.tensor([1.0, 2.0], requires_grad=True, name="w")
    loss = (w.sin()).sum()
    with mg.no_grad():
        w.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"the rule of sin reads a tensor of shape \(2,\) \('w'\)"):
        mg.grad(loss, [w], create_graph=True)
