"""Changing a tensor's numbers in place: ``p -= lr * p.grad``, ``p.add_(g, alpha=-lr)``, ``w.zero_()``.

A backward rule reads its op's inputs' numbers when backward runs, so a change made
after the op was recorded would give a gradient of numbers the forward never used.
Every change here is noted (:func:`minigrad.engine.mark_changed`), and backward
refuses to run a rule that would read changed numbers, as PyTorch does; so change
parameters between a backward and the next forward, as the optimizers do. (Changing
``t.data`` itself goes unnoticed, as in PyTorch.) Which tensors change in place:

- a **leaf that requires grad** (a parameter) only outside recording, inside
  ``with mg.no_grad():``, which is how parameters are updated by hand; while
  recording it is an error, as in PyTorch;
- a **computed result** never: a recorded rule may read its numbers. ``x += y`` on
  one computes ``x + y`` as a new recorded tensor and binds the name to it, as
  ``x = x + y`` would (PyTorch records an in-place op to the same effect); the
  methods (``add_`` ...), which cannot rebind a name, raise;
- a **tensor that requires no grad** in place, except that ``total += term`` where
  ``term`` requires grad (recording) computes ``total + term`` as a new tensor, so
  the gradient reaches ``term`` (in PyTorch ``total`` would start requiring grad).

The value is computed with numpy in the tensor's own dtype, as PyTorch does: a
float32 parameter stays float32, and an integer tensor cannot take a float.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import engine
from minigrad.tensor import Tensor


def update(
    tensor: Tensor,
    other: Any,
    write: Callable[[np.ndarray, Any], None],
    name: str,
    can_rebind: bool = False,
    alpha: float = 1,
) -> Any:
    """``write(tensor.data, alpha * numbers of other)`` in ``tensor``'s own memory, where that is safe (see above).

    ``can_rebind`` is True for the operators (``+=`` ...): where the change cannot be
    made in place they return ``NotImplemented``, and Python then computes
    ``tensor + other`` as a new tensor. The methods (``add_`` ...) raise there instead.
    """
    recording = engine.is_grad_enabled()
    if recording and tensor.requires_grad and tensor.op is None:
        raise RuntimeError(
            f"{name}: this leaf tensor of shape {tensor.shape} requires grad, so changing it in place "
            f"while operations are recorded is not allowed (as in PyTorch). To update a parameter "
            f"by hand, do it inside `with mg.no_grad():`"
        )
    other_records = recording and isinstance(other, Tensor) and other.requires_grad
    if tensor.op is not None or other_records:
        if can_rebind:
            return NotImplemented
        made = "a computed result" if tensor.op is not None else "a tensor from one that requires grad"
        raise RuntimeError(
            f"{name}: cannot change {made} in place (shape {tensor.shape}): backward would not see the "
            f"change. Write it as a new tensor, e.g. `x = x + y`"
        )
    values = other.data if isinstance(other, Tensor) else other
    if alpha != 1:
        values = np.multiply(values, alpha)
    try:
        write(tensor.data, values)
    except (TypeError, ValueError) as error:  # a float into integers, or a shape that does not fit
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(
            f"{name}: cannot change a {tensor.dtype} tensor of shape {tensor.shape} in place with "
            f"{_describe(values)}: {error}"
        ) from None
    engine.mark_changed(tensor)
    return tensor


def _describe(values: Any) -> str:
    array = np.asarray(values)
    return f"a {array.dtype} value of shape {array.shape}" if array.ndim else f"{values!r}"


def _by(ufunc: np.ufunc) -> Callable[[np.ndarray, Any], None]:
    """A ``write`` that applies ``ufunc`` in place, keeping the tensor's dtype (no float into integers)."""

    def write(data: np.ndarray, values: Any) -> None:
        ufunc(data, values, out=data, casting="same_kind")

    return write


add, subtract, multiply, divide = (_by(ufunc) for ufunc in (np.add, np.subtract, np.multiply, np.true_divide))


def assign(data: np.ndarray, values: Any) -> None:
    """A ``write`` that copies ``values`` over the numbers, converting them as PyTorch's ``copy_`` does."""
    np.copyto(data, values, casting="unsafe")
