"""draw_graph: the forward graph of a tensor, scopes drawn as nested boxes."""

from __future__ import annotations

from minigrad.tensor import Tensor
from minigrad.viz import labels
from minigrad.viz.graph import Drawing, Node, leaf_scopes, leaf_titles, recorded, walk
from minigrad.viz.render import Graph


def draw_graph(tensor: Tensor, depth: int | None = None, values: bool = True, grads: bool = True) -> Graph:
    """Draw the ops that computed ``tensor``, and the tensors they started from.

    Each op is a small box with its name and result shape (hover over it in an SVG
    for its derivative rule). The leaves are boxes with their name (parameters by
    module path, like ``1.weight``), shape and dtype. Module and composite calls
    (``1: BatchNorm1d`` ⊃ ``batch_norm`` ⊃ ``var`` ⊃ ``mean``) are nested boxes.
    One-value constants are written into their op's label (``div b=4``).

    Parameters
    ----------
    tensor : Tensor
        The output to draw the graph of.
    depth : int, optional
        ``None`` draws every primitive op. ``0`` draws each top-level module or
        composite call as one box; ``1`` opens those and collapses what is nested in
        them; and so on.
    values : bool
        Show the values of small leaves and of the output (a mean and standard
        deviation for larger ones).
    grads : bool
        Show the leaves' ``.grad`` once backward has run.

    Returns
    -------
    Graph
        A :class:`graphviz.Digraph`: ``g.source`` is the DOT text,
        ``g.pipe(format="svg")`` the picture, and :func:`minigrad.viz.render` writes files.

    Examples
    --------
    >>> import minigrad as mg
    >>> from minigrad import nn, viz
    >>> model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    >>> y = model(mg.randn(4, 2))
    >>> viz.draw_graph(y, depth=1)   # doctest: +SKIP
    """
    order = walk([tensor], recorded)
    ids = {id(current): f"n{position}" for position, current in enumerate(order)}
    titles = leaf_titles(order)
    scopes = leaf_scopes(order, recorded)
    drawing = Drawing(backward=False)
    for current in order:
        if current.op is not None:
            node = Node(labels.forward_op_node(current.op, current), current.op.scope, current.op.name)
            drawing.add_op(ids[id(current)], node, current.op.inputs, ids)
        elif current is tensor or not labels.is_scalar_constant(current):
            fill = labels.LEAF if current.requires_grad else labels.CONSTANT
            shown_grad = current.grad if grads else None
            node = labels.tensor_node(titles[id(current)], current, fill, values, shown_grad)
            drawing.nodes[ids[id(current)]] = Node(node, scopes[id(current)])
    if tensor.op is not None:
        title = tensor.name or "output"
        drawing.nodes["output"] = Node(labels.tensor_node(title, tensor, labels.OUTPUT, values))
        drawing.edges.append((ids[id(tensor)], "output"))
    return drawing.to_digraph(depth, "draw_graph")
