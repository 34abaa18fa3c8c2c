"""Scaled dot-product attention, composed from matmul, swapaxes, where, softmax and dropout.

Each query asks every key how well it matches (a dot product), the matches are
turned into weights that add up to 1 (a softmax over the keys), and the answer is
the weighted sum of the values. There is no backward code here: the gradient flows
back through the two matmuls, the softmax, the mask's where (or add), dropout's
constant mask and the swapaxes of the keys, by the rules of those ops.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.composite import softmax
from minigrad.engine import composite
from minigrad.nn.functional.layers import dropout
from minigrad.tensor import Tensor

_NAME = "scaled_dot_product_attention"


@composite
def scaled_dot_product_attention(
    query: Any,
    key: Any,
    value: Any,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """Attention of L queries over S keys and values, as PyTorch's function of the same name.

    ``query`` has shape (..., L, E), ``key`` (..., S, E) and ``value`` (..., S, Ev);
    the leading (batch) axes of the three broadcast, and the result has shape
    (..., L, Ev)::

        scores  = (scale * query) @ key^T                       (..., L, S)
        scores  = where(attn_mask, scores, -inf)                 a bool mask: True takes part
               or scores + attn_mask                            a float mask: added
        weights = softmax(scores, axis=-1)                      each row adds up to 1
        weights = dropout(weights, dropout_p)                   only if dropout_p > 0
        result  = weights @ value                               (..., L, Ev)

    ``scale`` defaults to ``1 / sqrt(E)``, which keeps the scores near unit variance
    for unit-variance queries and keys. ``attn_mask`` (a bool or float array or
    tensor) broadcasts to the shape of the scores, whose batch axes are those of query
    and key, as in PyTorch. A float mask is converted to the query's dtype (PyTorch
    refuses a float64 mask for float32 queries), and if it is a tensor that requires
    grad, it gets the gradient of the scores. ``is_causal=True`` is the bool mask
    ``tril(ones(L, S))``: query i sees keys 0 to i, counted from the top left as
    PyTorch does when L != S. It cannot be combined with ``attn_mask``: fold the
    triangle into your mask instead.

    A row in which every score is -inf (every key masked out) has weights 0, so its
    result is 0, and no gradient flows through it: PyTorch 2.13 does the same, where
    a plain softmax would give nan.

    ``dropout_p`` drops attention weights, with minigrad's generator, whenever it is
    above 0, as in PyTorch: pass ``dropout_p=0.0`` in evaluation. ``enable_gqa=True``
    allows grouped-query attention: axis -3 holds heads, and key and value may have
    fewer heads than query (a number that divides it); each of their heads then
    serves ``query_heads / key_heads`` query heads in a row (``repeat_interleave``).

    Examples
    --------
    >>> q, k, v = mg.randn(2, 5, 8), mg.randn(2, 7, 8), mg.randn(2, 7, 3)
    >>> scaled_dot_product_attention(q, k, v).shape
    (2, 5, 3)
    """
    output, _ = _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)
    return output


def _attention(
    query: Any,
    key: Any,
    value: Any,
    attn_mask: Any,
    dropout_p: float,
    is_causal: bool,
    scale: float | None,
    enable_gqa: bool,
) -> tuple[Tensor, Tensor]:
    """The result of :func:`scaled_dot_product_attention` and its weights (after dropout).

    nn.MultiheadAttention returns the weights too, so it calls this directly, in a
    scope of the same name, so that its drawing shows the same box.
    """
    query, key, value, scores_shape = _checked_inputs(query, key, value, enable_gqa)
    _check_options(attn_mask, dropout_p, is_causal, scale, scores_shape)
    length, keys, features = query.shape[-2], key.shape[-2], query.shape[-1]
    if enable_gqa:
        key, value = _repeat_heads(key, query.shape[-3]), _repeat_heads(value, query.shape[-3])
    if scale is None:
        # An empty dot product (E = 0) is 0 whatever the scale: any will do.
        scale = 1 / math.sqrt(features) if features else 1.0
    scores = (query * scale) @ key.swapaxes(-2, -1)
    if is_causal:
        attn_mask = np.tril(np.ones((length, keys), dtype=bool))
    if attn_mask is not None:
        scores = _masked(scores, attn_mask)
    weights = _softmax_over_keys(scores)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p)
    return weights @ value, weights


def _checked_inputs(
    query: Any, key: Any, value: Any, enable_gqa: bool
) -> tuple[Tensor, Tensor, Tensor, tuple[int, ...]]:
    """query, key and value as tensors, and the shape of the scores (..., L, S), once their shapes fit."""
    query, key, value = (ops._tensor(x) for x in (query, key, value))
    shapes = f"query {query.shape}, key {key.shape}, value {value.shape}"
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise ValueError(
            f"{_NAME}: query, key and value need at least 2 axes, (..., L, E), (..., S, E) and "
            f"(..., S, Ev); got {shapes}. One sequence is (L, E): reshape a single vector to (1, E)"
        )
    if len({query.dtype, key.dtype, value.dtype}) > 1 or query.dtype.kind != "f":
        raise TypeError(
            f"{_NAME}: query, key and value must have one floating-point dtype, got "
            f"{query.dtype}, {key.dtype} and {value.dtype}; convert them with .astype(np.float32)"
        )
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"{_NAME}: query and key must have the same number of features E (the last axis) to be "
            f"compared by dot products; got {shapes}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"{_NAME}: key and value must have the same number of positions S (axis -2), one value "
            f"per key; got {shapes}"
        )
    batch_axes = 3 if enable_gqa else 2
    if enable_gqa:
        _check_heads(query, key, value, shapes)
    try:
        ops.broadcast_shapes(_NAME, *(x.shape[:-batch_axes] for x in (query, key, value)))
    except ValueError:
        raise ValueError(
            f"{_NAME}: the batch axes of query, key and value (all but the last {batch_axes}) must "
            f"broadcast, got {shapes}"
        ) from None
    batch = ops.broadcast_shapes(_NAME, query.shape[:-batch_axes], key.shape[:-batch_axes])
    heads = query.shape[-3:-2] if enable_gqa else ()
    return query, key, value, (*batch, *heads, query.shape[-2], key.shape[-2])


def _check_heads(query: Tensor, key: Tensor, value: Tensor, shapes: str) -> None:
    """For grouped-query attention: heads on axis -3, query's a multiple of key's and value's."""
    if min(query.ndim, key.ndim, value.ndim) < 3:
        raise ValueError(
            f"{_NAME}: enable_gqa=True reads axis -3 as the heads, (..., heads, L, E), but got {shapes}"
        )
    for name, tensor in (("key", key), ("value", value)):
        if tensor.shape[-3] == 0 or query.shape[-3] % tensor.shape[-3]:
            raise ValueError(
                f"{_NAME}: with enable_gqa=True the number of {name} heads (axis -3) must divide the "
                f"number of query heads, got {shapes}"
            )


def _check_options(
    attn_mask: Any, dropout_p: float, is_causal: bool, scale: float | None, scores_shape: tuple[int, ...]
) -> None:
    """That the mask, dropout_p and scale are what they should be; scores_shape is (..., L, S)."""
    if not isinstance(dropout_p, numbers.Real) or not 0 <= dropout_p <= 1:
        raise ValueError(f"{_NAME}: dropout_p must be between 0 and 1, got {dropout_p!r}")
    if scale is not None and (not isinstance(scale, numbers.Real) or isinstance(scale, bool)):
        raise TypeError(f"{_NAME}: scale must be None (1 / sqrt(E)) or a number, got {scale!r}")
    if attn_mask is None:
        return
    if is_causal:
        raise ValueError(
            f"{_NAME}: pass attn_mask or is_causal=True, not both; to combine them, pass "
            f"attn_mask & np.tril(np.ones((L, S), dtype=bool)) as a bool mask"
        )
    mask = np.asarray(attn_mask)  # a tensor's numbers, or an array's or a list's
    if mask.dtype.kind not in "bf":
        raise TypeError(
            f"{_NAME}: attn_mask must be bool (True takes part) or float (added to the scores), "
            f"got dtype {mask.dtype}"
        )
    fits = mask.ndim <= len(scores_shape) and all(
        length in (1, target) for length, target in zip(reversed(mask.shape), reversed(scores_shape))
    )
    if not fits:
        raise ValueError(
            f"{_NAME}: an attn_mask of shape {mask.shape} does not broadcast to the shape of the "
            f"attention scores, (..., L, S) = {scores_shape}: it needs one entry per query (L) and "
            f"key (S), or an axis of length 1 to share one"
        )


def _repeat_heads(tensor: Tensor, query_heads: int) -> Tensor:
    """Each head of ``tensor`` (axis -3) repeated, in a row, until there are ``query_heads``."""
    repeats = query_heads // tensor.shape[-3]
    return tensor if repeats == 1 else tensor.repeat_interleave(repeats, axis=-3)


def _masked(scores: Tensor, attn_mask: Any) -> Tensor:
    """Scores with a bool mask's False entries set to -inf, or a float mask added."""
    mask = np.asarray(attn_mask)
    if mask.dtype == bool:
        return ops.where(mask, scores, -np.inf)
    return scores + ops.astype(ops._tensor(attn_mask), scores.dtype)


def _softmax_over_keys(scores: Tensor) -> Tensor:
    """softmax along the last axis, with weights 0 in the rows whose scores are all -inf.

    softmax would give nan there (-inf minus the largest value, -inf, is nan). So those
    rows take the softmax of zeros instead, and their weights are replaced by 0: a
    where on each side of the softmax, so that no nan is formed, not even in the
    gradient (as in :func:`minigrad.composite.std`).
    """
    empty_rows = np.all(scores.data == -np.inf, axis=-1, keepdims=True)
    if not empty_rows.any():
        return softmax(scores, axis=-1)
    return ops.where(empty_rows, 0.0, softmax(ops.where(empty_rows, 0.0, scores), axis=-1))
