"""The primitive ops: every gradient in minigrad comes from the rules in this file.

Each primitive is a small class with a numpy ``forward`` and a ``backward`` rule,
its derivative in the docstring. The functions that apply them to user arguments
(``add``, ``sum``, ``matmul``, ...) are in :mod:`minigrad.ops`.

A rule is given the gradient, the result and the inputs, and runs on one of two
kinds of values (see :class:`minigrad.engine.Op`): Tensors when the backward pass is
recorded (``create_graph=True``, or a drawing of the backward graph), numpy arrays
otherwise. So a rule is written with what both have: the arithmetic operators, ``@``,
comparisons, indexing, and the methods ``sum``, ``reshape``, ``transpose`` and
``astype``. Anything else goes through :func:`_apply` (another primitive) or
:func:`_array` (the numbers, for a mask that the gradient is multiplied by).

Broadcasting is a primitive too. When the operands of an elementwise op have
different shapes, the op first applies :class:`BroadcastTo` to each one that requires
grad and needs it, so every gradient a rule computes has the output's shape, and the
graph shows where broadcasting happened (a constant is left to numpy's broadcasting:
no rule computes its gradient). The backward of broadcasting is a sum over the
broadcast axes, and the backward of a sum is a broadcast.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.engine import Op
from minigrad.tensor import Tensor

Value = Tensor | np.ndarray  # what a backward rule computes with


def _apply(op: type[Op], *values: Any, **params: Any) -> Any:
    """Apply a primitive inside a backward rule: recorded on tensors, plain on arrays.

    A rule's own constants (the zeros of ``where``'s rule) are arrays in both cases,
    so it is recorded when any value is a Tensor.
    """
    if any(isinstance(value, Tensor) for value in values):
        return op.apply(*[v if isinstance(v, Tensor) else Tensor._wrap(v) for v in values], **params)
    return op().forward(*values, **params)


def _array(value: Value) -> np.ndarray:
    """The numbers of a value, for a mask or a share that is a constant of the rule."""
    return value.data if isinstance(value, Tensor) else value


# ---- elementwise: arithmetic -----------------------------------------------------------


class Add(Op):
    """a + b.    d/da = 1,  d/db = 1"""

    def forward(self, a, b):
        return a + b

    def backward(self, grad, out, a, b):
        return grad, grad


class Sub(Op):
    """a - b.    d/da = 1,  d/db = -1"""

    def forward(self, a, b):
        return a - b

    def backward(self, grad, out, a, b):
        return grad, (-grad if self.needs_input_grad[1] else None)


class Mul(Op):
    """a * b.    d/da = b,  d/db = a"""

    reads = {0: (1,), 1: (0,)}

    def forward(self, a, b):
        return a * b

    def backward(self, grad, out, a, b):
        needs_a, needs_b = self.needs_input_grad
        return (grad * b if needs_a else None), (grad * a if needs_b else None)


class Div(Op):
    """a / b.    d/da = 1 / b,  d/db = -a / b**2 = -(a / b) / b"""

    reads = {0: (1,), 1: (1, "out")}

    def forward(self, a, b):
        return a / b

    def backward(self, grad, out, a, b):
        needs_a, needs_b = self.needs_input_grad
        return (grad / b if needs_a else None), (-grad * out / b if needs_b else None)


class Remainder(Op):
    """a % b, with the sign of b (Python's and numpy's).    d/da = 1,  d/db = -floor(a / b)

    a % b = a - b * floor(a / b), and floor(a / b) is constant between its jumps.
    """

    reads = {0: (), 1: (0, 1)}

    def forward(self, a, b):
        return np.remainder(a, b)

    def backward(self, grad, out, a, b):
        needs_a, needs_b = self.needs_input_grad
        return grad, (-grad * np.floor_divide(_array(a), _array(b)) if needs_b else None)


# numpy's float power is 3 to 10 times slower than these functions, which give the
# same powers exactly (or, for 0.5, more accurately); the forward of pow uses them.
_POWERS = {2: np.square, 1: np.copy, 0.5: np.sqrt, -1: np.reciprocal}


class Pow(Op):
    """a ** b.    d/da = b * a**(b - 1),  d/db = a**b * log(a)

    Both are 0 where the formula would be 0 * inf, as in PyTorch: d/da where b = 0
    (a ** 0 is 1 for every a), and d/db where a = 0 and b >= 0 (0 ** b is 0 for b > 0).
    """

    reads = (0, 1)

    def forward(self, a, b):
        if b.ndim == 0 and b.item() in _POWERS and a.dtype.kind == "f":
            return _POWERS[b.item()](a)
        return a**b

    def backward(self, grad, out, a, b):
        needs_a, needs_b = self.needs_input_grad
        grad_a = grad_b = None
        if needs_a:
            constant_exponent = b.item() if not needs_b and b.ndim == 0 else None
            if constant_exponent == 2:
                # A constant square (batch norm's variance): the slope is a * 2, not a
                # full-size copy a ** 1. The gradient is then often a broadcast view (the
                # backward of the variance's mean): doubling the small array it views
                # first leaves one full-size product, where a * 2 made two.
                grad_a = a * (_viewed(grad) * b)
            elif constant_exponent == 0:  # the 0, itself: no higher derivative forms 0 * inf at a = 0
                grad_a = grad * b
            else:
                grad_a = grad * _zero_where(_array(b) == 0, lambda: b * a ** (b - 1))
        if needs_b:  # log(a) is nan for a < 0: only when b needs it
            # a ** b again rather than out: b rarely needs a gradient, and keeping out
            # for it would keep every square of batch norm's variance alive.
            zero_base = (_array(a) == 0) & (_array(b) >= 0)
            grad_b = grad * _zero_where(zero_base, lambda: a**b * _apply(Log, a))
        return grad_a, grad_b


def _viewed(array: Value) -> Value:
    """The smallest array that broadcasts back to ``array``: one slice of each axis it repeats.

    A broadcast view repeats its values along the axes with a stride of 0; arithmetic on
    the slice costs that much less, and numpy broadcasts the result back where it meets
    a full-size array. A Tensor (a recorded rule) is returned as it is.
    """
    if not isinstance(array, np.ndarray) or 0 not in array.strides:
        return array
    return array[tuple(slice(0, 1) if stride == 0 else slice(None) for stride in array.strides)]


def _zero_where(mask: np.ndarray, compute: Callable[[], Value]) -> Value:
    """``compute()``, with 0 where ``mask`` holds.

    There the formula is 0 * inf: numpy is told not to warn about it, and a where drops
    the nan (multiplying by a zero mask would keep it).
    """
    if not mask.any():
        return compute()
    with np.errstate(divide="ignore", invalid="ignore"):
        value = compute()
    return _apply(Where, np.zeros((), _array(value).dtype), value, condition=mask)


class Neg(Op):
    """-a.    d/da = -1"""

    def forward(self, a):
        return -a

    def backward(self, grad, out, a):
        return (-grad,)


class Maximum(Op):
    """The larger of a and b, elementwise; nan counts as larger than any number.

    d/da = 1 where a > b, 0 where a < b, and 1/2 at ties (as PyTorch); d/db mirrors it.
    numpy's maximum gives the nan where one of a and b is nan, so that one gets the
    gradient (PyTorch gives it to both).
    """

    reads = (0, 1)

    def forward(self, a, b):
        return np.maximum(a, b)

    def backward(self, grad, out, a, b):
        a, b = _array(a), _array(b)
        a_is_nan, b_is_nan = np.isnan(a), np.isnan(b)
        a_is_larger = (a > b) | (a_is_nan & ~b_is_nan)
        tie = (a == b) | (a_is_nan & b_is_nan)
        share_of_a = (a_is_larger + tie * 0.5).astype(grad.dtype)
        return grad * share_of_a, grad * (1 - share_of_a)


class Where(Op):
    """``a`` where ``condition`` holds, else ``b`` (the condition is a constant).

    d/da = 1 where the condition holds, else 0; d/db = the opposite.
    """

    def forward(self, a, b, condition):
        self.condition = condition
        return np.where(condition, a, b)

    def backward(self, grad, out, a, b):
        zero = np.zeros((), grad.dtype)
        return _apply(Where, grad, zero, condition=self.condition), _apply(
            Where, zero, grad, condition=self.condition
        )


# ---- elementwise: functions ------------------------------------------------------------


class Exp(Op):
    """exp(x).    d/dx exp(x) = exp(x)"""

    reads = ("out",)

    def forward(self, x):
        return np.exp(x)

    def backward(self, grad, out, x):
        return (grad * out,)


class Expm1(Op):
    """exp(x) - 1, exact for small x.    d/dx (exp(x) - 1) = exp(x)

    Near x = 0, exp(x) is 1 plus a little, and most digits of the little are lost when
    1 is subtracted: exp(1e-10) - 1 keeps only 7 of float64's 16. numpy's expm1
    computes the difference itself, to the last bit. The slope is exp(x) computed from
    x, not ``out + 1``: for x = -20 in float32, out rounds to -1 and out + 1 to 0,
    where exp(x) is 2.1e-9 (ELU's gradient for negative inputs is this slope).
    """

    reads = (0,)

    def forward(self, x):
        return np.expm1(x)

    def backward(self, grad, out, x):
        return (grad * _apply(Exp, x),)


class Log(Op):
    """The natural logarithm log(x).    d/dx log(x) = 1 / x"""

    reads = (0,)

    def forward(self, x):
        return np.log(x)

    def backward(self, grad, out, x):
        return (grad / x,)


class Log1p(Op):
    """log(1 + x), exact for small x.    d/dx log(1 + x) = 1 / (1 + x)

    For |x| below about 1e-16 (in float64), 1 + x rounds to 1 and log(1 + x) to 0,
    though the true value is about x; numpy's log1p is exact to the last bit there.
    """

    reads = (0,)

    def forward(self, x):
        return np.log1p(x)

    def backward(self, grad, out, x):
        return (grad / (1 + x),)


class Sqrt(Op):
    """sqrt(x).    d/dx sqrt(x) = 1 / (2 sqrt(x))"""

    reads = ("out",)

    def forward(self, x):
        return np.sqrt(x)

    def backward(self, grad, out, x):
        return (grad / (out * 2),)


class Tanh(Op):
    """tanh(x).    d/dx tanh(x) = 1 - tanh(x)**2"""

    reads = ("out",)

    def forward(self, x):
        return np.tanh(x)

    def backward(self, grad, out, x):
        return (grad * (1 - out * out),)


class Sigmoid(Op):
    """sigmoid(x) = 1 / (1 + exp(-x)).    d/dx sigmoid(x) = sigmoid(x) * (1 - sigmoid(x))"""

    reads = ("out",)

    def forward(self, x):
        # exp(-log(1 + exp(-x))) stays accurate for large |x| in both directions.
        return np.exp(-np.logaddexp(0, -x))

    def backward(self, grad, out, x):
        return (grad * out * (1 - out),)


class Relu(Op):
    """max(x, 0).    d/dx relu(x) = 1 where x > 0, else 0"""

    reads = ("out",)

    def forward(self, x):
        # numpy compares with a scalar 0 about half as fast as with an array of zeros,
        # so it gets an array of zeros, which then holds the result.
        zeros = np.zeros_like(x)
        return np.maximum(x, zeros, out=zeros)

    def backward(self, grad, out, x):
        # relu(x) > 0 exactly where x > 0; "not <= 0" also lets the gradient through
        # where x is nan (relu(nan) is nan), as PyTorch does.
        return (grad * ~(_array(out) <= 0),)


class Abs(Op):
    """|x|.    d/dx |x| = sign(x)  (0 at x = 0, as PyTorch)"""

    reads = (0,)

    def forward(self, x):
        return np.abs(x)

    def backward(self, grad, out, x):
        return (grad * np.sign(_array(x)),)


class Sin(Op):
    """sin(x).    d/dx sin(x) = cos(x)"""

    reads = (0,)

    def forward(self, x):
        return np.sin(x)

    def backward(self, grad, out, x):
        return (grad * _apply(Cos, x),)


class Cos(Op):
    """cos(x).    d/dx cos(x) = -sin(x)"""

    reads = (0,)

    def forward(self, x):
        return np.cos(x)

    def backward(self, grad, out, x):
        return (-grad * _apply(Sin, x),)


# ---- reductions and running sums -------------------------------------------------------


def _unreduce(grad: Value, input_shape: tuple, axes: tuple, keepdims: bool) -> Value:
    """Spread a reduction's gradient back over the input: the backward of summing."""
    if not keepdims:
        grad = grad.reshape(_kept_shape(input_shape, axes))
    if grad.shape == input_shape:
        return grad
    return _apply(BroadcastTo, grad, shape=input_shape)


def _kept_shape(shape: tuple, axes: tuple) -> tuple:
    return tuple(1 if axis in axes else n for axis, n in enumerate(shape))


class Sum(Op):
    """The sum over ``axes``.    d/dx_i sum(x) = 1: the gradient is broadcast back."""

    def forward(self, x, axes, keepdims):
        self.axes, self.keepdims, self.input_shape = axes, keepdims, x.shape
        return x.sum(axis=axes, keepdims=keepdims)

    def backward(self, grad, out, x):
        return (_unreduce(grad, self.input_shape, self.axes, self.keepdims),)


class Max(Op):
    """The maximum over ``axes``; nan counts as larger than any number.

    d/dx_i max(x) = 1 where x_i is the maximum and 0 elsewhere; ties share the
    gradient equally (as PyTorch's amax). numpy's max of values with a nan among them
    is nan, so the nans get the gradient, as PyTorch's max gives it.
    """

    reads = (0, "out")

    def forward(self, x, axes, keepdims):
        self.axes, self.keepdims, self.input_shape = axes, keepdims, x.shape
        return x.max(axis=axes, keepdims=keepdims)

    def backward(self, grad, out, x):
        x, largest = _array(x), _array(out).reshape(_kept_shape(self.input_shape, self.axes))
        is_largest = x == largest
        if np.isnan(largest).any():
            is_largest |= np.isnan(x)
        share = is_largest / is_largest.sum(axis=self.axes, keepdims=True, dtype=x.dtype)
        spread = _unreduce(grad, self.input_shape, self.axes, self.keepdims)
        return (spread * share,)


class Prod(Op):
    """The product over ``axes``.    d/dx_i prod(x) = the product of the others (prod(x) / x_i if x_i != 0)

    Where no value is 0 the gradient is prod(x) / x_i, as in PyTorch. At a 0 that would
    be 0 / 0, so where some value is 0 the product of the others is formed without
    dividing by it (see :func:`_product_of_the_others`): a single 0 in a slice gets the
    product of the others, and the rest of the slice 0; two 0s give 0 to all of it.
    """

    reads = (0, "out")

    def forward(self, x, axes, keepdims):
        self.axes, self.keepdims, self.input_shape = axes, keepdims, x.shape
        return x.prod(axis=axes, keepdims=keepdims)

    def backward(self, grad, out, x):
        spread = _unreduce(grad, self.input_shape, self.axes, self.keepdims)
        zeros = _array(x) == 0
        if zeros.any():
            return (spread * _product_of_the_others(x, zeros, self.axes),)
        return (spread * _unreduce(out, self.input_shape, self.axes, self.keepdims) / x,)


def _product_of_the_others(x: Value, zeros: np.ndarray, axes: tuple) -> Value:
    """For each x_i, the product of the other values of its slice, where some values are 0.

    With the 0s replaced by 1, let ``rest`` be the product of a slice's other values
    (its nonzero ones). In a slice with no 0 the product of the others is
    ``rest / x_i``; in one with a single 0, x_k, it is ``rest`` at k and
    ``x_k * rest / x_i`` elsewhere: 0, but written so that its derivative with respect
    to x_k is right, which makes the next derivatives exact at the zeros too. In a
    slice with two 0s or more every product of the others holds a 0, so it is 0; a
    recorded rule (for higher derivatives, which are not 0 there) multiplies those
    slices out instead, with :func:`_multiplied_out`.
    """
    counts = zeros.sum(axis=axes, keepdims=True)
    several = counts > 1
    if several.any() and isinstance(x, Tensor):
        return _multiplied_out(x, axes)
    shape, dtype = zeros.shape, _array(x).dtype
    one, zero = np.ones((), dtype), np.zeros((), dtype)
    nonzero = _apply(Where, one, x, condition=zeros)
    rest = _unreduce(_apply(Prod, nonzero, axes=axes, keepdims=True), shape, axes, True)
    the_zero = _unreduce(
        _apply(Where, x, zero, condition=zeros).sum(axis=axes, keepdims=True), shape, axes, True
    )
    factor = _apply(Where, the_zero, one, condition=np.broadcast_to(counts == 1, shape))
    others = _apply(Where, rest, factor * rest / nonzero, condition=zeros)
    return np.where(np.broadcast_to(several, shape), zero, others) if several.any() else others


def _multiplied_out(x: Value, axes: tuple) -> Value:
    """For each x_i, the product of the other values of its slice, with no division at all.

    The reduced axes are moved last and flattened into one of length n. Each slice is
    then repeated n times, the i-th copy with 1 in place of x_i, and each copy is
    multiplied out: n times the memory of x, which is why only a recorded rule does
    this, and only for slices with two 0s or more. Since it uses only recorded ops
    (prod among them), the next derivative is exact at the zeros too.
    """
    kept = tuple(axis for axis in range(x.ndim) if axis not in axes)
    order = kept + axes
    moved = x.transpose(order)
    outer_shape = moved.shape[: len(kept)]
    n = math.prod(moved.shape[len(kept) :])
    copies = _apply(BroadcastTo, moved.reshape(outer_shape + (1, n)), shape=outer_shape + (n, n))
    one = np.ones((), _array(x).dtype)
    copies = _apply(Where, one, copies, condition=np.eye(n, dtype=bool))
    others = _apply(Prod, copies, axes=(len(kept) + 1,), keepdims=False)
    return others.reshape(moved.shape).transpose(tuple(np.argsort(order)))


class CumSum(Op):
    """Running sums along ``axis``.    d/dx: the gradient summed from the far end (a reversed cumsum)

    out_i = x_0 + ... + x_i, so x_j is part of every out_i with i >= j, and its gradient
    is grad_j + ... + grad_last: the running sums of the gradient, taken backwards.
    """

    def forward(self, x, axis):
        self.axis = axis
        if x.dtype.kind == "f" and x.dtype.itemsize < 8:  # summed in float64, as PyTorch does
            return np.cumsum(x, axis=axis, dtype=np.float64).astype(x.dtype)
        return np.cumsum(x, axis=axis)

    def backward(self, grad, out, x):
        reverse = (slice(None),) * self.axis + (slice(None, None, -1),)
        return (_apply(CumSum, grad[reverse], axis=self.axis)[reverse],)


# ---- shape -----------------------------------------------------------------------------


class BroadcastTo(Op):
    """Repeat x along new leading axes and along axes of length 1 (a view, no copy).

    d/dx: every copy of x_i contributes, so the gradient is summed over the
    broadcast axes: the backward of broadcasting is a sum.
    """

    def forward(self, x, shape):
        self.input_shape = x.shape
        return _broadcast_view(x, shape)

    def backward(self, grad, out, x):
        new_axes = grad.ndim - len(self.input_shape)
        stretched = tuple(
            new_axes + axis
            for axis, n in enumerate(self.input_shape)
            if n == 1 and grad.shape[new_axes + axis] != 1
        )
        if not stretched:  # only new leading axes: summing them away leaves x's shape
            return (grad.sum(axis=tuple(range(new_axes))),)
        summed = grad.sum(axis=tuple(range(new_axes)) + stretched, keepdims=True)
        return (summed.reshape(self.input_shape),)


def _broadcast_view(x: np.ndarray, shape: tuple) -> np.ndarray:
    """``np.broadcast_to(x, shape)``: a read-only view of x's memory, made directly.

    A broadcast copies nothing: the view steps 0 bytes along the new axes and the
    stretched ones, so every step along them reads the same values again. For an
    array laid out in order this makes the view in one call; ``np.broadcast_to``,
    which handles any layout, builds an iterator to find the same strides and was the
    most frequent slow call of a training step (8-13 µs inside a step).
    """
    if type(x) is not np.ndarray or not x.flags.c_contiguous or x.size == 0:
        return np.broadcast_to(x, shape)
    strides = (0,) * (len(shape) - x.ndim) + tuple(
        0 if n == 1 else step for n, step in zip(x.shape, x.strides)
    )
    view = np.ndarray(shape, x.dtype, buffer=x, strides=strides)
    view.flags.writeable = False
    return view


class Cast(Op):
    """x converted to another dtype.    d/dx: the gradient, converted back to x's dtype."""

    def forward(self, x, dtype):
        self.input_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad, out, x):
        return (grad.astype(self.input_dtype),)


class Copy(Op):
    """A copy of x in memory of its own.    d/dx = 1"""

    def forward(self, x):
        return x.copy()

    def backward(self, grad, out, x):
        return (grad,)


class Reshape(Op):
    """The same values in a new shape.    d/dx: the gradient is reshaped back."""

    def forward(self, x, shape):
        self.input_shape = x.shape
        return x.reshape(shape)

    def backward(self, grad, out, x):
        return (grad.reshape(self.input_shape),)


class Transpose(Op):
    """Permute the axes.    d/dx: the gradient is permuted back (inverse permutation)."""

    def forward(self, x, axes):
        self.axes = axes
        return x.transpose(axes)

    def backward(self, grad, out, x):
        # Axis i of the result was axis axes[i] of x: the gradient's axis i goes back there.
        inverse = [0] * len(self.axes)
        for position, axis in enumerate(self.axes):
            inverse[axis] = position
        return (grad.transpose(inverse),)


class GetItem(Op):
    """x[index]: slices, integers, integer arrays or a boolean mask.

    d/dx: the gradient lands at the positions that were read (and adds up where
    a position was read more than once): the backward of indexing is ScatterAdd.
    """

    def forward(self, x, index):
        self.index, self.input_shape = index, x.shape
        return x[index]

    def backward(self, grad, out, x):
        if isinstance(grad, np.ndarray):  # on arrays, not spread out yet (see Scattered)
            return (Scattered(grad, self.index, self.input_shape),)
        return (_apply(ScatterAdd, grad, index=self.index, shape=self.input_shape),)


class Scattered:
    """x's gradient from ``x[index]``, on arrays: ``values`` at ``index`` of zeros of x's ``shape``.

    ScatterAdd would make those zeros at once. A tensor read a piece at a time, as a
    recurrent layer reads its sequence step by step, would then get one array of its
    full size per piece, and backward would add them all up: time growing with the
    square of the sequence's length. Kept as what was read, each piece is added into
    one array where backward sums the tensor's gradient (see ``autograd._sum_of_uses``),
    and a gradient read once is spread out when the rule of its node runs.
    """

    __slots__ = ("values", "index", "shape")

    def __init__(self, values: np.ndarray, index: Any, shape: tuple[int, ...]) -> None:
        self.values, self.index, self.shape = values, index, shape

    def spread(self) -> np.ndarray:
        """The gradient as an array of x's shape (a new one)."""
        return ScatterAdd().forward(self.values, self.index, self.shape)

    def add_to(self, total: np.ndarray) -> None:
        """``total += self.spread()``, touching only the positions read (where no position is read twice)."""
        if _may_repeat(self.index):
            total += self.spread()
        else:
            total[self.index] += self.values


class ScatterAdd(Op):
    """Zeros of ``shape`` with ``values`` added at ``index``: the backward of indexing.

    d/dvalues: each value went to one position, so its gradient is read back
    from there: the backward of ScatterAdd is indexing.
    """

    def forward(self, values, index, shape):
        self.index = index
        result = np.zeros(shape, dtype=values.dtype)
        along_one_axis = _positions_along_one_axis(index)
        if along_one_axis is not None:
            _add_along(result, *along_one_axis, values)
        elif _may_repeat(index):
            np.add.at(result, index, values)
        else:
            result[index] = values
        return result

    def backward(self, grad, out, values):
        return (grad[self.index],)


def _may_repeat(index: Any) -> bool:
    """Whether an index can name one position twice (only integer arrays can)."""
    parts = index if isinstance(index, tuple) else (index,)
    return builtins.any(isinstance(part, np.ndarray) and part.dtype.kind in "iu" for part in parts)


def _positions_along_one_axis(index: Any) -> tuple[int, np.ndarray] | None:
    """``(axis, positions)`` for an index that picks ``positions`` along one axis, else None.

    That is ``x[positions]`` or ``x[:, ..., :, positions]`` with a 1-D integer array:
    an embedding's lookup, or padding's copies of the edges.
    """
    *leading, positions = index if isinstance(index, tuple) and index else (index,)
    if not (isinstance(positions, np.ndarray) and positions.ndim == 1 and positions.dtype.kind in "iu"):
        return None
    if not builtins.all(isinstance(part, slice) and part == slice(None) for part in leading):
        return None
    return len(leading), positions


def _add_along(result: np.ndarray, axis: int, positions: np.ndarray, values: np.ndarray) -> None:
    """``np.add.at(result, (:, ..., positions), values)``, mostly by plain assignment.

    ``np.add.at`` handles repeated positions one value at a time, several times slower
    than assignment. So each position's first value is assigned, all at once, and only
    the values for positions met before are added one by one.
    """
    leading = (slice(None),) * axis
    positions = positions % result.shape[axis]  # -1 and n - 1 are one position
    _, first = np.unique(positions, return_index=True)
    result[(*leading, positions[first])] = values[(*leading, first)]
    if first.size < positions.size:
        again = np.ones(positions.size, dtype=bool)
        again[first] = False
        np.add.at(result, (*leading, positions[again]), values[(*leading, again)])


class Concatenate(Op):
    """Join tensors along an axis.    d/dx_k: the k-th slice of the gradient."""

    def forward(self, *arrays, axis):
        self.axis = axis
        self.bounds = np.cumsum([0] + [array.shape[axis] for array in arrays])
        return np.concatenate(arrays, axis=axis)

    def backward(self, grad, out, *inputs):
        leading = (slice(None),) * self.axis
        return tuple(
            grad[(*leading, slice(start, stop))] for start, stop in zip(self.bounds[:-1], self.bounds[1:])
        )


class MatMul(Op):
    """Matrix product over the last two axes (the leading axes must match).

    d/da = grad @ b^T,  d/db = a^T @ grad, with ^T swapping the last two axes.
    """

    reads = {0: (1,), 1: (0,)}

    def forward(self, a, b):
        # Which inputs are laid out transposed in memory (see backward), noted here so
        # that the rule for one input reads only the other's numbers.
        self.transposed = (_is_transposed(a), _is_transposed(b))
        return a @ b

    def backward(self, grad, out, a, b):
        # An input laid out transposed in memory (weight.T in x @ weight.T) gets its
        # gradient as the transpose of the transposed product, (b @ grad^T)^T for a and
        # (grad^T @ a)^T for b: the same numbers, in that input's own memory order, so
        # a weight's gradient comes out in the weight's row order and the optimizer
        # reads both arrays in order.
        a_transposed, b_transposed = self.transposed
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = _swap_last_axes(b @ _swap_last_axes(grad)) if a_transposed else grad @ _swap_last_axes(b)
        if self.needs_input_grad[1]:
            grad_b = _swap_last_axes(_swap_last_axes(grad) @ a) if b_transposed else _swap_last_axes(a) @ grad
        return grad_a, grad_b


def _swap_last_axes(x: Value) -> Value:
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return x.transpose(*axes)


def _is_transposed(x: Value) -> bool:
    """Whether a matrix is stored column by column (a transposed view of a C array)."""
    x = _array(x)
    return x.ndim == 2 and x.flags.f_contiguous and not x.flags.c_contiguous


# ---- special functions -----------------------------------------------------------------


class Erf(Op):
    """erf(x), the error function.    d/dx erf(x) = 2 / sqrt(pi) * exp(-x**2)

    erf(x) is 2 / sqrt(pi) times the integral of exp(-t**2) from 0 to x; the standard
    normal CDF is (1 + erf(x / sqrt(2))) / 2, which exact GELU needs.

    numpy has no erf (scipy has, but minigrad does not depend on scipy), so each value
    goes through Python's ``math.erf``, the C library's erf: within an ulp of the true
    value, as PyTorch's is. A vectorized polynomial approximation would be faster, but
    the short ones are off by about 1e-7 (Abramowitz & Stegun 7.1.26), far from
    PyTorch's values, and one good to the last bit needs tables of coefficients that
    nobody can check by reading them. The price is about 0.1 µs per element, 0.1 s
    for a million; the backward rule, an exp, runs at numpy's speed.
    """

    reads = (0,)

    def forward(self, x):
        values = np.fromiter(map(math.erf, x.ravel().tolist()), dtype=np.float64, count=x.size)
        if x.dtype.kind != "f":  # integers (ops.erf converts them first) give float64
            return values.reshape(x.shape)
        return values.reshape(x.shape).astype(x.dtype, copy=False)

    def backward(self, grad, out, x):
        return (grad * (_apply(Exp, -(x * x)) * (2 / math.sqrt(math.pi))),)


# ---- sliding windows -------------------------------------------------------------------


class Unfold(Op):
    """im2col: every window of an image batch laid out as one column.

    x has shape (N, C, H, W). After zero ``padding``, a window of ``kernel_size``
    (kh, kw) taps, ``dilation`` apart, is placed at every ``stride``-th position that
    fits; each of the L = out_h * out_w windows becomes one column of C * kh * kw values,
    ordered channel first, then kernel row, then kernel column. The result has shape
    (N, C * kh * kw, L), as ``torch.nn.functional.unfold``'s. A convolution is then one
    matrix product with the weight.

    d/dx: each pixel was copied into every window that covers it, so its gradient is
    the sum of the gradients of those copies: the backward of Unfold is Fold, and
    padding, which is not part of x, gets nothing.
    """

    def forward(self, x, kernel_size, dilation, padding, stride):
        self.input_size = x.shape[2:]
        self.windows = kernel_size, dilation, padding, stride
        (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel_size, dilation, padding, stride
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
        # A view of shape (N, C, out_h, out_w, kh, kw): nothing is copied until the reshape.
        windows = np.lib.stride_tricks.sliding_window_view(x, span, axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]
        n, channels, out_h, out_w = windows.shape[:4]
        columns = windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, channels * kh * kw, out_h * out_w)
        # The reshape copies, except where the windows are x itself (a 1x1 kernel): then
        # it is a read-only view of x, and the result must be an array of its own.
        return columns if columns.flags.writeable else columns.copy()

    def backward(self, grad, out, x):
        return (_apply(Fold, grad, output_size=self.input_size, **_window_params(self.windows)),)


class Fold(Op):
    """col2im, the adjoint of :class:`Unfold`: columns summed back into an image batch.

    ``columns`` has shape (N, C * kh * kw, L), one column per window as Unfold lays
    them out, for an image of ``output_size`` (H, W). Each value is added to the pixel
    its window tap covers, so where windows overlap their values add up; values that
    land on the padding are dropped. The result has shape (N, C, H, W), as
    ``torch.nn.functional.fold``'s.

    d/dcolumns: each value went to one pixel, so its gradient is read back from
    there, for every window at once: the backward of Fold is Unfold.
    """

    def forward(self, columns, output_size, kernel_size, dilation, padding, stride):
        self.windows = kernel_size, dilation, padding, stride
        (height, width), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = (
            output_size,
            kernel_size,
            dilation,
            padding,
            stride,
        )
        out_h = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        out_w = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
        n, channels = columns.shape[0], columns.shape[1] // (kh * kw)
        blocks = columns.reshape(n, channels, kh, kw, out_h, out_w)  # no -1: n may be 0
        padded = np.zeros((n, blocks.shape[1], height + 2 * ph, width + 2 * pw), columns.dtype)
        # One strided add per kernel tap: tap (i, j) of every window at once.
        for i in range(kh):
            for j in range(kw):
                rows = slice(i * dh, i * dh + sh * (out_h - 1) + 1, sh)
                cols = slice(j * dw, j * dw + sw * (out_w - 1) + 1, sw)
                padded[:, :, rows, cols] += blocks[:, :, i, j]
        return np.ascontiguousarray(padded[:, :, ph : ph + height, pw : pw + width])

    def backward(self, grad, out, columns):
        return (_apply(Unfold, grad, **_window_params(self.windows)),)


def _window_params(windows: tuple) -> dict[str, tuple[int, int]]:
    """The window arguments Unfold and Fold share, by name, from (kernel_size, dilation, padding, stride)."""
    return dict(zip(("kernel_size", "dilation", "padding", "stride"), windows))
