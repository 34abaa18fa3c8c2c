"""Module: the base class of layers and models, with PyTorch's bookkeeping.

A module keeps its parameters, buffers (state that is saved but not learned, such as
batch norm's running averages) and child modules in three ordered registries, filled
in automatically when they are assigned as attributes. Everything else (listing
parameters, train/eval, state dicts) walks those registries.

Calling a module runs ``forward`` inside a scope labelled like ``1: BatchNorm1d``,
so a graph drawing can box the ops of each layer, with any forward hooks before and
after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from minigrad.engine import mark_changed, scope
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` did not match (under ``strict=False``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class RemovableHandle:
    """What registering a hook returns: ``handle.remove()`` takes the hook off again.

    Also a context manager, which removes the hook when its block ends.
    """

    _registered = 0  # hooks are keyed by the order they were registered in

    def __init__(self, hooks: dict[int, Callable[..., Any]], hook: Callable[..., Any]) -> None:
        RemovableHandle._registered += 1
        self.id = RemovableHandle._registered
        self._hooks = hooks
        hooks[self.id] = hook

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exception: object) -> None:
        self.remove()


def _checked_hook(hook: Any, method: str) -> Callable[..., Any]:
    if not callable(hook):
        raise TypeError(f"{method}: the hook must be callable, got {type(hook).__name__}")
    return hook


class Module:
    """Base class for all layers and models: subclass it and define ``forward``.

    Examples
    --------
    >>> class TwoLayers(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = Linear(4, 8)
    ...         self.out = Linear(8, 1)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_scope_label", type(self).__name__)
        object.__setattr__(self, "_forward_pre_hooks", {})
        object.__setattr__(self, "_forward_hooks", {})
        self.training = True

    # ---- registration ----------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        """Set an attribute and keep the three registries in step with it, as PyTorch does.

        A Parameter or a Module is registered under ``name``, which leaves any other
        registry that held it. A registered name takes only its own kind or None; None
        keeps the name registered as an empty slot, which listings and the state dict
        skip. Anything else is a plain attribute.
        """
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )
        # Checked in PyTorch's order, so a Parameter may take over any name, a Module
        # any name but a parameter's, and a plain value only an unregistered name.
        if isinstance(value, Parameter):
            self._register(self._parameters, name, value)
        elif name in self._parameters:
            self._check_assignable(name, value, "parameter", Parameter)
            self._register(self._parameters, name, value)
        elif isinstance(value, Module):
            self._register(self._modules, name, value)
        elif name in self._modules:
            self._check_assignable(name, value, "child module", Module)
            self._register(self._modules, name, value)
        elif name in self._buffers:
            self._check_assignable(name, value, "buffer", Tensor)
            self._register(self._buffers, name, value)
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        """Delete an attribute, and take its name out of the registry that holds it."""
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Add state that is saved in the state dict but not learned (e.g. running_mean)."""
        self._check_new_name("register_buffer", name, self._buffers)
        self._check_assignable(name, tensor, "buffer", Tensor)
        self._register(self._buffers, name, tensor)

    def register_parameter(self, name: str, parameter: Parameter | None) -> None:
        """Add a parameter (or an empty slot for one, with None)."""
        self._check_new_name("register_parameter", name, self._parameters)
        self._check_assignable(name, parameter, "parameter", Parameter)
        self._register(self._parameters, name, parameter)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under a name known only at run time (``setattr`` otherwise)."""
        self._check_new_name("add_module", name, self._modules)
        self._check_assignable(name, module, "child module", Module)
        self._register(self._modules, name, module)

    register_module = add_module

    def _register(self, registry: dict[str, Any], name: str, value: Any) -> None:
        """Put ``value`` in ``registry`` and set the attribute; no other registry keeps the name.

        A name in two registries would be listed (and saved) twice, the stale one
        with a value the attribute no longer holds.
        """
        names_tensors = isinstance(value, (Tensor, Module))  # a parameter, a buffer or a module
        prefix = self._path_prefix() if names_tensors else ""
        for other in (self._parameters, self._buffers, self._modules):
            if other is not registry:
                other.pop(name, None)
        registry[name] = value
        object.__setattr__(self, name, value)
        if isinstance(value, Module):  # its calls are drawn in a box with this title
            object.__setattr__(value, "_scope_label", f"{name}: {type(value).__name__}")
        if names_tensors:
            self._name_tensors(prefix)

    def _check_new_name(self, method: str, name: str, registry: dict[str, Any]) -> None:
        """Refuse a name that is not one (empty, dotted) or is an attribute of another kind, as PyTorch does.

        A dot would make the name's state dict key read as a path into a child module.
        """
        if not isinstance(name, str):
            raise TypeError(
                f"{type(self).__name__}.{method}: the name must be a str, got {type(name).__name__}"
            )
        if not name or "." in name:
            raise KeyError(
                f"{type(self).__name__}.{method}: the name must be non-empty and contain no '.', got {name!r}"
            )
        if hasattr(self, name) and name not in registry:
            raise KeyError(
                f"{type(self).__name__}.{method}: attribute {name!r} already exists; "
                f"delete it first (del module.{name}) or pick another name"
            )

    def _check_assignable(self, name: str, value: Any, kind: str, expected: type) -> None:
        """Refuse a value that a registered name of this kind cannot hold (anything but ``expected`` or None)."""
        if value is not None and not isinstance(value, expected):
            raise TypeError(
                f"{type(self).__name__}: cannot assign '{type(value).__name__}' as {kind} {name!r} "
                f"({expected.__name__} or None expected)"
            )

    def _name_tensors(self, prefix: str = "") -> None:
        """Label each parameter and buffer with its path, e.g. ``0.weight`` or ``1.running_var``.

        The label is ``prefix`` and the path from here. Run whenever a parameter, a
        buffer or a module is registered, so once a model is built its tensors carry
        their paths from the outermost module, and drawings show them by those names
        (an eval-mode batch norm's running statistics, say, rather than "constant").
        """
        for path, tensor in self._named_tensors():
            tensor.name = prefix + path

    def _named_tensors(self) -> Iterator[tuple[str, Tensor]]:
        yield from self.named_parameters()
        yield from self.named_buffers()

    def _path_prefix(self) -> str:
        """This module's path in the model it sits in, with a dot (``"1."``), as its tensors' names show.

        A module does not know its parent; once it has been put in one, its parameters
        are named from there, so a module that changes later (an ``insert`` into
        ``model[1]``) names its new parameters from there too. "" for an outermost one.
        """
        for path, tensor in self._named_tensors():
            name = tensor.name
            if name is not None and name.endswith("." + path):
                return name[: len(name) - len(path)]
            if name == path:
                return ""
        return ""

    # ---- calling ----------------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # The hooks run outside the module's scope: what they compute is not drawn in its
        # box. A copy of each list, as a hook may remove itself.
        for hook in list(self._forward_pre_hooks.values()) if self._forward_pre_hooks else ():
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        with scope(self._scope_label, kind="module"):
            output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()) if self._forward_hooks else ():
            changed = hook(self, args, output)
            if changed is not None:
                output = changed
        return output

    def register_forward_pre_hook(self, hook: Callable[[Module, tuple], Any]) -> RemovableHandle:
        """Call ``hook(module, args)`` before each forward; a result other than None replaces the args.

        A result that is not a tuple is taken as the one argument, as in PyTorch.
        Returns a handle whose ``remove()`` takes the hook off again.
        """
        return RemovableHandle(self._forward_pre_hooks, _checked_hook(hook, "register_forward_pre_hook"))

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], Any]) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward; a result other than None replaces the output.

        For example, to keep each layer's activations for a histogram. Returns a
        handle whose ``remove()`` takes the hook off again.
        """
        return RemovableHandle(self._forward_hooks, _checked_hook(hook, "register_forward_hook"))

    # ---- walking the tree -----------------------------------------------------------

    def named_modules(self, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every module inside it, with their paths (pre-order).

        A module that appears at several paths is listed once, unless
        ``remove_duplicate=False`` (as the state dict needs, since PyTorch's lists it
        under every path).
        """
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            if remove_duplicate and id(module) in seen:
                continue
            seen.add(id(module))
            yield path, module
            children = [
                (f"{path}.{name}" if path else name, child) for name, child in module._modules.items()
            ]
            stack.extend(reversed([(p, child) for p, child in children if child is not None]))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules with their names; one registered twice is listed once, as in PyTorch."""
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def get_submodule(self, target: str) -> Module:
        """The module at the path ``target`` (``"0"``, ``"encoder.1"``); ``""`` is this module."""
        module = self
        for name in target.split(".") if target else []:
            child = module._modules.get(name)
            if child is None:
                raise AttributeError(
                    f"get_submodule: {type(module).__name__} has no child module {name!r} (in {target!r})"
                )
            module = child
        return module

    def apply(self, function: Callable[[Module], Any]) -> Module:
        """Call ``function`` on every submodule and then on this one; returns this module.

        The usual use is custom initialization::

            def init_weights(module):
                if isinstance(module, nn.Linear):
                    nn.init.zeros_(module.bias)
            model.apply(init_weights)
        """
        for child in self.children():
            child.apply(function)
        function(self)
        return self

    def _named_members(self, registry_name: str, recurse: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        modules = self.named_modules() if recurse else iter([("", self)])
        for path, module in modules:
            for name, member in getattr(module, registry_name).items():
                if member is None or id(member) in seen:
                    continue
                seen.add(id(member))
                yield (f"{path}.{name}" if path else name), member

    def named_parameters(self, recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its path (``0.weight``); shared ones only once."""
        return self._named_members("_parameters", recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, parameter in self.named_parameters(recurse):
            yield parameter

    def named_buffers(self, recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """Every buffer (running statistics and the like) with its path."""
        return self._named_members("_buffers", recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse):
            yield buffer

    # ---- modes and gradients ---------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=False``: eval mode) here and in every submodule."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode: batch norm uses its running statistics, dropout is off."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` of every parameter: ``False`` freezes them (backward skips them)."""
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

    def double(self) -> Module:
        """Convert every floating-point parameter and buffer (and gradient) to float64, in place.

        Parameters stay the same objects, so an optimizer made before still updates
        them, but its state (momentum, Adam's moments) is not converted: make the
        optimizer after converting, as in PyTorch. ``mg.gradcheck`` on a whole model
        needs float64. Returns this module.
        """
        return self._convert_floats(np.float64)

    def float(self) -> Module:
        """Convert every floating-point parameter and buffer (and gradient) to float32, in place."""
        return self._convert_floats(np.float32)

    def _convert_floats(self, dtype: type) -> Module:
        for tensor in [*self.parameters(), *self.buffers()]:
            if tensor.dtype.kind == "f":
                tensor.data = tensor.data.astype(dtype)
                if tensor.grad is not None:
                    tensor.grad = Tensor._wrap(tensor.grad.data.astype(dtype))
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters (to None, or to zeros)."""
        for parameter in self.parameters():
            if set_to_none or parameter.grad is None:
                parameter.grad = None
            else:
                parameter.grad = Tensor._wrap(np.zeros_like(parameter.data))

    # ---- state -----------------------------------------------------------------------

    def _state_items(self) -> Iterator[tuple[str, Tensor]]:
        """(key, tensor) in PyTorch's order: each module's parameters, then its buffers."""
        for path, module in self.named_modules(remove_duplicate=False):
            for registry in (module._parameters, module._buffers):
                for name, tensor in registry.items():
                    if tensor is not None:
                        yield (f"{path}.{name}" if path else name), tensor

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, keyed and ordered as in PyTorch."""
        return {key: tensor.data.copy() for key, tensor in self._state_items()}

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into the parameters and buffers.

        All or nothing: every key, shape and value is checked first, and on any
        problem a ValueError names the key and the module is left unchanged. With
        ``strict=True`` missing and unexpected keys are errors; with ``strict=False``
        they are returned. A wrong shape is an error either way.
        """
        targets = dict(self._state_items())
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets]
        name = type(self).__name__
        if strict and (missing or unexpected):
            raise ValueError(
                f"load_state_dict for {name}: missing keys {missing}, unexpected keys "
                f"{unexpected}; nothing was loaded. Pass strict=False to load the keys that match"
            )
        updates = []
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            try:
                value = np.asarray(value.data if isinstance(value, Tensor) else value)
            except (ValueError, TypeError) as error:
                raise ValueError(
                    f"load_state_dict for {name}: {key!r} is not an array ({error}); nothing was loaded"
                ) from None
            if value.dtype.kind not in "biuf":
                raise ValueError(
                    f"load_state_dict for {name}: {key!r} holds {value.dtype} values, not numbers; nothing was loaded"
                )
            if value.shape != target.shape:
                raise ValueError(
                    f"load_state_dict for {name}: {key!r} has shape {value.shape} but the "
                    f"module's is {target.shape}; nothing was loaded"
                )
            updates.append((target, value))
        for target, value in updates:
            target.data = value.astype(target.dtype, copy=True)
            mark_changed(target)
        return IncompatibleKeys(missing, unexpected)

    # ---- printing ----------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The arguments shown inside this module's parentheses in ``repr``."""
        return ""

    def __repr__(self) -> str:
        # Every registered name, an emptied one as "(name): None", as in PyTorch.
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self._modules.items()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        extra = [self.extra_repr()] if self.extra_repr() else []
        body = "\n  ".join(extra + lines)
        return f"{type(self).__name__}(\n  {body}\n)"
