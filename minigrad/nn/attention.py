"""MultiheadAttention: several attention heads side by side, with PyTorch's parameters and masks."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.creation import zeros
from minigrad.engine import scope
from minigrad.nn import init
from minigrad.nn.functional.attention import _attention
from minigrad.nn.functional.layers import linear
from minigrad.nn.layers import Linear
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads, each on ``embed_dim / num_heads`` features, as PyTorch's.

    Queries (L of them), keys and values (S of them) are projected to ``embed_dim``
    features, which are cut into ``num_heads`` heads of ``head_dim`` features each.
    Each head attends on its own, and the heads are joined again and projected::

        q, k, v  = query @ W_q^T + b_q,  key @ W_k^T + b_k,  value @ W_v^T + b_v
        head_i   = softmax(q_i @ k_i^T / sqrt(head_dim) + mask) @ v_i       i = 1 .. num_heads
        output   = concat(head_1, ..., head_h) @ W_o^T + b_o                (out_proj)

    The parameters have PyTorch's names and shapes, so a state dict moves between
    the two: ``in_proj_weight`` (3 * embed_dim, embed_dim), W_q, W_k and W_v stacked,
    or, when ``kdim`` or ``vdim`` differ from ``embed_dim``, ``q_proj_weight``,
    ``k_proj_weight`` and ``v_proj_weight``; ``in_proj_bias`` (3 * embed_dim,);
    ``out_proj``, an ``nn.Linear(embed_dim, embed_dim)``; and with ``add_bias_kv``,
    ``bias_k`` and ``bias_v`` (1, 1, embed_dim), a learned key and value appended to
    the S given. ``add_zero_attn`` appends a key and value of zeros as well, after
    the heads are cut. Initialized as in PyTorch: the projection weights
    Glorot-uniform, the biases zeros, ``bias_k`` and ``bias_v`` Glorot-normal.

    The forward pass is made of ``F.linear``, ``reshape``, ``swapaxes`` and the ops of
    ``F.scaled_dot_product_attention``, drawn in a box of that name; the gradient
    flows back through them.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        *,
        dtype: object = None,
    ) -> None:
        super().__init__()
        kdim = embed_dim if kdim is None else kdim
        vdim = embed_dim if vdim is None else vdim
        _check_sizes(embed_dim, num_heads, kdim, vdim, dropout)
        self.embed_dim, self.kdim, self.vdim = embed_dim, kdim, vdim
        self._qkv_same_embed_dim = kdim == embed_dim and vdim == embed_dim
        self.num_heads, self.head_dim = num_heads, embed_dim // num_heads
        self.dropout, self.batch_first, self.add_zero_attn = dropout, batch_first, add_zero_attn
        if self._qkv_same_embed_dim:
            self.in_proj_weight = init.xavier_uniform_(
                Parameter(zeros(3 * embed_dim, embed_dim, dtype=dtype))
            )
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = init.xavier_uniform_(Parameter(zeros(embed_dim, embed_dim, dtype=dtype)))
            self.k_proj_weight = init.xavier_uniform_(Parameter(zeros(embed_dim, kdim, dtype=dtype)))
            self.v_proj_weight = init.xavier_uniform_(Parameter(zeros(embed_dim, vdim, dtype=dtype)))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(zeros(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        if bias:
            init.zeros_(self.out_proj.bias)
        if add_bias_kv:
            self.bias_k = init.xavier_normal_(Parameter(zeros(1, 1, embed_dim, dtype=dtype)))
            self.bias_v = init.xavier_normal_(Parameter(zeros(1, 1, embed_dim, dtype=dtype)))
        else:
            self.bias_k = self.bias_v = None

    def forward(
        self,
        query: Any,
        key: Any,
        value: Any,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """``(output, weights)`` for L queries attending over S keys and values.

        Shapes: query (L, N, E), key (S, N, kdim), value (S, N, vdim), output (L, N, E),
        with ``batch_first=True`` N first instead, (N, L, E) and so on; or unbatched, query
        (L, E), key (S, kdim), value (S, vdim), output (L, E).

        Masks, as in PyTorch, are the other way round from ``F.scaled_dot_product_attention``'s:
        a bool True means *left out*. ``key_padding_mask`` (N, S), or (S,) unbatched,
        leaves out padding keys; ``attn_mask`` (L, S), or (N * num_heads, L, S) with one
        mask per sample and head, leaves out pairs. A float mask is added to the scores
        instead. ``is_causal=True`` is a hint that ``attn_mask`` is the causal mask and
        needs it, as in PyTorch, but minigrad always uses the mask given. (PyTorch, with
        ``need_weights=False`` and no ``key_padding_mask``, puts its own causal mask in
        its place, which is the same unless ``bias_k`` or the zero key are added: that
        one hides them from the first queries.)

        ``weights`` are the attention weights after dropout, averaged over the heads
        (N, L, S), or (N, num_heads, L, S) with ``average_attn_weights=False`` (no N
        unbatched); None with ``need_weights=False``. S counts ``bias_k`` and the zero
        key, if added. A query whose keys are all left out gets weights 0, whatever
        ``need_weights``; PyTorch gives nan there with ``need_weights=True``.
        """
        query, key, value = (ops._tensor(x) for x in (query, key, value))
        batched, sizes = self._check_inputs(query, key, value)
        if is_causal and attn_mask is None:
            raise ValueError(
                "MultiheadAttention: is_causal=True is a hint that attn_mask is the causal mask, "
                "so it needs attn_mask: np.triu(np.ones((L, S), dtype=bool), 1), True above the diagonal"
            )
        mask = self._additive_mask(key_padding_mask, attn_mask, batched, sizes)
        if not batched:
            query, key, value = (x.unsqueeze(0) for x in (query, key, value))
        elif not self.batch_first:
            query, key, value = (x.swapaxes(0, 1) for x in (query, key, value))
        queries, keys, values = self._projected_heads(query, key, value)
        mask = _with_keys_added(mask, keys.shape[2] - sizes[2])
        dropout_p = self.dropout if self.training else 0.0
        with scope("scaled_dot_product_attention"):  # the box F.scaled_dot_product_attention draws
            heads, weights = _attention(queries, keys, values, mask, dropout_p, False, None, False)
        output = self.out_proj(heads.swapaxes(1, 2).reshape(*sizes[:2], self.embed_dim))
        if not batched:
            output = output.squeeze(0)
        elif not self.batch_first:
            output = output.swapaxes(0, 1)
        if not need_weights:
            return output, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return output, weights if batched else weights.squeeze(0)

    def _projected_heads(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Each head's queries, keys and values, (N, num_heads, L or S, head_dim), from (N, L or S, features).

        The keys and values get ``bias_k`` and ``bias_v`` appended, then a key and a
        value of zeros in each head, if the module adds them.
        """
        batch_size = query.shape[0]
        queries, keys, values = (
            linear(x, *self._projection(which)) for which, x in enumerate((query, key, value))
        )
        if self.bias_k is not None:
            learned_shape = (batch_size, 1, self.embed_dim)
            keys = ops.concatenate([keys, self.bias_k.broadcast_to(learned_shape)], axis=1)
            values = ops.concatenate([values, self.bias_v.broadcast_to(learned_shape)], axis=1)
        queries, keys, values = (self._heads(x) for x in (queries, keys, values))
        if self.add_zero_attn:
            nothing = zeros(batch_size, self.num_heads, 1, self.head_dim, dtype=keys.dtype)
            keys, values = (
                ops.concatenate([keys, nothing], axis=2),
                ops.concatenate([values, nothing], axis=2),
            )
        return queries, keys, values

    def _projection(self, which: int) -> tuple[Tensor, Tensor | None]:
        """The weight and bias that project queries (0), keys (1) or values (2)."""
        rows = slice(which * self.embed_dim, (which + 1) * self.embed_dim)
        if self._qkv_same_embed_dim:
            weight = self.in_proj_weight[rows]
        else:
            weight = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)[which]
        return weight, None if self.in_proj_bias is None else self.in_proj_bias[rows]

    def _heads(self, x: Tensor) -> Tensor:
        """(N, length, embed_dim) cut into heads: (N, num_heads, length, head_dim)."""
        return x.reshape(x.shape[0], x.shape[1], self.num_heads, self.head_dim).swapaxes(1, 2)

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[bool, tuple[int, int, int]]:
        """Whether the input is batched, and (N, L, S), once the shapes of query, key and value fit."""
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        shapes = f"query {query.shape}, key {key.shape}, value {value.shape}"
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(
                f"MultiheadAttention: expected query, key and value of 3 axes, {layout}, or of 2 for "
                f"one unbatched sequence, (L, E); got {shapes}"
            )
        for name, tensor, size in (
            ("query", query, self.embed_dim),
            ("key", key, self.kdim),
            ("value", value, self.vdim),
        ):
            if tensor.shape[-1] != size:
                raise ValueError(
                    f"MultiheadAttention: {name} must have {size} features in its last axis, got "
                    f"{shapes}; kdim and vdim set the features of key and value"
                )
        if query.ndim == 2:
            batched, sizes = False, (1, query.shape[0], key.shape[0])
        elif self.batch_first:
            batched, sizes = True, (query.shape[0], query.shape[1], key.shape[1])
        else:
            batched, sizes = True, (query.shape[1], query.shape[0], key.shape[0])
        batch_axis = 1 if batched and not self.batch_first else 0
        if key.shape[:-1] != value.shape[:-1] or (batched and key.shape[batch_axis] != sizes[0]):
            raise ValueError(
                f"MultiheadAttention: key and value need one shape but for their features, and "
                f"query's batch size N (axis {batch_axis} of {layout}); got {shapes}"
            )
        return batched, sizes

    def _additive_mask(
        self,
        key_padding_mask: Any,
        attn_mask: Any,
        batched: bool,
        sizes: tuple[int, int, int],
    ) -> Tensor | None:
        """The two masks as one, added to the scores: -inf where a bool mask is True.

        ``sizes`` are (N, L, S). The result, in the dtype of the parameters, broadcasts
        to the scores, (N, num_heads, L, S); None if there is no mask.
        """
        batch_size, target_length, source_length = sizes
        dtype = self.out_proj.weight.dtype
        pairs = (target_length, source_length)
        mask = None
        if attn_mask is not None:
            mask = _as_additive(attn_mask, "attn_mask", [pairs, (batch_size * self.num_heads, *pairs)], dtype)
            if mask.ndim == 3:
                mask = mask.reshape(batch_size, self.num_heads, *pairs)
        if key_padding_mask is not None:
            shape = (batch_size, source_length) if batched else (source_length,)
            padding = _as_additive(key_padding_mask, "key_padding_mask", [shape], dtype)
            padding = padding.reshape(batch_size, 1, 1, source_length)
            mask = padding if mask is None else mask + padding
        return mask


def _check_sizes(embed_dim: int, num_heads: int, kdim: int, vdim: int, dropout: float) -> None:
    """That the sizes are positive ints, embed_dim divides into heads, and dropout is a probability."""
    for name, size in (("embed_dim", embed_dim), ("num_heads", num_heads), ("kdim", kdim), ("vdim", vdim)):
        ops.check_positive_int(size, name, "MultiheadAttention")
    if embed_dim % num_heads:
        raise ValueError(
            f"MultiheadAttention: embed_dim {embed_dim} must be divisible by num_heads {num_heads}, "
            f"so that each head gets embed_dim / num_heads features; pick a num_heads that divides it"
        )
    if not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
        raise ValueError(f"MultiheadAttention: dropout must be between 0 and 1, got {dropout!r}")


def _as_additive(mask: Any, name: str, shapes: list[tuple[int, ...]], dtype: np.dtype) -> Tensor:
    """A mask as numbers added to the scores: a bool mask's True as -inf, a float mask as it is."""
    array = np.asarray(mask)  # a tensor's numbers, or an array's or a list's
    if array.dtype.kind not in "bf":
        raise TypeError(
            f"MultiheadAttention: {name} must be bool (True leaves out) or float (added to the "
            f"scores), got dtype {array.dtype}"
        )
    if array.shape not in shapes:
        expected = " or ".join(str(shape) for shape in shapes)
        raise ValueError(f"MultiheadAttention: {name} must have shape {expected}, got {array.shape}")
    if array.dtype == bool:
        return Tensor._wrap(np.where(array, -np.inf, 0.0).astype(dtype))
    return ops.astype(ops._tensor(mask), dtype)


def _with_keys_added(mask: Tensor | None, added: int) -> Tensor | None:
    """The mask with a column of zeros (take part) for each key appended: bias_k, the zero key."""
    if mask is None or added == 0:
        return mask
    return ops.concatenate([mask, zeros(*mask.shape[:-1], added, dtype=mask.dtype)], axis=-1)
