"""Adagrad: per-weight step sizes from the sum of all past squared gradients, as in PyTorch."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.optim.optimizer import Optimizer
from minigrad.tensor import Tensor


class Adagrad(Optimizer):
    r"""Adagrad: divide each gradient by the root of the sum of its past squares.

    Duchi, Hazan & Singer (2011) adapt the step of every coordinate to the gradients
    it has seen. Their :math:`G_t = \sum_{\tau \le t} g_\tau g_\tau^\top` sums the
    outer products of the gradients, so its diagonal holds each coordinate's sum of
    squared gradients; with :math:`\delta` added to the root, the diagonal form of
    their update is, coordinate by coordinate, :math:`x_{t+1} = x_t - \eta\, g_t /
    (\delta + \sqrt{G_t})`. A coordinate with rare or small gradients keeps a large
    step; one with frequent large gradients gets a small one. As :math:`G_t` only
    grows, every step size shrinks over time. Below, :math:`\theta` is their
    :math:`x`, and :math:`G_t` the diagonal of theirs.

    For each parameter :math:`\theta` with gradient :math:`g_t` at step
    :math:`t = 1, 2, \dots` (PyTorch's algorithm), starting from :math:`G_0` =
    ``initial_accumulator_value``:

    .. math::

        g_t &\leftarrow -g_t
            && \text{(if maximizing)} \\
        g_t &\leftarrow g_t + \lambda \theta_{t-1}
            && \text{(L2 weight decay, if } \lambda \ne 0\text{)} \\
        \eta_t &\leftarrow \eta / (1 + (t - 1) \kappa)
            && \text{(learning-rate decay)} \\
        G_t &\leftarrow G_{t-1} + g_t^2
            && \text{(sum of the squared gradients)} \\
        \theta_t &\leftarrow \theta_{t-1} - \eta_t\, g_t / (\sqrt{G_t} + \delta)

    As in PyTorch, the state (:math:`t = 0` and :math:`G_0`) of every parameter is
    made with the optimizer, not at the parameter's first step, so a new optimizer's
    state dict already holds it.

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        The parameters to optimize, or parameter groups (see :class:`Optimizer`).
    lr : float
        :math:`\eta`, the learning rate.
    lr_decay : float
        :math:`\kappa`, how fast the learning rate decays with the step count.
    weight_decay : float
        :math:`\lambda`, the L2 penalty added to the gradient.
    initial_accumulator_value : float
        :math:`G_0`, the starting value of the sums of squares. A parameter group
        may set its own (PyTorch 2.13 starts every group from the optimizer's).
    eps : float
        :math:`\delta`, added to the root, keeps the step finite where :math:`G_t` is 0.
    maximize : bool
        Ascend the objective instead of descending it: step along :math:`+g_t`.

    Examples
    --------
    >>> import minigrad as mg
    >>> w = mg.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = Adagrad([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()  # G_1 = g^2, so each weight moves by lr = 0.1 against its gradient's sign
    >>> w
    tensor([ 0.9, -1.9], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for param in group["params"]:
                self.state[param] = self._initial_state(param, group)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        super()._check_hyperparameters(group)
        self._require_not_negative(group, "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def _update(self, param: Tensor, group: dict[str, Any]) -> None:
        lr, lr_decay, eps, weight_decay = group["lr"], group["lr_decay"], group["eps"], group["weight_decay"]
        theta, g = param.data, param.grad.data
        if group["maximize"]:
            g = -g  # g_t <- -g_t: ascend
        if param not in self.state:  # a parameter of a group added later
            self.state[param] = self._initial_state(param, group)
        state = self.state[param]
        state["step"] += 1
        t = int(state["step"])
        if weight_decay != 0:
            g = g + weight_decay * theta  # g_t <- g_t + lambda theta_{t-1}
        eta_t = lr / (1 + (t - 1) * lr_decay)  # eta_t <- eta / (1 + (t - 1) kappa)
        G = state["sum"]
        G += g * g  # G_t <- G_{t-1} + g_t^2
        denominator = np.sqrt(G)
        denominator += eps
        theta -= eta_t * g / denominator  # theta_t <- theta_{t-1} - eta_t g_t / (sqrt(G_t) + delta)

    def _initial_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The state of a parameter before its first step: t = 0 and G_0."""
        return {
            "step": np.zeros((), dtype=np.int64),
            "sum": np.full_like(param.data, group["initial_accumulator_value"]),
        }
