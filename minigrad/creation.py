"""Making tensors: from data (``tensor``, ``from_numpy``), filled (``zeros``, ``full``,
``eye``, ...), spaced (``arange``, ``linspace``) and random (``randn``, ``rand``,
``randint``, ``randperm``, drawn from minigrad's one seeded generator).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad import random
from minigrad.tensor import Tensor, _as_array, get_default_dtype


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None) -> Tensor:
    """Make a tensor from a scalar, a (nested) list or an ndarray; the data is copied.

    Python floats get the default dtype (float32 unless changed with
    :func:`set_default_dtype`), numpy arrays keep theirs.
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing ``array``'s memory, as PyTorch's from_numpy: changing one changes the other.

    The dtype is the array's own. Use :func:`tensor` for a copy.
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"from_numpy: expected an np.ndarray, got {type(array).__name__}; use mg.tensor for lists and numbers"
        )
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"from_numpy: cannot make a tensor of {array.dtype} values; a tensor holds real numbers "
            f"(bool, int or float)"
        )
    return Tensor._wrap(array)


def is_tensor(value: Any) -> bool:
    """Whether ``value`` is a Tensor (a Parameter is one)."""
    return isinstance(value, Tensor)


def numel(x: Any) -> int:
    """The number of elements of x (a tensor, an array or a nested list)."""
    return x.size if isinstance(x, Tensor) else np.size(x)


def allclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """Whether ``|a - b| <= atol + rtol * |b|`` everywhere (numpy's and PyTorch's test); a and b broadcast."""
    return bool(np.allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol, equal_nan=equal_nan))


def _shape_from(shape: tuple[Any, ...], caller: str) -> tuple[int, ...]:
    """Accept both ``zeros(2, 3)`` and ``zeros((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], Iterable):
        shape = tuple(shape[0])
    if not all(isinstance(n, numbers.Integral) and n >= 0 for n in shape):
        raise ValueError(f"{caller}: the shape must be non-negative integers, got {shape}")
    return tuple(int(n) for n in shape)


def _float_dtype(dtype: Any) -> np.dtype:
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros; ``zeros(2, 3)`` and ``zeros((2, 3))`` both work."""
    return Tensor(np.zeros(_shape_from(shape, "zeros"), _float_dtype(dtype)), requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones; ``ones(2, 3)`` and ``ones((2, 3))`` both work."""
    return Tensor(np.ones(_shape_from(shape, "ones"), _float_dtype(dtype)), requires_grad)


def full(shape: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of the given shape filled with ``fill_value``.

    Without ``dtype``, the value's kind decides, as in numpy and PyTorch: a Python
    float gives the default float dtype, an int int64, a bool bool.
    """
    if dtype is None:
        dtype = _as_array(fill_value).dtype
    return Tensor(np.full(_shape_from((shape,), "full"), fill_value, dtype), requires_grad)


def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of another tensor's shape and (unless given) dtype."""
    return Tensor(np.zeros(other.shape, dtype or other.dtype), requires_grad)


def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of another tensor's shape and (unless given) dtype."""
    return Tensor(np.ones(other.shape, dtype or other.dtype), requires_grad)


def full_like(other: Tensor, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` in another tensor's shape and (unless given) dtype."""
    return Tensor(np.full(other.shape, fill_value, dtype or other.dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The identity matrix (n rows, m columns; square by default)."""
    return Tensor(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def arange(
    start: float, stop: float | None = None, step: float = 1, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Evenly spaced values in ``[start, stop)``, like ``np.arange``.

    Integer arguments give an int64 tensor, as in PyTorch; any float gives the default
    float dtype.
    """
    if step == 0:
        raise ValueError("arange: step must not be zero")
    values = np.arange(start, stop, step) if stop is not None else np.arange(0, start, step)
    if dtype is None and values.dtype.kind == "f":
        dtype = get_default_dtype()
    return Tensor(values, requires_grad, dtype=dtype)


def linspace(start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    if not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    return Tensor(np.linspace(start, end, int(steps)), requires_grad, dtype=_float_dtype(dtype))


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Samples of the standard normal distribution (seed with :func:`manual_seed`)."""
    dtype = _sample_dtype(dtype, "randn")
    return Tensor(random.generator().standard_normal(_shape_from(shape, "randn")), requires_grad, dtype)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Samples of the uniform distribution on [0, 1) (seed with :func:`manual_seed`)."""
    dtype = _sample_dtype(dtype, "rand")
    return Tensor(random.generator().random(_shape_from(shape, "rand")), requires_grad, dtype)


def randn_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """:func:`randn` in another tensor's shape and (unless given) dtype."""
    return randn(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad)


def rand_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """:func:`rand` in another tensor's shape and (unless given) dtype."""
    return rand(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad)


def randint(low: int = 0, high: Any = None, size: Any = None, dtype: Any = np.int64) -> Tensor:
    """Random integers in ``[low, high)`` of shape ``size``: ``randint(0, 10, (3,))``.

    ``randint(10, (3,))`` draws from ``[0, 10)``, as in PyTorch, and so do
    ``randint(10, size=(3,))`` and ``randint(high=10, size=(3,))``.
    """
    if size is None and high is not None and not isinstance(high, numbers.Integral):
        low, high, size = 0, low, high  # randint(high, size)
    if size is None:
        raise TypeError(
            "randint: give the shape of the result, e.g. randint(0, 10, (3,)) or randint(10, size=(3,))"
        )
    if high is None:
        low, high = 0, low
    for bound in (low, high):
        if isinstance(bound, bool) or not isinstance(bound, numbers.Integral):
            raise TypeError(f"randint: low and high must be ints, got {bound!r}")
    if high <= low:
        raise ValueError(f"randint: the range [{low}, {high}) is empty; high must be greater than low")
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        raise TypeError(f"randint: the dtype must be an integer dtype, got {dtype}")
    shape = _shape_from((size,) if isinstance(size, Iterable) else (size,), "randint")
    return Tensor._wrap(random.generator().integers(low, high, shape, dtype=dtype))


def randperm(n: int, dtype: Any = np.int64) -> Tensor:
    """The integers 0 to n - 1 in random order (seed with :func:`manual_seed`): e.g. to shuffle a dataset.

    ``x[randperm(len(x))]`` is x with its rows shuffled.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    dtype = np.dtype(dtype)
    if dtype.kind not in "iuf":
        raise TypeError(f"randperm: the dtype must be an integer or float dtype, got {dtype}")
    return Tensor._wrap(random.generator().permutation(int(n)).astype(dtype))


def _sample_dtype(dtype: Any, caller: str) -> np.dtype:
    """The float dtype of random samples; an integer one would silently truncate them to 0s."""
    dtype = _float_dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{caller}: samples need a floating-point dtype such as np.float32, got {dtype}")
    return dtype
