"""The transformer decoder, as PyTorch's, and the whole encoder-decoder model, nn.Transformer.

A decoder layer is an encoder layer (minigrad/nn/transformer.py) with one more half
between its two: attention from the target sequence over the encoder's output, the
memory. The blocks, checks and copies come from that file's helpers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from minigrad import ops
from minigrad.arrange import triu
from minigrad.creation import full
from minigrad.nn import init
from minigrad.nn.attention import MultiheadAttention
from minigrad.nn.layers import Dropout, Linear
from minigrad.nn.module import Module
from minigrad.nn.normalization import LayerNorm
from minigrad.nn.transformer import (
    TransformerEncoder,
    TransformerEncoderLayer,
    _activation,
    _attention_block,
    _check_causal_hint,
    _check_sequences,
    _check_sizes,
    _copies,
    _feed_forward_block,
)
from minigrad.tensor import Tensor


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the memory, then a two-layer MLP on each place, as PyTorch's.

    The decoder layer of "Attention Is All You Need". The target sequence ``tgt``
    (T places) attends over itself (``self_attn``), then over ``memory``, the S places
    the encoder made of the source (``multihead_attn``: queries from the target, keys
    and values from the memory), then each place alone goes through ``linear1``
    (d_model -> dim_feedforward), the activation and ``linear2`` (back to d_model).
    Each of the three is a residual, added to its input; post-norm
    (``norm_first=False``, the paper's) normalizes after each sum, pre-norm
    (``norm_first=True``) what goes into each::

        post-norm:  x = norm1(x + self_attention(x))
                    x = norm2(x + memory_attention(x, memory))
                    x = norm3(x + mlp(x))
        pre-norm:   x = x + self_attention(norm1(x))
                    x = x + memory_attention(norm2(x), memory)
                    x = x + mlp(norm3(x))

        self_attention(x)           = dropout1(self_attn(x, x, x))
        memory_attention(x, memory) = dropout2(multihead_attn(x, memory, memory))
        mlp(x)                      = dropout3(linear2(dropout(activation(linear1(x)))))

    ``dropout`` is also the attention dropout of both attentions. ``activation`` is
    ``"relu"``, ``"gelu"`` or any callable from a tensor to a tensor. The submodules
    have PyTorch's names, so a state dict moves between the two:
    ``self_attn.in_proj_weight``, ``multihead_attn.out_proj.bias``, ``linear1.weight``,
    ``norm3.bias`` and so on. ``bias=False`` leaves out every bias.

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
        _check_sizes(d_model, nhead, dim_feedforward, "TransformerDecoderLayer")
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
        )
        self.multihead_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation, "TransformerDecoderLayer")

    def forward(
        self,
        tgt: Any,
        memory: Any,
        tgt_mask: Any = None,
        memory_mask: Any = None,
        tgt_key_padding_mask: Any = None,
        memory_key_padding_mask: Any = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """The target ``tgt`` after one layer, in its shape, having attended over ``memory``.

        Shapes: tgt (T, N, d_model) and memory (S, N, d_model), or N first with
        ``batch_first=True``, or unbatched (T, d_model) and (S, d_model). The masks are
        those of :class:`nn.MultiheadAttention` (a bool True leaves a key out, a float is
        added to the scores): for the self-attention, ``tgt_mask`` (T, T) or
        (N * nhead, T, T) and ``tgt_key_padding_mask`` (N, T); for the attention over
        the memory, ``memory_mask`` (T, S) or (N * nhead, T, S) and
        ``memory_key_padding_mask`` (N, S). Left to itself each target place sees the
        places after it too; :meth:`Transformer.generate_square_subsequent_mask` (T) as
        ``tgt_mask`` hides them, as training on whole target sequences needs.
        ``tgt_is_causal=True`` and ``memory_is_causal=True`` are hints that the mask is
        the causal mask, and need it; minigrad always uses the mask given.
        """
        tgt, memory = ops._tensor(tgt), ops._tensor(memory)
        d_model, batch_first = self.self_attn.embed_dim, self.self_attn.batch_first
        where = "TransformerDecoderLayer"
        _check_sequences(where, d_model, batch_first, tgt=tgt, memory=memory)
        _check_causal_hint(tgt_is_causal, tgt_mask, where, "tgt_is_causal", "tgt_mask", "(T, T)")
        _check_causal_hint(memory_is_causal, memory_mask, where, "memory_is_causal", "memory_mask", "(T, S)")
        tgt_masks = {
            "attn_mask": tgt_mask,
            "key_padding_mask": tgt_key_padding_mask,
            "is_causal": tgt_is_causal,
        }
        memory_masks = {
            "attn_mask": memory_mask,
            "key_padding_mask": memory_key_padding_mask,
            "is_causal": memory_is_causal,
        }
        x = tgt
        if self.norm_first:
            x = x + _attention_block(self.self_attn, self.dropout1, self.norm1(x), **tgt_masks)
            x = x + _attention_block(
                self.multihead_attn, self.dropout2, self.norm2(x), memory, **memory_masks
            )
            x = x + _feed_forward_block(self, self.norm3(x), self.dropout3)
        else:
            x = self.norm1(x + _attention_block(self.self_attn, self.dropout1, x, **tgt_masks))
            x = self.norm2(
                x + _attention_block(self.multihead_attn, self.dropout2, x, memory, **memory_masks)
            )
            x = self.norm3(x + _feed_forward_block(self, x, self.dropout3))
        return x


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` applied one after the other, then ``norm`` if given.

    Every layer attends over the same ``memory``. The copies are deep copies, so each
    layer starts with the same values as ``decoder_layer`` (as in PyTorch: initialize
    them afresh if they should differ) and then learns its own. They sit in
    ``layers``, a :class:`nn.ModuleList`, so the state dict keys are PyTorch's:
    ``layers.0.self_attn.in_proj_weight``, ..., ``norm.weight``.
    """

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _copies(decoder_layer, num_layers, "TransformerDecoder", "decoder_layer")
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Any,
        memory: Any,
        tgt_mask: Any = None,
        memory_mask: Any = None,
        tgt_key_padding_mask: Any = None,
        memory_key_padding_mask: Any = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """``tgt`` through every layer, each given ``memory`` and the same masks, then through ``norm``.

        Shapes and masks as in :meth:`TransformerDecoderLayer.forward`.
        ``tgt_is_causal=True`` is a hint that ``tgt_mask`` is the causal mask, and needs
        it; None (PyTorch's "find out") and False change nothing, as minigrad always
        uses the mask given. The same for ``memory_is_causal`` and ``memory_mask``.
        """
        where = "TransformerDecoder"
        _check_causal_hint(tgt_is_causal, tgt_mask, where, "tgt_is_causal", "tgt_mask", "(T, T)")
        _check_causal_hint(memory_is_causal, memory_mask, where, "memory_is_causal", "memory_mask", "(T, S)")
        output = tgt
        for layer in self.layers:
            output = layer(
                output,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=bool(tgt_is_causal),
                memory_is_causal=memory_is_causal,
            )
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder-decoder transformer of "Attention Is All You Need", as PyTorch's ``nn.Transformer``.

    ``encoder``, a :class:`nn.TransformerEncoder` of ``num_encoder_layers`` encoder
    layers and a final :class:`nn.LayerNorm`, turns the source sequence into the
    memory; ``decoder``, a :class:`nn.TransformerDecoder` of ``num_decoder_layers``
    decoder layers and a final LayerNorm, turns the target sequence into the output,
    attending over the memory::

        memory = encoder(src)
        output = decoder(tgt, memory)

    The layers take ``d_model``, ``nhead``, ``dim_feedforward``, ``dropout``,
    ``activation``, ``layer_norm_eps``, ``batch_first``, ``norm_first`` and ``bias``;
    ``custom_encoder`` or ``custom_decoder``, modules called as those two are, take
    the place of the ones built. As in PyTorch, every parameter with more than one
    axis (the weights of projections and MLPs, custom parts' too) is then drawn afresh
    Glorot-uniform, so the copies of a layer no longer share their weights; biases
    and layer norms keep the values their modules gave them. State dict keys are
    PyTorch's: ``encoder.layers.0.self_attn.in_proj_weight``, ..., ``encoder.norm.weight``,
    ``decoder.layers.0.multihead_attn.in_proj_weight``, ..., ``decoder.norm.bias``.

    There are no embeddings, positional encodings or output projection, as in PyTorch:
    the inputs are vectors of d_model features already, and so is the output.
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = "relu",
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        *,
        dtype: object = None,
    ) -> None:
        super().__init__()
        _check_sizes(d_model, nhead, dim_feedforward, "Transformer")
        layer_options = (dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first, bias)
        if custom_encoder is None:
            encoder_layer = TransformerEncoderLayer(d_model, nhead, *layer_options, dtype=dtype)
            encoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            custom_encoder = TransformerEncoder(encoder_layer, num_encoder_layers, encoder_norm)
        if custom_decoder is None:
            decoder_layer = TransformerDecoderLayer(d_model, nhead, *layer_options, dtype=dtype)
            decoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            custom_decoder = TransformerDecoder(decoder_layer, num_decoder_layers, decoder_norm)
        self.encoder, self.decoder = custom_encoder, custom_decoder
        for parameter in self.parameters():
            if parameter.ndim > 1:
                init.xavier_uniform_(parameter)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(
        self,
        src: Any,
        tgt: Any,
        src_mask: Any = None,
        tgt_mask: Any = None,
        memory_mask: Any = None,
        src_key_padding_mask: Any = None,
        tgt_key_padding_mask: Any = None,
        memory_key_padding_mask: Any = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """The output for target ``tgt``, in its shape, given the source ``src``.

        Shapes: src (S, N, d_model) and tgt (T, N, d_model), or N first with
        ``batch_first=True``, or unbatched (S, d_model) and (T, d_model). ``src_mask``
        (S, S) and ``src_key_padding_mask`` (N, S) go to the encoder; the decoder gets
        the others (see :meth:`TransformerDecoderLayer.forward`), and should get
        ``memory_key_padding_mask`` equal to ``src_key_padding_mask`` so that no target
        place attends to the source's padding. ``tgt_mask`` is usually
        :meth:`generate_square_subsequent_mask` (T). The ``*_is_causal`` arguments are
        hints that the mask is the causal mask, and True needs the mask; minigrad
        always uses the mask given.
        """
        src, tgt = ops._tensor(src), ops._tensor(tgt)
        _check_sequences("Transformer", self.d_model, self.batch_first, src=src, tgt=tgt)
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(sz: int, dtype: object = None) -> Tensor:
        """The causal mask for ``sz`` places, as PyTorch's: -inf above the diagonal, 0 on and below it.

        Added to the scores, it lets place i attend to places 0 .. i only, never to later
        ones: the ``tgt_mask`` that trains a decoder to predict each next place. A float
        (sz, sz) tensor, of the default dtype unless ``dtype`` is given.
        """
        ops.check_positive_int(sz, "sz", "Transformer.generate_square_subsequent_mask")
        return triu(full((sz, sz), -math.inf, dtype=dtype), 1)
