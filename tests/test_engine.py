"""Backward semantics, higher-order gradients, mg.grad and no_grad (minigrad/engine.py and autograd.py)."""

import weakref

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array

import minigrad as mg
from minigrad import engine


def leaf(values):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ---- backward -------------------------------------------------------------------------------


def test_scalar_backward():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0, 6.0])
    assert isinstance(x.grad, mg.Tensor)
    assert x.grad.shape == x.shape


def test_backward_of_a_one_element_non_0d_tensor_needs_no_gradient():
    x = leaf([[3.0]])
    (x * x).backward()
    np.testing.assert_array_equal(x.grad.data, [[6.0]])


@pytest.mark.parametrize("as_tensor", [False, True])
def test_non_scalar_backward_with_a_gradient(as_tensor):
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    upstream = np.array([[1.0, 10.0], [100.0, 1000.0]])
    (x * x).backward(mg.tensor(upstream) if as_tensor else upstream)
    np.testing.assert_array_equal(x.grad.data, 2 * x.data * upstream)


def test_gradients_flow_to_every_leaf_along_every_path():
    x, w = leaf([2.0]), leaf([3.0])
    y = x * w + x * x + w
    y.backward(np.ones(1))
    np.testing.assert_array_equal(x.grad.data, [3.0 + 4.0])
    np.testing.assert_array_equal(w.grad.data, [2.0 + 1.0])


def test_leaves_that_do_not_require_grad_get_no_grad():
    x, constant = leaf([2.0]), mg.tensor(np.array([3.0]))
    (x * constant).sum().backward()
    assert constant.grad is None


def test_leaf_grads_accumulate_across_calls():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0 + 2.0, 3.0 + 4.0])


def test_graph_is_kept_and_a_second_backward_adds_the_same_gradient():
    x = leaf([1.0, 2.0, 3.0])
    w = leaf([0.5, -1.0, 2.0])
    loss = ((x * w).tanh() * x).sum()
    loss.backward()
    first_x, first_w = x.grad.data.copy(), w.grad.data.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first_x)
    np.testing.assert_allclose(w.grad.data, 2 * first_w)
    assert loss.op is not None


def test_intermediate_tensors_never_get_a_grad():
    x = leaf([1.0, 2.0])
    hidden = x * 2
    activated = hidden.tanh()
    loss = (activated * hidden).sum()
    loss.backward()
    loss.backward()
    assert hidden.grad is None
    assert activated.grad is None
    assert loss.grad is None


def test_backward_of_a_leaf():
    x = leaf([[1.0, 2.0]])
    x.backward(np.array([[3.0, 4.0]]))
    np.testing.assert_array_equal(x.grad.data, [[3.0, 4.0]])


def test_setting_grad_to_none_restarts_accumulation():
    x = leaf([1.0])
    (x * 2).sum().backward()
    x.grad = None
    (x * 5).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [5.0])


# Users and optimizers change .grad in place (clipping, zeroing, weight decay): that must
# work, and must reach no other leaf's grad and not the gradient passed to backward.


def test_sum_backward_gives_a_writable_grad():
    x = leaf(np.ones((3, 4)))
    x.sum().backward()
    x.grad.data[0, 0] = 5.0
    assert x.grad.data.sum() == 5.0 + 11.0


def test_leaf_grads_do_not_share_memory():
    a, b = leaf(np.ones((3, 4))), leaf(np.ones((3, 4)))
    (a.reshape(12) + b.reshape(12)).backward(np.ones(12))
    a.grad.data *= 0.5
    np.testing.assert_array_equal(b.grad.data, np.ones((3, 4)))


def test_a_leaf_grad_is_not_the_gradient_passed_to_backward():
    a, b = leaf(np.ones(3)), leaf(np.ones(3))
    upstream = np.ones(3)
    (a + b * 2).backward(upstream)
    a.grad.data *= 0.5
    np.testing.assert_array_equal(upstream, np.ones(3))


def test_a_tensor_passed_to_backward_is_not_a_leafs_grad():
    a = leaf(np.ones(3))
    upstream = mg.tensor(np.ones(3))
    (a + 1.0).backward(upstream)  # add passes the gradient through unchanged
    a.grad.data *= 0.5
    np.testing.assert_array_equal(upstream.data, np.ones(3))


def test_gradients_from_grad_share_no_memory_with_the_upstream_or_each_other():
    a, b = leaf(np.ones(3)), leaf(np.ones(3))
    upstream = np.ones(3)
    grad_a, grad_b = mg.grad(a + b, [a, b], grad_outputs=upstream)
    grad_a.data *= 0.5
    np.testing.assert_array_equal(upstream, np.ones(3))
    np.testing.assert_array_equal(grad_b.data, np.ones(3))


def test_a_100000_op_chain_backpropagates_without_recursion():
    x = leaf(np.linspace(-1.0, 1.0, 16))
    y = x
    for _ in range(100_000):
        y = y * 1.0001 + 0.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full(16, 1.0001**100_000), rtol=1e-3)
    # a wrong answer would be far off, e.g. 1.0001 or 0
    assert x.grad.data.min() > 2e4


# ---- one rule, run on tensors or on arrays -----------------------------------------------------

# Every primitive's rule at least once: without create_graph the rules run on numpy
# arrays, with it on Tensors, and both must give the same numbers.
EVERY_RULE = {
    "add sub neg": (lambda a, b: (a + b) - (-b) - a, [(3, 4), (4,)]),
    "mul div": (lambda a, b: a * b / (b * b + 1), [(3, 4), (3, 1)]),
    "pow": (lambda a, b: a**b + a**2 + a**0.5 + 3.0**a, [(3, 4), (3, 4)]),
    "maximum where": (lambda a, b: mg.maximum(a, b) + mg.where(a.data > 1, a, b), [(3, 4), (3, 4)]),
    "exp log sqrt": (lambda x: x.exp() + x.log() + x.sqrt(), [(2, 3)]),
    "tanh sigmoid relu abs": (
        lambda x: (x - 1).tanh() * (x - 1).sigmoid() + (x - 1).relu() + (x - 1).abs(),
        [(5,)],
    ),
    "sum max": (lambda x: x.sum(axis=0) + x.max(axis=0) + x.max() + x.sum(), [(3, 4)]),
    "broadcast reshape transpose": (lambda x: x.broadcast_to((2, 3, 4)).reshape(4, 6).T, [(3, 4)]),
    "astype": (lambda x: x.astype(np.float32).astype(np.float64) * x, [(3,)]),
    "getitem concatenate": (lambda x: mg.concatenate([x[np.array([0, 0, 2])], x[1:]], axis=0), [(3, 2)]),
    "matmul": (lambda a, b: a @ b + a @ b.T.T + (b.T @ a.T).T, [(3, 4), (4, 2)]),
    "0-d": (lambda a, b: a * b + a / b, [(), ()]),
}


@pytest.mark.parametrize("name", EVERY_RULE)
def test_a_rule_gives_the_same_gradients_on_arrays_and_on_tensors(name):
    function, shapes = EVERY_RULE[name]
    inputs = [leaf(random_array(*shape, positive=True, seed=seed)) for seed, shape in enumerate(shapes)]
    output = function(*inputs)
    upstream = random_array(*output.shape, seed=9)
    on_arrays = mg.grad(output, inputs, grad_outputs=upstream)
    on_tensors = mg.grad(output, inputs, grad_outputs=upstream, create_graph=True)
    for array_grad, tensor_grad, tensor in zip(on_arrays, on_tensors, inputs):
        assert not array_grad.requires_grad and array_grad.op is None
        assert type(array_grad.data) is np.ndarray and array_grad.shape == tensor.shape
        np.testing.assert_allclose(array_grad.data, tensor_grad.data, rtol=1e-14, atol=1e-15)


def _through_dropped_intermediates(function):
    """``function`` between intermediate results (``x * 1``) that only the graph refers to.

    Its inputs and its result are such results, so a rule can read them only if its op kept them.
    """

    def applied(*inputs):
        return function(*[x * 1.0 for x in inputs]) * 1.0

    return applied


@pytest.mark.parametrize("name", EVERY_RULE)
@pytest.mark.parametrize("create_graph", [False, True])
def test_a_rule_reads_only_what_its_op_keeps(name, create_graph):
    # Each op keeps the numbers its rule declares in `reads`; every other intermediate
    # result is freed once dropped. Given dropped intermediates as inputs, a rule that
    # read something undeclared would get None (on arrays) or a freed stand-in (on
    # Tensors) and fail; the gradients must match those of the inputs held alive.
    function, shapes = EVERY_RULE[name]
    inputs = [leaf(random_array(*shape, positive=True, seed=seed)) for seed, shape in enumerate(shapes)]
    held = [x * 1.0 for x in inputs]
    expected = mg.grad(function(*held).sum(), inputs)
    output = _through_dropped_intermediates(function)(*inputs)
    found = mg.grad(output.sum(), inputs, create_graph=create_graph)
    for found_grad, expected_grad in zip(found, expected):
        np.testing.assert_allclose(found_grad.data, expected_grad.data, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", [name for name, (_, shapes) in EVERY_RULE.items() if len(shapes) == 2])
@pytest.mark.parametrize("position", [0, 1])
@pytest.mark.parametrize("create_graph", [False, True])
def test_a_rule_reads_only_what_its_op_keeps_when_one_input_needs_a_gradient(name, position, create_graph):
    # What an op keeps depends on which gradients are needed (div's d/da reads only b,
    # d/db also its result). A constant input is always kept: the op holds it.
    function, shapes = EVERY_RULE[name]
    arrays = [random_array(*shape, positive=True, seed=seed) for seed, shape in enumerate(shapes)]
    inputs = [leaf(array) if index == position else mg.tensor(array) for index, array in enumerate(arrays)]
    (expected,) = mg.grad(function(*[x * 1.0 for x in inputs]).sum(), inputs[position])
    output = _through_dropped_intermediates(function)(*inputs)
    (found,) = mg.grad(output.sum(), inputs[position], create_graph=create_graph)
    np.testing.assert_allclose(found.data, expected.data, rtol=1e-14, atol=1e-15)


def test_a_product_or_quotient_with_a_constant_keeps_nothing():
    # d(h * 2)/dh = 2 and d(h / 3)/dh = 1/3 read neither h nor the result.
    x = leaf(random_array(3, 4))
    h = x + 1.0  # add's rule reads nothing, so only a later rule could keep h
    freed = weakref.ref(h.data)
    doubled, third = h * 2.0, h / 3.0
    del h
    assert freed() is None
    assert doubled.op.saved is None and third.op.saved is None
    (doubled + third).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.full((3, 4), 2 + 1 / 3))


@pytest.mark.parametrize(
    "name", ["mul div", "pow", "exp log sqrt", "tanh sigmoid relu abs", "sum max", "matmul"]
)
def test_second_derivatives_through_dropped_intermediates(name):
    function, shapes = EVERY_RULE[name]
    inputs = [leaf(random_array(*shape, positive=True, seed=seed)) for seed, shape in enumerate(shapes)]
    assert mg.gradgradcheck(lambda *xs: _through_dropped_intermediates(function)(*xs).sum(), inputs)


def test_a_held_tensor_is_its_ops_input():
    x = leaf([1.0, 2.0])
    y = x * 3.0
    loss = (y + 1.0).sum()
    assert loss.op.inputs[0].op.inputs[0] is y


def test_a_dropped_result_that_no_rule_reads_is_freed():
    x, w, b = leaf(random_array(4, 3)), leaf(random_array(3, 2, seed=1)), leaf(random_array(2, seed=2))
    product = x @ w
    freed = weakref.ref(product.data)
    y = product + b  # add's rule reads neither input
    del product
    assert freed() is None
    stand_in = y.op.inputs[0]
    assert stand_in.op.name == "mat_mul" and stand_in.shape == (4, 2) and stand_in.dtype == np.float64
    assert stand_in.ndim == 2 and stand_in.size == 8 and stand_in.requires_grad and not stand_in.is_leaf
    assert y.op.inputs[0] is stand_in  # one stand-in while it lives
    assert "<freed>" in repr(stand_in)
    with pytest.raises(RuntimeError, match="values of this mat_mul result .* were freed"):
        _ = stand_in.data
    with pytest.raises(RuntimeError, match="were freed"):
        _ = stand_in * 2
    y.sum().backward()  # the graph is intact
    np.testing.assert_allclose(w.grad.data, x.data.T @ np.ones((4, 2)))


def test_a_dropped_result_that_a_rule_reads_keeps_its_numbers():
    x = leaf([0.5, -1.0])
    y = (x * 2.0).tanh() * 3.0  # tanh's rule reads its result, mul's rule reads its inputs
    tanh_result = y.op.inputs[0]
    np.testing.assert_array_equal(tanh_result.data, np.tanh(x.data * 2.0))
    with pytest.raises(RuntimeError, match="were freed"):
        _ = tanh_result.op.inputs[0].data  # x * 2: tanh's rule reads its result, not its input
    (twice,) = mg.grad(y.sum(), x, create_graph=True)
    (second,) = mg.grad(twice.sum(), x)
    t = np.tanh(2 * x.data)
    np.testing.assert_allclose(second.data, 3 * 2 * 2 * -2 * t * (1 - t**2))


def test_ops_share_one_copy_of_a_shape_and_of_a_needs_input_grad_pattern(monkeypatch):
    # A new tuple per op made the garbage collector run 5/3 as often on a long chain.
    x = leaf(random_array(3, 2))
    first, second = x * 2.0, (x + 1.0) * 3.0
    assert first.op.out_shape is second.op.out_shape == (3, 2)
    assert first.op.needs_input_grad is second.op.needs_input_grad == (True, False)
    # The shared copies are cleared when there are many (shapes can vary without end).
    monkeypatch.setattr(engine, "_shapes", {})
    monkeypatch.setattr(engine, "_MAX_SHAPES", 4)
    for length in range(1, 20):
        assert (leaf(np.ones(length)) * 2.0).op.out_shape == (length,)
        assert len(engine._shapes) <= 4


def test_a_shape_of_one_is_never_taken_for_a_needs_input_grad_pattern():
    # (1,) == (True,) and they hash alike: one shared dict for both once gave a dropped
    # result of shape (1,) the shape (True,), which drawings then showed.
    x = leaf([1.0, 2.0])
    x.exp()  # a (True,) pattern is shared first
    y = x.sum(keepdims=True).exp()
    shape = y.op.inputs[0].shape
    assert shape == (1,) and type(shape[0]) is int


def test_a_linear_batch_norm_relu_block_keeps_two_full_size_arrays():
    # The memory a training step holds until backward: the centred batch (read by the
    # square of the variance and by its product with the per-channel scale) and the
    # ReLU's result (read by ReLU's rule and by the next matrix product). The hand-written
    # backward keeps as many: x_hat and the ReLU's mask or result.
    model = mg.nn.Sequential(mg.nn.Linear(8, 16), mg.nn.BatchNorm1d(16), mg.nn.ReLU(), mg.nn.Linear(16, 3))
    x = mg.randn(32, 8)
    loss = mg.nn.functional.cross_entropy(model(x), np.arange(32) % 3)
    full_size = set()
    stack, seen = [loss.op], set()
    while stack:
        op = stack.pop()
        if id(op) in seen:
            continue
        seen.add(id(op))
        owner = op.saved if op.saved is None or op.saved.base is None else op.saved.base
        if owner is not None and owner.size >= 32 * 16:  # not the broadcast views of (16,) arrays
            full_size.add(id(owner))
        stack.extend(parent for parent in op.parents if not isinstance(parent, mg.Tensor))
    assert len(full_size) == 2


def test_a_rule_that_leaves_the_tensors_while_recording_is_an_error():
    class Leaky(mg.engine.Op):
        def forward(self, x):
            return x * 2

        def backward(self, grad, out, x):
            return (np.multiply(np.asarray(grad), 2),)  # an array even when given Tensors

    x = leaf([1.0, 2.0])
    y = Leaky.apply(x)
    (on_arrays,) = mg.grad(y.sum(), x)
    np.testing.assert_array_equal(on_arrays.data, [2.0, 2.0])
    with pytest.raises(TypeError, match="backward rule of leaky gave a ndarray"):
        mg.grad(y.sum(), x, create_graph=True)


def test_the_gradient_of_a_0d_leaf_is_an_array():
    x = leaf(2.0)
    (x * x).backward()
    assert type(x.grad.data) is np.ndarray and x.grad.shape == ()
    x.grad.data += 1  # writable, like any other gradient
    assert x.grad.item() == 5.0


# ---- higher-order gradients ------------------------------------------------------------------


def test_backward_create_graph_makes_a_differentiable_grad():
    x = leaf([1.0, -2.0, 3.0])
    (x**3).sum().backward(create_graph=True)
    first = x.grad
    np.testing.assert_allclose(first.data, 3 * x.data**2)
    assert first.requires_grad
    assert first.op is not None
    (second,) = mg.grad(first.sum(), x)
    np.testing.assert_allclose(second.data, 6 * x.data)


def test_backward_without_create_graph_records_nothing():
    x = leaf([1.0, -2.0])
    (x**3).sum().backward()
    assert not x.grad.requires_grad
    assert x.grad.op is None


def test_second_and_third_derivatives_of_a_cube():
    x = leaf([1.0, -2.0, 0.5])
    (first,) = mg.grad((x**3).sum(), x, create_graph=True)
    (second,) = mg.grad(first.sum(), x, create_graph=True)
    (third,) = mg.grad(second.sum(), x)
    np.testing.assert_allclose(first.data, 3 * x.data**2)
    np.testing.assert_allclose(second.data, 6 * x.data)
    np.testing.assert_allclose(third.data, [6.0, 6.0, 6.0])


def test_second_derivative_of_tanh():
    x = leaf(np.linspace(-2, 2, 5))
    (first,) = mg.grad(x.tanh().sum(), x, create_graph=True)
    (second,) = mg.grad(first.sum(), x)
    tanh = np.tanh(x.data)
    np.testing.assert_allclose(second.data, -2 * tanh * (1 - tanh**2), rtol=1e-12)


def f_for_hessian(x, weights):
    hidden = (weights @ x).sigmoid()
    return (hidden * hidden).sum() + (x.exp() * x[::-1]).sum() + x.var() * x.max()


def gradient_of_f(x_values, weights):
    x = mg.tensor(x_values, requires_grad=True)
    (grad,) = mg.grad(f_for_hessian(x, weights), x)
    return grad.data


def test_hessian_vector_product_matches_finite_differences_of_the_gradient():
    x_values, direction = random_array(4, seed=1), random_array(4, seed=2)
    weights = mg.tensor(random_array(3, 4, seed=3))
    x = mg.tensor(x_values, requires_grad=True)
    (grad,) = mg.grad(f_for_hessian(x, weights), x, create_graph=True)
    (hvp,) = mg.grad((grad * mg.tensor(direction)).sum(), x)
    eps = 1e-5
    numeric = (
        gradient_of_f(x_values + eps * direction, weights)
        - gradient_of_f(x_values - eps * direction, weights)
    ) / (2 * eps)
    np.testing.assert_allclose(hvp.data, numeric, rtol=1e-5, atol=1e-7)


SECOND_ORDER_CASES = {
    "tanh": (mg.tanh, [(3, 4)]),
    "sigmoid": (mg.sigmoid, [(3, 4)]),
    "exp": (mg.exp, [(3,)]),
    "div": (lambda a, b: a / b, [(3, 4), (4,)]),
    "matmul": (lambda a, b: a @ b, [(3, 4), (4, 2)]),
    "batched matmul": (lambda a, b: a @ b, [(2, 3, 4), (4,)]),
    "where, both branches": (
        lambda a, b: mg.where(np.array([[True, False, True, False]] * 3), a * a, b * b * b).tanh(),
        [(3, 4), (3, 4)],
    ),
    "maximum": (lambda a, b: mg.maximum(a * a, b * b * b).tanh(), [(3, 4), (3, 4)]),
    "var": (lambda x: x.var(axis=1), [(3, 4)]),
    "std": (lambda x: x.std(axis=0, ddof=1), [(3, 4)]),
    "max": (lambda x: x.max(axis=-1), [(3, 4)]),
    "getitem pow": (lambda x: x[np.array([0, 0, 2])] ** 3, [(3, 2)]),
}


def second_order_inputs(shapes):
    return [random_array(*shape, positive=True, seed=seed) for seed, shape in enumerate(shapes)]


@pytest.mark.parametrize("name", SECOND_ORDER_CASES)
def test_gradgradcheck(name):
    function, shapes = SECOND_ORDER_CASES[name]
    assert_gradcheck(function, *second_order_inputs(shapes), second_order=True)


@pytest.mark.parametrize("name", SECOND_ORDER_CASES)
def test_second_derivatives_by_gradcheck_of_the_gradient(name):
    # The same check as gradgradcheck, spelled out with mg.grad and mg.gradcheck.
    function, shapes = SECOND_ORDER_CASES[name]
    inputs = second_order_inputs(shapes)

    def weighted_gradient(*tensors):
        with mg.enable_grad():  # gradcheck evaluates this inside no_grad
            output = function(*tensors)
            weights = mg.tensor(random_array(*output.shape, seed=7))
            grads = mg.grad(output, tensors, grad_outputs=weights, create_graph=True)
        return mg.concatenate([grad.reshape(-1) for grad in grads])

    assert_gradcheck(weighted_gradient, *inputs)


# ---- mg.grad -------------------------------------------------------------------------------


def test_grad_returns_a_tuple_and_leaves_dot_grad_alone():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    result = mg.grad((x * w).sum(), [x, w])
    assert isinstance(result, tuple)
    assert len(result) == 2
    np.testing.assert_array_equal(result[0].data, [3.0, 4.0])
    np.testing.assert_array_equal(result[1].data, [1.0, 2.0])
    assert x.grad is None
    assert w.grad is None


def test_grad_of_one_input_is_a_one_tuple():
    x = leaf([1.0, 2.0])
    result = mg.grad((x * x).sum(), x)
    assert isinstance(result, tuple)
    assert len(result) == 1
    np.testing.assert_array_equal(result[0].data, [2.0, 4.0])


def test_grad_does_not_touch_an_existing_grad():
    x = leaf([1.0, 2.0])
    (x * 10).sum().backward()
    mg.grad((x * x).sum(), x)
    np.testing.assert_array_equal(x.grad.data, [10.0, 10.0])


def test_grad_outputs_list_sums_contributions():
    x = leaf([1.0, 2.0])
    (grad,) = mg.grad([(x * x).sum(), (x * 3).sum()], x)
    np.testing.assert_array_equal(grad.data, [2.0 + 3.0, 4.0 + 3.0])


def test_grad_outputs_that_depend_on_each_other_or_repeat():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    z = y * 3  # z depends on y: y's gradient is complete only after z has passed its share
    grad_x, grad_y = mg.grad([z, y], [x, y])
    np.testing.assert_array_equal(grad_x.data, [8.0, 16.0])  # d(3y + y)/dx = 4 * 2x
    assert grad_y.item() == 4.0
    (grad_x,) = mg.grad([y, y], x)
    np.testing.assert_array_equal(grad_x.data, [4.0, 8.0])


def test_backward_waits_for_every_use_of_a_tensor():
    # hidden is used three times, at different depths: its backward rule must run
    # once, after all three contributions are in.
    x = leaf([1.0, 2.0])
    hidden = x * 2
    y = mg.where(np.array([True, True]), hidden, hidden * 5) + hidden
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 4.0])


def test_a_grad_output_that_requires_grad_stays_on_the_graph_when_passed_through():
    # The double-backward trick for Jacobian-vector products: differentiate the
    # gradient with respect to grad_outputs. For y = x + 1, dy/dx applied to v is v
    # itself, which must stay linked to v (PyTorch returns v), not become a copy.
    x = leaf([1.0, 2.0])
    v = leaf([3.0, 4.0])
    (grad_x,) = mg.grad(x + 1.0, x, grad_outputs=v, create_graph=True)
    assert grad_x.requires_grad
    (grad_v,) = mg.grad(grad_x.sum(), v)
    np.testing.assert_array_equal(grad_v.data, [1.0, 1.0])


def test_grad_with_grad_outputs():
    x = leaf([1.0, 2.0])
    (grad,) = mg.grad(x * x, x, grad_outputs=np.array([10.0, 100.0]))
    np.testing.assert_array_equal(grad.data, [20.0, 400.0])
    (grad,) = mg.grad([x * x, x * 3], x, grad_outputs=[mg.tensor(np.array([1.0, 0.0])), np.array([0.0, 1.0])])
    np.testing.assert_array_equal(grad.data, [2.0, 3.0])


def test_grad_with_respect_to_an_intermediate():
    x = leaf([1.0, 2.0])
    hidden = x * 3
    (grad,) = mg.grad((hidden * hidden).sum(), hidden)
    np.testing.assert_array_equal(grad.data, 2 * hidden.data)
    assert hidden.grad is None


def test_grad_fills_the_retained_gradients_on_the_way_to_its_inputs_only():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    on_the_way, off_it = x * w, w * 2.0  # only the first leads to x
    on_the_way.retain_grad()
    off_it.retain_grad()
    (grad,) = mg.grad((on_the_way * on_the_way).sum() + off_it.sum(), x)
    np.testing.assert_array_equal(grad.data, 2 * on_the_way.data * w.data)
    np.testing.assert_array_equal(on_the_way.grad.data, 2 * on_the_way.data)  # as in PyTorch
    assert off_it.grad is None and w.grad is None


def test_grad_allow_unused_gives_none():
    x, unused = leaf([1.0]), leaf([2.0])
    grads = mg.grad((x * 2).sum(), [x, unused], allow_unused=True)
    np.testing.assert_array_equal(grads[0].data, [2.0])
    assert grads[1] is None


def test_grad_without_create_graph_gives_constants():
    x = leaf([1.0, 2.0])
    (grad,) = mg.grad((x**3).sum(), x)
    assert not grad.requires_grad
    assert grad.op is None


# ---- no_grad -------------------------------------------------------------------------------


def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = (x * 2).exp().sum()
    assert mg.is_grad_enabled()
    assert y.requires_grad is False
    assert y.op is None
    np.testing.assert_allclose(y.data, np.exp([2.0, 4.0]).sum())


def test_enable_grad_inside_no_grad():
    x = leaf([1.0, 2.0])
    with mg.no_grad():
        with mg.enable_grad():
            y = (x * 2).sum()
        z = x * 2
    assert y.requires_grad
    assert y.op is not None
    assert not z.requires_grad
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_no_grad_as_a_decorator():
    x = leaf([1.0, 2.0])

    @mg.no_grad()
    def double(t):
        return t * 2

    assert mg.is_grad_enabled()
    out = double(x)
    assert not out.requires_grad
    assert out.op is None
    assert mg.is_grad_enabled()
    assert (x * 2).requires_grad


def test_no_grad_on_a_generator_function_holds_for_every_resumption():
    x = leaf([1.0, 2.0])

    @mg.no_grad
    def scaled(factors):
        received = None
        for factor in factors:
            received = yield x * factor, received
        return "done"

    steps = scaled([1.0, 2.0, 3.0])
    first, _ = next(steps)
    assert mg.is_grad_enabled() and not first.requires_grad  # the caller records between steps
    second, received = steps.send("hello")
    assert received == "hello" and not second.requires_grad
    assert [out.requires_grad for out, _ in scaled([1.0, 2.0])] == [False, False]

    @mg.enable_grad()
    def recording():
        try:
            yield (x * 2).requires_grad
        except KeyError:
            yield "handled in the body"
        finally:
            assert mg.is_grad_enabled()  # cleanup runs in the generator's mode too

    with mg.no_grad():
        assert list(recording()) == [True]
        thrown_into = recording()
        next(thrown_into)
        assert thrown_into.throw(KeyError("k")) == "handled in the body"
        thrown_into.close()
        assert not mg.is_grad_enabled()
    with pytest.raises(StopIteration) as stop:
        next(iter(scaled([])))
    assert stop.value.value == "done"


def test_no_grad_restores_recording_after_an_exception():
    with pytest.raises(ZeroDivisionError), mg.no_grad():
        _ = 1 / 0
    assert mg.is_grad_enabled()


def test_set_grad_enabled():
    x = leaf([1.0])
    with mg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    with mg.set_grad_enabled(True):
        assert (x * 2).requires_grad


def test_a_no_grad_object_can_be_entered_again():
    x = leaf([1.0])
    context = mg.no_grad()
    with context:
        first = x * 2
    with context:
        second = x * 2
    assert not first.requires_grad
    assert not second.requires_grad
    assert (x * 2).requires_grad


def test_making_a_no_grad_object_without_entering_it_changes_nothing():
    mg.no_grad()
    enabled = mg.is_grad_enabled()
    mg.set_grad_enabled(True)  # undo it for the tests that follow, in case it did change
    assert enabled


def test_detach_stops_the_gradient():
    x = leaf([1.0, 2.0])
    y = x * x.detach()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0])


# ---- retain_grad ---------------------------------------------------------------------


def test_retain_grad_keeps_a_hidden_results_gradient_and_accumulates_it():
    x = leaf([1.0, -2.0, 3.0])
    hidden = x * 3.0
    hidden.retain_grad()
    loss = (hidden * hidden).sum()
    assert hidden.retains_grad and not x.retains_grad and not loss.retains_grad
    loss.backward()
    np.testing.assert_allclose(hidden.grad.data, 2 * hidden.data)  # d(sum h^2)/dh = 2h
    loss.backward()  # as a leaf's, the gradient adds up
    np.testing.assert_allclose(hidden.grad.data, 4 * hidden.data)
    (gradient_of_x,) = mg.grad(loss, x)  # mg.grad fills it too, as torch.autograd.grad does
    np.testing.assert_allclose(hidden.grad.data, 6 * hidden.data)
    np.testing.assert_allclose(gradient_of_x.data, 18 * x.data)
    other = x * 2.0  # not retained: no gradient, as before
    (other * hidden).sum().backward()
    assert other.grad is None


def test_a_retained_gradient_has_memory_of_its_own():
    x = leaf([1.0, 2.0])
    shifted = x + 1.0  # add's rule hands the same gradient to x
    shifted.retain_grad()
    total = shifted.sum()
    total.retain_grad()
    seed = np.ones(())  # float64, as x: passed through as it is
    total.backward(seed)
    assert not np.shares_memory(total.grad.data, seed)
    assert not np.shares_memory(shifted.grad.data, x.grad.data)
    shifted.grad.data[0] = 100.0
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_retain_grad_with_create_graph_keeps_a_gradient_that_can_be_differentiated():
    x = leaf([1.0, 2.0])
    square = x * x
    square.retain_grad()
    (square * square).sum().backward(create_graph=True)  # d/dsquare = 2 * square = 2x^2
    assert square.grad.requires_grad
    (twice_x_squared,) = mg.grad(square.grad.sum(), x)
    np.testing.assert_allclose(twice_x_squared.data, 4 * x.data)


def test_retain_grad_on_a_leaf_changes_nothing_and_without_grad_is_an_error():
    x = leaf([1.0])
    x.retain_grad()
    assert not x.retains_grad
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0])
    with pytest.raises(RuntimeError, match="retain_grad: this tensor does not require grad"):
        mg.tensor([1.0]).retain_grad()
    hidden = x * 2.0
    hidden.retain_grad()
    loss = (hidden * 1.0).sum()
    del hidden  # a retained result the user dropped gets nothing, and nothing fails
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [4.0])


def test_a_computed_gradient_passed_to_backward_is_not_shared_with_the_leaves():
    source = leaf([1.0, 2.0])
    seed = source * 1.0  # a computed tensor, as the caller's gradient
    x = leaf([3.0, 4.0])
    (x + 0.0).backward(seed)  # add hands the seed on unchanged
    assert not np.shares_memory(x.grad.data, seed.data)
    hidden = x * 2.0
    hidden.retain_grad()
    hidden.backward(seed)
    assert not np.shares_memory(hidden.grad.data, seed.data)
