"""Embedding's scale_grad_by_freq (gradients divided by how often a row is picked) and sparse=False."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn


def scaled_gradient(indices, upstream, num_embeddings, padding_idx=None):
    """The weight's gradient written out: each position's upstream row, divided by its index's count."""
    counts = np.bincount(indices.ravel(), minlength=num_embeddings)
    gradient = np.zeros((num_embeddings, upstream.shape[-1]))
    for position in np.ndindex(indices.shape):
        row = indices[position]
        gradient[row] += upstream[position] / counts[row]
    if padding_idx is not None:
        gradient[padding_idx] = 0
    return gradient


INDICES = np.array([[0, 2, 2, 5], [2, 1, 0, 2]])  # row 2 four times, row 0 twice, rows 3 and 4 never


@pytest.mark.parametrize("padding_idx", [None, 2, 0, 4])
def test_gradient_of_each_row_is_divided_by_its_count(padding_idx):
    weight = mg.tensor(random_array(6, 3), requires_grad=True)
    upstream = random_array(2, 4, 3, seed=1)
    F.embedding(INDICES, weight, padding_idx, scale_grad_by_freq=True).backward(mg.tensor(upstream))
    np.testing.assert_allclose(
        weight.grad.data, scaled_gradient(INDICES, upstream, 6, padding_idx), rtol=1e-14
    )


def test_values_are_bit_for_bit_those_of_the_plain_lookup():
    table = random_array(6, 3) * np.array([1e-30, 1.0, 1e30])
    for dtype in (np.float64, np.float32):
        weight = mg.tensor(table.astype(dtype), requires_grad=True)
        scaled = F.embedding(INDICES, weight, scale_grad_by_freq=True)
        assert scaled.dtype == dtype
        np.testing.assert_array_equal(scaled.data, weight.data[INDICES])


def test_a_sum_of_the_lookups_gives_each_picked_row_a_gradient_of_one():
    weight = mg.tensor(random_array(6, 3), requires_grad=True)
    F.embedding(INDICES, weight, scale_grad_by_freq=True).sum().backward()
    picked = np.isin(np.arange(6), INDICES)
    np.testing.assert_array_equal(weight.grad.data, np.repeat(picked[:, None], 3, axis=1).astype(float))


def test_indices_picked_once_get_the_true_derivative_in_gradcheck():
    # A count of 1 leaves the gradient the derivative; with repeats it is, by design, not the derivative
    # (the mean in place of the sum), so finite differences cannot check it: the numpy tests above do.
    indices = mg.tensor(np.array([[1, 3], [4, 0]]))
    assert_gradcheck(
        lambda weight: F.embedding(indices, weight, scale_grad_by_freq=True) ** 2, random_array(5, 3)
    )


def test_the_module_passes_it_on_and_shows_it_in_the_repr():
    layer = nn.Embedding(6, 3, padding_idx=5, scale_grad_by_freq=True, sparse=False, dtype=np.float64)
    assert layer.scale_grad_by_freq and not layer.sparse
    assert repr(layer) == "Embedding(6, 3, padding_idx=5, scale_grad_by_freq=True)"
    upstream = random_array(2, 4, 3, seed=1)
    layer(INDICES).backward(mg.tensor(upstream))
    np.testing.assert_allclose(layer.weight.grad.data, scaled_gradient(INDICES, upstream, 6, 5), rtol=1e-14)


def test_from_pretrained_passes_it_on():
    layer = nn.Embedding.from_pretrained(
        random_array(6, 3), freeze=False, scale_grad_by_freq=True, sparse=False
    )
    layer(INDICES).sum().backward()
    assert layer.weight.grad.data[2, 0] == 1.0  # picked four times, each gradient divided by 4
    frozen = nn.Embedding.from_pretrained(np.arange(12).reshape(6, 2), scale_grad_by_freq=True)
    np.testing.assert_array_equal(frozen(INDICES).data, np.arange(12).reshape(6, 2)[INDICES])  # stays int


def test_sparse_gradients_are_refused_with_the_way_out():
    with pytest.raises(
        ValueError, match=r"Embedding: sparse=True .* minigrad has no sparse tensors; pass sparse=False"
    ):
        nn.Embedding(6, 3, sparse=True)
    with pytest.raises(ValueError, match=r"^embedding: sparse=True"):
        F.embedding(INDICES, mg.randn(6, 3), sparse=True)
