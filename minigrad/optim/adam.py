"""Adam and AdamW (Adam with decoupled weight decay), as in PyTorch."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.optim.optimizer import Optimizer
from minigrad.tensor import Tensor


class Adam(Optimizer):
    r"""Adam: steps scaled by running averages of the gradient and its square.

    For each parameter :math:`\theta` with gradient :math:`g_t` at step
    :math:`t = 1, 2, \dots` (Kingma & Ba, 2015, Algorithm 1, as PyTorch writes it),
    starting from :math:`m_0 = v_0 = 0`:

    .. math::

        g_t &\leftarrow -g_t
            && \text{(if maximizing)} \\
        g_t &\leftarrow g_t + \lambda \theta_{t-1}
            && \text{(L2 weight decay, if } \lambda \ne 0\text{)} \\
        m_t &\leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t
            && \text{(first moment: running mean of } g\text{)} \\
        v_t &\leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2
            && \text{(second moment: running mean of } g^2\text{)} \\
        \hat m_t &\leftarrow m_t / (1 - \beta_1^t)
            && \text{(bias correction: } m_0 = 0 \text{ pulls early } m_t \text{ to 0)} \\
        \hat v_t &\leftarrow v_t / (1 - \beta_2^t)
            && \text{(with amsgrad, } v_t^{max} = \max(v_{t-1}^{max}, v_t) \text{ in place of } v_t\text{)} \\
        \theta_t &\leftarrow \theta_{t-1} - \gamma \, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    :math:`\epsilon` is added outside the square root. With
    ``decoupled_weight_decay=True`` (what :class:`AdamW` sets) the weight decay
    shrinks the parameter directly, :math:`\theta_{t-1} \leftarrow (1 - \gamma\lambda)
    \theta_{t-1}`, instead of entering the gradient, and so the moments.

    The moments are the same exponentially weighted moving average (EWMA) that batch
    normalization keeps of its batch statistics. Batch norm updates
    ``running = (1 - momentum) * running + momentum * batch_stat``; Adam updates
    :math:`m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t`. So :math:`\beta_1` plays the
    role of ``1 - momentum``: Adam's default :math:`\beta_1 = 0.9` is batch norm's
    default ``momentum=0.1``. Batch norm does without a bias correction because it
    uses its averages only in evaluation, after many batches, when the pull of their
    starting values (mean 0, variance 1) has faded; Adam uses its moments from the
    first step, when :math:`m_1 = (1 - \beta_1) g_1` alone is ten times too small (for
    :math:`\beta_1 = 0.9`).

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        The parameters to optimize, or parameter groups (see :class:`Optimizer`).
    lr : float
        :math:`\gamma`, the learning rate.
    betas : (float, float)
        :math:`(\beta_1, \beta_2)`, the decay rates of the two moments, in [0, 1).
    eps : float
        :math:`\epsilon`, keeps the step finite where :math:`\hat v_t` is 0.
    weight_decay : float
        :math:`\lambda`.
    amsgrad : bool
        Use the AMSGrad variant (Reddi et al., 2018): divide by the largest
        :math:`v_t` so far, so the step size never grows back.
    maximize : bool
        Ascend the objective instead of descending it: step along :math:`+g_t`.
    decoupled_weight_decay : bool
        Decay the parameter directly (AdamW) rather than through the gradient.
    """

    # State dicts saved before Adam had maximize were saved descending.
    _added_later = {"maximize": False}

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)
        self._scratch: dict[Tensor, np.ndarray] = {}

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        super()._check_hyperparameters(group)
        betas = group["betas"]
        self._require(
            len(betas) == 2 and all(0 <= beta < 1 for beta in betas),
            f"invalid betas={betas}; they must be two numbers in [0, 1)",
        )
        self._require_not_negative(group, "eps", "weight_decay")

    def _update(self, param: Tensor, group: dict[str, Any]) -> None:
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        theta, g = param.data, param.grad.data
        if group["maximize"]:
            g = -g  # g_t <- -g_t: ascend
        if param not in self.state:
            self.state[param] = self._initial_state(param, group["amsgrad"])
        state = self.state[param]
        state["step"] += 1
        t = int(state["step"])  # a Python int keeps the bias corrections Python floats
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                theta *= 1 - lr * weight_decay  # theta_{t-1} <- theta_{t-1} - gamma lambda theta_{t-1}
            else:
                g = g + weight_decay * theta  # g_t <- g_t + lambda theta_{t-1}
        m, v = state["exp_avg"], state["exp_avg_sq"]
        # One scratch array per parameter, reused every step, holds the intermediate
        # results: allocating fresh ones for every parameter and step costs more than
        # the arithmetic.
        scratch = self._scratch.get(param)
        if scratch is None or scratch.shape != theta.shape or scratch.dtype != theta.dtype:
            scratch = self._scratch[param] = np.empty_like(theta)
        m *= beta1
        m += np.multiply(g, 1 - beta1, out=scratch)  # m_t <- beta1 m_{t-1} + (1 - beta1) g_t
        v *= beta2
        # g * g first: the second pass then reads one array instead of two.
        np.multiply(g, g, out=scratch)
        v += np.multiply(scratch, 1 - beta2, out=scratch)  # v_t <- beta2 v_{t-1} + (1 - beta2) g_t^2
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])  # v_t^max
        # theta_t <- theta_{t-1} - gamma m_hat_t / (sqrt(v_hat_t) + eps), where
        # m_hat_t = m_t / (1 - beta1^t) and v_hat_t = v_t / (1 - beta2^t). As PyTorch does,
        # the bias corrections are applied to scalars rather than to whole arrays.
        step_size = lr / (1 - beta1**t)
        denominator = np.sqrt(v, out=scratch)
        denominator /= math.sqrt(1 - beta2**t)
        denominator += eps  # sqrt(v_hat_t) + eps
        step = np.divide(m, denominator, out=scratch)
        step *= step_size
        theta -= step

    def _initial_state(self, param: Tensor, amsgrad: bool) -> dict[str, Any]:
        """The state of a parameter before its first step: t = 0, m_0 = v_0 = 0."""
        state = {
            "step": np.zeros((), dtype=np.int64),
            "exp_avg": np.zeros_like(param.data),
            "exp_avg_sq": np.zeros_like(param.data),
        }
        if amsgrad:
            state["max_exp_avg_sq"] = np.zeros_like(param.data)
        return state


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    The same steps as :class:`Adam`, except that weight decay shrinks each parameter
    directly, before the Adam step, instead of being added to the gradient:

    .. math::

        \theta_{t-1} \leftarrow \theta_{t-1} - \gamma \lambda \theta_{t-1}

    With L2 decay in Adam the penalty's gradient is divided by
    :math:`\sqrt{\hat v_t}` like any other, so weights with large gradients are
    barely decayed; decoupled, every weight decays at the same rate :math:`\gamma\lambda`.
    Note the default ``weight_decay=1e-2``.

    Parameters
    ----------
    params, lr, betas, eps, amsgrad, maximize
        As in :class:`Adam`.
    weight_decay : float
        :math:`\lambda`, the decoupled weight decay.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True
        )
