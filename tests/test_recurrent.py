"""RNN, LSTM, GRU and their cells: values against numpy loops over time, gradients, PyTorch's layout."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from conftest import assert_gradcheck, parameters_replaced, random_array
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import viz
from minigrad.nn.functional.recurrent import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell
from minigrad.nn.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

fast = settings(max_examples=60, deadline=None)
KINDS = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def make_layer(kind, input_size, hidden_size, **options):
    if kind.startswith("RNN"):
        return RNN(input_size, hidden_size, nonlinearity=kind[4:].lower(), **options)
    return {"LSTM": LSTM, "GRU": GRU}[kind](input_size, hidden_size, **options)


def make_cell(kind, input_size, hidden_size, **options):
    if kind.startswith("RNN"):
        return RNNCell(input_size, hidden_size, nonlinearity=kind[4:].lower(), **options)
    return {"LSTM": LSTMCell, "GRU": GRUCell}[kind](input_size, hidden_size, **options)


# ---- numpy references: one step, then loops over layers, directions and time ---------------


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def reference_step(kind, x, states, w_ih, w_hh, b_ih=None, b_hh=None):
    """The next states, a list ([h] or the LSTM's [h, c]), written out from PyTorch's documented equations."""
    h = states[0]
    from_input = x @ w_ih.T + (0 if b_ih is None else b_ih)
    from_state = h @ w_hh.T + (0 if b_hh is None else b_hh)
    if kind == "RNN_TANH":
        return [np.tanh(from_input + from_state)]
    if kind == "RNN_RELU":
        return [np.maximum(from_input + from_state, 0)]
    if kind == "LSTM":
        i, f, g, o = np.split(from_input + from_state, 4, axis=-1)
        c = sigmoid(f) * states[1] + sigmoid(i) * np.tanh(g)
        return [sigmoid(o) * np.tanh(c), c]
    x_r, x_z, x_n = np.split(from_input, 3, axis=-1)
    h_r, h_z, h_n = np.split(from_state, 3, axis=-1)
    r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
    n = np.tanh(x_n + r * h_n)
    return [(1 - z) * n + z * h]


def reference_layers(kind, x, states, parameters, num_layers, directions):
    """``(output, final states)`` for x (L, N, I) and states, a list of (num_layers * D, N, H) arrays."""
    finals = [[] for _ in states]
    sequence = x
    for layer in range(num_layers):
        outputs = []
        for direction in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            weights = [
                parameters.get(name + suffix) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            ]
            step_states = [state[layer * directions + direction] for state in states]
            hidden = [None] * len(sequence)
            times = range(len(sequence))
            for time in reversed(times) if direction else times:
                step_states = reference_step(kind, sequence[time], step_states, *weights)
                hidden[time] = step_states[0]
            outputs.append(np.stack(hidden))
            for final, state in zip(finals, step_states):
                final.append(state)
        sequence = np.concatenate(outputs, axis=-1)
    return sequence, [np.stack(final) for final in finals]


def as_hx(states):
    """A list of state arrays as a module's hx: h alone, or the LSTM's (h, c)."""
    tensors = [mg.tensor(state, requires_grad=True) for state in states]
    return tensors[0] if len(tensors) == 1 else tuple(tensors)


def as_list(states):
    return list(states) if isinstance(states, tuple) else [states]


# ---- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("give_hx", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_cells_match_the_numpy_step(kind, batched, give_hx, bias):
    cell = make_cell(kind, 3, 4, bias=bias, dtype=np.float64)
    shape = (2,) if batched else ()
    x = random_array(*shape, 3, seed=1)
    states = [random_array(*shape, 4, seed=2 + k) for k in range(2 if kind == "LSTM" else 1)]
    result = as_list(cell(x, as_hx(states) if give_hx else None))
    start = states if give_hx else [np.zeros_like(state) for state in states]
    parameters = cell.state_dict()
    weights = [parameters.get(name) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    expected = reference_step(kind, x, start, *weights)
    assert len(result) == len(expected)
    for actual, wanted in zip(result, expected):
        assert actual.shape == wanted.shape == shape + (4,)
        np.testing.assert_allclose(actual.data, wanted, rtol=1e-12, atol=1e-14)


@st.composite
def layer_configurations(draw):
    return {
        "kind": draw(st.sampled_from(KINDS)),
        "sizes": draw(st.tuples(*[st.integers(1, 4)] * 4)),  # input, hidden, batch, length
        "num_layers": draw(st.integers(1, 3)),
        "bidirectional": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
        "bias": draw(st.booleans()),
        "batched": draw(st.booleans()),
        "give_hx": draw(st.booleans()),
    }


@fast
@given(layer_configurations(), st.integers(0, 2**16))
def test_layers_match_the_numpy_loop_over_time(config, seed):
    input_size, hidden_size, batch, length = config["sizes"]
    num_layers, directions = config["num_layers"], 2 if config["bidirectional"] else 1
    module = make_layer(
        config["kind"],
        input_size,
        hidden_size,
        num_layers=num_layers,
        bias=config["bias"],
        batch_first=config["batch_first"],
        bidirectional=config["bidirectional"],
        dtype=np.float64,
    )
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((length, batch, input_size))  # time first, as the reference
    states = [
        rng.standard_normal((num_layers * directions, batch, hidden_size)) * config["give_hx"]
        for _ in range(2 if config["kind"] == "LSTM" else 1)
    ]
    expected_output, expected_states = reference_layers(
        config["kind"], x, states, module.state_dict(), num_layers, directions
    )
    if not config["batched"]:
        x, states = x[:, 0], [state[:, 0] for state in states]
        expected_output, expected_states = expected_output[:, 0], [state[:, 0] for state in expected_states]
    elif config["batch_first"]:
        x, expected_output = x.swapaxes(0, 1), expected_output.swapaxes(0, 1)
    output, final = module(x, as_hx(states) if config["give_hx"] else None)  # without hx: zeros
    assert output.shape == expected_output.shape
    assert output.shape[-1] == directions * hidden_size
    np.testing.assert_allclose(output.data, expected_output, rtol=1e-12, atol=1e-14)
    for actual, wanted in zip(as_list(final), expected_states, strict=True):
        assert actual.shape == wanted.shape
        np.testing.assert_allclose(actual.data, wanted, rtol=1e-12, atol=1e-14)


def test_unbatched_input_gives_the_batch_of_one_without_its_batch_axis():
    module = LSTM(3, 2, num_layers=2, bidirectional=True, dtype=np.float64)
    x = random_array(5, 3)
    output, (h, c) = module(x)
    batched_output, (batched_h, batched_c) = module(x[:, None])
    assert output.shape == (5, 4) and h.shape == c.shape == (4, 2)
    np.testing.assert_array_equal(output.data, batched_output.data[:, 0])
    np.testing.assert_array_equal(h.data, batched_h.data[:, 0])
    np.testing.assert_array_equal(c.data, batched_c.data[:, 0])


def test_the_output_of_the_last_step_is_the_final_state_of_each_direction():
    module = GRU(2, 3, bidirectional=True, batch_first=True, dtype=np.float64)
    output, h = module(random_array(4, 6, 2))
    np.testing.assert_array_equal(output.data[:, -1, :3], h.data[0])  # forwards: ends at the last step
    np.testing.assert_array_equal(output.data[:, 0, 3:], h.data[1])  # backwards: ends at the first


# ---- gradients: backpropagation through time is the chain rule through the steps ---------------


@pytest.mark.parametrize("kind", KINDS)
def test_cell_functions_gradcheck(kind):
    cell = {"RNN_TANH": rnn_tanh_cell, "RNN_RELU": rnn_relu_cell, "LSTM": lstm_cell, "GRU": gru_cell}[kind]
    rows = GATES[kind] * 3

    def run(x, h, c, w_ih, w_hh, b_ih, b_hh):
        result = cell(x, (h, c) if kind == "LSTM" else h, w_ih, w_hh, b_ih, b_hh)
        return sum((state * random_array(*state.shape, seed=9)).sum() for state in as_list(result))

    inputs = [random_array(2, 4, seed=1), random_array(2, 3, seed=2), random_array(2, 3, seed=3)]
    weights = [random_array(rows, 4, seed=4), random_array(rows, 3, seed=5)]
    assert_gradcheck(run, *inputs, *weights, random_array(rows, seed=6), random_array(rows, seed=7))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch_first", [True, False])
def test_layers_gradcheck_through_time_layers_and_directions(kind, batch_first):
    module = make_layer(
        kind, 2, 3, num_layers=2, bidirectional=True, batch_first=batch_first, dtype=np.float64
    )
    count = 2 if kind == "LSTM" else 1

    def run(x, *tensors):
        states, parameters = tensors[:count], tensors[count:]
        with parameters_replaced(module, list(parameters)):
            output, final = module(x, states[0] if count == 1 else states)
        total = (output * random_array(*output.shape, seed=8)).sum()
        return total + sum((state * random_array(*state.shape, seed=9)).sum() for state in as_list(final))

    x = random_array(2, 4, 2, seed=1) if batch_first else random_array(4, 2, 2, seed=1)
    states = [random_array(4, 2, 3, seed=2 + k) for k in range(count)]
    assert_gradcheck(run, x, *states, *[parameter.data.copy() for parameter in module.parameters()])


def test_the_first_input_gets_a_gradient_from_the_last_output():
    module = RNN(2, 3, dtype=np.float64)
    x = mg.tensor(random_array(6, 1, 2), requires_grad=True)
    output, _ = module(x)
    output[-1].sum().backward()
    assert np.abs(x.grad.data[0]).sum() > 0
    module.zero_grad()
    x.grad = None
    output, _ = module(x)
    output[0].sum().backward()  # the first output does not depend on later inputs
    np.testing.assert_array_equal(x.grad.data[1:], 0)


def test_each_time_step_is_drawn_as_a_box_of_its_cell():
    module = LSTM(2, 3)
    output, _ = module(mg.randn(4, 1, 2, requires_grad=True))
    titles = re.findall(r"<b>(.*?)</b>", viz.draw_graph(output, depth=1).source)
    assert titles.count("lstm_cell") == 4 and "stack" in titles
    titles = re.findall(r"<b>(.*?)</b>", viz.draw_graph(output, depth=2).source)
    assert titles.count("chunk") == 4 and titles.count("linear") == 8


# ---- PyTorch's parameters, initialization and dtypes ----------------------------------------------


def test_state_dict_keys_and_shapes_are_pytorchs():
    module = LSTM(3, 5, num_layers=2, bidirectional=True)
    assert [(key, value.shape) for key, value in module.state_dict().items()] == [
        ("weight_ih_l0", (20, 3)),
        ("weight_hh_l0", (20, 5)),
        ("bias_ih_l0", (20,)),
        ("bias_hh_l0", (20,)),
        ("weight_ih_l0_reverse", (20, 3)),
        ("weight_hh_l0_reverse", (20, 5)),
        ("bias_ih_l0_reverse", (20,)),
        ("bias_hh_l0_reverse", (20,)),
        ("weight_ih_l1", (20, 10)),
        ("weight_hh_l1", (20, 5)),
        ("bias_ih_l1", (20,)),
        ("bias_hh_l1", (20,)),
        ("weight_ih_l1_reverse", (20, 10)),
        ("weight_hh_l1_reverse", (20, 5)),
        ("bias_ih_l1_reverse", (20,)),
        ("bias_hh_l1_reverse", (20,)),
    ]
    assert [(key, value.shape) for key, value in GRU(2, 4, bias=False).state_dict().items()] == [
        ("weight_ih_l0", (12, 2)),
        ("weight_hh_l0", (12, 4)),
    ]
    assert [(key, value.shape) for key, value in RNNCell(2, 4).state_dict().items()] == [
        ("weight_ih", (4, 2)),
        ("weight_hh", (4, 4)),
        ("bias_ih", (4,)),
        ("bias_hh", (4,)),
    ]
    assert LSTMCell(2, 4).state_dict()["weight_hh"].shape == (16, 4)
    assert GRUCell(2, 4).state_dict()["bias_ih"].shape == (12,)


def test_every_parameter_starts_uniform_within_one_over_sqrt_hidden_size():
    mg.manual_seed(0)
    for module in (GRU(30, 16, num_layers=2, bidirectional=True), LSTMCell(7, 16)):
        for name, parameter in module.named_parameters():
            assert np.abs(parameter.data).max() <= 0.25, name
            assert np.abs(parameter.data).max() > 0.2 and parameter.data.std() > 0.1, name


def test_a_state_dict_loads_and_the_module_then_computes_with_it():
    source = GRU(2, 3, num_layers=2, dtype=np.float64)
    target = GRU(2, 3, num_layers=2, dtype=np.float64)
    x = random_array(3, 1, 2)
    target.load_state_dict(source.state_dict())
    np.testing.assert_array_equal(target(x)[0].data, source(x)[0].data)


@pytest.mark.parametrize("kind", KINDS)
def test_float32_stays_float32(kind):
    module = make_layer(kind, 2, 3, num_layers=2, bidirectional=True)
    x = mg.tensor(random_array(3, 2, 2).astype(np.float32), requires_grad=True)
    output, final = module(x)
    assert output.dtype == np.float32 and all(state.dtype == np.float32 for state in as_list(final))
    output.sum().backward()
    assert x.grad.dtype == module.weight_hh_l1_reverse.grad.dtype == np.float32
    assert all(state.dtype == np.float32 for state in as_list(make_cell(kind, 2, 3)(x[0])))


# ---- dropout between layers ----------------------------------------------------------------------


def test_dropout_acts_between_layers_in_training_only():
    mg.manual_seed(0)
    module = LSTM(3, 4, num_layers=2, dropout=1.0, dtype=np.float64)
    x = mg.tensor(random_array(5, 2, 3), requires_grad=True)
    other = mg.tensor(random_array(5, 2, 3, seed=1))
    # Everything between the layers is dropped: the second layer sees zeros, whatever the input.
    output, _ = module(x)
    np.testing.assert_array_equal(output.data, module(other)[0].data)
    output.sum().backward()
    np.testing.assert_array_equal(x.grad.data, 0)
    module.eval()
    output, final = module(x)
    expected, _ = reference_layers("LSTM", x.data, [np.zeros((2, 2, 4))] * 2, module.state_dict(), 2, 1)
    np.testing.assert_allclose(output.data, expected, rtol=1e-12, atol=1e-14)
    assert not np.allclose(output.data, module(other)[0].data)


def test_partial_dropout_in_training_changes_the_output_and_not_the_first_layer_state():
    mg.manual_seed(0)
    module = GRU(3, 4, num_layers=2, dropout=0.5, dtype=np.float64)
    x = random_array(5, 2, 3)
    trained_output, trained_h = module(x)
    module.eval()
    evaluated_output, evaluated_h = module(x)
    assert not np.allclose(trained_output.data, evaluated_output.data)
    np.testing.assert_array_equal(trained_h.data[0], evaluated_h.data[0])  # before any dropout


def test_dropout_with_one_layer_warns_that_it_does_nothing():
    with pytest.warns(UserWarning, match="num_layers=1"):
        RNN(2, 3, dropout=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RNN(2, 3, num_layers=2, dropout=0.5)


# ---- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: LSTM(3, 5)(mg.zeros(4, 2, 4)), ValueError, r"LSTM: .*input_size=3.*\(4, 2, 4\)"),
        (lambda: GRU(3, 5)(mg.zeros(4, 2, 1, 3)), ValueError, r"GRU: .*\(L, N, input_size\).*\(4, 2, 1, 3\)"),
        (
            lambda: GRU(3, 5, batch_first=True)(mg.zeros(3)),
            ValueError,
            r"GRU: .*\(N, L, input_size\).*\(3,\)",
        ),
        (
            lambda: RNN(3, 5, num_layers=2)(mg.zeros(4, 2, 3), mg.zeros(2, 3, 5)),
            ValueError,
            r"RNN: h_0 must have shape \(2, 2, 5\), got \(2, 3, 5\)",
        ),
        (
            lambda: LSTM(3, 5, bidirectional=True)(mg.zeros(4, 3), (mg.zeros(2, 5), mg.zeros(1, 5))),
            ValueError,
            r"LSTM: c_0 must have shape \(2, 5\), got \(1, 5\)",
        ),
        (lambda: LSTM(3, 5)(mg.zeros(4, 2, 3), mg.zeros(1, 2, 5)), ValueError, r"LSTM: hx must be a tuple"),
        (lambda: RNN(3, 5)(mg.zeros(0, 2, 3)), ValueError, r"RNN: the sequence is empty"),
        (lambda: RNN(3, 5, nonlinearity="sigmoid"), ValueError, r"RNN: nonlinearity .*'sigmoid'"),
        (lambda: RNNCell(3, 5, nonlinearity="gelu"), ValueError, r"RNNCell: nonlinearity .*'gelu'"),
        (lambda: GRU(3, 5, num_layers=0), ValueError, r"GRU: num_layers must be a positive int, got 0"),
        (lambda: GRU(3, 5, num_layers=2, dropout=1.5), ValueError, r"GRU: dropout .* got 1.5"),
        (lambda: LSTMCell(3, 4)(mg.zeros(2, 4)), ValueError, r"LSTMCell: .*input_size=3.*\(2, 4\)"),
        (
            lambda: GRUCell(3, 4)(mg.zeros(2, 3), mg.zeros(3, 4)),
            ValueError,
            r"GRUCell: h_0 must have shape \(2, 4\), got \(3, 4\)",
        ),
        (
            lambda: RNNCell(3, 4)(mg.zeros(3), mg.zeros(1, 4)),
            ValueError,
            r"RNNCell: h_0 must have shape \(4,\), got \(1, 4\)",
        ),
    ],
)
def test_errors_name_the_module_and_the_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_repr_shows_the_options_that_differ_from_the_defaults():
    assert (
        repr(LSTM(3, 5, num_layers=2, bidirectional=True)) == "LSTM(3, 5, num_layers=2, bidirectional=True)"
    )
    assert repr(GRU(3, 5, bias=False, batch_first=True)) == "GRU(3, 5, bias=False, batch_first=True)"
    assert repr(RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity=relu)"
    assert repr(LSTMCell(3, 4, bias=False)) == "LSTMCell(3, 4, bias=False)"
