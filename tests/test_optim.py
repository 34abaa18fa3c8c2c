"""Tests of minigrad.optim: SGD, Adam, AdamW, RMSprop and Adagrad against their formulas, and resuming."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn, optim

# ---- a small quadratic: f(theta) = sum(a * (theta - c)^2), gradient 2 a (theta - c) ----------

THETA_0 = np.array([1.0, -2.0, 0.6])
A = np.array([1.0, 0.5, 2.0])
C = np.array([0.0, 0.5, 0.5])


def quadratic_gradient(theta):
    return 2 * A * (theta - C)


def backward_quadratic(param):
    """Fill param.grad by running backward through the quadratic in minigrad."""
    a, c = mg.tensor(A.astype(param.dtype)), mg.tensor(C.astype(param.dtype))
    (a * (param - c) ** 2).sum().backward()


def minigrad_steps(make_optimizer, steps=3, dtype=np.float64):
    """The parameter after each of the first ``steps`` steps on the quadratic."""
    param = mg.tensor(THETA_0.astype(dtype), requires_grad=True)
    opt = make_optimizer([param])
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        backward_quadratic(param)
        opt.step()
        trajectory.append(param.data.copy())
    return np.array(trajectory)


# ---- the algorithms, written from their formulas in plain numpy ----------------------


def sgd_by_hand(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False, steps=3):
    theta, b, trajectory = THETA_0.copy(), None, []
    for t in range(1, steps + 1):
        g = -quadratic_gradient(theta) if maximize else quadratic_gradient(theta)
        g = g + weight_decay * theta
        if momentum != 0:
            b = g if t == 1 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
        trajectory.append(theta)
    return np.array(trajectory)


def adam_by_hand(
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    maximize=False,
    decoupled=False,
    steps=3,
):
    beta1, beta2 = betas
    theta, m, v, v_max, trajectory = THETA_0.copy(), 0.0, 0.0, 0.0, []
    for t in range(1, steps + 1):
        g = -quadratic_gradient(theta) if maximize else quadratic_gradient(theta)
        if decoupled:
            theta = theta - lr * weight_decay * theta
        else:
            g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - beta1**t)
        v_hat = (v_max if amsgrad else v) / (1 - beta2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        trajectory.append(theta)
    return np.array(trajectory)


def adamw_by_hand(
    lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False, steps=3
):
    return adam_by_hand(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled=True, steps=steps)


def rmsprop_by_hand(
    lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False, steps=3
):
    theta, v, g_bar, b, trajectory = THETA_0.copy(), 0.0, 0.0, 0.0, []
    for _ in range(steps):
        g = -quadratic_gradient(theta) if maximize else quadratic_gradient(theta)
        g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g**2
        g_bar = alpha * g_bar + (1 - alpha) * g
        denominator = np.sqrt(v - g_bar**2 if centered else v) + eps
        b = momentum * b + g / denominator  # b_0 = 0, unlike SGD's momentum
        theta = theta - lr * (b if momentum > 0 else g / denominator)
        trajectory.append(theta)
    return np.array(trajectory)


def adagrad_by_hand(
    lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, maximize=False, steps=3
):
    theta, G, trajectory = THETA_0.copy(), initial_accumulator_value, []
    for t in range(1, steps + 1):
        g = -quadratic_gradient(theta) if maximize else quadratic_gradient(theta)
        g = g + weight_decay * theta
        G = G + g**2
        eta_t = lr / (1 + (t - 1) * lr_decay)
        theta = theta - eta_t * g / (np.sqrt(G) + eps)
        trajectory.append(theta)
    return np.array(trajectory)


CASES = [
    (optim.SGD, sgd_by_hand, {"lr": 0.1}),
    (optim.SGD, sgd_by_hand, {"lr": 0.1, "momentum": 0.9}),
    (optim.SGD, sgd_by_hand, {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    (optim.SGD, sgd_by_hand, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (optim.SGD, sgd_by_hand, {"lr": 0.1, "weight_decay": 0.3}),
    (optim.SGD, sgd_by_hand, {"lr": 0.1, "momentum": 0.8, "dampening": 0.2, "weight_decay": 0.3}),
    (optim.SGD, sgd_by_hand, {"lr": 0.1, "momentum": 0.8, "weight_decay": 0.3, "nesterov": True}),
    (optim.SGD, sgd_by_hand, {"lr": 0.1, "momentum": 0.8, "weight_decay": 0.3, "maximize": True}),
    (optim.Adam, adam_by_hand, {}),
    (optim.Adam, adam_by_hand, {"lr": 0.1}),
    (optim.Adam, adam_by_hand, {"lr": 0.1, "betas": (0.5, 0.8), "eps": 0.3}),
    (optim.Adam, adam_by_hand, {"lr": 0.1, "weight_decay": 0.5}),
    (optim.Adam, adam_by_hand, {"lr": 0.1, "amsgrad": True}),
    (optim.Adam, adam_by_hand, {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.5, "amsgrad": True}),
    (optim.Adam, adam_by_hand, {"lr": 0.1, "weight_decay": 0.5, "amsgrad": True, "maximize": True}),
    (optim.AdamW, adamw_by_hand, {}),
    (optim.AdamW, adamw_by_hand, {"lr": 0.1, "weight_decay": 0.5}),
    (optim.AdamW, adamw_by_hand, {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.5, "amsgrad": True}),
    (optim.AdamW, adamw_by_hand, {"lr": 0.1, "weight_decay": 0.5, "maximize": True}),
    (optim.RMSprop, rmsprop_by_hand, {}),
    (optim.RMSprop, rmsprop_by_hand, {"lr": 0.1, "alpha": 0.9, "eps": 0.1}),
    (optim.RMSprop, rmsprop_by_hand, {"lr": 0.1, "weight_decay": 0.3}),
    (optim.RMSprop, rmsprop_by_hand, {"lr": 0.1, "momentum": 0.9}),
    (optim.RMSprop, rmsprop_by_hand, {"lr": 0.1, "centered": True}),
    (optim.RMSprop, rmsprop_by_hand, {"lr": 0.1, "maximize": True}),
    (
        optim.RMSprop,
        rmsprop_by_hand,
        {"lr": 0.05, "alpha": 0.8, "weight_decay": 0.3, "momentum": 0.5, "centered": True, "maximize": True},
    ),
    (optim.Adagrad, adagrad_by_hand, {}),
    (optim.Adagrad, adagrad_by_hand, {"lr": 0.1, "lr_decay": 0.5}),
    (optim.Adagrad, adagrad_by_hand, {"lr": 0.1, "weight_decay": 0.3, "eps": 0.1}),
    (optim.Adagrad, adagrad_by_hand, {"lr": 0.1, "initial_accumulator_value": 0.4}),
    (
        optim.Adagrad,
        adagrad_by_hand,
        {"lr": 0.1, "lr_decay": 0.5, "weight_decay": 0.3, "initial_accumulator_value": 0.4, "maximize": True},
    ),
]
CASE_IDS = [f"{cls.__name__}-{options}" for cls, _, options in CASES]


@pytest.mark.parametrize(("cls", "by_hand", "options"), CASES, ids=CASE_IDS)
def test_first_three_steps_follow_the_formulas(cls, by_hand, options):
    got = minigrad_steps(lambda params: cls(params, **options))
    np.testing.assert_allclose(got, by_hand(**options), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("cls", "by_hand", "options"), CASES, ids=CASE_IDS)
def test_float32_stays_float32(cls, by_hand, options):
    param = mg.tensor(THETA_0.astype(np.float32), requires_grad=True)
    opt = cls([param], **options)
    for _ in range(3):
        opt.zero_grad()
        backward_quadratic(param)
        opt.step()
    assert param.dtype == np.float32
    for value in opt.state.get(param, {}).values():
        assert value.dtype in (np.float32, np.int64)
    np.testing.assert_allclose(param.data, by_hand(**options)[-1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("cls", "plain", "option"),
    [
        (optim.SGD, {"lr": 0.1}, {"momentum": 0.9}),
        (optim.SGD, {"lr": 0.1, "momentum": 0.9}, {"dampening": 0.5}),
        (optim.SGD, {"lr": 0.1, "momentum": 0.9}, {"nesterov": True}),
        (optim.SGD, {"lr": 0.1}, {"weight_decay": 0.3}),
        (optim.Adam, {"lr": 0.1}, {"amsgrad": True}),
        (optim.Adam, {"lr": 0.1}, {"weight_decay": 0.5}),
        (optim.Adam, {"lr": 0.1}, {"eps": 0.3}),
        (optim.AdamW, {"lr": 0.1}, {"weight_decay": 0.5}),
        (optim.SGD, {"lr": 0.1}, {"maximize": True}),
        (optim.Adam, {"lr": 0.1}, {"maximize": True}),
        (optim.AdamW, {"lr": 0.1}, {"maximize": True}),
        (optim.RMSprop, {"lr": 0.1}, {"alpha": 0.5}),
        (optim.RMSprop, {"lr": 0.1}, {"eps": 0.3}),
        (optim.RMSprop, {"lr": 0.1}, {"weight_decay": 0.3}),
        (optim.RMSprop, {"lr": 0.1}, {"momentum": 0.9}),
        (optim.RMSprop, {"lr": 0.1}, {"centered": True}),
        (optim.RMSprop, {"lr": 0.1}, {"maximize": True}),
        (optim.Adagrad, {"lr": 0.1}, {"lr_decay": 0.5}),
        (optim.Adagrad, {"lr": 0.1}, {"weight_decay": 0.3}),
        (optim.Adagrad, {"lr": 0.1}, {"initial_accumulator_value": 0.4}),
        (optim.Adagrad, {"lr": 0.1}, {"eps": 0.3}),
        (optim.Adagrad, {"lr": 0.1}, {"maximize": True}),
    ],
)
def test_each_option_changes_the_first_three_steps(cls, plain, option):
    # Makes sure the cases above exercise the options rather than pass trivially.
    without = minigrad_steps(lambda params: cls(params, **plain))
    with_option = minigrad_steps(lambda params: cls(params, **plain, **option))
    assert not np.allclose(without, with_option, rtol=1e-9, atol=0)


# Any options in the ranges PyTorch accepts, except alpha < 0.1, where the centered
# variance v_t - g_bar_t^2 cancels down to rounding noise.
ANY_OPTIONS = {
    "SGD": st.fixed_dictionaries(
        {
            "lr": st.floats(0, 1),
            "momentum": st.floats(0, 0.99),
            "dampening": st.one_of(st.just(0.0), st.floats(0, 1)),
            "weight_decay": st.floats(0, 1),
            "nesterov": st.booleans(),
            "maximize": st.booleans(),
        }
    ).filter(
        lambda options: not options["nesterov"] or (options["momentum"] > 0 and options["dampening"] == 0)
    ),
    "Adam": st.fixed_dictionaries(
        {
            "lr": st.floats(0, 1),
            "betas": st.tuples(st.floats(0, 0.99), st.floats(0, 0.999)),
            "eps": st.floats(1e-8, 1),
            "weight_decay": st.floats(0, 1),
            "amsgrad": st.booleans(),
            "maximize": st.booleans(),
        }
    ),
    "RMSprop": st.fixed_dictionaries(
        {
            "lr": st.floats(0, 1),
            "alpha": st.floats(0.1, 0.999),
            "eps": st.floats(1e-8, 1),
            "weight_decay": st.floats(0, 1),
            "momentum": st.floats(0, 0.99),
            "centered": st.booleans(),
            "maximize": st.booleans(),
        }
    ),
    "Adagrad": st.fixed_dictionaries(
        {
            "lr": st.floats(0, 1),
            "lr_decay": st.floats(0, 1),
            "weight_decay": st.floats(0, 1),
            "initial_accumulator_value": st.floats(0, 1),
            "eps": st.floats(1e-10, 1),
            "maximize": st.booleans(),
        }
    ),
}
ANY_OPTIONS["AdamW"] = ANY_OPTIONS["Adam"]
BY_HAND = {
    optim.SGD: sgd_by_hand,
    optim.Adam: adam_by_hand,
    optim.AdamW: adamw_by_hand,
    optim.RMSprop: rmsprop_by_hand,
    optim.Adagrad: adagrad_by_hand,
}


@pytest.mark.parametrize("cls", list(BY_HAND), ids=lambda cls: cls.__name__)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_any_options_follow_the_formulas_for_five_steps(cls, data):
    options = data.draw(ANY_OPTIONS[cls.__name__], label="options")
    got = minigrad_steps(lambda params: cls(params, **options), steps=5)
    # Not 1e-12: with lr near 1 a step can land theta within rounding of c, where the
    # gradient 2 a (theta - c) keeps few exact digits, and Adam with a small beta2 then
    # divides by little more than that gradient.
    np.testing.assert_allclose(got, BY_HAND[cls](**options, steps=5), rtol=1e-6, atol=1e-12)


MAXIMIZE_CASES = [
    (optim.SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}),
    (optim.Adam, {"lr": 0.1, "weight_decay": 0.1, "amsgrad": True}),
    (optim.AdamW, {"lr": 0.1}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1}),
]


@pytest.mark.parametrize(("cls", "options"), MAXIMIZE_CASES, ids=[cls.__name__ for cls, _ in MAXIMIZE_CASES])
def test_maximize_steps_as_minimizing_with_the_gradient_negated(cls, options):
    # As in PyTorch, maximize negates the gradient only: weight decay still pulls towards 0.
    gradients = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    ascending, descending = (mg.tensor(THETA_0.astype(np.float32), requires_grad=True) for _ in range(2))
    ascending_opt = cls([ascending], maximize=True, **options)
    descending_opt = cls([descending], **options)
    for g in gradients:
        ascending.grad, descending.grad = mg.tensor(g), mg.tensor(-g)
        ascending_opt.step()
        descending_opt.step()
    np.testing.assert_array_equal(ascending.data, descending.data)


@pytest.mark.parametrize(("cls", "options"), MAXIMIZE_CASES, ids=[cls.__name__ for cls, _ in MAXIMIZE_CASES])
def test_maximize_climbs_a_concave_function(cls, options):
    def concave(param):
        return -(mg.tensor(A) * (param - mg.tensor(C)) ** 2).sum()

    options = {**options, "weight_decay": 0}
    param = mg.tensor(THETA_0, requires_grad=True)
    opt = cls([param], maximize=True, **options)
    start = concave(param).item()
    for _ in range(10):
        opt.zero_grad()
        concave(param).backward()
        opt.step()
    assert concave(param).item() > start
    assert np.abs(param.data - C).sum() < np.abs(THETA_0 - C).sum()


def test_sgd_first_momentum_step_uses_the_raw_gradient():
    # theta = 1, g = 2: b_1 = g_1 = 2, undampened, so theta_1 = 1 - 0.1 * 2.
    param = mg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([param], lr=0.1, momentum=0.9, dampening=0.5)
    param.grad = mg.tensor([2.0])
    opt.step()
    np.testing.assert_allclose(param.data, [0.8])
    np.testing.assert_allclose(opt.state[param]["momentum_buffer"], [2.0])
    # b_2 = 0.9 * 2 + (1 - 0.5) * 2 = 2.8; theta_2 = 0.8 - 0.1 * 2.8
    opt.step()
    np.testing.assert_allclose(param.data, [0.52])


def test_adam_adds_eps_outside_the_square_root():
    # After one step m_hat = g and v_hat = g^2, so theta_1 = theta_0 - lr * g / (|g| + eps).
    param = mg.tensor([0.0], requires_grad=True)
    opt = optim.Adam([param], lr=1.0, eps=0.5)
    param.grad = mg.tensor([2.0])
    opt.step()
    np.testing.assert_allclose(param.data, [-2.0 / (2.0 + 0.5)], rtol=1e-6)


def test_adamw_decays_the_weights_before_the_adam_step():
    # A zero gradient leaves m = v = 0, so only the decay moves theta: theta (1 - lr lambda).
    param = mg.tensor([2.0], requires_grad=True)
    opt = optim.AdamW([param], lr=0.1, weight_decay=0.5)
    param.grad = mg.tensor([0.0])
    opt.step()
    np.testing.assert_allclose(param.data, [2.0 * (1 - 0.1 * 0.5)], rtol=1e-6)


def test_adamw_without_weight_decay_is_adam():
    adam = minigrad_steps(lambda params: optim.Adam(params, lr=0.1), steps=5)
    adamw = minigrad_steps(lambda params: optim.AdamW(params, lr=0.1, weight_decay=0), steps=5)
    np.testing.assert_array_equal(adam, adamw)


def test_rmsprop_momentum_buffer_starts_at_zero():
    # theta = 1, g = 2, alpha = 0.99: v_1 = 0.01 * 4, so b_1 = 0.9 * 0 + 2 / sqrt(0.04) = 10,
    # where SGD's first buffer would be the raw gradient, 2.
    param = mg.tensor([1.0], requires_grad=True, dtype=np.float64)
    opt = optim.RMSprop([param], lr=0.01, momentum=0.9, eps=0)
    param.grad = mg.tensor([2.0], dtype=np.float64)
    opt.step()
    np.testing.assert_allclose(opt.state[param]["momentum_buffer"], [10.0])
    np.testing.assert_allclose(param.data, [1.0 - 0.01 * 10.0])


def test_rmsprop_centered_divides_by_the_running_standard_deviation():
    # alpha = 0.5, g = 2: v_1 = 2 and g_bar_1 = 1, so the root mean square is sqrt(2),
    # and the standard deviation sqrt(2 - 1^2) = 1.
    for centered, denominator in [(False, np.sqrt(2.0)), (True, 1.0)]:
        param = mg.tensor([0.0], requires_grad=True, dtype=np.float64)
        opt = optim.RMSprop([param], lr=0.1, alpha=0.5, eps=0, centered=centered)
        param.grad = mg.tensor([2.0], dtype=np.float64)
        opt.step()
        np.testing.assert_allclose(param.data, [-0.1 * 2.0 / denominator])


def test_adagrad_steps_shrink_as_the_squares_add_up():
    # A constant gradient g: G_t = t g^2, so step t moves theta by lr / sqrt(t), whatever g is.
    param = mg.tensor([0.0], requires_grad=True, dtype=np.float64)
    opt = optim.Adagrad([param], lr=0.1, eps=0)
    moves = []
    for _ in range(4):
        before = param.data.copy()
        param.grad = mg.tensor([-7.0], dtype=np.float64)
        opt.step()
        moves.append((param.data - before)[0])
    np.testing.assert_allclose(moves, 0.1 / np.sqrt([1.0, 2.0, 3.0, 4.0]))


def test_adagrad_makes_its_state_with_the_optimizer():
    used, unused = _param(), mg.tensor([[1.0, 2.0]], requires_grad=True)
    opt = optim.Adagrad([used, unused], initial_accumulator_value=0.5)
    state_dict = opt.state_dict()
    assert list(state_dict["state"]) == [0, 1]
    assert int(state_dict["state"][1]["step"]) == 0
    np.testing.assert_array_equal(state_dict["state"][1]["sum"], [[0.5, 0.5]])
    used.grad = mg.tensor([1.0])
    opt.step()
    assert int(opt.state[used]["step"]) == 1
    assert int(opt.state[unused]["step"]) == 0  # skipped: no gradient
    np.testing.assert_array_equal(unused.data, [[1.0, 2.0]])


def test_adagrad_groups_start_from_their_own_initial_accumulator_value():
    # PyTorch 2.13 starts every group from the optimizer's value; minigrad honours the group's.
    first, second, added = _param(), _param(), _param()
    opt = optim.Adagrad([{"params": [first]}, {"params": [second], "initial_accumulator_value": 2.0}])
    opt.add_param_group({"params": [added], "initial_accumulator_value": 3.0})
    assert added not in opt.state  # made at its first step, as in PyTorch
    added.grad = mg.tensor([1.0])
    opt.step()
    np.testing.assert_array_equal(opt.state[first]["sum"], [0.0])
    np.testing.assert_array_equal(opt.state[second]["sum"], [2.0])
    np.testing.assert_array_equal(opt.state[added]["sum"], [3.0 + 1.0])


# ---- how step treats parameters ------------------------------------------------------


def test_step_updates_the_data_in_place_and_records_no_graph():
    param = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    data, row = param.data, param.data[0]
    opt = optim.Adam([param], lr=0.1)
    (param * param).sum().backward()
    opt.step()
    assert param.data is data
    np.testing.assert_allclose(row, [0.9, 1.9], rtol=1e-6)
    assert param.is_leaf and param.op is None and param.requires_grad


def test_step_accepts_a_gradient_that_carries_a_graph():
    param = mg.tensor([1.0, -1.0], requires_grad=True)
    (param**3).sum().backward(create_graph=True)
    assert not param.grad.is_leaf
    optim.SGD([param], lr=0.1).step()
    np.testing.assert_allclose(param.data, [0.7, -1.3], rtol=1e-6)
    assert param.is_leaf


def test_parameters_without_a_gradient_are_skipped():
    used, unused = mg.tensor([1.0], requires_grad=True), mg.tensor([5.0], requires_grad=True)
    opt = optim.Adam([used, unused], lr=0.1, weight_decay=0.1)
    for _ in range(3):
        opt.zero_grad()
        (used * used).sum().backward()
        opt.step()
    np.testing.assert_array_equal(unused.data, [5.0])
    assert unused not in opt.state
    assert int(opt.state[used]["step"]) == 3


@pytest.mark.parametrize(
    ("grad", "message"),
    [
        (mg.tensor(np.arange(3.0)), r"has shape \(3,\) and dtype float64"),  # would broadcast over (2, 3)
        (mg.zeros(2, 3, dtype=np.float32), r"has shape \(2, 3\) and dtype float32"),
        (np.zeros((2, 3)), "is a ndarray, not a Tensor"),
    ],
    ids=["shape", "dtype", "array"],
)
@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam])
def test_a_grad_set_by_hand_that_does_not_fit_is_an_error_before_any_update(cls, grad, message):
    fine = mg.tensor(np.ones(2), requires_grad=True)
    param = mg.tensor(np.ones((2, 3)), requires_grad=True)
    opt = cls([fine, param], lr=0.1, momentum=0.9) if cls is optim.SGD else cls([fine, param], lr=0.1)
    fine.grad, param.grad = mg.tensor(np.ones(2)), grad
    with pytest.raises(
        (ValueError, TypeError), match=rf"{cls.__name__}.step: the .grad of param_groups\[0\] parameter 1"
    ):
        opt.step()
    with pytest.raises((ValueError, TypeError), match=message):
        opt.step()
    np.testing.assert_array_equal(fine.data, np.ones(2))  # nothing was updated
    assert not opt.state


def test_adam_counts_steps_per_parameter():
    first, second = mg.tensor([1.0], requires_grad=True), mg.tensor([1.0], requires_grad=True)
    opt = optim.Adam([first, second], lr=0.1)
    first.grad = mg.tensor([1.0])
    opt.step()
    second.grad = mg.tensor([1.0])
    opt.step()
    assert int(opt.state[first]["step"]) == 2
    assert int(opt.state[second]["step"]) == 1
    # Bias correction makes every parameter's first step lr * sign(g).
    np.testing.assert_allclose(second.data, [0.9], rtol=1e-6)


def test_zero_grad_sets_gradients_to_none_by_default():
    param = mg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([param], lr=0.1)
    (param * param).sum().backward()
    opt.zero_grad()
    assert param.grad is None


def test_zero_grad_can_set_gradients_to_zeros():
    param = mg.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    opt = optim.SGD([param], lr=0.1, weight_decay=0.5)
    (param * param).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(param.grad.data, [0.0, 0.0])
    assert param.grad.dtype == np.float32
    # A zero gradient is still a gradient: weight decay moves the parameter.
    opt.step()
    np.testing.assert_allclose(param.data, [0.95, 1.9], rtol=1e-6)


def test_step_runs_the_closure_and_returns_its_loss():
    param = mg.tensor([3.0], requires_grad=True)
    opt = optim.SGD([param], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (param * param).sum()
        loss.backward()
        return loss

    with mg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0
    np.testing.assert_allclose(param.data, [1.5])


# ---- parameter groups ----------------------------------------------------------------


def test_param_groups_have_their_own_learning_rates():
    body, head = mg.tensor([1.0], requires_grad=True), mg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [body]}, {"params": [head], "lr": 0.5}], lr=0.1)
    (body * 2 + head * 2).sum().backward()
    opt.step()
    np.testing.assert_allclose(body.data, [1.0 - 0.1 * 2])
    np.testing.assert_allclose(head.data, [1.0 - 0.5 * 2])
    assert [group["lr"] for group in opt.param_groups] == [0.1, 0.5]


def test_param_groups_take_missing_options_from_the_defaults():
    body, head = mg.tensor([1.0], requires_grad=True), mg.tensor([1.0], requires_grad=True)
    opt = optim.Adam([{"params": [body], "betas": (0.5, 0.6)}, {"params": head}], lr=0.1)
    assert opt.param_groups[0]["betas"] == (0.5, 0.6)
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    assert opt.param_groups[1]["params"] == [head]
    assert opt.param_groups[0]["lr"] == opt.param_groups[1]["lr"] == 0.1


def test_add_param_group_adds_parameters_to_optimize():
    frozen, unfrozen = mg.tensor([1.0], requires_grad=True), mg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([frozen], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": [unfrozen], "lr": 0.01})
    unfrozen.grad = mg.tensor([1.0])
    opt.step()
    np.testing.assert_allclose(unfrozen.data, [0.99])
    assert opt.param_groups[1]["momentum"] == 0.9


def test_parameters_may_come_from_a_generator():
    params = [mg.tensor([1.0], requires_grad=True), mg.tensor([2.0], requires_grad=True)]
    opt = optim.SGD(iter(params), lr=0.1)
    assert opt.param_groups[0]["params"] == params


def test_repr_lists_each_group():
    opt = optim.SGD([mg.tensor([1.0], requires_grad=True)], lr=0.1, momentum=0.9)
    assert repr(opt).startswith("SGD (\nParameter Group 0\n")
    assert "    momentum: 0.9\n" in repr(opt)


# ---- bad input -----------------------------------------------------------------------


def _param():
    return mg.tensor([1.0], requires_grad=True)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: optim.SGD([_param()], lr=-0.1), r"SGD: invalid learning rate lr=-0\.1"),
        (lambda: optim.Adam([_param()], lr=-1.0), r"Adam: invalid learning rate lr=-1\.0"),
        (lambda: optim.SGD([_param()], lr=0.1, momentum=-0.5), r"SGD: invalid momentum=-0\.5"),
        (lambda: optim.SGD([_param()], lr=0.1, weight_decay=-1), r"SGD: invalid weight_decay=-1"),
        (lambda: optim.SGD([_param()], lr=0.1, nesterov=True), r"SGD: nesterov=True needs momentum > 0"),
        (
            lambda: optim.SGD([_param()], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
            r"dampening=0\.1",
        ),
        (lambda: optim.Adam([_param()], betas=(1.0, 0.999)), r"Adam: invalid betas=\(1\.0, 0\.999\)"),
        (lambda: optim.AdamW([_param()], betas=(0.9, -0.1)), r"AdamW: invalid betas=\(0\.9, -0\.1\)"),
        (lambda: optim.Adam([_param()], eps=-1e-8), r"Adam: invalid eps=-1e-08"),
        (lambda: optim.AdamW([_param()], weight_decay=-0.1), r"AdamW: invalid weight_decay=-0\.1"),
        (lambda: optim.RMSprop([_param()], lr=-0.01), r"RMSprop: invalid learning rate lr=-0\.01"),
        (lambda: optim.RMSprop([_param()], alpha=-0.5), r"RMSprop: invalid alpha=-0\.5"),
        (lambda: optim.RMSprop([_param()], eps=-1e-8), r"RMSprop: invalid eps=-1e-08"),
        (lambda: optim.RMSprop([_param()], weight_decay=-1), r"RMSprop: invalid weight_decay=-1"),
        (lambda: optim.RMSprop([_param()], momentum=-0.9), r"RMSprop: invalid momentum=-0\.9"),
        (lambda: optim.Adagrad([_param()], lr=-0.01), r"Adagrad: invalid learning rate lr=-0\.01"),
        (lambda: optim.Adagrad([_param()], lr_decay=-0.1), r"Adagrad: invalid lr_decay=-0\.1"),
        (lambda: optim.Adagrad([_param()], weight_decay=-1), r"Adagrad: invalid weight_decay=-1"),
        (
            lambda: optim.Adagrad([_param()], initial_accumulator_value=-0.1),
            r"Adagrad: invalid initial_accumulator_value=-0\.1",
        ),
        (lambda: optim.Adagrad([_param()], eps=-1e-10), r"Adagrad: invalid eps=-1e-10"),
        (
            lambda: optim.Adagrad([{"params": [_param()], "lr_decay": -2}]),
            r"Adagrad: invalid lr_decay=-2",
        ),
        (lambda: optim.SGD([{"params": [_param()], "lr": -2}], lr=0.1), r"SGD: invalid learning rate lr=-2"),
        (lambda: optim.SGD([], lr=0.1), r"SGD: got an empty parameter list"),
        (lambda: optim.Adam(iter([])), r"Adam: got an empty parameter list"),
    ],
)
def test_bad_hyperparameters_raise_value_error_naming_the_optimizer(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_parameter_in_two_groups_is_an_error():
    shared = _param()
    with pytest.raises(ValueError, match="SGD: some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [shared, _param()]}, {"params": [shared]}], lr=0.1)


def test_a_parameter_twice_in_one_group_is_an_error():
    param = _param()
    with pytest.raises(ValueError, match="more than once"):
        optim.Adam([param, param])


def test_a_computed_tensor_cannot_be_optimized():
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([_param() * 2], lr=0.1)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (mg.tensor([1.0, 2.0], requires_grad=True), "single Tensor"),
        ([np.array([1.0])], "can only optimize Tensors.*ndarray"),
        ([{"params": {mg.tensor([1.0], requires_grad=True)}}], "not a set"),
    ],
)
def test_parameters_of_the_wrong_kind_raise_type_error(params, message):
    with pytest.raises(TypeError, match=message):
        optim.SGD(params, lr=0.1)


# ---- state_dict and resuming ---------------------------------------------------------


def make_model(dtype=np.float32):
    """Parameters of a tiny regression model: a weight, a bias and a 0-d scale."""
    rng = np.random.default_rng(0)
    return [
        mg.tensor(rng.standard_normal((3, 2)).astype(dtype), requires_grad=True),
        mg.tensor(rng.standard_normal(2).astype(dtype), requires_grad=True),
        mg.tensor(np.array(1.5, dtype=dtype), requires_grad=True),
    ]


def make_training(cls, options, params):
    opt = cls([{"params": params[:1]}, {"params": params[1:], "lr": 0.02}], **options)
    scheduler = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    return opt, scheduler


def train(params, opt, scheduler, steps, start):
    rng = np.random.default_rng(1)
    batches = [(rng.standard_normal((4, 3)), rng.standard_normal((4, 2))) for _ in range(start + steps)]
    weight, bias, scale = params
    for x, y in batches[start:]:
        opt.zero_grad()
        prediction = (mg.tensor(x.astype(weight.dtype)) @ weight + bias) * scale
        ((prediction - mg.tensor(y.astype(weight.dtype))) ** 2).mean().backward()
        opt.step()
        scheduler.step()


def through_a_file(state_dict, path):
    """The optimizer state dict saved as plain numpy arrays with mg.save, and loaded back."""
    flat = {}
    for index, param_state in state_dict["state"].items():
        for key, value in param_state.items():
            flat[f"state/{index}/{key}"] = np.asarray(value)
    for position, group in enumerate(state_dict["param_groups"]):
        for key, value in group.items():
            flat[f"param_groups/{position}/{key}"] = np.asarray(value)
    mg.save(flat, path)
    rebuilt = {"state": {}, "param_groups": [{} for _ in state_dict["param_groups"]]}
    for name, array in mg.load(path).items():
        part, index, key = name.split("/")
        if part == "state":
            rebuilt["state"].setdefault(int(index), {})[key] = array
        else:
            rebuilt["param_groups"][int(index)][key] = array
    return rebuilt


RESUME_CASES = [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-3, "nesterov": True}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.1}),
    (optim.Adam, {"lr": 0.05, "amsgrad": True, "weight_decay": 1e-3}),
    (optim.AdamW, {"lr": 0.05, "betas": (0.8, 0.99)}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 1e-3}),
    (optim.RMSprop, {"lr": 0.01, "alpha": 0.9}),
    (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "maximize": True}),
]


def through_mg_save(state_dict, path):
    """The optimizer state dict as it is, written with mg.save and read back with mg.load."""
    mg.save(state_dict, path)
    return mg.load(path)


@pytest.mark.parametrize(
    "via_file", [None, through_a_file, through_mg_save], ids=["dict", "flat-file", "mg.save"]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("cls", "options"), RESUME_CASES, ids=[cls.__name__ for cls, _ in RESUME_CASES])
def test_resuming_from_state_dict_gives_the_same_trajectory_bit_for_bit(
    cls, options, dtype, via_file, tmp_path
):
    params = make_model(dtype)
    opt, scheduler = make_training(cls, options, params)
    train(params, opt, scheduler, steps=4, start=0)
    checkpoint = {
        "params": [param.data.copy() for param in params],
        "optimizer": via_file(opt.state_dict(), tmp_path / "opt.npz") if via_file else opt.state_dict(),
        "scheduler": scheduler.state_dict(),
    }
    train(params, opt, scheduler, steps=5, start=4)  # the uninterrupted run

    resumed = make_model(dtype)
    for param, saved in zip(resumed, checkpoint["params"]):
        param.data[...] = saved
    resumed_opt, resumed_scheduler = make_training(cls, options, resumed)
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    resumed_scheduler.load_state_dict(checkpoint["scheduler"])
    train(resumed, resumed_opt, resumed_scheduler, steps=5, start=4)

    for param, resumed_param in zip(params, resumed):
        assert resumed_param.dtype == dtype
        np.testing.assert_array_equal(resumed_param.data, param.data)
    assert resumed_opt.param_groups[1]["lr"] == opt.param_groups[1]["lr"]


def test_state_dict_has_pytorchs_layout():
    weight, bias = mg.tensor([1.0, 2.0], requires_grad=True), mg.tensor([3.0], requires_grad=True)
    unused = mg.tensor([0.0], requires_grad=True)
    opt = optim.SGD([{"params": [weight, unused]}, {"params": [bias], "lr": 0.5}], lr=0.1, momentum=0.9)
    (weight.sum() + bias.sum()).backward()
    opt.step()
    state_dict = opt.state_dict()
    assert list(state_dict["state"]) == [0, 2]
    np.testing.assert_array_equal(state_dict["state"][0]["momentum_buffer"], [1.0, 1.0])
    sgd = {"momentum": 0.9, "dampening": 0, "weight_decay": 0, "nesterov": False, "maximize": False}
    assert state_dict["param_groups"] == [
        {"lr": 0.1, **sgd, "params": [0, 1]},
        {"lr": 0.5, **sgd, "params": [2]},
    ]


# PyTorch 2.13's state dicts for these optimizers after one step, key order included,
# less the keys it has for devices and compilation (foreach, capturable, fused, ...).
PYTORCH_LAYOUTS = [
    (
        lambda params: optim.RMSprop(params, momentum=0.9, centered=True),
        ["step", "square_avg", "momentum_buffer", "grad_avg"],
        {"lr": 0.01, "momentum": 0.9, "alpha": 0.99, "eps": 1e-8, "centered": True, "weight_decay": 0},
    ),
    (
        lambda params: optim.RMSprop(params),
        ["step", "square_avg"],
        {"lr": 0.01, "momentum": 0, "alpha": 0.99, "eps": 1e-8, "centered": False, "weight_decay": 0},
    ),
    (
        lambda params: optim.Adagrad(params),
        ["step", "sum"],
        {"lr": 0.01, "lr_decay": 0, "eps": 1e-10, "weight_decay": 0, "initial_accumulator_value": 0},
    ),
    (
        lambda params: optim.Adam(params),
        ["step", "exp_avg", "exp_avg_sq"],
        {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0, "amsgrad": False},
    ),
]


@pytest.mark.parametrize(
    ("make", "state_keys", "group"), PYTORCH_LAYOUTS, ids=["RMSprop-centered", "RMSprop", "Adagrad", "Adam"]
)
def test_state_and_group_keys_come_in_pytorchs_order(make, state_keys, group):
    param = _param()
    opt = make([param])
    param.grad = mg.tensor([1.0])
    opt.step()
    state_dict = opt.state_dict()
    assert list(state_dict["state"][0]) == state_keys
    # maximize comes after the keys above; Adam's decoupled_weight_decay after it.
    after = [("decoupled_weight_decay", False)] if isinstance(opt, optim.Adam) else []
    expected = [*group.items(), ("maximize", False), *after, ("params", [0])]
    assert list(state_dict["param_groups"][0].items()) == expected


def test_state_dict_and_load_state_dict_copy_the_arrays():
    param = mg.tensor([1.0], requires_grad=True)
    opt = optim.Adam([param], lr=0.1)
    param.grad = mg.tensor([1.0])
    opt.step()
    saved = opt.state_dict()
    opt.step()
    assert int(saved["state"][0]["step"]) == 1
    other = optim.Adam([mg.tensor([1.0], requires_grad=True)], lr=0.1)
    other.load_state_dict(saved)
    saved["state"][0]["exp_avg"][...] = 100.0
    assert other.state_dict()["state"][0]["exp_avg"][0] != 100.0


def test_load_state_dict_gives_floating_state_the_parameters_dtype():
    param = mg.tensor(np.array([1.0], dtype=np.float32), requires_grad=True)
    opt = optim.SGD([param], lr=0.1, momentum=0.9)
    state = {0: {"momentum_buffer": np.array([0.5])}}
    opt.load_state_dict({"state": state, "param_groups": opt.state_dict()["param_groups"]})
    assert opt.state[param]["momentum_buffer"].dtype == np.float32


def _corrupt(edit):
    def corrupted(state_dict):
        edit(state_dict)
        return state_dict

    return corrupted


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (_corrupt(lambda sd: sd["param_groups"].pop()), "has 1 parameter groups, this optimizer has 2"),
        (_corrupt(lambda sd: sd["param_groups"][1]["params"].append(3)), "group 1 has 2 parameters"),
        (_corrupt(lambda sd: sd["param_groups"][0].pop("betas")), r"lacks \['betas'\]"),
        (
            _corrupt(lambda sd: [sd["param_groups"][1].pop(key) for key in ("maximize", "eps")]),
            r"group 1 in the state dict lacks \['eps'\]",
        ),
        (_corrupt(lambda sd: sd["param_groups"][1].update(lr=-1.0)), "invalid learning rate lr=-1.0"),
        (_corrupt(lambda sd: sd["state"].update({7: {}})), "state for parameter 7"),
        (
            _corrupt(lambda sd: sd["state"][1].update(exp_avg=np.zeros(5))),
            r"state\[1\]\['exp_avg'\] has shape \(5,\)",
        ),
    ],
)
def test_load_state_dict_rejects_a_mismatch_and_changes_nothing(corrupt, message):
    weight, bias = mg.tensor([1.0, 2.0], requires_grad=True), mg.tensor([3.0], requires_grad=True)
    opt = optim.Adam([{"params": [weight]}, {"params": [bias], "lr": 0.5}], lr=0.1)
    (weight.sum() + bias.sum()).backward()
    opt.step()
    before = opt.state_dict()
    other = optim.Adam([{"params": [weight]}, {"params": [bias], "lr": 0.2}], lr=0.3, betas=(0.1, 0.2))
    other.step()
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(corrupt(other.state_dict()))
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for index, param_state in before["state"].items():
        for key, value in param_state.items():
            np.testing.assert_array_equal(after["state"][index][key], value)


# ---- state dicts saved before maximize existed --------------------------------------


def without_maximize(state_dict):
    """A state dict as SGD, Adam and AdamW saved it before they had ``maximize``."""
    for group in state_dict["param_groups"]:
        del group["maximize"]
    return state_dict


OLD_CASES = [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    (optim.Adam, {"lr": 0.05, "amsgrad": True}),
    (optim.AdamW, {"lr": 0.05}),
]


@pytest.mark.parametrize(("cls", "options"), OLD_CASES, ids=[cls.__name__ for cls, _ in OLD_CASES])
def test_a_state_dict_saved_before_maximize_existed_loads_and_resumes_descending(cls, options, tmp_path):
    params = make_model()
    opt, scheduler = make_training(cls, options, params)
    train(params, opt, scheduler, steps=3, start=0)
    old = through_mg_save(without_maximize(opt.state_dict()), tmp_path / "old.npz")
    checkpoint = [param.data.copy() for param in params], scheduler.state_dict()
    train(params, opt, scheduler, steps=3, start=3)

    resumed = make_model()
    for param, saved in zip(resumed, checkpoint[0]):
        param.data[...] = saved
    # Made with maximize=True: the old state dict was saved descending, and that wins.
    resumed_opt, resumed_scheduler = make_training(cls, {**options, "maximize": True}, resumed)
    resumed_opt.load_state_dict(old)
    resumed_scheduler.load_state_dict(checkpoint[1])
    assert [group["maximize"] for group in resumed_opt.param_groups] == [False, False]
    train(resumed, resumed_opt, resumed_scheduler, steps=3, start=3)
    for param, resumed_param in zip(params, resumed):
        np.testing.assert_array_equal(resumed_param.data, param.data)


@pytest.mark.parametrize("cls", [optim.RMSprop, optim.Adagrad])
def test_optimizers_that_always_had_maximize_need_it_in_a_state_dict(cls):
    opt = cls([_param()])
    with pytest.raises(ValueError, match=rf"{cls.__name__}.load_state_dict: .* lacks \['maximize'\]"):
        opt.load_state_dict(without_maximize(opt.state_dict()))


# ---- named parameters ----------------------------------------------------------------


def small_network():
    return nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))


def test_named_parameters_are_optimized_and_their_names_kept():
    model = small_network()
    opt = optim.RMSprop(model.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["params"] == list(model.parameters())
    assert opt.param_groups[0]["param_names"] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    before = model[2].bias.data.copy()
    model(mg.randn(4, 3)).sum().backward()  # d loss / d bias = 4, whatever the data
    opt.step()
    np.testing.assert_allclose(model[2].bias.data, before - 0.1 / np.sqrt(0.01), rtol=1e-5)


def test_groups_of_named_parameters_have_their_own_names():
    model = small_network()
    opt = optim.SGD(
        [{"params": model[0].named_parameters()}, {"params": model[2].named_parameters(), "lr": 0.01}], lr=0.1
    )
    assert [group["param_names"] for group in opt.param_groups] == [["weight", "bias"], ["weight", "bias"]]
    assert "param_names: ['weight', 'bias']" in repr(opt)


def test_named_and_unnamed_parameters_do_not_mix():
    model = small_network()
    weight, bias = model[0].weight, model[0].bias
    with pytest.raises(ValueError, match="SGD: some parameters come with a name and some without"):
        optim.SGD([("0.weight", weight), bias], lr=0.1)
    named = optim.Adam(model[0].named_parameters())
    with pytest.raises(
        ValueError, match="Adam: either the parameters of every group have names.*without names"
    ):
        named.add_param_group({"params": model[2].parameters()})
    unnamed = optim.Adam(model[0].parameters())
    with pytest.raises(ValueError, match="Adam: either the parameters of every group have names.*with names"):
        unnamed.add_param_group({"params": model[2].named_parameters()})
    assert len(named.param_groups) == len(unnamed.param_groups) == 1


def test_names_survive_a_state_dict_round_trip(tmp_path):
    model = small_network()
    opt = optim.Adagrad(model.named_parameters())
    loaded = through_mg_save(opt.state_dict(), tmp_path / "opt.npz")
    other = optim.Adagrad(small_network().named_parameters())
    other.param_groups[0]["param_names"] = ["a", "b", "c", "d"]
    other.load_state_dict(loaded)
    assert other.param_groups[0]["param_names"] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    # A state dict without names keeps the optimizer's, as in PyTorch.
    del loaded["param_groups"][0]["param_names"]
    other.param_groups[0]["param_names"] = ["a", "b", "c", "d"]
    other.load_state_dict(loaded)
    assert other.param_groups[0]["param_names"] == ["a", "b", "c", "d"]
