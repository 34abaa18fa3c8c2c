"""Layers with no normalization and no convolution: Linear, Embedding, Dropout, Dropout2d,
Flatten, Unflatten, Identity. Activations are in :mod:`minigrad.nn.activation`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.creation import zeros
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.functional.activations import _check_inplace
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
