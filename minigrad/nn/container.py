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

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index``; the modules after it are renumbered."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: {module!r} is not a Module")
        modules = list(self._modules.values())
        modules.insert(index, module)
        for name in list(self._modules):
            delattr(self, name)
        self.extend(modules)

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
        part = Sequential()
        for name in list(self._modules)[index]:
            setattr(part, name, self._modules[name])
        return part

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x
