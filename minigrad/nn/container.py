"""Containers: modules that hold other modules, named by position."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from minigrad.nn.module import Module


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
            return type(self)(modules[index])
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
