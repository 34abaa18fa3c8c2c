"""The Optimizer base class: parameter groups, per-parameter state, and saving both.

An optimizer holds a list of *parameter groups*. Each group is a dict with the
tensors to update under ``"params"`` (and their names under ``"param_names"``, if
they came from ``model.named_parameters()``) and its own hyperparameters
(``"lr"``, ...); what a group leaves out comes from the optimizer's ``defaults``.
The optimizer keeps the running state of each parameter (momentum buffers, Adam's
moments) in ``state[param]``, a dict of numpy arrays created at the parameter's
first step (Adagrad's when the optimizer is made, as in PyTorch).

Subclasses write their algorithm for one parameter in :meth:`Optimizer._update`;
:meth:`Optimizer.step` calls it for every parameter that has a gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from minigrad.creation import zeros_like
from minigrad.engine import enable_grad, mark_changed
from minigrad.tensor import Tensor


def _as_python(value: Any) -> Any:
    """A numpy scalar or array as a Python number, bool or tuple; anything else unchanged.

    Hyperparameters go through this, so that an ``lr`` read back from a file as a
    float64 array still multiplies a float32 array without turning it into float64.
    """
    if isinstance(value, (np.ndarray, np.generic)):
        value = value.tolist()
    return tuple(value) if isinstance(value, list) else value


class Optimizer:
    """Base class of the optimizers: updates tensors in place from their ``.grad``.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor) pairs, or of dict
        The tensors to optimize (e.g. ``model.parameters()``), the same with their
        names (``model.named_parameters()``: the names are kept in each group's
        ``"param_names"`` and in the state dict), or parameter groups: dicts with a
        ``"params"`` entry and any hyperparameters that differ from ``defaults`` for
        that group, e.g. ``[{"params": body}, {"params": head, "lr": 1e-2}]``.
        Either every parameter has a name or none has.
    defaults : dict
        The hyperparameters of every group that does not set its own.

    Attributes
    ----------
    param_groups : list of dict
        The groups, each with its ``"params"`` (a list) and every hyperparameter.
    state : dict
        ``state[param]`` is that parameter's running state, a dict of numpy arrays.
    """

    # Hyperparameters that an optimizer gained after state dicts without them could
    # have been saved, each with the value that keeps the behaviour those state dicts
    # were saved with. load_state_dict gives them to a saved group that lacks them;
    # every other hyperparameter must be in the state dict.
    _added_later: dict[str, Any] = {}

    def __init__(self, params: Iterable[Tensor] | Iterable[dict[str, Any]], defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or of dicts, got a single "
                f"Tensor; pass a list, e.g. {name}([weight], ...), or model.parameters()"
            )
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError(
                f"{name}: got an empty parameter list; pass the tensors to optimize, e.g. model.parameters()"
            )
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for index, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {index}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join([*lines, ")"])

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, e.g. layers unfrozen while fine-tuning.

        The group's missing hyperparameters are taken from ``defaults``. A parameter
        may belong to one group only. Its ``"params"`` may be (name, Tensor) pairs, as
        ``model.named_parameters()`` gives, if the other groups' parameters have names too.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry with its tensors")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError(
                f"{name}: parameters must come in an ordered collection such as a list, not a "
                f"set, whose order changes between runs and would scramble state_dict()"
            )
        params = [params] if isinstance(params, Tensor) else list(params)
        param_names, params = _split_names(params, name)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(
                    f"{name}: can only optimize Tensors, but one parameter is a {type(param).__name__}"
                )
            if not param.is_leaf:
                raise ValueError(
                    f"{name}: can't optimize a non-leaf tensor (one computed by an op); "
                    f"optimize the leaves it was computed from, or a .detach()-ed copy"
                )
        seen = {id(param) for param in params}
        if len(seen) != len(params):
            raise ValueError(f"{name}: a parameter group lists the same parameter more than once")
        for group in self.param_groups:
            if any(id(param) in seen for param in group["params"]):
                raise ValueError(f"{name}: some parameters appear in more than one parameter group")
            if ("param_names" in group) != (param_names is not None):
                raise ValueError(
                    f"{name}: either the parameters of every group have names (as from "
                    f"model.named_parameters()) or none do; can't add a group "
                    f"{'without' if param_names is None else 'with'} names"
                )
        group = {} if param_names is None else {"param_names": param_names}
        group |= {key: _as_python(value) for key, value in param_group.items() if key != "params"}
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        group["params"] = params
        self._check_hyperparameters(group)
        self.param_groups.append(group)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Raise ValueError if a group's hyperparameters are out of range.

        Subclasses extend this with their own hyperparameters.
        """
        self._require(group["lr"] >= 0, f"invalid learning rate lr={group['lr']}; it must be >= 0")

    def _require(self, condition: bool, message: str) -> None:
        """Raise ValueError with ``message``, prefixed by the optimizer's name, unless ``condition``."""
        if not condition:
            raise ValueError(f"{type(self).__name__}: {message}")

    def _require_not_negative(self, group: dict[str, Any], *keys: str) -> None:
        """Raise ValueError naming the first of ``keys`` whose value in ``group`` is below 0."""
        for key in keys:
            self._require(group[key] >= 0, f"invalid {key}={group[key]}; it must be >= 0")

    # ---- updating ------------------------------------------------------------------

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, in place; skip those without one.

        Parameters
        ----------
        closure : callable, optional
            A function that recomputes the loss (zero_grad, forward, backward) and
            returns it; it runs first, and its loss is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._check_grads()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is not None:
                    self._update(param, group)
                    mark_changed(param)
        return loss

    def _check_grads(self) -> None:
        """Refuse, before any update, a ``.grad`` set by hand that does not fit its parameter.

        numpy would broadcast one of another shape into the update, and one of another
        dtype would change the dtype of the optimizer's state, without a word.
        """
        for group_index, group in enumerate(self.param_groups):
            for index, param in enumerate(group["params"]):
                grad = param.grad
                if grad is None or (
                    isinstance(grad, Tensor)
                    and grad.data.shape == param.data.shape
                    and grad.data.dtype == param.data.dtype
                ):
                    continue
                where = (
                    f"{type(self).__name__}.step: the .grad of param_groups[{group_index}] parameter "
                    f"{index} (shape {param.shape}, {param.dtype})"
                )
                if not isinstance(grad, Tensor):
                    raise TypeError(f"{where} is a {type(grad).__name__}, not a Tensor")
                raise ValueError(
                    f"{where} has shape {grad.shape} and dtype {grad.dtype}; it must match the "
                    f"parameter's. Nothing was updated"
                )

    def _update(self, param: Tensor, group: dict[str, Any]) -> None:
        """One step of the algorithm for one parameter with a gradient (subclasses define it).

        Works on ``param.data`` and ``param.grad.data`` with numpy, changing
        ``param.data`` in place, so no graph is recorded.
        """
        raise NotImplementedError

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters before the next backward.

        Parameters
        ----------
        set_to_none : bool
            Set ``.grad`` to None (the default, as in PyTorch); otherwise to zeros.
            A parameter whose ``.grad`` is None then gets no update at the next step,
            while a zero gradient still moves it under momentum or weight decay.
        """
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is not None:
                    param.grad = None if set_to_none else zeros_like(param.grad)

    # ---- saving and resuming ---------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state and hyperparameters, laid out as in PyTorch.

        Parameters are replaced by their index, counted across the groups in order::

            {"state": {0: {"momentum_buffer": array(...)}, ...},
             "param_groups": [{"lr": 0.1, ..., "params": [0, 1]}, ...]}

        The arrays are copies, so later steps do not change a saved state dict.
        """
        state: dict[int, dict[str, Any]] = {}
        param_groups = []
        index = 0
        for group in self.param_groups:
            indices = list(range(index, index + len(group["params"])))
            for param, param_index in zip(group["params"], indices):
                if param in self.state:
                    state[param_index] = {
                        key: np.copy(value) if isinstance(value, np.ndarray) else value
                        for key, value in self.state[param].items()
                    }
            param_groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": indices})
            index += len(indices)
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state and hyperparameters saved by :meth:`state_dict`.

        The groups must match this optimizer's: the same number, with as many
        parameters each, in the same order, and every hyperparameter, except those
        the optimizer gained later (``maximize``), which then take the value that
        keeps the old behaviour. Values may be numpy scalars and arrays
        (as after a round trip through a file). Arrays are copied; floating-point
        ones take their parameter's dtype, as in PyTorch. Loading is all-or-nothing:
        on any mismatch it raises and the optimizer keeps its state.
        """
        name = f"{type(self).__name__}.load_state_dict"
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the state dict has {len(saved_groups)} parameter groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        param_at_index: dict[int, Tensor] = {}
        new_groups = []
        for position, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}: parameter group {position} has {len(saved['params'])} parameters "
                    f"in the state dict, but {len(group['params'])} in this optimizer"
                )
            missing = [key for key in self.defaults if key not in saved and key not in self._added_later]
            if missing:
                raise ValueError(f"{name}: parameter group {position} in the state dict lacks {missing}")
            param_at_index.update(zip((int(index) for index in saved["params"]), group["params"]))
            new_group = {key: _as_python(value) for key, value in saved.items() if key != "params"}
            for key, value in self._added_later.items():
                new_group.setdefault(key, value)
            # Names are labels: the saved ones replace this optimizer's, if there are any.
            param_names = saved.get("param_names", group.get("param_names"))
            if param_names is not None:
                new_group["param_names"] = [str(param_name) for param_name in param_names]
            new_group["params"] = group["params"]
            self._check_hyperparameters(new_group)
            new_groups.append(new_group)
        new_state = {}
        for index, saved_state in state_dict["state"].items():
            param = param_at_index.get(int(index))
            if param is None:
                raise ValueError(
                    f"{name}: the state dict has state for parameter {index}, which is in no parameter group"
                )
            new_state[param] = {
                key: _state_value(value, param, f"{name}: state[{index}][{key!r}]")
                for key, value in saved_state.items()
            }
        self.state = new_state
        self.param_groups = new_groups


def _split_names(params: list[Any], name: str) -> tuple[list[str] | None, list[Any]]:
    """The names and the tensors of (name, Tensor) pairs, as from ``model.named_parameters()``.

    Parameters without names give no names (None) and the parameters unchanged.
    """
    is_named = [isinstance(param, tuple) and len(param) == 2 for param in params]
    if not any(is_named):
        return None, params
    if not all(is_named):
        raise ValueError(
            f"{name}: some parameters come with a name and some without; pass either "
            f"model.named_parameters() or model.parameters(), not a mix"
        )
    return [param_name for param_name, _ in params], [param for _, param in params]


def _state_value(value: Any, param: Tensor, where: str) -> Any:
    """A copy of one loaded state value, checked to fit its parameter."""
    if not isinstance(value, np.ndarray):
        return value
    if value.shape not in (param.shape, ()):
        raise ValueError(f"{where} has shape {value.shape}, but the parameter has shape {param.shape}")
    dtype = param.dtype if value.dtype.kind == "f" else value.dtype
    return np.array(value, dtype=dtype)
