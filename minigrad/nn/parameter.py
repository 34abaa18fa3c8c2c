"""Parameter: a tensor that a module learns."""

from __future__ import annotations

from typing import Any

from minigrad.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a learnable weight of a module; it requires grad by default.

    Modules find their parameters by type, and name them by their path in the
    module tree (``0.weight``), which graph drawings show.
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, name: str | None = None) -> None:
        super().__init__(data, requires_grad=requires_grad, name=name)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
