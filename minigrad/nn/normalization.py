"""Normalization layers: batch norm (1d and 2d), layer norm, group norm and instance norm (1d and 2d)."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence

import numpy as np

from minigrad.creation import ones, zeros
from minigrad.nn import functional as F
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor


class _NormBase(Module):
    """What batch norm and instance norm share, as in PyTorch: per-channel parameters and running statistics.

    The parameters ``weight`` (ones) and ``bias`` (zeros), if ``affine``; the buffers
    ``running_mean`` (starts at 0), ``running_var`` (starts at 1) and
    ``num_batches_tracked``, if ``track_running_stats``. The same names as PyTorch's, so
    that state dicts load both ways.
    """

    # The input dimensions each subclass accepts, for the error message.
    accepted_ndims: tuple[int, ...] = ()
    accepted_shapes = ""

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: object = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_NormBase):
    """Batch norm over channel axis 1, with running statistics, as PyTorch's.

    The paper's gamma and beta are ``weight`` and ``bias``. ``momentum=None`` makes the
    running statistics a cumulative average over the batches seen so far instead of an
    exponential one.
    """

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if x.ndim not in self.accepted_ndims:
            raise ValueError(f"{name}: expected input of shape {self.accepted_shapes}, got {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: expected {self.num_features} channels in axis 1, got input of shape {x.shape}"
            )
        updates_running_stats = self.training and self.track_running_stats
        momentum = self.momentum
        if updates_running_stats and momentum is None:
            # A cumulative average: the k-th batch gets weight 1/k.
            momentum = 1.0 / (int(self.num_batches_tracked.data) + 1)
        y = F.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training=self.training or not self.track_running_stats,
            momentum=0.0 if momentum is None else momentum,
            eps=self.eps,
        )
        if updates_running_stats:
            self.num_batches_tracked.data += 1  # counted only once the batch went through
        return y


class BatchNorm1d(_BatchNorm):
    """Batch norm for inputs of shape (N, C) or (N, C, L): statistics per channel C."""

    accepted_ndims = (2, 3)
    accepted_shapes = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm for images of shape (N, C, H, W): statistics per channel C."""

    accepted_ndims = (4,)
    accepted_shapes = "(N, C, H, W)"


class LayerNorm(Module):
    """Normalize each sample over its last axes (``normalized_shape``), as PyTorch's."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: object = None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (int(normalized_shape),)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if elementwise_affine and bias:
            self.bias = Parameter(zeros(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class GroupNorm(Module):
    """Normalize each sample over groups of channels, as PyTorch's.

    The ``num_channels`` channels of an (N, C, ...) input are split into ``num_groups``
    groups; each sample's mean and variance are taken per group, over its channels and
    all their positions. ``weight`` (ones) and ``bias`` (zeros) are per channel, as in
    batch norm, but there are no running statistics: training and evaluation are alike.
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        dtype: object = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if num_groups < 1 or num_channels % num_groups != 0:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                f"({num_groups}). Use a num_groups that divides {num_channels}, such as 1 or {num_channels}"
            )
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        if affine:
            self.weight = Parameter(ones(num_channels, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(zeros(num_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class _InstanceNorm(_NormBase):
    """Instance norm over each sample's each channel, as PyTorch's (see :func:`instance_norm`).

    Unlike batch norm, it has neither parameters nor running statistics unless asked
    (``affine=True``, ``track_running_stats=True``). In evaluation it normalizes with the
    running statistics if it tracks them, else with each sample's own, as in training.
    ``num_batches_tracked`` is kept for PyTorch's state dicts, and stays 0 as there.
    An unbatched input, without the N axis, is normalized as a batch of one.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        dtype: object = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if x.ndim not in self.accepted_ndims:
            raise ValueError(f"{name}: expected input of shape {self.accepted_shapes}, got {x.shape}")
        unbatched = x.ndim == self.accepted_ndims[0]
        channel_axis = 0 if unbatched else 1
        if x.shape[channel_axis] != self.num_features:
            message = (
                f"{name}: expected {self.num_features} channels in axis {channel_axis}, got input of "
                f"shape {x.shape}"
            )
            if self.affine or self.track_running_stats:
                raise ValueError(message)
            # As PyTorch: without parameters or statistics, num_features is not needed.
            warnings.warn(f"{message}; num_features is unused with affine=False", stacklevel=2)
        batch = x.reshape(1, *x.shape) if unbatched else x
        y = F.instance_norm(
            batch,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            use_input_stats=self.training or not self.track_running_stats,
            momentum=0.0 if self.momentum is None else self.momentum,
            eps=self.eps,
        )
        return y.reshape(x.shape) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance norm for signals of shape (N, C, L), or one signal (C, L): statistics per sample and channel."""

    accepted_ndims = (2, 3)
    accepted_shapes = "(N, C, L) or (C, L)"


class InstanceNorm2d(_InstanceNorm):
    """Instance norm for images of shape (N, C, H, W), or one image (C, H, W): statistics per sample and channel."""

    accepted_ndims = (3, 4)
    accepted_shapes = "(N, C, H, W) or (C, H, W)"
