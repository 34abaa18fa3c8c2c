"""The functions behind nn's simpler layers: linear, dropout, dropout2d, one_hot and embedding."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from minigrad import ops, random
from minigrad.engine import composite
from minigrad.nn.functional.activations import _check_inplace
from minigrad.ops import where
from minigrad.tensor import Tensor


@composite
def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias``; weight has shape (out_features, in_features)."""
    x, weight = ops._tensor(x), ops._tensor(weight)
    x_shape, weight_shape = x.data.shape, weight.data.shape
    if len(weight_shape) != 2 or not x_shape or x_shape[-1] != weight_shape[1]:
        raise ValueError(
            f"linear: an input of shape {x_shape} needs a weight of shape (out_features, "
            f"{x_shape[-1] if x_shape else 'in_features'}), got {weight_shape}"
        )
    if (
        bias is not None and getattr(bias, "shape", None) != weight_shape[:1]
    ):  # any that broadcasts, as PyTorch
        ops.broadcast_shapes("linear", x_shape[:-1] + weight_shape[:1], np.shape(bias))
    y = x @ weight.T
    return y if bias is None else y + bias


@composite
def dropout(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Does nothing when not training. The random mask is a constant of the graph.
    ``inplace=True`` never overwrites ``x``: in training the result is a new tensor,
    as with ``inplace=False`` (see :mod:`minigrad.nn.functional.activations` for why).
    """
    _check_dropout(p, inplace, "dropout")
    return _times_random_mask(x, p, training, x.shape)


@composite
def dropout2d(x: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each whole channel with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    For images (N, C, H, W), or one image (C, H, W): the mask has one value per
    channel of each image, shape (N, C, 1, 1) (or (C, 1, 1)), and broadcasts over the
    channel's H x W map, so a map is kept or zeroed as a whole (neighbouring pixels are
    too alike for dropping single ones to regularize much):

        y[n, c] = x[n, c] * keep[n, c] / (1 - p),    keep[n, c] = 1 with probability 1 - p, else 0

    The mask is a constant of the graph: the gradient is ``keep / (1 - p)``, broadcast.
    Does nothing when not training. ``inplace`` as in :func:`dropout`.

    A 3-D input is one image (C, H, W), as in minigrad's other 2-D functions. PyTorch
    2.13 still reads it as (N, C, L) and zeroes rows of length W, warning that a
    future release will read it as (C, H, W); minigrad does that now.
    """
    _check_dropout(p, inplace, "dropout2d")
    x = ops._tensor(x)
    if x.ndim not in (3, 4):
        raise ValueError(
            f"dropout2d: expected input of shape (N, C, H, W) or (C, H, W), got {x.shape}; "
            f"F.dropout zeroes single values of any shape"
        )
    return _times_random_mask(x, p, training, (*x.shape[:-2], 1, 1))


def _check_dropout(p: float, inplace: bool, function: str) -> None:
    """That ``p`` is a probability and ``inplace`` a bool."""
    _check_inplace(inplace, function)
    if not 0 <= p <= 1:
        raise ValueError(f"{function}: p must be between 0 and 1, got {p}")


def _times_random_mask(x: Tensor, p: float, training: bool, mask_shape: tuple[int, ...]) -> Tensor:
    """In training, ``x`` times a constant random mask of ``mask_shape`` (broadcast over x).

    Each value of the mask is 0 with probability ``p``, else ``1 / (1 - p)``, so that
    the expected value of the result is ``x``.
    """
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    keep = random.generator().random(mask_shape) >= p
    return x * Tensor._wrap((keep / (1 - p)).astype(x.dtype))


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Class indices as one-hot rows: ``result[..., c]`` is 1 where ``tensor[...] == c``, else 0.

    The result has shape (*tensor.shape, num_classes) and dtype int64, as in PyTorch,
    and no gradient (indices have none). ``num_classes=-1`` takes one more than the
    largest index.
    """
    indices = np.asarray(tensor)
    if indices.dtype.kind not in "iu":
        raise ValueError(
            f"one_hot: expected integer class indices, got {indices.dtype}; "
            f"convert them with .astype(np.int64)"
        )
    if num_classes == -1:
        if indices.size == 0:
            raise ValueError(
                "one_hot: an empty tensor has no largest index to count the classes by; pass num_classes"
            )
        num_classes = int(indices.max()) + 1
    if num_classes < 0:
        raise ValueError(
            f"one_hot: num_classes must be -1 (from the largest index) or at least 0, got {num_classes}"
        )
    if indices.size and indices.min() < 0:
        raise ValueError(f"one_hot: class indices must not be negative, got {indices.min()}")
    if indices.size and indices.max() >= num_classes:
        raise ValueError(
            f"one_hot: class {indices.max()} is out of range for num_classes={num_classes} "
            f"(0 to {num_classes - 1})"
        )
    return Tensor._wrap((indices[..., np.newaxis] == np.arange(num_classes)).astype(np.int64))


@composite
def embedding(
    input: Any,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """The rows of ``weight`` that the indices in ``input`` pick: ``weight[input]``.

    ``weight`` has shape (num_embeddings, embedding_dim), the result (*input.shape,
    embedding_dim). The gradient is indexing's: each row gets the sum of the gradients
    of the positions that picked it. Positions whose index is ``padding_idx`` read
    their row as a constant, so that row gets no gradient and keeps its value
    (``nn.Embedding`` starts it at zeros), as in PyTorch.

    With ``max_norm``, each row that ``input`` picks and whose ``norm_type``-norm
    exceeds ``max_norm`` is first scaled, in ``weight`` itself, by
    ``max_norm / (norm + 1e-7)``, as in PyTorch (the padding row too, if picked). The
    scaling is not recorded: the gradient is that of looking up the scaled rows. Since
    ``weight`` changes, it must be a leaf (a Parameter, as in ``nn.Embedding``), and a
    graph recorded earlier that used it reads the scaled rows in backward: PyTorch
    would refuse that backward, minigrad cannot tell. Renormalize before any other use
    of ``weight``, as PyTorch's documentation advises.

    With ``scale_grad_by_freq``, each position's gradient is divided by the number of
    times its index occurs in ``input``, as in PyTorch, so a row picked n times gets
    the mean of its n gradients rather than their sum (frequent words do not get
    larger steps); the values are unchanged. ``sparse=True`` (PyTorch's sparse
    gradient) is refused: minigrad's gradients are dense.
    """
    _check_dense(sparse, "embedding")
    indices = np.asarray(input)
    weight = ops._tensor(weight)
    if weight.ndim != 2:
        raise ValueError(
            f"embedding: weight must be 2-D, (num_embeddings, embedding_dim), got shape {weight.shape}"
        )
    if indices.dtype.kind not in "iu":
        raise ValueError(
            f"embedding: expected integer indices, got {indices.dtype}; convert them with .astype(np.int64)"
        )
    rows = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= rows):
        bad = indices[(indices < 0) | (indices >= rows)][0]
        raise IndexError(f"embedding: index {bad} is out of range for {rows} embeddings (0 to {rows - 1})")
    if padding_idx is not None:
        padding_idx = _padding_row(padding_idx, rows, "embedding")
    if max_norm is not None:
        max_norm, norm_type = _check_max_norm(max_norm, "embedding"), _check_norm_type(norm_type, "embedding")
        _renormalize_rows(weight, indices, max_norm, norm_type)
    looked_up = weight[indices]
    if scale_grad_by_freq and looked_up.requires_grad:  # a frozen (or integer) table has no gradient to scale
        looked_up = _scale_gradient(looked_up, 1 / _occurrences(indices, rows))
    if padding_idx is not None:
        is_padding = indices[..., np.newaxis] == padding_idx
        looked_up = where(is_padding, looked_up.detach(), looked_up)
    return looked_up


def _occurrences(indices: np.ndarray, num_embeddings: int) -> np.ndarray:
    """How often each position's index occurs in ``indices``, shaped (*indices.shape, 1) to scale its row."""
    counts = np.bincount(indices.ravel().astype(np.intp), minlength=num_embeddings)
    return counts[indices][..., np.newaxis]


def _scale_gradient(x: Tensor, scale: np.ndarray) -> Tensor:
    """``x`` with the same values, whose gradient is multiplied by the constant ``scale`` on the way back.

    ``constant`` holds x's numbers cut off from the graph. Forward, ``x - constant`` is
    exactly 0 (for finite numbers; an infinite entry would give nan), so the result
    is ``constant + 0``: x's values, bit for bit. Backward, ``constant`` is no function
    of x, so the result is ``x * scale`` plus a constant, whose derivative with respect
    to x is ``scale``: the gradient arriving at x is multiplied by it.
    """
    constant = x.detach()
    return constant + (x - constant) * scale.astype(x.dtype)


def _renormalize_rows(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Scale, in place and unrecorded, each row of ``weight`` picked by ``indices`` whose norm exceeds ``max_norm``.

    The scale is ``max_norm / (norm + 1e-7)``, as in PyTorch; each row is scaled once,
    however often it was picked.
    """
    if weight.op is not None:
        raise ValueError(
            f"embedding: max_norm rescales rows of weight in place, but this weight is the result "
            f"of a recorded {weight.op.name}, whose numbers backward may read; pass a leaf tensor, "
            f"such as a Parameter"
        )
    if weight.dtype.kind != "f":
        raise TypeError(f"embedding: max_norm needs a floating-point weight to rescale, got {weight.dtype}")
    rows = np.unique(indices)
    with np.errstate(divide="ignore"):  # a negative order meeting a 0 entry: a norm of 0, as in PyTorch
        norms = np.linalg.norm(weight.data[rows], ord=norm_type, axis=1).astype(np.float64)
    too_long = norms > max_norm
    scale = max_norm / (norms[too_long] + 1e-7)
    weight.data[rows[too_long]] *= scale[:, np.newaxis]


def _check_max_norm(max_norm: float, op_name: str) -> float:
    """``max_norm`` after checking that it is a norm (PyTorch would flip rows for a negative one)."""
    if not isinstance(max_norm, numbers.Real) or isinstance(max_norm, bool):  # e.g. a dtype in its place
        raise TypeError(f"{op_name}: max_norm must be None or a number, got {max_norm!r}")
    if not max_norm >= 0:  # nan too
        raise ValueError(f"{op_name}: max_norm must be None or a norm of at least 0, got {max_norm}")
    return max_norm


def _check_dense(sparse: bool, op_name: str) -> None:
    """Refuse PyTorch's ``sparse=True``: minigrad has no sparse tensors, so no sparse gradients."""
    if sparse:
        raise ValueError(
            f"{op_name}: sparse=True asks for a sparse gradient of weight, but minigrad has no "
            f"sparse tensors; pass sparse=False (the default): the dense gradient has the same values"
        )


def _padding_row(padding_idx: int, num_embeddings: int, op_name: str) -> int:
    """``padding_idx`` as a row number: -1 is the last row, as in PyTorch."""
    if not isinstance(padding_idx, numbers.Integral) or isinstance(padding_idx, bool):
        raise TypeError(f"{op_name}: padding_idx must be None or an int (a row), got {padding_idx!r}")
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"{op_name}: padding_idx must be a row of the {num_embeddings} embeddings "
            f"({-num_embeddings} to {num_embeddings - 1}), got {padding_idx}"
        )
    return int(padding_idx) % num_embeddings


def _check_norm_type(norm_type: float, op_name: str) -> float:
    """``norm_type`` after checking that it is a number (the p of the p-norm; inf allowed)."""
    if not isinstance(norm_type, numbers.Real) or isinstance(norm_type, bool):
        raise TypeError(f"{op_name}: norm_type must be a number (the p of the p-norm), got {norm_type!r}")
    return float(norm_type)
