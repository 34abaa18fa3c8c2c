"""Differentiable operations written by hand: mg.autograd.Function (minigrad/function.py)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array

import minigrad as mg
from minigrad import viz


class Cube(mg.autograd.Function):
    """x**3, with its rule written with tensor ops, so it can be differentiated again."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x**2


class Scale(mg.autograd.Function):
    """x * k for a number k, which gets no gradient."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.k, None


class Product(mg.autograd.Function):
    """a * b, noting which gradients are needed."""

    seen: tuple[bool, ...] = ()

    @staticmethod
    def forward(ctx, a, b):
        Product.seen = ctx.needs_input_grad
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a


def test_the_rule_gives_the_gradient_and_its_own_derivative():
    x = random_array(3, 4)
    assert_gradcheck(lambda t: Cube.apply(t), x)
    assert_gradcheck(lambda t: Cube.apply(t), x, second_order=True)
    t = mg.tensor(x, requires_grad=True)
    (grad,) = mg.grad(Cube.apply(t).sum(), [t], create_graph=True)
    (second,) = mg.grad(grad.sum(), [t])
    np.testing.assert_allclose(second.data, 6 * x)


def test_arguments_that_are_not_tensors_get_none():
    x = mg.tensor(random_array(5), requires_grad=True)
    Scale.apply(x, 2.5).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(5, 2.5))
    assert_gradcheck(lambda t: Scale.apply(t, -0.5), random_array(2, 3))


def test_only_the_needed_gradients_are_kept_and_the_chain_rule_runs_through():
    a = mg.tensor(random_array(3), requires_grad=True)
    b = mg.tensor(random_array(3, seed=1))
    Product.apply(a * 2.0, b).sum().backward()
    assert Product.seen == (True, False)
    np.testing.assert_allclose(a.grad.data, 2.0 * b.data)
    assert_gradcheck(lambda p, q: Product.apply(p.exp(), q), random_array(2, 2), random_array(2, 2, seed=3))


def test_forward_is_not_recorded_and_a_result_needing_no_gradient_has_no_op():
    recorded = []

    class Peek(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 2.0
            recorded.append(y.op)
            return y

        @staticmethod
        def backward(ctx, grad):
            return grad * 2.0

    y = Peek.apply(mg.tensor([1.0, 2.0], requires_grad=True))
    assert recorded == [None] and y.op.name == "Peek" and y.requires_grad
    constant = Peek.apply(mg.tensor([1.0, 2.0]))
    assert constant.op is None and not constant.requires_grad
    assert "Peek" in viz.draw_graph(y).source


def test_a_rule_may_return_arrays_and_float32_stays_float32():
    class Square(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.values = x.data.copy()
            return x * x

        @staticmethod
        def backward(ctx, grad):
            return 2 * ctx.values * grad.data

    x = mg.tensor(np.array([1.0, -3.0], dtype=np.float32), requires_grad=True)
    y = Square.apply(x)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, [2.0, -6.0])


def test_wrong_results_are_errors_that_name_the_function():
    class TooFew(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return grad

    class WrongShape(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, grad):
            return grad

    class NotATensor(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.data

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"TooFew.backward returned 1 gradient\(s\), but forward took 2"):
        TooFew.apply(x, 3.0).sum().backward()
    with pytest.raises(
        RuntimeError, match=r"WrongShape.backward returned a gradient of shape \(\) for argument 0"
    ):
        WrongShape.apply(x).backward()
    with pytest.raises(TypeError, match="NotATensor.forward returned a ndarray; it must return one Tensor"):
        NotATensor.apply(x)
    assert x.grad is None


def test_a_saved_tensor_changed_in_place_before_backward_is_an_error_as_in_pytorch():
    weight = mg.nn.Parameter(mg.tensor([1.0, 2.0]))
    y = Cube.apply(weight).sum()
    with mg.no_grad():
        weight.add_(1.0)  # as an optimizer's step would
    with pytest.raises(
        RuntimeError, match=r"rule of Cube reads saved tensor 0 \(ctx.saved_tensors\), of shape \(2,\)"
    ):
        y.backward()
    assert weight.grad is None  # nothing was added anywhere


def test_a_change_to_what_a_function_did_not_save_is_no_error():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    k = mg.tensor([3.0, 4.0])
    y = Scale.apply(x, 2.0).sum() + (x * 1.0).sum()
    k.add_(1.0)  # changed, but nothing reads it
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])
