"""Gradient clipping, run between ``loss.backward()`` and ``optimizer.step()``."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from minigrad.tensor import Tensor


def _gradients(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    """The ``.grad`` of each parameter that has one (a single tensor may be given as it is)."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [parameter.grad for parameter in parameters if parameter.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale the gradients down, in place, so that their total norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of all the gradients together, as if they
    were one vector (``"inf"``: the largest absolute value). Where it is above
    ``max_norm``, every gradient is multiplied by ``max_norm / (total + 1e-6)``, as in
    PyTorch, so their directions are kept. Returns the total norm from before clipping;
    a nan or inf one is an error if ``error_if_nonfinite``.
    """
    gradients = _gradients(parameters)
    order = math.inf if norm_type in ("inf", math.inf) else float(norm_type)
    if not gradients:
        return Tensor._wrap(np.zeros((), dtype=np.float32))
    norms = [np.linalg.norm(gradient.data.ravel(), order) for gradient in gradients]
    total = np.linalg.norm(np.asarray(norms, dtype=gradients[0].data.dtype), order)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}, "
            f"so they cannot be scaled to max_norm={max_norm}; pass error_if_nonfinite=False to scale them anyway"
        )
    scale = min(max_norm / (total + 1e-6), 1.0)
    for gradient in gradients:
        gradient.data *= gradient.data.dtype.type(scale)
    return Tensor._wrap(np.asarray(total))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clip every gradient, in place, to ``[-clip_value, clip_value]``, value by value."""
    for gradient in _gradients(parameters):
        np.clip(gradient.data, -clip_value, clip_value, out=gradient.data)
