"""The docs cannot rot: every Python block runs, every picture and link exists, every name is documented.

Each page's ```python blocks run in order, in one namespace, in a fresh working
directory, with the same functions ``docs/make_images.py`` uses to draw the pictures.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim, viz
from minigrad.nn import init
from minigrad.optim import lr_scheduler

REPOSITORY = Path(__file__).resolve().parents[1]
DOCS = REPOSITORY / "docs"
PAGES = [REPOSITORY / "README.md", *sorted(DOCS.rglob("*.md"))]
API_REFERENCE = DOCS / "05-api-reference.md"
# Info strings of blocks that are meant not to run; anything else (```py, ```Python)
# is more likely a Python block that would silently never be tested.
NOT_RUN = {"text", "bash", "console", "math"}


def load_make_images() -> ModuleType:
    """docs/make_images.py as a module: docs/ is not a package."""
    spec = importlib.util.spec_from_file_location("make_images", DOCS / "make_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_images = load_make_images()


def page_id(page: Path) -> str:
    """The page's path in the repository, to name its tests."""
    return str(page.relative_to(REPOSITORY))


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_python_blocks_run_in_order(page: Path, tmp_path: Path) -> None:
    blocks = make_images.python_blocks(page.read_text())
    make_images.run_blocks(blocks, tmp_path, source=page_id(page))


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_block_either_runs_or_says_it_does_not(page: Path) -> None:
    for info, code in make_images.fenced_blocks(page.read_text()):
        assert info == "python" or info in NOT_RUN, f"a ```{info} block in {page_id(page)}:\n{code}"


def prose(page: Path) -> str:
    """A page without its code blocks."""
    return make_images.FENCE.sub("", page.read_text())


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings: lower case, punctuation dropped, hyphens."""
    headings = re.findall(r"^#+ (.*)$", prose(page), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_pictures_and_links_exist(page: Path) -> None:
    for target in re.findall(r"\]\(([^)\s]+)\)", prose(page)):
        if re.match(r"[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        linked = page.parent / path if path else page
        assert linked.exists(), f"{page_id(page)} links to missing {target}"
        if anchor:
            assert anchor in anchors(linked), f"{page_id(page)} links to {target}: no such heading"


def test_the_pages_that_draw_exist() -> None:
    for page in make_images.PAGES_THAT_DRAW:
        assert (DOCS / page).exists()


def public_names() -> dict[str, list[str]]:
    """Every public name, by the prefix the reference spells it with (``mg.``, ``F.``, ...)."""

    def defined_in(module: ModuleType) -> list[str]:
        return [
            name
            for name, value in vars(module).items()
            if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
        ]

    def members(cls: type) -> list[str]:
        return [name for name in vars(cls) if not name.startswith("_")]

    return {
        "mg.": list(mg.__all__),
        "nn.": list(nn.__all__),
        "F.": list(F.__all__),
        "init.": defined_in(init),
        "optim.": list(optim.__all__),
        "lr_scheduler.": list(lr_scheduler.__all__),
        "viz.": list(viz.__all__),
        "t.": members(mg.Tensor),
        "module.": members(nn.Module),
        "optimizer.": [*members(optim.Optimizer), "param_groups", "state"],
        "scheduler.": [*members(lr_scheduler.LRScheduler), "last_epoch", "base_lrs"],
    }


def test_api_reference_names_every_public_name() -> None:
    reference = API_REFERENCE.read_text()
    missing = [
        prefix + name
        for prefix, names in public_names().items()
        for name in names
        if not re.search(rf"`{re.escape(prefix + name)}\b", reference)
    ]
    assert not missing, f"{API_REFERENCE.name} does not document: {', '.join(missing)}"


def test_public_names_are_found() -> None:
    """A guard for the test above: the lists it checks are not empty."""
    names = public_names()
    assert "tensor" in names["mg."] and "BatchNorm1d" in names["nn."] and "StepLR" in names["lr_scheduler."]
    assert "normal_" in names["init."] and "backward" in names["t."] and "eval" in names["module."]
