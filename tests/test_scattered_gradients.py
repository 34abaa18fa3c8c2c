"""Gradients from indexing, summed where they were read (primitives.Scattered, autograd._InPlaceSum).

On arrays, backward keeps the gradient of ``x[index]`` as what was read and adds each
piece into one array of x's shape, instead of spreading every piece into zeros of x's
shape first. These tests check that the sums are the same as the spread-out ones in
every mix of reads and other uses, and that the pieces are indeed not spread.
"""

import numpy as np
import pytest
from conftest import assert_gradcheck
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn, primitives

SHAPE = (5, 4)

# Every kind of index GetItem takes: an int, slices, an integer array with repeats, a
# boolean mask, and mixtures.
INDEXES = [
    2,
    -1,
    slice(1, 4),
    (slice(None), 3),
    (slice(None, None, 2), slice(1, 3)),
    np.array([0, 3, 3, 1]),
    (np.array([4, 4, 0]), np.array([1, 1, 2])),
    np.array([True, False, True, True, False]),
    (Ellipsis, np.array([0, 0, 2])),
    ((4, 4, 0), (1, 1, 2)),  # tuples inside the index are sequences of positions, as lists
    (),
]


def use(x: mg.Tensor, kind: int, weight: float) -> mg.Tensor:
    """One use of x, scaled so that each use's gradient differs: a read, or a dense use."""
    if kind < len(INDEXES):
        return (x[INDEXES[kind]] * weight).sum()
    return (x * weight).sum()  # a use that gives a gradient of x's full shape


def expected_gradient(kinds: list[int], weights: list[float]) -> np.ndarray:
    """The same sum, spread out by hand with np.add.at."""
    total = np.zeros(SHAPE)
    for kind, weight in zip(kinds, weights):
        if kind < len(INDEXES):
            np.add.at(total, INDEXES[kind], np.full(np.zeros(SHAPE)[INDEXES[kind]].shape, weight))
        else:
            total += weight
    return total


USES = st.lists(st.integers(0, len(INDEXES)), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(kinds=USES, intermediate=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]))
def test_reads_and_other_uses_sum_to_the_spread_out_gradient(kinds, intermediate, dtype):
    leaf = mg.tensor(np.random.default_rng(0).standard_normal(SHAPE).astype(dtype), requires_grad=True)
    x = leaf * 1.0 if intermediate else leaf  # through an op's rule, or straight to a leaf's .grad
    weights = [float(position + 2) for position in range(len(kinds))]
    loss = sum(use(x, kind, weight) for kind, weight in zip(kinds, weights))
    loss.backward()
    assert leaf.grad.dtype == dtype
    np.testing.assert_array_equal(leaf.grad.data, expected_gradient(kinds, weights).astype(dtype))
    # The recorded backward spreads every read with ScatterAdd: the same numbers.
    (recorded,) = mg.grad(loss, leaf, create_graph=True)
    np.testing.assert_array_equal(recorded.data, leaf.grad.data)


@settings(max_examples=50, deadline=None)
@given(kinds=USES)
def test_grad_of_a_read_tensor_is_the_sum_too(kinds):
    x = mg.tensor(np.zeros(SHAPE), requires_grad=True)
    hidden = x + 0.0
    hidden.retain_grad()
    weights = [1.0 + position for position in range(len(kinds))]
    loss = sum(use(hidden, kind, weight) for kind, weight in zip(kinds, weights))
    (of_hidden,) = mg.grad(loss, hidden)
    np.testing.assert_array_equal(of_hidden.data, expected_gradient(kinds, weights))
    hidden.grad = None  # grad filled it on its way, as PyTorch's does
    loss.backward()
    np.testing.assert_array_equal(hidden.grad.data, expected_gradient(kinds, weights))


@pytest.fixture
def spread(monkeypatch):
    """The shapes of the arrays ScatterAdd spreads gradients into, in order, while the test runs."""
    shapes = []
    original = primitives.ScatterAdd.forward

    def counted(self, values, index, shape):
        shapes.append(shape)
        return original(self, values, index, shape)

    monkeypatch.setattr(primitives.ScatterAdd, "forward", counted)
    return shapes


def test_a_tensor_read_piece_by_piece_is_spread_out_once(spread):
    sequence = mg.tensor(np.ones((50, 3, 2)), requires_grad=True)
    steps = [sequence[time] * float(time) for time in range(50)]
    mg.stack(steps).sum().backward()
    assert len(spread) == 1  # the first read; the other 49 are added where they were read
    np.testing.assert_array_equal(sequence.grad.data, np.arange(50.0)[:, None, None] * np.ones((50, 3, 2)))


def test_a_leaf_read_once_gets_an_array_of_its_own():
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x[:, 1:]
    upstream = np.ones((2, 2))
    y.backward(upstream)
    assert isinstance(x.grad.data, np.ndarray) and x.grad.data.flags.writeable
    assert not np.shares_memory(x.grad.data, upstream)
    np.testing.assert_array_equal(x.grad.data, [[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]])


def test_a_sum_never_writes_into_an_array_it_did_not_make():
    # x's first use is dense: its gradient is the upstream array itself (add passes it
    # on unchanged), which the caller still holds. The reads must not add into it.
    x = mg.tensor(np.zeros(4), requires_grad=True)
    upstream = np.ones(4)
    y = x + x[1:3].sum() + x[::2].sum()
    y.backward(upstream)
    np.testing.assert_array_equal(upstream, np.ones(4))
    # 1 from x itself, and each read's sum, broadcast over y's 4 elements, gives 4.
    np.testing.assert_array_equal(x.grad.data, [5.0, 5.0, 9.0, 1.0])


def test_mixed_float_dtypes_widen_the_sum_as_plain_addition_does():
    x = mg.tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    wide = mg.tensor(np.full(3, 0.1, dtype=np.float64))
    ((x * wide).sum() + (x * wide).sum()).backward()
    dtype_of_plain_sum = x.grad.dtype
    x.grad = None
    ((x[0:2] * 1.0).sum() + (x * wide).sum()).backward()
    assert x.grad.dtype == dtype_of_plain_sum
    np.testing.assert_allclose(x.grad.data, [1.1, 1.1, 0.1])


def test_gradcheck_through_many_reads():
    def read_everywhere(x):
        return sum((x[index] ** 2).sum() for index in INDEXES) + x[0, 0] * x[1:, :2].sum()

    assert_gradcheck(read_everywhere, np.random.default_rng(1).standard_normal(SHAPE))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_a_recurrent_layer_reads_its_sequence_without_spreading_every_step(spread, bidirectional):
    mg.manual_seed(0)
    rnn = nn.GRU(3, 4, bidirectional=bidirectional).double()
    x = mg.tensor(np.random.default_rng(2).standard_normal((30, 2, 3)), requires_grad=True)
    output, _ = rnn(x)
    output.sum().backward()
    # The sequence's gradient is spread out once, not once per step (nor per direction:
    # both read the same tensor, so both add into the same array).
    assert spread.count(x.shape) == 1
    (recorded,) = mg.grad(rnn(x)[0].sum(), x, create_graph=True)
    np.testing.assert_allclose(x.grad.data, recorded.data, rtol=1e-12, atol=1e-14)


def test_a_0d_tensor_with_gradients_of_two_dtypes_sums_them_in_the_wider_one():
    # A float64 contribution widens the sum of a float32 0-d tensor's gradient; the
    # reads after it still add into an array (numpy gives a scalar for 0-d sums). A
    # recorded float64 gradient given for an output keeps its dtype.
    x = mg.tensor(np.array(1.0, np.float32), requires_grad=True)
    wide = mg.tensor(np.array([2.0]), requires_grad=True).reshape(())
    uses = [(x[...], wide), (x[()], wide), (x * 1.0, None)]
    for order in ([0, 1, 2], [2, 0, 1], [0, 2, 1], [1, 0, 2]):
        outputs, grad_outputs = zip(*[uses[position] for position in order])
        (gradient,) = mg.grad(list(outputs), x, grad_outputs=list(grad_outputs))
        (recorded,) = mg.grad(list(outputs), x, grad_outputs=list(grad_outputs), create_graph=True)
        assert gradient.dtype == recorded.dtype == np.float64
        assert gradient.item() == recorded.item() == 5.0


def test_a_tuple_of_positions_inside_an_index_counts_a_repeated_position_twice():
    x = mg.tensor(np.zeros((3, 3)), requires_grad=True)
    x[(0, 0), (1, 1)].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 2.0, 0.0], [0.0] * 3, [0.0] * 3])
    x.grad = None
    x[((2, 2, 2),)].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0] * 3, [0.0] * 3, [3.0] * 3])
