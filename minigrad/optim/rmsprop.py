"""RMSprop: gradient steps divided by a running root mean square of the gradient, as in PyTorch."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.optim.optimizer import Optimizer
from minigrad.tensor import Tensor


class RMSprop(Optimizer):
    r"""RMSprop: divide each gradient by the root of a running mean of its squares.

    Hinton (Neural Networks for Machine Learning, lecture 6e, 2012) keeps for every
    weight a running mean of its squared gradient, :math:`\text{MeanSquare}(w, t) =
    0.9\,\text{MeanSquare}(w, t-1) + 0.1\,(\partial E / \partial w)^2`, and divides
    the gradient by its square root. Weights whose gradients are large take smaller
    steps and weights whose gradients are small take larger ones, so one learning
    rate suits them all. Here :math:`v_t` is his MeanSquare and :math:`\alpha` his 0.9.

    For each parameter :math:`\theta` with gradient :math:`g_t` at step
    :math:`t = 1, 2, \dots` (PyTorch's algorithm), starting from :math:`v_0 = 0`,
    :math:`\bar g_0 = 0` and :math:`b_0 = 0`:

    .. math::

        g_t &\leftarrow -g_t
            && \text{(if maximizing)} \\
        g_t &\leftarrow g_t + \lambda \theta_{t-1}
            && \text{(L2 weight decay, if } \lambda \ne 0\text{)} \\
        v_t &\leftarrow \alpha v_{t-1} + (1 - \alpha) g_t^2
            && \text{(running mean of } g^2\text{)} \\
        \bar g_t &\leftarrow \alpha \bar g_{t-1} + (1 - \alpha) g_t
            && \text{(if centered: running mean of } g\text{)} \\
        \tilde v_t &\leftarrow v_t - \bar g_t^2 \text{ if centered, else } v_t
            && \text{(centered: a running variance of } g\text{)} \\
        b_t &\leftarrow \mu b_{t-1} + g_t / (\sqrt{\tilde v_t} + \epsilon)
            && \text{(if } \mu > 0\text{)} \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma b_t
            \text{ if } \mu > 0, \text{ else } \theta_{t-1} - \gamma g_t / (\sqrt{\tilde v_t} + \epsilon)

    There is no bias correction, unlike Adam: :math:`v_1 = (1 - \alpha) g_1^2` is
    small, so the first steps are large (:math:`\gamma / \sqrt{1 - \alpha} = 10
    \gamma` for :math:`\alpha = 0.99`). The centered variant (Graves, 2013) divides
    by an estimate of the gradient's standard deviation instead of its root mean
    square. Unlike SGD's, the momentum buffer starts at :math:`b_0 = 0`.

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        The parameters to optimize, or parameter groups (see :class:`Optimizer`).
    lr : float
        :math:`\gamma`, the learning rate.
    alpha : float
        :math:`\alpha`, the decay rate of the running means.
    eps : float
        :math:`\epsilon`, added to the root, keeps the step finite where
        :math:`\tilde v_t` is 0.
    weight_decay : float
        :math:`\lambda`, the L2 penalty added to the gradient.
    momentum : float
        :math:`\mu`, the momentum factor (0: none).
    centered : bool
        Divide by the running standard deviation of the gradient rather than its
        root mean square.
    maximize : bool
        Ascend the objective instead of descending it: step along :math:`+g_t`.

    Examples
    --------
    >>> import minigrad as mg
    >>> w = mg.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward()
    >>> opt.step()  # v_1 = 0.01 g^2, so each weight moves by about 0.01 / sqrt(0.01) = 0.1
    >>> w.data.round(6)
    array([ 0.9, -1.9], dtype=float32)
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        super()._check_hyperparameters(group)
        self._require_not_negative(group, "alpha", "eps", "weight_decay", "momentum")

    def _update(self, param: Tensor, group: dict[str, Any]) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        theta, g = param.data, param.grad.data
        if group["maximize"]:
            g = -g  # g_t <- -g_t: ascend
        if param not in self.state:
            self.state[param] = self._initial_state(param, group)
        state = self.state[param]
        state["step"] += 1
        if weight_decay != 0:
            g = g + weight_decay * theta  # g_t <- g_t + lambda theta_{t-1}
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * g * g  # v_t <- alpha v_{t-1} + (1 - alpha) g_t^2
        if group["centered"]:
            g_bar = state["grad_avg"]
            g_bar *= alpha
            g_bar += (1 - alpha) * g  # g_bar_t <- alpha g_bar_{t-1} + (1 - alpha) g_t
            denominator = np.sqrt(v - g_bar * g_bar)  # sqrt(v_t - g_bar_t^2)
        else:
            denominator = np.sqrt(v)
        denominator += eps
        if momentum > 0:
            b = state["momentum_buffer"]
            b *= momentum
            b += g / denominator  # b_t <- mu b_{t-1} + g_t / (sqrt(v~_t) + eps)
            theta -= lr * b  # theta_t <- theta_{t-1} - gamma b_t
        else:
            theta -= lr * g / denominator  # theta_t <- theta_{t-1} - gamma g_t / (sqrt(v~_t) + eps)

    def _initial_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The state of a parameter before its first step: t = 0, v_0 = 0, and b_0 = g_bar_0 = 0 if used."""
        state = {"step": np.zeros((), dtype=np.int64), "square_avg": np.zeros_like(param.data)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(param.data)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(param.data)
        return state
