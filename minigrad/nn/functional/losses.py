"""Loss functions: cross-entropy and negative log-likelihood, binary cross-entropy, squared,
absolute and Huber errors, KL divergence; each reduces by "mean", "sum" or "none" (kl_div also
by "batchmean")."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.composite import clip, log_softmax
from minigrad.engine import composite
from minigrad.nn.functional.activations import _log_one_plus_exp
from minigrad.ops import where
from minigrad.tensor import Tensor


def _reduce(losses: Tensor, reduction: str, op_name: str) -> Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f'{op_name}: reduction must be "mean", "sum" or "none", got {reduction!r}')


def _check_same_shape(input: Tensor, target: Any, op_name: str) -> None:
    target_shape = np.asarray(target).shape
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
    target = np.asarray(target)
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
    target = np.asarray(target)
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
    weight = np.asarray(weight)
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
        hint = ""
        if len(input_shape) >= 3 and target.shape == input_shape[:-1]:
            # (N, L, C) scores with (N, L) targets: a sequence model's layout, not PyTorch's
            hint = (
                f". The classes go on axis 1, as in PyTorch: for {input_name} of shape (N, L, C) pass "
                f"input.swapaxes(1, 2), or input.reshape(-1, {input_shape[-1]}) with target.reshape(-1)"
            )
        raise ValueError(
            f"{op_name}: expected integer class indices of shape {sample_shape} for {input_name} of "
            f"shape {input_shape}, got {target.dtype} of shape {target.shape}{hint}"
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
    for name, values in (("input", input.data), ("target", np.asarray(target))):
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
    weight = np.asarray(weight).astype(input.dtype)
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


@composite
def kl_div(input: Tensor, target: Any, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """The Kullback-Leibler divergence of the distribution ``input`` from ``target``, elementwise.

    As in PyTorch, ``input`` holds log-probabilities log q (``log_softmax``'s output),
    and ``target`` the probabilities p, or their logs t = log p with ``log_target=True``::

        loss = p * (log p - log q) = xlogy(p, p) - p * input
        loss = exp(t) * (t - input)                              (log_target=True)

    ``xlogy(p, p) = p * log(p)`` is taken as 0 where p = 0, its limit, so a target of 0
    adds nothing, and the gradient stays finite: ``-p`` with respect to the input, as in
    PyTorch, and ``log(p) + 1 - input`` with respect to a target that requires grad
    (``-input`` at p = 0, where PyTorch's is nan).

    ``reduction="batchmean"`` divides the sum by the batch size ``input.shape[0]``: with
    one distribution per row, the mean KL divergence of the rows. ``"mean"`` divides by
    the number of elements, which is not a KL divergence; PyTorch warns about it, and so
    does minigrad.
    """
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(f'kl_div: reduction must be "mean", "batchmean", "sum" or "none", got {reduction!r}')
    _check_same_shape(input, target, "kl_div")
    target = ops._tensor(target)
    if log_target:
        losses = target.exp() * (target - input)
    else:
        zero = target.data == 0
        # p * log(p), with log(1) = 0 in place of log(0) = -inf: 0 * -inf would be nan.
        losses = target * where(zero, 1.0, target).log() - target * input
    if reduction == "mean":
        warnings.warn(
            'kl_div: reduction="mean" divides the total by the number of elements, which is not the KL '
            'divergence; reduction="batchmean" divides by the batch size, as its definition does',
            stacklevel=3,
        )
    if reduction == "batchmean":
        total = losses.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(losses, reduction, "kl_div")
