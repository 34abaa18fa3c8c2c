"""draw_backward: the graph that computes the gradients, itself made of primitive ops."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.autograd import _root_grad, grad
from minigrad.tensor import Tensor
from minigrad.viz import labels
from minigrad.viz.graph import Drawing, Node, leaf_scopes, leaf_titles, recorded, walk
from minigrad.viz.render import Graph


def draw_backward(
    tensor: Tensor, grad_output: Any = None, depth: int | None = None, values: bool = True
) -> Graph:
    """Draw the ops that compute the gradients of ``tensor`` with respect to its leaves.

    Backward rules are written in Tensor ops, so running them with
    ``create_graph=True`` records the backward pass as a graph of primitives. It
    starts at ``dL/d(output)`` and ends at one ``dL/d(leaf)`` box per leaf (parameters
    by module path: ``dL/d(1.weight)``). Each backward op is coloured by the forward op
    it differentiates and says so (``mul`` with ``div'`` below it is part of div's
    backward); its tooltip gives the rule. Dashed boxes are forward results that a
    rule reads. Ops sit in the boxes of the module and composite calls they
    differentiate. The leaves' ``.grad`` is not touched.

    Parameters
    ----------
    tensor : Tensor
        The output L to differentiate.
    grad_output : array_like, optional
        The gradient dL/d(output) to start from, of the output's shape; ones by
        default (for a scalar output: dL/dL = 1).
    depth : int, optional
        Collapse scopes nested deeper than ``depth``, as in :func:`draw_graph`.
    values : bool
        Show the values of small leaves and gradients.

    Returns
    -------
    Graph
        A :class:`graphviz.Digraph`.
    """
    if not tensor.requires_grad:
        raise RuntimeError(
            "draw_backward: the tensor does not require grad, so there is no backward graph. "
            "Make the leaves with requires_grad=True (parameters already are) and compute outside mg.no_grad()"
        )
    forward = walk([tensor], recorded)
    # An op made by this backward pass is new. One made by an earlier backward pass
    # (tensor computed from x.grad after backward(create_graph=True)) is part of the
    # forward graph here: a value the new rules read, drawn as such.
    forward_ops = {id(current.op) for current in forward if current.op is not None}

    def made_by_this_backward(current: Tensor) -> bool:
        op = current.op
        return op is not None and op.grad_of is not None and id(op) not in forward_ops

    titles = leaf_titles(forward)
    # A backward rule may read a leaf through an unrecorded view (matmul's rule reads
    # x transposed): such a view shares the leaf's memory, and is called after it.
    titles_by_memory = {
        id(_memory_of(leaf)): f"{titles[id(leaf)]} (view)" for leaf in forward if leaf.op is None
    }
    seed, results = _record_backward(
        tensor, grad_output, [leaf for leaf in forward if leaf.op is None and leaf.requires_grad]
    )

    order = walk([leaf_grad for _, leaf_grad in results], made_by_this_backward)
    ids = {id(current): f"n{position}" for position, current in enumerate(order)}
    scopes = leaf_scopes(order, made_by_this_backward)
    fills: dict[str, str] = {}
    drawing = Drawing(backward=True)
    for current in order:
        key = ids[id(current)]
        if made_by_this_backward(current):
            fill = labels.backward_fill(labels.backward_key(current.op), fills)
            node = labels.backward_op_node(current.op, current, fill)
            drawing.add_op(key, Node(node, current.op.scope, current.op.name), current.op.inputs, ids)
        elif current.op is not None:
            node = labels.saved_value_node(current.op, current)
            drawing.nodes[key] = Node(node, current.op.scope, reads_forward=True)
        elif current is seed:
            title = f"dL/d({tensor.name or 'output'})"
            drawing.nodes[key] = Node(labels.tensor_node(title, seed, labels.GRADIENT, values))
        elif not labels.is_scalar_constant(current):
            fill = labels.LEAF if current.requires_grad else labels.CONSTANT
            title = titles.get(id(current)) or titles_by_memory.get(id(_memory_of(current)), "constant")
            node = labels.tensor_node(title, current, fill, values)
            drawing.nodes[key] = Node(node, scopes[id(current)], reads_forward=True)
    for position, (leaf, leaf_grad) in enumerate(results):
        title = f"dL/d({titles[id(leaf)]})"
        drawing.nodes[f"grad{position}"] = Node(labels.tensor_node(title, leaf_grad, labels.GRADIENT, values))
        drawing.edges.append((ids[id(leaf_grad)], f"grad{position}"))
    return drawing.to_digraph(depth, "draw_backward")


def _memory_of(tensor: Tensor) -> np.ndarray:
    """The array that owns a tensor's memory (its data, or the array it is a view of)."""
    return tensor.data if tensor.data.base is None else tensor.data.base


def _record_backward(
    tensor: Tensor, grad_output: Any, leaves: list[Tensor]
) -> tuple[Tensor, list[tuple[Tensor, Tensor]]]:
    """Run backward with ``create_graph=True``: the seed dL/d(tensor), and (leaf, dL/d(leaf)) pairs."""
    # ones by default, whatever the output's shape; a given one is checked as backward checks it
    seed_data = (
        np.ones_like(tensor.data)
        if grad_output is None
        else _root_grad(tensor, grad_output, "draw_backward").data
    )
    seed = Tensor(seed_data, requires_grad=True)
    leaf_grads = grad(tensor, leaves, grad_outputs=seed, create_graph=True, allow_unused=True)
    return seed, [(leaf, leaf_grad) for leaf, leaf_grad in zip(leaves, leaf_grads) if leaf_grad is not None]
