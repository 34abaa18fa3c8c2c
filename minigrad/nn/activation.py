"""Activation layers: each applies one function of :mod:`minigrad.nn.functional` elementwise
(softmax and log_softmax along an axis); none has parameters.

``inplace=True``, where PyTorch has it, is accepted and shown in the repr, but the
result is always a new tensor: see :mod:`minigrad.nn.functional.activations`.
"""

from __future__ import annotations

from minigrad import ops
from minigrad.nn import functional as F
from minigrad.nn.functional.activations import _check_inplace
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


class ReLU(Module):
    """max(x, 0), elementwise.

    ``inplace=True`` is shown in the repr, as in PyTorch, but the result is still a
    new tensor and the input keeps its values: see :mod:`minigrad.nn.functional.activations`.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _check_inplace(inplace, "ReLU")

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.tanh(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return ops.sigmoid(x)


class LeakyReLU(Module):
    """``x`` where x > 0, else ``negative_slope * x``, elementwise.

    ``inplace=True`` computes a new tensor all the same, as :class:`ReLU` explains.
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = _check_inplace(inplace, "LeakyReLU")

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """``x`` where x > 0, else ``alpha * (exp(x) - 1)``, elementwise.

    ``inplace=True`` computes a new tensor all the same, as :class:`ReLU` explains.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = _check_inplace(inplace, "ELU")

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SiLU(Module):
    """``x * sigmoid(x)``, elementwise (also called swish).

    ``inplace=True`` computes a new tensor all the same, as :class:`ReLU` explains.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _check_inplace(inplace, "SiLU")

    def forward(self, x: Tensor) -> Tensor:
        return F.silu(x, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, elementwise; ``x`` where ``beta * x > threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class GELU(Module):
    """``x * Phi(x)``, Phi the standard normal CDF (``approximate="tanh"``: its tanh approximation)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """softmax along ``axis`` (PyTorch's ``dim``)."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Softmax):
    """log(softmax) along ``axis``, computed stably."""

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.axis)


class Hardtanh(Module):
    """x clipped to [min_val, max_val], elementwise; the slope is 0 at the bounds, as in PyTorch.

    ``inplace=True`` computes a new tensor all the same, as :class:`ReLU` explains.
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        if not max_val > min_val:
            raise ValueError(f"{name}: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val, self.max_val = min_val, max_val
        self.inplace = _check_inplace(inplace, name)

    def forward(self, x: Tensor) -> Tensor:
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``, elementwise: :class:`Hardtanh` between 0 and 6, as in PyTorch.

    ``inplace=True`` computes a new tensor all the same, as :class:`ReLU` explains.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu6(x, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardsigmoid(Module):
    """``relu6(x + 3) / 6``, elementwise: a piecewise-linear sigmoid.

    ``inplace=True`` computes a new tensor all the same, as :class:`ReLU` explains;
    the repr does not show it, as PyTorch's does not.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _check_inplace(inplace, "Hardsigmoid")

    def forward(self, x: Tensor) -> Tensor:
        return F.hardsigmoid(x, self.inplace)


class Hardswish(Module):
    """``x * relu6(x + 3) / 6``, elementwise.

    ``inplace=True`` computes a new tensor all the same, as :class:`ReLU` explains;
    the repr does not show it, as PyTorch's does not.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _check_inplace(inplace, "Hardswish")

    def forward(self, x: Tensor) -> Tensor:
        return F.hardswish(x, self.inplace)


class Mish(Module):
    """``x * tanh(softplus(x))``, elementwise.

    ``inplace=True`` computes a new tensor all the same, as :class:`ReLU` explains.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = _check_inplace(inplace, "Mish")

    def forward(self, x: Tensor) -> Tensor:
        return F.mish(x, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LogSigmoid(Module):
    """``log(sigmoid(x))``, elementwise, computed so that it cannot overflow."""

    def forward(self, x: Tensor) -> Tensor:
        return F.logsigmoid(x)


class Softsign(Module):
    """``x / (1 + |x|)``, elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softsign(x)


class Tanhshrink(Module):
    """``x - tanh(x)``, elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanhshrink(x)
