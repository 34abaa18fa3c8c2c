"""Datasets and the DataLoader that cuts them into batches, as in ``torch.utils.data``.

A dataset is anything with ``__len__`` and ``__getitem__``: item ``i`` is ``dataset[i]``.
A :class:`DataLoader` picks the order of the indices for an epoch (shuffled from
minigrad's generator, so :func:`minigrad.manual_seed` makes it reproducible), fetches
the items of each batch one by one, and hands the list to ``collate_fn``, which by
default (:func:`default_collate`) stacks them into tensors field by field::

    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    for inputs, labels in loader:
        ...
"""

from __future__ import annotations

import bisect
import itertools
import math
import numbers
import operator
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from minigrad import random
from minigrad.composite import stack
from minigrad.tensor import Tensor

__all__ = [
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "Subset",
    "TensorDataset",
    "default_collate",
    "default_convert",
    "random_split",
]


class Dataset:
    """The base class of datasets: item ``i`` is ``dataset[i]``, for ``i`` in ``range(len(dataset))``.

    A subclass defines ``__getitem__`` and ``__len__``. :class:`DataLoader` takes any
    object with those two (a list of ``(x, y)`` pairs works too); subclasses also get
    ``ds1 + ds2``, a :class:`ConcatDataset`.
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(self, index)")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__(self)")

    def __add__(self, other: Any) -> ConcatDataset:
        """The items of this dataset followed by those of ``other``."""
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Rows of tensors that share their first dimension: item ``i`` is ``(t[i] for t in tensors)``.

    ``TensorDataset(x, y)`` pairs each input row with its label. Tensors are used as
    they are; numpy arrays (or lists) become Tensors of their own dtype, so float32
    data stays float32.
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor, e.g. TensorDataset(x, y)")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        for position, tensor in enumerate(self.tensors):
            if tensor.ndim == 0:
                raise ValueError(
                    f"TensorDataset: tensor {position} is a single value (shape ()); each tensor "
                    f"needs a first dimension with one row per item"
                )
        sizes = [tensor.shape[0] for tensor in self.tensors]
        if len(set(sizes)) > 1:
            shapes = ", ".join(str(tensor.shape) for tensor in self.tensors)
            raise ValueError(
                f"TensorDataset: the tensors must have one row per item, so the same first "
                f"dimension, got sizes {sizes} (shapes {shapes})"
            )

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``, in that order: ``Subset(ds, [4, 0])[1]`` is ``ds[0]``."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[_position(index, len(self), "Subset")]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after the other: the items of the first, then of the second, ..."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: needs at least one dataset")
        # where each dataset ends, to find the one holding an index by bisection
        self.cumulative_sizes = list(itertools.accumulate(len(dataset) for dataset in self.datasets))

    def __getitem__(self, index: int) -> Any:
        index = _position(index, len(self), "ConcatDataset")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]


def _position(index: Any, length: int, owner: str) -> int:
    """``index`` as a position in ``range(length)``; a negative one counts from the end, as in a list."""
    try:
        index = operator.index(index)
    except TypeError:
        raise TypeError(f"{owner}: an index must be an int, got {type(index).__name__}") from None
    if not -length <= index < length:
        raise IndexError(
            f"{owner}: index {index} is out of range for a dataset of {length} items "
            f"(valid: {-length} to {length - 1})"
        )
    return index + length if index < 0 else index


def random_split(
    dataset: Any, lengths: Sequence[int | float], generator: np.random.Generator | None = None
) -> list[Subset]:
    """Split ``dataset`` at random into :class:`Subset` s of the given lengths that share no item.

    ``lengths`` are counts that sum to ``len(dataset)``, or fractions that sum to 1:
    ``train, test = random_split(ds, [0.8, 0.2])``. A fraction gets
    ``floor(fraction * len(dataset))`` items, and the items left over go one each to
    the first split, the second, ... in turn, as in PyTorch: 10 items split
    ``[0.33, 0.33, 0.34]`` give 4, 3 and 3. The order comes from ``generator`` (a
    ``np.random.Generator``) or else minigrad's, seeded by :func:`minigrad.manual_seed`.
    """
    _check_generator(generator, "random_split")
    size = len(dataset)
    lengths = list(lengths)
    if not all(isinstance(length, numbers.Integral) for length in lengths):
        lengths = _lengths_from_fractions(lengths, size)
    if any(length < 0 for length in lengths) or sum(lengths) != size:
        raise ValueError(
            f"random_split: the lengths {lengths} must be counts of at least 0 that add up to "
            f"the {size} items of the dataset, or fractions (floats, such as [0.8, 0.2]) that add up to 1"
        )
    order = _permutation(size, generator)
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, order[end - length : end]) for end, length in zip(ends, lengths)]


def _lengths_from_fractions(fractions: list[float], size: int) -> list[int]:
    """The counts for splitting ``size`` items by ``fractions``, with PyTorch's rounding."""
    if not all(0 <= fraction <= 1 for fraction in fractions) or not math.isclose(sum(fractions), 1):
        raise ValueError(
            f"random_split: fractions must each be between 0 and 1 and add up to 1, got "
            f"{fractions} (sum {sum(fractions)}); for counts, pass ints"
        )
    lengths = [math.floor(size * fraction) for fraction in fractions]
    for turn in range(size - sum(lengths)):
        lengths[turn % len(lengths)] += 1
    for position, length in enumerate(lengths):
        if length == 0:
            warnings.warn(f"random_split: split {position} of {lengths} is empty", stacklevel=3)
    return lengths


def _check_generator(generator: Any, owner: str) -> None:
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"{owner}: generator must be a numpy Generator, such as np.random.default_rng(0), "
            f"or None for minigrad's (seeded by mg.manual_seed), got {type(generator).__name__}"
        )


def _permutation(size: int, generator: np.random.Generator | None) -> list[int]:
    """``range(size)`` in a random order, drawn from ``generator`` or minigrad's.

    minigrad's generator is looked up at each call, not kept, because
    :func:`minigrad.manual_seed` replaces it.
    """
    source = random.generator() if generator is None else generator
    return source.permutation(size).tolist()


def default_collate(batch: Sequence[Any]) -> Any:
    """Join a list of samples into one batch, field by field, as PyTorch's ``default_collate``.

    - Tensors are stacked along a new first axis (with :func:`minigrad.stack`, so
      gradients flow through); numpy arrays and numpy numbers become one Tensor of
      their dtype.
    - Python numbers become a 1-D Tensor: ints int64, bools bool, and floats the
      default float dtype (PyTorch makes them float64, which would upcast a float32
      model's loss).
    - Strings stay a list.
    - A dict gives a dict of batches, key by key. Tuples and lists give a list of
      batches, field by field, as in PyTorch: a batch of ``(x, y)`` pairs is
      ``[xs, ys]``. A namedtuple stays one.

    Samples of different shapes cannot be stacked: pad them, or pass the DataLoader a
    ``collate_fn`` of your own.
    """
    sample = batch[0]
    if isinstance(sample, Tensor):
        _check_alike(batch, lambda value: value.shape, "shape")
        return stack(batch)
    if _is_numeric_numpy(sample):
        _check_alike(batch, np.shape, "shape")
        return Tensor._wrap(np.stack(batch))
    if isinstance(sample, (bool, int, float)):
        return Tensor(list(batch))
    if isinstance(sample, (str, bytes)):
        return list(batch)
    if isinstance(sample, Mapping):
        return {key: default_collate([each[key] for each in batch]) for key in sample}
    if isinstance(sample, (tuple, list)):
        _check_alike(batch, len, "length")
        fields = [default_collate(list(field)) for field in zip(*batch)]
        return type(sample)(*fields) if hasattr(sample, "_fields") else fields
    kind = f"{type(sample).__name__} of {sample.dtype}" if hasattr(sample, "dtype") else type(sample).__name__
    raise TypeError(
        f"default_collate: cannot batch samples of type {kind}; it batches Tensors, numpy "
        f"arrays, numbers, strings, and dicts, tuples and lists of those. Convert the samples "
        f"in the dataset's __getitem__, or pass the DataLoader a collate_fn of your own"
    )


def default_convert(data: Any) -> Any:
    """Numpy arrays and numpy numbers made Tensors, also inside dicts, tuples and lists; the rest as is.

    What a DataLoader with ``batch_size=None`` does to each item. As in PyTorch, a
    tuple comes back as a list, and a namedtuple stays one.
    """
    if _is_numeric_numpy(data):
        return Tensor(data)
    if isinstance(data, Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, (tuple, list)):
        fields = [default_convert(value) for value in data]
        return type(data)(*fields) if hasattr(data, "_fields") else fields
    return data


def _is_numeric_numpy(value: Any) -> bool:
    """Whether ``value`` is a numpy array or number that a Tensor can hold (not strings or objects)."""
    return isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biuf"


def _check_alike(batch: Sequence[Any], measure: Callable[[Any], Any], what: str) -> None:
    """That every sample has the first one's ``measure`` (its shape, or its number of fields)."""
    first = measure(batch[0])
    for position, sample in enumerate(batch):
        if measure(sample) != first:
            raise RuntimeError(
                f"default_collate: sample 0 has {what} {first} but sample {position} has "
                f"{what} {measure(sample)}, so they cannot be batched together; make them "
                f"alike (pad or crop), or pass the DataLoader a collate_fn of your own"
            )


class DataLoader:
    """The batches of a dataset, one per step of ``for batch in loader``.

    Parameters
    ----------
    dataset : Dataset, or any object with ``__len__`` and ``__getitem__``
    batch_size : int or None
        Items per batch. The last batch holds the items left over, fewer than
        ``batch_size``, unless ``drop_last``. ``None`` turns batching off: each item
        comes on its own, passed through ``collate_fn`` (by default
        :func:`default_convert`, which makes numpy arrays Tensors).
    shuffle : bool
        Visit the items in a new random order each epoch (each ``iter(loader)``), drawn
        from ``generator``, or else from minigrad's, so :func:`minigrad.manual_seed`
        makes the orders reproducible. Without it, the items come in index order.
    drop_last : bool
        Leave out the last batch if it is smaller than ``batch_size``.
    collate_fn : callable or None
        Joins the list of a batch's items into the batch; :func:`default_collate` by default.
    num_workers : int
        Accepted, so that PyTorch code runs unchanged, but minigrad loads every batch
        in the main process, whatever the number: the batches are the same as with
        0 (PyTorch's workers give the same batches in the same order too; only the
        speed differs). Randomness inside ``__getitem__`` (augmentation) draws from
        minigrad's one generator, where PyTorch seeds each worker on its own.
    pin_memory : bool
        Accepted and ignored: pinning speeds up copies to a GPU, and minigrad has none.
    generator : numpy.random.Generator or None
        Where the shuffles come from, e.g. ``np.random.default_rng(0)``; None for minigrad's.

    ``len(loader)`` is the number of batches in an epoch. Arguments after ``shuffle``
    are keyword-only: PyTorch has other parameters (``sampler``, ...) in those places.
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int | None = 1,
        shuffle: bool = False,
        *,
        drop_last: bool = False,
        collate_fn: Callable[[Any], Any] | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
        generator: np.random.Generator | None = None,
    ) -> None:
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"DataLoader: the dataset must have __len__ and __getitem__, as a Dataset or a "
                f"list does, got {type(dataset).__name__}; for tensors x and y, use TensorDataset(x, y)"
            )
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1
        ):
            raise ValueError(
                f"DataLoader: batch_size must be a positive int (or None to turn batching off), "
                f"got {batch_size!r}"
            )
        for name, value in (("shuffle", shuffle), ("drop_last", drop_last), ("pin_memory", pin_memory)):
            if not isinstance(value, bool):
                raise TypeError(f"DataLoader: {name} must be True or False, got {value!r}")
        if batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None gives the items one by one, so there is no last "
                "batch for drop_last=True to drop; pass a batch_size, or drop_last=False"
            )
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError(
                f"DataLoader: num_workers must be an int of at least 0, got {num_workers!r} "
                f"(minigrad loads every batch in the main process, whatever the number)"
            )
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(
                f"DataLoader: collate_fn must be a function or None, got {type(collate_fn).__name__}"
            )
        _check_generator(generator, "DataLoader")
        if collate_fn is None:
            collate_fn = default_convert if batch_size is None else default_collate
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.num_workers = int(num_workers)
        self.pin_memory = pin_memory
        self.generator = generator

    def __len__(self) -> int:
        """The number of batches in an epoch."""
        size = len(self.dataset)
        if self.batch_size is None:
            return size
        if self.drop_last:
            return size // self.batch_size
        return math.ceil(size / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        """The batches of one epoch; the order of the items is drawn here, once per epoch."""
        size = len(self.dataset)
        order = _permutation(size, self.generator) if self.shuffle else range(size)
        if self.batch_size is None:
            return (self.collate_fn(self.dataset[index]) for index in order)
        starts = range(0, len(self) * self.batch_size, self.batch_size)
        return (
            self.collate_fn([self.dataset[index] for index in order[start : start + self.batch_size]])
            for start in starts
        )
