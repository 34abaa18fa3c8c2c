"""minigrad: a small, readable, numpy-backed reverse-mode autodiff framework.

Batch norm and the other composites are built from a handful of primitive ops, so
their gradients come from the chain rule, and :mod:`minigrad.viz` can draw them.
"""

# nn and optim too, so that `import minigrad as mg` gives mg.nn and mg.optim, as
# `import torch` gives torch.nn and torch.optim.
from minigrad import nn, ops, optim
from minigrad.composite import clip, log_softmax, mean, min, minimum, softmax, stack, std, var
from minigrad.engine import enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigrad.ops import (
    abs,
    broadcast_to,
    clone,
    concatenate,
    exp,
    log,
    matmul,
    max,
    maximum,
    relu,
    reshape,
    sigmoid,
    sqrt,
    squeeze,
    sum,
    tanh,
    transpose,
    unsqueeze,
    where,
)
from minigrad.random import manual_seed
from minigrad.serialization import load, save
from minigrad.tensor import (
    Tensor,
    arange,
    eye,
    full,
    get_default_dtype,
    ones,
    ones_like,
    rand,
    randn,
    set_default_dtype,
    tensor,
    zeros,
    zeros_like,
)

__version__ = "0.1.0"

__all__ = [
    "GradcheckError",
    "Tensor",
    "abs",
    "arange",
    "broadcast_to",
    "clip",
    "clone",
    "concatenate",
    "enable_grad",
    "exp",
    "eye",
    "full",
    "get_default_dtype",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "load",
    "log",
    "log_softmax",
    "manual_seed",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "ops",
    "optim",
    "rand",
    "randn",
    "relu",
    "reshape",
    "save",
    "set_default_dtype",
    "set_grad_enabled",
    "sigmoid",
    "softmax",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sum",
    "tanh",
    "tensor",
    "transpose",
    "unsqueeze",
    "var",
    "where",
    "zeros",
    "zeros_like",
]
