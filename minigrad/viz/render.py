"""Finding a Graphviz ``dot`` to render with, and rendering to files.

The :mod:`graphviz` package only writes DOT text; turning it into SVG or PNG needs a
``dot`` executable. minigrad looks for one when a graph is rendered (not at import),
in this order:

1. the ``MINIGRAD_DOT`` environment variable (a path or a command name);
2. a system Graphviz ``dot`` on the PATH;
3. ``graphviz-pure``, a self-contained ``dot`` installed by ``pip install graphviz-pure``
   (minigrad's ``viz`` extra includes it), next to the running Python or on the PATH.

The one found is handed to the graphviz package through
``graphviz.backend.dot_command.DOT_BINARY``, the module global its commands are built
from. graphviz-pure writes SVG and PNG but not PDF.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import graphviz
from graphviz.backend import dot_command

ENVIRONMENT_VARIABLE = "MINIGRAD_DOT"

HOW_TO_GET_ONE = (
    "Install one with `pip install graphviz-pure` (minigrad's `viz` extra includes it), "
    "or install system Graphviz (https://graphviz.org/download/), or set "
    f"{ENVIRONMENT_VARIABLE} to the path of a `dot` executable. "
    "The graph's DOT text is still available as `graph.source`."
)


class RendererNotFoundError(RuntimeError):
    """No Graphviz ``dot`` was found to turn a graph into SVG or PNG."""


def find_dot() -> Path:
    """The ``dot`` executable minigrad renders with.

    Returns
    -------
    Path
        ``MINIGRAD_DOT`` if set, else a system ``dot``, else ``graphviz-pure``.

    Raises
    ------
    RendererNotFoundError
        If ``MINIGRAD_DOT`` names nothing executable, or no renderer is installed.
    """
    configured = os.environ.get(ENVIRONMENT_VARIABLE)
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise RendererNotFoundError(
                f"{ENVIRONMENT_VARIABLE}={configured!r} is not an executable. Point it at a "
                f"Graphviz `dot` (or graphviz-pure), or unset it to use the one installed"
            )
        return Path(found)
    found = (
        shutil.which("dot")
        or shutil.which("graphviz-pure", path=str(Path(sys.executable).parent))
        or shutil.which("graphviz-pure")
    )
    if found is None:
        raise RendererNotFoundError(f"No Graphviz renderer was found to draw the graph. {HOW_TO_GET_ONE}")
    return Path(found)


def use_dot() -> Path:
    """Point the graphviz package at :func:`find_dot`'s executable, and return it."""
    dot = find_dot()
    dot_command.DOT_BINARY = dot
    return dot


class Graph(graphviz.Digraph):
    """A :class:`graphviz.Digraph` that finds its renderer when it is rendered.

    ``graph.pipe(format="svg")``, ``graph.render(...)`` and the display in a notebook
    work with graphviz-pure as well as with a system Graphviz, and say how to install
    a renderer when there is none.
    """

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        use_dot()
        return super().pipe(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> Any:
        use_dot()
        return super().render(*args, **kwargs)


def render(
    graph: graphviz.Digraph, path: str | os.PathLike, formats: Iterable[str] = ("svg", "png")
) -> list[Path]:
    """Write ``graph`` to ``path`` with each suffix in ``formats`` (``g.svg``, ``g.png``).

    Parameters
    ----------
    graph : graphviz.Digraph
        A graph from :func:`~minigrad.viz.draw_graph`, :func:`~minigrad.viz.draw_backward`
        or any other source.
    path : str or PathLike
        The file name without suffix; its folder is created if needed.
    formats : str or iterable of str
        Output formats understood by ``dot`` (graphviz-pure: ``svg``, ``png``, ...).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    RendererNotFoundError
        If no renderer is installed; the message says how to get one.
    """
    use_dot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for output_format in [formats] if isinstance(formats, str) else formats:  # "svg" is one format
        target = path.with_name(f"{path.name}.{output_format}")
        target.write_bytes(graph.pipe(format=output_format))
        written.append(target)
    return written
