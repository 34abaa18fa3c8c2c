"""The Tensor: a numpy array that remembers the operation that made it.

A Tensor holds its value in ``data`` (an ``np.ndarray``), a ``requires_grad`` flag,
the gradient ``grad`` that backward fills in for leaves, and ``op``: the node of the
graph that produced it (``None`` for tensors made by the user, the *leaves*).

Tensor's math methods are thin: each one calls a function of the op layers
(:mod:`minigrad.ops`, :mod:`minigrad.composite`), where the forward computation and
the backward rule live. Those modules are built on Tensor, so they are imported at the
bottom of this file, once Tensor exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

_default_dtype = np.dtype(np.float32)


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype given to tensors made from Python floats (float32 at start)."""
    if dtype is None:  # np.dtype(None) would be float64
        raise TypeError("set_default_dtype: expected a floating-point dtype such as np.float32, got None")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(
            f"set_default_dtype: expected a floating-point dtype such as np.float32 "
            f"or np.float64, got {dtype}"
        )
    global _default_dtype
    _default_dtype = dtype


def get_default_dtype() -> np.dtype:
    """The dtype given to tensors made from Python floats."""
    return _default_dtype


def _as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert tensor data to a fresh ndarray with minigrad's dtype rules.

    Numpy data keeps its dtype (float64 stays float64); Python floats become the
    default dtype; Python ints become int64 and bools bool, as in PyTorch.
    """
    if isinstance(data, Tensor):
        data = data.data
    keeps_dtype = isinstance(data, (np.ndarray, np.generic))
    try:
        array = np.array(data, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__}: {error}") from None
    if array.dtype == object:
        raise TypeError(
            f"tensor: cannot make a tensor from {type(data).__name__} holding objects; "
            f"pass numbers, nested lists of numbers of one length, or an ndarray"
        )
    if array.dtype.kind not in "biuf":  # complex numbers, strings, dates, records
        raise TypeError(
            f"tensor: cannot make a tensor of {array.dtype} values; a tensor holds real numbers "
            f"(bool, int or float), as its ops and gradients assume"
        )
    if dtype is None and not keeps_dtype and array.dtype.kind == "f":
        array = array.astype(_default_dtype, copy=False)
    return array


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Parameters
    ----------
    data : scalar, nested list, ndarray or Tensor
        The value; it is copied.
    requires_grad : bool
        Whether backward should compute a gradient for this tensor.
    dtype : numpy dtype, optional
        Defaults to the data's own dtype for numpy data, and to
        :func:`get_default_dtype` for Python floats.
    name : str, optional
        A label shown in graph drawings.

    Examples
    --------
    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    __slots__ = ("data", "requires_grad", "grad", "op", "name", "__weakref__")

    # Tells numpy to hand `ndarray + tensor` (and every other operator) to Tensor's
    # reflected methods, so the result is a Tensor rather than an array of objects.
    __array_ufunc__ = None

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        dtype: Any = None,
        name: str | None = None,
    ) -> None:
        self.data = _as_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"tensor: only floating-point tensors can require gradients, this one "
                f"is {self.data.dtype}; make it with dtype=np.float32 or np.float64"
            )
        self.requires_grad = bool(requires_grad)
        self.grad: Tensor | None = None
        self.op = None
        self.name = name

    @classmethod
    def _wrap(cls, data: np.ndarray, requires_grad: bool = False, op: Any = None) -> Tensor:
        """Make a tensor around an existing array without copying or checking it."""
        tensor = object.__new__(cls)
        tensor.data = data
        tensor.requires_grad = requires_grad
        tensor.grad = None
        tensor.op = op
        tensor.name = None
        return tensor

    # ---- what a tensor is --------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        """The number of elements (an int, as in numpy)."""
        return self.data.size

    def numel(self) -> int:
        """PyTorch's name for :attr:`size`, the number of elements."""
        return self.size

    def dim(self) -> int:
        """PyTorch's name for :attr:`ndim`, the number of axes."""
        return self.ndim

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made; False for results of recorded operations."""
        return self.op is None

    @property
    def grad_fn(self) -> Any:
        """PyTorch's name for :attr:`op`, the node that made this tensor."""
        return self.op

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor; use .item() to read its value")
        return len(self.data)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def item(self) -> int | float | bool:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item: only a one-element tensor has a single value, this one has shape {self.shape}"
            )
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The tensor's data (the same array, not a copy)."""
        return self.data

    def tolist(self) -> Any:
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                f"use (t).all() or (t).any() on .data"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if self.data.size == 0 and self.data.ndim != 1:  # "[]" alone would hide the shape
            extras.append(f"size={self.data.shape}")
        if self.data.dtype not in (_default_dtype, np.dtype(np.int64), np.dtype(np.bool_)):
            extras.append(f"dtype={self.data.dtype}")
        if self.op is not None:
            extras.append(f"op={type(self.op).__name__}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name is not None:
            extras.append(f"name={self.name!r}")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    __hash__ = object.__hash__

    # ---- autodiff ----------------------------------------------------------------

    def backward(self, grad: Any = None, create_graph: bool = False) -> None:
        """Add the gradient of this tensor to the ``.grad`` of every leaf it depends on.

        A scalar needs no ``grad``; any other tensor needs a gradient of exactly its
        shape. With ``create_graph=True`` the gradients are themselves recorded, so they
        can be differentiated again.
        """
        autograd.backward(self, grad, create_graph=create_graph)

    def retain_grad(self) -> None:
        """Keep this computed tensor's gradient in its ``.grad`` at each backward pass.

        Backward hands gradients to the leaves only; the gradients of the results in
        between are dropped as soon as they have been passed on. After ``h.retain_grad()``,
        ``h.grad`` gets the gradient of the loss with respect to ``h`` at every
        :meth:`backward` (and :func:`minigrad.grad`, which walks all of the outputs'
        graph: unlike PyTorch's, it fills it also where ``h`` is not on the way to its
        ``inputs``), added to what is there, as a leaf's is: so you can look at the
        gradient of a hidden layer. A leaf keeps its gradient
        anyway, so this changes nothing for it.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "retain_grad: this tensor does not require grad, so it will have no gradient "
                "to keep; compute it from tensors with requires_grad=True, outside mg.no_grad()"
            )
        if self.op is not None:
            self.op.retains_grad = True

    @property
    def retains_grad(self) -> bool:
        """Whether :meth:`retain_grad` was called on this computed tensor (False for a leaf)."""
        return self.op is not None and self.op.retains_grad

    def detach(self) -> Tensor:
        """A tensor sharing this one's data, cut off from the graph."""
        return Tensor._wrap(self.data)

    def clone(self) -> Tensor:
        """A copy with memory of its own; unlike :meth:`detach`, gradients flow back through it."""
        return ops.clone(self)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (leaves only) and return the tensor."""
        if not requires_grad and self.op is not None:
            raise RuntimeError(
                "requires_grad_: only a leaf can stop requiring grad; use .detach() "
                "to cut a computed tensor off the graph"
            )
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad_: a {self.data.dtype} tensor cannot require gradients")
        self.requires_grad = requires_grad
        return self

    # ---- arithmetic (the op layers do the work) ----------------------------------

    def __add__(self, other: Any) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.div(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return ops.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return ops.floor_divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return ops.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return ops.remainder(other, self)

    def __pow__(self, exponent: Any) -> Tensor:
        return ops.pow(self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return ops.pow(base, self)

    def __matmul__(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __abs__(self) -> Tensor:
        return ops.abs(self)

    def __pos__(self) -> Tensor:
        return self

    # ---- in place: only where no recorded op can have read the numbers (see in_place) ----

    def __iadd__(self, other: Any) -> Tensor:
        return in_place.update(self, other, in_place.add, "+=", can_rebind=True)

    def __isub__(self, other: Any) -> Tensor:
        return in_place.update(self, other, in_place.subtract, "-=", can_rebind=True)

    def __imul__(self, other: Any) -> Tensor:
        return in_place.update(self, other, in_place.multiply, "*=", can_rebind=True)

    def __itruediv__(self, other: Any) -> Tensor:
        return in_place.update(self, other, in_place.divide, "/=", can_rebind=True)

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        """``self += alpha * other``, in place (e.g. ``p.add_(p.grad, alpha=-lr)`` in ``no_grad``)."""
        return in_place.update(self, other, in_place.add, "add_", alpha=alpha)

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        """``self -= alpha * other``, in place."""
        return in_place.update(self, other, in_place.subtract, "sub_", alpha=alpha)

    def mul_(self, other: Any) -> Tensor:
        """``self *= other``, in place."""
        return in_place.update(self, other, in_place.multiply, "mul_")

    def div_(self, other: Any) -> Tensor:
        """``self /= other``, in place."""
        return in_place.update(self, other, in_place.divide, "div_")

    def fill_(self, value: Any) -> Tensor:
        """Set every number to ``value``, in place."""
        return in_place.update(self, value, in_place.assign, "fill_")

    def zero_(self) -> Tensor:
        """Set every number to 0, in place."""
        return in_place.update(self, 0, in_place.assign, "zero_")

    def copy_(self, source: Any) -> Tensor:
        """Copy ``source``'s numbers (broadcast to this shape, converted to this dtype) into this tensor."""
        return in_place.update(self, source, in_place.assign, "copy_")

    # Comparisons give bool tensors that are never part of a graph.
    def __lt__(self, other: Any) -> Tensor:
        return ops.compare(np.less, self, other)

    def __le__(self, other: Any) -> Tensor:
        return ops.compare(np.less_equal, self, other)

    def __gt__(self, other: Any) -> Tensor:
        return ops.compare(np.greater, self, other)

    def __ge__(self, other: Any) -> Tensor:
        return ops.compare(np.greater_equal, self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.compare(np.equal, self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops.compare(np.not_equal, self, other)

    def pow(self, exponent: Any) -> Tensor:
        return ops.pow(self, exponent)

    def neg(self) -> Tensor:
        return ops.neg(self)

    def matmul(self, other: Any) -> Tensor:
        return ops.matmul(self, other)

    def where(self, condition: Any, other: Any) -> Tensor:
        """This tensor where ``condition`` holds, ``other`` elsewhere: ``mg.where(condition, self, other)``."""
        return ops.where(condition, self, other)

    def gather(self, axis: int, index: Any) -> Tensor:
        return composite.gather(self, axis, index)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """This tensor with ``value`` where ``mask`` is True; see :func:`minigrad.masked_fill`."""
        return composite.masked_fill(self, mask, value)

    def isclose(
        self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
    ) -> Tensor:
        return ops.isclose(self, other, rtol, atol, equal_nan)

    def outer(self, other: Any) -> Tensor:
        return composite.outer(self, other)

    def bmm(self, other: Any) -> Tensor:
        return composite.bmm(self, other)

    # ---- elementwise functions ---------------------------------------------------

    def exp(self) -> Tensor:
        return ops.exp(self)

    def log(self) -> Tensor:
        return ops.log(self)

    def sqrt(self) -> Tensor:
        return ops.sqrt(self)

    def tanh(self) -> Tensor:
        return ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return ops.sigmoid(self)

    def relu(self) -> Tensor:
        return ops.relu(self)

    def abs(self) -> Tensor:
        return ops.abs(self)

    def log1p(self) -> Tensor:
        return ops.log1p(self)

    def expm1(self) -> Tensor:
        return ops.expm1(self)

    def sin(self) -> Tensor:
        return ops.sin(self)

    def cos(self) -> Tensor:
        return ops.cos(self)

    def erf(self) -> Tensor:
        return ops.erf(self)

    def square(self) -> Tensor:
        return composite.square(self)

    def rsqrt(self) -> Tensor:
        return composite.rsqrt(self)

    def sign(self) -> Tensor:
        """-1, 0 or 1 by the sign of each value (see :func:`minigrad.sign`); never recorded."""
        return ops.sign(self)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:
        """This tensor limited to [min, max], elementwise (see :func:`minigrad.clip`)."""
        return composite.clip(self, min, max)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        """PyTorch's name for :meth:`clip`."""
        return composite.clip(self, min, max)

    def softmax(self, axis: int = -1) -> Tensor:
        return composite.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return composite.log_softmax(self, axis)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return composite.logsumexp(self, axis, keepdims)

    # ---- reductions ----------------------------------------------------------------

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return ops.sum(self, axis, keepdims)

    def prod(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return ops.prod(self, axis, keepdims)

    def cumsum(self, axis: int | None = None) -> Tensor:
        """Running sums along ``axis``; None runs along the flattened tensor, as in numpy."""
        return ops.cumsum(self, axis)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return ops.max(self, axis, keepdims)

    def amax(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return ops.amax(self, axis, keepdims)

    def amin(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return composite.amin(self, axis, keepdims)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return ops.argmax(self, axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return ops.argmin(self, axis, keepdims)

    def sort(self, axis: int = -1, descending: bool = False, stable: bool = False) -> Any:
        """``(values, indices)`` of this tensor in order along ``axis``; see :func:`minigrad.sort`."""
        return arrange.sort(self, axis, descending, stable)

    def argsort(self, axis: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        return arrange.argsort(self, axis, descending, stable)

    def topk(self, k: int, axis: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        """``(values, indices)`` of the k largest values along ``axis``; see :func:`minigrad.topk`."""
        return arrange.topk(self, k, axis, largest, sorted)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return composite.min(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return composite.mean(self, axis, keepdims)

    def var(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        return composite.var(self, axis, keepdims, ddof)

    def std(self, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        return composite.std(self, axis, keepdims, ddof)

    def norm(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return composite.norm(self, axis, keepdims)

    def all(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Whether every value is nonzero (over ``axis``); a boolean tensor, never recorded."""
        return ops.all(self, axis, keepdims)

    def any(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Whether some value is nonzero (over ``axis``); a boolean tensor, never recorded."""
        return ops.any(self, axis, keepdims)

    def count_nonzero(self, axis: Any = None) -> Tensor:
        """How many values are nonzero (over ``axis``); an int64 tensor, never recorded."""
        return ops.count_nonzero(self, axis)

    # ---- shape -----------------------------------------------------------------------

    def astype(self, dtype: Any) -> Tensor:
        """This tensor converted to ``dtype`` (numpy's name; gradients flow back)."""
        return ops.astype(self, dtype)

    def float(self) -> Tensor:
        """This tensor as float32 (itself if it is float32 already), as in PyTorch."""
        return ops.astype(self, np.float32)

    def double(self) -> Tensor:
        """This tensor as float64 (itself if it is float64 already), as in PyTorch."""
        return ops.astype(self, np.float64)

    def reshape(self, *shape: Any) -> Tensor:
        return ops.reshape(self, *shape)

    def view(self, *shape: Any) -> Tensor:
        """PyTorch's name for :meth:`reshape`: ``x.view(-1, 784)``.

        Like numpy's reshape, it gives a view of the same memory where it can and a copy
        where it cannot (PyTorch's view would raise there instead).
        """
        return ops.reshape(self, *shape)

    def transpose(self, *axes: Any) -> Tensor:
        return ops.transpose(self, *axes)

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        return ops.swapaxes(self, axis0, axis1)

    def permute(self, *axes: Any) -> Tensor:
        """PyTorch's name for :meth:`transpose` with axes: ``t.permute(2, 0, 1)``."""
        return ops.transpose(self, *axes)

    @property
    def T(self) -> Tensor:
        return ops.transpose(self)

    def squeeze(self, axis: Any = None) -> Tensor:
        return ops.squeeze(self, axis)

    def unsqueeze(self, axis: Any) -> Tensor:
        return ops.unsqueeze(self, axis)

    def broadcast_to(self, shape: Iterable[int]) -> Tensor:
        return ops.broadcast_to(self, shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return arrange.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes: Any) -> Tensor:
        """Axis ``dim`` split into axes of lengths ``sizes`` (one may be -1); see :func:`minigrad.unflatten`."""
        return arrange.unflatten(self, dim, sizes)

    def roll(self, shifts: Any, axis: Any = None) -> Tensor:
        return arrange.roll(self, shifts, axis)

    def tril(self, diagonal: int = 0) -> Tensor:
        return arrange.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        return arrange.triu(self, diagonal)

    def diag(self, diagonal: int = 0) -> Tensor:
        return arrange.diag(self, diagonal)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        return arrange.diagonal(self, offset, axis1, axis2)

    def expand(self, *sizes: Any) -> Tensor:
        """This tensor repeated to ``sizes``, as PyTorch's expand: -1 keeps an axis's length."""
        return composite.expand(self, *sizes)

    def flip(self, axis: Any = None) -> Tensor:
        return composite.flip(self, axis)

    def split(self, split_size_or_sections: Any, axis: int = 0) -> tuple[Tensor, ...]:
        return composite.split(self, split_size_or_sections, axis)

    def chunk(self, chunks: int, axis: int = 0) -> tuple[Tensor, ...]:
        return composite.chunk(self, chunks, axis)

    def tile(self, *reps: Any) -> Tensor:
        """This tensor repeated along each axis (ints or one tuple); see :func:`minigrad.tile`."""
        return arrange.tile(self, reps[0] if len(reps) == 1 else reps)

    def repeat(self, *sizes: Any) -> Tensor:
        """PyTorch's repeat: :meth:`tile` with one size per axis (new axes in front)."""
        return arrange.repeat(self, *sizes)

    def repeat_interleave(self, repeats: Any, axis: int | None = None) -> Tensor:
        return arrange.repeat_interleave(self, repeats, axis)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.getitem(self, index)


class _FreedTensor(Tensor):
    """A result that was dropped, and whose numbers no backward rule needed: so they were freed.

    The graph still knows the op that made it, and its shape and dtype, which is what a
    walk over ``op.inputs`` or a drawing needs. Reading its numbers is an error that
    says why they are gone.
    """

    __slots__ = ()

    def __init__(self, op: Any) -> None:
        self.requires_grad = True
        self.grad = None
        self.op = op
        self.name = None

    @property
    def data(self) -> np.ndarray:
        raise RuntimeError(
            f"the values of this {self.op.name} result {self.shape} were freed: no backward "
            f"rule reads them, and no variable referred to the tensor any more. Keep a "
            f"reference to the tensor (assign it to a name) to look at its values"
        )

    @data.setter
    def data(self, value: Any) -> None:
        raise RuntimeError(f"cannot set the values of a freed {self.op.name} result; it is no longer in use")

    @property
    def shape(self) -> tuple[int, ...]:
        return self.op.out_shape

    @property
    def ndim(self) -> int:
        return len(self.op.out_shape)

    @property
    def dtype(self) -> np.dtype:
        return self.op.out_dtype

    @property
    def size(self) -> int:
        return int(np.prod(self.op.out_shape))

    def __repr__(self) -> str:
        return f"tensor(<freed>, shape={self.shape}, dtype={self.dtype}, op={type(self.op).__name__})"


from minigrad import arrange, autograd, composite, in_place, ops  # noqa: E402
