"""Layers with no normalization: Linear, Embedding, activations, distances, Dropout, Dropout2d,
Flatten, Unflatten, Identity."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.creation import zeros
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.functional.activations import _check_inplace
from minigrad.nn.functional.distance import _check_p
from minigrad.nn.functional.layers import _check_dense, _check_max_norm, _check_norm_type, _padding_row
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor


class Linear(Module):
    """``y = x @ weight.T + bias``, with weight of shape (out_features, in_features).

    Initialized as in PyTorch: weight and bias uniform on [-1/sqrt(in), 1/sqrt(in)].
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: object = None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(zeros(out_features, in_features, dtype=dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if bias:
            self.bias = Parameter(zeros(out_features, dtype=dtype))
            bound = 1 / math.sqrt(in_features) if in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1:] != (self.in_features,):
            raise ValueError(
                f"Linear: expected inputs with {self.in_features} features in the last axis, "
                f"got shape {x.shape}"
            )
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``; index i picks row i.

    ``weight`` has shape (num_embeddings, embedding_dim) and starts as N(0, 1) samples,
    as in PyTorch. The row ``padding_idx``, if given, starts at zeros and gets no
    gradient, so it stays zeros while the model learns (a vector for "no token").
    With ``max_norm``, each row a forward pass looks up is first scaled down, in
    ``weight`` itself, to a ``norm_type``-norm of at most ``max_norm`` (see
    :func:`minigrad.nn.functional.embedding`). With ``scale_grad_by_freq``, a row's
    gradient is divided by how often a batch picks it. ``sparse`` must stay False:
    minigrad has no sparse gradients.

    ``_weight`` and ``_freeze`` are what :meth:`from_pretrained` passes (PyTorch's
    spelling): a table to copy instead of random samples (it keeps its own dtype and
    its padding row), and whether it gets no gradient.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        *,
        dtype: object = None,
        _weight: Any = None,
        _freeze: bool = False,
    ) -> None:
        super().__init__()
        if padding_idx is not None:
            padding_idx = _padding_row(padding_idx, num_embeddings, "Embedding")
        if max_norm is not None:
            _check_max_norm(max_norm, "Embedding")
        _check_norm_type(norm_type, "Embedding")
        _check_dense(sparse, "Embedding")
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(
                zeros(num_embeddings, embedding_dim, dtype=dtype), requires_grad=not _freeze
            )
            init.normal_(self.weight)
            if padding_idx is not None:
                self.weight.data[padding_idx] = 0
        else:
            self.weight = Parameter(_weight, requires_grad=not _freeze)  # a copy
            if self.weight.shape != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight must have shape ({num_embeddings}, {embedding_dim}), "
                    f"got {self.weight.shape}"
                )

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Any,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:
        """An Embedding whose weight is a copy of the 2-D ``embeddings`` (a Tensor, array or list).

        ``freeze=True`` (the default) makes the weight a Parameter that does not
        require grad, so training leaves it alone. As in PyTorch, the row
        ``padding_idx`` keeps the value it has in ``embeddings`` (it is not zeroed)
        and gets no gradient. PyTorch's weight shares memory with ``embeddings``;
        minigrad's is a copy, so training one model does not change another's table.
        """
        shape = np.shape(embeddings)
        if len(shape) != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-D, (num_embeddings, embedding_dim), "
                f"got shape {shape}"
            )
        dtype = np.asarray(embeddings).dtype
        if not freeze and dtype.kind != "f":
            raise TypeError(
                f"Embedding.from_pretrained: embeddings of {dtype} cannot be "
                f"trained (freeze=False): only floating-point tensors have gradients; convert them "
                f"with .astype(np.float32)"
            )
        return cls(
            *shape,
            padding_idx,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            sparse=sparse,
            _weight=embeddings,
            _freeze=freeze,
        )

    def forward(self, input: Any) -> Tensor:
        return F.embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )

    def extra_repr(self) -> str:
        options = [f"{self.num_embeddings}, {self.embedding_dim}"]
        if self.padding_idx is not None:
            options.append(f"padding_idx={self.padding_idx}")
        if self.max_norm is not None:
            options.append(f"max_norm={self.max_norm}")
        if self.norm_type != 2:
            options.append(f"norm_type={self.norm_type}")
        if self.scale_grad_by_freq:
            options.append(f"scale_grad_by_freq={self.scale_grad_by_freq}")
        return ", ".join(options)


class Identity(Module):
    """Returns its input unchanged; any arguments are ignored, as in PyTorch (a placeholder)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x


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


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p).

    ``inplace=True`` computes a new tensor all the same, as :class:`ReLU` explains;
    the repr shows ``inplace`` either way, as PyTorch's does.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        if not 0 <= p <= 1:
            raise ValueError(f"{name}: p must be between 0 and 1, got {p}")
        self.p = p
        self.inplace = _check_inplace(inplace, name)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """In training, zero each whole channel with probability p and scale the rest by 1/(1-p).

    For (N, C, H, W) images or one (C, H, W) image (see :func:`F.dropout2d`): each
    channel's H x W map is kept or zeroed as a whole. ``inplace`` as in :class:`Dropout`.
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout2d(x, self.p, self.training, self.inplace)


class Flatten(Module):
    """Merge the axes from ``start_dim`` (1: keep the batch axis) to ``end_dim`` into one."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into axes of ``unflattened_size``: undoes :class:`Flatten`.

    Its arguments keep PyTorch's names, as :class:`Flatten`'s do.

    ``nn.Unflatten(1, (C, H, W))`` turns (N, C * H * W) into (N, C, H, W). One size may
    be -1, for the length that makes the sizes multiply to the axis's length (see
    :func:`minigrad.unflatten`).
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(
                f"Unflatten: unflattened_size must be a tuple of lengths, e.g. nn.Unflatten(1, (16, 5, 5)), "
                f"got {unflattened_size!r}"
            )
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        return x.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


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


class CosineSimilarity(Module):
    """The cosine of the angle between the vectors of x1 and x2 along ``axis`` (PyTorch's ``dim``).

    See :func:`minigrad.nn.functional.distance.cosine_similarity`. The repr shows the
    options that differ from the defaults, so the default one is PyTorch's.
    """

    def __init__(self, axis: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"CosineSimilarity: axis must be an int, got {axis!r}")
        self.axis, self.eps = axis, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.axis, self.eps)

    def extra_repr(self) -> str:
        options = [f"axis={self.axis}"] if self.axis != 1 else []
        if self.eps != 1e-8:
            options.append(f"eps={self.eps}")
        return ", ".join(options)


class PairwiseDistance(Module):
    """The p-norm distance ``||x1 - x2 + eps||_p`` between the vectors along the last axis.

    See :func:`minigrad.nn.functional.distance.pairwise_distance`. The repr shows the
    options that differ from the defaults, so the default one is PyTorch's.
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        _check_p(p, "PairwiseDistance")
        self.p, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.p, self.eps, self.keepdim)

    def extra_repr(self) -> str:
        options = [f"p={self.p}"] if self.p != 2 else []
        if self.eps != 1e-6:
            options.append(f"eps={self.eps}")
        if self.keepdim:
            options.append("keepdim=True")
        return ", ".join(options)
