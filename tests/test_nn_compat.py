"""PyTorch's spellings of nn: inplace arguments, Embedding.from_pretrained, max_norm.

Covers what minigrad/nn/layers.py, minigrad/nn/activation.py and minigrad/nn/functional/ accept so that code
written for PyTorch runs. The reprs were checked by hand against PyTorch 2.13.0.
"""

import re
import numpy as np
import pytest
from conftest import assert_gradcheck, random_array

import minigrad as mg
import minigrad.nn.functional as F  # noqa: N812
from minigrad import nn

# ---- inplace: accepted, computed out of place -------------------------------------------------

# Each function called with inplace=False and inplace=True, in PyTorch's argument positions.
INPLACE_FUNCTIONS = {
    "relu": lambda x, inplace: F.relu(x, inplace),
    "leaky_relu": lambda x, inplace: F.leaky_relu(x, 0.2, inplace),
    "elu": lambda x, inplace: F.elu(x, 0.5, inplace),
    "silu": lambda x, inplace: F.silu(x, inplace),
    "dropout": lambda x, inplace: F.dropout(x, 0.3, True, inplace),
    # one image whose channels are the rows of x
    "dropout2d": lambda x, inplace: F.dropout2d(x.reshape(-1, 1, 5), 0.3, True, inplace).reshape(x.shape),
    "ReLU": lambda x, inplace: nn.ReLU(inplace)(x),
    "LeakyReLU": lambda x, inplace: nn.LeakyReLU(0.2, inplace)(x),
    "ELU": lambda x, inplace: nn.ELU(0.5, inplace)(x),
    "SiLU": lambda x, inplace: nn.SiLU(inplace)(x),
    "Dropout": lambda x, inplace: nn.Dropout(0.3, inplace)(x),
    "Dropout2d": lambda x, inplace: nn.Dropout2d(0.3, inplace)(x.reshape(-1, 1, 5)).reshape(x.shape),
}


def seeded(function, x, inplace):
    """``function(x, inplace)`` with the same dropout mask every time."""
    mg.manual_seed(0)
    return function(x, inplace)


@pytest.mark.parametrize("name", list(INPLACE_FUNCTIONS))
def test_inplace_gives_the_same_values_as_a_new_tensor_and_leaves_the_input_alone(name):
    function = INPLACE_FUNCTIONS[name]
    x = mg.tensor(random_array(6, 5))
    array, original = x.data, x.data.copy()
    expected = seeded(function, x, False).data
    result = seeded(function, x, True)
    np.testing.assert_array_equal(result.data, expected)
    assert result is not x and not np.shares_memory(result.data, array)
    assert x.data is array
    np.testing.assert_array_equal(x.data, original)
    assert not np.array_equal(result.data, original)  # the function did change the values


@pytest.mark.parametrize("name", list(INPLACE_FUNCTIONS))
def test_inplace_gradcheck(name):
    function = INPLACE_FUNCTIONS[name]
    assert_gradcheck(lambda x: seeded(function, x, True), random_array(4, 5))


@pytest.mark.parametrize("name", list(INPLACE_FUNCTIONS))
@pytest.mark.parametrize("recording", [True, False], ids=["recording", "no_grad"])
def test_inplace_never_changes_numbers_a_recorded_graph_reads(name, recording):
    # w's gradient in w * c is c: the product's rule reads c, a tensor that needs no grad,
    # at backward time. Writing the activation over c would change w's gradient.
    function = INPLACE_FUNCTIONS[name]
    w = mg.tensor(random_array(6, 5, seed=1), requires_grad=True)
    c = mg.tensor(random_array(6, 5, seed=2))
    original = c.data.copy()
    product = w * c
    with mg.set_grad_enabled(recording):
        seeded(function, c, True)
    product.sum().backward()
    np.testing.assert_array_equal(w.grad.data, original)
    np.testing.assert_array_equal(c.data, original)


def test_inplace_activation_inside_a_model_trains_as_without_it():
    def losses(inplace):
        mg.manual_seed(3)
        model = nn.Sequential(
            nn.Linear(4, 8), nn.ReLU(inplace), nn.Dropout(0.25, inplace), nn.Linear(8, 8), nn.SiLU(inplace)
        )
        x = mg.tensor(random_array(5, 4))
        result = []
        for _ in range(3):
            loss = (model(x) ** 2).mean()
            model.zero_grad()
            loss.backward()
            for parameter in model.parameters():
                parameter.data -= 0.1 * parameter.grad.data
            result.append(loss.item())
        return result

    assert losses(True) == losses(False)


def test_dropout_with_inplace_when_not_training_returns_its_input_as_pytorch_does():
    x = mg.tensor(random_array(3, 4))
    assert F.dropout(x, 0.5, False, True) is x
    assert nn.Dropout(0.5, inplace=True).eval()(x) is x


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (nn.ReLU(), "ReLU()"),
        (nn.ReLU(inplace=True), "ReLU(inplace=True)"),
        (nn.LeakyReLU(0.2), "LeakyReLU(negative_slope=0.2)"),
        (nn.LeakyReLU(inplace=True), "LeakyReLU(negative_slope=0.01, inplace=True)"),
        (nn.ELU(), "ELU(alpha=1.0)"),
        (nn.ELU(0.5, True), "ELU(alpha=0.5, inplace=True)"),
        (nn.SiLU(), "SiLU()"),
        (nn.SiLU(True), "SiLU(inplace=True)"),
        (nn.Dropout(), "Dropout(p=0.5, inplace=False)"),
        (nn.Dropout(0.2, inplace=True), "Dropout(p=0.2, inplace=True)"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_reprs_show_inplace_as_pytorchs_do(module, expected):
    assert repr(module) == expected


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda inplace: nn.ReLU(inplace), "ReLU"),
        (lambda inplace: nn.LeakyReLU(0.01, inplace), "LeakyReLU"),
        (lambda inplace: nn.ELU(1.0, inplace), "ELU"),
        (lambda inplace: nn.SiLU(inplace=inplace), "SiLU"),
        (lambda inplace: nn.Dropout(0.5, inplace), "Dropout"),
        (lambda inplace: F.relu(mg.ones(2), inplace), "relu"),
        (lambda inplace: F.leaky_relu(mg.ones(2), 0.01, inplace), "leaky_relu"),
        (lambda inplace: F.elu(mg.ones(2), 1.0, inplace), "elu"),
        (lambda inplace: F.silu(mg.ones(2), inplace=inplace), "silu"),
        (lambda inplace: F.dropout(mg.ones(2), 0.5, True, inplace), "dropout"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
@pytest.mark.parametrize("bad", [0.2, 1, "yes", None])
def test_a_non_bool_inplace_is_a_type_error_naming_the_layer(make, name, bad):
    with pytest.raises(TypeError, match=rf"^{name}: inplace must be True or False, got {bad!r}"):
        make(bad)


def test_inplace_may_be_a_numpy_bool():
    assert nn.ReLU(np.bool_(True)).inplace is True
    np.testing.assert_array_equal(F.relu(mg.tensor([-1.0, 2.0]), np.bool_(True)).data, [0.0, 2.0])


# ---- Embedding.from_pretrained ---------------------------------------------------------------


def test_from_pretrained_copies_the_table_and_freezes_it_by_default():
    table = random_array(5, 3)
    layer = nn.Embedding.from_pretrained(table)
    assert (layer.num_embeddings, layer.embedding_dim, layer.padding_idx) == (5, 3, None)
    assert isinstance(layer.weight, nn.Parameter) and not layer.weight.requires_grad
    assert layer.weight.dtype == np.float64  # an array keeps its dtype, as a tensor does in PyTorch
    np.testing.assert_array_equal(layer.weight.data, table)
    assert not np.shares_memory(layer.weight.data, table)
    table[0] = 7.0
    assert not (layer.weight.data[0] == 7.0).any()
    assert list(layer.state_dict()) == ["weight"] and [name for name, _ in layer.named_parameters()] == [
        "weight"
    ]
    indices = np.array([[0, 4], [2, 0]])
    np.testing.assert_array_equal(layer(indices).data, layer.weight.data[indices])


def test_a_frozen_table_gets_no_gradient_while_the_rest_of_the_model_learns():
    layer, head = nn.Embedding.from_pretrained(random_array(5, 3)), nn.Linear(3, 1)
    (head(layer(np.array([1, 3, 1]))) ** 2).sum().backward()
    assert layer.weight.grad is None and head.weight.grad is not None


def test_from_pretrained_takes_tensors_and_lists_and_copies_them():
    source = mg.tensor(random_array(3, 2))
    layer = nn.Embedding.from_pretrained(source, freeze=False)
    assert layer.weight.requires_grad and layer.weight is not source
    assert not np.shares_memory(layer.weight.data, source.data)
    np.testing.assert_array_equal(layer.weight.data, source.data)
    listed = nn.Embedding.from_pretrained([[1.0, 2.0], [3.0, 4.0]])
    assert listed.weight.dtype == np.float32 and listed.weight.shape == (2, 2)


def test_from_pretrained_with_freeze_false_learns_every_row_but_padding():
    table = random_array(5, 3)
    layer = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=-1)
    assert layer.padding_idx == 4
    np.testing.assert_array_equal(layer.weight.data[4], table[4])  # not zeroed, as in PyTorch
    indices = np.array([[4, 1, 4], [0, 1, 2]])
    layer(indices).sum().backward()
    expected = np.zeros((5, 3))
    expected[[0, 2]] = 1.0
    expected[1] = 2.0
    np.testing.assert_array_equal(layer.weight.grad.data, expected)
    np.testing.assert_array_equal(layer(indices).data[0, 0], table[4])


def test_from_pretrained_passes_max_norm_and_shows_it_in_the_repr():
    layer = nn.Embedding.from_pretrained(np.zeros((4, 2)), padding_idx=-1, max_norm=1.0, norm_type=1.0)
    assert (layer.max_norm, layer.norm_type) == (1.0, 1.0)
    assert repr(layer) == "Embedding(4, 2, padding_idx=3, max_norm=1.0, norm_type=1.0)"


@pytest.mark.parametrize("shape", [(5,), (2, 3, 4), ()])
def test_from_pretrained_needs_a_2d_table(shape):
    with pytest.raises(ValueError, match=rf"Embedding.from_pretrained: embeddings must be 2-D.*{shape}"):
        nn.Embedding.from_pretrained(np.zeros(shape))


def test_from_pretrained_integer_table_can_be_frozen_but_cannot_learn():
    layer = nn.Embedding.from_pretrained(np.arange(6).reshape(3, 2))
    np.testing.assert_array_equal(layer(np.array([2])).data, [[4, 5]])
    with pytest.raises(TypeError, match="Embedding.from_pretrained: embeddings of int64 cannot be trained"):
        nn.Embedding.from_pretrained(np.arange(6).reshape(3, 2), freeze=False)


@pytest.mark.parametrize("padding_idx", [1.5, "1", True])
def test_padding_idx_must_be_an_int(padding_idx):
    message = f"padding_idx must be None or an int \\(a row\\), got {re.escape(repr(padding_idx))}"
    with pytest.raises(TypeError, match=f"Embedding: {message}"):
        nn.Embedding(3, 2, padding_idx=padding_idx)
    weight = mg.randn(3, 2, requires_grad=True)
    with pytest.raises(TypeError, match=f"embedding: {message}"):
        F.embedding(np.array([1, 2]), weight, padding_idx=padding_idx)


@pytest.mark.parametrize("norm_type", [None, "fro", [2.0], True])
def test_norm_type_must_be_a_number(norm_type):
    with pytest.raises(
        TypeError, match=f"Embedding: norm_type must be a number .*, got {re.escape(repr(norm_type))}"
    ):
        nn.Embedding(3, 2, max_norm=1.0, norm_type=norm_type)
    weight = mg.randn(3, 2, requires_grad=True)
    before = weight.data.copy()
    with pytest.raises(TypeError, match="embedding: norm_type must be a number"):
        F.embedding(np.array([1, 2]), weight, max_norm=0.1, norm_type=norm_type)
    np.testing.assert_array_equal(weight.data, before)


def test_from_pretrained_checks_padding_idx():
    with pytest.raises(ValueError, match=r"Embedding: padding_idx must be a row of the 3 embeddings"):
        nn.Embedding.from_pretrained(np.zeros((3, 2)), padding_idx=3)


# ---- max_norm ---------------------------------------------------------------------------------


def renormalized(weight: np.ndarray, indices: np.ndarray, max_norm: float, norm_type: float) -> np.ndarray:
    """``weight`` with each picked row longer than ``max_norm`` scaled by ``max_norm / (norm + 1e-7)``."""
    expected = weight.copy()
    for row in np.unique(indices):
        norm = np.linalg.norm(weight[row], ord=norm_type)
        if norm > max_norm:
            expected[row] = weight[row] * (max_norm / (norm + 1e-7))
    return expected


@pytest.mark.parametrize(
    ("norm_type", "row"),
    [
        (2.0, [0.6, 0.8]),
        (1.0, [3 / 7, 4 / 7]),
        (float("inf"), [0.75, 1.0]),
        (3, [3 / 91 ** (1 / 3), 4 / 91 ** (1 / 3)]),
    ],
    ids=["l2", "l1", "inf", "l3"],
)
def test_max_norm_scales_long_rows_down_by_hand(norm_type, row):
    weight = mg.tensor(np.array([[3.0, 4.0], [0.1, 0.2], [-3.0, 4.0]]), requires_grad=True)
    result = F.embedding(np.array([0, 0, 1]), weight, max_norm=1.0, norm_type=norm_type)
    np.testing.assert_allclose(weight.data[0], row, rtol=1e-6)
    np.testing.assert_array_equal(weight.data[1:], [[0.1, 0.2], [-3.0, 4.0]])  # short, and not picked
    np.testing.assert_array_equal(result.data, weight.data[[0, 0, 1]])
    assert weight.op is None and weight.grad is None  # rescaled, not recorded


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, float("inf")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_norm_matches_the_formula_and_keeps_indexings_gradient(norm_type, dtype):
    table = (random_array(7, 4) * np.linspace(0.2, 3, 7)[:, np.newaxis]).astype(dtype)
    indices = np.array([[0, 2, 2], [6, 0, 1]])
    weight = mg.tensor(table.copy(), requires_grad=True)
    result = F.embedding(indices, weight, None, 1.5, norm_type)  # PyTorch's positions
    expected = renormalized(table, indices, 1.5, norm_type)
    assert not np.array_equal(expected, table)  # some row was long enough to be scaled
    np.testing.assert_allclose(weight.data, expected, rtol=1e-6 if dtype == np.float32 else 1e-15)
    np.testing.assert_array_equal(result.data, weight.data[indices])
    assert result.dtype == dtype
    upstream = random_array(2, 3, 4, seed=1).astype(dtype)
    result.backward(mg.tensor(upstream))
    gradient = np.zeros((7, 4), dtype)
    np.add.at(gradient, indices, upstream)
    np.testing.assert_allclose(weight.grad.data, gradient, rtol=1e-6)


def test_max_norm_gradcheck_of_rows_already_short_enough():
    # No row is rescaled, so the lookup is indexing and its gradient is checked numerically.
    indices = mg.tensor(np.array([[0, 4, 2], [1, 0, 4]]))
    assert_gradcheck(lambda weight: F.embedding(indices, weight, max_norm=10.0), random_array(5, 3))


def test_max_norm_scales_the_padding_row_too_when_it_is_picked():
    table = np.array([[3.0, 4.0], [6.0, 8.0]])
    layer = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1, max_norm=1.0)
    layer(np.array([1])).sum().backward()
    np.testing.assert_allclose(layer.weight.data, [[3.0, 4.0], [0.6, 0.8]], rtol=1e-6)
    np.testing.assert_array_equal(layer.weight.grad.data, np.zeros((2, 2)))


@pytest.mark.parametrize("mode", ["train", "eval", "no_grad"])
def test_embedding_module_renormalizes_its_weight_in_every_mode(mode):
    layer = nn.Embedding(6, 3, max_norm=0.5)
    layer.weight.data[...] = random_array(6, 3) * 4
    before = layer.weight.data.copy()
    layer.train(mode == "train")
    with mg.set_grad_enabled(mode != "no_grad"):
        result = layer(np.array([[5, 1], [1, 5]]))
    norms = np.linalg.norm(layer.weight.data, axis=1)
    np.testing.assert_allclose(norms[[1, 5]], 0.5, rtol=1e-5)
    np.testing.assert_array_equal(layer.weight.data[[0, 2, 3, 4]], before[[0, 2, 3, 4]])
    np.testing.assert_array_equal(result.data[0, 1], layer.weight.data[1])
    np.testing.assert_array_equal(layer.state_dict()["weight"], layer.weight.data)


def test_embedding_reprs_show_max_norm_and_norm_type_as_pytorchs_do():
    assert repr(nn.Embedding(10, 3, max_norm=1.0)) == "Embedding(10, 3, max_norm=1.0)"
    assert (
        repr(nn.Embedding(10, 3, max_norm=2, norm_type=1.0)) == "Embedding(10, 3, max_norm=2, norm_type=1.0)"
    )
    assert repr(nn.Embedding(10, 3, norm_type=3)) == "Embedding(10, 3, norm_type=3)"
    assert repr(nn.Embedding(10, 3, -1, max_norm=1.0)) == "Embedding(10, 3, padding_idx=9, max_norm=1.0)"
    assert repr(nn.Embedding(10, 3, norm_type=2)) == "Embedding(10, 3)"


@pytest.mark.parametrize("max_norm", [-1.0, float("nan")])
def test_a_negative_max_norm_is_an_error(max_norm):
    with pytest.raises(
        ValueError, match=rf"Embedding: max_norm must be None or a norm of at least 0, got {max_norm}"
    ):
        nn.Embedding(4, 3, max_norm=max_norm)
    weight = mg.tensor(random_array(4, 3))
    before = weight.data.copy()
    with pytest.raises(ValueError, match=rf"embedding: max_norm must be .* got {max_norm}"):
        F.embedding(np.array([0]), weight, max_norm=max_norm)
    np.testing.assert_array_equal(weight.data, before)


def test_max_norm_refuses_a_weight_whose_numbers_a_graph_may_read():
    parameter = mg.tensor(random_array(4, 3) * 5, requires_grad=True)
    weight = parameter.exp()  # exp's rule reads its result: rescaling it would change the gradient
    before = weight.data.copy()
    with pytest.raises(
        ValueError, match=r"embedding: max_norm rescales rows of weight in place.*recorded exp"
    ):
        F.embedding(np.array([0, 1]), weight, max_norm=1.0)
    np.testing.assert_array_equal(weight.data, before)


def test_max_norm_needs_a_float_weight():
    with pytest.raises(TypeError, match=r"embedding: max_norm needs a floating-point weight.*int64"):
        F.embedding(np.array([0]), mg.tensor(np.arange(6).reshape(3, 2)), max_norm=1.0)


@pytest.mark.parametrize(
    ("indices", "padding_idx"),
    [(np.array([0, 3]), None), (np.array([0, 1]), 3)],
    ids=["index", "padding_idx"],
)
def test_a_bad_lookup_with_max_norm_changes_nothing(indices, padding_idx):
    weight = mg.tensor(random_array(3, 2) * 5)
    before = weight.data.copy()
    with pytest.raises((IndexError, ValueError)):
        F.embedding(indices, weight, padding_idx, 0.5)
    np.testing.assert_array_equal(weight.data, before)
