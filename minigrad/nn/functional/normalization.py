"""Batch, layer, group and instance norm, composed from primitives: their gradients come from the chain rule."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from minigrad.engine import composite, no_grad, scope
from minigrad.tensor import Tensor


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
    _check_per_channel(
        "batch_norm", x, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias
    )
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


def _check_per_channel(function_name: str, x: Tensor, **per_channel: Tensor | None) -> None:
    """Each given one a Tensor of shape (C,): checked before anything, so that a bad one changes no state."""
    channels = x.shape[1]
    for name, value in per_channel.items():
        if value is not None and (not isinstance(value, Tensor) or value.shape != (channels,)):
            given = f"shape {value.shape}" if isinstance(value, Tensor) else f"a {type(value).__name__}"
            raise ValueError(
                f"{function_name}: {name} must be a Tensor of shape ({channels},) for an input of "
                f"shape {x.shape}, got {given}"
            )


def _variance_of_centered(centered: Tensor, axes: tuple[int, ...]) -> Tensor:
    """The biased variance, ``mean(centered**2)``, from deviations ``x - mean`` at hand.

    This is what ``x.var(axes, keepdims=True)`` computes, without subtracting the mean
    again; its nodes are drawn in a ``var`` box all the same.
    """
    with scope("var"):
        return (centered**2).mean(axes, keepdims=True)


def _normalized(x: Tensor, axes: tuple[int, ...], eps: float) -> Tensor:
    """``x_hat = (x - mean) / sqrt(var + eps)``, with the mean and biased variance over ``axes``.

    The statistics are one number per position of the other axes; ``x_hat`` is made by
    multiplying with their inverse, so that only that small tensor is divided.
    """
    centered = x - x.mean(axes, keepdims=True)
    var = _variance_of_centered(centered, axes)
    return centered * (1 / (var + eps).sqrt())


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
    y = _normalized(x, tuple(range(x.ndim - count, x.ndim)), eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


@composite
def group_norm(
    x: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Group normalization (Wu & He, 2018): normalize each sample over groups of channels.

    For an input of shape (N, C) or (N, C, ...), the C channels are split in order into
    ``num_groups`` groups of ``C // num_groups`` channels. For each sample n and group g::

        values   = x[n, channels of g, ...]             (every position of those channels)
        mean     = mean of values
        var      = mean of (values - mean)**2           (the biased variance)
        x_hat    = (values - mean) / sqrt(var + eps)
        y        = weight[c] * x_hat + bias[c]          (per channel c; weight 1, bias 0 if None)

    It is computed by reshaping x to (N, num_groups, group_size), normalizing over the
    last axis as layer norm does, and reshaping back. The same in training and
    evaluation: there are no running statistics. ``num_groups=1`` is layer norm over
    (C, ...) with a per-channel affine; ``num_groups=C`` is instance norm.

    The gradient is not written anywhere: it comes from the chain rule through
    ``reshape``, ``mean``, ``sub``, ``pow``, ``sqrt``, ``div``, ``mul`` and ``broadcast_to``.
    """
    if x.ndim < 2:
        raise ValueError(f"group_norm: expected an input of shape (N, C, ...), got {x.shape}")
    channels = x.shape[1]
    if not isinstance(num_groups, numbers.Integral) or num_groups < 1:
        raise ValueError(f"group_norm: num_groups must be a positive integer, got {num_groups!r}")
    if channels % num_groups != 0:
        raise ValueError(
            f"group_norm: the input's {channels} channels (shape {x.shape}) are not divisible by "
            f"num_groups={num_groups}. Use a num_groups that divides {channels}, such as 1 or {channels}"
        )
    _check_per_channel("group_norm", x, weight=weight, bias=bias)
    group_size = channels // num_groups * math.prod(x.shape[2:])
    grouped = x.reshape(x.shape[0], num_groups, group_size)
    y = _normalized(grouped, (2,), eps).reshape(x.shape)
    channel_shape = _channel_shape(x)
    if weight is not None:
        y = y * weight.reshape(channel_shape)
    if bias is not None:
        y = y + bias.reshape(channel_shape)
    return y


@composite
def instance_norm(
    x: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Instance normalization (Ulyanov et al., 2016): normalize each sample's each channel over its positions.

    For an input of shape (N, C, ...) with at least one axis after the channels, per
    sample n and channel c::

        mean  = mean of x[n, c]                       (over every position)
        var   = mean of (x[n, c] - mean)**2           (the biased variance)
        y     = weight[c] * (x[n, c] - mean) / sqrt(var + eps) + bias[c]

    which is :func:`group_norm` with one channel per group, and is computed by it.

    With ``use_input_stats`` (the default), ``running_mean`` and ``running_var`` (if
    given) are updated in place as in :func:`batch_norm`, with the statistics of the
    batch taken as PyTorch takes them: each sample's mean and *unbiased* variance per
    channel, averaged over the samples. With ``use_input_stats=False`` the running
    statistics normalize instead, as batch norm does in evaluation, and nothing is updated.

    The gradient is not written anywhere: it comes from the chain rule through
    group norm's (or batch norm's) primitives.
    """
    if x.ndim < 3:
        raise ValueError(
            f"instance_norm: expected an input of shape (N, C, ...) with at least one axis after the "
            f"channels to normalize over, got {x.shape}"
        )
    _check_per_channel(
        "instance_norm", x, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias
    )
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError(
                "instance_norm: use_input_stats=False normalizes with running_mean and running_var, "
                "so both must be given (or use_input_stats=True)"
            )
        return batch_norm(x, running_mean, running_var, weight, bias, training=False, eps=eps)
    positions = math.prod(x.shape[2:])
    if positions <= 1:
        raise ValueError(
            f"instance_norm: needs more than 1 value per channel of each sample to compute a variance, "
            f"got input of shape {x.shape}. Normalize over more positions, or use batch_norm"
        )
    if running_mean is not None and running_var is not None:
        if not isinstance(momentum, numbers.Real):
            raise TypeError(f"instance_norm: momentum must be a number, got {momentum!r}")
        spatial_axes = tuple(range(2, x.ndim))
        _moving_average(running_mean, x.data.mean(axis=spatial_axes).mean(axis=0), momentum)
        _moving_average(running_var, x.data.var(axis=spatial_axes, ddof=1).mean(axis=0), momentum)
    return group_norm(x, x.shape[1], weight, bias, eps)
