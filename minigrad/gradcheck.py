"""Check backward against finite differences: the test every op in minigrad passes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad import autograd, engine
from minigrad.tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` when backward and finite differences disagree."""


def _float64_copies(inputs: Sequence[Any]) -> list[Any]:
    return [
        Tensor(value.data.astype(np.float64), requires_grad=value.requires_grad)
        if isinstance(value, Tensor) and value.dtype.kind == "f"
        else value
        for value in inputs
    ]


def _output_of(fn: Callable, inputs: Sequence[Any]) -> Tensor:
    output = fn(*inputs)
    if not isinstance(output, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, it returned {type(output).__name__}")
    return output


def _analytic_jacobians(output: Tensor, checked: list[Tensor]) -> list[np.ndarray]:
    """d output / d input for each checked input, as (output.size, input.size) arrays."""
    jacobians = [np.zeros((output.size, tensor.size)) for tensor in checked]
    if not output.requires_grad:
        return jacobians  # the output does not depend on the inputs at all
    for row in range(output.size):
        one_hot = np.zeros(output.size)
        one_hot[row] = 1.0
        grads = autograd.grad(output, checked, grad_outputs=one_hot.reshape(output.shape), allow_unused=True)
        for jacobian, grad in zip(jacobians, grads):
            if grad is not None:
                jacobian[row] = grad.data.ravel()
    return jacobians


def _numeric_jacobian(fn: Callable, inputs: list[Any], tensor: Tensor, eps: float) -> np.ndarray:
    """d output / d tensor by central differences: (f(x + eps) - f(x - eps)) / (2 eps)."""
    columns = []
    flat = tensor.data.reshape(-1)  # a view: writing to it perturbs the input
    with engine.no_grad():
        for position in range(flat.size):
            original = flat[position]
            flat[position] = original + eps
            above = _output_of(fn, inputs).data.astype(np.float64).ravel()
            flat[position] = original - eps
            below = _output_of(fn, inputs).data.astype(np.float64).ravel()
            flat[position] = original
            columns.append((above - below) / (2 * eps))
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0))


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Tensor | Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare the gradients backward computes with central finite differences.

    ``fn(*inputs)`` must return a Tensor of any shape. Every floating-point input that
    requires grad is checked, element by element, on a float64 copy, so the
    comparison is not lost in float32 rounding. An entry passes when
    ``|analytic - numeric| <= atol + rtol * |numeric|``.

    Returns True, or raises :class:`GradcheckError` describing the worst mismatch:
    which input, which element, and both values.
    """
    inputs = _float64_copies([inputs] if isinstance(inputs, Tensor) else list(inputs))
    # By position among fn's arguments, which is how the error names an input.
    checked = {
        number: value
        for number, value in enumerate(inputs)
        if isinstance(value, Tensor) and value.requires_grad
    }
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    output = _output_of(fn, inputs)
    analytic = _analytic_jacobians(output, list(checked.values()))
    for (number, tensor), analytic_jacobian in zip(checked.items(), analytic):
        numeric = _numeric_jacobian(fn, inputs, tensor, eps).reshape(analytic_jacobian.shape)
        error = np.abs(analytic_jacobian - numeric)
        allowed = atol + rtol * np.abs(numeric)
        bad = ~(error <= allowed)  # catches nan too
        if bad.any():
            worst = np.unravel_index(np.argmax(np.where(bad, error - allowed, -np.inf)), error.shape)
            out_index = [int(i) for i in np.unravel_index(worst[0], output.shape)]
            in_index = [int(i) for i in np.unravel_index(worst[1], tensor.shape)]
            raise GradcheckError(
                f"gradcheck: the gradient of input {number} (shape {tensor.shape}) disagrees "
                f"with finite differences in {bad.sum()} of {bad.size} entries. The worst: "
                f"d output{out_index} / d input{in_index} is "
                f"{analytic_jacobian[worst]:.6g} by backward but {numeric[worst]:.6g} by "
                f"central differences (eps={eps}); the difference {error[worst]:.3g} is over "
                f"the allowed {allowed[worst]:.3g} (atol + rtol * |numeric|)."
            )
    return True


def gradgradcheck(
    fn: Callable[..., Tensor],
    inputs: Tensor | Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check second derivatives: :func:`gradcheck` of the gradient of ``fn``.

    The gradient is taken with ``create_graph=True`` against a fixed random weighting
    of ``fn``'s output, so this checks Hessian-vector products of every input pair.
    """
    inputs = _float64_copies([inputs] if isinstance(inputs, Tensor) else list(inputs))
    output_shape = _output_of(fn, inputs).shape
    weights = np.random.default_rng(seed).standard_normal(output_shape)

    def gradient_of_fn(*values: Any) -> Tensor:
        wrt = [value for value in values if isinstance(value, Tensor) and value.requires_grad]
        with engine.enable_grad():  # gradcheck's finite differences run under no_grad
            output = _output_of(fn, values)
            grads = autograd.grad(output, wrt, grad_outputs=weights, create_graph=True, allow_unused=True)
        flat = [(g if g is not None else Tensor(np.zeros(t.shape))).reshape(-1) for g, t in zip(grads, wrt)]
        return ops.concatenate(flat)

    return gradcheck(gradient_of_fn, inputs, eps, atol, rtol)


from minigrad import ops  # noqa: E402
