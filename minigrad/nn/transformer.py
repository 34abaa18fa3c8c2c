"""The transformer encoder, as PyTorch's: a layer of attention and an MLP, and a stack of such layers.

The helpers at the end serve the decoder (minigrad/nn/transformer_decoder.py) as well.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from minigrad import ops
from minigrad.nn import functional as F
from minigrad.nn.attention import MultiheadAttention
from minigrad.nn.container import ModuleList
from minigrad.nn.layers import Dropout, Linear
from minigrad.nn.module import Module
from minigrad.nn.normalization import LayerNorm
from minigrad.tensor import Tensor

_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": F.relu, "gelu": F.gelu}


class TransformerEncoderLayer(Module):
    """Self-attention, then a two-layer MLP on each place, each added back to its input, as PyTorch's.

    The layer of "Attention Is All You Need": every place of the sequence attends to
    every other (``self_attn``, an :class:`nn.MultiheadAttention` with ``nhead``
    heads), then each place alone goes through ``linear1`` (d_model -> dim_feedforward),
    the activation and ``linear2`` (back to d_model). Each of the two halves is a
    residual: its result is added to its input. Post-norm (``norm_first=False``, the
    paper's) normalizes after each sum; pre-norm (``norm_first=True``) normalizes what
    goes into each half and leaves the sum alone::

        post-norm:  x = norm1(x + attention(x));        x = norm2(x + mlp(x))
        pre-norm:   x = x + attention(norm1(x));        x = x + mlp(norm2(x))

        attention(x) = dropout1(self_attn(x, x, x))
        mlp(x)       = dropout2(linear2(dropout(activation(linear1(x)))))

    ``dropout`` is also the attention dropout of ``self_attn``. ``activation`` is
    ``"relu"``, ``"gelu"`` or any callable from a tensor to a tensor (a module such
    as ``nn.GELU("tanh")`` too). The submodules have PyTorch's names, so a state dict
    moves between the two: ``self_attn.in_proj_weight``, ``linear1.weight``,
    ``norm1.bias`` and so on. ``bias=False`` leaves out every bias, of the
    projections, the MLP and the layer norms alike.

    Composed of the modules above; the gradient flows back through their ops.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        *,
        dtype: object = None,
    ) -> None:
        super().__init__()
        _check_sizes(d_model, nhead, dim_feedforward, "TransformerEncoderLayer")
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation, "TransformerEncoderLayer")

    def forward(
        self,
        src: Any,
        src_mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool = False,
    ) -> Tensor:
        """The sequence ``src`` after one layer, in the same shape.

        Shapes: src (S, N, d_model), or (N, S, d_model) with ``batch_first=True``, or
        one unbatched sequence (S, d_model). The masks are those of
        :class:`nn.MultiheadAttention`: ``src_mask`` (S, S) or (N * nhead, S, S) is its
        ``attn_mask``, ``src_key_padding_mask`` (N, S), or (S,) unbatched, its
        ``key_padding_mask``; a bool True leaves a key out, a float is added to the
        scores. ``is_causal=True`` is a hint that ``src_mask`` is the causal mask, and
        needs it; minigrad always uses the mask given.
        """
        src = ops._tensor(src)
        d_model, batch_first = self.self_attn.embed_dim, self.self_attn.batch_first
        _check_sequences("TransformerEncoderLayer", d_model, batch_first, src=src)
        _check_causal_hint(is_causal, src_mask, "TransformerEncoderLayer", "is_causal", "src_mask", "(S, S)")
        masks = {"attn_mask": src_mask, "key_padding_mask": src_key_padding_mask, "is_causal": is_causal}
        x = src
        if self.norm_first:
            x = x + _attention_block(self.self_attn, self.dropout1, self.norm1(x), **masks)
            x = x + _feed_forward_block(self, self.norm2(x), self.dropout2)
        else:
            x = self.norm1(x + _attention_block(self.self_attn, self.dropout1, x, **masks))
            x = self.norm2(x + _feed_forward_block(self, x, self.dropout2))
        return x


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` applied one after the other, then ``norm`` if given.

    The copies are deep copies, so each layer starts with the same values as
    ``encoder_layer`` (as in PyTorch: initialize them afresh if they should differ)
    and then learns its own. They sit in ``layers``, a :class:`nn.ModuleList`, so the
    state dict keys are PyTorch's: ``layers.0.self_attn.in_proj_weight``, ...,
    ``norm.weight``. ``enable_nested_tensor`` and ``mask_check`` are accepted for
    PyTorch's sake and change nothing: they choose PyTorch's faster inference path.
    """

    def __init__(
        self,
        encoder_layer: Module,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        self.layers = _copies(encoder_layer, num_layers, "TransformerEncoder", "encoder_layer")
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(
        self,
        src: Any,
        mask: Any = None,
        src_key_padding_mask: Any = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        """``src`` through every layer, each given the same masks, then through ``norm``.

        Shapes and masks as in :meth:`TransformerEncoderLayer.forward`, with ``mask``
        for its ``src_mask``. ``is_causal=True`` is a hint that ``mask`` is the causal
        mask, and needs it; None (PyTorch's "find out") and False change nothing, as
        minigrad always uses the mask given.
        """
        _check_causal_hint(is_causal, mask, "TransformerEncoder", "is_causal", "mask", "(S, S)")
        output = src
        for layer in self.layers:
            output = layer(
                output, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal)
            )
        if self.norm is not None:
            output = self.norm(output)
        return output


def _attention_block(
    attention: MultiheadAttention,
    dropout: Dropout,
    query: Tensor,
    source: Tensor | None = None,
    *,
    attn_mask: Any,
    key_padding_mask: Any,
    is_causal: bool,
) -> Tensor:
    """``query`` attending over ``source`` (keys and values), or over itself if None, then dropout.

    Self-attention in the encoder and decoder layers, attention over the encoder's
    output (the memory) in the decoder layer.
    """
    source = query if source is None else source
    attended, _ = attention(
        query,
        source,
        source,
        key_padding_mask=key_padding_mask,
        need_weights=False,
        attn_mask=attn_mask,
        is_causal=is_causal,
    )
    return dropout(attended)


def _feed_forward_block(layer: Module, x: Tensor, output_dropout: Dropout) -> Tensor:
    """A layer's MLP, on each place on its own: linear1, activation, dropout, linear2, ``output_dropout``.

    The layer's own submodules, but for the last dropout: the encoder layer's dropout2,
    the decoder layer's dropout3.
    """
    return output_dropout(layer.linear2(layer.dropout(layer.activation(layer.linear1(x)))))


def _copies(layer: Any, num_layers: int, where: str, argument: str) -> ModuleList:
    """``num_layers`` deep copies of ``layer``, each to learn its own values, in a ModuleList."""
    if not isinstance(layer, Module):
        raise TypeError(
            f"{where}: {argument} must be a Module, such as a {where}Layer, got {type(layer).__name__}"
        )
    ops.check_positive_int(num_layers, "num_layers", where)
    return ModuleList(copy.deepcopy(layer) for _ in range(num_layers))


def _activation(activation: Any, where: str) -> Callable[[Tensor], Tensor]:
    """The activation function a name stands for, or the callable given."""
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"{where}: activation must be 'relu' or 'gelu' (or a callable, such as "
                f"minigrad.tanh), got {activation!r}"
            )
        return _ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(
            f"{where}: activation must be 'relu', 'gelu' or a callable, got {type(activation).__name__}"
        )
    return activation


def _check_sizes(d_model: int, nhead: int, dim_feedforward: int, where: str) -> None:
    """That the sizes are positive ints and d_model divides into nhead heads."""
    for name, size in (("d_model", d_model), ("nhead", nhead), ("dim_feedforward", dim_feedforward)):
        ops.check_positive_int(size, name, where)
    if d_model % nhead:
        raise ValueError(
            f"{where}: d_model {d_model} must be divisible by nhead {nhead}, so that each attention "
            f"head gets d_model / nhead features; pick an nhead that divides it"
        )


def _check_sequences(where: str, d_model: int, batch_first: bool, **sequences: Tensor) -> None:
    """That each sequence has d_model features, and they are all batched with one batch size, or all not.

    PyTorch's letters name the lengths: T for the target ``tgt``, S for the others.
    """
    batch_axis = 0 if batch_first else 1
    for name, x in sequences.items():
        if x.ndim not in (2, 3) or x.shape[-1] != d_model:
            length = "T" if name == "tgt" else "S"
            layout = f"(N, {length}, d_model)" if batch_first else f"({length}, N, d_model)"
            raise ValueError(
                f"{where}: expected {name} of shape {layout}, or ({length}, d_model) for one "
                f"unbatched sequence, with d_model = {d_model}; got shape {x.shape}"
            )
    names = " and ".join(sequences)
    shapes = ", ".join(f"{name} {x.shape}" for name, x in sequences.items())
    if len({x.ndim for x in sequences.values()}) > 1:
        raise ValueError(
            f"{where}: {names} must be all batched (3 axes) or all unbatched (2 axes), got {shapes}; "
            f"x[:, None] (or x[None] with batch_first=True) makes a batch of one"
        )
    if len({x.shape[batch_axis] for x in sequences.values() if x.ndim == 3}) > 1:
        raise ValueError(
            f"{where}: {names} must have the same batch size N, axis {batch_axis} "
            f"(batch_first={batch_first}), got {shapes}"
        )


def _check_causal_hint(
    is_causal: bool | None, mask: Any, where: str, hint_name: str, mask_name: str, shape: str
) -> None:
    """A causal hint (``hint_name=True``) says that the mask given is the causal mask: there must be one."""
    if is_causal and mask is None:
        raise ValueError(
            f"{where}: {hint_name}=True is a hint that {mask_name} is the causal mask, so it needs "
            f"{mask_name}: np.triu(np.ones({shape}, dtype=bool), 1), True above the diagonal"
        )
