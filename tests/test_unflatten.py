"""nn.Unflatten, the inverse of nn.Flatten (minigrad/nn/layers.py)."""

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array

import minigrad as mg
from minigrad.nn.layers import Flatten, Unflatten


@pytest.mark.parametrize(
    ("shape", "axis", "sizes", "expected"),
    [
        ((2, 12), 1, (3, 4), (2, 3, 4)),
        ((2, 12), -1, (2, -1, 2), (2, 2, 3, 2)),
        ((6, 5), 0, [2, 3], (2, 3, 5)),
        ((2, 12, 3), 1, (12,), (2, 12, 3)),
        ((0, 6), 1, (2, 3), (0, 2, 3)),
    ],
)
def test_values(shape, axis, sizes, expected):
    x = random_array(*shape)
    result = Unflatten(axis, sizes)(mg.tensor(x))
    np.testing.assert_array_equal(result.data, x.reshape(expected))


def test_undoes_flatten():
    x = mg.tensor(random_array(2, 3, 4, 5))
    np.testing.assert_array_equal(Unflatten(1, (3, 4, 5))(Flatten()(x)).data, x.data)


def test_gradcheck():
    assert_gradcheck(Unflatten(1, (2, 3)), random_array(4, 6))


def test_float32_stays_float32():
    assert Unflatten(0, (2, 2))(mg.tensor(np.ones(4, dtype=np.float32))).dtype == np.float32


def test_repr():
    # as PyTorch 2.13.0's
    assert repr(Unflatten(1, (2, 3))) == "Unflatten(dim=1, unflattened_size=(2, 3))"
    assert repr(Unflatten(-1, [4, -1])) == "Unflatten(dim=-1, unflattened_size=(4, -1))"


def test_sizes_that_do_not_fit_are_an_error_naming_the_shapes():
    x = mg.tensor(random_array(2, 12))
    with pytest.raises(
        ValueError, match=r"sizes \(4, 4\) do not multiply to the length 12 of axis 1 .*\(2, 12\)"
    ):
        Unflatten(1, (4, 4))(x)
    with pytest.raises(ValueError, match=r"sizes \(5, -1\) do not multiply to the length 12"):
        Unflatten(1, (5, -1))(x)
    with pytest.raises(ValueError, match="axis 2 is out of range for a tensor with 2 dimensions"):
        Unflatten(2, (3, 4))(x)


@pytest.mark.parametrize("sizes", [(), (2, -1, -1), (2.0, 3), (-2, 3)])
def test_bad_sizes(sizes):
    with pytest.raises(ValueError, match="unflatten: sizes must be"):
        Unflatten(1, sizes)(mg.tensor(random_array(2, 6)))


def test_sizes_must_be_a_tuple_and_axis_an_int():
    with pytest.raises(TypeError, match=r"Unflatten: unflattened_size must be a tuple of lengths"):
        Unflatten(1, 6)
    with pytest.raises(TypeError, match=r"unflatten: dim must be an int, got \(1, 2\)"):
        Unflatten((1, 2), (2, 3))(mg.tensor(random_array(2, 6)))
