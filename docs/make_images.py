"""Regenerate every image the docs show, with one command from the repository root::

    python docs/make_images.py

It runs, in order:

- ``python -m minigrad.viz batchnorm --out docs/images``: the batch-norm graphs of page 02;
- ``python examples/batchnorm_digits.py --out docs/images/digits``: the main job, Figure 1
  and the trained network's graphs (about half a minute);
- ``python examples/train_vs_eval.py --out docs/images/train_vs_eval``: the running averages;
- the Python blocks of the pages that draw pictures, each page run in its own folder
  under docs/images/, so that every picture is what the code printed above it makes.

tests/test_docs.py runs every page with the same two functions, :func:`python_blocks`
and :func:`run_blocks`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPOSITORY = DOCS.parent
COMMANDS = [
    ["-m", "minigrad.viz", "batchnorm", "--out", "docs/images"],
    ["examples/batchnorm_digits.py", "--out", "docs/images/digits"],
    ["examples/train_vs_eval.py", "--out", "docs/images/train_vs_eval"],
]
# Page -> the folder under docs/images/ its Python blocks run in (and draw into).
PAGES_THAT_DRAW = {"01-autodiff.md": "autodiff", "04-seeing-the-graph.md": "viz"}
# A fenced block: ``` and an info string at the start of a line, the code, ``` alone on a line.
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def fenced_blocks(markdown: str) -> list[tuple[str, str]]:
    """Every fenced code block of a Markdown text: (info string, code), in order."""
    return [(info.strip(), code) for info, code in FENCE.findall(markdown)]


def python_blocks(markdown: str) -> list[str]:
    """The code of the blocks marked ```python: the ones that run."""
    return [code for info, code in fenced_blocks(markdown) if info == "python"]


def run_blocks(blocks: list[str], folder: Path, source: str = "<docs>") -> None:
    """Run ``blocks`` in order, in one namespace, with ``folder`` as the working directory."""
    namespace = {"__name__": "__main__"}
    previous = Path.cwd()
    os.chdir(folder)
    try:
        for number, block in enumerate(blocks, start=1):
            exec(compile(block, f"{source}, block {number}", "exec"), namespace)
    finally:
        os.chdir(previous)


def main() -> None:
    """Run the commands that draw images, then the Python blocks of the pages that draw."""
    for command in COMMANDS:
        print("+ python " + " ".join(command), flush=True)
        subprocess.run([sys.executable, *command], cwd=REPOSITORY, check=True)
    for page, folder_name in PAGES_THAT_DRAW.items():
        folder = DOCS / "images" / folder_name
        folder.mkdir(parents=True, exist_ok=True)
        print(f"+ the Python blocks of docs/{page}, in docs/images/{folder_name}", flush=True)
        run_blocks(python_blocks((DOCS / page).read_text()), folder, source=page)


if __name__ == "__main__":
    main()
