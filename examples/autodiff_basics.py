"""Autodiff in minigrad, from a scalar expression to tensors.

1. A scalar expression, one neuron and a loss: ``L = tanh(w * x + b) ** 2``. The
   chain rule worked by hand gives the same numbers as ``L.backward()``.
2. The same on tensors: a layer of neurons. Each gradient has its leaf's shape.
3. Broadcasting: adding a bias of shape (3,) to an input of shape (4, 3) inserts a
   ``broadcast_to`` op, and its backward sums the gradient over the copied axis.
4. A second derivative: ``mg.grad`` with ``create_graph=True``, differentiated again.
5. Checking any of it against finite differences with ``mg.gradcheck``.

Run ``python examples/autodiff_basics.py``; it prints and writes nothing else.
"""

from __future__ import annotations

import textwrap

import numpy as np

import minigrad as mg


def scalar_expression() -> None:
    """One neuron: the chain rule by hand vs ``backward()``."""
    print("1. A scalar expression: L = tanh(w * x + b) ** 2")
    x = mg.tensor(2.0, requires_grad=True)
    w = mg.tensor(-0.5, requires_grad=True)
    b = mg.tensor(0.3, requires_grad=True)
    u = w * x + b
    y = u.tanh()
    loss = y**2
    loss.backward()

    node, chain = loss, []
    while node.op is not None:  # each result remembers the op that made it, and its inputs
        chain.append(node.op.name)
        node = node.op.inputs[0]
    print(f"   L = {loss.item():.4f}, made by {' <- '.join(chain)}")

    # The chain rule: dL/dw = dL/dy * dy/du * du/dw, with
    # dL/dy = 2 y,  dy/du = 1 - tanh(u)**2 = 1 - y**2,  du/dw = x, du/dx = w, du/db = 1.
    dl_du = 2 * y.item() * (1 - y.item() ** 2)
    by_hand = {"w": dl_du * x.item(), "x": dl_du * w.item(), "b": dl_du * 1.0}
    print(f"   {'leaf':<6}{'by hand':>12}{'backward()':>12}")
    for name, leaf in (("w", w), ("x", x), ("b", b)):
        print(f"   {name:<6}{by_hand[name]:>12.6f}{leaf.grad.item():>12.6f}")


def layer_loss(W: mg.Tensor, b: mg.Tensor, x: mg.Tensor) -> mg.Tensor:
    """``sum(tanh(W @ x + b) ** 2)``: a layer of tanh neurons and a loss."""
    return ((W @ x + b).tanh() ** 2).sum()


def tensor_expression() -> None:
    """A layer of two neurons on three inputs: the same rule, one gradient per element."""
    print("\n2. Tensors: L = sum(tanh(W @ x + b) ** 2), W of shape (2, 3)")
    mg.manual_seed(0)
    W = mg.randn(2, 3, requires_grad=True)
    x = mg.tensor([1.0, -2.0, 0.5])
    b = mg.zeros(2, requires_grad=True)
    layer_loss(W, b, x).backward()
    y = np.tanh(W.data @ x.data + b.data)
    dl_du = 2 * y * (1 - y**2)
    print(f"   W.grad has W's shape {W.grad.shape}:\n" + textwrap.indent(str(W.grad.data), "   "))
    print(
        f"   by hand, outer(2 y (1 - y**2), x) differs by {np.abs(np.outer(dl_du, x.data) - W.grad.data).max():.1e}"
    )


def broadcasting() -> None:
    """Broadcasting is an op of its own; its backward is a sum."""
    print("\n3. Broadcasting: x of shape (4, 3) + b of shape (3,)")
    x = mg.tensor(np.arange(12.0).reshape(4, 3))
    b = mg.tensor([0.1, 0.2, 0.3], requires_grad=True)
    total = x + b
    copied = total.op.inputs[1]
    print(
        f"   x + b is {total.op.name} of {[t.shape for t in total.op.inputs]}; b went through {copied.op.name}"
    )
    weights = mg.tensor([[1.0, 2.0, 3.0]] * 4)
    (total * weights).sum().backward()
    print(f"   dL/d(x + b) is {weights.data[0]} in each of the 4 rows; each b[j] was used in all 4,")
    print(f"   so backward sums over the rows: b.grad = {b.grad.data}")


def second_derivative() -> None:
    """d/dx tanh(x) and d2/dx2 tanh(x), by differentiating the gradient."""
    print("\n4. A second derivative of y = tanh(x) at x = 0.5")
    x = mg.tensor(0.5, requires_grad=True)
    y = x.tanh()
    (dy_dx,) = mg.grad(y, x, create_graph=True)  # a tensor with a graph of its own
    (d2y_dx2,) = mg.grad(dy_dx, x)
    t = np.tanh(0.5)
    print(f"   dy/dx   = {dy_dx.item():.6f}   by hand 1 - tanh(x)**2             = {1 - t**2:.6f}")
    print(
        f"   d2y/dx2 = {d2y_dx2.item():.6f}  by hand -2 tanh(x) (1 - tanh(x)**2) = {-2 * t * (1 - t**2):.6f}"
    )


def finite_differences() -> None:
    """``mg.gradcheck`` compares backward with central differences, in float64."""
    print("\n5. mg.gradcheck on L(W, b) of part 2")
    x = mg.tensor([1.0, -2.0, 0.5], dtype=np.float64)
    W = mg.tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    b = mg.zeros(2, dtype=np.float64, requires_grad=True)
    agrees = mg.gradcheck(lambda W, b: layer_loss(W, b, x), [W, b])
    print(f"   backward agrees with finite differences: {agrees}")


def main() -> None:
    """Print the five steps, one after the other."""
    scalar_expression()
    tensor_expression()
    broadcasting()
    second_derivative()
    finite_differences()


if __name__ == "__main__":
    main()
