"""The hand-written numpy implementations that minigrad is measured against.

Everything here is what a careful person would write with numpy alone: a forward pass
that keeps what the backward pass needs, backward rules worked out on paper (closed
form, no graph), and PyTorch's Adam updating the weights in place. Every array is
float32, like minigrad's.

The MLP stores its parameters and buffers under the keys of the matching minigrad
(and PyTorch) ``nn.Sequential``'s state dict -- ``"0.weight"``, ``"1.running_mean"``
-- so weights copy over from minigrad and results compare key by key. The LSTM does the
same with the keys of a one-layer ``nn.LSTM`` (``"weight_ih_l0"``, ...).
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


# ---- the LSTM -------------------------------------------------------------------------------


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), written as ``(1 + tanh(x / 2)) / 2``, which cannot overflow."""
    return 0.5 * (1 + np.tanh(0.5 * x))


class ReferenceLSTM:
    """A one-layer LSTM over a whole sequence, numpy only, with backpropagation through time.

    The gates are PyTorch's, stacked in rows in the order input, forget, cell, output::

        i, f, g, o = split(x_t @ W_ih^T + b_ih + h_{t-1} @ W_hh^T + b_hh, 4)
        c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)
        h_t = sigmoid(o) * tanh(c_t)

    from h_0 = c_0 = 0. The input's share of the gates does not depend on h, so it is
    one matmul for all steps; only ``h_{t-1} @ W_hh^T`` is left inside the loop.

    Parameters
    ----------
    state_dict : dict of str to ndarray
        ``weight_ih_l0`` (4H, I), ``weight_hh_l0`` (4H, H), ``bias_ih_l0`` and
        ``bias_hh_l0`` (4H,), keyed as a one-layer ``nn.LSTM`` of minigrad or PyTorch. Copied.
    """

    def __init__(self, state_dict: dict[str, np.ndarray]) -> None:
        self.params = {key: value.copy() for key, value in state_dict.items()}
        self.grads: dict[str, np.ndarray] = {}

    def forward_backward(self, x: np.ndarray, grad_output: np.ndarray) -> np.ndarray:
        """Run the sequence ``x`` (L, N, I), fill :attr:`grads` from dL/doutput, return the output.

        The output (L, N, H) is h_t at every step; ``grad_output`` has its shape. The
        input's gradient is in ``grads["input"]``.
        """
        w_ih, w_hh = self.params["weight_ih_l0"], self.params["weight_hh_l0"]
        length, batch, input_size = x.shape
        hidden = w_hh.shape[1]
        cell = slice(2 * hidden, 3 * hidden)  # g's rows: the only gate squashed by tanh
        x_rows = x.reshape(length * batch, input_size)
        bias = self.params["bias_ih_l0"] + self.params["bias_hh_l0"]
        input_gates = linear_forward(x_rows, w_ih, bias).reshape(length, batch, 4 * hidden)

        # Kept for backward: h and c, with h[t + 1] the output of step t and h[0] = c[0] = 0;
        # each step's gates after their nonlinearities; and tanh(c_t).
        h = np.zeros((length + 1, batch, hidden), x.dtype)
        c = np.zeros((length + 1, batch, hidden), x.dtype)
        gates = np.empty((length, batch, 4 * hidden), x.dtype)
        tanh_c = np.empty((length, batch, hidden), x.dtype)
        for t in range(length):
            preactivation = input_gates[t] + h[t] @ w_hh.T
            gates[t] = sigmoid(preactivation)
            gates[t, :, cell] = np.tanh(preactivation[:, cell])
            i, f, g, o = np.split(gates[t], 4, axis=1)
            c[t + 1] = f * c[t] + i * g
            tanh_c[t] = np.tanh(c[t + 1])
            h[t + 1] = o * tanh_c[t]

        # Backward through time. h_t reaches the loss through the output and through step
        # t + 1, c_t through h_t and through step t + 1:
        #   dh_t = dy_t + dpre_{t+1} @ W_hh,   dc_t = dh_t * o * (1 - tanh(c_t)^2) + dc_{t+1} * f_{t+1}
        # and each gate's preactivation gets its share times its nonlinearity's slope,
        # sigmoid' = s (1 - s) and tanh' = 1 - tanh^2.
        grad_preactivations = np.empty_like(gates)
        grad_h_from_next = np.zeros((batch, hidden), x.dtype)
        grad_c_from_next = np.zeros((batch, hidden), x.dtype)
        for t in reversed(range(length)):
            i, f, g, o = np.split(gates[t], 4, axis=1)
            grad_h = grad_output[t] + grad_h_from_next
            grad_c = grad_h * o * (1 - tanh_c[t] * tanh_c[t]) + grad_c_from_next
            # Views of grad_preactivations[t]: each gate's share is written into it in place.
            grad_i, grad_f, grad_g, grad_o = np.split(grad_preactivations[t], 4, axis=1)
            grad_i[...] = grad_c * g * i * (1 - i)
            grad_f[...] = grad_c * c[t] * f * (1 - f)
            grad_g[...] = grad_c * i * (1 - g * g)
            grad_o[...] = grad_h * tanh_c[t] * o * (1 - o)
            grad_h_from_next = grad_preactivations[t] @ w_hh
            grad_c_from_next = grad_c * f

        # The weights are shared by all steps: their gradients sum over the steps, one matmul each.
        grad_rows = grad_preactivations.reshape(length * batch, 4 * hidden)
        grad_bias = grad_rows.sum(axis=0)
        self.grads = {
            "weight_ih_l0": grad_rows.T @ x_rows,
            "weight_hh_l0": grad_rows.T @ h[:-1].reshape(length * batch, hidden),
            "bias_ih_l0": grad_bias,
            "bias_hh_l0": grad_bias.copy(),
            "input": (grad_rows @ w_ih).reshape(x.shape),  # each x_t reached the loss through its gates only
        }
        return h[1:]


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
