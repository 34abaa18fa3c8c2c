"""einsum: products and sums of tensors written as an equation of axis names, composed of ops.

In ``einsum("ij,jk->ik", a, b)`` each letter names an axis: the operands are
multiplied along the letters they share, and the letters missing from the output
(after ``->``) are summed over, so this is the matrix product. ``...`` stands for the
axes no letter names, which broadcast as in numpy.

einsum has no backward rule of its own: it is made of ops whose rules give the
gradient. A letter repeated within one operand (``"ii->i"``) takes a diagonal, which
is indexing. A letter that only one operand has, and the output does not, is summed
over at once. The operands are then multiplied two at a time, left to right, each
pair by one batched matmul: transposes and reshapes turn each operand into a batch of
matrices, whose batch axis holds the shared letters still needed (by the output or a
later operand), the shared letters summed over become the inner axis of the matmul,
and the letters of one operand only become the rows or the columns.
"""

from __future__ import annotations

import math
from typing import Any

from minigrad import arrange, engine, ops
from minigrad.tensor import Tensor

# The axes under "..." are labelled "...0" (the last of them), "...1", ...: counted from
# the right, so that they line up across operands as broadcasting lines axes up. A
# label of several characters cannot be mistaken for a letter.
_ELLIPSIS = "..."


@engine.composite
def einsum(equation: str, *operands: Any) -> Tensor:
    """The sum of products that ``equation`` describes, numpy's and PyTorch's einsum.

    ``equation`` names the axes of each operand with letters (a-z, A-Z), operands
    separated by commas, and the output after ``->``. Letters shared by operands are
    multiplied along; letters left out of the output are summed over. Without ``->``
    the output is every letter that appears once, in alphabetical order (capitals
    first), after the axes under ``...``. A letter twice in one operand takes its
    diagonal. Lengths of 1 broadcast, as in PyTorch. The operands may also come as one
    list.

    Examples
    --------
    ``einsum("ij,jk->ik", a, b)`` is ``a @ b``; ``einsum("ij,jk", a, b)`` too.
    ``einsum("ii", m)`` is the trace, ``einsum("ii->i", m)`` the diagonal.
    ``einsum("i,j->ij", u, v)`` is the outer product, ``einsum("ij->ji", m)`` ``m.T``.
    ``einsum("bij,bjk->bik", a, b)`` is a batched matmul, ``einsum("...ij,...jk", a, b)``
    one with any batch axes, broadcasting.
    """
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the equation must be a string such as 'ij,jk->ik', got {equation!r}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = ops.as_tensors(operands) if operands else []
    shapes = [tensor.shape for tensor in tensors]
    terms, output = _parse(equation, shapes)
    lengths = _lengths(equation, shapes, terms)
    factors = [_distinct_axes(tensor, term, lengths) for tensor, term in zip(tensors, terms)]

    result, labels = factors[0]
    for index in range(1, len(factors)):
        factor, factor_labels = factors[index]
        later_labels = [later for _, later in factors[index + 1 :]]
        still_needed = set(output).union(*later_labels)
        result, labels = _multiply(result, labels, factor, factor_labels, still_needed, lengths)
    result, labels = _sum_over_unneeded(result, labels, set(output))
    return ops.transpose(result, [labels.index(label) for label in output])


# ---- reading the equation ---------------------------------------------------------------


def _parse(equation: str, shapes: list[tuple[int, ...]]) -> tuple[list[list[str]], list[str]]:
    """The labels of each operand's axes, and of the output's, with ``...`` spelled out."""
    inputs, arrow, output = equation.replace(" ", "").partition("->")
    if "->" in output:
        raise ValueError(f"einsum: {equation!r} has more than one '->'; the output follows a single one")
    written_terms = inputs.split(",")
    if len(written_terms) != len(shapes):
        raise ValueError(
            f"einsum: {equation!r} names {len(written_terms)} operand(s), but {len(shapes)} tensor(s) were given"
            f"{_listed(shapes)}; give one tensor per comma-separated term"
        )
    terms = [
        _operand_labels(term, shape, position, equation, shapes)
        for position, (term, shape) in enumerate(zip(written_terms, shapes))
    ]
    under_ellipsis = max(_ellipsis_count(term) for term in terms)
    ellipsis_labels = [f"{_ELLIPSIS}{k}" for k in reversed(range(under_ellipsis))]
    if not arrow:
        letters = [label for term in terms for label in term if not label.startswith(_ELLIPSIS)]
        return terms, ellipsis_labels + sorted(label for label in set(letters) if letters.count(label) == 1)
    before, after = _split_at_ellipsis(output, equation)
    output_labels = list(before) + ([] if after is None else ellipsis_labels + list(after))
    for label in output_labels:
        if output_labels.count(label) > 1:
            raise ValueError(
                f"einsum: {equation!r} has {label!r} twice in its output; each output axis is named once"
            )
        if not any(label in term for term in terms) and not label.startswith(_ELLIPSIS):
            raise ValueError(
                f"einsum: {equation!r} has {label!r} in its output, but no operand has an axis named {label!r}"
            )
    return terms, output_labels


def _split_at_ellipsis(term: str, equation: str) -> tuple[str, str | None]:
    """The letters of a term before and after its ``...``; ``(term, None)`` if it has none."""
    before, ellipsis, after = term.partition(_ELLIPSIS)
    if _ELLIPSIS in after:
        raise ValueError(
            f"einsum: {equation!r} has '...' twice in the term {term!r}; it may appear once in each"
        )
    for character in before + after:
        if not (character.isascii() and character.isalpha()):
            raise ValueError(
                f"einsum: {equation!r} has {character!r} in the term {term!r}; axes are named by the letters "
                f"a-z and A-Z, with ',' between operands, '->' before the output and '...' for the axes "
                f"not named"
            )
    return (before, after) if ellipsis else (before, None)


def _operand_labels(
    term: str, shape: tuple[int, ...], position: int, equation: str, shapes: list[tuple[int, ...]]
) -> list[str]:
    """One label per axis of an operand of ``shape``: its letters, and the labels of the axes under ``...``."""
    before, after = _split_at_ellipsis(term, equation)
    named = len(before) + len(after or "")
    if named > len(shape) or (after is None and named < len(shape)):
        raise ValueError(
            f"einsum: in {equation!r}{_listed(shapes)}, operand {position} has {len(shape)} axes, but "
            f"its term {term!r} names {named}; give one letter per axis, or '...' for the rest"
        )
    if after is None:
        return list(before)
    under_ellipsis = len(shape) - named
    return [*before, *(f"{_ELLIPSIS}{k}" for k in reversed(range(under_ellipsis))), *after]


def _ellipsis_count(labels: list[str]) -> int:
    return sum(label.startswith(_ELLIPSIS) for label in labels)


def _lengths(equation: str, shapes: list[tuple[int, ...]], terms: list[list[str]]) -> dict[str, int]:
    """The length of each label's axes, checking that they agree; 1 broadcasts to any length."""
    lengths: dict[str, int] = {}
    source: dict[str, int] = {}  # the operand each length was read from, for errors
    for position, (shape, term) in enumerate(zip(shapes, terms)):
        own: dict[str, int] = {}
        for label, length in zip(term, shape):
            if own.setdefault(label, length) != length:
                raise ValueError(
                    f"einsum: in {equation!r}{_listed(shapes)}, operand {position} names two axes "
                    f"{label!r}, of lengths {own[label]} and {length}; a letter repeated in one operand "
                    f"takes a diagonal, so its axes must be of one length"
                )
        for label, length in own.items():
            known = lengths.get(label, 1)
            if length != known and 1 not in (length, known):
                what = "an axis under '...'" if label.startswith(_ELLIPSIS) else repr(label)
                raise ValueError(
                    f"einsum: in {equation!r}{_listed(shapes)}, {what} has length {known} in operand "
                    f"{source[label]} but {length} in operand {position}; the axes of one name must be "
                    f"of one length, or of length 1, which broadcasts"
                )
            if known == 1:
                lengths[label], source[label] = length, position
    return lengths


def _listed(shapes: list[tuple[int, ...]]) -> str:
    return " with shapes " + ", ".join(str(shape) for shape in shapes) if shapes else ""


# ---- computing it -----------------------------------------------------------------------


def _distinct_axes(x: Tensor, labels: list[str], lengths: dict[str, int]) -> tuple[Tensor, list[str]]:
    """x with one axis per label: the diagonal of each repeated label, and axes of length 1 broadcast."""
    labels = list(labels)
    repeated = next((label for label in labels if labels.count(label) > 1), None)
    while repeated is not None:
        first = labels.index(repeated)
        second = labels.index(repeated, first + 1)
        x = arrange.diagonal(x, 0, first, second)  # the two axes go, the diagonal comes last
        labels = [label for position, label in enumerate(labels) if position not in (first, second)]
        labels.append(repeated)
        repeated = next((label for label in labels if labels.count(label) > 1), None)
    return ops.broadcast_to(x, [lengths[label] for label in labels]), labels


def _sum_over_unneeded(x: Tensor, labels: list[str], needed: set[str]) -> tuple[Tensor, list[str]]:
    """x summed over the axes whose labels are not ``needed``, and the labels left."""
    unneeded = tuple(position for position, label in enumerate(labels) if label not in needed)
    if not unneeded:
        return x, labels
    return x.sum(unneeded), [label for label in labels if label in needed]


def _multiply(
    a: Tensor, a_labels: list[str], b: Tensor, b_labels: list[str], needed: set[str], lengths: dict[str, int]
) -> tuple[Tensor, list[str]]:
    """The product of two operands, summed over the labels they share that are not ``needed``: one matmul."""
    a, a_labels = _sum_over_unneeded(a, a_labels, needed | set(b_labels))
    b, b_labels = _sum_over_unneeded(b, b_labels, needed | set(a_labels))
    shared = [label for label in a_labels if label in b_labels]
    batch = [label for label in shared if label in needed]
    summed = [label for label in shared if label not in needed]
    rows = [label for label in a_labels if label not in b_labels]
    columns = [label for label in b_labels if label not in a_labels]
    product = ops.matmul(
        _as_matrices(a, a_labels, (batch, rows, summed), lengths),
        _as_matrices(b, b_labels, (batch, summed, columns), lengths),
    )
    labels = batch + rows + columns
    return product.reshape([lengths[label] for label in labels]), labels


def _as_matrices(
    x: Tensor, labels: list[str], groups: tuple[list[str], list[str], list[str]], lengths: dict[str, int]
) -> Tensor:
    """x as a batch of matrices: its axes put in the order of ``groups``, and each group merged into one."""
    x = ops.transpose(x, [labels.index(label) for group in groups for label in group])
    return x.reshape([math.prod(lengths[label] for label in group) for group in groups])
