"""The engine: how operations are recorded.

Every primitive operation is an :class:`Op`. Applying one computes its result with
numpy and, when a gradient will be needed, keeps the op as the result's ``op``: a
node that remembers where its inputs came from (the ops that made them, or the
leaves) and the numbers its backward rule will read. The graph is nothing more than
these links. Results that no rule reads are not part of it: their memory is freed as
soon as the program drops them. How backward walks these links is in
:mod:`minigrad.autograd`.

This module also holds what recording depends on: whether it is on (``no_grad``),
the scopes that group the ops of one composite or module call for drawings, and the
count of changes made in place, which lets backward refuse numbers changed since
they were recorded.
"""

from __future__ import annotations

import functools
import inspect
import re
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np


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


class inference_mode(_GradMode):
    """PyTorch's faster no_grad; here the same as :class:`no_grad`: record nothing inside it.

    ``inference_mode(False)`` records again, as :class:`enable_grad` (and as PyTorch's
    does), so that a flag can choose: ``with mg.inference_mode(not training):``. Works
    as a decorator too, with or without parentheses.
    """

    def __new__(cls, mode: Any = True) -> Any:
        return super().__new__(cls, mode)  # so that mode may be passed by name

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode  # recording is on when inference mode is off


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
      b and d/db reads a, so ``x * 2.0`` keeps nothing of x);
    - rarely, ``extra_reads()``: numbers the rule reads from elsewhere (a Function's
      saved tensors), checked for changes in place as the inputs are.

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

    def extra_reads(self) -> list[tuple[np.ndarray, str]]:
        """Numbers the rule reads besides its inputs and result, each with what it is.

        Backward checks them for changes in place as it checks those (a Function's
        saved tensors); a primitive reads nothing else.
        """
        return []

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
        # The lookup first: most shapes were seen before, and a call costs more than the lookup.
        op.out_shape, op.out_dtype = _shapes.get(data.shape) or _shared_shape(data.shape), data.dtype
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


# Tensor is imported last: tensor.py imports this module, and nothing above needs
# Tensor until an op is applied.
from minigrad.tensor import Tensor, _FreedTensor  # noqa: E402
