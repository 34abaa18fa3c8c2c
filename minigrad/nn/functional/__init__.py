"""Neural-network functions, all composed from the core ops: none has backward code.

Each function is a composite (see :func:`minigrad.engine.composite`): its nodes are
tagged with a scope of its name, so ``batch_norm`` can be drawn as one box or opened
up into the ``mean``, ``var``, ``sub``, ``pow``, ``sqrt``, ``div``, ``mul`` and
``broadcast_to`` nodes it is made of. Its gradient is whatever the chain rule through
those primitives gives, and the tests check that this equals the hand-derived formula.

By file: ``layers`` (linear, dropout, dropout2d, one_hot, embedding),
``activations``, ``losses``, ``normalization`` (batch_norm, layer_norm, group_norm),
``padding`` (pad), ``convolution`` (conv2d, max_pool2d, avg_pool2d, unfold, fold),
``convolution1d`` (conv1d, max_pool1d, avg_pool1d), ``adaptive``
(adaptive_avg_pool2d, adaptive_max_pool2d), ``attention``
(scaled_dot_product_attention) and ``recurrent`` (rnn_tanh_cell, rnn_relu_cell,
lstm_cell, gru_cell); softmax, log_softmax, sigmoid and tanh come
from :mod:`minigrad.composite` and :mod:`minigrad.ops`.
"""

from minigrad.composite import log_softmax, softmax
from minigrad.nn.functional.activations import (
    elu,
    gelu,
    leaky_relu,
    relu,
    silu,
    softplus,
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
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from minigrad.nn.functional.normalization import (
    batch_norm,
    group_norm,
    layer_norm,
)
from minigrad.nn.functional.padding import pad
from minigrad.nn.functional.recurrent import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell
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
    "cross_entropy",
    "dropout",
    "dropout2d",
    "elu",
    "embedding",
    "fold",
    "gelu",
    "group_norm",
    "gru_cell",
    "huber_loss",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "lstm_cell",
    "max_pool1d",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "pad",
    "relu",
    "rnn_relu_cell",
    "rnn_tanh_cell",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
    "unfold",
]
