"""Containers: modules that hold other modules or parameters, by position or by name."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor


class ModuleList(Module):
    """A list of modules whose parameters the parent module can see.

    Children are named ``0``, ``1``, ...; indexing takes negative indices and slices.
    """

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: {module!r} is not a Module")
        setattr(self, str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> ModuleList:
        """Put ``module`` before position ``index`` (negatives count from the end); renumber the rest."""
        name = type(self).__name__
        if not isinstance(module, Module):
            raise TypeError(f"{name}: {module!r} is not a Module")
        count = len(self._modules)
        if not -count <= index <= count:
            raise IndexError(f"{name}.insert: index {index} is out of range for {count} modules")
        if list(self._modules) != [str(position) for position in range(count)]:
            raise KeyError(
                f"{name}.insert: renumbering needs children named 0, 1, ...; this one has "
                f"{list(self._modules)}, and their state dict keys would change"
            )
        prefix = self._path_prefix()
        modules = list(self._modules.values())
        modules.insert(index, module)
        for child_name in list(self._modules):
            delattr(self, child_name)
        self.extend(modules)
        self._name_tensors(prefix)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            prefix = self._path_prefix()
            part = type(self)(modules[index])
            self._name_tensors(prefix)  # the part named them as its own: give back the model's names
            return part
        try:
            return modules[index]
        except IndexError:
            raise IndexError(
                f"{type(self).__name__}: index {index} is out of range for {len(modules)} modules"
            ) from None


class Sequential(ModuleList):
    """Modules applied one after the other: ``Sequential(a, b)(x) == b(a(x))``.

    State dict keys read ``0.weight``, ``1.running_mean``, as in PyTorch. A slice
    keeps the original names, so ``model[1:]`` starts at ``(1)``.
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__(modules)

    def __getitem__(self, index: int | slice) -> Any:
        if not isinstance(index, slice):
            return super().__getitem__(index)
        prefix = self._path_prefix()
        part = Sequential()
        for name in list(self._modules)[index]:
            setattr(part, name, self._modules[name])
        part._name_tensors(prefix)  # the model's names, not the slice's
        return part

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x


def _pairs(entries: Mapping[str, Any] | Iterable[tuple[str, Any]], name: str) -> list[tuple[str, Any]]:
    """(key, value) pairs from a mapping or another ModuleDict or ParameterDict (in its order), or from pairs."""
    if isinstance(entries, (Mapping, _NamedChildren)):
        return list(entries.items())
    pairs = []
    for entry in entries:
        if not (isinstance(entry, (tuple, list)) and len(entry) == 2):
            raise TypeError(
                f"{name}.update: expected a mapping or (key, value) pairs, got the entry {entry!r}"
            )
        pairs.append((entry[0], entry[1]))
    return pairs


class _NamedChildren(Module):
    """What ModuleDict and ParameterDict share: a dict interface over one registry of this module.

    Subclasses set ``_registry_name`` (``"_modules"`` or ``"_parameters"``) and
    ``__setitem__``, which checks and registers a value under a key.
    """

    _registry_name = ""

    def _registry(self) -> dict[str, Any]:
        return getattr(self, self._registry_name)

    def __getitem__(self, key: str) -> Any:
        try:
            return self._registry()[key]
        except KeyError:
            raise KeyError(
                f"{type(self).__name__}: no entry {key!r}; it has {list(self._registry())}"
            ) from None

    def __setitem__(self, key: str, value: Any) -> None:
        raise NotImplementedError

    def __delitem__(self, key: str) -> None:
        self[key]  # a KeyError that lists the keys
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._registry())

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._registry()))

    def __contains__(self, key: object) -> bool:
        return key in self._registry()

    def keys(self) -> list[str]:
        return list(self._registry())

    def values(self) -> list[Any]:
        return list(self._registry().values())

    def items(self) -> list[tuple[str, Any]]:
        return list(self._registry().items())

    def update(self, entries: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add or replace entries from a mapping, or from (key, value) pairs, in their order."""
        for key, value in _pairs(entries, type(self).__name__):
            self[key] = value

    def pop(self, key: str) -> Any:
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        for key in self.keys():
            del self[key]


class ModuleDict(_NamedChildren):
    """Modules by name, whose parameters the parent module can see: ``blocks["encoder"]``.

    Keys are the children's names, in the order they were added: state dict keys read
    ``blocks.encoder.weight``. A key must be a non-empty string without a dot, and not
    the name of one of the module's own attributes (``"training"``, ``"keys"``).
    """

    _registry_name = "_modules"

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: {key!r} must be a Module, got {type(module).__name__}")
        self.add_module(key, module)


class ParameterDict(_NamedChildren):
    """Parameters by name: ``self.scales = ParameterDict({"a": Parameter(...)})``.

    A tensor that is not a Parameter is made one (sharing its data), as in PyTorch.
    """

    _registry_name = "_parameters"

    def __init__(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __setitem__(self, key: str, value: Tensor) -> None:
        self.register_parameter(key, _as_parameter(value, "ParameterDict", key))

    def __repr__(self) -> str:
        return _parameters_repr(self)


class ParameterList(Module):
    """A list of parameters, named ``0``, ``1``, ...: ``self.weights = ParameterList([...])``.

    A tensor that is not a Parameter is made one (sharing its data), as in PyTorch.
    """

    def __init__(self, values: Iterable[Tensor] = ()) -> None:
        super().__init__()
        self.extend(values)

    def append(self, value: Tensor) -> ParameterList:
        index = len(self._parameters)
        self.register_parameter(str(index), _as_parameter(value, "ParameterList", index))
        return self

    def extend(self, values: Iterable[Tensor]) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def _position(self, index: int) -> int:
        count = len(self._parameters)
        if not -count <= index < count:
            raise IndexError(f"ParameterList: index {index} is out of range for {count} parameters")
        return index % count

    def __getitem__(self, index: int | slice) -> Any:
        values = list(self._parameters.values())
        if isinstance(index, slice):
            prefix = self._path_prefix()
            part = ParameterList(values[index])
            self._name_tensors(prefix)  # the part named them as its own: give back the model's names
            return part
        return values[self._position(index)]

    def __setitem__(self, index: int, value: Tensor) -> None:
        position = self._position(index)
        setattr(self, str(position), _as_parameter(value, "ParameterList", position))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(list(self._parameters.values()))

    def __repr__(self) -> str:
        return _parameters_repr(self)


def _as_parameter(value: Any, container: str, key: Any) -> Parameter:
    """``value`` if it is a Parameter; a tensor made one, sharing its data; else a TypeError."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        if value.op is not None:
            raise ValueError(
                f"{container}: entry {key!r} is a computed tensor; a parameter must be a leaf "
                f"(use .detach() to make one from it)"
            )
        parameter = Parameter._wrap(value.data, requires_grad=value.data.dtype.kind == "f")
        parameter.name = value.name
        return parameter
    raise TypeError(f"{container}: entry {key!r} must be a Parameter or a Tensor, got {type(value).__name__}")


def _parameters_repr(container: Module) -> str:
    """One line per parameter, by name: ``(0): Parameter of shape (3,), float32``."""
    lines = [
        f"({key}): Parameter of shape {value.shape}, {value.dtype}"
        for key, value in container._parameters.items()
    ]
    if not lines:
        return f"{type(container).__name__}()"
    return f"{type(container).__name__}(\n  " + "\n  ".join(lines) + "\n)"
