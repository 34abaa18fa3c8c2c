"""Neural-network functions, all composed from the core ops: none has backward code.

Each function is a composite (see :func:`minigrad.engine.composite`): its nodes are
tagged with a scope of its name, so ``batch_norm`` can be drawn as one box or opened
up into the ``mean``, ``var``, ``sub``, ``pow``, ``sqrt``, ``div``, ``mul`` and
``broadcast_to`` nodes it is made of. Its gradient is whatever the chain rule through
those primitives gives, and the tests check that this equals the hand-derived formula.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad import ops, random
from minigrad.composite import clip, log_softmax, softmax
from minigrad.engine import composite, no_grad, scope
from minigrad.ops import relu, sigmoid, tanh, where
from minigrad.primitives import Erf
from minigrad.tensor import Tensor

__all__ = [
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "elu",
    "embedding",
    "gelu",
    "huber_loss",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "relu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
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


# ---- activations -------------------------------------------------------------------------


@composite
def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """``x`` where x > 0, else ``negative_slope * x``; the slope at 0 is ``negative_slope``, as in PyTorch."""
    x = ops._tensor(x)
    return where(x.data > 0, x, x * negative_slope)


@composite
def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """The exponential linear unit: ``x`` where x > 0, else ``alpha * (exp(x) - 1)``.

    The slope at 0 is the left one, ``alpha``, as in PyTorch. exp is given only the
    values that are not positive (0 in place of the others): exp of a large x would be
    inf, and although where discards that branch, its gradient would be 0 * inf = nan.
    """
    x = ops._tensor(x)
    positive = x.data > 0
    not_positive = where(positive, 0.0, x)
    return where(positive, x, (not_positive.exp() - 1) * alpha)


@composite
def silu(x: Any) -> Tensor:
    """The sigmoid linear unit (also called swish): ``x * sigmoid(x)``."""
    x = ops._tensor(x)
    return x * sigmoid(x)


@composite
def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, a smooth relu whose slope is ``sigmoid(beta * x)``.

    Where ``beta * x > threshold`` the result is ``x`` itself (slope 1), as in PyTorch:
    the two differ by less than ``exp(-threshold) / beta`` there.
    """
    x = ops._tensor(x)
    scaled = x * beta
    return where(scaled.data > threshold, x, _log_one_plus_exp(scaled) / beta)


def _log_one_plus_exp(z: Tensor) -> Tensor:
    """``log(1 + exp(z))`` for z of any size: as written where z <= 0, ``z + log(1 + exp(-z))`` where z > 0.

    The two are equal (take exp(z) out of the sum: log(exp(z) * (exp(-z) + 1))), and
    this way exp only ever sees ``-|z|``, so it cannot overflow. Each piece is smooth,
    so the slope, sigmoid(z), and its own slope come out right everywhere, at 0 too.
    """
    positive = z.data > 0
    log_term = (1 + where(positive, -z, z).exp()).log()  # log(1 + exp(-|z|))
    return where(positive, z + log_term, log_term)


@composite
def gelu(x: Any, approximate: str = "none") -> Tensor:
    """The Gaussian error linear unit (Hendrycks & Gimpel, 2016): ``x * Phi(x)``.

    Phi is the standard normal CDF, the probability that a sample of N(0, 1) is below x::

        gelu(x) = 0.5 * x * (1 + erf(x / sqrt(2)))

    ``approximate="tanh"`` uses the paper's approximation of Phi, which needs no erf::

        gelu(x) ~ 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f'gelu: approximate must be "none" or "tanh", got {approximate!r}')
    x = ops._tensor(x)
    if approximate == "tanh":
        cdf = 0.5 * (1 + ((x + x**3 * 0.044715) * math.sqrt(2 / math.pi)).tanh())
    else:
        cdf = 0.5 * (1 + Erf.apply(x * math.sqrt(0.5)))
    return x * cdf


# ---- losses ------------------------------------------------------------------------------


def _reduce(losses: Tensor, reduction: str, op_name: str) -> Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f'{op_name}: reduction must be "mean", "sum" or "none", got {reduction!r}')


def _array(value: Any) -> np.ndarray:
    """The numbers of a Tensor, or of an array or a list: for targets, indices and weights."""
    return np.asarray(value.data if isinstance(value, Tensor) else value)


def _check_same_shape(input: Tensor, target: Any, op_name: str) -> None:
    target_shape = _array(target).shape
    if target_shape != input.shape:
        raise ValueError(
            f"{op_name}: input shape {input.shape} and target shape {target_shape} differ; "
            f"the loss compares them element by element, so reshape one to match the other"
        )


def _check_weight_is_not_a_reduction(weight: Any, op_name: str) -> None:
    """A clear error for ``loss(input, target, "sum")``.

    The third argument is ``weight`` here, as in PyTorch; ``cross_entropy`` and
    ``mse_loss`` take the reduction there instead.
    """
    if isinstance(weight, str):
        raise ValueError(
            f"{op_name}: weight (the third argument) must be a tensor or an array, got {weight!r}; "
            f"pass the reduction by name: reduction={weight!r}"
        )


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

    With class indices and no smoothing, this is ``nll_loss(log_softmax(logits, axis=1), target)``.
    """
    if not isinstance(reduction, str):  # PyTorch's third argument is weight
        raise ValueError(
            f'cross_entropy: reduction (the third argument) must be "mean", "sum" or "none", got '
            f"{reduction!r}; pass class weights by name, weight=..."
        )
    target = _array(target)
    classes, sample_shape = _class_layout(logits, "logits", "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    weight = _class_weight(weight, classes, logits.dtype, "cross_entropy")
    probabilities = target.dtype.kind == "f"
    if probabilities and target.shape != logits.shape:
        raise ValueError(
            f"cross_entropy: class probabilities must have the logits' shape {logits.shape}, got {target.shape}"
        )
    if not probabilities:
        _check_class_indices(target, sample_shape, logits.shape, "logits", "cross_entropy")
    # Every layout becomes rows of C logits, with one target (or one row of probabilities) each.
    log_probabilities = log_softmax(_rows_of_classes(logits), axis=1)
    if probabilities:
        target = _rows_of_classes(target.astype(logits.dtype))
        losses, divisor = _cross_entropy_of_probabilities(log_probabilities, target, weight, label_smoothing)
    else:
        losses, divisor = _negative_log_likelihood(
            log_probabilities, target.reshape(-1), weight, ignore_index, label_smoothing, "cross_entropy"
        )
    return _reduce_samples(losses, divisor, reduction, sample_shape, "cross_entropy")


@composite
def nll_loss(
    input: Tensor, target: Any, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """The negative log-likelihood of the target classes, given log-probabilities: ``-input[n, target[n]]``.

    ``input`` holds log-probabilities (``log_softmax``'s output) of shape (N, C), or
    (N, C, d1, ...) with the classes along axis 1, or (C,) for one sample; ``target``
    holds the class indices, of the input's shape without axis C. ``weight`` (one
    number per class) and ``ignore_index`` work as in :func:`cross_entropy`, which is
    ``nll_loss(log_softmax(logits, axis=1), target)``.
    """
    _check_weight_is_not_a_reduction(weight, "nll_loss")
    target = _array(target)
    classes, sample_shape = _class_layout(input, "log-probabilities", "nll_loss")
    weight = _class_weight(weight, classes, input.dtype, "nll_loss")
    _check_class_indices(target, sample_shape, input.shape, "log-probabilities", "nll_loss")
    losses, divisor = _negative_log_likelihood(
        _rows_of_classes(input), target.reshape(-1), weight, ignore_index, 0.0, "nll_loss"
    )
    return _reduce_samples(losses, divisor, reduction, sample_shape, "nll_loss")


def _class_layout(input: Tensor, input_name: str, op_name: str) -> tuple[int, tuple[int, ...]]:
    """The number of classes C, and the shape of one loss per sample, for (N, C, d1, ...), (N, C) or (C,)."""
    if input.ndim == 0:
        raise ValueError(f"{op_name}: expected {input_name} of shape (N, C), got {input.shape}")
    classes = input.shape[0 if input.ndim == 1 else 1]
    sample_shape = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()  # one loss per sample
    return classes, sample_shape


def _class_weight(weight: Any, classes: int, dtype: np.dtype, op_name: str) -> np.ndarray | None:
    """One weight per class, as a constant array of the input's dtype (None stays None)."""
    if weight is None:
        return None
    weight = _array(weight)
    if weight.shape != (classes,):
        raise ValueError(f"{op_name}: weight must have shape ({classes},), one per class, got {weight.shape}")
    return weight.astype(dtype)


def _check_class_indices(
    target: np.ndarray,
    sample_shape: tuple[int, ...],
    input_shape: tuple[int, ...],
    input_name: str,
    op_name: str,
) -> None:
    if target.shape != sample_shape or target.dtype.kind not in "iu":
        raise ValueError(
            f"{op_name}: expected integer class indices of shape {sample_shape} for {input_name} of "
            f"shape {input_shape}, got {target.dtype} of shape {target.shape}"
        )


def _rows_of_classes(values: Any) -> Any:
    """(N, C, d1, ...) as rows of C: the class axis moved last, the rest flattened; (C,) as one row."""
    if values.ndim == 2:
        return values
    if values.ndim == 1:
        return values.reshape(1, -1)
    values = values.transpose(0, *range(2, values.ndim), 1)
    return values.reshape(-1, values.shape[-1])


def _negative_log_likelihood(
    log_probabilities: Tensor,
    target: np.ndarray,
    weight: np.ndarray | None,
    ignore_index: int,
    label_smoothing: float,
    op_name: str,
) -> tuple[Tensor, float | None]:
    """Each row's loss, ``-log_probabilities[row, target[row]]``, and what ``"mean"`` divides by.

    The divisor is None for the number of rows: when no target is ignored and there are no weights.
    """
    rows, classes = log_probabilities.shape
    kept = target != ignore_index
    everything_kept = kept.all()
    counted = target if everything_kept else target[kept]
    if counted.size and (counted.min() < 0 or counted.max() >= classes):
        bad = counted[(counted < 0) | (counted >= classes)][0]
        raise ValueError(
            f"{op_name}: target {bad} is out of range for {classes} classes (0 to {classes - 1})"
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


def _reduce_samples(
    losses: Tensor, divisor: float | None, reduction: str, sample_shape: tuple[int, ...], op_name: str
) -> Tensor:
    """One loss per sample, in ``sample_shape``; or their sum; or their mean (sum / divisor, if given)."""
    if reduction == "none":
        return losses.reshape(sample_shape)
    if reduction == "mean" and divisor is not None:
        return losses.sum() / divisor
    return _reduce(losses, reduction, op_name)


@composite
def binary_cross_entropy(
    input: Tensor, target: Any, weight: Any = None, *, reduction: str = "mean"
) -> Tensor:
    """The cross-entropy of probabilities ``input`` against targets in [0, 1], elementwise::

        loss = -weight * (target * log(input) + (1 - target) * log(1 - input))

    Each log is clamped at -100, as in PyTorch, so that a probability of exactly 0 or
    1 gives a finite loss. ``weight`` (a constant) broadcasts to the input's shape. For
    the output of a sigmoid, :func:`binary_cross_entropy_with_logits` of the sigmoid's
    input is more accurate.

    The gradient is the chain rule's, ``weight * (input - target) / (input * (1 - input))``,
    with nothing from a log that is clamped. PyTorch's own rule divides by
    ``max(input * (1 - input), 1e-12)``, so the two differ only for an input within
    about 1e-12 of 0 or 1.
    """
    _check_weight_is_not_a_reduction(weight, "binary_cross_entropy")
    _check_same_shape(input, target, "binary_cross_entropy")
    for name, values in (("input", input.data), ("target", _array(target))):
        if not ((values >= 0) & (values <= 1)).all():
            hint = "; for logits (scores before a sigmoid), use binary_cross_entropy_with_logits"
            raise ValueError(
                f"binary_cross_entropy: {name} values must be probabilities in [0, 1], got values "
                f"from {values.min()} to {values.max()}{hint if name == 'input' else ''}"
            )
    weight = _elementwise_weight(weight, input, "weight", "binary_cross_entropy")
    target = ops._tensor(target)
    losses = -(target * _log_at_least_minus_100(input) + (1 - target) * _log_at_least_minus_100(1 - input))
    return _reduce(losses if weight is None else losses * weight, reduction, "binary_cross_entropy")


def _log_at_least_minus_100(probabilities: Tensor) -> Tensor:
    """``log(p)``, clamped at -100 as PyTorch's binary_cross_entropy does, for p in [0, 1].

    log(0) = -inf would be clamped, but its slope 1 / 0 would still make the gradient
    0 * inf = nan; so a 0 is first raised to the smallest positive float, whose log
    (-745 in float64, -103 in float32) is clamped to -100 all the same.
    """
    smallest = np.finfo(probabilities.dtype).smallest_subnormal
    return clip(clip(probabilities, min=smallest).log(), min=-100.0)


@composite
def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Any,
    weight: Any = None,
    *,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """``binary_cross_entropy(sigmoid(input), target)``, computed from the logits: no logit is too large.

    With x = input, t = target and pos_weight p (1 if not given), the loss per element::

        -weight * (p * t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x)))
            = weight * ((1 - t) * x + (1 + (p - 1) * t) * softplus(-x))

    by ``log(sigmoid(x)) = -softplus(-x)`` and ``log(1 - sigmoid(x)) = -x - softplus(-x)``,
    with ``softplus(z) = log(1 + exp(z))`` computed without overflow. The gradient, from
    the chain rule, is ``weight * ((1 + (p - 1) * t) * sigmoid(x) - p * t)``: at p = 1,
    ``weight * (sigmoid(x) - t)``.

    ``pos_weight`` weighs the positive term: one number per class along the last axis
    raises the recall of rare classes. It and ``weight`` are constants that broadcast
    to the input's shape.
    """
    _check_weight_is_not_a_reduction(weight, "binary_cross_entropy_with_logits")
    _check_same_shape(input, target, "binary_cross_entropy_with_logits")
    weight = _elementwise_weight(weight, input, "weight", "binary_cross_entropy_with_logits")
    pos_weight = _elementwise_weight(pos_weight, input, "pos_weight", "binary_cross_entropy_with_logits")
    target = ops._tensor(target)
    minus_log_sigmoid = _log_one_plus_exp(-input)  # softplus(-x)
    if pos_weight is not None:
        minus_log_sigmoid = minus_log_sigmoid * (1 + (pos_weight - 1) * target)
    losses = (1 - target) * input + minus_log_sigmoid
    return _reduce(
        losses if weight is None else losses * weight, reduction, "binary_cross_entropy_with_logits"
    )


def _elementwise_weight(weight: Any, input: Tensor, name: str, op_name: str) -> np.ndarray | None:
    """A weight of the losses, as a constant array of the input's dtype that broadcasts to its shape."""
    if weight is None:
        return None
    weight = _array(weight).astype(input.dtype)
    aligned = zip(reversed(weight.shape), reversed(input.shape))
    if weight.ndim > input.ndim or any(length not in (1, input_length) for length, input_length in aligned):
        raise ValueError(
            f"{op_name}: {name} of shape {weight.shape} must broadcast to the input's shape {input.shape}"
        )
    return weight


@composite
def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """The squared error ``(input - target)**2``, averaged (or summed, or not reduced)."""
    _check_same_shape(input, target, "mse_loss")
    return _reduce((input - target) ** 2, reduction, "mse_loss")


@composite
def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """The absolute error ``|input - target|``, averaged (or summed, or not reduced).

    Its slope is ``sign(input - target)``, 0 where the two are equal, as in PyTorch.
    """
    _check_same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction, "l1_loss")


@composite
def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Squared error near the target, absolute error far from it. With d = input - target::

        loss = 0.5 * d**2                    where |d| < delta
               delta * (|d| - 0.5 * delta)   elsewhere

    The pieces meet at ``|d| = delta`` with the same value and slope (±delta), so the
    loss is smooth there; far from the target its slope stays ±delta, so outliers pull
    less than in :func:`mse_loss`.
    """
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    _check_same_shape(input, target, "huber_loss")
    return _reduce(_huber(input - target, delta), reduction, "huber_loss")


@composite
def smooth_l1_loss(input: Tensor, target: Any, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``huber_loss / beta``: with d = input - target::

        loss = 0.5 * d**2 / beta     where |d| < beta
               |d| - 0.5 * beta      elsewhere

    Far from the target the slope is ±1, as in :func:`l1_loss`; ``beta=0`` is the l1 loss.
    """
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must not be negative, got {beta}")
    _check_same_shape(input, target, "smooth_l1_loss")
    difference = input - target
    # With beta = 0 the quadratic piece is never used, but its 0 / 0 would reach the gradient as nan.
    losses = difference.abs() if beta == 0 else _huber(difference, beta) / beta
    return _reduce(losses, reduction, "smooth_l1_loss")


def _huber(difference: Tensor, delta: float) -> Tensor:
    """``0.5 * d**2`` where ``|d| < delta``, else ``delta * (|d| - 0.5 * delta)``.

    Only the small differences are squared (0 in place of the others), so that a huge
    one cannot overflow to inf in the piece that where discards.
    """
    size = difference.abs()
    small = size.data < delta
    return where(small, 0.5 * where(small, difference, 0.0) ** 2, delta * (size - 0.5 * delta))


# ---- dropout and normalization -----------------------------------------------------------


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


# ---- indices: one_hot and embedding --------------------------------------------------------


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Class indices as one-hot rows: ``result[..., c]`` is 1 where ``tensor[...] == c``, else 0.

    The result has shape (*tensor.shape, num_classes) and dtype int64, as in PyTorch,
    and no gradient (indices have none). ``num_classes=-1`` takes one more than the
    largest index.
    """
    indices = _array(tensor)
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
def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """The rows of ``weight`` that the indices in ``input`` pick: ``weight[input]``.

    ``weight`` has shape (num_embeddings, embedding_dim), the result (*input.shape,
    embedding_dim). The gradient is indexing's: each row gets the sum of the gradients
    of the positions that picked it. Positions whose index is ``padding_idx`` read
    their row as a constant, so that row gets no gradient and keeps its value
    (``nn.Embedding`` starts it at zeros), as in PyTorch.
    """
    indices = _array(input)
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
    looked_up = weight[indices]
    if padding_idx is not None:
        is_padding = indices[..., np.newaxis] == _padding_row(padding_idx, rows, "embedding")
        looked_up = where(is_padding, looked_up.detach(), looked_up)
    return looked_up


def _padding_row(padding_idx: int, num_embeddings: int, op_name: str) -> int:
    """``padding_idx`` as a row number: -1 is the last row, as in PyTorch."""
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"{op_name}: padding_idx must be a row of the {num_embeddings} embeddings "
            f"({-num_embeddings} to {num_embeddings - 1}), got {padding_idx}"
        )
    return padding_idx % num_embeddings
