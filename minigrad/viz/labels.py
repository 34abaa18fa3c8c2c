"""How one tensor, op or scope looks: labels, tooltips and colours.

Labels are Graphviz HTML-like labels. Everything that comes from the user (tensor
names, module labels) goes through :func:`escape`, so a name like ``<a|"b">`` is shown
as typed instead of breaking the DOT text; tooltips go through :func:`plain`. Label
text is kept to ASCII and set in Helvetica and Courier, fonts that graphviz-pure
measures correctly, so boxes fit their text.

The node functions return the Graphviz attributes of one node (``label``,
``tooltip``, ``fillcolor``, ...) as a dict.
"""

from __future__ import annotations

import html
import inspect
import re
from collections import Counter
from collections.abc import Sequence

import graphviz
import numpy as np

from minigrad.engine import Op, Scope
from minigrad.tensor import Tensor

FONT = "Helvetica"
VALUE_FONT = "Courier"

# Tensors of at most this many elements show their values; larger ones a summary.
MAX_SHOWN_VALUES = 16

# ---- colours -------------------------------------------------------------------------

FORWARD_OP = "#eef2f7"
LEAF = "#cfe2f3"
CONSTANT = "#eeeeee"
OUTPUT = "#d9ead3"
GRADIENT = "#fce5cd"
GRADIENT_BORDER = "#e69138"
GRADIENT_TEXT = "#a61c00"
NOTE_TEXT = "#555555"
MODULE_CLUSTER = ("#f4f7fb", "#6d85a8")
# Composites nested in composites get darker: batch_norm, then var, then mean.
COMPOSITE_CLUSTERS = ("#fdf8e4", "#f7edc8", "#f0e2ad")
COMPOSITE_BORDER = "#b8962e"
# Backward ops get one colour per kind of forward op they differentiate.
BACKWARD_PALETTE = (
    "#f4cccc",
    "#b4c7e7",
    "#cde8c4",
    "#d9d2e9",
    "#b6e3e0",
    "#f7c6e6",
    "#e2f0b6",
    "#e8d3b9",
    "#c9c9f0",
)


def backward_key(op: Op) -> str:
    """What a backward op's colour follows: the forward op it differentiates, or, for
    the add that sums a value's gradients over its uses, that role."""
    return "sum of uses" if getattr(op, "sums_gradients", False) else op.grad_of.name


def backward_fill(forward_name: str, assigned: dict[str, str]) -> str:
    """The fill of the backward ops of ``forward_name``: the next palette colour for a new name."""
    return assigned.setdefault(forward_name, BACKWARD_PALETTE[len(assigned) % len(BACKWARD_PALETTE)])


GRAPH_ATTRIBUTES = {
    "rankdir": "TB",
    "fontname": FONT,
    "fontsize": "11",
    "nodesep": "0.2",
    "ranksep": "0.3",
    "tooltip": " ",
}
NODE_ATTRIBUTES = {
    "fontname": FONT,
    "fontsize": "10",
    "shape": "box",
    "style": "rounded,filled",
    "margin": "0.08,0.03",
    "height": "0.3",
    "color": "#4a5a70",
}
EDGE_ATTRIBUTES = {"arrowsize": "0.6", "color": "#666666"}

FORWARD_CAPTION = (
    "Forward graph. Blue: leaves that require grad (.grad in red); grey: constants;",
    "green: the output. Boxes: module and composite calls.",
    "In the SVG, hover over an op for its derivative rule.",
)
BACKWARD_CAPTION = (
    "Backward graph: the primitive ops that compute each dL/d(leaf). An op marked",
    "div' is part of the backward of div; colours tell the forward ops apart.",
    "Dashed: forward values the rules read. In the SVG, hover for the rules.",
)

# ---- text ------------------------------------------------------------------------------


def escape(text: object) -> str:
    """``text`` made safe inside an HTML-like label: ``&``, ``<``, ``>`` and quotes escaped."""
    return html.escape(_printable(str(text)), quote=True)


def plain(text: str) -> str:
    """``text`` as a plain-text attribute (a tooltip): never read as HTML or as ``\\n`` codes."""
    return graphviz.escape(_printable(text))


# Control characters that XML, and so SVG, does not allow at all (tab and newlines it does).
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _printable(text: str) -> str:
    """``text`` with each control character XML forbids written out as ``\\x0c``."""
    return _NOT_IN_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def derivative_rule(op: Op) -> str:
    """The op's docstring, which states its derivative."""
    return inspect.cleandoc(type(op).__doc__ or op.name)


def scope_path(scopes: Sequence[Scope]) -> str:
    """``batch_norm › var › mean``: where an op was made, for tooltips."""
    return " › ".join(scope.label for scope in scopes) or "the top level"


def describe(tensor: Tensor) -> str:
    """``(4, 3) float32``."""
    return f"{tuple(tensor.shape)} {tensor.dtype}"


def value_lines(array: np.ndarray) -> list[str]:
    """Small arrays in full, row by row; larger ones as their mean and standard deviation."""
    if array.size <= MAX_SHOWN_VALUES:
        return np.array2string(array, precision=3, suppress_small=True, max_line_width=48).splitlines()
    return [f"mean {array.mean():.3g}  std {array.std():.3g}"]


def is_scalar_constant(tensor: Tensor) -> bool:
    """A one-value constant (the 4 in ``x / 4``): shown inside its op's label, not as a node."""
    return tensor.op is None and not tensor.requires_grad and tensor.size == 1


def constants_text(op: Op) -> str:
    """`` b=4``: the op's one-value constant inputs, named by position as in the docstrings."""
    return "".join(
        f" {_input_name(position)}={tensor.data.item():g}"
        for position, tensor in enumerate(op.inputs)
        if is_scalar_constant(tensor)
    )


def _input_name(position: int) -> str:
    return chr(ord("a") + position) if position < 26 else f"input{position}"


def _small(text: str, color: str = NOTE_TEXT, face: str = FONT) -> str:
    return f'<font point-size="8" color="{color}" face="{face}">{text}</font>'


def caption(lines: Sequence[str]) -> str:
    """A few lines of explanation under the graph."""
    body = "".join(escape(line) + '<br align="left"/>' for line in lines)
    return f"<{_small(body)}>"


# ---- nodes -----------------------------------------------------------------------------


def _values_row(array: np.ndarray, prefix: str, color: str) -> str:
    lines = value_lines(array)
    lines[0] = prefix + lines[0]
    body = "<br/>".join(escape(line) for line in lines)
    return f'<tr><td align="left" balign="left">{_small(body, color, VALUE_FONT)}</td></tr>'


def tensor_node(
    title: str, tensor: Tensor, fill: str, values: bool, grad: Tensor | None = None
) -> dict[str, str]:
    """A box with a tensor's title, shape and dtype, and optionally values and gradient."""
    rows = [
        f"<tr><td><b>{escape(title)}</b></td></tr>",
        f"<tr><td>{_small(escape(describe(tensor)))}</td></tr>",
    ]
    if values:
        rows.append(_values_row(tensor.data, "", "black"))
    if grad is not None:
        rows.append(_values_row(grad.data, "grad ", GRADIENT_TEXT))
    table = "".join(rows)
    node = {
        "label": f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">{table}</table>>',
        "fillcolor": fill,
        "tooltip": plain(f"{title} {describe(tensor)}"),
    }
    if fill == GRADIENT:
        node["color"] = GRADIENT_BORDER
    return node


def _op_label(name: str, constants: str, note: str) -> str:
    """``div b=4`` in bold over a small note such as the result's shape."""
    return f"<<b>{escape(name)}</b>{escape(constants)}<br/>{_small(escape(note))}>"


def forward_op_node(op: Op, result: Tensor) -> dict[str, str]:
    """A forward op: its name and result shape; its derivative rule as the tooltip."""
    return {
        "label": _op_label(op.name, constants_text(op), str(tuple(result.shape))),
        "fillcolor": FORWARD_OP,
        "tooltip": plain(f"{derivative_rule(op)}\n\nin {scope_path(op.scope)}; result {describe(result)}"),
    }


def backward_op_node(op: Op, result: Tensor, fill: str) -> dict[str, str]:
    """An op made by a backward rule, marked with the forward op it differentiates."""
    forward = op.grad_of
    if backward_key(op) == "sum of uses":
        return {
            "label": _op_label(op.name, "", f"sum of uses {tuple(result.shape)}"),
            "fillcolor": fill,
            "tooltip": plain(
                f"add: a value used in several places gets the sum of the gradients of its "
                f"uses (the multivariate chain rule); in {scope_path(op.scope)}; result {describe(result)}"
            ),
        }
    return {
        "label": _op_label(op.name, constants_text(op), f"{forward.name}' {tuple(result.shape)}"),
        "fillcolor": fill,
        "tooltip": plain(
            f"{op.name}, part of the backward of {forward.name} in {scope_path(op.scope)}; "
            f"result {describe(result)}\n\n"
            f"the rule being applied:\n{derivative_rule(forward)}\n\n"
            f"{op.name} itself:\n{derivative_rule(op)}"
        ),
    }


def saved_value_node(op: Op, result: Tensor) -> dict[str, str]:
    """A forward result that a backward rule reads (kept from the forward pass)."""
    return {
        "label": _op_label(op.name, "", f"forward {tuple(result.shape)}"),
        "style": "rounded,dashed",
        "tooltip": plain(
            f"the result of the forward {op.name} in {scope_path(op.scope)}, "
            f"{describe(result)}, kept for the backward pass"
        ),
    }


# ---- scopes ----------------------------------------------------------------------------


def _scope_colours(scope: Scope, composites_outside: int) -> tuple[str, str]:
    if scope.kind == "module":
        return MODULE_CLUSTER
    return COMPOSITE_CLUSTERS[composites_outside % len(COMPOSITE_CLUSTERS)], COMPOSITE_BORDER


def collapsed_node(
    scope: Scope, composites_outside: int, op_names: Sequence[str], backward: bool
) -> dict[str, str]:
    """A whole module or composite call drawn as one box, with a count of its ops."""
    counts = Counter(op_names)
    listing = ", ".join(f"{name} x{count}" if count > 1 else name for name, count in counts.items())
    fill, border = _scope_colours(scope, composites_outside)
    what = "backward ops" if backward else "ops"
    return {
        "label": f"<<b>{escape(scope.label)}</b><br/>{_small(f'{len(op_names)} {what}')}>",
        "style": "rounded,filled,bold",
        "peripheries": "2",
        "fillcolor": fill,
        "color": border,
        "tooltip": plain(f"{scope.label} ({scope.kind}), collapsed: {listing}"),
    }


def cluster_attributes(scope: Scope, composites_outside: int) -> dict[str, str]:
    """The box around the ops of one module or composite call."""
    fill, border = _scope_colours(scope, composites_outside)
    return {
        "label": f"<<b>{escape(scope.label)}</b>>",
        "style": "rounded,filled",
        "fillcolor": fill,
        "color": border,
        "labeljust": "l",
        "labelloc": "t",
        "tooltip": plain(f"{scope.label} ({scope.kind})"),
    }
