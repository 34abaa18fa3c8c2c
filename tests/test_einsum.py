"""einsum: values against numpy's einsum, gradients against finite differences, and its errors.

Covers minigrad/einsum.py. Broadcasting of letters of length 1, which numpy's einsum
does not do, is PyTorch 2.13's behaviour, checked by hand.
"""

import numpy as np
import pytest
from conftest import assert_gradcheck, random_array

import minigrad as mg
from minigrad.einsum import einsum

# (equation, operand shapes): each also a valid numpy einsum
EQUATIONS = {
    "matmul": ("ij,jk->ik", [(2, 3), (3, 4)]),
    "matmul, implicit output": ("ij,jk", [(2, 3), (3, 4)]),
    "transpose": ("ij->ji", [(2, 3)]),
    "sum of all": ("ij->", [(2, 3)]),
    "sum over an axis": ("ijk->ik", [(2, 3, 4)]),
    "trace": ("ii", [(3, 3)]),
    "diagonal": ("ii->i", [(3, 3)]),
    "diagonal of a batch": ("bii->bi", [(2, 3, 3)]),
    "three-way diagonal": ("iii->i", [(2, 2, 2)]),
    "repeated letter kept apart": ("iji->j", [(3, 2, 3)]),
    "dot": ("i,i->", [(4,), (4,)]),
    "outer": ("i,j->ij", [(3,), (4,)]),
    "batched matmul": ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    "bilinear form": ("i,ij,j->", [(3,), (3, 4), (4,)]),
    "three operands, batch kept": ("bi,bij,bj->b", [(2, 3), (2, 3, 4), (2, 4)]),
    "implicit order, capitals first": ("ba,Ab", [(2, 3), (4, 2)]),
    "scalar operand": (",ij->ij", [(), (2, 3)]),
    "a letter only one operand has": ("ij,k->ik", [(2, 3), (4,)]),
    "ellipsis batch": ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    "ellipsis, implicit output": ("...ij,...jk", [(5, 2, 3), (5, 3, 2)]),
    "ellipsis that broadcasts": ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),
    "ellipsis in the middle": ("i...j->j...i", [(2, 3, 4, 5)]),
    "ellipsis covering nothing": ("...i,i->...", [(3,), (3,)]),
    "spaces": ("ij , jk -> ik", [(2, 3), (3, 4)]),
}


@pytest.mark.parametrize(("equation", "shapes"), EQUATIONS.values(), ids=EQUATIONS.keys())
def test_einsum_matches_numpy(equation, shapes):
    arrays = [random_array(*shape, seed=position) for position, shape in enumerate(shapes)]
    out = einsum(equation, *arrays)
    expected = np.einsum(equation, *arrays)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("equation", "shapes"), EQUATIONS.values(), ids=EQUATIONS.keys())
def test_einsum_gradients(equation, shapes):
    arrays = [random_array(*shape, seed=position) for position, shape in enumerate(shapes)]
    assert_gradcheck(lambda *tensors: einsum(equation, *tensors), *arrays)


def test_einsum_second_derivatives():
    assert_gradcheck(
        lambda a, b: einsum("ij,jk,ii->k", a, b, a),
        random_array(3, 3),
        random_array(3, 2, seed=1),
        second_order=True,
    )


def test_einsum_broadcasts_letters_of_length_1_as_pytorch():
    a, b = random_array(2, 1), random_array(3, 4, seed=1)
    out = einsum("ij,jk->ik", a, b)
    np.testing.assert_allclose(out.data, np.broadcast_to(a, (2, 3)) @ b)
    assert_gradcheck(lambda x, y: einsum("ij,jk->ik", x, y), a, b)


def test_einsum_sums_the_axes_under_an_ellipsis_left_out_of_the_output_as_pytorch():
    x = random_array(2, 3, 4)
    np.testing.assert_allclose(einsum("...i->i", x).data, x.sum(axis=(0, 1)))  # numpy refuses it
    assert_gradcheck(lambda t: einsum("...i->i", t), x)


def test_einsum_takes_operands_as_one_list_and_keeps_float32():
    a = mg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    b = mg.tensor(np.ones((3, 2), np.float32))
    out = einsum("ij,jk", [a, b])
    assert out.dtype == np.float32 and out.requires_grad
    np.testing.assert_array_equal(out.data, np.full((2, 2), 3.0))
    out.sum().backward()
    assert a.grad.dtype == np.float32
    np.testing.assert_array_equal(a.grad.data, np.full((2, 3), 2.0))


def test_einsum_of_integers_is_not_recorded():
    out = einsum("i,i", np.arange(3), np.arange(3))
    assert out.item() == 5 and out.dtype.kind == "i" and not out.requires_grad


@pytest.mark.parametrize(
    ("equation", "shapes", "parts"),
    [
        ("ij,jk", [(2, 3), (4, 5)], ["einsum", "'j' has length 3 in operand 0 but 4 in operand 1", "(4, 5)"]),
        ("ii", [(2, 3)], ["operand 0 names two axes 'i', of lengths 2 and 3"]),
        ("ij", [(2, 3, 4)], ["operand 0 has 3 axes, but its term 'ij' names 2", "'...'"]),
        ("...ijk", [(2, 3)], ["operand 0 has 2 axes, but its term '...ijk' names 3"]),
        ("i,j", [(2,)], ["names 2 operand(s), but 1 tensor(s) were given"]),
        ("i->j", [(2,)], ["'j' in its output, but no operand"]),
        ("i->ii", [(2,)], ["'i' twice in its output"]),
        ("i-j", [(2,)], ["'-'", "letters a-z and A-Z"]),
        ("i1", [(2, 2)], ["'1'"]),
        ("...i...", [(2,)], ["'...' twice"]),
        ("i->i->i", [(2,)], ["more than one '->'"]),
        ("...ij,...jk", [(2, 3, 4), (3, 4, 5)], ["an axis under '...' has length 2 in operand 0 but 3"]),
    ],
)
def test_einsum_errors_name_the_equation_and_the_shapes(equation, shapes, parts):
    with pytest.raises(ValueError) as error_info:
        einsum(equation, *[np.zeros(shape) for shape in shapes])
    message = str(error_info.value)
    assert message.startswith("einsum: ")
    for part in parts + [repr(equation)]:
        assert part in message


def test_einsum_equation_must_be_a_string():
    with pytest.raises(TypeError, match="einsum: the equation must be a string"):
        einsum(np.zeros(2), "i")
