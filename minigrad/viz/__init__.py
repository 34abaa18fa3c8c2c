"""Drawing minigrad's graphs with Graphviz: the forward graph and the backward graph.

>>> from minigrad import viz
>>> g = viz.draw_graph(loss, depth=1)       # doctest: +SKIP
>>> g = viz.draw_backward(loss)             # doctest: +SKIP
>>> viz.render(g, "docs/images/loss")       # doctest: +SKIP

Both return a :class:`graphviz.Digraph`. Rendering it (``g.pipe``, ``g.render``,
:func:`render`, or showing it in a notebook) uses ``MINIGRAD_DOT``, a system Graphviz
or the pip-installable ``graphviz-pure``, found when it is needed.
"""

from minigrad.viz.backward import draw_backward
from minigrad.viz.forward import draw_graph
from minigrad.viz.render import Graph, RendererNotFoundError, find_dot, render

__all__ = ["Graph", "RendererNotFoundError", "draw_backward", "draw_graph", "find_dot", "render"]
