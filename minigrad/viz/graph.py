"""Walking a recorded graph, and drawing it with scopes as nested boxes.

:func:`walk` lists the tensors an output was computed from. A :class:`Drawing` holds
the nodes and edges to draw, each node with the scopes (module and composite calls)
it belongs to. :meth:`Drawing.to_digraph` turns it into Graphviz: a cluster for each
scope, nested as the calls were, and every scope nested deeper than ``depth``
collapsed into one node that keeps the edges crossing its border.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from minigrad.autograd import dependency_order
from minigrad.engine import Scope
from minigrad.nn import Parameter
from minigrad.tensor import Tensor
from minigrad.viz import labels
from minigrad.viz.render import Graph


def recorded(tensor: Tensor) -> bool:
    """Whether ``tensor`` was made by a recorded op (rather than being a leaf)."""
    return tensor.op is not None


def walk(roots: Sequence[Tensor], expand: Callable[[Tensor], bool]) -> list[Tensor]:
    """Every tensor the roots were computed from, each listed before the tensors made from it.

    Only the inputs of tensors for which ``expand`` is true are followed.
    """
    return dependency_order(roots, lambda tensor: tensor.op.inputs if expand(tensor) else ())


def leaf_titles(order: Sequence[Tensor]) -> dict[int, str]:
    """What each leaf is called: its name, else ``leaf 1``, ``leaf 2``, ... or ``constant``."""
    titles: dict[int, str] = {}
    unnamed = 0
    for tensor in order:
        if tensor.op is not None:
            continue
        if tensor.name is None and tensor.requires_grad:
            unnamed += 1
        titles[id(tensor)] = tensor.name or (f"leaf {unnamed}" if tensor.requires_grad else "constant")
    return titles


def leaf_scopes(order: Sequence[Tensor], expanded: Callable[[Tensor], bool]) -> dict[int, tuple[Scope, ...]]:
    """Where each leaf is drawn.

    A parameter goes into the innermost module that all the ops using it share (so
    ``1.weight`` sits in the ``1: BatchNorm1d`` box); anything else at the top level.
    """
    users: dict[int, list[tuple[Scope, ...]]] = defaultdict(list)
    for tensor in order:
        if expanded(tensor):
            for input_tensor in tensor.op.inputs:
                users[id(input_tensor)].append(tensor.op.scope)
    scopes = {}
    for tensor in order:
        if isinstance(tensor, Parameter) and users[id(tensor)]:
            shared = _common_prefix(users[id(tensor)])
            modules = [position for position, scope in enumerate(shared) if scope.kind == "module"]
            scopes[id(tensor)] = shared[: modules[-1] + 1] if modules else ()
        elif tensor.op is None:
            scopes[id(tensor)] = ()
    return scopes


def _common_prefix(paths: Sequence[tuple[Scope, ...]]) -> tuple[Scope, ...]:
    shortest = min(paths, key=len)
    for position, scope in enumerate(shortest):
        if any(path[position] is not scope for path in paths):
            return shortest[:position]
    return shortest


@dataclass
class Node:
    """One node to draw: its Graphviz attributes and the scopes it belongs to."""

    attributes: dict[str, str]
    scope: tuple[Scope, ...] = ()
    op_name: str | None = None  # counted in the summary of a collapsed scope
    reads_forward: bool = False  # a forward value read by the backward pass: dashed edges out


class Drawing:
    """Nodes and edges to draw, keyed by node id; ``backward`` says which graph it is."""

    def __init__(self, backward: bool) -> None:
        self.backward = backward
        self.nodes: dict[str, Node] = {}
        self.edges: list[tuple[str, str]] = []

    def add_op(self, key: str, node: Node, inputs: Sequence[Tensor], ids: dict[int, str]) -> None:
        """Add an op's node, with an edge from each input (one-value constants are in its label)."""
        self.nodes[key] = node
        self.edges += [(ids[id(source)], key) for source in inputs if not labels.is_scalar_constant(source)]

    def to_digraph(self, depth: int | None, caller: str) -> Graph:
        """The Graphviz graph, with scopes nested deeper than ``depth`` collapsed.

        ``depth=None`` draws every op; ``depth=0`` collapses each top-level scope into
        one node; ``depth=1`` keeps the top-level boxes and collapses what is inside
        them, and so on. A collapsed scope keeps the edges that cross its border.
        """
        if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 0):
            raise ValueError(f"{caller}: depth must be None or a whole number >= 0, got {depth!r}")
        layout = _Layout()
        drawn_as: dict[str, str] = {}
        hidden_ops: dict[Scope, list[str]] = defaultdict(list)
        for key, node in self.nodes.items():
            open_scopes = node.scope if depth is None else node.scope[:depth]
            layout.open(open_scopes)
            if len(open_scopes) == len(node.scope):
                drawn_as[key] = key
                layout.attributes[key] = node.attributes
            else:
                hidden = node.scope[len(open_scopes)]
                if hidden not in layout.collapsed:
                    layout.collapsed[hidden] = (f"scope{len(layout.collapsed)}", _composites(open_scopes))
                drawn_as[key] = layout.collapsed[hidden][0]
                if node.op_name is not None:
                    hidden_ops[hidden].append(node.op_name)
            layout.contents[open_scopes[-1] if open_scopes else None][drawn_as[key]] = None
        for scope, (drawn_id, composites_outside) in layout.collapsed.items():
            layout.attributes[drawn_id] = labels.collapsed_node(
                scope, composites_outside, hidden_ops[scope], self.backward
            )
        graph = Graph(
            graph_attr=labels.GRAPH_ATTRIBUTES,
            node_attr=labels.NODE_ATTRIBUTES,
            edge_attr=labels.EDGE_ATTRIBUTES,
        )
        layout.fill(graph, None, ())
        drawn_edges: set[tuple[str, str, bool]] = set()
        for tail, head in self.edges:
            edge = (drawn_as[tail], drawn_as[head], self.nodes[tail].reads_forward)
            # x * x keeps its two edges; many edges into one collapsed box become one.
            if edge[0] == edge[1] or (edge[:2] != (tail, head) and edge in drawn_edges):
                continue
            drawn_edges.add(edge)
            graph.edge(edge[0], edge[1], style="dashed" if edge[2] else None)
        # Set last: clusters inherit the graph attributes set before them.
        caption = labels.BACKWARD_CAPTION if self.backward else labels.FORWARD_CAPTION
        graph.attr(label=labels.caption(caption), labelloc="b", labeljust="l")
        return graph


def _composites(scopes: Sequence[Scope]) -> int:
    return sum(scope.kind != "module" for scope in scopes)


class _Layout:
    """Which nodes go in which cluster, and how the clusters nest."""

    def __init__(self) -> None:
        self.attributes: dict[str, dict[str, str]] = {}
        # A collapsed scope -> the id of its node, and how many composites it is in.
        self.collapsed: dict[Scope, tuple[str, int]] = {}
        # Dicts used as ordered sets; None is the top level.
        self.contents: dict[Scope | None, dict[str, None]] = defaultdict(dict)
        self.children: dict[Scope | None, dict[Scope, None]] = defaultdict(dict)
        self.cluster_names: dict[Scope, str] = {}

    def open(self, scopes: tuple[Scope, ...]) -> None:
        """Make sure each of ``scopes`` is a cluster inside the one before it."""
        for outer, inner in zip((None, *scopes), scopes):
            self.children[outer][inner] = None
            self.cluster_names.setdefault(inner, f"cluster_{len(self.cluster_names)}")

    def fill(self, graph: Graph, scope: Scope | None, path: tuple[Scope, ...]) -> None:
        """Add the nodes directly in ``scope`` (reached through ``path``), then its inner clusters."""
        for drawn_id in self.contents[scope]:
            graph.node(drawn_id, **self.attributes[drawn_id])
        for inner in self.children[scope]:
            with graph.subgraph(name=self.cluster_names[inner]) as cluster:
                cluster.attr(**labels.cluster_attributes(inner, _composites(path)))
                self.fill(cluster, inner, (*path, inner))
