"""The engine: how operations are recorded, and how backward walks the record.

Every primitive operation is an :class:`Op`. Applying one computes its result with
numpy and, when a gradient will be needed, keeps the op as the result's ``op``: a
node that remembers where its inputs came from (the ops that made them, or the
leaves) and the numbers its backward rule will read. The graph is nothing more than
these links. Results that no rule reads are not part of it: their memory is freed as
soon as the program drops them.

``backward`` visits the graph from the output to the leaves in reverse topological
order and asks each op for the gradients of its inputs: an op's rule runs once every
use of its result has passed its gradient back. Both the walk that counts the uses
and the one that runs the rules keep an explicit stack, so a 100,000-op chain is no
problem. Backward rules are written with operations that Tensors and numpy arrays
share: with ``create_graph=True`` they run on Tensors, so the backward pass is
recorded too; otherwise on the arrays, with nothing to record.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import numbers
import re
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

Node = TypeVar("Node")  # what dependency_order walks: tensors for drawings, ops and leaves for backward


class _GraphState:
    """What the next recorded op is tagged with, whether ops are recorded at all, and how
    many changes in place have been made so far (see :func:`mark_changed`)."""

    __slots__ = ("grad_enabled", "scope", "grad_of", "changes")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.scope: tuple[Scope, ...] = ()
        self.grad_of: Op | None = None
        self.changes = 0


_state = _GraphState()


# One copy of each shape that comes back op after op. A new tuple per op is one more
# object per op for Python's cyclic garbage collector to count, and the collector runs
# after every 700 new objects, walking the whole graph now and then: sharing shapes and
# needs_input_grad patterns (those per op kind, in Op._what_rule_reads) made it run 3/5
# as often while a long chain was built, and the build about a tenth faster. The dict
# is cleared if it ever holds many shapes.
_shapes: dict[tuple[int, ...], tuple[int, ...]] = {}
_MAX_SHAPES = 10_000


def _shared_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The copy of ``shape`` kept in ``_shapes`` (an equal tuple seen before), or ``shape`` itself."""
    copy = _shapes.get(shape)
    if copy is None:
        if len(_shapes) >= _MAX_SHAPES:
            _shapes.clear()
        copy = _shapes[shape] = shape
    return copy


# ---- recording on and off ------------------------------------------------------------


class _GradMode:
    """A recording mode, entered with ``with`` or applied to a function as a decorator."""

    mode = True

    def __new__(cls, function: Callable | None = None, *args: Any) -> Any:
        # Lets `@mg.no_grad` work without parentheses, as in PyTorch.
        instance = super().__new__(cls)
        if callable(function):
            instance.__init__()
            return instance(function)
        return instance

    def __enter__(self) -> None:
        self.previous = _state.grad_enabled
        _state.grad_enabled = self.mode

    def __exit__(self, *exc_info: Any) -> None:
        _state.grad_enabled = self.previous

    def __call__(self, function: Callable) -> Callable:
        mode = self.mode
        if inspect.isgeneratorfunction(function):
            return _generator_in_mode(function, mode)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = _state.grad_enabled
            _state.grad_enabled = mode
            try:
                return function(*args, **kwargs)
            finally:
                _state.grad_enabled = previous

        return wrapper


def _generator_in_mode(function: Callable, mode: bool) -> Callable:
    """A generator function whose body runs in ``mode`` each time it is resumed, as in PyTorch.

    Calling a generator function runs none of its body, so setting the mode around
    the call alone would leave every ``next()`` recording as the caller does. Values
    sent in and exceptions thrown in are passed on to the body, as ``yield from`` would.
    """

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        generator = function(*args, **kwargs)
        resume = functools.partial(generator.send, None)
        while True:
            with set_grad_enabled(mode):
                try:
                    item = resume()
                except StopIteration as stop:
                    return stop.value
            try:
                sent = yield item
            except GeneratorExit:
                with set_grad_enabled(mode):
                    generator.close()
                raise
            except BaseException as error:  # thrown in by the caller: the body may handle it
                resume = functools.partial(generator.throw, error)
            else:
                resume = functools.partial(generator.send, sent)

    return wrapper


class no_grad(_GradMode):
    """Record nothing inside ``with mg.no_grad():`` (or in a function it decorates)."""

    mode = False


class enable_grad(_GradMode):
    """Record again inside ``with mg.enable_grad():``, even within ``no_grad``."""

    mode = True


class set_grad_enabled(_GradMode):
    """Turn recording on or off: takes effect at once, and ``with`` restores it after."""

    def __new__(cls, mode: bool) -> set_grad_enabled:
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.previous = _state.grad_enabled
        _state.grad_enabled = self.mode

    def __enter__(self) -> None:
        pass  # already in effect since __init__

    def __call__(self, function: Callable) -> Callable:
        _state.grad_enabled = self.previous  # as a decorator, it acts only during calls
        return super().__call__(function)


def is_grad_enabled() -> bool:
    """True when operations are being recorded."""
    return _state.grad_enabled


def mark_changed(tensor: Tensor) -> None:
    """Note that ``tensor``'s numbers were just changed in place (``add_``, an optimizer's step, ...).

    Each recorded op notes how many such changes had been made when it was recorded
    (``recorded_at``), and backward refuses to run a rule that would read numbers
    changed after that: its gradient would come from numbers the forward never saw.
    What is marked is the memory, so every tensor and view sharing it (``x.T``,
    ``x.detach()``) counts as changed, as in PyTorch, where views share a version
    count. Changes made through ``.data`` are not noticed, as in PyTorch.
    """
    _state.changes += 1
    owner = _memory_owner(tensor.data)
    mark = _changes_to_memory.get(id(owner))
    if mark is not None and mark[0]() is owner:
        mark[1] = _state.changes
    else:  # the first change: the entry goes when the memory does
        key = id(owner)
        _changes_to_memory[key] = [
            weakref.ref(owner, lambda _: _changes_to_memory.pop(key, None)),
            _state.changes,
        ]


# When the memory of each array changed in place (by id of the array that owns it) was last changed.
_changes_to_memory: dict[int, list[Any]] = {}


def _memory_owner(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s memory: itself, or the base its view was taken from."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _changed_since(array: np.ndarray | None, recorded_at: int) -> bool:
    """Whether ``array``'s memory was changed in place after the ``recorded_at``-th change."""
    if array is None:
        return False
    owner = _memory_owner(array)
    mark = _changes_to_memory.get(id(owner))
    return mark is not None and mark[0]() is owner and mark[1] > recorded_at


# ---- scopes: which composite or module made a node ---------------------------------


class Scope:
    """One call of a composite op (``var``) or a module (``1: BatchNorm1d``).

    Each op records the tuple of scopes it was created in, outermost first, so a
    drawing can group the ops of one call into a box. Every call makes a new Scope,
    so two calls of ``mean`` are two boxes.
    """

    __slots__ = ("label", "kind")

    def __init__(self, label: str, kind: str) -> None:
        self.label = label
        self.kind = kind

    def __repr__(self) -> str:
        return f"Scope({self.label!r}, {self.kind!r})"


class scope:
    """Tag the ops created inside ``with scope(label):`` with a new :class:`Scope`."""

    def __init__(self, label: str, kind: str = "composite") -> None:
        if not label:  # a drawing titles the scope's box with it
            raise ValueError("scope: the label must not be empty; it titles the scope's box in drawings")
        self.entered = Scope(label, kind)

    def __enter__(self) -> Scope:
        self.outer = _state.scope
        _state.scope = (*self.outer, self.entered)
        return self.entered

    def __exit__(self, *exc_info: Any) -> None:
        _state.scope = self.outer


def composite(function: Callable) -> Callable:
    """Mark a function as a composite op: its ops are tagged with a scope of its name.

    A composite defines no backward rule; its gradient comes from the primitives it
    is made of.
    """
    label = function.__name__

    @functools.wraps(function)
    def tagged(*args: Any, **kwargs: Any) -> Any:
        with scope(label):
            return function(*args, **kwargs)

    return tagged


# ---- the op: one node of the graph ---------------------------------------------------


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Op:
    """A primitive operation: a numpy ``forward`` and a ``backward`` rule.

    Subclasses define

    - ``forward(self, *arrays, **params) -> ndarray``: the result, computed with
      numpy; it may keep on ``self`` what the backward rule needs besides its operands
      (a shape, an index);
    - ``backward(self, grad, out, *inputs) -> tuple``: given ``grad`` (the gradient of
      the loss with respect to the result ``out``) and the inputs, the gradient with
      respect to each input, of the input's shape (or None where
      ``needs_input_grad`` is False);
    - ``reads``: which of ``out`` and the inputs (by position) the rule reads; or,
      where that depends on which gradients are needed, what the gradient of each
      input reads, by the input's position (mul's ``{0: (1,), 1: (0,)}``: d/da reads
      b and d/db reads a, so ``x * 2.0`` keeps nothing of x).

    One rule serves two kinds of values. When the backward pass is recorded
    (``create_graph=True``), ``grad``, ``out`` and the inputs are Tensors and the rule's
    operations become nodes of the backward graph. Otherwise they are the numpy
    arrays inside those Tensors, and the same operations are plain numpy: no node to
    make, no argument checks, about a microsecond each instead of three or four.

    After :meth:`apply`, an op that was recorded also has ``parents`` (for each input,
    the op that made it, or the tensor itself for a leaf or a constant),
    ``needs_input_grad``, ``saved``, ``scope`` (the composite and module calls it was
    made in), ``grad_of`` (the op whose backward rule made it, if any) and
    ``recorded_at`` (see :func:`mark_changed`); ``inputs`` gives the input tensors.

    **What the graph keeps.** An op holds its input *ops* (and leaf tensors), not the
    intermediate tensors themselves, and it keeps a result's numbers (``saved``) only
    when a rule reads them: its own rule (``out`` in ``reads``) or the rule of an op that
    uses the result. So when a result nobody reads goes out of scope (the ``x @ w`` inside
    ``linear``, before the bias is added), its memory is freed, as in PyTorch. While you
    hold a tensor, ``op.inputs`` gives it back (``loss.op.inputs[0] is y``); for one you
    dropped it gives a stand-in with the same op, shape and dtype, and with the numbers
    if a rule kept them.
    """

    name = "op"
    # Set on an op (in its __dict__) by Tensor.retain_grad: backward then gives its result's gradient to .grad.
    retains_grad = False
    # "out" and the positions of the inputs the rule reads, or what each input's gradient reads.
    reads: tuple[int | str, ...] | dict[int, tuple[int | str, ...]] = ()
    # Subclasses add their own attributes (what backward needs) in forward.
    __slots__ = (
        "parents",
        "needs_input_grad",
        "scope",
        "grad_of",
        "recorded_at",
        "saved",
        "out_shape",
        "out_dtype",
        "_output",
        "__dict__",
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = _snake_case(cls.__name__)
        cls._reading: dict[tuple[bool, ...], tuple[tuple[bool, ...], bool, tuple[int, ...]]] = {}

    @classmethod
    def _what_rule_reads(
        cls, needs_input_grad: tuple[bool, ...]
    ) -> tuple[tuple[bool, ...], bool, tuple[int, ...]]:
        """The pattern ``needs_input_grad`` as one shared tuple, whether the rule reads ``out``,
        and which inputs it reads, given the gradients needed.

        Worked out once per pattern and remembered: every op of this kind with the same
        pattern then holds the same tuple, not one more object per op.
        """
        if isinstance(cls.reads, dict):
            needed = [position for position, needs in enumerate(needs_input_grad) if needs]
            read = {item for position in needed for item in cls.reads[position]}
        else:
            read = set(cls.reads)
        inputs_read = tuple(sorted(position for position in read if position != "out"))
        reading = cls._reading[needs_input_grad] = (needs_input_grad, "out" in read, inputs_read)
        return reading

    def forward(self, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: Any, out: Any, *inputs: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Tensor:
        """Compute the op on ``inputs``; record it if any input requires grad."""
        op = cls()
        # Most ops have two inputs and no parameters, and that case is spelled out: in
        # Python 3.11 a call with *args or **kwargs costs 0.2-0.4 µs more than a plain call,
        # and a list comprehension 0.15 µs; together, a sixth of a long chain's time.
        two_inputs = len(inputs) == 2 and not params
        if two_inputs:
            a, b = inputs
            data = op.forward(a.data, b.data)
            needs_input_grad = (a.requires_grad, b.requires_grad)
        else:
            data = op.forward(*[tensor.data for tensor in inputs], **params)
            needs_input_grad = tuple([tensor.requires_grad for tensor in inputs])
        if not _state.grad_enabled or True not in needs_input_grad:
            return Tensor._wrap(data)
        needs_input_grad, reads_out, inputs_read = cls._reading.get(needs_input_grad) or cls._what_rule_reads(
            needs_input_grad
        )
        # An input made by a recorded op is linked through that op; any other (a leaf, a
        # constant) is held as it is. Ops have no __bool__, so `or` picks the op.
        op.parents = (
            (a.op or a, b.op or b) if two_inputs else tuple([tensor.op or tensor for tensor in inputs])
        )
        op.needs_input_grad = needs_input_grad
        op.scope = _state.scope
        op.grad_of = _state.grad_of
        op.recorded_at = _state.changes
        op.saved = data if reads_out else None
        for position in inputs_read:
            producer = inputs[position].op
            if producer is not None:  # it keeps its result's numbers for this rule
                producer.saved = inputs[position].data
        op.out_shape, op.out_dtype = _shared_shape(data.shape), data.dtype
        out = Tensor._wrap(data, True, op)
        op._output = weakref.ref(out)
        return out

    @property
    def inputs(self) -> tuple[Tensor, ...]:
        """The input tensors (stand-ins for intermediate results that were dropped)."""
        return tuple([parent if isinstance(parent, Tensor) else parent.output for parent in self.parents])

    @property
    def output(self) -> Tensor:
        """The tensor this op made, or a stand-in for it once it has been dropped.

        The stand-in has this op, the shape and dtype, and the numbers if a rule kept
        them (see ``saved``); reading the numbers of one that has none is an error that
        says so. It is remembered while it lives, so two walks of the graph at once meet
        the same stand-in.
        """
        out = self._output()
        if out is None:
            out = Tensor._wrap(self.saved, True, self) if self.saved is not None else _FreedTensor(self)
            self._output = weakref.ref(out)
        return out

    def __repr__(self) -> str:
        return f"<{self.name}>"


# ---- backward ------------------------------------------------------------------------


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
    recorded_before_a_change = []
    while stack:
        node = stack.pop()
        if node.recorded_at != _state.changes:
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
                elif len(node.parents) == 2:  # the same as below, spelled out (see Op.apply)
                    a, b = node.parents
                    input_grads = node.backward(grad, node.saved, _saved_array(a), _saved_array(b))
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
                        uses[key] -= 1
                        if not uses[key]:
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
        return previous + grad
    current_scope = _state.scope
    _state.scope = () if isinstance(node, Tensor) else node.scope
    total = previous + grad
    _state.scope = current_scope
    if total.op is not None:
        total.op.sums_gradients = True
    return total


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
    return id(data if data.base is None else data.base)


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


# Tensor is imported last: tensor.py imports this module, and nothing above needs
# Tensor until an op is applied.
from minigrad.tensor import Tensor, _FreedTensor  # noqa: E402
