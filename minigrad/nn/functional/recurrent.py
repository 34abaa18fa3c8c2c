"""One time step of a recurrent network: the cells of RNN, LSTM and GRU, composed.

A recurrent layer reads a sequence one step at a time, and carries a hidden state
``h`` from each step to the next. Each function here is one step, as PyTorch's
``torch.rnn_tanh_cell``, ``torch.lstm_cell`` and ``torch.gru_cell``: two linear maps
(of the input and of the previous state), gates made of sigmoid and tanh, and
elementwise products. A layer calls its cell once per time step, so the gradient of
a whole sequence, backpropagation through time, is the chain rule through those
steps, one box per step in a drawing. There is no backward code here.

The weights have PyTorch's shapes: ``w_ih`` (G * H, I) and ``w_hh`` (G * H, H), the
G gates stacked, H the hidden size and I the input size; the biases (G * H,).
``input`` is (N, I) and the states (N, H), or one sample, (I,) and (H,). An LSTM
with a projection (``w_hr``, (P, H)) has a smaller h, (N, P), so its ``w_hh`` is
(4 * H, P); its memory c stays (N, H).
"""

from __future__ import annotations

from minigrad import ops
from minigrad.composite import chunk
from minigrad.engine import composite
from minigrad.nn.functional.layers import linear
from minigrad.tensor import Tensor


@composite
def rnn_tanh_cell(
    input: Tensor,
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """The Elman cell: ``h' = tanh(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)``."""
    return ops.tanh(_both_maps(input, hx, w_ih, w_hh, b_ih, b_hh))


@composite
def rnn_relu_cell(
    input: Tensor,
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """The Elman cell with ReLU: ``h' = relu(input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh)``."""
    return ops.relu(_both_maps(input, hx, w_ih, w_hh, b_ih, b_hh))


def _both_maps(
    input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None
) -> Tensor:
    """The input's linear map plus the state's: what an Elman cell's nonlinearity and an LSTM's gates take."""
    return linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)


@composite
def lstm_cell(
    input: Tensor,
    hx: tuple[Tensor, Tensor],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    w_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """The long short-term memory cell (Hochreiter & Schmidhuber, 1997): ``(h', c')`` from ``hx = (h, c)``.

    The four gates are stacked in PyTorch's order, input, forget, cell, output::

        i, f, g, o = chunk(input @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4)
        c' = sigmoid(f) * c + sigmoid(i) * tanh(g)      forget some memory, write some
        h' = sigmoid(o) * tanh(c')                      read some of it out
        h' = h' @ w_hr.T                                only with a projection w_hr

    The memory ``c`` passes from step to step through a product and a sum only, so its
    gradient is not squashed by a tanh at every step, as a plain RNN's is.

    A projection ``w_hr`` (P, H), P < H, is the "LSTM with projections" of Sak et al.
    (2014), PyTorch's ``proj_size``: the state h, which the next step reads and a
    layer outputs, shrinks to P features while the memory c keeps H, so ``w_hh`` is
    (4 * H, P), smaller by a factor H / P.
    """
    h, c = hx
    gates = _both_maps(input, h, w_ih, w_hh, b_ih, b_hh)
    input_gate, forget_gate, cell_gate, output_gate = chunk(gates, 4, axis=-1)
    c_next = ops.sigmoid(forget_gate) * c + ops.sigmoid(input_gate) * ops.tanh(cell_gate)
    h_next = ops.sigmoid(output_gate) * ops.tanh(c_next)
    if w_hr is not None:
        h_next = linear(h_next, w_hr)
    return h_next, c_next


@composite
def gru_cell(
    input: Tensor,
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """The gated recurrent unit (Cho et al., 2014), in PyTorch's form: the new state ``h'``.

    Three gates in PyTorch's order, reset, update, new; the reset gate scales the
    state's part of the candidate *after* its linear map (bias included)::

        x_r, x_z, x_n = chunk(input @ w_ih.T + b_ih, 3)
        h_r, h_z, h_n = chunk(hx @ w_hh.T + b_hh, 3)
        r  = sigmoid(x_r + h_r)
        z  = sigmoid(x_z + h_z)
        n  = tanh(x_n + r * h_n)
        h' = (1 - z) * n + z * hx       keep the old state where z is near 1
    """
    input_reset, input_update, input_new = chunk(linear(input, w_ih, b_ih), 3, axis=-1)
    state_reset, state_update, state_new = chunk(linear(hx, w_hh, b_hh), 3, axis=-1)
    reset = ops.sigmoid(input_reset + state_reset)
    update = ops.sigmoid(input_update + state_update)
    new = ops.tanh(input_new + reset * state_new)
    return (1 - update) * new + update * hx
