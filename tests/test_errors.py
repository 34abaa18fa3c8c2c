"""Bad input gets a clear error: the op, the shapes, and what to do instead."""

import re

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F  # noqa: N812  (PyTorch's spelling)


def leaf(*shape):
    return mg.tensor(np.ones(shape), requires_grad=True)


def assert_names_all(error_info, *parts):
    message = str(error_info.value)
    for part in parts:
        assert part in message, f"{part!r} is missing from the message: {message}"


# ---- shapes that do not broadcast --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "function"),
    [
        ("add", lambda a, b: a + b),
        ("sub", lambda a, b: a - b),
        ("mul", lambda a, b: a * b),
        ("div", lambda a, b: a / b),
        ("pow", lambda a, b: a**b),
        ("maximum", mg.maximum),
        ("minimum", mg.minimum),  # a composite of maximum: the error still names minimum
    ],
)
@pytest.mark.parametrize("requires_grad", [True, False])
def test_shapes_that_do_not_broadcast(name, function, requires_grad):
    a = mg.tensor(np.ones((3, 4)), requires_grad=requires_grad)
    b = mg.tensor(np.ones(5), requires_grad=requires_grad)
    with pytest.raises(ValueError, match="broadcast") as error_info:
        function(a, b)
    assert_names_all(error_info, name, "(3, 4)", "(5,)")


def test_ndarray_operand_that_does_not_broadcast():
    with pytest.raises(ValueError) as error_info:
        np.ones((2, 3)) + leaf(3, 2)
    assert_names_all(error_info, "add", "(2, 3)", "(3, 2)")


def test_where_branches_that_do_not_broadcast_with_the_condition():
    condition = np.ones((2, 3), dtype=bool)
    with pytest.raises(ValueError) as error_info:
        mg.where(condition, leaf(3, 4), 0.0)
    assert_names_all(error_info, "where", "(2, 3)", "(3, 4)")


def test_concatenate_needs_an_int_axis():
    with pytest.raises(TypeError, match="concatenate: axis must be an int, got None"):
        mg.concatenate([leaf(2), leaf(2)], axis=None)


@pytest.mark.parametrize("join", [mg.concatenate, mg.stack])
def test_joining_no_tensors(join):
    with pytest.raises(ValueError, match=f"{join.__name__}: needs at least one tensor"):
        join([])


def test_broadcast_to_a_smaller_or_incompatible_shape():
    with pytest.raises(ValueError) as error_info:
        leaf(3, 4).broadcast_to((4,))
    assert_names_all(error_info, "broadcast_to", "(3, 4)", "(4,)")
    with pytest.raises(ValueError) as error_info:
        leaf(2, 3).broadcast_to((2, 4))
    assert_names_all(error_info, "broadcast_to", "(2, 3)", "(2, 4)")


# ---- matmul -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [
        ((2, 3), (4, 2)),
        ((3,), (4,)),
        ((2, 3), (4,)),
        ((3,), (4, 2)),
        ((5, 2, 3), (5, 4, 2)),
        ((2, 3, 4), (5, 4, 2)),  # the inner axes fit, the batch axes do not broadcast
    ],
    ids=str,
)
def test_matmul_shapes_that_do_not_fit(a_shape, b_shape):
    with pytest.raises(ValueError) as error_info:
        leaf(*a_shape) @ leaf(*b_shape)
    assert_names_all(error_info, "matmul", str(a_shape), str(b_shape))


def test_matmul_with_a_0d_operand():
    with pytest.raises(ValueError) as error_info:
        leaf(3) @ mg.tensor(2.0)
    assert_names_all(error_info, "matmul", "(3,)", "()", "*")


# ---- backward -------------------------------------------------------------------------------


def test_backward_on_a_non_scalar_without_a_gradient():
    y = leaf(3, 4) * 2
    with pytest.raises(RuntimeError) as error_info:
        y.backward()
    assert_names_all(error_info, "(3, 4)", "sum()", "backward(grad)")


def test_backward_on_a_tensor_that_does_not_require_grad():
    y = mg.tensor(np.ones(3)).sum()
    with pytest.raises(RuntimeError, match="does not require grad") as error_info:
        y.backward()
    assert_names_all(error_info, "requires_grad=True")


def test_backward_on_a_result_computed_in_no_grad():
    x = leaf(3)
    with mg.no_grad():
        y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


@pytest.mark.parametrize("grad_shape", [(4,), (1, 4), (3, 1), (), (4, 3), (1, 3, 4)], ids=str)
@pytest.mark.parametrize("as_tensor", [False, True])
def test_backward_with_a_wrong_shaped_gradient(grad_shape, as_tensor):
    x = leaf(3, 4)
    y = x * 2
    grad = np.ones(grad_shape)
    with pytest.raises(RuntimeError) as error_info:
        y.backward(mg.tensor(grad) if as_tensor else grad)
    assert_names_all(error_info, str(grad_shape), "(3, 4)")
    assert x.grad is None


def test_grad_with_a_wrong_shaped_grad_output():
    x = leaf(3, 4)
    with pytest.raises(RuntimeError) as error_info:
        mg.grad(x * 2, x, grad_outputs=np.ones(4))
    assert_names_all(error_info, "(4,)", "(3, 4)")


def test_grad_with_an_unused_input():
    x, unused = leaf(3), leaf(2)
    with pytest.raises(RuntimeError, match="allow_unused=True") as error_info:
        mg.grad((x * 2).sum(), [x, unused])
    assert_names_all(error_info, "input 1", "(2,)")


def test_grad_with_an_input_that_does_not_require_grad():
    x = leaf(3)
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.grad((x * 2).sum(), mg.tensor(np.ones(3)))


def test_grad_with_too_few_grad_outputs():
    x = leaf(3)
    with pytest.raises(ValueError, match="2 outputs but 1 grad_outputs"):
        mg.grad([x * 2, x * 3], x, grad_outputs=[np.ones(3)])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda y, x: mg.grad(y, [np.ones(2)]),
            r"grad: inputs must be a Tensor or a list of Tensors, got \['ndarray'\]",
        ),
        (lambda y, x: mg.grad(3.0, x), "grad: outputs must be a Tensor or a list of Tensors, got float"),
        (
            lambda y, x: mg.grad(x * 2, x, grad_outputs=[1.0, 1.0]),
            "grad: 1 outputs but 2 grad_outputs; give one gradient per output",
        ),
    ],
)
def test_grad_says_what_was_wrong_with_its_arguments(call, message):
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises((TypeError, ValueError), match=message):
        call((x * x).sum(), x)


def test_grad_takes_a_number_as_the_gradient_of_a_scalar_output():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (grad,) = mg.grad((x * x).sum(), x, grad_outputs=2.0)
    np.testing.assert_array_equal(grad.data, [4.0, 8.0])


@pytest.mark.parametrize(
    ("bad_grad", "given"), [(mg.tensor(np.ones(3)), "shape (3,)"), (np.ones(2), "a ndarray")]
)
def test_backward_into_a_grad_of_the_wrong_kind_is_an_error(bad_grad, given):
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    x.grad = bad_grad
    with pytest.raises(
        RuntimeError, match=rf"backward: a tensor of shape \(2,\) has a \.grad of {re.escape(given)}"
    ):
        (x * x).sum().backward()


def test_an_integer_tensor_made_to_require_grad_is_an_error_before_any_gradient_is_added():
    # requires_grad_() refuses an integer tensor; setting the attribute directly used to
    # give a truncated integer gradient (1 where it is 1.5).
    w = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    x = mg.tensor([1, 2])
    x.requires_grad = True
    with pytest.raises(RuntimeError, match="backward: a int64 tensor of shape \\(2,\\) requires grad"):
        (x * 1.5 + w).sum().backward()
    assert w.grad is None and x.grad is None


# ---- reshape and axes -----------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4,), (4, -1), (-1, -1), (2, 2, 2)], ids=str)
def test_reshape_to_an_impossible_shape(shape):
    with pytest.raises(ValueError) as error_info:
        leaf(2, 3).reshape(*shape)
    assert_names_all(error_info, "reshape", "(2, 3)", "6")


@pytest.mark.parametrize("name", ["sum", "max", "min", "mean", "var", "std"])
def test_reduction_over_a_missing_axis_names_the_reduction(name):
    with pytest.raises(ValueError, match="out of range") as error_info:
        getattr(leaf(2, 3), name)(axis=2)
    assert_names_all(error_info, f"{name}:", "axis 2", "2 dimensions")


@pytest.mark.parametrize("axis", [2, -3, (0, 2), (-3, 1)], ids=str)
def test_missing_axes(axis):
    with pytest.raises(ValueError, match="out of range"):
        leaf(2, 3).sum(axis)


def test_reduction_naming_an_axis_twice():
    with pytest.raises(ValueError, match="twice") as error_info:
        leaf(2, 3).sum(axis=(1, -1))
    assert_names_all(error_info, "sum")


@pytest.mark.parametrize("axes", [(0, 0), (0,), (0, 1, 2), (2, 1), (3, 0), (0, -3)], ids=str)
def test_transpose_with_axes_that_are_not_a_permutation(axes):
    # numpy raises for all of these; an out-of-range axis must not wrap around
    with pytest.raises(ValueError) as error_info:
        leaf(2, 3).transpose(*axes)
    assert_names_all(error_info, "transpose", "(2, 3)")


@pytest.mark.parametrize("axes", [(0, 1.0), (True, 0)], ids=str)
def test_swapaxes_axes_must_be_ints(axes):
    with pytest.raises(TypeError, match="swapaxes: axes must be ints"):
        leaf(2, 3).swapaxes(*axes)


@pytest.mark.parametrize("axes", [(0, 2), (-3, 1)], ids=str)
def test_swapaxes_with_an_axis_out_of_range(axes):
    with pytest.raises(ValueError) as error_info:
        leaf(2, 3).swapaxes(*axes)
    assert_names_all(error_info, "swapaxes", "2 dimensions")


@pytest.mark.parametrize(
    "call",
    [
        lambda: mg.concatenate([leaf(2, 3)], axis=2),
        lambda: mg.stack([leaf(2, 3)], axis=3),
        lambda: leaf(2, 3).flatten(0, 2),
    ],
    ids=["concatenate", "stack", "flatten"],
)
def test_joins_and_flatten_with_a_bad_axis(call):
    with pytest.raises(ValueError, match="out of range"):
        call()


@pytest.mark.parametrize(
    ("call", "parts"),
    [
        (lambda: F.softmax(leaf(2, 3), axis=2), ["softmax: axis 2 is out of range"]),
        (lambda: F.log_softmax(leaf(2, 3), axis=-3), ["log_softmax: axis -3 is out of range"]),
        (lambda: F.linear(leaf(2, 3), leaf(4, 5)), ["linear:", "(2, 3)", "(4, 5)"]),
        (
            lambda: F.linear(leaf(2, 3), leaf(4, 3), leaf(5)),
            ["linear: shapes (2, 4) and (5,) do not broadcast"],
        ),
        (
            lambda: F.cross_entropy(leaf(2, 3), np.array([0, 1]), leaf(3)),
            ["cross_entropy: reduction (the third argument)", "weight=..."],
        ),
        (lambda: F.layer_norm(leaf(2, 3), 3, weight=leaf(4)), ["layer_norm: weight", "(3,)", "(4,)"]),
        (lambda: F.layer_norm(leaf(2, 3), 3, bias=leaf(1, 3)), ["layer_norm: bias", "(1, 3)"]),
    ],
)
def test_nn_functions_name_themselves_in_their_errors_not_a_primitive_inside(call, parts):
    with pytest.raises(ValueError) as error_info:
        call()
    assert_names_all(error_info, *parts)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_along_an_empty_axis_name_it(name):
    with pytest.raises(ValueError, match=rf"{name}: axis 0 of a tensor of shape \(0, 3\) is empty"):
        getattr(mg.zeros(0, 3), name)(axis=0)


def test_concatenate_shapes_that_differ_off_the_axis():
    with pytest.raises(ValueError) as error_info:
        mg.concatenate([leaf(2, 3), leaf(3, 2)])
    assert_names_all(error_info, "concatenate", "(2, 3)", "(3, 2)")


def test_stack_shapes_that_differ():
    with pytest.raises(ValueError) as error_info:
        mg.stack([leaf(2), leaf(3)])
    assert_names_all(error_info, "stack", "(2,)", "(3,)")


def test_index_out_of_bounds():
    with pytest.raises(IndexError) as error_info:
        leaf(3)[5]
    assert_names_all(error_info, "(3,)", "5")


def test_truth_value_of_a_many_element_tensor():
    with pytest.raises(ValueError, match="ambiguous"):
        bool(leaf(3))


@pytest.mark.parametrize("values", [[1 + 2j], "abc", np.array(["a", "b"]), np.datetime64("2020-01-01")])
def test_a_tensor_holds_real_numbers_only(values):
    # Complex values lost their imaginary part in the first op; strings failed far away.
    with pytest.raises(
        TypeError, match="tensor: cannot make a tensor of .* values; a tensor holds real numbers"
    ):
        mg.tensor(values)


def test_set_default_dtype_of_none_is_an_error():
    with pytest.raises(TypeError, match="set_default_dtype: .* got None"):
        mg.set_default_dtype(None)  # np.dtype(None) is float64
    assert mg.get_default_dtype() == np.float32


@pytest.mark.parametrize(
    ("argument", "value", "given"),
    [
        ("running_mean", mg.zeros(4), "shape (4,)"),
        ("running_var", mg.ones(4), "shape (4,)"),
        ("running_mean", np.zeros(3), "a ndarray"),
        ("weight", mg.ones(2), "shape (2,)"),
    ],
)
def test_batch_norm_checks_its_per_channel_arguments_before_changing_anything(argument, value, given):
    arguments = {"running_mean": mg.zeros(3), "running_var": mg.ones(3), argument: value}
    before = {
        name: np.array(tensor.data) for name, tensor in arguments.items() if isinstance(tensor, mg.Tensor)
    }
    with pytest.raises(
        ValueError,
        match=rf"batch_norm: {argument} must be a Tensor of shape \(3,\) .* got {re.escape(given)}",
    ):
        F.batch_norm(mg.randn(4, 3), training=True, **arguments)
    for name, data in before.items():  # the running statistics were not touched
        np.testing.assert_array_equal(arguments[name].data, data)


def test_batch_norm_in_training_needs_a_numeric_momentum():
    running_mean, running_var = mg.zeros(3), mg.ones(3)
    with pytest.raises(TypeError, match="batch_norm: momentum must be a number, got None"):
        F.batch_norm(mg.randn(4, 3), running_mean, running_var, training=True, momentum=None)
    assert not running_mean.data.any()


# ---- gradcheck ----------------------------------------------------------------------------


def detach_error_message():
    """The message of a failing gradcheck: detach hides one factor of x * x from backward,
    so the analytic gradient is x where the true one is 2x."""
    x = mg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    with pytest.raises(mg.GradcheckError) as error_info:
        mg.gradcheck(lambda t: t * t.detach(), [x])
    return str(error_info.value)


def test_gradcheck_failure_names_the_input_and_both_values():
    message = detach_error_message()
    assert "input 0" in message
    assert "(3,)" in message
    assert re.search(r"\b3 by backward but 6 by central differences", message), message


def test_gradcheck_failure_names_the_element_as_plain_indices():
    message = detach_error_message()
    assert re.search(r"d output\[2\] / d input\[2\]", message), message


def test_gradcheck_failure_in_the_second_input():
    a = mg.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    b = mg.tensor(np.array([[5.0, 6.0], [7.0, 8.0]]), requires_grad=True)
    with pytest.raises(mg.GradcheckError) as error_info:
        mg.gradcheck(lambda x, y: x * y.detach() + y * 0.5, [a, b])
    message = str(error_info.value)
    assert "input 1" in message
    assert "input 0" not in message
    assert re.search(r"\b0.5 by backward but 4.5 by central differences", message), message


def test_gradcheck_names_an_input_by_its_position_among_the_arguments():
    # Inputs that need no gradient count too: the bad input here is argument 1.
    k = mg.tensor(np.array([2.0, 3.0]))
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(mg.GradcheckError) as error_info:
        mg.gradcheck(lambda c, t: (c * t * t.detach()).sum(), [k, x])
    assert "input 1" in str(error_info.value) and "input 0" not in str(error_info.value)


def test_gradcheck_error_is_a_runtime_error():
    assert issubclass(mg.GradcheckError, RuntimeError)


def test_gradcheck_passes_a_correct_gradient_and_returns_true():
    x = mg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    assert mg.gradcheck(lambda t: t * t, [x]) is True
    assert mg.gradcheck(lambda t: t * t, x) is True


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires grad"):
        mg.gradcheck(lambda t: t * 2, [mg.tensor(np.ones(2))])


def test_gradcheck_restores_its_inputs_and_leaves_their_grad_alone():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    mg.gradcheck(lambda t: t.exp(), [x])
    np.testing.assert_array_equal(x.data, [1.0, 2.0])
    assert x.grad is None
