"""The transformer decoder and the whole model: TransformerDecoderLayer, TransformerDecoder, Transformer.

All three are in minigrad/nn/transformer_decoder.py. Values are checked against plain
numpy written here from the module's state dict, so the reference also reads PyTorch's
parameter names; the key lists below were printed by PyTorch 2.13.0, and outputs and
gradients were compared with it by hand, in eval mode, on a few hundred random float64
configurations.
"""

import math

import numpy as np
import pytest
from conftest import assert_gradcheck, parameters_replaced, random_array
from test_transformer import ACTIVATIONS, additive, layer_norm_reference, randomized

import minigrad as mg
from minigrad import nn
from minigrad.nn.transformer import TransformerEncoder, TransformerEncoderLayer
from minigrad.nn.transformer_decoder import Transformer, TransformerDecoder, TransformerDecoderLayer

# list(torch.nn.TransformerDecoderLayer(4, 2, 6).state_dict())
LAYER_KEYS = [
    "self_attn.in_proj_weight",
    "self_attn.in_proj_bias",
    "self_attn.out_proj.weight",
    "self_attn.out_proj.bias",
    "multihead_attn.in_proj_weight",
    "multihead_attn.in_proj_bias",
    "multihead_attn.out_proj.weight",
    "multihead_attn.out_proj.bias",
    "linear1.weight",
    "linear1.bias",
    "linear2.weight",
    "linear2.bias",
    "norm1.weight",
    "norm1.bias",
    "norm2.weight",
    "norm2.bias",
    "norm3.weight",
    "norm3.bias",
]

# list(torch.nn.TransformerDecoderLayer(4, 2, 6, bias=False).state_dict())
LAYER_KEYS_WITHOUT_BIAS = [
    "self_attn.in_proj_weight",
    "self_attn.out_proj.weight",
    "multihead_attn.in_proj_weight",
    "multihead_attn.out_proj.weight",
    "linear1.weight",
    "linear2.weight",
    "norm1.weight",
    "norm2.weight",
    "norm3.weight",
]

# list(torch.nn.Transformer(4, 2, 1, 1, 6).state_dict())
TRANSFORMER_KEYS = [
    "encoder.layers.0.self_attn.in_proj_weight",
    "encoder.layers.0.self_attn.in_proj_bias",
    "encoder.layers.0.self_attn.out_proj.weight",
    "encoder.layers.0.self_attn.out_proj.bias",
    "encoder.layers.0.linear1.weight",
    "encoder.layers.0.linear1.bias",
    "encoder.layers.0.linear2.weight",
    "encoder.layers.0.linear2.bias",
    "encoder.layers.0.norm1.weight",
    "encoder.layers.0.norm1.bias",
    "encoder.layers.0.norm2.weight",
    "encoder.layers.0.norm2.bias",
    "encoder.norm.weight",
    "encoder.norm.bias",
    "decoder.layers.0.self_attn.in_proj_weight",
    "decoder.layers.0.self_attn.in_proj_bias",
    "decoder.layers.0.self_attn.out_proj.weight",
    "decoder.layers.0.self_attn.out_proj.bias",
    "decoder.layers.0.multihead_attn.in_proj_weight",
    "decoder.layers.0.multihead_attn.in_proj_bias",
    "decoder.layers.0.multihead_attn.out_proj.weight",
    "decoder.layers.0.multihead_attn.out_proj.bias",
    "decoder.layers.0.linear1.weight",
    "decoder.layers.0.linear1.bias",
    "decoder.layers.0.linear2.weight",
    "decoder.layers.0.linear2.bias",
    "decoder.layers.0.norm1.weight",
    "decoder.layers.0.norm1.bias",
    "decoder.layers.0.norm2.weight",
    "decoder.layers.0.norm2.bias",
    "decoder.layers.0.norm3.weight",
    "decoder.layers.0.norm3.bias",
    "decoder.norm.weight",
    "decoder.norm.bias",
]


# ---- a numpy reference ------------------------------------------------------------------


def scores_mask(attn_mask, key_padding_mask, batch_size, heads, queries, keys):
    """Both masks as one additive (N, heads, queries, keys) array; a 3-D attn_mask holds one per head."""
    total = np.zeros((batch_size, heads, queries, keys))
    if attn_mask is not None:
        attn_mask = additive(attn_mask)
        if attn_mask.ndim == 3:
            attn_mask = attn_mask.reshape(batch_size, heads, queries, keys)
        total = total + attn_mask
    if key_padding_mask is not None:
        total = total + additive(key_padding_mask)[:, None, None, :]
    return total


def attention_reference(query, source, state, prefix, heads, mask):
    """Multi-head attention of (N, L, E) queries over (N, S, E) ``source``, parameters under ``prefix``."""
    batch_size, length, features = query.shape
    head_features = features // heads
    weight, bias = state[f"{prefix}.in_proj_weight"], state[f"{prefix}.in_proj_bias"]

    def projected_heads(x, which):
        rows = slice(which * features, (which + 1) * features)
        projected = x @ weight[rows].T + bias[rows]
        return projected.reshape(batch_size, x.shape[1], heads, head_features).transpose(0, 2, 1, 3)

    q, k, v = projected_heads(query, 0), projected_heads(source, 1), projected_heads(source, 2)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_features) + mask
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    heads_joined = (weights @ v).transpose(0, 2, 1, 3).reshape(batch_size, length, features)
    return heads_joined @ state[f"{prefix}.out_proj.weight"].T + state[f"{prefix}.out_proj.bias"]


def decoder_layer_reference(x, memory, state, heads, norm_first, activation, eps, self_mask, memory_mask):
    """One decoder layer on (N, T, E) ``x`` and (N, S, E) ``memory``, post-norm or pre-norm, no dropout."""

    def norm(which, y):
        return layer_norm_reference(y, state[f"{which}.weight"], state[f"{which}.bias"], eps)

    def self_attention(y):
        return attention_reference(y, y, state, "self_attn", heads, self_mask)

    def memory_attention(y):
        return attention_reference(y, memory, state, "multihead_attn", heads, memory_mask)

    def mlp(y):
        hidden = ACTIVATIONS[activation](y @ state["linear1.weight"].T + state["linear1.bias"])
        return hidden @ state["linear2.weight"].T + state["linear2.bias"]

    if norm_first:
        x = x + self_attention(norm("norm1", x))
        x = x + memory_attention(norm("norm2", x))
        return x + mlp(norm("norm3", x))
    x = norm("norm1", x + self_attention(x))
    x = norm("norm2", x + memory_attention(x))
    return norm("norm3", x + mlp(x))


def make_layer(d_model=4, nhead=2, dim_feedforward=6, **options):
    options.setdefault("dropout", 0.0)
    return TransformerDecoderLayer(d_model, nhead, dim_feedforward, dtype=np.float64, **options)


def masks(kind, batch_size=2, heads=2, target_length=3, source_length=4):
    """tgt_mask, memory_mask, tgt_key_padding_mask and memory_key_padding_mask, bool or float.

    No query has all its keys left out, so every softmax has something to weigh.
    """
    rng = np.random.default_rng(7)
    if kind == "bool":
        tgt_mask = np.triu(np.ones((target_length, target_length), dtype=bool), 1)
        memory_mask = rng.random((batch_size * heads, target_length, source_length)) < 0.3
        memory_mask[..., 0] = False
        tgt_padding = np.zeros((batch_size, target_length), dtype=bool)
        tgt_padding[1, -1] = True
        memory_padding = np.zeros((batch_size, source_length), dtype=bool)
        memory_padding[0, -2:] = True
        return tgt_mask, memory_mask, tgt_padding, memory_padding
    return (
        rng.standard_normal((target_length, target_length)),
        rng.standard_normal((target_length, source_length)),
        rng.standard_normal((batch_size, target_length)),
        rng.standard_normal((batch_size, source_length)),
    )


def keyword_masks(kind, **sizes):
    names = ("tgt_mask", "memory_mask", "tgt_key_padding_mask", "memory_key_padding_mask")
    return dict(zip(names, masks(kind, **sizes)))


# ---- the decoder layer ---------------------------------------------------------------------


def test_known_weights_add_the_mean_of_the_memory():
    """With every weight 0 but the value and output projections of the attention over the
    memory (identities), pre-norm adds to each target place the mean of the memory places
    that the padding mask keeps, and nothing else: queries and keys of 0 weigh all alike."""
    layer = make_layer(d_model=2, nhead=1, dim_feedforward=1, norm_first=True)
    for parameter in layer.parameters():
        parameter.data = np.zeros_like(parameter.data)
    layer.multihead_attn.in_proj_weight.data[4:] = np.eye(2)
    layer.multihead_attn.out_proj.weight.data = np.eye(2)
    tgt = np.array([[1.0, 2.0], [-1.0, 0.5]])
    memory = np.array([[1.0, 0.0], [3.0, 4.0], [100.0, 100.0]])
    output = layer(tgt, memory, memory_key_padding_mask=np.array([False, False, True]))
    np.testing.assert_allclose(output.data, [[3.0, 4.0], [1.0, 2.5]], atol=1e-12)


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq-first", "batch-first"])
@pytest.mark.parametrize("mask_kind", ["bool", "float"])
def test_layer_matches_numpy(norm_first, batch_first, mask_kind):
    layer = randomized(make_layer(norm_first=norm_first, batch_first=batch_first, activation="gelu"))
    tgt, memory = random_array(2, 3, 4, seed=1), random_array(2, 4, 4, seed=2)  # (N, T or S, E)
    tgt_mask, memory_mask, tgt_padding, memory_padding = masks(mask_kind)
    if not batch_first:
        tgt, memory = tgt.swapaxes(0, 1), memory.swapaxes(0, 1)
    output = layer(
        tgt,
        memory,
        tgt_mask=tgt_mask,
        memory_mask=memory_mask,
        tgt_key_padding_mask=tgt_padding,
        memory_key_padding_mask=memory_padding,
    )
    if not batch_first:
        tgt, memory, output = tgt.swapaxes(0, 1), memory.swapaxes(0, 1), output.swapaxes(0, 1)
    expected = decoder_layer_reference(
        tgt,
        memory,
        layer.state_dict(),
        heads=2,
        norm_first=norm_first,
        activation="gelu",
        eps=1e-5,
        self_mask=scores_mask(tgt_mask, tgt_padding, 2, 2, 3, 3),
        memory_mask=scores_mask(memory_mask, memory_padding, 2, 2, 3, 4),
    )
    np.testing.assert_allclose(output.data, expected, rtol=1e-10, atol=1e-12)


def test_batch_first_is_the_same_layer_with_the_axes_swapped():
    layer = randomized(make_layer())
    batch_first = make_layer(batch_first=True)
    batch_first.load_state_dict(layer.state_dict())
    tgt, memory = random_array(3, 2, 4, seed=1), random_array(5, 2, 4, seed=2)
    given = keyword_masks("bool", source_length=5)
    expected = layer(tgt, memory, **given).data
    output = batch_first(tgt.swapaxes(0, 1), memory.swapaxes(0, 1), **given)
    np.testing.assert_allclose(output.data.swapaxes(0, 1), expected, atol=1e-12)


def test_unbatched_is_a_batch_of_one():
    layer = randomized(make_layer())
    tgt, memory = random_array(3, 4, seed=1), random_array(5, 4, seed=2)
    padding = np.array([False, False, False, True, True])
    output = layer(tgt, memory, memory_key_padding_mask=padding)
    as_batch = layer(tgt[:, None], memory[:, None], memory_key_padding_mask=padding[None])
    assert output.shape == (3, 4)
    np.testing.assert_allclose(output.data, as_batch.data[:, 0], atol=1e-12)


def test_causal_mask_keeps_later_places_out():
    layer = randomized(make_layer())
    tgt, memory = random_array(4, 2, 4, seed=1), random_array(3, 2, 4, seed=2)
    causal = Transformer.generate_square_subsequent_mask(4, dtype=np.float64)
    changed = tgt.copy()
    changed[3] += 10.0  # only the last place
    before, after = (layer(x, memory, tgt_mask=causal, tgt_is_causal=True).data for x in (tgt, changed))
    np.testing.assert_allclose(after[:3], before[:3], atol=1e-12)
    assert not np.allclose(after[3], before[3])
    bool_causal = np.triu(np.ones((4, 4), dtype=bool), 1)
    np.testing.assert_allclose(layer(tgt, memory, tgt_mask=bool_causal).data, before, atol=1e-12)


def test_generate_square_subsequent_mask():
    mask = Transformer.generate_square_subsequent_mask(3)
    expected = [[0.0, -math.inf, -math.inf], [0.0, 0.0, -math.inf], [0.0, 0.0, 0.0]]
    np.testing.assert_array_equal(mask.data, expected)
    assert mask.dtype == np.float32 and not mask.requires_grad
    assert Transformer.generate_square_subsequent_mask(2, dtype=np.float64).dtype == np.float64


# ---- the stack and the whole model -----------------------------------------------------


def test_decoder_applies_copies_in_turn_then_the_norm():
    layer = randomized(make_layer())
    decoder = TransformerDecoder(layer, 2, norm=nn.LayerNorm(4, dtype=np.float64))
    assert decoder.layers[0] is not layer and decoder.layers[0] is not decoder.layers[1]
    np.testing.assert_array_equal(decoder.layers[1].linear1.weight.data, layer.linear1.weight.data)
    decoder.norm.weight.data = random_array(4, seed=3)
    tgt, memory = random_array(3, 2, 4, seed=1), random_array(4, 2, 4, seed=2)
    given = keyword_masks("float")
    once = layer(tgt, memory, **given)
    expected = decoder.norm(layer(once, memory, **given))
    np.testing.assert_allclose(decoder(tgt, memory, **given).data, expected.data, atol=1e-12)


def test_state_dict_keys_are_pytorchs():
    assert list(make_layer().state_dict()) == LAYER_KEYS
    assert list(make_layer(bias=False).state_dict()) == LAYER_KEYS_WITHOUT_BIAS
    decoder = TransformerDecoder(make_layer(), 2, norm=nn.LayerNorm(4))
    stacked = [f"layers.{index}.{key}" for index in (0, 1) for key in LAYER_KEYS]
    assert list(decoder.state_dict()) == [*stacked, "norm.weight", "norm.bias"]
    assert list(Transformer(4, 2, 1, 1, 6).state_dict()) == TRANSFORMER_KEYS


def test_state_dict_moves_between_models():
    model = Transformer(4, 2, 1, 2, 6, dropout=0.0, dtype=np.float64)
    saved = {
        key: random_array(*value.shape, seed=index)
        for index, (key, value) in enumerate(model.state_dict().items())
    }
    model.load_state_dict(saved)
    loaded = Transformer(4, 2, 1, 2, 6, dropout=0.0, dtype=np.float64)
    loaded.load_state_dict(saved)
    src, tgt = random_array(5, 2, 4, seed=1), random_array(3, 2, 4, seed=2)
    np.testing.assert_array_equal(loaded(src, tgt).data, model(src, tgt).data)


def test_transformer_is_the_encoder_then_the_decoder():
    model = randomized(Transformer(4, 2, 2, 2, 6, dropout=0.0, norm_first=True, dtype=np.float64))
    assert isinstance(model.encoder.norm, nn.LayerNorm) and isinstance(model.decoder.norm, nn.LayerNorm)
    src, tgt = random_array(4, 2, 4, seed=1), random_array(3, 2, 4, seed=2)
    decoder_masks = keyword_masks("bool")
    src_mask, src_padding = np.triu(np.ones((4, 4), dtype=bool), 1), decoder_masks["memory_key_padding_mask"]
    memory = model.encoder(src, mask=src_mask, src_key_padding_mask=src_padding)
    expected = model.decoder(tgt, memory, **decoder_masks)
    output = model(src, tgt, src_mask=src_mask, src_key_padding_mask=src_padding, **decoder_masks)
    np.testing.assert_allclose(output.data, expected.data, atol=1e-12)


def test_transformer_initializes_as_pytorch():
    mg.manual_seed(0)
    model = Transformer(8, 2, 2, 2, 16)
    for name, parameter in model.named_parameters():
        if parameter.ndim > 1:  # Glorot-uniform, drawn afresh for each copy of a layer
            fan_out, fan_in = parameter.shape
            assert np.abs(parameter.data).max() <= math.sqrt(6 / (fan_in + fan_out)), name
        elif ".norm" in name and name.endswith(".weight"):  # the rest keep their modules' values
            np.testing.assert_array_equal(parameter.data, 1, err_msg=name)
    first, second = (layer.linear1.weight.data for layer in model.decoder.layers)
    assert not np.allclose(first, second)


def test_custom_parts_are_used_and_initialized():
    mg.manual_seed(0)
    encoder = TransformerEncoder(TransformerEncoderLayer(4, 2, 6), 1)
    decoder = TransformerDecoder(TransformerDecoderLayer(4, 2, 6), 3)
    before = decoder.layers[0].linear1.weight.data.copy()
    model = Transformer(4, 2, custom_encoder=encoder, custom_decoder=decoder)
    assert model.encoder is encoder and model.decoder is decoder and len(model.decoder.layers) == 3
    assert not np.allclose(decoder.layers[0].linear1.weight.data, before)
    assert model(random_array(5, 4), random_array(2, 4)).shape == (2, 4)


# ---- gradients -------------------------------------------------------------------------------


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("mask_kind", ["bool", "float"])
def test_layer_gradcheck(float64_default, norm_first, mask_kind):
    layer = randomized(make_layer(3, 1, 4, norm_first=norm_first))
    given = keyword_masks(mask_kind, heads=1, source_length=2)
    output_grad = random_array(3, 2, 3, seed=3)

    def run(tgt, memory, *parameters):
        with parameters_replaced(layer, list(parameters)):
            return (layer(tgt, memory, **given) * output_grad).sum()

    parameters = [parameter.data.copy() for parameter in layer.parameters()]
    assert_gradcheck(run, random_array(3, 2, 3, seed=1), random_array(2, 2, 3, seed=2), *parameters)


def test_transformer_gradcheck_with_respect_to_inputs(float64_default):
    model = randomized(Transformer(2, 1, 1, 1, 3, dropout=0.0))
    causal = Transformer.generate_square_subsequent_mask(3)
    output_grad = random_array(3, 2, 2, seed=3)

    def run(src, tgt):
        return (model(src, tgt, tgt_mask=causal) * output_grad).sum()

    assert_gradcheck(run, random_array(2, 2, 2, seed=1), random_array(3, 2, 2, seed=2))


# ---- dropout and dtypes ------------------------------------------------------------------


def test_dropout_in_training_only():
    mg.manual_seed(0)
    layer = make_layer(8, 2, 16, dropout=0.5)
    without = make_layer(8, 2, 16)
    without.load_state_dict(layer.state_dict())
    tgt, memory = random_array(5, 3, 8, seed=1), random_array(4, 3, 8, seed=2)
    first, second = layer(tgt, memory).data, layer(tgt, memory).data
    assert not np.allclose(first, second)
    layer.eval()
    np.testing.assert_array_equal(layer(tgt, memory).data, without(tgt, memory).data)
    model = Transformer(8, 2, 1, 1, 16, dropout=0.5).train()
    assert all(module.training for module in model.modules())
    model.eval()
    assert not any(module.training for module in model.modules())


@pytest.mark.parametrize(
    "site", ["self_attn", "multihead_attn", "dropout", "dropout1", "dropout2", "dropout3"]
)
def test_each_of_the_six_dropouts_acts_in_training(site):
    mg.manual_seed(0)
    layer = randomized(make_layer(8, 2, 16))
    tgt, memory = random_array(5, 3, 8, seed=1), random_array(4, 3, 8, seed=2)
    expected = layer(tgt, memory).data
    if site.endswith("attn"):
        getattr(layer, site).dropout = 0.5  # the attention weights' dropout
    else:
        getattr(layer, site).p = 0.5
    assert not np.allclose(layer(tgt, memory).data, expected)
    layer.eval()
    np.testing.assert_array_equal(layer(tgt, memory).data, expected)


def test_float32_stays_float32():
    model = Transformer(4, 2, 1, 1, 8)
    src = mg.tensor(random_array(3, 2, 4).astype(np.float32), requires_grad=True)
    tgt = random_array(2, 2, 4).astype(np.float32)
    output = model(src, tgt, src_key_padding_mask=random_array(2, 3))
    assert output.dtype == np.float32
    output.sum().backward()
    assert src.grad.dtype == np.float32


# ---- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: make_layer(10, 4), ValueError, "^TransformerDecoderLayer: d_model 10 must be divisible"),
        (lambda: make_layer(activation="tanh"), ValueError, "^TransformerDecoderLayer: activation must"),
        (lambda: TransformerDecoder(make_layer(), 0), ValueError, "^TransformerDecoder: num_layers must"),
        (lambda: TransformerDecoder(nn.Linear, 2), TypeError, "^TransformerDecoder: decoder_layer must"),
        (lambda: Transformer(6, 4), ValueError, "^Transformer: d_model 6 must be divisible by nhead 4"),
        (lambda: Transformer.generate_square_subsequent_mask(0), ValueError, "^Transformer.generate_"),
    ],
)
def test_construction_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


def run_layer(tgt_shape=(3, 2, 4), memory_shape=(4, 2, 4), **options):
    return make_layer()(random_array(*tgt_shape), random_array(*memory_shape), **options)


def run_model(src_shape, tgt_shape, **options):
    return Transformer(4, 2, 1, 1, 6, **options)(random_array(*src_shape), random_array(*tgt_shape))


def run_decoder(**options):
    return TransformerDecoder(make_layer(), 2)(random_array(3, 4), random_array(5, 4), **options)


@pytest.mark.parametrize(
    ("run", "message"),
    [
        (lambda: run_layer(tgt_shape=(3, 2, 5)), r"^TransformerDecoderLayer: expected tgt of shape \(T, N"),
        (lambda: run_layer(memory_shape=(4, 2, 6)), r"^TransformerDecoderLayer: expected memory of shape"),
        (lambda: run_layer(memory_shape=(4, 3, 4)), "^TransformerDecoderLayer: .* same batch size N, axis 1"),
        (lambda: run_layer(memory_shape=(4, 4)), "^TransformerDecoderLayer: .* must be all batched"),
        (lambda: run_layer(tgt_is_causal=True), "^TransformerDecoderLayer: tgt_is_causal=True .*tgt_mask"),
        (lambda: run_layer(memory_is_causal=True), r"^TransformerDecoderLayer: memory_is.*\(\(T, S\)"),
        (
            lambda: run_decoder(tgt_is_causal=True),
            "^TransformerDecoder: tgt_is_causal=True .* needs tgt_mask",
        ),
        (lambda: run_model((2, 5, 4), (3, 2, 4)), "^Transformer: src and tgt must have the same batch size"),
        (lambda: run_model((2, 5, 4), (2, 3, 8), batch_first=True), r"^Transformer: .* \(N, T, d_model\)"),
    ],
)
def test_forward_errors(run, message):
    with pytest.raises(ValueError, match=message):
        run()
