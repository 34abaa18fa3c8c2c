"""The transformer encoder: ``nn.TransformerEncoderLayer`` and ``nn.TransformerEncoder``.

Both are in minigrad/nn/transformer.py. Values are checked against plain numpy written
here, from the module's state dict, so the reference also reads PyTorch's parameter
names; the semantics (post-norm and pre-norm, masks, state dict keys) were checked by
hand against PyTorch 2.13.0, outputs and gradients, on a few hundred random float64
configurations.
"""

import math
import re

import numpy as np
import pytest
from conftest import assert_gradcheck, parameters_replaced, random_array

import minigrad as mg
from minigrad import nn, viz
from minigrad.nn.transformer import TransformerEncoder, TransformerEncoderLayer

LAYER_KEYS = [
    "self_attn.in_proj_weight",
    "self_attn.in_proj_bias",
    "self_attn.out_proj.weight",
    "self_attn.out_proj.bias",
    "linear1.weight",
    "linear1.bias",
    "linear2.weight",
    "linear2.bias",
    "norm1.weight",
    "norm1.bias",
    "norm2.weight",
    "norm2.bias",
]


# ---- a numpy reference ------------------------------------------------------------------


def gelu_reference(x):
    return x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0),
    "gelu": gelu_reference,
    "tanh": np.tanh,
}


def layer_norm_reference(x, weight, bias, eps):
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * weight + bias


def additive(mask):
    """A mask as numbers added to the scores: a bool True (left out) as -inf."""
    return np.where(mask, -np.inf, 0.0) if mask.dtype == bool else mask


def scores_mask(src_mask, key_padding_mask, batch_size, heads, length):
    """Both masks as one additive (N, heads, S, S) array; a 3-D src_mask has one (S, S) per sample and head."""
    total = np.zeros((batch_size, heads, length, length))
    if src_mask is not None:
        src_mask = additive(src_mask)
        if src_mask.ndim == 3:
            src_mask = src_mask.reshape(batch_size, heads, length, length)
        total = total + src_mask
    if key_padding_mask is not None:
        total = total + additive(key_padding_mask)[:, None, None, :]
    return total


def self_attention_reference(x, state, heads, mask):
    """Multi-head self-attention of (N, S, E) ``x`` with PyTorch's parameter names."""
    batch_size, length, features = x.shape
    head_features = features // heads
    projected = x @ state["self_attn.in_proj_weight"].T + state["self_attn.in_proj_bias"]
    q, k, v = (
        projected[..., i * features : (i + 1) * features]
        .reshape(batch_size, length, heads, head_features)
        .transpose(0, 2, 1, 3)
        for i in range(3)
    )
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_features) + mask
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    heads_joined = (weights @ v).transpose(0, 2, 1, 3).reshape(batch_size, length, features)
    return heads_joined @ state["self_attn.out_proj.weight"].T + state["self_attn.out_proj.bias"]


def encoder_layer_reference(x, state, heads, norm_first, activation, eps, mask):
    """One encoder layer on (N, S, E) ``x``, as the paper (post-norm) or pre-norm, no dropout."""

    def norm(which, y):
        return layer_norm_reference(y, state[f"{which}.weight"], state[f"{which}.bias"], eps)

    def mlp(y):
        hidden = ACTIVATIONS[activation](y @ state["linear1.weight"].T + state["linear1.bias"])
        return hidden @ state["linear2.weight"].T + state["linear2.bias"]

    if norm_first:
        x = x + self_attention_reference(norm("norm1", x), state, heads, mask)
        return x + mlp(norm("norm2", x))
    x = norm("norm1", x + self_attention_reference(x, state, heads, mask))
    return norm("norm2", x + mlp(x))


def randomized(module, seed=0):
    """``module`` with every parameter drawn at random (not the 1s and 0s of layer norms at first)."""
    rng = np.random.default_rng(seed)
    for parameter in module.parameters():
        parameter.data = 0.5 * rng.standard_normal(parameter.shape)
    return module


def make_layer(d_model=4, nhead=2, dim_feedforward=6, **options):
    options.setdefault("dropout", 0.0)
    return TransformerEncoderLayer(d_model, nhead, dim_feedforward, dtype=np.float64, **options)


def masks(kind, batch_size=2, heads=2, length=4, seed=0):
    """A src_mask and a key padding mask that leave every query at least one key (key 0)."""
    rng = np.random.default_rng(seed)
    if kind == "none":
        return None, None
    if kind == "bool":
        src_mask = rng.random((length, length)) < 0.5
        padding = rng.random((batch_size, length)) < 0.5
    elif kind == "per-head":
        src_mask = rng.random((batch_size * heads, length, length)) < 0.5
        padding = rng.random((batch_size, length)) < 0.5
    else:
        return rng.standard_normal((length, length)), rng.standard_normal((batch_size, length))
    src_mask[..., 0] = padding[:, 0] = False
    return src_mask, padding


# ---- values ------------------------------------------------------------------------------


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("activation", ["relu", "gelu", "tanh"])
@pytest.mark.parametrize("mask_kind", ["none", "bool", "float", "per-head"])
def test_layer_values_match_the_numpy_reference(norm_first, activation, mask_kind):
    given = mg.tanh if activation == "tanh" else activation
    layer = randomized(make_layer(norm_first=norm_first, activation=given, layer_norm_eps=1e-3))
    src_mask, padding = masks(mask_kind)
    x = random_array(4, 2, 4, seed=1)  # (S, N, E)
    output = layer(x, src_mask=src_mask, src_key_padding_mask=padding)
    mask = scores_mask(src_mask, padding, 2, 2, 4)
    expected = encoder_layer_reference(
        x.swapaxes(0, 1), layer.state_dict(), 2, norm_first, activation, 1e-3, mask
    )
    np.testing.assert_allclose(output.data, expected.swapaxes(0, 1), rtol=1e-12, atol=1e-12)


def test_the_masks_change_the_output():
    layer = randomized(make_layer())
    x = random_array(4, 2, 4, seed=1)
    src_mask, padding = masks("bool")
    plain = layer(x).data
    assert not np.allclose(layer(x, src_mask=src_mask).data, plain)
    assert not np.allclose(layer(x, src_key_padding_mask=padding).data, plain)


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_batch_first_and_unbatched_inputs_give_the_same_values(norm_first):
    layer = randomized(make_layer(norm_first=norm_first))
    first = randomized(make_layer(norm_first=norm_first, batch_first=True))
    x = random_array(4, 2, 4, seed=1)
    src_mask, padding = masks("bool")
    expected = layer(x, src_mask=src_mask, src_key_padding_mask=padding).data
    batch_first = first(x.swapaxes(0, 1), src_mask=src_mask, src_key_padding_mask=padding)
    np.testing.assert_allclose(batch_first.data, expected.swapaxes(0, 1), rtol=1e-13, atol=1e-13)
    one = layer(x[:, 1], src_mask=src_mask, src_key_padding_mask=padding[1])
    assert one.shape == (4, 4)
    np.testing.assert_allclose(one.data, expected[:, 1], rtol=1e-13, atol=1e-13)


def test_encoder_applies_each_layer_in_turn_then_the_norm():
    encoder = TransformerEncoder(make_layer(), 3, norm=nn.LayerNorm(4, dtype=np.float64))
    randomized(encoder)  # the layers differ now
    src_mask, padding = masks("bool")
    x = random_array(4, 2, 4, seed=1)
    output = encoder(x, mask=src_mask, src_key_padding_mask=padding)
    state = encoder.state_dict()
    expected = x.swapaxes(0, 1)
    mask = scores_mask(src_mask, padding, 2, 2, 4)
    for index in range(3):
        prefix = f"layers.{index}."
        layer_state = {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}
        expected = encoder_layer_reference(expected, layer_state, 2, False, "relu", 1e-5, mask)
    expected = layer_norm_reference(expected, state["norm.weight"], state["norm.bias"], 1e-5)
    np.testing.assert_allclose(output.data, expected.swapaxes(0, 1), rtol=1e-12, atol=1e-12)


def test_is_causal_is_a_hint_the_mask_is_still_used():
    encoder = randomized(TransformerEncoder(make_layer(), 2))
    x = random_array(4, 2, 4, seed=1)
    causal = np.triu(np.ones((4, 4), dtype=bool), 1)
    hinted = encoder(x, mask=causal, is_causal=True).data
    np.testing.assert_array_equal(hinted, encoder(x, mask=causal).data)
    assert not np.allclose(hinted, encoder(x).data)
    # Causal: the first place sees only itself, whatever comes after it.
    changed = x.copy()
    changed[1:] += 1.0
    np.testing.assert_allclose(encoder(changed, mask=causal).data[0], hinted[0], rtol=1e-13, atol=1e-13)


# ---- copies and state dicts ----------------------------------------------------------------


def test_encoder_layers_are_independent_copies_of_the_layer_given():
    layer = randomized(make_layer())
    encoder = TransformerEncoder(layer, 2)
    first, second = encoder.layers
    assert first is not layer and second is not first
    assert first.linear1.weight is not second.linear1.weight
    np.testing.assert_array_equal(first.linear1.weight.data, layer.linear1.weight.data)
    np.testing.assert_array_equal(second.linear1.weight.data, layer.linear1.weight.data)
    first.linear1.weight.data[0, 0] += 1.0
    assert second.linear1.weight.data[0, 0] == layer.linear1.weight.data[0, 0]
    assert first.linear1.weight.name == "layers.0.linear1.weight"
    encoder(random_array(4, 2, 4)).sum().backward()
    assert first.linear1.weight.grad is not None and layer.linear1.weight.grad is None
    assert len(list(encoder.parameters())) == 2 * len(LAYER_KEYS)


def test_layer_state_dict_keys_are_pytorchs():
    assert list(make_layer().state_dict()) == LAYER_KEYS
    assert list(make_layer(bias=False).state_dict()) == [
        "self_attn.in_proj_weight",
        "self_attn.out_proj.weight",
        "linear1.weight",
        "linear2.weight",
        "norm1.weight",
        "norm2.weight",
    ]
    shapes = {key: value.shape for key, value in make_layer(8, 2, 16).state_dict().items()}
    assert shapes["self_attn.in_proj_weight"] == (24, 8)
    assert shapes["linear1.weight"] == (16, 8) and shapes["linear2.weight"] == (8, 16)


def test_encoder_state_dict_keys_are_pytorchs_and_load_back():
    encoder = TransformerEncoder(make_layer(), 2, norm=nn.LayerNorm(4, dtype=np.float64))
    keys = list(encoder.state_dict())
    assert keys == [
        *[f"layers.0.{key}" for key in LAYER_KEYS],
        *[f"layers.1.{key}" for key in LAYER_KEYS],
        "norm.weight",
        "norm.bias",
    ]
    assert keys[0] == "layers.0.self_attn.in_proj_weight" and keys[-3] == "layers.1.norm2.bias"
    saved = randomized(TransformerEncoder(make_layer(), 2, norm=nn.LayerNorm(4)), seed=5).state_dict()
    encoder.load_state_dict(saved)
    x = random_array(4, 2, 4)
    loaded_again = TransformerEncoder(make_layer(), 2, norm=nn.LayerNorm(4, dtype=np.float64))
    loaded_again.load_state_dict(saved)
    np.testing.assert_array_equal(encoder(x).data, loaded_again(x).data)
    np.testing.assert_array_equal(encoder.layers[1].norm2.bias.data, saved["layers.1.norm2.bias"])


# ---- gradients -------------------------------------------------------------------------------


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_layer_gradcheck(float64_default, norm_first, activation):
    layer = randomized(make_layer(3, 1, 4, norm_first=norm_first, activation=activation))
    src_mask, padding = masks("float", length=3)
    output_grad = random_array(3, 2, 3, seed=3)

    def run(src, *parameters):
        with parameters_replaced(layer, list(parameters)):
            return (layer(src, src_mask=src_mask, src_key_padding_mask=padding) * output_grad).sum()

    parameters = [parameter.data.copy() for parameter in layer.parameters()]
    assert_gradcheck(run, random_array(3, 2, 3, seed=2), *parameters)


def test_encoder_gradcheck_with_bool_masks(float64_default):
    encoder = randomized(TransformerEncoder(make_layer(4, 2, 3), 2, norm=nn.LayerNorm(4)))
    src_mask, padding = masks("bool", length=3)
    output_grad = random_array(3, 2, 4, seed=3)

    def run(src, *parameters):
        with parameters_replaced(encoder, list(parameters)):
            return (encoder(src, mask=src_mask, src_key_padding_mask=padding) * output_grad).sum()

    parameters = [parameter.data.copy() for parameter in encoder.parameters()]
    assert_gradcheck(run, random_array(3, 2, 4, seed=2), *parameters)


def test_a_left_out_key_gets_no_gradient():
    layer = randomized(make_layer())
    x = mg.tensor(random_array(4, 2, 4), requires_grad=True)
    padding = np.zeros((2, 4), dtype=bool)
    padding[0, 3] = True  # place 3 of sequence 0 is padding
    output = layer(x, src_key_padding_mask=padding)
    keep = np.ones((4, 2, 4))
    keep[3, 0] = 0  # ... and its own output is not used
    (output * keep).sum().backward()
    np.testing.assert_array_equal(x.grad.data[3, 0], 0)
    assert np.all(x.grad.data[:3] != 0)


# ---- dropout, dtypes, drawing --------------------------------------------------------------


def test_dropout_in_training_only():
    mg.manual_seed(0)
    layer = make_layer(8, 2, 16, dropout=0.5)
    x = random_array(5, 3, 8)
    without = make_layer(8, 2, 16)
    without.load_state_dict(layer.state_dict())
    first, second = layer(x).data, layer(x).data
    assert not np.allclose(first, second)
    assert not np.allclose(first, without(x).data)
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, without(x).data)
    encoder = TransformerEncoder(layer, 2).train()
    assert all(module.training for module in encoder.modules())
    encoder.eval()
    assert not np.allclose(encoder(x).data, without(x).data)  # two layers, not one
    np.testing.assert_array_equal(encoder(x).data, without(without(x)).data)


@pytest.mark.parametrize("site", ["self_attn", "dropout", "dropout1", "dropout2"])
def test_each_of_the_four_dropouts_acts_in_training(site):
    mg.manual_seed(0)
    assert make_layer(dropout=0.3).self_attn.dropout == 0.3
    assert make_layer(dropout=0.3).dropout.p == make_layer(dropout=0.3).dropout2.p == 0.3
    layer = randomized(make_layer(8, 2, 16))
    x = random_array(5, 3, 8)
    expected = layer(x).data
    if site == "self_attn":
        layer.self_attn.dropout = 0.5  # the attention weights' dropout
    else:
        getattr(layer, site).p = 0.5
    assert not np.allclose(layer(x).data, expected)
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, expected)


def test_float32_stays_float32():
    layer = TransformerEncoderLayer(4, 2, 8)
    x = mg.tensor(random_array(3, 2, 4).astype(np.float32), requires_grad=True)
    output = TransformerEncoder(layer, 2)(x, src_key_padding_mask=random_array(2, 3))
    assert output.dtype == np.float32
    output.sum().backward()
    assert x.grad.dtype == np.float32


def test_is_drawn_with_a_box_per_submodule():
    encoder = TransformerEncoder(TransformerEncoderLayer(4, 2, 8), 2)
    output = encoder(mg.randn(3, 4, requires_grad=True))
    titles = re.findall(r"<b>(.*?)</b>", viz.draw_graph(output, depth=3).source)
    assert "0: TransformerEncoderLayer" in titles and "1: TransformerEncoderLayer" in titles
    titles = re.findall(r"<b>(.*?)</b>", viz.draw_graph(output, depth=4).source)
    assert {"self_attn: MultiheadAttention", "linear1: Linear", "norm2: LayerNorm"} <= set(titles)


# ---- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: TransformerEncoderLayer(10, 4), ValueError, "d_model 10 must be divisible by nhead 4"),
        (lambda: TransformerEncoderLayer(8, 0), ValueError, "nhead must be a positive int"),
        (lambda: TransformerEncoderLayer(8, 2, activation="tanh"), ValueError, "'relu' or 'gelu'"),
        (lambda: TransformerEncoderLayer(8, 2, activation=3), TypeError, "a callable"),
    ],
)
def test_layer_construction_errors(make, error, message):
    with pytest.raises(error, match=message) as raised:
        make()
    assert str(raised.value).startswith("TransformerEncoderLayer:")


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: TransformerEncoder(make_layer(), 0), ValueError, "num_layers must be a positive int"),
        (lambda: TransformerEncoder(nn.Linear, 2), TypeError, "must be a Module"),
    ],
)
def test_encoder_construction_errors(make, error, message):
    with pytest.raises(error, match=message) as raised:
        make()
    assert str(raised.value).startswith("TransformerEncoder:")


@pytest.mark.parametrize(
    ("run", "where", "message"),
    [
        (lambda: make_layer()(random_array(4, 2, 5)), "TransformerEncoderLayer", r"\(S, N, d_model\)"),
        (lambda: make_layer()(random_array(4)), "TransformerEncoderLayer", "got shape"),
        (lambda: make_layer()(random_array(4, 2, 4), is_causal=True), "TransformerEncoderLayer", "src_mask"),
        (
            lambda: TransformerEncoder(make_layer(), 2)(random_array(4, 2, 4), is_causal=True),
            "TransformerEncoder",
            "needs mask",
        ),
    ],
)
def test_forward_errors(run, where, message):
    with pytest.raises(ValueError, match=message) as raised:
        run()
    assert str(raised.value).startswith(f"{where}:")
