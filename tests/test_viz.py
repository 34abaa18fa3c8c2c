"""Drawing forward and backward graphs, and rendering them (minigrad/viz)."""

from __future__ import annotations

import html
import re
import shutil
import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from graphviz.backend import dot_command

import minigrad as mg
from minigrad import nn, viz
from minigrad.engine import Op, scope
from minigrad.viz.__main__ import main

PRIMITIVES_OF_BATCH_NORM = {"sum", "div", "sub", "broadcast_to", "pow", "add", "sqrt", "mul"}
OP_NAMES = {op.name for op in Op.__subclasses__()}

# ---- reading the DOT text back -----------------------------------------------------------


class Structure:
    """What a drawn graph contains: each node's title and cluster path, and the edges."""

    def __init__(self, graph) -> None:
        self.titles: dict[str, str] = {}  # node id -> the bold text of its label
        self.clusters: dict[str, tuple[str, ...]] = {}  # node id -> labels of the clusters around it
        self.cluster_paths: set[tuple[str, ...]] = set()
        self.edges: list[tuple[str, str]] = []
        open_clusters: list[str] = []
        for statement in graph.body:
            text = statement.strip()
            if text.startswith("subgraph"):
                open_clusters.append("")
            elif text == "}":
                open_clusters.pop()
            elif "->" in text.split("[")[0]:
                tail, head = re.match(r"(\w+) -> (\w+)", text).groups()
                self.edges.append((tail, head))
            elif re.match(r"\w+ \[", text):
                node_id = text.split(" ")[0]
                self.titles[node_id] = html.unescape(re.search(r"<b>(.*?)</b>", text).group(1))
                self.clusters[node_id] = tuple(open_clusters)
            elif "label=" in text and open_clusters:
                open_clusters[-1] = html.unescape(re.search(r"label=<<b>(.*?)</b>>", text).group(1))
                self.cluster_paths.add(tuple(open_clusters))

    def ids(self, title: str) -> list[str]:
        return [node_id for node_id, node_title in self.titles.items() if node_title == title]

    def counts(self) -> Counter:
        return Counter(self.titles.values())

    def op_count(self) -> int:
        return sum(count for title, count in self.counts().items() if title in OP_NAMES)


@pytest.fixture
def batch_norm_output() -> mg.Tensor:
    """y = BatchNorm1d(3)(x) in training mode, x of shape (4, 3); x and y are named."""
    mg.manual_seed(0)
    x = mg.randn(4, 3, requires_grad=True)
    x.name = "x"
    y = nn.BatchNorm1d(3)(x)
    y.name = "y"
    return y


def small_network() -> tuple[nn.Module, mg.Tensor]:
    """Linear -> BatchNorm1d -> Sigmoid -> Linear, and its mean squared error loss."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Sigmoid(), nn.Linear(3, 1))
    loss = nn.MSELoss()(model(mg.randn(4, 2)), mg.randn(4, 1))
    return model, loss


# ---- the forward graph -----------------------------------------------------------------


def test_batch_norm_is_drawn_as_its_primitive_ops(batch_norm_output):
    drawn = Structure(viz.draw_graph(batch_norm_output))
    counts = drawn.counts()
    assert set(counts) >= PRIMITIVES_OF_BATCH_NORM
    # x - mean, (var + eps) under sqrt, weight and bias: each broadcast explicitly.
    assert counts["broadcast_to"] >= 4
    assert {"x", "weight", "bias", "y"} <= set(counts)


def test_batch_norm_reshapes_its_weight_only_for_inputs_with_more_axes():
    norm = nn.BatchNorm1d(3)
    flat = Structure(viz.draw_graph(norm(mg.randn(4, 3)))).counts()
    assert "reshape" not in flat  # weight (3,) broadcasts against (4, 3) as it is
    sequence = Structure(viz.draw_graph(norm(mg.randn(4, 3, 5)))).counts()
    assert sequence["reshape"] == 2  # weight and bias to (1, 3, 1)


def test_scopes_are_nested_clusters(batch_norm_output):
    drawn = Structure(viz.draw_graph(batch_norm_output))
    assert ("BatchNorm1d", "batch_norm", "var", "mean") in drawn.cluster_paths
    assert ("BatchNorm1d", "batch_norm", "mean") in drawn.cluster_paths
    assert {drawn.clusters[node] for node in drawn.ids("sqrt")} == {("BatchNorm1d", "batch_norm")}
    assert {drawn.clusters[node] for node in drawn.ids("pow")} == {("BatchNorm1d", "batch_norm", "var")}
    # Parameters sit in their module's box; the input and output outside it.
    assert drawn.clusters[drawn.ids("weight")[0]] == ("BatchNorm1d",)
    assert drawn.clusters[drawn.ids("x")[0]] == ()
    assert drawn.clusters[drawn.ids("y")[0]] == ()


def test_depth_collapses_deeper_scopes_into_one_node(batch_norm_output):
    everything = Structure(viz.draw_graph(batch_norm_output))
    op_count = everything.op_count()

    one_box = Structure(viz.draw_graph(batch_norm_output, depth=0))
    assert one_box.cluster_paths == set()
    assert set(one_box.counts()) == {"x", "BatchNorm1d", "y"}
    (box,) = one_box.ids("BatchNorm1d")
    assert (one_box.ids("x")[0], box) in one_box.edges and (box, one_box.ids("y")[0]) in one_box.edges
    assert f"{op_count} ops" in viz.draw_graph(batch_norm_output, depth=0).source

    opened = Structure(viz.draw_graph(batch_norm_output, depth=2))
    assert opened.cluster_paths == {("BatchNorm1d",), ("BatchNorm1d", "batch_norm")}
    assert opened.counts()["mean"] == 1 and opened.counts()["var"] == 1
    assert "sqrt" in opened.counts() and "pow" not in opened.counts()


def test_a_network_is_four_boxes_or_its_primitives():
    _, loss = small_network()
    boxes = Structure(viz.draw_graph(loss, depth=1)).counts()
    assert {"0: Linear", "1: BatchNorm1d", "2: Sigmoid", "3: Linear"} <= set(boxes)
    assert "mat_mul" not in boxes
    primitives = Structure(viz.draw_graph(loss))
    assert not {"0: Linear", "1: BatchNorm1d"} & set(primitives.counts())
    assert primitives.op_count() >= 25
    assert {"0.weight", "1.weight", "1.bias", "3.bias"} <= set(primitives.counts())


def test_one_value_constants_are_written_into_their_op():
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    source = viz.draw_graph(mg.mean(x) * 2.0).source
    assert "<b>div</b> b=4" in source and "<b>mul</b> b=2" in source


def test_values_and_gradients_can_be_shown_or_hidden():
    x = mg.tensor([1.5, -2.0], requires_grad=True)
    loss = (x * x).sum()
    assert "grad [" not in viz.draw_graph(loss).source
    loss.backward()
    assert "grad [ 3. -4.]" in viz.draw_graph(loss).source
    assert "grad [" not in viz.draw_graph(loss, grads=False).source
    assert "[ 1.5 -2. ]" in viz.draw_graph(loss).source
    assert "[ 1.5 -2. ]" not in viz.draw_graph(loss, values=False).source


def test_large_tensors_show_a_summary_instead_of_values():
    x = mg.tensor(np.arange(100.0), requires_grad=True)
    source = viz.draw_graph(x.sum()).source
    assert "mean 49.5  std 28.9" in source


def test_op_nodes_carry_their_derivative_rule_as_a_tooltip(batch_norm_output):
    source = viz.draw_graph(batch_norm_output).source
    assert "d/dx sqrt(x) = 1 / (2 sqrt(x))" in source
    assert "the backward of broadcasting is a sum" in source


def test_a_long_chain_is_drawn_without_recursion():
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    assert len(Structure(viz.draw_graph(y)).ids("mul")) == 3000


# ---- the backward graph ----------------------------------------------------------------


def test_backward_graph_ends_at_the_gradient_of_each_leaf(batch_norm_output):
    grad_y = np.random.default_rng(1).standard_normal((4, 3))
    drawn = Structure(viz.draw_backward(batch_norm_output, grad_y))
    counts = drawn.counts()
    assert {"dL/d(y)", "dL/d(x)", "dL/d(weight)", "dL/d(bias)"} <= set(counts)
    # The backward of broadcast is sum, the backward of sum is broadcast.
    assert {"sum", "broadcast_to", "mul", "div", "neg"} <= set(counts)
    assert ("BatchNorm1d", "batch_norm", "var", "mean") in drawn.cluster_paths


def test_backward_ops_say_which_forward_op_they_differentiate(batch_norm_output):
    source = viz.draw_backward(batch_norm_output).source
    assert "sqrt&#x27; (1, 3)" in source  # the label: the ops of sqrt's backward
    assert "part of the backward of sqrt in BatchNorm1d › batch_norm" in source
    assert "part of the backward of sum in BatchNorm1d › batch_norm › var › mean" in source


def test_backward_graph_shows_the_gradient_values_and_leaves_grad_alone():
    x = mg.randn(4, 3, requires_grad=True)
    y = nn.BatchNorm1d(3)(x)
    source = viz.draw_backward(y).source
    assert x.grad is None
    # With dL/dy = 1, dL/d(bias) sums four ones per channel.
    assert "[4. 4. 4.]" in source
    y.backward(mg.ones((4, 3)))
    before = x.grad.data.copy()
    viz.draw_backward(y)
    np.testing.assert_array_equal(x.grad.data, before)


def test_backward_graph_names_parameters_by_module_path_and_collapses():
    _, loss = small_network()
    counts = Structure(viz.draw_backward(loss)).counts()
    assert {"dL/d(0.weight)", "dL/d(1.weight)", "dL/d(1.bias)", "dL/d(3.bias)"} <= set(counts)
    boxes = Structure(viz.draw_backward(loss, depth=1)).counts()
    assert {"0: Linear", "1: BatchNorm1d", "2: Sigmoid", "3: Linear", "dL/d(1.weight)"} <= set(boxes)
    assert "backward ops" in viz.draw_backward(loss, depth=1).source


def test_an_eval_mode_batch_norm_draws_its_running_statistics_by_name():
    model, _ = small_network()
    model.eval()
    drawn = Structure(viz.draw_graph(model(mg.randn(4, 2)).sum())).counts()
    # The input batch, and sqrt(running_var + eps), computed from constants, are constants.
    assert {"1.running_mean", "1.weight", "constant"} <= set(drawn)


def test_a_gradient_passed_through_unchanged_is_drawn_from_the_seed():
    # L = a * b + c: dL/dc is dL/dL itself, which add hands on unchanged. It once
    # came out as an unlinked copy: a KeyError for a one-value seed, a grey constant
    # for a larger one.
    a, b, c = (
        mg.tensor(value, requires_grad=True, name=name)
        for value, name in [(2.0, "a"), (-3.0, "b"), (10.0, "c")]
    )
    drawn = Structure(viz.draw_backward(a * b + c))
    (seed,) = drawn.ids("dL/d(output)")
    assert (seed, drawn.ids("dL/d(c)")[0]) in drawn.edges
    assert {"dL/d(a)", "dL/d(b)", "dL/d(c)", "mul"} <= set(drawn.counts())
    v = mg.tensor([1.0, 2.0], requires_grad=True, name="v")
    drawn = Structure(viz.draw_backward(v + 1.0))
    assert drawn.edges == [(drawn.ids("dL/d(output)")[0], drawn.ids("dL/d(v)")[0])]
    assert "constant" not in drawn.counts()


def test_a_second_order_backward_graph_does_not_redraw_the_first_backward_pass():
    # x.grad was computed by the first backward pass (pow's rule: a pow and two muls).
    # For a loss made from x.grad, those ops are forward values, drawn dashed and not
    # opened up; only the new pass's ops are drawn as backward ops.
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="x")
    (x**3).sum().backward(create_graph=True)
    graph = viz.draw_backward((x.grad * x.grad).sum())
    nodes = [line for line in graph.body if re.match(r"\s*\w+ \[", line)]
    assert not any("<b>pow</b>" in node for node in nodes)  # x.grad's own ops are not drawn
    (first_pass_result,) = [node for node in nodes if "dashed" in node and "<b>mul</b>" in node]
    assert "forward (2,)" in first_pass_result  # x.grad, a value the new rules read


def test_backward_of_a_constant_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        viz.draw_backward(mg.tensor([1.0, 2.0]).sum())


def test_a_grad_output_of_the_wrong_shape_is_an_error_that_names_draw_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        RuntimeError, match=r"draw_backward: the gradient has shape \(3,\) but the output has shape \(2,\)"
    ):
        viz.draw_backward(x * 2, grad_output=[1.0, 2.0, 3.0])


# ---- escaping --------------------------------------------------------------------------

AWKWARD = 'a<b> & "c" {d|e}'


def svg_text(svg: bytes) -> str:
    root = ElementTree.fromstring(svg)
    return " ".join(element.text or "" for element in root.iter())


def test_names_with_markup_characters_render_as_typed():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    x.name = AWKWARD
    with scope(AWKWARD, kind="module"):
        y = (x * x).sum()
    for graph in (viz.draw_graph(y), viz.draw_graph(y, depth=0), viz.draw_backward(y)):
        text = svg_text(graph.pipe(format="svg"))
        assert AWKWARD in text
    assert f"dL/d({AWKWARD})" in svg_text(viz.draw_backward(y).pipe(format="svg"))


def test_control_characters_in_names_do_not_break_the_svg():
    # XML forbids most control characters outright; they are written out as \\x0c.
    x = mg.tensor([1.0, 2.0], requires_grad=True, name="a\x0cb\x00")
    with scope("c\x07", kind="module"):
        y = (x * x).sum()
    for graph in (viz.draw_graph(y), viz.draw_graph(y, depth=0), viz.draw_backward(y)):
        text = svg_text(graph.pipe(format="svg"))  # parses as XML
        assert "a\\x0cb\\x00" in text


def test_a_scope_needs_a_label():
    # An empty one drew a box titled <b></b>, which is not valid DOT.
    with pytest.raises(ValueError, match="scope: the label must not be empty"):
        scope("")


@pytest.mark.parametrize("depth", [-1, 1.5, "1", True])
def test_depth_must_be_none_or_a_whole_number(depth):
    y = nn.Linear(3, 2)(mg.randn(4, 3)).sum()
    with pytest.raises(ValueError, match="draw_graph: depth must be None or a whole number"):
        viz.draw_graph(y, depth=depth)
    with pytest.raises(ValueError, match="draw_backward: depth must be None or a whole number"):
        viz.draw_backward(y, depth=depth)


# ---- rendering -------------------------------------------------------------------------


def graphviz_pure() -> str:
    """The graphviz-pure that minigrad's ``viz`` extra installs (the dev extra includes it)."""
    found = shutil.which("graphviz-pure", path=str(Path(sys.executable).parent)) or shutil.which(
        "graphviz-pure"
    )
    assert found, 'graphviz-pure is not installed: pip install -e ".[dev]"'
    return found


def test_renders_svg_and_png_with_graphviz_pure(batch_norm_output, tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGRAD_DOT", graphviz_pure())
    monkeypatch.setattr(dot_command, "DOT_BINARY", dot_command.DOT_BINARY)
    written = viz.render(viz.draw_backward(batch_norm_output), tmp_path / "graphs" / "backward")
    assert [path.name for path in written] == ["backward.svg", "backward.png"]
    assert "dL/d(weight)" in svg_text(written[0].read_bytes())
    assert written[1].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert viz.draw_graph(batch_norm_output).pipe(format="png").startswith(b"\x89PNG")
    # One format may be given as a string (it used to be read letter by letter).
    assert viz.render(viz.draw_graph(batch_norm_output), tmp_path / "one", formats="svg") == [
        tmp_path / "one.svg"
    ]


def test_minigrad_dot_must_name_an_executable(monkeypatch):
    monkeypatch.setenv("MINIGRAD_DOT", "/nowhere/dot")
    with pytest.raises(viz.RendererNotFoundError, match="MINIGRAD_DOT"):
        viz.find_dot()


def test_without_a_renderer_the_error_says_how_to_get_one(batch_norm_output, tmp_path, monkeypatch):
    monkeypatch.delenv("MINIGRAD_DOT", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    graph = viz.draw_graph(batch_norm_output)
    assert graph.source.startswith("digraph")
    for attempt in (lambda: viz.render(graph, tmp_path / "g"), lambda: graph.pipe(format="svg")):
        with pytest.raises(viz.RendererNotFoundError) as error:
            attempt()
        message = str(error.value)
        assert "pip install graphviz-pure" in message and "`viz` extra" in message
        assert "system Graphviz" in message and "MINIGRAD_DOT" in message


def test_teacher_command_writes_the_batch_norm_graphs(tmp_path, capsys):
    main(["batchnorm", "--out", str(tmp_path), "--formats", "svg"])
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == [
        "batchnorm_backward.svg",
        "batchnorm_backward_collapsed.svg",
        "batchnorm_forward.svg",
        "batchnorm_forward_collapsed.svg",
    ]
    assert "wrote" in capsys.readouterr().out


def test_backward_graph_names_a_leaf_read_through_a_view():
    mg.manual_seed(0)
    x = mg.randn(5, 4)
    x.name = "x"
    w = mg.randn(4, 3, requires_grad=True)
    w.name = "w"
    source = viz.draw_backward((x @ w).sum()).source
    # matmul's rule for w reads x transposed, through an unrecorded view of x's memory.
    assert "x (view)" in source
    assert "constant" not in source


def test_backward_graph_of_a_linear_layer_names_its_input():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    x = mg.randn(5, 4)
    x.name = "x"
    source = viz.draw_backward(model(x).sum()).source
    # x @ weight.T: the weight's gradient is (grad^T @ x)^T, which reads x itself.
    assert "<b>x</b>" in source
    assert "constant" not in source
