"""Stochastic gradient descent, with momentum and Nesterov momentum, as in PyTorch."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.optim.optimizer import Optimizer
from minigrad.tensor import Tensor


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum (PyTorch's algorithm).

    For each parameter :math:`\theta` with gradient :math:`g_t` at step :math:`t`:

    .. math::

        g_t &\leftarrow -g_t
            && \text{if maximizing} \\
        g_t &\leftarrow g_t + \lambda \theta_{t-1}
            && \text{if } \lambda \ne 0 \text{ (L2 weight decay)} \\
        b_t &\leftarrow \begin{cases} g_t & t = 1 \\
            \mu b_{t-1} + (1 - \tau) g_t & t > 1 \end{cases}
            && \text{if } \mu \ne 0 \\
        g_t &\leftarrow g_t + \mu b_t \text{ if nesterov, else } b_t
            && \text{if } \mu \ne 0 \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma g_t

    The first momentum step takes the raw gradient, undampened. This is the form of
    momentum of Sutskever et al. (2013) that PyTorch uses: the learning rate scales
    the buffer at the update rather than being folded into it, so changing
    :math:`\gamma` mid-training (with a scheduler) takes effect at once.

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        The parameters to optimize, or parameter groups (see :class:`Optimizer`).
    lr : float
        :math:`\gamma`, the learning rate.
    momentum : float
        :math:`\mu`, the momentum factor (0: plain gradient descent).
    dampening : float
        :math:`\tau`, how much of each new gradient the momentum buffer leaves out.
    weight_decay : float
        :math:`\lambda`, the L2 penalty added to the gradient.
    nesterov : bool
        Use Nesterov momentum (needs ``momentum > 0`` and ``dampening = 0``).
    maximize : bool
        Ascend the objective instead of descending it: step along :math:`+g_t`.

    Examples
    --------
    >>> import minigrad as mg
    >>> w = mg.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.8, -1.6], requires_grad=True)
    """

    # State dicts saved before SGD had maximize were saved descending.
    _added_later = {"maximize": False}

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        super()._check_hyperparameters(group)
        momentum, dampening = group["momentum"], group["dampening"]
        self._require_not_negative(group, "momentum", "weight_decay")
        self._require(
            not group["nesterov"] or (momentum > 0 and dampening == 0),
            f"nesterov=True needs momentum > 0 and dampening = 0, "
            f"got momentum={momentum} and dampening={dampening}",
        )

    def _update(self, param: Tensor, group: dict[str, Any]) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay = group["weight_decay"]
        theta, g = param.data, param.grad.data
        if group["maximize"]:
            g = -g  # g_t <- -g_t: ascend
        if weight_decay != 0:
            g = g + weight_decay * theta  # g_t <- g_t + lambda theta_{t-1}
        if momentum != 0:
            state = self.state.setdefault(param, {})
            if "momentum_buffer" not in state:
                b = state["momentum_buffer"] = np.copy(g)  # b_1 <- g_1
            else:
                b = state["momentum_buffer"]
                b *= momentum
                b += (1 - dampening) * g  # b_t <- mu b_{t-1} + (1 - tau) g_t
            # g_t <- g_t + mu b_t (Nesterov), or g_t <- b_t
            g = g + momentum * b if group["nesterov"] else b
        theta -= lr * g  # theta_t <- theta_{t-1} - gamma g_t
