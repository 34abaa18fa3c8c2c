"""The primitive ops: every gradient in minigrad comes from the rules in this file.

Each primitive is a small class with a numpy ``forward`` and a ``backward`` rule
written in Tensor operations, its derivative in the docstring. Below the classes, the
public functions (``add``, ``sum``, ``matmul``, ...) turn their arguments into
tensors and apply the primitives.

Broadcasting is a primitive too. When the operands of an elementwise op have
different shapes, the op first applies :class:`BroadcastTo` to each one that needs it,
so every elementwise rule sees operands of the output's shape, and the graph shows
where broadcasting happened. The backward of broadcasting is a sum over the
broadcast axes, and the backward of a sum is a broadcast.
"""

from __future__ import annotations

import builtins
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from minigrad.engine import Op, is_grad_enabled
from minigrad.tensor import Tensor, get_default_dtype

# ---- elementwise: arithmetic -----------------------------------------------------------


class Add(Op):
    """a + b.    d/da = 1,  d/db = 1"""

    def forward(self, a, b):
        return a + b

    def backward(self, grad, out):
        return grad, grad


class Sub(Op):
    """a - b.    d/da = 1,  d/db = -1"""

    def forward(self, a, b):
        return a - b

    def backward(self, grad, out):
        return grad, -grad


class Mul(Op):
    """a * b.    d/da = b,  d/db = a"""

    def forward(self, a, b):
        return a * b

    def backward(self, grad, out):
        a, b = self.inputs
        needs_a, needs_b = self.needs_input_grad
        return (grad * b if needs_a else None), (grad * a if needs_b else None)


class Div(Op):
    """a / b.    d/da = 1 / b,  d/db = -a / b**2 = -(a / b) / b"""

    def forward(self, a, b):
        return a / b

    def backward(self, grad, out):
        a, b = self.inputs
        needs_a, needs_b = self.needs_input_grad
        return (grad / b if needs_a else None), (-grad * out / b if needs_b else None)


class Pow(Op):
    """a ** b.    d/da = b * a**(b - 1),  d/db = a**b * log(a)"""

    def forward(self, a, b):
        return a**b

    def backward(self, grad, out):
        a, b = self.inputs
        # The rule for b takes log(a), which is nan for a < 0: skip it unless b needs it.
        grad_a = grad * b * a ** (b - 1) if self.needs_input_grad[0] else None
        grad_b = grad * out * a.log() if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Op):
    """-a.    d/da = -1"""

    def forward(self, a):
        return -a

    def backward(self, grad, out):
        return (-grad,)


class Maximum(Op):
    """The larger of a and b, elementwise.

    d/da = 1 where a > b, 0 where a < b, and 1/2 at ties (as PyTorch); d/db mirrors it.
    """

    def forward(self, a, b):
        self.share_of_a = (a > b) + 0.5 * (a == b)
        return np.maximum(a, b)

    def backward(self, grad, out):
        share_of_a = Tensor._wrap(self.share_of_a.astype(grad.dtype, copy=False))
        return grad * share_of_a, grad * (1 - share_of_a)


class Where(Op):
    """``a`` where ``condition`` holds, else ``b`` (the condition is a constant).

    d/da = 1 where the condition holds, else 0; d/db = the opposite.
    """

    def forward(self, a, b, condition):
        self.condition = condition
        return np.where(condition, a, b)

    def backward(self, grad, out):
        return where(self.condition, grad, 0), where(self.condition, 0, grad)


# ---- elementwise: functions ------------------------------------------------------------


class Exp(Op):
    """exp(x).    d/dx exp(x) = exp(x)"""

    def forward(self, x):
        return np.exp(x)

    def backward(self, grad, out):
        return (grad * out,)


class Log(Op):
    """The natural logarithm log(x).    d/dx log(x) = 1 / x"""

    def forward(self, x):
        return np.log(x)

    def backward(self, grad, out):
        (x,) = self.inputs
        return (grad / x,)


class Sqrt(Op):
    """sqrt(x).    d/dx sqrt(x) = 1 / (2 sqrt(x))"""

    def forward(self, x):
        return np.sqrt(x)

    def backward(self, grad, out):
        return (grad / (out * 2),)


class Tanh(Op):
    """tanh(x).    d/dx tanh(x) = 1 - tanh(x)**2"""

    def forward(self, x):
        return np.tanh(x)

    def backward(self, grad, out):
        return (grad * (1 - out * out),)


class Sigmoid(Op):
    """sigmoid(x) = 1 / (1 + exp(-x)).    d/dx sigmoid(x) = sigmoid(x) * (1 - sigmoid(x))"""

    def forward(self, x):
        # exp(-log(1 + exp(-x))) stays accurate for large |x| in both directions.
        return np.exp(-np.logaddexp(0, -x))

    def backward(self, grad, out):
        return (grad * out * (1 - out),)


class Relu(Op):
    """max(x, 0).    d/dx relu(x) = 1 where x > 0, else 0"""

    def forward(self, x):
        self.positive = x > 0
        return np.maximum(x, 0)

    def backward(self, grad, out):
        return (grad * Tensor._wrap(self.positive),)


class Abs(Op):
    """|x|.    d/dx |x| = sign(x)  (0 at x = 0, as PyTorch)"""

    def forward(self, x):
        self.sign = np.sign(x)
        return np.abs(x)

    def backward(self, grad, out):
        return (grad * Tensor._wrap(self.sign),)


# ---- reductions ------------------------------------------------------------------------


def _unreduce(grad: Tensor, input_shape: tuple, axes: tuple, keepdims: bool) -> Tensor:
    """Spread a reduction's gradient back over the input: the backward of summing."""
    if not keepdims:
        grad = grad.reshape(_kept_shape(input_shape, axes))
    return grad.broadcast_to(input_shape)


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if axis in axes else n for axis, n in enumerate(shape))


class Sum(Op):
    """The sum over ``axes``.    d/dx_i sum(x) = 1: the gradient is broadcast back."""

    def forward(self, x, axes, keepdims):
        self.axes, self.keepdims, self.input_shape = axes, keepdims, x.shape
        return x.sum(axis=axes, keepdims=keepdims)

    def backward(self, grad, out):
        return (_unreduce(grad, self.input_shape, self.axes, self.keepdims),)


class Max(Op):
    """The maximum over ``axes``.

    d/dx_i max(x) = 1 where x_i is the maximum and 0 elsewhere; ties share the
    gradient equally (as PyTorch's amax).
    """

    def forward(self, x, axes, keepdims):
        self.axes, self.keepdims, self.input_shape = axes, keepdims, x.shape
        largest = x.max(axis=axes, keepdims=True)
        is_largest = x == largest
        self.share = is_largest / is_largest.sum(axis=axes, keepdims=True, dtype=x.dtype)
        return largest if keepdims else np.squeeze(largest, axis=axes)

    def backward(self, grad, out):
        spread = _unreduce(grad, self.input_shape, self.axes, self.keepdims)
        return (spread * Tensor._wrap(self.share),)


# ---- shape -----------------------------------------------------------------------------


class BroadcastTo(Op):
    """Repeat x along new leading axes and along axes of length 1 (a view, no copy).

    d/dx: every copy of x_i contributes, so the gradient is summed over the
    broadcast axes: the backward of broadcasting is a sum.
    """

    def forward(self, x, shape):
        self.input_shape = x.shape
        return np.broadcast_to(x, shape)

    def backward(self, grad, out):
        new_axes = grad.ndim - len(self.input_shape)
        stretched = tuple(
            new_axes + axis
            for axis, n in enumerate(self.input_shape)
            if n == 1 and grad.shape[new_axes + axis] != 1
        )
        summed = grad.sum(axis=tuple(range(new_axes)) + stretched, keepdims=True)
        return (summed.reshape(self.input_shape),)


class Reshape(Op):
    """The same values in a new shape.    d/dx: the gradient is reshaped back."""

    def forward(self, x, shape):
        self.input_shape = x.shape
        return x.reshape(shape)

    def backward(self, grad, out):
        return (grad.reshape(self.input_shape),)


class Transpose(Op):
    """Permute the axes.    d/dx: the gradient is permuted back (inverse permutation)."""

    def forward(self, x, axes):
        self.axes = axes
        return x.transpose(axes)

    def backward(self, grad, out):
        return (grad.transpose(tuple(np.argsort(self.axes))),)


class GetItem(Op):
    """x[index]: slices, integers, integer arrays or a boolean mask.

    d/dx: the gradient lands at the positions that were read (and adds up where
    a position was read more than once): the backward of indexing is ScatterAdd.
    """

    def forward(self, x, index):
        self.index, self.input_shape = index, x.shape
        return x[index]

    def backward(self, grad, out):
        return (ScatterAdd.apply(grad, index=self.index, shape=self.input_shape),)


class ScatterAdd(Op):
    """Zeros of ``shape`` with ``values`` added at ``index``: the backward of indexing.

    d/dvalues: each value went to one position, so its gradient is read back
    from there: the backward of ScatterAdd is indexing.
    """

    def forward(self, values, index, shape):
        self.index = index
        result = np.zeros(shape, dtype=values.dtype)
        if _may_repeat(index):
            np.add.at(result, index, values)
        else:
            result[index] = values
        return result

    def backward(self, grad, out):
        return (grad[self.index],)


def _may_repeat(index: Any) -> bool:
    """Whether an index can name one position twice (only integer arrays can)."""
    parts = index if isinstance(index, tuple) else (index,)
    return builtins.any(isinstance(part, np.ndarray) and part.dtype.kind in "iu" for part in parts)


class Concatenate(Op):
    """Join tensors along an axis.    d/dx_k: the k-th slice of the gradient."""

    def forward(self, *arrays, axis):
        self.axis = axis
        self.bounds = np.cumsum([0] + [array.shape[axis] for array in arrays])
        return np.concatenate(arrays, axis=axis)

    def backward(self, grad, out):
        leading = (slice(None),) * self.axis
        return tuple(
            grad[(*leading, slice(start, stop))] for start, stop in zip(self.bounds[:-1], self.bounds[1:])
        )


class MatMul(Op):
    """Matrix product over the last two axes (the leading axes must match).

    d/da = grad @ b^T,  d/db = a^T @ grad, with ^T swapping the last two axes.
    """

    def forward(self, a, b):
        return a @ b

    def backward(self, grad, out):
        a, b = self.inputs
        grad_a = _product_laid_out_like(grad, _swap_last_axes(b), a) if self.needs_input_grad[0] else None
        grad_b = _product_laid_out_like(_swap_last_axes(a), grad, b) if self.needs_input_grad[1] else None
        return grad_a, grad_b


def _swap_last_axes(x: Tensor) -> Tensor:
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return x.transpose(*axes)


def _product_laid_out_like(left: Tensor, right: Tensor, like: Tensor) -> Tensor:
    """``left @ right``, laid out in memory like ``like`` (a matrix or a transposed one).

    For a transposed input (``weight.T`` in ``x @ weight.T``) it is computed as
    ``(right^T @ left^T)^T``: the same numbers, but the weight's gradient then comes out
    in the weight's own row order, and the optimizer reads both arrays in order.
    """
    data = like.data
    if data.ndim == 2 and data.flags.f_contiguous and not data.flags.c_contiguous:
        return _swap_last_axes(_swap_last_axes(right) @ _swap_last_axes(left))
    return left @ right


# ---- turning arguments into tensors ----------------------------------------------------


def _is_scalar(value: Any) -> bool:
    return type(value) in (float, int) or isinstance(value, (numbers.Number, np.generic))


def _scalar_dtype(value: Any, like: np.dtype | None) -> np.dtype:
    """A Python or numpy scalar takes the other operand's dtype where it fits.

    So ``float32_tensor * 2.0`` stays float32, as in PyTorch.
    """
    if like is not None and like.kind == "f":
        return like
    kind = np.asarray(value).dtype.kind
    if like is not None and like.kind in "iu" and kind in "biu":
        return like
    if kind == "f":
        return get_default_dtype()
    return np.asarray(value).dtype


def as_tensors(values: Sequence[Any]) -> list[Tensor]:
    """Tensors for op arguments; scalars take the dtype of a tensor among them."""
    like = None
    for value in values:
        if isinstance(value, Tensor):
            like = value.data.dtype
            break
    return [value if isinstance(value, Tensor) else _as_tensor(value, like) for value in values]


def _as_tensor(value: Any, like: np.dtype | None) -> Tensor:
    if _is_scalar(value):
        return Tensor._wrap(np.asarray(value, dtype=_scalar_dtype(value, like)))
    return Tensor(value)


def broadcast_shapes(op_name: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape that ``shapes`` broadcast to, or a ValueError naming the op.

    Shapes are aligned from the right; along each axis the lengths must be equal, or
    1 (which is stretched), or missing (a new leading axis).
    """
    ndim = builtins.max(len(shape) for shape in shapes)
    result = []
    for axis in range(-ndim, 0):
        lengths = {shape[axis] for shape in shapes if len(shape) >= -axis} - {1}
        if len(lengths) > 1:
            listed = " and ".join(str(shape) for shape in shapes)
            raise ValueError(
                f"{op_name}: shapes {listed} do not broadcast. Aligned from the right, each "
                f"pair of axis lengths must be equal or one of them 1; reshape an operand "
                f"(e.g. x.reshape(-1, 1)) to line the axes up"
            )
        result.append(lengths.pop() if lengths else 1)
    return tuple(result)


def _recording(tensors: Iterable[Tensor]) -> bool:
    return is_grad_enabled() and builtins.any(tensor.requires_grad for tensor in tensors)


def _need_broadcasting(tensors: list[Tensor]) -> bool:
    """Whether operands differ in shape, not counting constant scalars."""
    shape = None
    for tensor in tensors:
        if tensor.ndim == 0 and not tensor.requires_grad:
            continue
        if shape is None:
            shape = tensor.shape
        elif tensor.shape != shape:
            return True
    return False


def _elementwise(
    op: type[Op], values: Sequence[Any], also_broadcast_with: tuple[tuple, ...] = (), **params: Any
) -> Tensor:
    """Apply an elementwise op, broadcasting the operands explicitly first.

    Constant scalars (like the 2.0 in ``x * 2.0``) are left to numpy: they have no
    gradient, so a broadcast node for them would show nothing.
    """
    tensors = as_tensors(values)
    if also_broadcast_with or _need_broadcasting(tensors):
        shape = broadcast_shapes(op.name, *[tensor.shape for tensor in tensors], *also_broadcast_with)
        if _recording(tensors):
            tensors = [
                tensor
                if tensor.shape == shape or (tensor.ndim == 0 and not tensor.requires_grad)
                else broadcast_to(tensor, shape)
                for tensor in tensors
            ]
    return op.apply(*tensors, **params)


def _unary(op: type[Op], x: Any) -> Tensor:
    return op.apply(*as_tensors([x]))


# ---- the public functions --------------------------------------------------------------


def add(a: Any, b: Any) -> Tensor:
    """a + b, broadcasting."""
    return _elementwise(Add, (a, b))


def sub(a: Any, b: Any) -> Tensor:
    """a - b, broadcasting."""
    return _elementwise(Sub, (a, b))


def mul(a: Any, b: Any) -> Tensor:
    """a * b, elementwise, broadcasting."""
    return _elementwise(Mul, (a, b))


def div(a: Any, b: Any) -> Tensor:
    """a / b, elementwise, broadcasting; integers divide to the default float dtype."""
    a, b = as_tensors((a, b))
    if a.dtype.kind in "biu" and b.dtype.kind in "biu":
        a, b = (Tensor._wrap(t.data.astype(get_default_dtype())) for t in (a, b))
    return _elementwise(Div, (a, b))


def pow(base: Any, exponent: Any) -> Tensor:
    """base ** exponent, elementwise, broadcasting; either may be a tensor."""
    return _elementwise(Pow, (base, exponent))


def maximum(a: Any, b: Any) -> Tensor:
    """The elementwise maximum of a and b, broadcasting (ties split the gradient)."""
    return _elementwise(Maximum, (a, b))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elementwise ``a if condition else b``; all three broadcast together.

    ``condition`` is a boolean array or tensor (no gradient flows into it); either
    branch may be a scalar.
    """
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    return _elementwise(Where, (a, b), also_broadcast_with=(condition.shape,), condition=condition)


def neg(x: Any) -> Tensor:
    """-x."""
    return _unary(Neg, x)


def exp(x: Any) -> Tensor:
    """e ** x, elementwise."""
    return _unary(Exp, x)


def log(x: Any) -> Tensor:
    """The natural logarithm, elementwise."""
    return _unary(Log, x)


def sqrt(x: Any) -> Tensor:
    """The square root, elementwise."""
    return _unary(Sqrt, x)


def tanh(x: Any) -> Tensor:
    """The hyperbolic tangent, elementwise."""
    return _unary(Tanh, x)


def sigmoid(x: Any) -> Tensor:
    """The logistic function 1 / (1 + exp(-x)), elementwise."""
    return _unary(Sigmoid, x)


def relu(x: Any) -> Tensor:
    """max(x, 0), elementwise."""
    return _unary(Relu, x)


def abs(x: Any) -> Tensor:
    """|x|, elementwise."""
    return _unary(Abs, x)


def compare(comparison: Callable, a: Any, b: Any) -> Tensor:
    """A boolean tensor from a numpy comparison such as ``np.less`` (never recorded)."""
    a, b = as_tensors((a, b))
    broadcast_shapes(comparison.__name__, a.shape, b.shape)
    return Tensor._wrap(comparison(a.data, b.data))


def normalize_axes(axis: Any, ndim: int, op_name: str) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple, negatives allowed) as sorted non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    normalized = []
    for given in axes:
        if not isinstance(given, numbers.Integral) or not -ndim <= given < ndim:
            valid = f"use -{ndim} to {ndim - 1}" if ndim else "a 0-d tensor has no axes"
            raise ValueError(
                f"{op_name}: axis {given!r} is out of range for a tensor with {ndim} dimensions ({valid})"
            )
        normalized.append(int(given) % ndim)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op_name}: axis {axis} names the same axis twice")
    return tuple(sorted(normalized))


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The sum over ``axis`` (None for all axes, an int or a tuple)."""
    (x,) = as_tensors([x])
    return Sum.apply(x, axes=normalize_axes(axis, x.ndim, "sum"), keepdims=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The largest value over ``axis`` (values only, as numpy's max)."""
    (x,) = as_tensors([x])
    if x.size == 0:
        raise ValueError("max: the tensor is empty, so it has no maximum")
    return Max.apply(x, axes=normalize_axes(axis, x.ndim, "max"), keepdims=keepdims)


def broadcast_to(x: Any, shape: Iterable[int]) -> Tensor:
    """x repeated to ``shape`` by numpy's broadcasting rules (a view)."""
    (x,) = as_tensors([x])
    shape = tuple(shape)
    if x.shape == shape:
        return x
    target = broadcast_shapes("broadcast_to", x.shape, shape)
    if target != shape:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}")
    return BroadcastTo.apply(x, shape=shape)


def reshape(x: Any, *shape: Any) -> Tensor:
    """The same values in a new shape, given as a tuple or as ints; one may be -1."""
    (x,) = as_tensors([x])
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        new_shape = x.data.reshape(shape).shape  # a view: numpy works out the -1
    except (ValueError, TypeError):
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {shape}"
        ) from None
    if new_shape == x.shape:
        return x
    return Reshape.apply(x, shape=new_shape)


def transpose(x: Any, *axes: Any) -> Tensor:
    """Permute the axes (numpy's order); with no axes, reverse them."""
    (x,) = as_tensors([x])
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:
        axes = tuple(reversed(range(x.ndim)))
    in_range = all(isinstance(axis, numbers.Integral) and -x.ndim <= axis < x.ndim for axis in axes)
    normalized = tuple(int(axis) % x.ndim for axis in axes) if in_range else axes
    if not in_range or sorted(normalized) != list(range(x.ndim)):
        raise ValueError(
            f"transpose: axes {axes} are not a permutation of the {x.ndim} axes "
            f"of a tensor of shape {x.shape}"
        )
    if normalized == tuple(range(x.ndim)):
        return x
    return Transpose.apply(x, axes=normalized)


def _plain_index(index: Any) -> Any:
    """An index with tensors and lists turned into arrays, as numpy expects."""
    if isinstance(index, tuple):
        return tuple(_plain_index(part) for part in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(x: Any, index: Any) -> Tensor:
    """x[index] with numpy's indexing: slices, ints, integer arrays, boolean masks."""
    (x,) = as_tensors([x])
    index = _plain_index(index)
    try:
        return GetItem.apply(x, index=index)
    except IndexError as error:
        raise IndexError(
            f"getitem: cannot index a tensor of shape {x.shape} with {index!r}: {error}"
        ) from None


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors = as_tensors(list(tensors))
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    ndim = tensors[0].ndim
    (axis,) = normalize_axes(axis, ndim, "concatenate")
    for tensor in tensors:
        if tensor.ndim != ndim or tensor.shape[:axis] + tensor.shape[axis + 1 :] != (
            tensors[0].shape[:axis] + tensors[0].shape[axis + 1 :]
        ):
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"concatenate: shapes {shapes} must be equal except along axis {axis}")
    return Concatenate.apply(*tensors, axis=axis)


def matmul(a: Any, b: Any) -> Tensor:
    """The matrix product, with numpy's rules for 1-D operands and leading axes."""
    a, b = as_tensors((a, b))
    original = a.shape, b.shape
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: shapes {original[0]} and {original[1]}: matmul needs operands "
            f"of at least 1 dimension; use * to multiply by a scalar"
        )
    a_was_vector, b_was_vector = a.ndim == 1, b.ndim == 1
    if a_was_vector:
        a = a.reshape(1, -1)
    if b_was_vector:
        b = b.reshape(-1, 1)
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(
            f"matmul: shapes {original[0]} and {original[1]} do not fit: the last axis of "
            f"the first ({a.shape[-1]}) must equal the "
            f"{'only' if b_was_vector else 'second-to-last'} axis of the second ({b.shape[-2]})"
        )
    try:
        batch = broadcast_shapes("matmul", a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: shapes {original[0]} and {original[1]} do not fit: the leading (batch) "
            f"axes {a.shape[:-2]} and {b.shape[:-2]} do not broadcast"
        ) from None
    a = broadcast_to(a, batch + a.shape[-2:])
    b = broadcast_to(b, batch + b.shape[-2:])
    rows = () if a_was_vector else a.shape[-2:-1]
    columns = () if b_was_vector else b.shape[-1:]
    return MatMul.apply(a, b).reshape(batch + rows + columns)
