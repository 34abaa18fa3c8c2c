"""Neural-network functions, all composed from the core ops: none has backward code.

Each function is a composite (see :func:`minigrad.engine.composite`): its nodes are
tagged with a scope of its name, so ``batch_norm`` can be drawn as one box or opened
up into the ``mean``, ``var``, ``sub``, ``pow``, ``sqrt``, ``div``, ``mul`` and
``broadcast_to`` nodes it is made of. Its gradient is whatever the chain rule through
those primitives gives, and the tests check that this equals the hand-derived formula.

By file: ``layers`` (linear, dropout, dropout2d, one_hot, embedding),
``activations``, ``losses``, ``distance`` (normalize, cosine_similarity,
pairwise_distance), ``normalization`` (batch_norm, layer_norm, group_norm,
instance_norm), ``padding`` (pad), ``convolution`` (conv2d, max_pool2d, avg_pool2d,
unfold, fold), ``convolution1d`` (conv1d, max_pool1d, avg_pool1d),
``transposed_convolution`` (conv_transpose1d, conv_transpose2d), ``adaptive``
(adaptive_avg_pool2d, adaptive_max_pool2d), ``resampling`` (interpolate,
pixel_shuffle, pixel_unshuffle), ``attention`` (scaled_dot_product_attention) and
``recurrent`` (rnn_tanh_cell, rnn_relu_cell, lstm_cell, gru_cell); softmax,
log_softmax, sigmoid and tanh come from :mod:`minigrad.composite` and :mod:`minigrad.ops`.
"""

from minigrad.composite import log_softmax, softmax
from minigrad.nn.functional.activations import (
    elu,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    logsigmoid,
    mish,
    relu,
    relu6,
    silu,
    softplus,
    softsign,
    tanhshrink,
)
from minigrad.nn.functional.adaptive import adaptive_avg_pool2d, adaptive_max_pool2d
from minigrad.nn.functional.attention import scaled_dot_product_attention
from minigrad.nn.functional.convolution import (
    avg_pool2d,
    conv2d,
    fold,
    max_pool2d,
    unfold,
)
from minigrad.nn.functional.convolution1d import avg_pool1d, conv1d, max_pool1d
from minigrad.nn.functional.distance import cosine_similarity, normalize, pairwise_distance
from minigrad.nn.functional.layers import (
    dropout,
    dropout2d,
    embedding,
    linear,
    one_hot,
)
from minigrad.nn.functional.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from minigrad.nn.functional.normalization import (
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
)
from minigrad.nn.functional.padding import pad
from minigrad.nn.functional.recurrent import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell
from minigrad.nn.functional.resampling import interpolate, pixel_shuffle, pixel_unshuffle
from minigrad.nn.functional.transposed_convolution import conv_transpose1d, conv_transpose2d
from minigrad.ops import sigmoid, tanh

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "cosine_similarity",
    "cross_entropy",
    "dropout",
    "dropout2d",
    "elu",
    "embedding",
    "fold",
    "gelu",
    "group_norm",
    "gru_cell",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "huber_loss",
    "instance_norm",
    "interpolate",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "lstm_cell",
    "max_pool1d",
    "max_pool2d",
    "mish",
    "mse_loss",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "pairwise_distance",
    "pixel_shuffle",
    "pixel_unshuffle",
    "relu",
    "relu6",
    "rnn_relu_cell",
    "rnn_tanh_cell",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "softsign",
    "tanh",
    "tanhshrink",
    "unfold",
]
