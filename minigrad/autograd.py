"""Autograd: how backward walks the graph that :mod:`minigrad.engine` records.

``backward`` visits the graph from the output to the leaves in reverse topological
order and asks each op for the gradients of its inputs: an op's rule runs once every
use of its result has passed its gradient back. Both the walk that counts the uses
and the one that runs the rules keep an explicit stack, so a 100,000-op chain is no
problem. Backward rules are written with operations that Tensors and numpy arrays
share: with ``create_graph=True`` they run on Tensors, so the backward pass is
recorded too; otherwise on the arrays, with nothing to record.

:func:`backward` adds the gradients to the leaves' ``.grad`` (``Tensor.backward``
calls it); :func:`grad` returns them instead, as ``torch.autograd.grad`` does.
"""

from __future__ import annotations

import contextlib
import gc
import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

from minigrad.engine import Op, _changed_since, _memory_owner, _state, set_grad_enabled
from minigrad.function import Function, FunctionContext  # noqa: F401 (mg.autograd.Function, as torch's)
from minigrad.primitives import Scattered
from minigrad.tensor import Tensor

Node = TypeVar("Node")  # what dependency_order walks: tensors for drawings, ops and leaves for backward


def dependency_order(roots: Iterable[Node], inputs_of: Callable[[Node], Sequence[Node]]) -> list[Node]:
    """Every node (a tensor, or an op) reachable from ``roots`` through ``inputs_of``, each after its inputs.

    Depth-first search with an explicit stack instead of recursion, so a chain of
    100,000 ops is fine: a node is appended once all of its inputs are.
    """
    order: list[Node] = []
    visited: set[int] = set()
    for root in roots:
        stack = [(root, False)]
        while stack:
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for input_node in reversed(inputs_of(node)):
                if id(input_node) not in visited:
                    stack.append((input_node, False))
    return order


def _node(tensor: Tensor) -> Op | Tensor:
    """Where backward meets a tensor: the op that made it, or the tensor itself for a leaf.

    Backward walks ops, not tensors, because the graph links an op to the ops of its
    inputs (a dropped intermediate tensor is gone; its op is not).
    """
    return tensor.op or tensor


def _count_uses(roots: Sequence[Op | Tensor]) -> tuple[dict[int, int], list[Op]]:
    """How many recorded uses, among the ops that ``roots`` depend on, each node has;
    and the ops among them recorded before the latest change in place (usually none).

    Only uses whose op needs the input's gradient count. A node's gradient is
    complete, and its own backward rule can run, once each of these uses has passed
    its contribution back: that is how backward finds its order (Kahn's algorithm),
    in one walk over the graph with an explicit stack. A node is walked from when it is
    first counted; a root starts at 0 uses (another root may use it). A leaf that needs
    a gradient but cannot have one (an integer tensor whose ``requires_grad`` was set
    directly) is an error here, before any gradient is added anywhere.
    """
    uses = {id(root): 0 for root in roots}
    stack = [root for root in roots if isinstance(root, Op)]
    recorded_before_a_change, changes = [], _state.changes
    while stack:
        node = stack.pop()
        if node.recorded_at != changes:
            recorded_before_a_change.append(node)
        for parent, needed in zip(node.parents, node.needs_input_grad):
            if needed:
                key = id(parent)
                if key in uses:
                    uses[key] += 1
                else:  # met for the first time
                    uses[key] = 1
                    if isinstance(parent, Op):
                        stack.append(parent)
                    elif parent.data.dtype.kind != "f":  # checked before any gradient is added
                        raise RuntimeError(
                            f"backward: a {parent.data.dtype} tensor of shape {parent.shape} requires grad, "
                            f"but only floating-point tensors can have gradients (requires_grad was set "
                            f"directly; requires_grad_() refuses it). Convert it with .astype(np.float32)"
                        )
    return uses, recorded_before_a_change


def _check_unchanged(op: Op) -> None:
    """Refuse to run ``op``'s rule if it would read numbers changed in place since ``op`` was recorded."""
    _, reads_out, inputs_read = type(op)._reading[op.needs_input_grad]
    read = [(op.saved, f"its own result, of shape {op.out_shape}")] if reads_out else []
    for position in inputs_read:
        parent = op.parents[position]
        if isinstance(parent, Tensor):
            named = f" ({parent.name!r})" if parent.name else ""
            read.append((parent.data, f"a tensor of shape {parent.shape}{named}"))
        else:
            read.append((parent.saved, f"the result of {parent.name}, of shape {parent.out_shape},"))
    read += op.extra_reads()
    for array, what in read:
        if _changed_since(array, op.recorded_at):
            raise RuntimeError(
                f"backward: the rule of {op.name} reads {what} whose numbers were changed in place "
                f"(by an optimizer's step, add_, +=, copy_, ...; or those of a tensor it is a view of) "
                f"after {op.name} was recorded, so its gradient would come from numbers the forward "
                f"never used (PyTorch raises here too). Compute the forward again after the change, or "
                f"change a copy (.clone()). No gradient was added anywhere"
            )


def _backpropagate(
    roots: Sequence[Tensor],
    root_grads: Sequence[Tensor],
    create_graph: bool,
    wanted: set[int] | None,
) -> dict[int, Tensor]:
    """Run the backward rules from ``roots`` down to the leaves.

    With ``wanted=None`` the leaves' gradients are added to their ``.grad``; otherwise
    the gradients of the nodes (see :func:`_node`) whose ids are in ``wanted`` are
    returned, by those ids, and no ``.grad`` is touched. Gradients of intermediate
    results live only in a local dict and are dropped as soon as they have been passed on.

    With ``create_graph=True`` the rules run on Tensors and are recorded. Otherwise
    they run on arrays: the numbers the ops kept for their rules, and the leaves' data.
    The gradients are arrays from the roots down, and become Tensors only where they
    are handed out, at the leaves and in the result.
    """
    grads: dict[int, Any] = {}
    nodes = {id(node): node for node in map(_node, roots)}  # each once
    for root, grad in zip(roots, root_grads):
        node, grad = _node(root), (grad if create_graph else grad.data)
        previous = grads.get(id(node))  # a root given twice gets the sum of its gradients
        grads[id(node)] = grad if previous is None else _sum_of_uses(node, previous, grad)
    uses, recorded_before_a_change = _count_uses(list(nodes.values()))
    leading = set() if wanted is None else _leading_to(list(nodes.values()), wanted)
    for op in recorded_before_a_change:  # before any gradient is added anywhere
        if wanted is None or id(op) in leading:  # its rule will run
            _check_unchanged(op)
    ready = [node for key, node in nodes.items() if not uses[key]]
    found: dict[int, Tensor] = {}
    # The memory of every gradient handed out so far, starting with the caller's own
    # arrays (a recorded one too, unless the gradients are recorded and it stays in
    # the graph): a gradient that reaches a leaf or the result unchanged is copied then.
    handed_out = {_owner(grad.data) for grad in root_grads if grad.op is None or not create_graph}
    outer_scope, outer_grad_of = _state.scope, _state.grad_of
    with set_grad_enabled(create_graph), _cyclic_gc_paused():
        try:
            while ready:
                node = ready.pop()
                grad = grads.pop(id(node), None)
                if type(grad) in _NOT_SPREAD:
                    grad = grad.spread()
                if wanted is not None and grad is not None:
                    if id(node) not in leading:
                        grad = None  # it leads to no wanted node: its rule need not run
                    elif id(node) in wanted:
                        found[id(node)] = _unshared(_as_gradient(grad), handed_out)
                if isinstance(node, Tensor):  # a leaf
                    if grad is not None and wanted is None:
                        _accumulate_leaf(node, _as_gradient(grad), handed_out)
                    continue
                if grad is not None and node.retains_grad:
                    _retain(node, grad, handed_out)
                if grad is None:  # no use passed a gradient back; its inputs get none from it
                    input_grads: Sequence[Any] = (None,) * len(node.parents)
                elif create_graph:  # ops made by a backward rule are tagged with the op it differentiates
                    _state.scope, _state.grad_of = node.scope, node
                    input_grads = node.backward(grad, node.output, *node.inputs)
                    _check_recorded(node, input_grads)
                elif len(node.parents) == 2:
                    # The same as below, spelled out (see Op.apply), and _saved_array inline:
                    # its two calls were 3% of a long chain's backward.
                    a, b = node.parents
                    input_grads = node.backward(
                        grad,
                        node.saved,
                        a.data if isinstance(a, Tensor) else a.saved,
                        b.data if isinstance(b, Tensor) else b.saved,
                    )
                else:
                    input_grads = node.backward(grad, node.saved, *map(_saved_array, node.parents))
                for parent, needed, input_grad in zip(node.parents, node.needs_input_grad, input_grads):
                    if needed:
                        key = id(parent)
                        if input_grad is not None:
                            previous = grads.get(key)
                            grads[key] = (
                                input_grad if previous is None else _sum_of_uses(parent, previous, input_grad)
                            )
                        left = uses[key] - 1  # one dict lookup fewer than -= and a test
                        uses[key] = left
                        if not left:
                            ready.append(parent)
        finally:
            _state.scope, _state.grad_of = outer_scope, outer_grad_of
    return found


def _leading_to(roots: Sequence[Op | Tensor], wanted: set[int]) -> set[int]:
    """The ids of the nodes whose gradient reaches a wanted node: those, and every use of them, in turn.

    The rules of the others need not run: what they compute would reach no wanted
    node (nor, as in PyTorch, a retained ``.grad`` off the way to them).
    """
    leading: set[int] = set()
    for node in dependency_order(roots, _needed_inputs):
        if id(node) in wanted or any(id(parent) in leading for parent in _needed_inputs(node)):
            leading.add(id(node))
    return leading


def _needed_inputs(node: Op | Tensor) -> list[Op | Tensor]:
    """The nodes that a node passes gradients back to: none for a leaf."""
    if isinstance(node, Tensor):
        return []
    return [parent for parent, needed in zip(node.parents, node.needs_input_grad) if needed]


def _saved_array(parent: Op | Tensor) -> np.ndarray | None:
    """An input's numbers for a rule run on arrays: a leaf's data, or what its op kept."""
    return parent.data if isinstance(parent, Tensor) else parent.saved


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Keep Python's cyclic garbage collector from running during backward.

    Backward makes and drops thousands of small objects, and every so often that
    starts a full collection, which walks every object of the (possibly 100,000-op)
    graph and finds nothing to free: reference counting frees backward's temporaries.
    Pausing it made the 100,000-op chain's backward about 15% faster. Anything left
    for the collector is collected at its next run after backward.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_recorded(op: Op, input_grads: Sequence[Any]) -> None:
    """A rule run on Tensors must give Tensors: an array would silently cut the graph."""
    for input_grad in input_grads:
        if input_grad is not None and not isinstance(input_grad, Tensor):
            raise TypeError(
                f"the backward rule of {op.name} gave a {type(input_grad).__name__} while the "
                f"backward pass was being recorded; a rule must compute with the Tensors it is "
                f"given (numpy functions turn them into arrays: use Tensor operations, or _apply)"
            )


def _as_gradient(grad: Any) -> Tensor:
    """A gradient as a Tensor: as it is if recorded, else around its array."""
    return grad if isinstance(grad, Tensor) else Tensor._wrap(np.asarray(grad))


def _sum_of_uses(node: Op | Tensor, previous: Any, grad: Any) -> Any:
    """The gradient of ``node``'s result so far, ``previous``, plus one more use's contribution.

    A result used several times gets the sum of the gradients of its uses (the
    multivariate chain rule). When that sum is recorded, its add sits in the scope
    where the result was made and is marked ``sums_gradients``, so a drawing can say so.
    """
    if not isinstance(grad, Tensor):  # arrays: nothing is recorded
        if type(previous) in _NOT_SPREAD or type(grad) in _NOT_SPREAD:
            return _InPlaceSum.of(previous, grad)
        return previous + grad
    current_scope = _state.scope
    _state.scope = () if isinstance(node, Tensor) else node.scope
    total = previous + grad
    _state.scope = current_scope
    if total.op is not None:
        total.op.sums_gradients = True
    return total


class _InPlaceSum:
    """A gradient summed in an array that backward made itself, so each further use adds into it in place.

    Backward sums a node's gradient this way once a :class:`Scattered` one (from
    indexing) is among its uses: a Scattered piece is then added only where it was
    read, so a sequence read in L steps costs one array of its size, not L. Other sums
    stay ``previous + grad``: making every sum in place saved nothing measurable (the
    arrays it adds may be shared with other nodes or the caller, so it never adds into
    those).
    """

    __slots__ = ("total",)

    def __init__(self, total: np.ndarray) -> None:
        self.total = total

    @classmethod
    def of(cls, previous: Any, grad: Any) -> _InPlaceSum:
        """``previous + grad``, one of them Scattered, or ``previous`` a sum so far."""
        if type(previous) is cls:
            previous.add(grad)
            return previous
        first, second = (previous, grad) if type(previous) is Scattered else (grad, previous)
        total = cls(first.spread())
        total.add(second)
        return total

    def add(self, grad: Any) -> None:
        """Add one more use's gradient, an array or a Scattered one, in place."""
        scattered = type(grad) is Scattered
        dtype = grad.values.dtype if scattered else grad.dtype
        if dtype != self.total.dtype:  # mixed float32 and float64 uses: widened, as previous + grad would be
            self.total = self.total.astype(np.result_type(self.total, dtype), copy=False)
        if scattered:
            grad.add_to(self.total)
        else:
            self.total += grad

    def spread(self) -> np.ndarray:
        """The sum, as an array."""
        return self.total


_NOT_SPREAD = (Scattered, _InPlaceSum)  # gradients kept as they are until a node's rule needs them


def _retain(op: Op, grad: Any, handed_out: set[int]) -> None:
    """Give ``op``'s result, if the user still holds it, its gradient (see Tensor.retain_grad)."""
    result = op._output()
    if result is not None:
        _accumulate_leaf(result, _as_gradient(grad), handed_out)


def _accumulate_leaf(leaf: Tensor, grad: Tensor, handed_out: set[int]) -> None:
    """Add ``grad`` to the ``.grad`` of ``leaf`` (or of a result whose gradient is retained)."""
    if leaf.grad is not None:
        if not isinstance(leaf.grad, Tensor) or leaf.grad.shape != leaf.shape:
            given = (
                f"shape {leaf.grad.shape}"
                if isinstance(leaf.grad, Tensor)
                else f"a {type(leaf.grad).__name__}"
            )
            raise RuntimeError(
                f"backward: a tensor of shape {leaf.shape} has a .grad of {given}, which the new "
                f"gradient cannot be added to; set .grad to None (or zero_grad()) first"
            )
        leaf.grad = leaf.grad + grad
        return
    leaf.grad = _unshared(grad, handed_out)


def _owner(data: np.ndarray) -> int:
    """The id of the array that owns ``data``'s memory (``data`` itself, or a view's base)."""
    return id(_memory_owner(data))


def _unshared(grad: Tensor, handed_out: set[int]) -> Tensor:
    """``grad``, or a copy of it if its memory is not free to hand out; either is then marked.

    A gradient handed out (a leaf's ``.grad``, a result of :func:`grad`) must be its own
    writable array. The same memory can reach several leaves (the backward of add hands
    one gradient to both inputs, and reshapes of it are views), the caller's gradient
    can pass through unchanged, and a broadcast view is read-only: those are copied.
    A gradient that is part of a recorded graph (made by an op, or a ``grad_outputs``
    that requires grad, passed through an add) is handed out as it is, as in PyTorch:
    a copy would cut it off the graph that higher derivatives and drawings follow.
    """
    data = grad.data
    owner = _owner(data)
    if (owner in handed_out or not data.flags.writeable) and not grad.requires_grad:
        grad = Tensor._wrap(data.copy())
        owner = id(grad.data)
    handed_out.add(owner)
    return grad


def _root_grad(root: Tensor, grad: Any, caller: str) -> Tensor:
    """The gradient that starts backward at ``root``: given, or 1 for a scalar."""
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"{caller}: the output has shape {root.shape}, and a gradient can be "
                f"implied only for a scalar (one element). Reduce it first, e.g. "
                f"y.sum().backward(), or pass a gradient of shape {root.shape}: y.backward(grad)"
            )
        return Tensor._wrap(np.ones_like(root.data))
    if not isinstance(grad, Tensor) or (grad.dtype != root.dtype and grad.op is None):
        # Not copied: backward writes into no gradient, and one that would reach a leaf
        # or the result unchanged is copied there (see _unshared).
        grad = Tensor._wrap(np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=root.dtype))
    if grad.shape != root.shape:
        raise RuntimeError(
            f"{caller}: the gradient has shape {grad.shape} but the output has shape "
            f"{root.shape}; pass a gradient of exactly the output's shape"
        )
    return grad


def _check_requires_grad(tensor: Tensor, caller: str, what: str) -> None:
    if not tensor.requires_grad:
        raise RuntimeError(
            f"{caller}: the {what} does not require grad, so there is no graph to "
            f"differentiate. Make the leaves with requires_grad=True (e.g. "
            f"mg.tensor(data, requires_grad=True)) and compute outside mg.no_grad()"
        )


def backward(tensor: Tensor, grad: Any = None, create_graph: bool = False) -> None:
    """Add d(tensor)/d(leaf) (times ``grad``) to the ``.grad`` of every leaf."""
    _check_requires_grad(tensor, "backward", "tensor")
    root_grad = _root_grad(tensor, grad, "backward")
    _backpropagate([tensor], [root_grad], create_graph, wanted=None)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, leaving ``.grad`` alone.

    Several outputs add their contributions. ``grad_outputs`` gives one gradient per
    output (None for a scalar output). With ``create_graph=True`` the results can be
    differentiated again, which is how higher derivatives are taken.

    An input that the outputs do not depend on is an error, unless
    ``allow_unused=True``, when its gradient is None. Only the rules on the way from
    the outputs to the inputs run, so a retained result (see ``Tensor.retain_grad``)
    gets a ``.grad`` only if it is on that way, as in PyTorch.
    """
    outputs = _tensor_list(outputs, "outputs")
    inputs = _tensor_list(inputs, "inputs")
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray, numbers.Number)):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs; give one gradient "
            f"per output (for one output, its gradient as a Tensor or an array, not a list)"
        )
    for output in outputs:
        _check_requires_grad(output, "grad", "output")
    for input_tensor in inputs:
        _check_requires_grad(input_tensor, "grad", "input")
    root_grads = [_root_grad(out, g, "grad") for out, g in zip(outputs, grad_outputs)]
    found = _backpropagate(outputs, root_grads, create_graph, wanted={id(_node(t)) for t in inputs})
    results = tuple(found.get(id(_node(t))) for t in inputs)
    if not allow_unused:
        for position, result in enumerate(results):
            if result is None:
                raise RuntimeError(
                    f"grad: input {position} (shape {inputs[position].shape}) is not used "
                    f"to compute the outputs; pass allow_unused=True to get None for it"
                )
    return results


def _tensor_list(values: Any, what: str) -> list[Tensor]:
    """``grad``'s outputs or inputs as a list of Tensors, or a TypeError that says what was given."""
    values = [values] if isinstance(values, Tensor) else values
    if not isinstance(values, (list, tuple)) or not all(isinstance(value, Tensor) for value in values):
        given = (
            [type(value).__name__ for value in values]
            if isinstance(values, (list, tuple))
            else type(values).__name__
        )
        raise TypeError(f"grad: {what} must be a Tensor or a list of Tensors, got {given}")
    return list(values)
