"""minigrad.utils.data: datasets, random_split, default_collate and the DataLoader."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import minigrad as mg
from minigrad.utils.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def ten_rows() -> TensorDataset:
    """Ten items ``(x[i], y[i])``: float32 rows of two features, and int64 labels equal to i."""
    return TensorDataset(np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10))


def labels_of_epoch(loader: DataLoader) -> list[int]:
    return [label for _, labels in loader for label in labels.numpy().tolist()]


class Squares(Dataset):
    """A dataset written the way a user writes one: item i is (i, i * i)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __getitem__(self, index: int) -> tuple[int, int]:
        if index >= self.size:
            raise IndexError(index)
        return index, index * index

    def __len__(self) -> int:
        return self.size


# ---- DataLoader: batches --------------------------------------------------------------


@pytest.mark.parametrize(
    "batch_size, drop_last, sizes",
    [(3, False, [3, 3, 3, 1]), (3, True, [3, 3, 3]), (5, False, [5, 5]), (20, False, [10]), (20, True, [])],
)
def test_batches_have_batch_size_rows_and_the_last_holds_the_rest(batch_size, drop_last, sizes):
    loader = DataLoader(ten_rows(), batch_size=batch_size, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(sizes) == len(batches)
    assert [inputs.shape for inputs, _ in batches] == [(size, 2) for size in sizes]
    assert [labels.shape for _, labels in batches] == [(size,) for size in sizes]
    assert labels_of_epoch(loader) == list(range(sum(sizes)))


def test_a_batch_is_a_list_of_stacked_fields_that_keep_their_dtype():
    inputs, labels = batch = next(iter(DataLoader(ten_rows(), batch_size=4)))
    assert isinstance(batch, list)
    assert isinstance(inputs, mg.Tensor) and inputs.dtype == np.float32
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(inputs.numpy(), np.arange(8, dtype=np.float32).reshape(4, 2))


def test_float64_data_stays_float64():
    dataset = TensorDataset(np.zeros((4, 3)), mg.zeros(4, dtype=np.float64))
    inputs, targets = next(iter(DataLoader(dataset, batch_size=2)))
    assert inputs.dtype == np.float64 and targets.dtype == np.float64


def test_batch_size_none_gives_the_items_one_by_one_as_tensors():
    loader = DataLoader([(np.ones(3, dtype=np.float32), 7)] * 4, batch_size=None)
    items = list(loader)
    assert len(loader) == len(items) == 4
    row, label = items[0]
    assert isinstance(row, mg.Tensor) and row.shape == (3,) and row.dtype == np.float32
    assert label == 7


def test_any_object_with_len_and_getitem_is_a_dataset():
    loader = DataLoader(Squares(5), batch_size=2)
    assert [(i.numpy().tolist(), s.numpy().tolist()) for i, s in loader] == [
        ([0, 1], [0, 1]),
        ([2, 3], [4, 9]),
        ([4], [16]),
    ]
    pairs = [(np.float32(i), i % 2 == 0) for i in range(4)]
    values, even = next(iter(DataLoader(pairs, batch_size=4)))
    assert values.dtype == np.float32 and even.numpy().tolist() == [True, False, True, False]


def test_collate_fn_receives_the_list_of_items():
    loader = DataLoader(Squares(5), batch_size=2, collate_fn=lambda items: [square for _, square in items])
    assert list(loader) == [[0, 1], [4, 9], [16]]


def test_num_workers_loads_the_same_batches_in_the_main_process():
    mg.manual_seed(3)
    without_workers = labels_of_epoch(DataLoader(ten_rows(), batch_size=3, shuffle=True))
    mg.manual_seed(3)
    with_workers = DataLoader(ten_rows(), batch_size=3, shuffle=True, num_workers=4, pin_memory=True)
    assert with_workers.num_workers == 4
    assert labels_of_epoch(with_workers) == without_workers


# ---- DataLoader: shuffling ------------------------------------------------------------


def test_shuffle_visits_every_item_once_in_a_new_order_each_epoch():
    loader = DataLoader(TensorDataset(np.zeros(100), np.arange(100)), batch_size=16, shuffle=True)
    first, second = labels_of_epoch(loader), labels_of_epoch(loader)
    assert sorted(first) == sorted(second) == list(range(100))
    assert first != second
    assert first != list(range(100))


def test_manual_seed_makes_the_shuffles_reproducible():
    loader = DataLoader(ten_rows(), batch_size=4, shuffle=True)
    mg.manual_seed(0)
    epochs = [labels_of_epoch(loader) for _ in range(3)]
    mg.manual_seed(0)
    assert [labels_of_epoch(loader) for _ in range(3)] == epochs


def test_a_generator_of_ones_own_gives_the_order_instead():
    orders = [
        labels_of_epoch(DataLoader(ten_rows(), shuffle=True, generator=np.random.default_rng(5)))
        for _ in range(2)
    ]
    assert orders[0] == orders[1] and sorted(orders[0]) == list(range(10))


def test_without_shuffle_the_order_is_the_index_order():
    assert labels_of_epoch(DataLoader(ten_rows(), batch_size=4)) == list(range(10))


# ---- DataLoader: errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ({"batch_size": 0}, ValueError, "batch_size must be a positive int"),
        ({"batch_size": 2.0}, ValueError, "got 2.0"),
        ({"batch_size": True}, ValueError, "batch_size must be a positive int"),
        ({"batch_size": None, "drop_last": True}, ValueError, "batch_size=None"),
        ({"shuffle": "yes"}, TypeError, "shuffle must be True or False, got 'yes'"),
        ({"drop_last": 1}, TypeError, "drop_last must be True or False"),
        ({"num_workers": -1}, ValueError, "num_workers must be an int of at least 0, got -1"),
        ({"collate_fn": "stack"}, TypeError, "collate_fn must be a function"),
        ({"generator": 0}, TypeError, r"np.random.default_rng\(0\)"),
    ],
)
def test_bad_arguments_are_refused_with_what_to_pass(arguments, error, message):
    with pytest.raises(error, match=message):
        DataLoader(ten_rows(), **arguments)


def test_a_dataset_must_have_len_and_getitem():
    with pytest.raises(
        TypeError, match=r"DataLoader: the dataset must have __len__ .* TensorDataset\(x, y\)"
    ):
        DataLoader(iter(range(3)))


# ---- datasets -------------------------------------------------------------------------


def test_tensor_dataset_item_is_the_row_of_each_tensor():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    dataset = TensorDataset(x, np.array([5, 6]))
    assert len(dataset) == 2
    row, label = dataset[-1]
    assert row.numpy().tolist() == [3.0, 4.0] and label.item() == 6
    assert dataset.tensors[0] is x


def test_tensor_dataset_names_the_sizes_that_differ():
    with pytest.raises(
        ValueError, match=r"same first dimension, got sizes \[3, 4\] \(shapes \(3, 2\), \(4,\)\)"
    ):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match=r"tensor 1 is a single value"):
        TensorDataset(np.zeros(3), np.float32(1))


def test_subset_picks_items_in_the_order_given():
    subset = Subset(Squares(10), [7, 2, 5])
    assert len(subset) == 3
    assert [subset[0], subset[-1]] == [(7, 49), (5, 25)]
    assert list(subset) == [(7, 49), (2, 4), (5, 25)]  # for-loops stop at the IndexError


def test_concat_dataset_and_plus_chain_the_items():
    joined = Squares(3) + Squares(2)
    assert isinstance(joined, ConcatDataset)
    assert len(joined) == 5
    assert [joined[i][1] for i in range(5)] == [0, 1, 4, 0, 1]
    assert joined[-1] == (1, 1) and joined[-5] == (0, 0)
    with_empty = ConcatDataset([Squares(0), Squares(2), Squares(0), Squares(1)])
    assert [with_empty[i] for i in range(3)] == [(0, 0), (1, 1), (0, 0)]


@pytest.mark.parametrize("make", [lambda: Subset(Squares(9), [1, 2, 3]), lambda: Squares(1) + Squares(2)])
@pytest.mark.parametrize("index", [3, -4])
def test_an_index_out_of_range_names_the_size(make, index):
    with pytest.raises(IndexError, match=rf"index {index} is out of range for a dataset of 3 items"):
        make()[index]


def test_an_index_must_be_an_int():
    with pytest.raises(TypeError, match="Subset: an index must be an int, got float"):
        Subset(Squares(3), [0, 1])[1.0]


def test_a_dataset_subclass_says_what_it_is_missing():
    class Empty(Dataset):
        pass

    with pytest.raises(NotImplementedError, match="Empty must define __getitem__"):
        Empty()[0]


# ---- random_split ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "size, lengths, expected",
    [
        (10, [7, 3], [7, 3]),
        (10, [0.3, 0.3, 0.4], [3, 3, 4]),
        (10, [0.33, 0.33, 0.34], [4, 3, 3]),
        (7, [0.5, 0.5], [4, 3]),
        (11, [0.1, 0.2, 0.7], [2, 2, 7]),
        (20, [0.4, 0.2, 0.3, 0.1], [8, 4, 6, 2]),  # sums to 1.0000000000000002; PyTorch refuses it
    ],
)
def test_random_split_sizes_and_no_item_twice(size, lengths, expected):
    splits = random_split(Squares(size), lengths)
    assert [len(split) for split in splits] == expected
    everything = [item for split in splits for item in split]
    assert sorted(everything) == [(i, i * i) for i in range(size)]


def test_random_split_is_reproducible_with_manual_seed_or_a_generator():
    mg.manual_seed(1)
    first = random_split(range(20), [15, 5])[1].indices
    mg.manual_seed(1)
    assert random_split(range(20), [15, 5])[1].indices == first
    by_generator = [random_split(range(20), [15, 5], np.random.default_rng(2))[1].indices for _ in range(2)]
    assert by_generator[0] == by_generator[1]


def test_random_split_warns_of_an_empty_split():
    with pytest.warns(UserWarning, match=r"split 3 of \[1, 1, 1, 0\] is empty"):
        random_split(range(3), [0.25] * 4)


@pytest.mark.parametrize(
    "lengths, message",
    [
        ([6, 3], r"the lengths \[6, 3\] must be counts .* add up to the 10 items"),
        ([12, -2], r"counts of at least 0"),
        ([0.5, 0.4], r"fractions must each be between 0 and 1 and add up to 1, got \[0.5, 0.4\]"),
        ([1.5, -0.5], r"fractions must each be between 0 and 1"),
    ],
)
def test_random_split_refuses_lengths_that_do_not_fit(lengths, message):
    with pytest.raises(ValueError, match=message):
        random_split(range(10), lengths)


# ---- default_collate ------------------------------------------------------------------


def test_collate_numbers_by_their_python_type():
    ints, floats, flags = default_collate([(1, 0.5, True), (2, 1.5, False)])
    assert ints.dtype == np.int64 and ints.numpy().tolist() == [1, 2]
    assert floats.dtype == np.float32 and floats.numpy().tolist() == [0.5, 1.5]
    assert flags.dtype == np.bool_


def test_collate_floats_follow_the_default_dtype(float64_default):
    assert default_collate([0.5, 1.5]).dtype == np.float64


def test_collate_numpy_arrays_and_numbers_keep_their_dtype():
    arrays = default_collate([np.zeros((2, 3), dtype=np.float32)] * 4)
    assert isinstance(arrays, mg.Tensor) and arrays.shape == (4, 2, 3) and arrays.dtype == np.float32
    assert default_collate([np.float64(1), np.float64(2)]).dtype == np.float64
    assert default_collate([np.int32(1), np.int32(2)]).dtype == np.int32


def test_collate_tensors_stacks_them_and_gradients_flow_back():
    rows = [mg.tensor([1.0, 2.0], requires_grad=True) for _ in range(3)]
    batch = default_collate(rows)
    assert batch.shape == (3, 2) and batch.dtype == np.float32
    (batch * mg.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    assert [row.grad.numpy().tolist() for row in rows] == [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]


def test_collate_recurses_into_dicts_lists_and_namedtuples():
    batch = default_collate([{"image": np.ones(2), "label": 3, "tags": [1, 2]}] * 5)
    assert set(batch) == {"image", "label", "tags"}
    assert batch["image"].shape == (5, 2) and batch["label"].shape == (5,)
    assert [tag.shape for tag in batch["tags"]] == [(5,), (5,)]
    Pair = namedtuple("Pair", "x y")
    pair = default_collate([Pair(1, 2.0), Pair(3, 4.0)])
    assert isinstance(pair, Pair) and pair.x.numpy().tolist() == [1, 3]


def test_collate_keeps_strings_as_a_list():
    names, values = default_collate([("cat", 1), ("dog", 2)])
    assert names == ["cat", "dog"] and values.numpy().tolist() == [1, 2]


@pytest.mark.parametrize(
    "batch, message",
    [
        ([None, None], "cannot batch samples of type NoneType"),
        ([np.array(["a"])], "cannot batch samples of type ndarray of <U1"),
        ([1 + 2j], "cannot batch samples of type complex"),
    ],
)
def test_collate_names_a_type_it_cannot_batch(batch, message):
    with pytest.raises(TypeError, match=message):
        default_collate(batch)


def test_collate_names_the_samples_that_differ():
    with pytest.raises(RuntimeError, match=r"sample 0 has shape \(3,\) but sample 2 has shape \(4,\)"):
        default_collate([mg.zeros(3), mg.zeros(3), mg.zeros(4)])
    with pytest.raises(RuntimeError, match=r"sample 0 has length 2 but sample 1 has length 1"):
        default_collate([[1, 2], [3]])
