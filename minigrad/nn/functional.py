"""Neural-network functions, all composed from the core ops: none has backward code.

Each function is a composite (see :func:`minigrad.engine.composite`): its nodes are
tagged with a scope of its name, so ``batch_norm`` can be drawn as one box or opened
up into the ``mean``, ``var``, ``sub``, ``pow``, ``sqrt``, ``div``, ``mul`` and
``broadcast_to`` nodes it is made of. Its gradient is whatever the chain rule through
those primitives gives, and the tests check that this equals the hand-derived formula.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad import ops, random
from minigrad.composite import log_softmax, softmax
from minigrad.engine import composite, no_grad, scope
from minigrad.ops import relu, sigmoid, tanh, where
from minigrad.tensor import Tensor

__all__ = [
    "batch_norm",
    "cross_entropy",
    "dropout",
    "layer_norm",
    "linear",
    "log_softmax",
    "mse_loss",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]


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


def _reduce(losses: Tensor, reduction: str, op_name: str) -> Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f'{op_name}: reduction must be "mean", "sum" or "none", got {reduction!r}')


@composite
def cross_entropy(
    logits: Tensor,
    target: Any,
    reduction: str = "mean",
    *,
    weight: Any = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
) -> Tensor:
    """The negative log-likelihood of the target classes under ``softmax(logits)``.

    ``logits`` has shape (N, C), or (N, C, d1, ...) with the classes along axis 1, or
    (C,) for one sample. ``target`` holds the class indices, of the logits' shape
    without axis C (an int array or Tensor), or class probabilities of the logits' shape.
    The options are PyTorch's:

    - ``weight``, one number per class (a constant): each sample's loss is scaled by
      its class's weight, and ``"mean"`` divides by the sum of those weights instead of N;
    - ``ignore_index``: samples with this target add nothing, and do not count in the mean;
    - ``label_smoothing`` ε: the target is a mixture of the true class (1 - ε) and the
      uniform distribution over the C classes (ε).
    """
    if not isinstance(reduction, str):  # PyTorch's third argument is weight
        raise ValueError(
            f'cross_entropy: reduction (the third argument) must be "mean", "sum" or "none", got '
            f"{reduction!r}; pass class weights by name, weight=..."
        )
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    if logits.ndim == 0:
        raise ValueError(f"cross_entropy: expected logits of shape (N, C), got {logits.shape}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    classes = logits.shape[0 if logits.ndim == 1 else 1]
    sample_shape = logits.shape[:1] + logits.shape[2:] if logits.ndim > 1 else ()  # one loss per sample
    if weight is not None:
        weight = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
        if weight.shape != (classes,):
            raise ValueError(
                f"cross_entropy: weight must have shape ({classes},), one per class, got {weight.shape}"
            )
        weight = weight.astype(logits.dtype)
    probabilities = target.dtype.kind == "f"
    if probabilities and target.shape != logits.shape:
        raise ValueError(
            f"cross_entropy: class probabilities must have the logits' shape {logits.shape}, got {target.shape}"
        )
    if not probabilities and (target.shape != sample_shape or target.dtype.kind not in "iu"):
        raise ValueError(
            f"cross_entropy: expected integer class indices of shape {sample_shape} for logits of "
            f"shape {logits.shape}, got {target.dtype} of shape {target.shape}"
        )
    # Every layout becomes rows of C logits, with one target (or one row of probabilities) each.
    log_probabilities = log_softmax(_rows_of_classes(logits), axis=1)
    if probabilities:
        target = _rows_of_classes(target.astype(logits.dtype))
        losses, divisor = _cross_entropy_of_probabilities(log_probabilities, target, weight, label_smoothing)
    else:
        target = target.reshape(-1)
        losses, divisor = _cross_entropy_of_indices(
            log_probabilities, target, weight, ignore_index, label_smoothing
        )
    if reduction == "none":
        return losses.reshape(sample_shape)
    if reduction == "mean" and divisor is not None:
        return losses.sum() / divisor
    return _reduce(losses, reduction, "cross_entropy")


def _rows_of_classes(values: Any) -> Any:
    """(N, C, d1, ...) as rows of C: the class axis moved last, the rest flattened; (C,) as one row."""
    if values.ndim == 2:
        return values
    if values.ndim == 1:
        return values.reshape(1, -1)
    values = values.transpose(0, *range(2, values.ndim), 1)
    return values.reshape(-1, values.shape[-1])


def _cross_entropy_of_indices(
    log_probabilities: Tensor,
    target: np.ndarray,
    weight: np.ndarray | None,
    ignore_index: int,
    label_smoothing: float,
) -> tuple[Tensor, float | None]:
    """Each row's loss, and what ``"mean"`` divides by (None: the number of rows)."""
    rows, classes = log_probabilities.shape
    kept = target != ignore_index
    everything_kept = kept.all()
    counted = target if everything_kept else target[kept]
    if counted.size and (counted.min() < 0 or counted.max() >= classes):
        bad = counted[(counted < 0) | (counted >= classes)][0]
        raise ValueError(
            f"cross_entropy: target {bad} is out of range for {classes} classes (0 to {classes - 1})"
        )
    if not everything_kept:
        target = np.where(kept, target, 0)  # any class: the where below drops these rows
    losses = -log_probabilities[np.arange(rows), target]
    divisor = None if everything_kept else float(kept.sum())
    if weight is not None:
        sample_weights = np.where(kept, weight[target], 0)
        losses = losses * sample_weights
        divisor = float(sample_weights.sum())
    if label_smoothing:
        spread = log_probabilities if weight is None else log_probabilities * weight
        losses = losses * (1 - label_smoothing) - spread.sum(axis=1) * (label_smoothing / classes)
    if not everything_kept:
        losses = where(kept, losses, 0.0)
    return losses, divisor


def _cross_entropy_of_probabilities(
    log_probabilities: Tensor, target: np.ndarray, weight: np.ndarray | None, label_smoothing: float
) -> tuple[Tensor, None]:
    """Each row's loss, ``-sum(p * log q)``; ``"mean"`` divides by the number of rows, weights or not."""
    classes = log_probabilities.shape[1]
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    if weight is not None:
        target = target * weight
    return -(log_probabilities * target).sum(axis=1), None


@composite
def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """The squared error ``(input - target)**2``, averaged (or summed, or not reduced)."""
    target_shape = np.shape(target.data if isinstance(target, Tensor) else target)
    if target_shape != input.shape:
        raise ValueError(
            f"mse_loss: input shape {input.shape} and target shape {target_shape} differ; "
            f"the loss compares them element by element, so reshape one to match the other"
        )
    return _reduce((input - target) ** 2, reduction, "mse_loss")


@composite
def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Does nothing when not training. The random mask is a constant of the graph.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be between 0 and 1, got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    keep = random.generator().random(x.shape) >= p
    return x * Tensor._wrap((keep / (1 - p)).astype(x.dtype))


def _channel_shape(x: Tensor) -> tuple[int, ...]:
    """How per-channel values (shape (C,)) line up with an (N, C, ...) input.

    (1, C, 1, ...) for an input with axes after the channels. An (N, C) input needs no
    reshape: (C,) already broadcasts along its last axis.
    """
    if x.ndim == 2:
        return (x.shape[1],)
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


@composite
def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization (Ioffe & Szegedy, 2015), composed from primitives.

    For an input of shape (N, C) or (N, C, ...), per channel c::

        mean     = mean of x over every axis but 1         (batch statistics, training)
        centered = x - mean
        var      = mean of centered**2 over the same axes  (the biased variance)
        scale    = weight / sqrt(var + eps)                (the paper's gamma; 1 if no weight)
        y        = centered * scale + bias                 (the paper's beta)

    which is the paper's ``gamma * x_hat + beta`` with ``x_hat = centered / sqrt(var +
    eps)``, multiplied in another order. ``mean``, ``var`` and ``scale`` are one number
    per channel; only ``centered`` and ``y`` are the input's size. Three choices keep
    the full-size work down, and change no value:

    - the variance is taken from ``centered`` rather than by calling ``var(x)``, which
      would subtract the mean a second time;
    - ``sqrt(var + eps)`` divides the small ``weight`` rather than the full-size
      ``centered``: a product's backward rule costs two full-size multiplications where
      a quotient's costs four full-size operations;
    - ``x_hat`` is never formed. It would cost a full-size product forward and two
      backward, and ``weight``'s gradient, ``sum(grad * x_hat)``, would keep it in the
      graph until backward: a third array of the input's size, beside ``centered``
      (which the variance's rule reads) and the output.

    In training, ``running_mean`` and ``running_var`` (if given) are updated in place
    as an exponentially weighted moving average::

        running = (1 - momentum) * running + momentum * batch_statistic

    with the *unbiased* batch variance going into ``running_var``, as in PyTorch. The
    paper's EWMA weight "beta" is ``1 - momentum`` here. Out of training, the running
    statistics are used instead of batch statistics, and nothing is updated.

    The gradient is not written anywhere: it comes from the chain rule through
    ``mean``, ``var``, ``sub``, ``pow``, ``sqrt``, ``div``, ``mul`` and ``broadcast_to``.
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, ...), got {x.shape}")
    _check_per_channel(x, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    if training and running_mean is not None and not isinstance(momentum, numbers.Real):
        raise TypeError(f"batch_norm: momentum must be a number, got {momentum!r}")
    axes = (0, *range(2, x.ndim))
    channel_shape = _channel_shape(x)
    if training:
        values_per_channel = x.size // x.shape[1]
        if values_per_channel <= 1:
            raise ValueError(
                f"batch_norm: training needs more than 1 value per channel to compute a "
                f"variance, got input of shape {x.shape}. Use a larger batch, or call "
                f".eval() to normalize with the running statistics"
            )
        mean = x.mean(axes, keepdims=True)
        centered = x - mean
        var = _variance_of_centered(centered, axes)
        if running_mean is not None and running_var is not None:
            with no_grad():
                unbiased_var = var.data * (values_per_channel / (values_per_channel - 1))
                _moving_average(running_mean, mean.data, momentum)
                _moving_average(running_var, unbiased_var, momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation needs running_mean and running_var (or training=True)")
        centered = x - running_mean.reshape(channel_shape)
        var = running_var.reshape(channel_shape)
    std = (var + eps).sqrt()
    scale = (1 if weight is None else weight.reshape(channel_shape)) / std
    y = centered * scale
    if bias is not None:
        y = y + bias.reshape(channel_shape)
    return y


def _check_per_channel(x: Tensor, **per_channel: Tensor | None) -> None:
    """Each given one a Tensor of shape (C,): checked before anything, so that a bad one changes no state."""
    channels = x.shape[1]
    for name, value in per_channel.items():
        if value is not None and (not isinstance(value, Tensor) or value.shape != (channels,)):
            given = f"shape {value.shape}" if isinstance(value, Tensor) else f"a {type(value).__name__}"
            raise ValueError(
                f"batch_norm: {name} must be a Tensor of shape ({channels},) for an input of "
                f"shape {x.shape}, got {given}"
            )


def _variance_of_centered(centered: Tensor, axes: tuple[int, ...]) -> Tensor:
    """The biased variance, ``mean(centered**2)``, from deviations ``x - mean`` at hand.

    This is what ``x.var(axes, keepdims=True)`` computes, without subtracting the mean
    again; its nodes are drawn in a ``var`` box all the same.
    """
    with scope("var"):
        return (centered**2).mean(axes, keepdims=True)


def _moving_average(running: Tensor, batch_statistic: np.ndarray, momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * batch_statistic, in place."""
    running.data *= 1 - momentum
    running.data += momentum * batch_statistic.reshape(running.shape)


@composite
def layer_norm(
    x: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize over the last ``len(normalized_shape)`` axes of each sample.

    ``x_hat = (x - mean) / sqrt(var + eps)`` with the biased variance, then
    ``weight * x_hat + bias`` (both of shape ``normalized_shape``). The same in
    training and evaluation: there are no running statistics.

    Unlike batch norm's, the statistics here are one per sample and ``weight`` one per
    feature, so folding ``weight`` into ``1 / sqrt(var + eps)`` would make a full-size
    tensor; ``x_hat`` is formed instead, from the small inverse.
    """
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(normalized_shape)
    count = len(normalized_shape)
    if x.shape[x.ndim - count :] != normalized_shape:
        raise ValueError(
            f"layer_norm: the input's last axes {x.shape[x.ndim - count :]} must equal "
            f"normalized_shape {normalized_shape} (input shape {x.shape})"
        )
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and value.shape != normalized_shape:
            raise ValueError(
                f"layer_norm: {name} must have normalized_shape {normalized_shape}, got {value.shape}"
            )
    axes = tuple(range(x.ndim - count, x.ndim))
    centered = x - x.mean(axes, keepdims=True)
    var = _variance_of_centered(centered, axes)
    y = centered * (1 / (var + eps).sqrt())
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y
