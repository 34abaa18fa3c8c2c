"""LSTM with projections (``proj_size``): values against a numpy loop, gradients, PyTorch's layout."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_gradcheck, parameters_replaced, random_array
from test_recurrent import reference_step

import minigrad as mg
from minigrad.nn.functional.recurrent import lstm_cell
from minigrad.nn.recurrent import LSTM

# ---- a numpy reference: PyTorch's documented equations, h projected at every step ----------------


def reference_projected_lstm(x, h0, c0, parameters, num_layers, directions):
    """``(output, h_n, c_n)`` for x (L, N, I), h0 (num_layers * D, N, P) and c0 (num_layers * D, N, H)."""
    sequence, h_finals, c_finals = x, [], []
    for layer in range(num_layers):
        outputs = []
        for direction in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            weights = [
                parameters.get(name + suffix) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            ]
            row = layer * directions + direction
            h, c = h0[row], c0[row]
            hidden = [None] * len(sequence)
            times = range(len(sequence))
            for time in reversed(times) if direction else times:
                h, c = reference_step("LSTM", sequence[time], [h, c], *weights)
                h = h @ parameters["weight_hr" + suffix].T
                hidden[time] = h
            outputs.append(np.stack(hidden))
            h_finals.append(h)
            c_finals.append(c)
        sequence = np.concatenate(outputs, axis=-1)
    return sequence, np.stack(h_finals), np.stack(c_finals)


def as_tensors(*arrays):
    return [mg.tensor(array, requires_grad=True) for array in arrays]


# ---- values and shapes -----------------------------------------------------------------------------


@pytest.mark.parametrize("num_layers", [1, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("give_hx", [False, True])
@pytest.mark.parametrize("bias", [False, True])
def test_projected_lstm_matches_the_numpy_loop(num_layers, bidirectional, batch_first, give_hx, bias):
    directions = 2 if bidirectional else 1
    module = LSTM(
        3,
        5,
        num_layers,
        bias=bias,
        batch_first=batch_first,
        bidirectional=bidirectional,
        proj_size=2,
        dtype=np.float64,
    )
    x = random_array(4, 2, 3, seed=1)  # time first, as the reference
    h0 = random_array(num_layers * directions, 2, 2, seed=2) * give_hx
    c0 = random_array(num_layers * directions, 2, 5, seed=3) * give_hx
    expected = reference_projected_lstm(x, h0, c0, module.state_dict(), num_layers, directions)
    given = x.swapaxes(0, 1) if batch_first else x
    output, (h_n, c_n) = module(given, tuple(as_tensors(h0, c0)) if give_hx else None)
    expected_output = expected[0].swapaxes(0, 1) if batch_first else expected[0]
    for actual, wanted in zip((output, h_n, c_n), (expected_output, *expected[1:]), strict=True):
        assert actual.shape == wanted.shape
        np.testing.assert_allclose(actual.data, wanted, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("batch_first", [False, True])
def test_h_and_the_output_have_proj_size_features_and_c_keeps_hidden_size(batch_first):
    module = LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=batch_first, proj_size=2)
    x = mg.zeros(4, 6, 3) if batch_first else mg.zeros(6, 4, 3)  # N = 4, L = 6
    output, (h_n, c_n) = module(x)
    assert output.shape == ((4, 6, 4) if batch_first else (6, 4, 4))  # D * proj_size features
    assert h_n.shape == (4, 4, 2) and c_n.shape == (4, 4, 5)
    output, (h_n, c_n) = module(mg.zeros(6, 3))  # one sequence
    assert output.shape == (6, 4) and h_n.shape == (4, 2) and c_n.shape == (4, 5)


def test_unbatched_input_gives_the_batch_of_one_without_its_batch_axis():
    module = LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=3, dtype=np.float64)
    x, h0, c0 = random_array(5, 3), random_array(4, 3, seed=1), random_array(4, 4, seed=2)
    output, (h, c) = module(x, (h0, c0))
    batched_output, (batched_h, batched_c) = module(x[:, None], (h0[:, None], c0[:, None]))
    np.testing.assert_array_equal(output.data, batched_output.data[:, 0])
    np.testing.assert_array_equal(h.data, batched_h.data[:, 0])
    np.testing.assert_array_equal(c.data, batched_c.data[:, 0])


def test_lstm_cell_projects_h_and_not_c():
    x, h, c = random_array(2, 3), random_array(2, 2, seed=1), random_array(2, 4, seed=2)
    w_ih, w_hh, w_hr = random_array(16, 3, seed=3), random_array(16, 2, seed=4), random_array(2, 4, seed=5)
    h_next, c_next = lstm_cell(x, (h, c), w_ih, w_hh, w_hr=w_hr)
    expected_h, expected_c = reference_step("LSTM", x, [h, c], w_ih, w_hh)
    np.testing.assert_allclose(h_next.data, expected_h @ w_hr.T, rtol=1e-12)
    np.testing.assert_allclose(c_next.data, expected_c, rtol=1e-12)


# ---- gradients ---------------------------------------------------------------------------------------


def test_lstm_cell_with_projection_gradcheck():
    def run(x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr):
        h_next, c_next = lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh, w_hr)
        return (h_next * random_array(2, 2, seed=8)).sum() + (c_next * random_array(2, 4, seed=9)).sum()

    inputs = [random_array(2, 3, seed=1), random_array(2, 2, seed=2), random_array(2, 4, seed=3)]
    weights = [random_array(16, 3, seed=4), random_array(16, 2, seed=5)]
    biases = [random_array(16, seed=6), random_array(16, seed=7)]
    assert_gradcheck(run, *inputs, *weights, *biases, random_array(2, 4, seed=10))


@pytest.mark.parametrize(
    ("num_layers", "bidirectional", "batch_first"), [(2, True, False), (2, True, True), (1, False, True)]
)
def test_projected_layers_gradcheck_in_input_states_and_parameters(num_layers, bidirectional, batch_first):
    module = LSTM(
        2,
        3,
        num_layers,
        batch_first=batch_first,
        bidirectional=bidirectional,
        proj_size=2,
        dtype=np.float64,
    )
    rows = num_layers * (2 if bidirectional else 1)

    def run(x, h0, c0, *parameters):
        with parameters_replaced(module, list(parameters)):
            output, (h_n, c_n) = module(x, (h0, c0))
        total = (output * random_array(*output.shape, seed=8)).sum()
        return total + (h_n * random_array(*h_n.shape, seed=9)).sum() + (c_n * c_n).sum()

    x = random_array(2, 3, 2, seed=1) if batch_first else random_array(3, 2, 2, seed=1)  # N = 2, L = 3
    h0, c0 = random_array(rows, 2, 2, seed=2), random_array(rows, 2, 3, seed=3)
    assert_gradcheck(run, x, h0, c0, *[parameter.data.copy() for parameter in module.parameters()])


# ---- PyTorch's parameters, initialization and repr ---------------------------------------------------


def test_state_dict_keys_and_shapes_are_pytorchs():
    module = LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    # From torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2).state_dict(), PyTorch 2.13.
    assert [(key, value.shape) for key, value in module.state_dict().items()] == [
        ("weight_ih_l0", (20, 3)),
        ("weight_hh_l0", (20, 2)),
        ("bias_ih_l0", (20,)),
        ("bias_hh_l0", (20,)),
        ("weight_hr_l0", (2, 5)),
        ("weight_ih_l0_reverse", (20, 3)),
        ("weight_hh_l0_reverse", (20, 2)),
        ("bias_ih_l0_reverse", (20,)),
        ("bias_hh_l0_reverse", (20,)),
        ("weight_hr_l0_reverse", (2, 5)),
        ("weight_ih_l1", (20, 4)),
        ("weight_hh_l1", (20, 2)),
        ("bias_ih_l1", (20,)),
        ("bias_hh_l1", (20,)),
        ("weight_hr_l1", (2, 5)),
        ("weight_ih_l1_reverse", (20, 4)),
        ("weight_hh_l1_reverse", (20, 2)),
        ("bias_ih_l1_reverse", (20,)),
        ("bias_hh_l1_reverse", (20,)),
        ("weight_hr_l1_reverse", (2, 5)),
    ]
    # From torch.nn.LSTM(4, 6, bias=False, proj_size=3).state_dict().
    assert [
        (key, value.shape) for key, value in LSTM(4, 6, bias=False, proj_size=3).state_dict().items()
    ] == [
        ("weight_ih_l0", (24, 4)),
        ("weight_hh_l0", (24, 3)),
        ("weight_hr_l0", (3, 6)),
    ]


def test_every_parameter_starts_uniform_within_one_over_sqrt_hidden_size():
    mg.manual_seed(0)
    for name, parameter in LSTM(30, 16, num_layers=2, bidirectional=True, proj_size=8).named_parameters():
        assert np.abs(parameter.data).max() <= 0.25, name
        assert np.abs(parameter.data).max() > 0.2 and parameter.data.std() > 0.1, name


def test_a_state_dict_loads_and_the_module_then_computes_with_it():
    source = LSTM(2, 4, num_layers=2, proj_size=3, dtype=np.float64)
    target = LSTM(2, 4, num_layers=2, proj_size=3, dtype=np.float64)
    x = random_array(3, 1, 2)
    target.load_state_dict(source.state_dict())
    np.testing.assert_array_equal(target(x)[0].data, source(x)[0].data)


def test_float32_stays_float32():
    module = LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=1)
    x = mg.tensor(random_array(3, 2, 2).astype(np.float32), requires_grad=True)
    output, (h_n, c_n) = module(x)
    assert output.dtype == h_n.dtype == c_n.dtype == np.float32
    output.sum().backward()
    assert x.grad.dtype == module.weight_hr_l1_reverse.grad.dtype == np.float32


def test_repr_shows_proj_size_where_pytorchs_does():
    assert repr(LSTM(3, 5, num_layers=2, proj_size=2)) == "LSTM(3, 5, proj_size=2, num_layers=2)"
    assert repr(LSTM(3, 5)) == "LSTM(3, 5)"


# ---- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: LSTM(3, 5, proj_size=5), r"LSTM: proj_size must be smaller than hidden_size.*proj_size=5"),
        (lambda: LSTM(3, 5, proj_size=8), r"hidden_size=5; use proj_size < 5, or 0 for none"),
        (lambda: LSTM(3, 5, proj_size=-1), r"LSTM: proj_size must be 0 \(no projection\).*got -1"),
        (lambda: LSTM(3, 5, proj_size=1.5), r"LSTM: proj_size must be 0 \(no projection\).*got 1.5"),
        (
            lambda: LSTM(3, 5, num_layers=2, proj_size=2)(
                mg.zeros(4, 3, 3), (mg.zeros(2, 3, 5), mg.zeros(2, 3, 5))
            ),
            r"LSTM: h_0 must have shape \(2, 3, 2\), got \(2, 3, 5\)",
        ),
        (
            lambda: LSTM(3, 5, proj_size=2)(mg.zeros(4, 3), (mg.zeros(1, 2), mg.zeros(1, 2))),
            r"LSTM: c_0 must have shape \(1, 5\), got \(1, 2\)",
        ),
        (
            lambda: LSTM(3, 5, proj_size=2)(mg.zeros(4, 3), mg.zeros(1, 2)),
            r"LSTM: hx must be a tuple \(h_0, c_0\) of two tensors, of shapes \(1, 2\) and \(1, 5\)",
        ),
    ],
)
def test_errors_name_the_module_and_the_sizes(call, message):
    with pytest.raises(ValueError, match=message):
        call()
