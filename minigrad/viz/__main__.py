"""``python -m minigrad.viz batchnorm --out DIR``: the batch-norm graphs, for a lecture or a doc.

For ``nn.BatchNorm1d(3)`` in training mode on a (4, 3) input ``x``, writes as SVG and PNG:

- ``batchnorm_forward``: the forward graph, expanded to primitive ops;
- ``batchnorm_forward_collapsed``: the same with ``mean`` and ``var`` as single boxes;
- ``batchnorm_backward``: the backward graph from a given ``dL/d(y)`` to
  ``dL/d(x)``, ``dL/d(weight)`` and ``dL/d(bias)``, expanded;
- ``batchnorm_backward_collapsed``: the same with ``mean`` and ``var`` collapsed.

The inputs are seeded, so the pictures come out the same every time.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad import nn
from minigrad.viz.backward import draw_backward
from minigrad.viz.forward import draw_graph
from minigrad.viz.render import render

# Scopes are BatchNorm1d > batch_norm > var > mean: depth 2 opens batch_norm and
# keeps var and mean closed.
COLLAPSED_DEPTH = 2


def batchnorm(out: Path, formats: Sequence[str]) -> list[Path]:
    """Draw the batch-norm forward and backward graphs into ``out``; return the files."""
    mg.manual_seed(0)
    x = mg.randn(4, 3, requires_grad=True)
    x.name = "x"
    y = nn.BatchNorm1d(3)(x)
    y.name = "y"
    grad_y = np.random.default_rng(1).standard_normal(y.shape)
    graphs = {
        "batchnorm_forward": draw_graph(y),
        "batchnorm_forward_collapsed": draw_graph(y, depth=COLLAPSED_DEPTH),
        "batchnorm_backward": draw_backward(y, grad_y),
        "batchnorm_backward_collapsed": draw_backward(y, grad_y, depth=COLLAPSED_DEPTH),
    }
    return [file for name, graph in graphs.items() for file in render(graph, out / name, formats)]


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and write the graphs it asks for."""
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.viz", description="Draw minigrad's showcase graphs."
    )
    parser.add_argument("graph", choices=["batchnorm"], help="which graphs to draw")
    parser.add_argument("--out", type=Path, default=Path("."), help="the folder to write to (default: .)")
    parser.add_argument(
        "--formats", nargs="+", default=["svg", "png"], help="output formats (default: svg png)"
    )
    arguments = parser.parse_args(argv)
    for file in batchnorm(arguments.out, arguments.formats):
        print(f"wrote {file}")


if __name__ == "__main__":
    main()
