"""The op functions: turn user arguments into tensors and apply the primitives.

``add``, ``sum``, ``matmul`` and the rest accept tensors, arrays, lists and scalars,
check shapes and axes (with errors that name the op), insert explicit ``broadcast_to``
ops where operand shapes differ, and apply the primitives of
:mod:`minigrad.primitives`, where the forward computations and backward rules live.
Tensor's operators and methods call these functions.
"""

from __future__ import annotations

import builtins
import functools
import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from minigrad.engine import Op, is_grad_enabled
from minigrad.primitives import (
    Abs,
    Add,
    BroadcastTo,
    Cast,
    Concatenate,
    Copy,
    Cos,
    CumSum,
    Div,
    Erf,
    Exp,
    Expm1,
    GetItem,
    Log,
    Log1p,
    MatMul,
    Max,
    Maximum,
    Mul,
    Neg,
    Pow,
    Prod,
    Relu,
    Remainder,
    Reshape,
    Sigmoid,
    Sin,
    Sqrt,
    Sub,
    Sum,
    Tanh,
    Transpose,
    Where,
)
from minigrad.tensor import Tensor, get_default_dtype


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
    if kind == "O":  # numpy would hold it as a Python object, and compute with it in Python
        raise OverflowError(f"the Python int {value} is too large for any numpy integer dtype")
    if like is not None and like.kind in "iu" and kind in "biu":
        return like
    if kind == "f":
        return get_default_dtype()
    return np.asarray(value).dtype


def as_tensors(values: Sequence[Any]) -> list[Tensor]:
    """Tensors for op arguments, with PyTorch's dtype rules rather than numpy's.

    Scalars take the dtype of a tensor among them, and integer tensors that meet a
    float tensor take its dtype: numpy would turn float32 with int64 into float64.
    Float tensors of two precisions meet in the wider one, as in numpy and PyTorch,
    through a recorded cast (see :func:`_to_one_dtype`); but a 0-d tensor does not
    widen one with dimensions, as in PyTorch.
    """
    like = None
    for value in values:
        if isinstance(value, Tensor):
            like = value.data.dtype
            break
    tensors = []
    for value in values:
        tensors.append(value if isinstance(value, Tensor) else _as_tensor(value, like))
    dtype = tensors[0].data.dtype
    for tensor in tensors:
        if tensor.data.dtype != dtype:
            return _to_one_dtype(tensors)
    return tensors


def _tensor(x: Any) -> Tensor:
    """The one argument of a unary op as a tensor.

    A new one for a Python number, not the constant that binary ops share (see
    :func:`_number_constant`): an op that changes nothing (a reshape to the same shape)
    returns its argument, and a caller could then change the shared constant for all.
    """
    if isinstance(x, Tensor):
        return x
    tensor = as_tensors([x])[0]
    shared = not tensor.data.flags.writeable  # only the shared constants are read-only
    return Tensor._wrap(tensor.data.copy()) if shared else tensor


def _to_one_dtype(tensors: list[Tensor]) -> list[Tensor]:
    """Operands of mixed dtypes, converted to the widest float dtype among them, if any.

    Only tensors with dimensions count when there are some, as in PyTorch: a 0-d
    float64 tensor (``mg.tensor(np.float64(0.5))``) meeting float32 activations takes
    their dtype, rather than turning them and everything after them into float64. The
    conversion of a tensor that requires grad is a recorded ``cast``, drawn like
    any op: its rule hands the gradient back in the tensor's own dtype, so a float32
    parameter used with a float64 tensor still gets a float32 ``.grad``, as in PyTorch.
    Integer and boolean operands with no float among them are left to numpy.
    """
    floats = [tensor.data for tensor in tensors if tensor.data.dtype.kind == "f"]
    if not floats:
        return tensors
    float_dtype = np.result_type(
        *[array.dtype for array in floats if array.ndim] or [array.dtype for array in floats]
    )
    return [tensor if tensor.data.dtype == float_dtype else astype(tensor, float_dtype) for tensor in tensors]


def _as_tensor(value: Any, like: np.dtype | None) -> Tensor:
    if type(value) in (float, int) and value == value:  # not nan, which equals no key
        negative_zero = value == 0 and math.copysign(1.0, value) < 0
        return _number_constant(value, _scalar_dtype(value, like), negative_zero)
    if _is_scalar(value):
        return Tensor._wrap(np.asarray(value, dtype=_scalar_dtype(value, like)))
    return Tensor(value)


@functools.lru_cache(maxsize=256)
def _number_constant(value: float | int, dtype: np.dtype, negative_zero: bool) -> Tensor:
    """The 0-d constant for a Python number, made once and shared by every op that uses it.

    The same few numbers (the 2 of ``x ** 2``, the 1.0001 of a loop) come back in every
    step, and a new tensor for each use was about a sixth of the cost of ``y * 1.0001``:
    making it, and the garbage collector walking it for as long as the graph lives. The
    array is read-only, since it is shared. ``negative_zero`` keeps -0.0 apart from 0.0,
    which compare equal. 2, 2.0 and True may share one entry: the array is made in
    ``dtype``, so theirs would be the same (an untyped cache finds them faster).
    """
    array = np.asarray(value, dtype=dtype)
    array.flags.writeable = False
    return Tensor._wrap(array)


def broadcast_shapes(op_name: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The shape that ``shapes`` broadcast to, or a ValueError naming the op.

    Shapes are aligned from the right; along each axis the lengths must be equal, or
    1 (which is stretched), or missing (a new leading axis).
    """
    ndim = builtins.max(len(shape) for shape in shapes)
    result = [1] * ndim
    for shape in shapes:
        for axis, length in enumerate(shape, ndim - len(shape)):
            if length != result[axis] and length != 1:
                if result[axis] != 1:
                    listed = " and ".join(str(shape) for shape in shapes)
                    raise ValueError(
                        f"{op_name}: shapes {listed} do not broadcast. Aligned from the right, each "
                        f"pair of axis lengths must be equal or one of them 1; reshape an operand "
                        f"(e.g. x.reshape(-1, 1)) to line the axes up"
                    )
                result[axis] = length
    return tuple(result)


def _recording(tensors: Iterable[Tensor]) -> bool:
    return is_grad_enabled() and builtins.any(tensor.requires_grad for tensor in tensors)


def _need_broadcasting(tensors: list[Tensor]) -> bool:
    """Whether operands differ in shape, not counting constant scalars."""
    shape = None
    for tensor in tensors:
        if tensor.requires_grad or tensor.data.ndim:
            if shape is None:
                shape = tensor.data.shape
            elif tensor.data.shape != shape:
                return True
    return False


def _elementwise(
    op: type[Op], values: Sequence[Any], also_broadcast_with: tuple[tuple, ...] = (), **params: Any
) -> Tensor:
    """Apply an elementwise op, broadcasting the operands that require grad explicitly first.

    Constants (the 2.0 in ``x * 2.0``, an eval-mode batch norm's running mean) are left
    to numpy: they have no gradient, so a broadcast of one would not be recorded, and
    it would only hide the constant itself (and its name) from drawings.
    """
    tensors = as_tensors(values)
    if also_broadcast_with or _need_broadcasting(tensors):
        shape = broadcast_shapes(op.name, *[tensor.shape for tensor in tensors], *also_broadcast_with)
        if _recording(tensors):
            tensors = [
                tensor
                if tensor.shape == shape or not tensor.requires_grad
                else BroadcastTo.apply(tensor, shape=shape)  # the shape is checked above
                for tensor in tensors
            ]
    return op.apply(*tensors, **params)


def _binary(op: type[Op], a: Any, b: Any) -> Tensor:
    """Apply an elementwise op of two operands (see :func:`_elementwise`)."""
    if type(b) in (float, int) and isinstance(a, Tensor) and a.data.dtype.kind == "f":
        # x * 2.0, the commonest call, the short way: to what as_tensors and the
        # broadcasting check conclude for it (a constant of x's dtype, nothing to
        # broadcast), a microsecond less of Python, a sixth of a chain's build.
        return op.apply(a, _number_constant(b, a.data.dtype, b == 0 and math.copysign(1.0, b) < 0))
    return _elementwise(op, (a, b))


def _unary(op: type[Op], x: Any) -> Tensor:
    return op.apply(_tensor(x))


def _floats(x: Any) -> Tensor:
    """x as a tensor of floats: integers and booleans in the default float dtype, as in PyTorch.

    For the functions whose values are not integers (exp, sqrt, softmax, ...): numpy
    would give float16 for 8-bit integers and booleans, and float64 for the others.
    """
    x = _tensor(x)
    if x.data.dtype.kind == "f":
        return x
    return Tensor._wrap(x.data.astype(get_default_dtype()))  # never requires grad: only floats can


def _unary_to_float(op: type[Op], x: Any) -> Tensor:
    """An op whose values are not integers (exp, sqrt, ...), on :func:`_floats` of x."""
    return op.apply(_floats(x))


# ---- the public functions --------------------------------------------------------------


def add(a: Any, b: Any) -> Tensor:
    """a + b, broadcasting."""
    return _binary(Add, a, b)


def sub(a: Any, b: Any) -> Tensor:
    """a - b, broadcasting."""
    return _binary(Sub, a, b)


def mul(a: Any, b: Any) -> Tensor:
    """a * b, elementwise, broadcasting."""
    return _binary(Mul, a, b)


def div(a: Any, b: Any) -> Tensor:
    """a / b, elementwise, broadcasting; integers divide to the default float dtype."""
    a, b = as_tensors((a, b))
    if a.dtype.kind in "biu" and b.dtype.kind in "biu":
        a, b = _floats(a), _floats(b)
    return _binary(Div, a, b)


def floor_divide(a: Any, b: Any) -> Tensor:
    """a // b, rounded toward minus infinity as in Python and numpy; broadcasting.

    Never recorded: the result is constant between its jumps, so its gradient is 0
    wherever there is one (PyTorch would raise at backward instead).
    """
    a, b = as_tensors((a, b))
    broadcast_shapes("floor_divide", a.shape, b.shape)
    return Tensor._wrap(np.floor_divide(a.data, b.data))


def remainder(a: Any, b: Any) -> Tensor:
    """a % b, with the sign of b as in Python and numpy; broadcasting."""
    return _binary(Remainder, a, b)


def pow(base: Any, exponent: Any) -> Tensor:
    """base ** exponent, elementwise, broadcasting; either may be a tensor."""
    return _binary(Pow, base, exponent)


def maximum(a: Any, b: Any) -> Tensor:
    """The elementwise maximum of a and b, broadcasting (ties split the gradient)."""
    return _binary(Maximum, a, b)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elementwise ``a if condition else b``; all three broadcast together.

    ``condition`` is a boolean array or tensor (no gradient flows into it); either
    branch may be a scalar.
    """
    # A copy, which the rule reads in backward: the caller may change theirs in between.
    condition = np.array(condition, dtype=bool)
    return _elementwise(Where, (a, b), also_broadcast_with=(condition.shape,), condition=condition)


def neg(x: Any) -> Tensor:
    """-x."""
    return _unary(Neg, x)


def exp(x: Any) -> Tensor:
    """e ** x, elementwise."""
    return _unary_to_float(Exp, x)


def log(x: Any) -> Tensor:
    """The natural logarithm, elementwise."""
    return _unary_to_float(Log, x)


def sqrt(x: Any) -> Tensor:
    """The square root, elementwise."""
    return _unary_to_float(Sqrt, x)


def tanh(x: Any) -> Tensor:
    """The hyperbolic tangent, elementwise."""
    return _unary_to_float(Tanh, x)


def sigmoid(x: Any) -> Tensor:
    """The logistic function 1 / (1 + exp(-x)), elementwise."""
    return _unary_to_float(Sigmoid, x)


def relu(x: Any) -> Tensor:
    """max(x, 0), elementwise."""
    return _unary(Relu, x)


def abs(x: Any) -> Tensor:
    """|x|, elementwise."""
    return _unary(Abs, x)


def log1p(x: Any) -> Tensor:
    """log(1 + x), elementwise; exact where x is tiny, where ``log(1 + x)`` would round to 0."""
    return _unary_to_float(Log1p, x)


def expm1(x: Any) -> Tensor:
    """exp(x) - 1, elementwise; exact where x is tiny, where ``exp(x) - 1`` would lose digits."""
    return _unary_to_float(Expm1, x)


def sin(x: Any) -> Tensor:
    """The sine, elementwise (x in radians)."""
    return _unary_to_float(Sin, x)


def cos(x: Any) -> Tensor:
    """The cosine, elementwise (x in radians)."""
    return _unary_to_float(Cos, x)


def erf(x: Any) -> Tensor:
    """The error function, elementwise: 2 / sqrt(pi) times the integral of exp(-t**2) from 0 to x."""
    return _unary_to_float(Erf, x)


def sign(x: Any) -> Tensor:
    """-1, 0 or 1 by the sign of each value, in x's dtype (nan gives 0, as in PyTorch; numpy's gives nan).

    Never recorded: the result is constant between its jumps, so its gradient is 0
    wherever there is one, as PyTorch's is.
    """
    x = _tensor(x)
    if x.dtype == np.bool_:  # False is 0 and True is 1: each is its own sign
        return Tensor._wrap(x.data.copy())
    return Tensor._wrap((x.data > 0).astype(x.dtype) - (x.data < 0).astype(x.dtype))


def compare(comparison: Callable, a: Any, b: Any) -> Tensor:
    """A boolean tensor from a numpy comparison such as ``np.less`` (never recorded)."""
    a, b = as_tensors((a, b))
    broadcast_shapes(comparison.__name__, a.shape, b.shape)
    return Tensor._wrap(comparison(a.data, b.data))


def isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Where ``|a - b| <= atol + rtol * |b|``, elementwise: a boolean tensor, never recorded.

    numpy's and PyTorch's test; a and b broadcast. Infinities are close only to
    themselves; nan is close to nothing, unless ``equal_nan`` (then to nan).
    """
    a, b = as_tensors((a, b))
    broadcast_shapes("isclose", a.shape, b.shape)
    return Tensor._wrap(np.isclose(a.data, b.data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def any(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Whether some value is nonzero (over ``axis``); a boolean tensor, never recorded."""
    x = _tensor(x)
    return Tensor._wrap(np.any(x.data, axis=normalize_axes(axis, x.ndim, "any"), keepdims=keepdims))


def all(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Whether every value is nonzero (over ``axis``); a boolean tensor, never recorded."""
    x = _tensor(x)
    return Tensor._wrap(np.all(x.data, axis=normalize_axes(axis, x.ndim, "all"), keepdims=keepdims))


def count_nonzero(x: Any, axis: Any = None) -> Tensor:
    """How many values are nonzero (over ``axis``): an int64 tensor, never recorded."""
    x = _tensor(x)
    counts = np.count_nonzero(x.data, axis=normalize_axes(axis, x.ndim, "count_nonzero"))
    return Tensor._wrap(np.asarray(counts, dtype=np.int64))


def astype(x: Any, dtype: Any) -> Tensor:
    """x converted to ``dtype``; gradients flow back converted to x's dtype."""
    x = _tensor(x)
    dtype = np.dtype(dtype)
    if dtype == x.dtype:
        return x
    if x.requires_grad and dtype.kind != "f":
        return Tensor._wrap(x.data.astype(dtype))  # integers carry no gradient
    return Cast.apply(x, dtype=dtype)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """The index of the largest value (over the flattened tensor when axis is None).

    Indices carry no gradient, so the result is never recorded.
    """
    return _arg_extreme(np.argmax, "argmax", x, axis, keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """The index of the smallest value (over the flattened tensor when axis is None)."""
    return _arg_extreme(np.argmin, "argmin", x, axis, keepdims)


def _arg_extreme(find: Callable, name: str, x: Any, axis: int | None, keepdims: bool) -> Tensor:
    x = _tensor(x)
    if axis is not None and not isinstance(axis, numbers.Integral):
        raise TypeError(f"{name}: axis must be an int or None, got {axis!r}")
    check_not_empty(x, normalize_axes(axis, x.ndim, name), name)
    return Tensor._wrap(find(x.data, axis=axis, keepdims=keepdims))


def check_positive_int(value: Any, name: str, where: str) -> None:
    """That a size or a count (``name``, an argument of ``where``) is an int of at least 1; bools are not."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}")


def normalize_axes(axis: Any, ndim: int, op_name: str) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple, negatives allowed) as sorted non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    normalized = []
    for given in axes:
        # type() first: the check of the abstract Integral is slow, and axes are mostly ints
        if (type(given) is not int and not isinstance(given, numbers.Integral)) or not -ndim <= given < ndim:
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
    x = _tensor(x)
    return Sum.apply(x, axes=normalize_axes(axis, x.ndim, "sum"), keepdims=keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The product over ``axis`` (None for all axes, an int or a tuple); 1 for no values."""
    x = _tensor(x)
    return Prod.apply(x, axes=normalize_axes(axis, x.ndim, "prod"), keepdims=keepdims)


def cumsum(x: Any, axis: int | None = None) -> Tensor:
    """Running sums along ``axis``: ``out[..., i] = x[..., 0] + ... + x[..., i]``, of x's shape.

    ``axis=None`` runs along the flattened tensor and gives a 1-D result, as numpy's
    cumsum does (PyTorch's needs an axis, its ``dim``). A 0-d tensor has axis 0 (or -1)
    and keeps its shape, as in PyTorch.
    """
    x = _tensor(x)
    if axis is None:
        return CumSum.apply(reshape(x, -1), axis=0)
    if not isinstance(axis, numbers.Integral):
        raise TypeError(f"cumsum: axis must be an int or None, got {axis!r}")
    if x.ndim == 0:
        normalize_axes(axis, 1, "cumsum")
        return reshape(CumSum.apply(reshape(x, 1), axis=0), ())
    (axis,) = normalize_axes(axis, x.ndim, "cumsum")
    return CumSum.apply(x, axis=axis)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The largest value over ``axis`` (values only, as numpy's max)."""
    x = _tensor(x)
    axes = normalize_axes(axis, x.ndim, "max")
    check_not_empty(x, axes, "max")
    return Max.apply(x, axes=axes, keepdims=keepdims)


amax = max  # PyTorch's name: max's values, whose ties share the gradient as amax's do


def check_not_empty(x: Tensor, axes: tuple[int, ...], op_name: str) -> None:
    """A ValueError if max, min, argmax or argmin would reduce an empty axis: they have no value there.

    An empty tensor reduced over axes that are not empty (a batch of 0 rows, reduced
    over its columns) is fine: its result is empty too, as in numpy.
    """
    for axis in axes:
        if x.shape[axis] == 0:
            raise ValueError(
                f"{op_name}: axis {axis} of a tensor of shape {x.shape} is empty, so there is "
                f"no {op_name} to take along it"
            )


def broadcast_to(x: Any, shape: Iterable[int]) -> Tensor:
    """x repeated to ``shape`` by numpy's broadcasting rules (a view)."""
    x = _tensor(x)
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)  # an int, as numpy takes
    if x.shape == shape:
        return x
    target = broadcast_shapes("broadcast_to", x.shape, shape)
    if target != shape:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}")
    return BroadcastTo.apply(x, shape=shape)


def reshape(x: Any, *shape: Any) -> Tensor:
    """The same values in a new shape, given as a tuple or as ints; one may be -1."""
    x = _tensor(x)
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


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """x without its axes of length 1: all of them, or those in ``axis`` (an int or a tuple).

    An axis in ``axis`` whose length is not 1 is an error, as in numpy (PyTorch's
    squeeze would leave it alone).
    """
    x = _tensor(x)
    if x.ndim == 0:  # numpy and PyTorch take axis 0 or -1 of a 0-d tensor, and leave it as it is
        normalize_axes(0 if axis is None else axis, 1, "squeeze")
        return x
    if axis is None:
        axes = tuple(position for position, length in enumerate(x.shape) if length == 1)
    else:
        axes = normalize_axes(axis, x.ndim, "squeeze")
        for position in axes:
            if x.shape[position] != 1:
                raise ValueError(
                    f"squeeze: axis {position} of a tensor of shape {x.shape} has length "
                    f"{x.shape[position]}; only axes of length 1 can be removed"
                )
    return reshape(x, tuple(length for position, length in enumerate(x.shape) if position not in axes))


def unsqueeze(x: Any, axis: Any) -> Tensor:
    """x with a new axis of length 1 at ``axis`` (numpy's ``expand_dims``).

    ``axis`` counts in the result, so -1 appends an axis; a tuple adds several.
    """
    x = _tensor(x)
    added = len(axis) if isinstance(axis, (tuple, list)) else 1
    new_axes = normalize_axes(axis, x.ndim + added, "unsqueeze")
    lengths = iter(x.shape)
    return reshape(
        x, tuple(1 if position in new_axes else next(lengths) for position in range(x.ndim + added))
    )


def transpose(x: Any, *axes: Any) -> Tensor:
    """Permute the axes (numpy's order); with no axes, reverse them."""
    x = _tensor(x)
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:  # reversed: a permutation by construction, nothing to check (x.T)
        return x if x.ndim < 2 else Transpose.apply(x, axes=tuple(range(x.ndim - 1, -1, -1)))
    in_range = builtins.all(isinstance(axis, numbers.Integral) and -x.ndim <= axis < x.ndim for axis in axes)
    normalized = tuple(int(axis) % x.ndim for axis in axes) if in_range else axes
    if not in_range or sorted(normalized) != list(range(x.ndim)):
        raise ValueError(
            f"transpose: axes {axes} are not a permutation of the {x.ndim} axes "
            f"of a tensor of shape {x.shape}"
        )
    if normalized == tuple(range(x.ndim)):
        return x
    return Transpose.apply(x, axes=normalized)


def swapaxes(x: Any, axis0: int, axis1: int) -> Tensor:
    """x with two axes swapped: numpy's swapaxes, and what PyTorch's ``transpose(dim0, dim1)`` does.

    (minigrad's :func:`transpose` takes numpy's full permutation instead, so on a
    matrix ``transpose(x, 0, 1)`` leaves it as it is.)
    """
    x = _tensor(x)
    for axis in (axis0, axis1):
        if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
            raise TypeError(f"swapaxes: axes must be ints, got {axis!r}")
    first, second = (normalize_axes(axis, x.ndim, "swapaxes")[0] for axis in (axis0, axis1))
    axes = list(range(x.ndim))
    axes[first], axes[second] = second, first
    return transpose(x, axes)


def clone(x: Any) -> Tensor:
    """A copy of x in memory of its own, recorded: gradients flow back unchanged, as in PyTorch."""
    return Copy.apply(_tensor(x))


def _plain_index(index: Any, outermost: bool = True) -> Any:
    """An index with tensors and sequences turned into arrays, as numpy expects.

    The outermost tuple lists one index per axis; a tuple inside it, as a list, is a
    sequence of positions (``x[(0, 0), (1, 1)]`` reads x[0, 1] twice), and as an array
    the rule of indexing sees that a position can repeat. Arrays are copies: the
    backward rule reads the index later, and a caller who changes their array in
    between must not change where the gradient goes.
    """
    if isinstance(index, tuple) and outermost:
        return tuple(_plain_index(part, outermost=False) for part in index)
    if isinstance(index, Tensor):
        return index.data.copy()
    if isinstance(index, (list, tuple)) and not index:  # numpy would make a float array, which cannot index
        return np.array(index, dtype=np.intp)
    if isinstance(index, (list, tuple, np.ndarray)):
        return np.array(index)
    return index


def getitem(x: Any, index: Any) -> Tensor:
    """x[index] with numpy's indexing: slices, ints, integer arrays, boolean masks."""
    x = _tensor(x)
    index = _plain_index(index)
    try:
        return GetItem.apply(x, index=index)
    except IndexError as error:
        raise IndexError(
            f"getitem: cannot index a tensor of shape {x.shape} with {index!r}: {error}"
        ) from None


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    tensors = as_tensors(tensors)
    ndim = tensors[0].ndim
    if not isinstance(axis, numbers.Integral):
        raise TypeError(f"concatenate: axis must be an int, got {axis!r}")
    (axis,) = normalize_axes(axis, ndim, "concatenate")
    for tensor in tensors:
        if tensor.ndim != ndim or tensor.shape[:axis] + tensor.shape[axis + 1 :] != (
            tensors[0].shape[:axis] + tensors[0].shape[axis + 1 :]
        ):
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"concatenate: shapes {shapes} must be equal except along axis {axis}")
    return Concatenate.apply(*tensors, axis=axis)


cat = concatenate  # PyTorch's name


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
