"""Your own differentiable operation, written as PyTorch's ``torch.autograd.Function``.

A subclass gives a ``forward`` and the ``backward`` rule that goes with it, both as
static methods taking a context ``ctx`` first; ``MyOp.apply(x, ...)`` runs it and,
when an input requires grad, records it as one node of the graph, drawn under the
subclass's name::

    class Cube(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x**2  # d/dx x**3 = 3 x**2

``forward`` runs without recording, on the tensors (and any other arguments) given
to ``apply``, and returns one tensor. ``backward`` gets the gradient of the loss with
respect to that result and returns one gradient per argument of ``forward``: a
tensor of the argument's shape, or None (for an argument that is not a tensor, or
that needs none; ``ctx.needs_input_grad`` says which do). It runs on Tensors: with
``create_graph=True`` its operations are recorded, so a ``backward`` written with
minigrad's operations can be differentiated again; otherwise nothing is recorded.

This is how every primitive in :mod:`minigrad.primitives` is made, with one
difference: a primitive's rule says which numbers it reads, so the graph keeps only
those; a Function keeps whatever ``ctx`` holds. Backward refuses to run a rule whose
``ctx.saved_tensors`` were changed in place after the forward (``add_``, an optimizer's
step), as it does for a primitive's inputs and as PyTorch does; other attributes of
``ctx`` are not checked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.engine import Op, no_grad
from minigrad.tensor import Tensor


class FunctionContext:
    """What ``forward`` leaves for ``backward``: saved tensors, and any attribute you set."""

    def __init__(self, needs_input_grad: tuple[bool, ...]) -> None:
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple[Tensor, ...] = ()

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep ``tensors`` for ``backward``, which finds them in ``ctx.saved_tensors``."""
        self.saved_tensors = tensors


class Function:
    """Base class of a differentiable operation written by hand (see the module docstring)."""

    @staticmethod
    def forward(ctx: FunctionContext, *args: Any, **kwargs: Any) -> Tensor:
        raise NotImplementedError("a Function subclass defines forward(ctx, ...) as a @staticmethod")

    @staticmethod
    def backward(ctx: FunctionContext, grad: Tensor) -> Any:
        raise NotImplementedError("a Function subclass defines backward(ctx, grad) as a @staticmethod")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Each Function gets an Op of its own, so that a drawing names the node after it.
        cls._op = type(cls.__name__, (_FunctionOp,), {"__module__": cls.__module__, "function": cls})
        cls._op.name = cls.__name__

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        """``forward`` on ``args``, recorded with ``backward`` as its rule when an input requires grad."""
        needs_input_grad = tuple(isinstance(arg, Tensor) and arg.requires_grad for arg in args)
        ctx = FunctionContext(needs_input_grad)
        with no_grad():
            result = cls.forward(ctx, *args, **kwargs)
        if not isinstance(result, Tensor):
            raise TypeError(
                f"{cls.__name__}.forward returned a {type(result).__name__}; it must return one Tensor "
                f"(a Function has one result here)"
            )
        positions = [position for position, arg in enumerate(args) if isinstance(arg, Tensor)]
        tensors = [args[position] for position in positions]
        if not tensors:
            return result
        return cls._op.apply(*tensors, result=result.data, ctx=ctx, positions=positions, arguments=len(args))


class _FunctionOp(Op):
    """The node of one ``Function.apply``: its result, computed already, and the Function's rule."""

    function: type[Function]

    def forward(
        self,
        *arrays: np.ndarray,
        result: np.ndarray,
        ctx: FunctionContext,
        positions: list[int],
        arguments: int,
    ) -> np.ndarray:
        self.ctx, self.positions, self.arguments = ctx, positions, arguments
        # As at forward: a leaf's .data may be replaced before backward.
        self.input_shapes = [array.shape for array in arrays]
        self.input_dtypes = [array.dtype for array in arrays]
        return result

    def extra_reads(self) -> list[tuple[np.ndarray, str]]:
        """What ``save_for_backward`` kept, which backward checks for changes in place, as PyTorch does."""
        return [
            (saved.data, f"saved tensor {position} (ctx.saved_tensors), of shape {saved.shape},")
            for position, saved in enumerate(self.ctx.saved_tensors)
            if isinstance(saved, Tensor)
        ]

    def backward(self, grad, out, *inputs):
        name = self.function.__name__
        recorded = isinstance(grad, Tensor)  # with create_graph=True the rule's ops are recorded
        given = self.function.backward(self.ctx, grad if recorded else Tensor._wrap(grad))
        given = given if isinstance(given, tuple) else (given,)
        if len(given) != self.arguments:
            raise RuntimeError(
                f"{name}.backward returned {len(given)} gradient(s), but forward took {self.arguments} "
                f"argument(s); return one per argument, None where there is none"
            )
        input_grads = []
        for position, shape, dtype, needed in zip(
            self.positions, self.input_shapes, self.input_dtypes, self.needs_input_grad
        ):
            input_grad = given[position]
            if input_grad is None or not needed:
                input_grads.append(None)
                continue
            if not isinstance(input_grad, Tensor):
                input_grad = Tensor._wrap(np.asarray(input_grad, dtype=dtype))
            if input_grad.shape != shape:
                raise RuntimeError(
                    f"{name}.backward returned a gradient of shape {input_grad.shape} for argument "
                    f"{position}, of shape {shape}; each gradient has its argument's shape"
                )
            input_grads.append(input_grad if recorded else input_grad.data)
        return tuple(input_grads)
