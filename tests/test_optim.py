"""Tests of minigrad.optim: SGD, Adam and AdamW against their formulas, and resuming."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim

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


def sgd_by_hand(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, steps=3):
    theta, b, trajectory = THETA_0.copy(), None, []
    for t in range(1, steps + 1):
        g = quadratic_gradient(theta) + weight_decay * theta
        if momentum != 0:
            b = g if t == 1 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
        trajectory.append(theta)
    return np.array(trajectory)


def adam_by_hand(
    lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False, steps=3
):
    beta1, beta2 = betas
    theta, m, v, v_max, trajectory = THETA_0.copy(), 0.0, 0.0, 0.0, []
    for t in range(1, steps + 1):
        g = quadratic_gradient(theta)
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


def adamw_by_hand(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, steps=3):
    return adam_by_hand(lr, betas, eps, weight_decay, amsgrad, decoupled=True, steps=steps)


CASES = [
    (optim.SGD, sgd_by_hand, {"lr": 0.1}),
    (optim.SGD, sgd_by_hand, {"lr": 0.1, "momentum": 0.9}),
    (optim.SGD, sgd_by_hand, {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    (optim.SGD, sgd_by_hand, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (optim.SGD, sgd_by_hand, {"lr": 0.1, "weight_decay": 0.3}),
    (optim.SGD, sgd_by_hand, {"lr": 0.1, "momentum": 0.8, "dampening": 0.2, "weight_decay": 0.3}),
    (optim.SGD, sgd_by_hand, {"lr": 0.1, "momentum": 0.8, "weight_decay": 0.3, "nesterov": True}),
    (optim.Adam, adam_by_hand, {}),
    (optim.Adam, adam_by_hand, {"lr": 0.1}),
    (optim.Adam, adam_by_hand, {"lr": 0.1, "betas": (0.5, 0.8), "eps": 0.3}),
    (optim.Adam, adam_by_hand, {"lr": 0.1, "weight_decay": 0.5}),
    (optim.Adam, adam_by_hand, {"lr": 0.1, "amsgrad": True}),
    (optim.Adam, adam_by_hand, {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.5, "amsgrad": True}),
    (optim.AdamW, adamw_by_hand, {}),
    (optim.AdamW, adamw_by_hand, {"lr": 0.1, "weight_decay": 0.5}),
    (optim.AdamW, adamw_by_hand, {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.5, "amsgrad": True}),
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
    ],
)
def test_each_option_changes_the_first_three_steps(cls, plain, option):
    # Makes sure the cases above exercise the options rather than pass trivially.
    without = minigrad_steps(lambda params: cls(params, **plain))
    with_option = minigrad_steps(lambda params: cls(params, **plain, **option))
    assert not np.allclose(without, with_option, rtol=1e-9, atol=0)


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
]


@pytest.mark.parametrize("via_file", [False, True], ids=["dict", "file"])
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
        "optimizer": through_a_file(opt.state_dict(), tmp_path / "opt.npz") if via_file else opt.state_dict(),
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
    assert state_dict["param_groups"] == [
        {"lr": 0.1, "momentum": 0.9, "dampening": 0, "weight_decay": 0, "nesterov": False, "params": [0, 1]},
        {"lr": 0.5, "momentum": 0.9, "dampening": 0, "weight_decay": 0, "nesterov": False, "params": [2]},
    ]


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
