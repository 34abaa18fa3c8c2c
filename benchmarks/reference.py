"""The hand-written numpy implementations that minigrad is measured against.

Everything here is what a careful person would write with numpy alone: a forward pass
that keeps what the backward pass needs, backward rules worked out on paper (closed
form, no graph), and PyTorch's Adam updating the weights in place. Every array is
float32, like minigrad's.

The MLP stores its parameters and buffers under the keys of the matching minigrad
(and PyTorch) ``nn.Sequential``'s state dict -- ``"0.weight"``, ``"1.running_mean"``
-- so weights copy over from minigrad and results compare key by key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# ---- layers: forward and closed-form backward --------------------------------------------


def linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``x @ weight.T + bias``, with ``weight`` of shape (out_features, in_features)."""
    return x @ weight.T + bias


def linear_backward(
    grad_y: np.ndarray, x: np.ndarray, weight: np.ndarray, needs_grad_x: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of ``x @ weight.T + bias``.

    dL/dx = grad_y @ weight,  dL/dweight = grad_y.T @ x,  dL/dbias = sum of grad_y over the batch.
    The network's input needs no gradient, so ``needs_grad_x=False`` skips that matmul.
    """
    grad_x = grad_y @ weight if needs_grad_x else None
    return grad_x, grad_y.T @ x, grad_y.sum(axis=0)


@dataclass
class BatchNormCache:
    """What batch norm's backward needs from its forward pass."""

    x_hat: np.ndarray
    inverse_std: np.ndarray


def batch_norm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> tuple[np.ndarray, BatchNormCache]:
    """Batch norm in training mode over an (N, C) batch, as PyTorch's BatchNorm1d.

    ``x_hat = (x - mean) / sqrt(var + eps)`` with the batch mean and the *biased* batch
    variance, ``y = gamma * x_hat + beta``. The running statistics are updated in place
    with the *unbiased* variance: ``running = (1 - momentum) * running + momentum * stat``.
    """
    n = x.shape[0]
    mean = x.mean(axis=0)
    centered = x - mean
    var = np.mean(centered * centered, axis=0)
    inverse_std = 1 / np.sqrt(var + eps)
    x_hat = centered * inverse_std
    running_mean *= 1 - momentum
    running_mean += momentum * mean
    running_var *= 1 - momentum
    running_var += (momentum * n / (n - 1)) * var
    return gamma * x_hat + beta, BatchNormCache(x_hat, inverse_std)


def batch_norm_backward(
    grad_y: np.ndarray, cache: BatchNormCache, gamma: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of batch norm (training mode) with respect to x, gamma and beta.

    dL/dbeta = sum(dy),  dL/dgamma = sum(dy * x_hat), and, since mean and var depend on
    every x in the batch,  dL/dx = gamma * inverse_std / N * (N dy - sum(dy) - x_hat sum(dy x_hat)),
    sums taken over the batch axis.
    """
    n = grad_y.shape[0]
    grad_beta = grad_y.sum(axis=0)
    grad_gamma = (grad_y * cache.x_hat).sum(axis=0)
    grad_x = (gamma * cache.inverse_std / n) * (n * grad_y - grad_beta - cache.x_hat * grad_gamma)
    return grad_x, grad_gamma, grad_beta


def cross_entropy_forward_backward(logits: np.ndarray, labels: np.ndarray) -> tuple[np.float32, np.ndarray]:
    """The mean softmax cross-entropy loss and its gradient with respect to the logits.

    ``loss = mean_i(log(sum_j exp(z_ij)) - z_i,label_i)``;  dL/dz = (softmax(z) - onehot(label)) / N.
    """
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    exponentials = np.exp(shifted)
    sums = exponentials.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = np.mean(np.log(sums[:, 0]) - shifted[rows, labels])
    grad_logits = exponentials / sums
    grad_logits[rows, labels] -= 1
    grad_logits /= n
    return loss, grad_logits


# ---- the MLP and Adam -----------------------------------------------------------------------


class ReferenceMLP:
    """``(Linear -> BatchNorm1d -> ReLU) * k -> Linear`` in training mode, numpy only.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, e.g. ``(784, 1024, 1024, 10)``: two hidden blocks.
    state_dict : dict of str to ndarray
        Initial weights and running statistics, keyed as the matching ``nn.Sequential``
        of minigrad or PyTorch (block i is modules ``3i``, ``3i + 1``, ``3i + 2``). Copied.
    """

    def __init__(self, sizes: tuple[int, ...], state_dict: dict[str, np.ndarray]) -> None:
        self.num_hidden = len(sizes) - 2
        self.params: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        for key, value in state_dict.items():
            if key.endswith(("running_mean", "running_var")):
                self.buffers[key] = value.copy()
            elif key.endswith(("weight", "bias")):
                self.params[key] = value.copy()
        self.grads: dict[str, np.ndarray] = {}

    def zero_grad(self) -> None:
        """Drop the previous step's gradients (PyTorch's ``zero_grad(set_to_none=True)``)."""
        self.grads = {}

    def forward_backward(self, x: np.ndarray, labels: np.ndarray) -> np.float32:
        """Compute the loss on one batch, fill :attr:`grads`, and return the loss.

        Hidden block ``i`` is modules ``3i`` (Linear), ``3i + 1`` (BatchNorm1d) and
        ``3i + 2`` (ReLU); the output Linear comes last.
        """
        inputs, caches = [], []  # each block's input, and its batch norm's cache
        h = x
        for block in range(self.num_hidden):
            inputs.append(h)
            h = self._linear(h, 3 * block)
            h, cache = self._batch_norm(h, 3 * block + 1)
            h = np.maximum(h, 0)
            caches.append(cache)
        inputs.append(h)
        output_layer = 3 * self.num_hidden
        loss, grad = cross_entropy_forward_backward(self._linear(h, output_layer), labels)

        grad = self._linear_backward(grad, inputs[-1], output_layer, needs_grad_x=True)
        for block in reversed(range(self.num_hidden)):
            grad = grad * (inputs[block + 1] > 0)  # ReLU: its output is the next block's input
            grad = self._batch_norm_backward(grad, caches[block], 3 * block + 1)
            grad = self._linear_backward(grad, inputs[block], 3 * block, needs_grad_x=block > 0)
        return loss

    def _linear(self, x: np.ndarray, module: int) -> np.ndarray:
        return linear_forward(x, self.params[f"{module}.weight"], self.params[f"{module}.bias"])

    def _batch_norm(self, x: np.ndarray, module: int) -> tuple[np.ndarray, BatchNormCache]:
        gamma, beta = self.params[f"{module}.weight"], self.params[f"{module}.bias"]
        running_mean, running_var = (
            self.buffers[f"{module}.running_mean"],
            self.buffers[f"{module}.running_var"],
        )
        return batch_norm_forward(x, gamma, beta, running_mean, running_var)

    def _linear_backward(
        self, grad_y: np.ndarray, x: np.ndarray, module: int, needs_grad_x: bool
    ) -> np.ndarray:
        grad_x, grad_weight, grad_bias = linear_backward(
            grad_y, x, self.params[f"{module}.weight"], needs_grad_x
        )
        self.grads[f"{module}.weight"], self.grads[f"{module}.bias"] = grad_weight, grad_bias
        return grad_x

    def _batch_norm_backward(self, grad_y: np.ndarray, cache: BatchNormCache, module: int) -> np.ndarray:
        grad_x, grad_gamma, grad_beta = batch_norm_backward(grad_y, cache, self.params[f"{module}.weight"])
        self.grads[f"{module}.weight"], self.grads[f"{module}.bias"] = grad_gamma, grad_beta
        return grad_x

    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameters and running statistics (no copies), keyed like minigrad's."""
        return {**self.params, **self.buffers}


class ReferenceAdam:
    """Adam (Kingma & Ba, 2015) exactly as PyTorch's ``torch.optim.Adam`` (no weight decay).

    Updates the arrays of ``params`` in place from ``grads`` with the same keys. The
    moment estimates and one scratch array per parameter are allocated up front, so a
    step allocates nothing.
    """

    def __init__(
        self,
        params: dict[str, np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.step_count = 0
        self.exp_avg = {key: np.zeros_like(value) for key, value in params.items()}
        self.exp_avg_sq = {key: np.zeros_like(value) for key, value in params.items()}
        self.scratch = {key: np.empty_like(value) for key, value in params.items()}

    def step(self, grads: dict[str, np.ndarray]) -> None:
        """One update of every parameter that has a gradient."""
        self.step_count += 1
        beta1, beta2 = self.betas
        bias_correction1 = 1 - beta1**self.step_count
        bias_correction2_sqrt = math.sqrt(1 - beta2**self.step_count)
        step_size = self.lr / bias_correction1
        for key, theta in self.params.items():
            g, m, v, scratch = grads[key], self.exp_avg[key], self.exp_avg_sq[key], self.scratch[key]
            # m = beta1 * m + (1 - beta1) * g
            m *= beta1
            m += np.multiply(g, 1 - beta1, out=scratch)
            # v = beta2 * v + (1 - beta2) * g**2
            v *= beta2
            np.multiply(g, g, out=scratch)
            v += np.multiply(scratch, 1 - beta2, out=scratch)
            # theta = theta - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)
            denominator = np.sqrt(v, out=scratch)
            denominator /= bias_correction2_sqrt
            denominator += self.eps
            update = np.divide(m, denominator, out=scratch)
            update *= step_size
            theta -= update


# ---- the other two workloads ---------------------------------------------------------------


def batch_norm_step(
    x: np.ndarray,
    grad_y: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batch norm forward (training mode) then backward from ``grad_y``: (dx, dgamma, dbeta)."""
    _, cache = batch_norm_forward(x, gamma, beta, running_mean, running_var)
    return batch_norm_backward(grad_y, cache, gamma)


def chain_step(x: np.ndarray, steps: int, scale: float, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """``y = y * scale + shift`` repeated ``steps`` times from ``y = x``, then dy/dx.

    Returns the final y and the gradient of ``sum(y)`` with respect to x. The forward
    loop needs to remember nothing: each step's derivative is the constant ``scale``,
    so the backward loop multiplies the gradient by it once per step.
    """
    y = x
    for _ in range(steps):
        y = y * scale + shift
    grad = np.ones_like(x)
    for _ in range(steps):
        grad = grad * scale
    return y, grad
