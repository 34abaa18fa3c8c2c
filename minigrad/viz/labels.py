"""How one tensor, op or scope looks: labels, tooltips and colours.

Labels are Graphviz HTML-like labels. Everything that comes from the user (tensor
names, module labels) goes through :func:`escape`, so a name like ``<a|"b">`` is shown
as typed instead of breaking the DOT text; tooltips go through :func:`plain`. Label
text is kept to ASCII and set in Helvetica and Courier, the fonts graphviz-pure
measures correctly, so boxes fit their text.

Each function returns the Graphviz attributes of one node (``label``, ``tooltip``,
``fillcolor``, ...) as a dict.
"""

from __future__ import annotations

import html
import inspect
from collections import Counter
from collections.abc import Sequence

import graphviz
import numpy as np

from minigrad.engine import Op, Scope
from minigrad.tensor import Tensor

FONT = "Helvetica"

# Tensors of at most this many elements show their values; larger ones a summary.
MAX_SHOWN_VALUES = 16

FORWARD_OP = "#eef2f7"
PARAMETER = "#cfe2f3"
CONSTANT = "#eeeeee"
OUTPUT = "#d9ead3"
GRADIENT = "#fce5cd"
GRADIENT_TEXT = "#a61c00"
NOTE_TEXT = "#555555"
MODULE_CLUSTER = ("#f4f7fb", "#6d85a8")
COMPOSITE_CLUSTERS = ("#fdf8e4", "#f7edc8", "#f0e2ad")
COMPOSITE_BORDER = "#b8962e"
# Backward ops are filled with one colour per kind of forward op they differentiate.
BACKWARD_PALETTE = (
    "#f4cccc",
    "#c9daf8",
    "#d9ead3",
    "#fce5cd",
    "#d9d2e9",
    "#fff2cc",
    "#d0e0e3",
    "#ead1dc",
    "#e6e6e6",
)


def escape(text: object) -> str:
    """``text`` made safe inside an HTML-like label: ``&``, ``<``, ``>`` and quotes escaped."""
    return html.escape(str(text), quote=True)


def plain(text: str) -> str:
    """``text`` as a plain-text attribute (a tooltip): never read as HTML or as ``\\n`` codes."""
    return graphviz.escape(text)


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


def _small(text: str, color: str = NOTE_TEXT, face: str = FONT) -> str:
    return f'<font point-size="8" color="{color}" face="{face}">{text}</font>'


def _values_cell(array: np.ndarray, prefix: str, color: str) -> str:
    lines = value_lines(array)
    lines[0] = prefix + lines[0]
    body = "<br/>".join(escape(line) for line in lines)
    return f'<tr><td align="left" balign="left">{_small(body, color, "Courier")}</td></tr>'


def tensor_node(
    title: str,
    tensor: Tensor,
    fill: str,
    values: bool,
    grad: Tensor | None = None,
    tooltip: str = "",
) -> dict[str, str]:
    """A box with a tensor's title, shape and dtype, and optionally values and gradient."""
    rows = [f"<tr><td><b>{escape(title)}</b></td></tr>"] if title else []
    rows.append(f"<tr><td>{_small(escape(describe(tensor)))}</td></tr>")
    if values:
        rows.append(_values_cell(tensor.data, "", "black"))
    if grad is not None:
        rows.append(_values_cell(grad.data, "grad ", GRADIENT_TEXT))
    table = "".join(rows)
    return {
        "label": f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">{table}</table>>',
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": fill,
        "tooltip": plain(tooltip or f"{title} {describe(tensor)}".strip()),
    }


def is_scalar_constant(tensor: Tensor) -> bool:
    """A one-value constant (the 4 in ``x / 4``): shown inside its op's label, not as a node."""
    return tensor.op is None and not tensor.requires_grad and tensor.size == 1


def constants_text(op: Op) -> str:
    """`` b=4``: the op's scalar constant inputs, named by position as in the docstrings."""
    return "".join(
        f" {_input_name(position)}={tensor.data.item():g}"
        for position, tensor in enumerate(op.inputs)
        if is_scalar_constant(tensor)
    )


def _input_name(position: int) -> str:
    return chr(ord("a") + position) if position < 26 else f"input{position}"


def op_label(name: str, constants: str, note: str) -> str:
    """``div b=4`` in bold over a small note such as the result's shape."""
    return f"<<b>{escape(name)}</b>{escape(constants)}<br/>{_small(escape(note))}>"


def forward_op_node(op: Op, result: Tensor) -> dict[str, str]:
    """A forward op: its name and result shape; its derivative rule as the tooltip."""
    title = op.name if result.name is None else f"{result.name} = {op.name}"
    return {
        "label": op_label(title, constants_text(op), str(tuple(result.shape))),
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": FORWARD_OP,
        "tooltip": plain(
            f"{derivative_rule(op)}\n\nin {scope_path(op.scope)}; result {describe(result)}"
        ),
    }


def backward_op_node(op: Op, result: Tensor, fill: str) -> dict[str, str]:
    """An op made by a backward rule, labelled and coloured by the forward op it differentiates."""
    forward = op.grad_of
    return {
        "label": op_label(op.name, constants_text(op), f"{forward.name}' {tuple(result.shape)}"),
        "shape": "box",
        "style": "rounded,filled",
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
        "label": op_label(op.name, "", f"forward {tuple(result.shape)}"),
        "shape": "box",
        "style": "rounded,dashed",
        "tooltip": plain(
            f"the result of the forward {op.name} in {scope_path(op.scope)}, "
            f"{describe(result)}, kept for the backward pass"
        ),
    }


def collapsed_node(scope: Scope, op_names: Sequence[str], backward: bool) -> dict[str, str]:
    """A whole module or composite call drawn as one box, with a count of its ops."""
    counts = Counter(op_names)
    listing = ", ".join(f"{name} x{count}" if count > 1 else name for name, count in counts.items())
    what = "backward ops" if backward else "ops"
    fill = MODULE_CLUSTER[0] if scope.kind == "module" else COMPOSITE_CLUSTERS[0]
    border = MODULE_CLUSTER[1] if scope.kind == "module" else COMPOSITE_BORDER
    return {
        "label": f"<<b>{escape(scope.label)}</b><br/>{_small(f'{len(op_names)} {what}')}>",
        "shape": "box",
        "style": "rounded,filled,bold",
        "peripheries": "2",
        "fillcolor": fill,
        "color": border,
        "tooltip": plain(f"{scope.label} ({scope.kind}), collapsed: {listing}"),
    }


def cluster_attributes(scope: Scope, level: int) -> dict[str, str]:
    """The box around one module or composite call; nested composites get darker."""
    if scope.kind == "module":
        fill, border = MODULE_CLUSTER
    else:
        fill, border = COMPOSITE_CLUSTERS[level % len(COMPOSITE_CLUSTERS)], COMPOSITE_BORDER
    return {
        "label": f"<<b>{escape(scope.label)}</b>>",
        "style": "rounded,filled",
        "fillcolor": fill,
        "color": border,
        "labeljust": "l",
        "tooltip": plain(f"{scope.label} ({scope.kind})"),
    }


GRAPH_ATTRIBUTES = {
    "rankdir": "TB",
    "fontname": FONT,
    "fontsize": "11",
    "nodesep": "0.2",
    "ranksep": "0.3",
    "tooltip": " ",
}
NODE_ATTRIBUTES = {"fontname": FONT, "fontsize": "10", "margin": "0.08,0.03", "height": "0.3", "color": "#4a5a70"}
EDGE_ATTRIBUTES = {"arrowsize": "0.6", "color": "#666666"}
