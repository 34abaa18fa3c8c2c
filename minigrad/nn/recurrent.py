"""Recurrent layers and their cells: RNN, LSTM and GRU, with PyTorch's parameters and shapes.

A cell is one time step (see :mod:`minigrad.nn.functional.recurrent`). A layer runs
its cell over a sequence, one step after another, for each of ``num_layers`` stacked
layers and, if bidirectional, once forwards and once backwards in time. The three
kinds differ only in their cell, so one table says what each kind is and one piece of
code runs them all.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from minigrad import ops
from minigrad.composite import stack
from minigrad.creation import zeros
from minigrad.nn import init
from minigrad.nn.functional.layers import dropout as dropout_function
from minigrad.nn.functional.recurrent import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor

States = tuple[Tensor, ...]


def _hidden_only(cell: Callable[..., Tensor]) -> Callable[..., States]:
    """A cell whose state is ``h`` alone, made to take and give its state as a tuple, ``(h,)``."""

    def step(input: Tensor, states: States, *weights: Tensor | None) -> States:
        return (cell(input, states[0], *weights),)

    return step


@dataclass(frozen=True)
class _Kind:
    """What tells one recurrent network from another: its gates, its states, its cell."""

    gates: int  # G: the weights stack G blocks of hidden_size rows
    state_names: tuple[str, ...]  # ("h",) or, for the LSTM, ("h", "c")
    step: Callable[..., States]  # (input, states, *weights) -> the next states
    weight_names: tuple[str, ...] = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")  # what step takes


_KINDS = {
    "RNN_TANH": _Kind(1, ("h",), _hidden_only(rnn_tanh_cell)),
    "RNN_RELU": _Kind(1, ("h",), _hidden_only(rnn_relu_cell)),
    "LSTM": _Kind(4, ("h", "c"), lstm_cell, _Kind.weight_names + ("weight_hr",)),
    "GRU": _Kind(3, ("h",), _hidden_only(gru_cell)),
}


def _rnn_mode(nonlinearity: str, name: str) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{name}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return f"RNN_{nonlinearity.upper()}"


def _weights(module: Module, suffix: str, kind: _Kind) -> list[Tensor | None]:
    """The weights ``kind``'s step takes, named ``weight_ih{suffix}`` and so on, in its order.

    w_ih, w_hh, b_ih, b_hh, and the LSTM's w_hr; None for a bias or a projection the
    module does not have.
    """
    return [getattr(module, f"{name}{suffix}", None) for name in kind.weight_names]


def _add_weights(
    module: Module,
    suffix: str,
    kind: _Kind,
    input_size: int,
    hidden_size: int,
    bias: bool,
    dtype: object,
    proj_size: int = 0,
) -> None:
    """Register one cell's parameters in PyTorch's order, uniform on [-1/sqrt(H), 1/sqrt(H)] as PyTorch's.

    With a projection (``proj_size`` P > 0, the LSTM's only), h has P features, so
    ``weight_hh`` reads P, and ``weight_hr`` (P, H), last, projects the cell's output to h.
    """
    rows = kind.gates * hidden_size
    shapes = {"weight_ih": (rows, input_size), "weight_hh": (rows, proj_size or hidden_size)}
    if bias:
        shapes.update(bias_ih=(rows,), bias_hh=(rows,))
    if proj_size:
        shapes.update(weight_hr=(proj_size, hidden_size))
    bound = 1 / math.sqrt(hidden_size)
    for name, shape in shapes.items():
        setattr(
            module, f"{name}{suffix}", init.uniform_(Parameter(zeros(*shape, dtype=dtype)), -bound, bound)
        )


def _initial_states(
    hx: Any, kind: _Kind, shapes: tuple[tuple[int, ...], ...], dtype: Any, name: str
) -> States:
    """The states given as ``hx`` (h, or the LSTM's (h, c)), each checked to have its shape in ``shapes``.

    Zeros of those shapes if ``hx`` is None.
    """
    count = len(kind.state_names)
    if hx is None:
        return tuple(zeros(*shape, dtype=dtype) for shape in shapes)
    if count == 1:
        given = (hx,)
    elif isinstance(hx, (tuple, list)) and len(hx) == count:
        given = tuple(hx)
    else:
        raise ValueError(
            f"{name}: hx must be a tuple (h_0, c_0) of two tensors, of shapes {shapes[0]} and {shapes[1]}"
        )
    states = tuple(ops._tensor(state) for state in given)
    for state_name, state, shape in zip(kind.state_names, states, shapes):
        if state.shape != shape:
            raise ValueError(f"{name}: {state_name}_0 must have shape {shape}, got {state.shape}")
    return states


def _check_proj_size(proj_size: int, hidden_size: int, name: str) -> None:
    """That ``proj_size`` is 0 (no projection) or an int from 1 to hidden_size - 1, as PyTorch requires."""
    if not isinstance(proj_size, numbers.Integral) or isinstance(proj_size, bool) or proj_size < 0:
        raise ValueError(f"{name}: proj_size must be 0 (no projection) or a positive int, got {proj_size!r}")
    if proj_size >= hidden_size:
        raise ValueError(
            f"{name}: proj_size must be smaller than hidden_size, to project h down, got "
            f"proj_size={proj_size} and hidden_size={hidden_size}; use proj_size < {hidden_size}, or 0 for none"
        )


def _check_input(input: Tensor, ndims: tuple[int, int], layouts: str, input_size: int, name: str) -> None:
    if input.ndim not in ndims:
        raise ValueError(f"{name}: expected input of shape {layouts}, got shape {input.shape}")
    if input.shape[-1] != input_size:
        raise ValueError(
            f"{name}: input must have input_size={input_size} features in its last axis, got shape {input.shape}"
        )


class _CellBase(Module):
    """One time step with parameters ``weight_ih`` (G*H, I), ``weight_hh`` (G*H, H), ``bias_ih``, ``bias_hh``."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool, dtype: object) -> None:
        super().__init__()
        name = type(self).__name__
        ops.check_positive_int(input_size, "input_size", name)
        ops.check_positive_int(hidden_size, "hidden_size", name)
        self.input_size, self.hidden_size, self.bias, self._kind = input_size, hidden_size, bias, _KINDS[mode]
        _add_weights(self, "", self._kind, input_size, hidden_size, bias, dtype)

    def forward(self, input: Any, hx: Any = None) -> Any:
        """The next state from ``input`` (N, input_size) and ``hx`` (N, hidden_size); (I,) and (H,) unbatched."""
        name = type(self).__name__
        input = ops._tensor(input)
        _check_input(input, (1, 2), "(N, input_size), or (input_size,) unbatched", self.input_size, name)
        batched = input.ndim == 2
        shape = (input.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        shapes = (shape,) * len(self._kind.state_names)
        states = _initial_states(hx, self._kind, shapes, self.weight_ih.dtype, name)
        if not batched:
            input, states = input.unsqueeze(0), tuple(state.unsqueeze(0) for state in states)
        states = self._kind.step(input, states, *_weights(self, "", self._kind))
        if not batched:
            states = tuple(state.squeeze(0) for state in states)
        return states if len(states) > 1 else states[0]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """An Elman cell, as PyTorch's: ``h' = tanh(x @ W_ih^T + b_ih + h @ W_hh^T + b_hh)`` (or relu).

    ``cell(input, hx=None)`` returns h'; ``hx`` defaults to zeros. Parameters
    ``weight_ih`` (H, I), ``weight_hh`` (H, H), ``bias_ih`` and ``bias_hh`` (H,), all
    uniform on [-1/sqrt(H), 1/sqrt(H)] as in PyTorch.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        dtype: object = None,
    ) -> None:
        super().__init__(_rnn_mode(nonlinearity, "RNNCell"), input_size, hidden_size, bias, dtype)
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        return super().extra_repr() + (
            "" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity}"
        )


class LSTMCell(_CellBase):
    """A long short-term memory cell, as PyTorch's (see :func:`F.lstm_cell` for the math).

    ``cell(input, hx=None)`` with ``hx = (h, c)`` returns ``(h', c')``; zeros if hx is
    None. Parameters ``weight_ih`` (4H, I), ``weight_hh`` (4H, H), ``bias_ih`` and
    ``bias_hh`` (4H,), the gates stacked in the order input, forget, cell, output.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, dtype: object = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, bias, dtype)


class GRUCell(_CellBase):
    """A gated recurrent unit, as PyTorch's (see :func:`F.gru_cell` for the math).

    ``cell(input, hx=None)`` returns h'. Parameters ``weight_ih`` (3H, I), ``weight_hh``
    (3H, H), ``bias_ih`` and ``bias_hh`` (3H,), the gates stacked in the order reset,
    update, new.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *, dtype: object = None) -> None:
        super().__init__("GRU", input_size, hidden_size, bias, dtype)


class _RNNBase(Module):
    """``num_layers`` layers of one kind of cell, each run over the whole sequence, as PyTorch's.

    Layer k > 0 reads the outputs of layer k - 1 (both directions side by side), after
    dropout in training. The parameters of layer k are ``weight_ih_l{k}``,
    ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}`` (and a projected LSTM's
    ``weight_hr_l{k}``), and for the backward direction the same names ending in
    ``_reverse``.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        bias: bool,
        batch_first: bool,
        dropout: float,
        bidirectional: bool,
        dtype: object,
        proj_size: int = 0,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        for what, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            ops.check_positive_int(value, what, name)
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a probability between 0 and 1, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout is applied between layers, so with num_layers=1 dropout={dropout} "
                f"does nothing; stack layers (num_layers > 1) or use nn.Dropout on the output",
                stacklevel=3,
            )
        _check_proj_size(proj_size, hidden_size, name)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.proj_size = proj_size
        self.bias, self.batch_first, self.dropout, self.bidirectional = (
            bias,
            batch_first,
            dropout,
            bidirectional,
        )
        self._kind = _KINDS[mode]
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else self._h_size * self._directions
            for suffix in self._suffixes(layer):
                _add_weights(self, suffix, self._kind, layer_input, hidden_size, bias, dtype, proj_size)

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _h_size(self) -> int:
        """The features of h, and of each direction's output: proj_size if the LSTM projects, else hidden_size."""
        return self.proj_size or self.hidden_size

    def _suffixes(self, layer: int) -> list[str]:
        """The endings of layer ``layer``'s parameter names: forward in time, then backward."""
        return [f"_l{layer}", f"_l{layer}_reverse"][: self._directions]

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Any]:
        """``(output, h_n)``, or the LSTM's ``(output, (h_n, c_n))``.

        input (L, N, input_size), or (N, L, input_size) with ``batch_first``, or one
        sequence (L, input_size). ``hx``, h_0 (or the LSTM's (h_0, c_0)), has shape
        (num_layers * D, N, hidden_size), or (num_layers * D, hidden_size) for one
        sequence, D = 2 if bidirectional else 1; zeros if None. Row ``k * D + d`` is the
        state of layer k in direction d (0 forward, 1 backward), in hx and in h_n.
        ``output`` (L, N, D * hidden_size), N first with ``batch_first``, holds the last
        layer's h at every step, its two directions side by side. An LSTM with
        ``proj_size`` has proj_size features in place of hidden_size in h_0, h_n and
        ``output``; c_0 and c_n keep hidden_size.
        """
        name = type(self).__name__
        input = ops._tensor(input)
        layout = "(N, L, input_size)" if self.batch_first else "(L, N, input_size)"
        _check_input(input, (2, 3), f"{layout}, or (L, input_size) unbatched", self.input_size, name)
        batched = input.ndim == 3
        if not batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.swapaxes(0, 1)
        if input.shape[0] == 0:
            raise ValueError(
                f"{name}: the sequence is empty (input shape {input.shape}); give at least one step"
            )
        rows = self.num_layers * self._directions
        sizes = (self._h_size, self.hidden_size)[: len(self._kind.state_names)]  # h's, and the LSTM's c's
        shapes = tuple((rows, input.shape[1], size) if batched else (rows, size) for size in sizes)
        states = _initial_states(hx, self._kind, shapes, self.weight_ih_l0.dtype, name)
        if not batched:
            states = tuple(state.unsqueeze(1) for state in states)
        output, finals = self._layers(input, states)
        final_states = tuple(stack(column) for column in zip(*finals))
        if not batched:
            output, final_states = output.squeeze(1), tuple(state.squeeze(1) for state in final_states)
        elif self.batch_first:
            output = output.swapaxes(0, 1)
        return output, final_states if len(final_states) > 1 else final_states[0]

    def _layers(self, sequence: Tensor, states: States) -> tuple[Tensor, list[States]]:
        """The last layer's outputs (L, N, D * h size) and each layer's and direction's final states, in order."""
        finals = []
        for layer in range(self.num_layers):
            if layer > 0:
                sequence = dropout_function(sequence, self.dropout, self.training)
            outputs = []
            for direction, suffix in enumerate(self._suffixes(layer)):
                row = layer * self._directions + direction
                output, final = self._over_time(
                    sequence,
                    tuple(state[row] for state in states),
                    _weights(self, suffix, self._kind),
                    direction == 1,
                )
                outputs.append(output)
                finals.append(final)
            sequence = ops.concatenate(outputs, axis=-1) if len(outputs) > 1 else outputs[0]
        return sequence, finals

    def _over_time(
        self, sequence: Tensor, states: States, weights: list[Tensor | None], backwards: bool
    ) -> tuple[Tensor, States]:
        """The cell run step by step over ``sequence`` (L, N, I): every step's h, (L, N, h size), and the last states."""
        length = sequence.shape[0]
        hidden = [None] * length
        for time in reversed(range(length)) if backwards else range(length):
            states = self._kind.step(sequence[time], states, *weights)
            hidden[time] = states[0]
        return stack(hidden), states

    def extra_repr(self) -> str:
        options = [f"{self.input_size}, {self.hidden_size}"]
        defaults = {
            "proj_size": 0,
            "num_layers": 1,
            "bias": True,
            "batch_first": False,
            "dropout": 0.0,
            "bidirectional": False,
        }
        options += [
            f"{key}={getattr(self, key)}" for key, value in defaults.items() if getattr(self, key) != value
        ]
        return ", ".join(options)


class RNN(_RNNBase):
    """A multi-layer Elman RNN, as PyTorch's: at each step ``h_t = tanh(x_t @ W_ih^T + b_ih + h_{t-1} @ W_hh^T + b_hh)``.

    ``nonlinearity="relu"`` uses relu instead of tanh. ``forward`` gives the shapes;
    layer k's parameters are ``weight_ih_l{k}`` (H, I or D * H), ``weight_hh_l{k}`` (H, H),
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` (H,), and ``..._reverse`` for the backward direction.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        dtype: object = None,
    ) -> None:
        mode = _rnn_mode(nonlinearity, "RNN")
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype
        )
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        return super().extra_repr() + (
            "" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity}"
        )


class LSTM(_RNNBase):
    """A multi-layer LSTM, as PyTorch's: :func:`F.lstm_cell` at each step; ``(output, (h_n, c_n))``.

    Weights (4H, ...), gates in the order input, forget, cell, output. ``proj_size``
    P > 0 (an LSTM with projections, as PyTorch's) projects each step's h down to P < H
    features, ``h_t = (o_t * tanh(c_t)) @ W_hr^T``, with ``weight_hr_l{k}`` (P, H) added
    after each direction's biases: then ``weight_hh_l{k}`` is (4H, P), layers after the
    first read D * P features, and h_0, h_n and the output have P features per direction
    while c_0 and c_n keep H.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        dtype: object = None,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype,
            proj_size,
        )


class GRU(_RNNBase):
    """A multi-layer GRU, as PyTorch's: :func:`F.gru_cell` at each step; ``(output, h_n)``.

    Weights (3H, ...), gates in the order reset, update, new.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        dtype: object = None,
    ) -> None:
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype
        )
