"""Attention: ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention``.

The function is in minigrad/nn/functional/attention.py, the module in
minigrad/nn/attention.py. Values are checked against plain numpy written here; the
semantics (causal masks when L != S, rows with every key masked, PyTorch's state dict
keys) were checked by hand against PyTorch 2.13.0.
"""

import re

import numpy as np
import pytest
from conftest import assert_gradcheck, parameters_replaced, random_array
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import viz
from minigrad.nn.attention import MultiheadAttention
from minigrad.nn.functional.attention import scaled_dot_product_attention

fast = settings(max_examples=50, deadline=None)


def softmax_rows(scores):
    """softmax over the last axis; a row of only -inf gives weights 0, as PyTorch 2.13 does."""
    largest = scores.max(axis=-1, keepdims=True)
    exponentials = np.exp(scores - np.where(np.isfinite(largest), largest, 0))
    totals = exponentials.sum(axis=-1, keepdims=True)
    return np.divide(exponentials, totals, out=np.zeros_like(exponentials), where=totals > 0)


def attention_reference(q, k, v, mask=None, scale=None):
    """softmax(q k^T * scale + mask) v, and the weights; a bool mask's True takes part."""
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale
    if mask is not None:
        scores = np.where(mask, scores, -np.inf) if mask.dtype == bool else scores + mask
    weights = softmax_rows(scores)
    return weights @ v, weights


def tensors(*arrays, requires_grad=False):
    return [mg.tensor(array, requires_grad=requires_grad) for array in arrays]


# ---- scaled_dot_product_attention: values ------------------------------------------------------


@st.composite
def attention_shapes(draw):
    """Shapes of query, key and value whose batch axes broadcast (some are 1 or missing)."""
    batch = draw(st.lists(st.integers(1, 3), max_size=2))
    length, keys, features, value_features = (draw(st.integers(1, 4)) for _ in range(4))

    def batch_of_one_input():
        kept = batch[draw(st.integers(0, len(batch))) :]  # leading axes may be missing
        return [size if draw(st.booleans()) else 1 for size in kept]

    return (
        (*batch_of_one_input(), length, features),
        (*batch_of_one_input(), keys, features),
        (*batch, keys, value_features),
    )


@fast
@given(
    shapes=attention_shapes(),
    mask_kind=st.sampled_from([None, "bool", "float", "causal"]),
    scale=st.sampled_from([None, 0.3]),
    seed=st.integers(0, 2**16),
)
def test_values_match_the_numpy_reference(shapes, mask_kind, scale, seed):
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal(shape) for shape in shapes)
    length, keys = shapes[0][-2], shapes[1][-2]
    mask = {
        None: None,
        "bool": rng.random((length, keys)) < 0.7,
        "float": rng.standard_normal((1, keys)),
        "causal": np.tril(np.ones((length, keys), dtype=bool)),
    }[mask_kind]
    options = {"is_causal": True} if mask_kind == "causal" else {"attn_mask": mask}
    result = scaled_dot_product_attention(*tensors(q, k, v), scale=scale, **options)
    expected, _ = attention_reference(q, k, v, mask, scale)
    assert result.shape == expected.shape and result.dtype == np.float64
    np.testing.assert_allclose(result.data, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("length", "keys"), [(3, 5), (5, 3), (4, 4)])
def test_causal_mask_is_aligned_top_left_when_lengths_differ(length, keys):
    # Query i sees keys 0 to i, as PyTorch's tril(ones(L, S)): with L > S the last
    # queries see every key, with L < S the last keys are seen by none.
    q, k, v = random_array(2, length, 3, seed=1), random_array(2, keys, 3, seed=2), np.eye(keys)
    weights = scaled_dot_product_attention(*tensors(q, k, v), is_causal=True).data
    np.testing.assert_array_equal(
        weights > 0, np.broadcast_to(np.tril(np.ones((length, keys))), weights.shape)
    )
    np.testing.assert_allclose(weights.sum(axis=-1), 1, rtol=1e-12)


def test_a_float_mask_is_added_and_large_negative_values_hide_keys():
    q, k, v = random_array(3, 4, seed=1), random_array(5, 4, seed=2), random_array(5, 2, seed=3)
    bias = random_array(3, 5, seed=4)
    result = scaled_dot_product_attention(*tensors(q, k, v), attn_mask=bias)
    np.testing.assert_allclose(result.data, attention_reference(q, k, v, bias)[0], rtol=1e-10)
    hide_last = np.where(np.arange(5) == 4, -1e9, 0.0)
    hidden = scaled_dot_product_attention(*tensors(q, k, v), attn_mask=hide_last)
    shown = scaled_dot_product_attention(*tensors(q, k[:4], v[:4]))
    np.testing.assert_allclose(hidden.data, shown.data, rtol=1e-10)


def test_rows_with_every_key_masked_give_zeros_and_no_gradient_as_pytorch():
    q, k, v = tensors(
        random_array(2, 3, 4, seed=1),
        random_array(2, 5, 4, seed=2),
        random_array(2, 5, 2, seed=3),
        requires_grad=True,
    )
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    for attn_mask in (mask, np.where(mask, 0.0, -np.inf)):
        result = scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        np.testing.assert_array_equal(result.data[:, 1], 0)
        assert np.all(result.data[:, [0, 2]] != 0)
        q.grad = k.grad = v.grad = None
        result.sum().backward()
        assert all(np.isfinite(t.grad.data).all() for t in (q, k, v))
        np.testing.assert_array_equal(q.grad.data[:, 1], 0)


def test_no_keys_give_zeros():
    q, k, v = random_array(2, 3, 4), np.zeros((2, 0, 4)), np.zeros((2, 0, 5))
    result = scaled_dot_product_attention(*tensors(q, k, v))
    assert result.shape == (2, 3, 5)
    np.testing.assert_array_equal(result.data, 0)


def test_grouped_query_attention_repeats_each_key_head_for_a_run_of_query_heads():
    q, k, v = (
        random_array(2, 6, 3, 4, seed=1),
        random_array(2, 2, 5, 4, seed=2),
        random_array(1, 3, 5, 2, seed=3),
    )
    result = scaled_dot_product_attention(*tensors(q, k, v), enable_gqa=True)
    # Query heads 0-2 use key head 0, heads 3-5 key head 1; value heads serve two each.
    expected, _ = attention_reference(q, np.repeat(k, 3, axis=1), np.repeat(v, 2, axis=1))
    np.testing.assert_allclose(result.data, expected, rtol=1e-10)
    with pytest.raises(ValueError, match="batch axes"):
        scaled_dot_product_attention(*tensors(q, k, v))


def test_float32_stays_float32():
    q, k, v = (
        mg.tensor(random_array(2, 3, 4, seed=seed).astype(np.float32), requires_grad=True)
        for seed in range(3)
    )
    float64_mask = random_array(3, 3)
    for options in ({}, {"attn_mask": float64_mask}, {"attn_mask": float64_mask > 0}, {"is_causal": True}):
        result = scaled_dot_product_attention(q, k, v, scale=np.float64(0.5), **options)
        assert result.dtype == np.float32, options
        result.sum().backward()
        assert q.grad.dtype == np.float32


def test_is_drawn_as_one_box():
    q = mg.tensor(random_array(3, 4), requires_grad=True, name="q")
    titles = re.findall(
        r"<b>(.*?)</b>", viz.draw_graph(scaled_dot_product_attention(q, q, q), depth=0).source
    )
    # The constant is the largest score of each row, which softmax subtracts.
    assert sorted(titles) == ["constant", "output", "q", "scaled_dot_product_attention"]


# ---- scaled_dot_product_attention: gradients, dropout, errors --------------------------------


@pytest.mark.parametrize(
    "options",
    [{}, {"is_causal": True}, {"attn_mask": np.tril(np.ones((3, 4), dtype=bool))}, {"scale": 0.7}],
    ids=["plain", "causal", "bool-mask", "scale"],
)
def test_gradcheck(options):
    q, k, v = random_array(2, 3, 5, seed=1), random_array(1, 4, 5, seed=2), random_array(2, 4, 2, seed=3)
    assert_gradcheck(lambda q, k, v: scaled_dot_product_attention(q, k, v, **options), q, k, v)


def test_gradcheck_of_a_float_mask_and_of_grouped_query_attention():
    q, k, v = random_array(4, 3, 2, seed=1), random_array(2, 3, 2, seed=2), random_array(1, 3, 2, seed=3)
    mask = random_array(3, 3, seed=4)
    assert_gradcheck(lambda q, k, v, m: scaled_dot_product_attention(q, k, v, attn_mask=m), q, k[:1], v, mask)
    assert_gradcheck(lambda q, k, v: scaled_dot_product_attention(q, k, v, enable_gqa=True), q, k, v)


def test_dropout_zeroes_weights_or_scales_them_by_one_over_keep():
    q, k = tensors(random_array(2, 50, 4, seed=1), random_array(2, 40, 4, seed=2))
    identity = mg.tensor(np.eye(40))  # the result is then the weights themselves
    weights = scaled_dot_product_attention(q, k, identity).data
    mg.manual_seed(0)
    dropped = scaled_dot_product_attention(q, k, identity, dropout_p=0.25).data
    kept = dropped != 0
    np.testing.assert_allclose(dropped[kept], weights[kept] / 0.75, rtol=1e-12)
    assert 0.2 < 1 - kept.mean() < 0.3
    mg.manual_seed(0)
    np.testing.assert_array_equal(scaled_dot_product_attention(q, k, identity, dropout_p=0.25).data, dropped)
    np.testing.assert_array_equal(scaled_dot_product_attention(q, k, identity, dropout_p=1.0).data, 0)


@pytest.mark.parametrize(
    ("shapes", "options", "error", "message"),
    [
        (
            ((3, 4), (5, 4), (5, 2)),
            {"attn_mask": np.ones((3, 5), bool), "is_causal": True},
            ValueError,
            "not both",
        ),
        (((3, 4), (5, 3), (5, 2)), {}, ValueError, "number of features E"),
        (((3, 4), (5, 4), (6, 2)), {}, ValueError, "number of positions S"),
        (((2, 3, 4), (3, 5, 4), (3, 5, 2)), {}, ValueError, "batch axes"),
        (((4,), (5, 4), (5, 2)), {}, ValueError, "at least 2 axes"),
        (((3, 4), (5, 4), (5, 2)), {"attn_mask": np.ones((4, 5), bool)}, ValueError, r"\(3, 5\)"),
        # value's batch axes do not count: the mask is added to the scores, as in PyTorch
        (
            ((3, 4), (5, 4), (2, 5, 2)),
            {"attn_mask": np.ones((2, 3, 5), bool)},
            ValueError,
            "does not broadcast",
        ),
        (((3, 4), (5, 4), (5, 2)), {"attn_mask": np.ones((3, 5), int)}, TypeError, "bool .* or float"),
        (((3, 4), (5, 4), (5, 2)), {"dropout_p": 1.5}, ValueError, "dropout_p"),
        (((3, 3, 4), (2, 5, 4), (2, 5, 2)), {"enable_gqa": True}, ValueError, "must divide"),
        (((3, 4), (5, 4), (5, 2)), {"enable_gqa": True}, ValueError, "axis -3"),
    ],
)
def test_errors_name_the_function_and_the_shapes(shapes, options, error, message):
    inputs = tensors(*(random_array(*shape) for shape in shapes))
    with pytest.raises(error, match=message) as raised:
        scaled_dot_product_attention(*inputs, **options)
    assert str(raised.value).startswith("scaled_dot_product_attention:")


def test_mixed_dtypes_are_an_error():
    q = mg.tensor(random_array(3, 4).astype(np.float32))
    with pytest.raises(TypeError, match="float32, float64 and float64"):
        scaled_dot_product_attention(q, *tensors(random_array(5, 4), random_array(5, 2)))


# ---- MultiheadAttention ------------------------------------------------------------------------


def mha_reference(
    state, query, key, value, num_heads, key_padding_mask=None, attn_mask=None, zero_attn=False
):
    """MultiheadAttention in plain numpy on (N, L, E) inputs, one sample and one head at a time.

    Masks as PyTorch's module takes them: a bool True leaves a key out, a float is added.
    Returns the output (N, L, E) and the weights of every head (N, num_heads, L, S').
    """
    if "in_proj_weight" in state:
        projections = np.split(state["in_proj_weight"], 3)
    else:
        projections = [state[f"{name}_proj_weight"] for name in "qkv"]
    biases = np.split(state["in_proj_bias"], 3) if "in_proj_bias" in state else [0, 0, 0]
    batch_size, length, embed_dim = query.shape
    head_dim = embed_dim // num_heads
    outputs, all_weights = [], []
    for n in range(batch_size):
        q, k, v = (x[n] @ w.T + b for x, w, b in zip((query, key, value), projections, biases))
        if "bias_k" in state:
            k, v = np.vstack([k, state["bias_k"][0]]), np.vstack([v, state["bias_v"][0]])
        heads, sample_weights = [], []
        for h in range(num_heads):
            features = slice(h * head_dim, (h + 1) * head_dim)
            qh, kh, vh = q[:, features], k[:, features], v[:, features]
            if zero_attn:
                kh, vh = np.vstack([kh, np.zeros(head_dim)]), np.vstack([vh, np.zeros(head_dim)])
            scores = qh @ kh.T / np.sqrt(head_dim)
            masks = []  # each (L, S)
            if attn_mask is not None:
                masks.append(attn_mask if attn_mask.ndim == 2 else attn_mask[n * num_heads + h])
            if key_padding_mask is not None:
                masks.append(np.broadcast_to(key_padding_mask[n], (length, key_padding_mask.shape[1])))
            for mask in masks:
                added_keys = np.zeros((length, kh.shape[0] - mask.shape[1]), mask.dtype)  # bias_k, zero key
                mask = np.hstack([mask, added_keys])
                scores = np.where(mask, -np.inf, scores) if mask.dtype == bool else scores + mask
            weights = softmax_rows(scores)
            heads.append(weights @ vh)
            sample_weights.append(weights)
        outputs.append(np.hstack(heads) @ state["out_proj.weight"].T + state.get("out_proj.bias", 0))
        all_weights.append(sample_weights)
    return np.array(outputs), np.array(all_weights)


@st.composite
def mha_cases(draw):
    num_heads, head_dim = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sizes = {name: draw(st.integers(1, 4)) for name in ("batch_size", "length", "keys")}
    options = {
        "kdim": draw(st.sampled_from([None, 2])),
        "vdim": draw(st.sampled_from([None, 3])),
        "bias": draw(st.booleans()),
        "add_bias_kv": draw(st.booleans()),
        "add_zero_attn": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
    }
    masks = {
        "key_padding_mask": draw(st.sampled_from([None, "bool", "float"])),
        "attn_mask": draw(st.sampled_from([None, "bool", "float-per-head"])),
    }
    return (
        num_heads * head_dim,
        num_heads,
        sizes,
        options,
        masks,
        draw(st.booleans()),
        draw(st.integers(0, 2**16)),
    )


@fast
@given(case=mha_cases(), average=st.booleans())
def test_multihead_values_match_the_numpy_reference(case, average):
    embed_dim, num_heads, sizes, options, mask_kinds, batched, seed = case
    rng = np.random.default_rng(seed)
    module = MultiheadAttention(embed_dim, num_heads, **options, dtype=np.float64)
    batch_size = sizes["batch_size"] if batched else 1
    length, keys = sizes["length"], sizes["keys"]
    features = [embed_dim, options["kdim"] or embed_dim, options["vdim"] or embed_dim]
    query, key, value = (
        rng.standard_normal((batch_size, n, f)) for n, f in zip([length, keys, keys], features)
    )
    padding = {
        None: None,
        "bool": rng.random((batch_size, keys)) < 0.3,
        "float": rng.standard_normal((batch_size, keys)),
    }
    attn = {
        None: None,
        "bool": rng.random((length, keys)) < 0.3,
        "float-per-head": rng.standard_normal((batch_size * num_heads, length, keys)),
    }
    key_padding_mask, attn_mask = padding[mask_kinds["key_padding_mask"]], attn[mask_kinds["attn_mask"]]
    expected, expected_weights = mha_reference(
        module.state_dict(),
        query,
        key,
        value,
        num_heads,
        key_padding_mask,
        attn_mask,
        options["add_zero_attn"],
    )
    if average:
        expected_weights = expected_weights.mean(axis=1)
    if not batched:
        query, key, value, expected, expected_weights = (
            x[0] for x in (query, key, value, expected, expected_weights)
        )
        key_padding_mask = None if key_padding_mask is None else key_padding_mask[0]
    elif not options["batch_first"]:
        query, key, value, expected = (x.swapaxes(0, 1) for x in (query, key, value, expected))
    output, weights = module(
        *tensors(query, key, value),
        key_padding_mask=key_padding_mask,
        attn_mask=attn_mask,
        average_attn_weights=average,
    )
    assert output.shape == expected.shape and weights.shape == expected_weights.shape
    np.testing.assert_allclose(output.data, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights.data, expected_weights, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("batch_first", "query_shape", "key_shape", "weights_shape", "per_head_shape"),
    [
        (False, (3, 2, 8), (5, 2, 8), (2, 3, 5), (2, 4, 3, 5)),
        (True, (2, 3, 8), (2, 5, 8), (2, 3, 5), (2, 4, 3, 5)),
        (False, (3, 8), (5, 8), (3, 5), (4, 3, 5)),
        (True, (3, 8), (5, 8), (3, 5), (4, 3, 5)),
    ],
    ids=["seq-first", "batch-first", "unbatched", "unbatched-batch-first"],
)
def test_shapes_of_output_and_weights(batch_first, query_shape, key_shape, weights_shape, per_head_shape):
    module = MultiheadAttention(8, 4, batch_first=batch_first)
    query, key = mg.randn(*query_shape), mg.randn(*key_shape)
    output, weights = module(query, key, key)
    assert output.shape == query_shape and weights.shape == weights_shape
    np.testing.assert_allclose(weights.data.sum(axis=-1), 1, rtol=1e-5)
    assert module(query, key, key, average_attn_weights=False)[1].shape == per_head_shape
    output_alone, nothing = module(query, key, key, need_weights=False)
    assert nothing is None
    np.testing.assert_array_equal(output_alone.data, output.data)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {},
            [
                ("in_proj_weight", (24, 8)),
                ("in_proj_bias", (24,)),
                ("out_proj.weight", (8, 8)),
                ("out_proj.bias", (8,)),
            ],
        ),
        ({"bias": False}, [("in_proj_weight", (24, 8)), ("out_proj.weight", (8, 8))]),
        (
            {"kdim": 3, "vdim": 5},
            [
                ("q_proj_weight", (8, 8)),
                ("k_proj_weight", (8, 3)),
                ("v_proj_weight", (8, 5)),
                ("in_proj_bias", (24,)),
                ("out_proj.weight", (8, 8)),
                ("out_proj.bias", (8,)),
            ],
        ),
        (
            {"add_bias_kv": True},
            [
                ("in_proj_weight", (24, 8)),
                ("in_proj_bias", (24,)),
                ("bias_k", (1, 1, 8)),
                ("bias_v", (1, 1, 8)),
                ("out_proj.weight", (8, 8)),
                ("out_proj.bias", (8,)),
            ],
        ),
    ],
    ids=["default", "no-bias", "kdim-vdim", "bias-kv"],
)
def test_state_dict_keys_and_shapes_are_pytorchs(options, expected):
    # list((k, tuple(v.shape)) for k, v in torch.nn.MultiheadAttention(8, 2, **options).state_dict().items())
    module = MultiheadAttention(8, 2, **options)
    assert [(key, value.shape) for key, value in module.state_dict().items()] == expected
    loaded = MultiheadAttention(8, 2, **options)
    loaded.load_state_dict({key: np.full(shape, 0.5) for key, shape in expected})
    assert all(np.all(value == 0.5) for value in loaded.state_dict().values())


def test_initialized_as_pytorch():
    mg.manual_seed(0)
    module = MultiheadAttention(64, 4, add_bias_kv=True)
    bound = np.sqrt(6 / (64 + 3 * 64))  # Glorot-uniform of a (3E, E) weight
    weight = module.in_proj_weight.data
    assert np.abs(weight).max() <= bound and np.isclose(weight.std(), bound / np.sqrt(3), rtol=0.05)
    np.testing.assert_array_equal(module.in_proj_bias.data, 0)
    np.testing.assert_array_equal(module.out_proj.bias.data, 0)
    assert np.abs(module.out_proj.weight.data).max() <= 1 / 8  # nn.Linear's own init
    assert 0.05 < module.bias_k.data.std() < 0.2  # Glorot-normal of (1, 1, E): std sqrt(1 / E)


def test_masks_leave_keys_out():
    module = MultiheadAttention(4, 2, batch_first=True, dtype=np.float64)
    query, key = tensors(random_array(2, 3, 4, seed=1), random_array(2, 5, 4, seed=2))
    padding = np.zeros((2, 5), dtype=bool)
    padding[0, 3:] = True
    _, weights = module(query, key, key, key_padding_mask=padding)
    np.testing.assert_array_equal(weights.data[0, :, 3:], 0)
    assert np.all(weights.data[1] > 0)
    as_float = np.where(padding, -np.inf, 0.0)
    for other in (
        {"key_padding_mask": as_float},
        {"attn_mask": np.repeat(as_float, 2 * 3, axis=0).reshape(4, 3, 5)},
    ):
        np.testing.assert_allclose(module(query, key, key, **other)[1].data, weights.data, rtol=1e-12)
    causal = np.triu(np.ones((3, 5), dtype=bool), 1)
    _, causal_weights = module(query, key, key, attn_mask=causal, is_causal=True)
    np.testing.assert_array_equal(causal_weights.data > 0, np.broadcast_to(~causal, (2, 3, 5)))


def test_a_query_with_every_key_left_out_gets_weights_zero():
    # PyTorch 2.13 gives 0 with need_weights=False and nan with need_weights=True; minigrad gives 0.
    module = MultiheadAttention(4, 2, dtype=np.float64)
    query = mg.tensor(random_array(3, 4), requires_grad=True)
    everything = np.ones(3, dtype=bool)
    output, weights = module(query, query, query, key_padding_mask=everything)
    np.testing.assert_array_equal(weights.data, 0)
    np.testing.assert_allclose(output.data, np.broadcast_to(module.out_proj.bias.data, (3, 4)))
    output.sum().backward()
    np.testing.assert_array_equal(query.grad.data, 0)


@pytest.mark.parametrize(
    "options",
    [{}, {"kdim": 2, "vdim": 3, "bias": False}, {"add_bias_kv": True, "add_zero_attn": True}],
    ids=["default", "kdim-vdim", "bias-kv-zero-attn"],
)
def test_multihead_gradcheck(float64_default, options):
    module = MultiheadAttention(4, 2, **options)
    left_out = np.triu(np.ones((3, 4), dtype=bool), 1)  # causal
    weights_grad = random_array(
        2, 2, 3, 4 + options.get("add_bias_kv", False) + options.get("add_zero_attn", False)
    )

    def run(query, key, value, *parameters):
        with parameters_replaced(module, list(parameters)):
            output, weights = module(query, key, value, attn_mask=left_out, average_attn_weights=False)
        return output.sum() + (weights * weights_grad).sum()

    key_features, value_features = options.get("kdim", 4), options.get("vdim", 4)
    inputs = [
        random_array(3, 2, 4, seed=1),
        random_array(4, 2, key_features, seed=2),
        random_array(4, 2, value_features, seed=3),
    ]
    assert_gradcheck(run, *inputs, *[parameter.data.copy() for parameter in module.parameters()])


def test_dropout_in_training_only_and_weights_are_returned_after_it():
    mg.manual_seed(0)
    module = MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = mg.randn(4, 10, 8)
    _, trained = module(x, x, x, average_attn_weights=False)
    assert (trained.data == 0).mean() > 0.3
    assert not np.allclose(trained.data.sum(axis=-1), 1)
    module.eval()
    output, weights = module(x, x, x)
    np.testing.assert_allclose(weights.data.sum(axis=-1), 1, rtol=1e-5)
    np.testing.assert_array_equal(module(x, x, x)[0].data, output.data)


def test_float32_module_stays_float32():
    module = MultiheadAttention(4, 2)
    query = mg.tensor(random_array(3, 2, 4).astype(np.float32), requires_grad=True)
    output, weights = module(
        query, query, query, key_padding_mask=random_array(2, 3), attn_mask=np.eye(3) > 0
    )
    assert output.dtype == weights.dtype == np.float32
    output.sum().backward()
    assert query.grad.dtype == module.in_proj_weight.grad.dtype == np.float32


def test_is_drawn_with_a_scaled_dot_product_attention_box():
    module = MultiheadAttention(4, 2)
    x = mg.randn(3, 4, requires_grad=True)
    titles = re.findall(r"<b>(.*?)</b>", viz.draw_graph(module(x, x, x)[0], depth=1).source)
    assert "MultiheadAttention" in titles
    titles = re.findall(r"<b>(.*?)</b>", viz.draw_graph(module(x, x, x)[0], depth=2).source)
    assert "scaled_dot_product_attention" in titles and "out_proj: Linear" in titles


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: MultiheadAttention(10, 4), ValueError, "embed_dim 10 must be divisible by num_heads 4"),
        (lambda: MultiheadAttention(8, 0), ValueError, "num_heads must be a positive int"),
        (lambda: MultiheadAttention(8, 2, dropout=2.0), ValueError, "dropout"),
    ],
)
def test_construction_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize(
    ("shapes", "options", "error", "message"),
    [
        (((3, 2, 6), (5, 2, 8), (5, 2, 8)), {}, ValueError, "query must have 8 features"),
        (((3, 2, 8), (4, 2, 8), (5, 2, 8)), {}, ValueError, "key and value need one shape"),
        (((3, 2, 8), (5, 1, 8), (5, 1, 8)), {}, ValueError, "batch size N"),
        (((3, 2, 8), (5, 2, 8), (5, 2, 8)), {"is_causal": True}, ValueError, "needs attn_mask"),
        (
            ((3, 2, 8), (5, 2, 8), (5, 2, 8)),
            {"attn_mask": np.ones((3, 6), bool)},
            ValueError,
            r"\(3, 5\) or \(4, 3, 5\)",
        ),
        (
            ((3, 2, 8), (5, 2, 8), (5, 2, 8)),
            {"key_padding_mask": np.ones((5, 2), bool)},
            ValueError,
            r"\(2, 5\)",
        ),
        (((3, 2, 8), (5, 2, 8), (5, 2, 8)), {"key_padding_mask": np.ones((2, 5), int)}, TypeError, "bool"),
        (((2, 3, 2, 8), (5, 2, 8), (5, 2, 8)), {}, ValueError, "3 axes"),
    ],
)
def test_forward_errors(shapes, options, error, message):
    module = MultiheadAttention(8, 2)
    with pytest.raises(error, match=message) as raised:
        module(*(mg.randn(*shape) for shape in shapes), **options)
    assert str(raised.value).startswith("MultiheadAttention:")
