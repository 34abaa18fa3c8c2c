"""Modules: the Module API, state dicts, every layer's gradient, and a training run.

Covers minigrad/nn/module.py, container.py, layers.py, loss.py, init.py and
parameter.py; what is particular to batch norm is in test_batchnorm.py, and saving to
files in test_serialization.py.
"""

import math
import re

import numpy as np
import pytest
from conftest import (
    assert_gradcheck,
    assert_same_arrays,
    make_model,
    parameters_replaced,
    random_array,
    snapshot,
    train_steps,
)

import minigrad as mg
import minigrad.nn.functional as F  # noqa: N812
from minigrad import nn

# nn.Sequential(nn.Linear(64, 100), nn.BatchNorm1d(100), nn.Sigmoid(), nn.Linear(100, 10)) in
# PyTorch 2.13.0, checked by hand: list(model.state_dict()) and repr(model).
PYTORCH_KEYS = [
    "0.weight",
    "0.bias",
    "1.weight",
    "1.bias",
    "1.running_mean",
    "1.running_var",
    "1.num_batches_tracked",
    "3.weight",
    "3.bias",
]
PYTORCH_REPR = """Sequential(
  (0): Linear(in_features=64, out_features=100, bias=True)
  (1): BatchNorm1d(100, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
  (2): Sigmoid()
  (3): Linear(in_features=100, out_features=10, bias=True)
)"""


# ---- gradcheck of every module, in train and eval mode -------------------------------------


def assert_module_gradcheck(module: nn.Module, x: np.ndarray, *rest) -> None:
    """gradcheck ``module(x, *rest)`` with respect to x, every parameter, and float arrays in rest.

    The dropout mask is drawn afresh on each call, so the seed is reset before each one.
    """
    count = len(list(module.parameters()))

    def run(x, *values):
        mg.manual_seed(0)
        with parameters_replaced(module, list(values[:count])):
            return module(x, *values[count:])

    assert_gradcheck(run, x, *[parameter.data.copy() for parameter in module.parameters()], *rest)


MODULE_CASES = {
    "Linear": (lambda: nn.Linear(3, 4), (5, 3), ()),
    "Linear-no-bias": (lambda: nn.Linear(3, 4, bias=False), (5, 3), ()),
    "Linear-3d": (lambda: nn.Linear(3, 2), (2, 4, 3), ()),
    "ReLU": (nn.ReLU, (4, 3), ()),
    "Tanh": (nn.Tanh, (4, 3), ()),
    "Sigmoid": (nn.Sigmoid, (4, 3), ()),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), (4, 3), ()),
    "ELU": (lambda: nn.ELU(0.5), (4, 3), ()),
    "SiLU": (nn.SiLU, (4, 3), ()),
    "Softplus": (lambda: nn.Softplus(beta=2.0, threshold=3.0), (4, 3), ()),
    "GELU": (nn.GELU, (4, 3), ()),
    "GELU-tanh": (lambda: nn.GELU("tanh"), (4, 3), ()),
    "Dropout": (lambda: nn.Dropout(0.3), (5, 4), ()),
    "Dropout2d": (lambda: nn.Dropout2d(0.3), (2, 3, 2, 2), ()),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((2, 3)), (2, 2, 5, 4), ()),
    "AdaptiveMaxPool2d": (lambda: nn.AdaptiveMaxPool2d(2), (2, 2, 5, 4), ()),
    "Conv1d-reflect": (lambda: nn.Conv1d(2, 3, 3, padding=1, padding_mode="reflect"), (2, 2, 5), ()),
    "Conv2d-circular": (lambda: nn.Conv2d(2, 2, 3, padding=1, padding_mode="circular"), (2, 2, 4, 3), ()),
    "MaxPool1d": (lambda: nn.MaxPool1d(2, padding=1), (2, 2, 5), ()),
    "AvgPool1d": (lambda: nn.AvgPool1d(3, stride=2, ceil_mode=True), (2, 2, 6), ()),
    "ReflectionPad2d": (lambda: nn.ReflectionPad2d((1, 0, 2, 1)), (2, 1, 3, 3), ()),
    "Flatten": (nn.Flatten, (2, 3, 2), ()),
    "BatchNorm1d-NC": (lambda: nn.BatchNorm1d(3), (6, 3), ()),
    "BatchNorm1d-NCL": (lambda: nn.BatchNorm1d(3), (3, 3, 2), ()),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(2), (2, 2, 2, 2), ()),
    "LayerNorm": (lambda: nn.LayerNorm(4), (3, 4), ()),
    "LayerNorm-2-axes": (lambda: nn.LayerNorm((2, 3)), (2, 2, 3), ()),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4), (3, 4, 2), ()),
    "CrossEntropyLoss": (nn.CrossEntropyLoss, (5, 3), (np.array([0, 2, 1, 2, 0]),)),
    "CrossEntropyLoss-sum": (
        lambda: nn.CrossEntropyLoss(reduction="sum"),
        (5, 3),
        (np.array([0, 2, 1, 2, 0]),),
    ),
    "MSELoss": (nn.MSELoss, (4, 3), (random_array(4, 3, seed=9),)),
    "MSELoss-none": (lambda: nn.MSELoss(reduction="none"), (4, 3), (random_array(4, 3, seed=9),)),
    "NLLLoss": (lambda: nn.NLLLoss(np.array([0.5, 2.0, 1.0])), (5, 3), (np.array([0, 2, 1, 2, 0]),)),
    "BCEWithLogitsLoss": (
        lambda: nn.BCEWithLogitsLoss(pos_weight=np.array([1.0, 3.0, 0.5])),
        (4, 3),
        (np.random.default_rng(9).uniform(size=(4, 3)),),
    ),
    "L1Loss": (nn.L1Loss, (4, 3), (random_array(4, 3, seed=9),)),
    "HuberLoss": (lambda: nn.HuberLoss(delta=0.5), (4, 3), (random_array(4, 3, seed=9),)),
    "SmoothL1Loss-sum": (lambda: nn.SmoothL1Loss("sum", beta=0.5), (4, 3), (random_array(4, 3, seed=9),)),
    "Sequential": (
        lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2)),
        (5, 3),
        (),
    ),
}


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("case", list(MODULE_CASES))
def test_module_gradcheck(float64_default, case, mode):
    make, shape, rest = MODULE_CASES[case]
    module = make()
    for seed in range(2):  # give batch norm running statistics that are not 0 and 1
        module(mg.tensor(random_array(*shape, seed=10 + seed) * 2 + 1), *rest)
    module.train(mode == "train")
    # An int target is passed as a Tensor, since gradcheck would make an array a float input.
    rest = tuple(mg.tensor(value) if value.dtype.kind == "i" else value for value in rest)
    assert_module_gradcheck(module, random_array(*shape), *rest)


def test_parameter_swap_puts_the_parameters_back():
    module = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    slots = [(module[0], "weight"), (module[0], "bias"), (module[1], "weight"), (module[1], "bias")]
    originals = [getattr(owner, name) for owner, name in slots]
    with parameters_replaced(module, [mg.tensor(p.data) for p in originals]):
        assert not any(getattr(owner, name) is p for (owner, name), p in zip(slots, originals))
    assert all(getattr(owner, name) is p for (owner, name), p in zip(slots, originals))
    assert all(p is original for p, original in zip(module.parameters(), originals))


# ---- the module tree -----------------------------------------------------------------------


def test_named_parameters_are_module_paths():
    model = make_model()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]
    shapes = [parameter.shape for parameter in model.parameters()]
    assert shapes == [(100, 64), (100,), (100,), (100,), (10, 100), (10,)]
    for name, parameter in model.named_parameters():
        assert isinstance(parameter, nn.Parameter) and parameter.requires_grad
        assert parameter.name == name  # shown in graph drawings


def test_buffers_are_named_by_full_path_also_in_a_module_without_parameters():
    inner = nn.Sequential(nn.BatchNorm1d(3, affine=False))  # buffers only
    model = nn.Sequential(nn.Linear(2, 3), inner)
    assert [buffer.name for buffer in model.buffers()] == [
        "1.0.running_mean",
        "1.0.running_var",
        "1.0.num_batches_tracked",
    ]
    model.insert(0, nn.BatchNorm1d(2))
    assert [buffer.name for buffer in model.buffers()][:4] == [
        "0.running_mean",
        "0.running_var",
        "0.num_batches_tracked",
        "2.0.running_mean",
    ]
    assert list(model.state_dict())[:3] == ["0.weight", "0.bias", "0.running_mean"]


def test_nested_sequential_parameters_are_named_by_full_path():
    inner = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Linear(4, 1)))
    model = nn.Sequential(nn.Linear(2, 3), inner)
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.0.weight", "1.0.bias", "1.2.0.weight", "1.2.0.bias"]
    assert [parameter.name for parameter in model.parameters()] == names
    assert list(model.state_dict()) == names


def test_named_buffers_and_buffers():
    model = make_model()
    names = [name for name, _ in model.named_buffers()]
    assert names == ["1.running_mean", "1.running_var", "1.num_batches_tracked"]
    assert [buffer.name for buffer in model.buffers()] == names  # shown in graph drawings
    buffers = list(model.buffers())
    assert buffers[0] is model[1].running_mean and buffers[2] is model[1].num_batches_tracked
    assert not any(isinstance(buffer, nn.Parameter) for buffer in buffers)


def test_children_and_modules():
    model = make_model()
    children = list(model.children())
    assert [type(child) for child in children] == [nn.Linear, nn.BatchNorm1d, nn.Sigmoid, nn.Linear]
    assert children == [model[0], model[1], model[2], model[3]]
    inner = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    nested = nn.Sequential(nn.Linear(2, 2), inner)
    assert list(nested.children()) == [nested[0], inner]
    assert list(nested.modules()) == [nested, nested[0], inner, inner[0], inner[1]]  # pre-order, as PyTorch
    assert [name for name, _ in nested.named_modules()] == ["", "0", "1", "1.0", "1.1"]


class TwoLayers(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.norm = nn.BatchNorm1d(8)
        self.out = nn.Linear(8, 1)
        self.scale = nn.Parameter(np.ones(1))

    def forward(self, x):
        return self.out(self.norm(self.hidden(x)).relu()) * self.scale


# TwoLayers' parameters: a module's own first, then its children's, as in PyTorch.
TWO_LAYERS_PARAMETERS = [
    "scale",
    "hidden.weight",
    "hidden.bias",
    "norm.weight",
    "norm.bias",
    "out.weight",
    "out.bias",
]


def test_a_subclass_lists_its_own_parameters_before_its_childrens():
    model = TwoLayers()
    assert [name for name, _ in model.named_parameters()] == TWO_LAYERS_PARAMETERS
    assert list(model.state_dict()) == [
        "scale",
        "hidden.weight",
        "hidden.bias",
        "norm.weight",
        "norm.bias",
        "norm.running_mean",
        "norm.running_var",
        "norm.num_batches_tracked",
        "out.weight",
        "out.bias",
    ]
    assert model(mg.randn(5, 4)).shape == (5, 1)


def test_shared_parameters_are_listed_once():
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, nn.Tanh(), layer)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias"]


def test_shared_module_state_dict_keys_match_pytorch():
    # PyTorch 2.13.0: list(nn.Sequential(l, l).state_dict()) lists both paths.
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, layer)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_train_and_eval_reach_every_nested_module():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.BatchNorm1d(3), nn.Sequential(nn.Dropout())))
    assert all(module.training for module in model.modules())
    assert model.eval() is model
    assert not any(module.training for module in model.modules())
    assert model.train() is model
    assert all(module.training for module in model.modules())
    model.train(False)
    assert not any(module.training for module in model.modules())


def test_zero_grad_clears_every_parameter():
    model = make_model()
    x = mg.randn(8, 64)
    F.cross_entropy(model(x), np.arange(8)).backward()
    first = [parameter.grad.data.copy() for parameter in model.parameters()]
    model.zero_grad()
    assert all(p.grad is None or not p.grad.data.any() for p in model.parameters())
    F.cross_entropy(model(x), np.arange(8)).backward()  # the same gradients, not twice them
    for parameter, grad in zip(model.parameters(), first):
        np.testing.assert_array_equal(parameter.grad.data, grad)


# ---- assigning and deleting attributes (checked against PyTorch 2.13 by hand) ----------------


def test_assigning_none_to_a_child_module_keeps_the_name_but_drops_its_parameters():
    model = TwoLayers()
    model.out = None
    assert model.out is None
    assert [name for name, _ in model.named_children()] == ["hidden", "norm"]
    assert [name for name, _ in model.named_parameters()] == TWO_LAYERS_PARAMETERS[:-2]  # no out.*
    assert not any(key.startswith("out.") for key in model.state_dict())
    assert repr(model).endswith("(out): None\n)")  # PyTorch lists the emptied name too
    model.out = nn.Linear(8, 2)  # the name keeps its place
    assert [name for name, _ in model.named_children()] == ["hidden", "norm", "out"]
    assert model.out.weight.shape == (2, 8)


def test_assigning_none_to_a_parameter_keeps_an_empty_slot():
    layer = nn.Linear(3, 2)
    layer.weight = None
    assert [name for name, _ in layer.named_parameters()] == ["bias"]
    assert list(layer.state_dict()) == ["bias"]
    layer.weight = nn.Parameter(np.ones((2, 3)))
    assert list(layer.state_dict()) == ["weight", "bias"]


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        ("out", 3, "TwoLayers: cannot assign 'int' as child module 'out' (Module or None expected)"),
        ("out", mg.zeros(1), "TwoLayers: cannot assign 'Tensor' as child module 'out'"),
        (
            "scale",
            mg.ones(1),
            "TwoLayers: cannot assign 'Tensor' as parameter 'scale' (Parameter or None expected)",
        ),
        ("scale", nn.Linear(1, 1), "TwoLayers: cannot assign 'Linear' as parameter 'scale'"),
    ],
)
def test_assigning_the_wrong_kind_to_a_registered_name_is_an_error(attribute, value, message):
    model = TwoLayers()
    before = getattr(model, attribute)
    with pytest.raises(TypeError, match=re.escape(message)):
        setattr(model, attribute, value)
    assert getattr(model, attribute) is before
    assert len(model.state_dict()) == 10


def test_assigning_the_wrong_kind_to_a_buffer_is_an_error():
    norm = nn.BatchNorm1d(3)
    with pytest.raises(TypeError, match="BatchNorm1d: cannot assign 'int' as buffer 'running_mean'"):
        norm.running_mean = 0
    norm.running_mean = None
    assert "running_mean" not in norm.state_dict()


def test_deleting_a_child_module_or_a_parameter_unregisters_it():
    model = TwoLayers()
    del model.out
    assert not hasattr(model, "out")
    assert [name for name, _ in model.named_children()] == ["hidden", "norm"]
    assert "(out)" not in repr(model)
    del model.hidden.bias  # Linear's repr and forward then fail, as in PyTorch
    assert not hasattr(model.hidden, "bias")
    assert list(model.state_dict())[:3] == ["scale", "hidden.weight", "norm.weight"]
    assert len(list(model.parameters())) == 4
    with pytest.raises(AttributeError):
        del model.out


def test_deleting_a_buffer_unregisters_it():
    norm = nn.BatchNorm1d(3)
    del norm.num_batches_tracked
    assert [name for name, _ in norm.named_buffers()] == ["running_mean", "running_var"]


def test_a_name_moves_to_the_registry_of_its_new_value():
    # PyTorch takes the name out of the other registries when it registers it in one.
    norm = nn.BatchNorm1d(3)
    norm.running_mean = nn.Parameter(np.zeros(3))
    assert [name for name, _ in norm.named_buffers()] == ["running_var", "num_batches_tracked"]
    assert [name for name, _ in norm.named_parameters()] == ["weight", "bias", "running_mean"]
    assert list(norm.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    model = TwoLayers()
    model.out = nn.Parameter(np.ones(1))
    assert "out" not in dict(model.named_children())
    assert [name for name, _ in model.named_parameters(recurse=False)] == ["scale", "out"]


def test_registering_a_name_that_is_already_an_attribute_is_an_error():
    layer = nn.Linear(3, 2)
    with pytest.raises(KeyError, match="Linear.register_buffer: attribute 'weight' already exists"):
        layer.register_buffer("weight", mg.zeros(2, 3))
    with pytest.raises(KeyError, match="Linear.register_parameter: attribute 'in_features' already exists"):
        layer.register_parameter("in_features", None)
    with pytest.raises(TypeError, match="Linear: cannot assign 'Tensor' as parameter 'scale'"):
        layer.register_parameter("scale", mg.zeros(1))
    assert list(layer.state_dict()) == ["weight", "bias"] and layer.in_features == 3


@pytest.mark.parametrize("name", ["", "a.b"])
@pytest.mark.parametrize("method", ["add_module", "register_buffer", "register_parameter"])
def test_registering_an_empty_or_dotted_name_is_an_error(method, name):
    # A dotted name would make its state dict key read as a path into a child module.
    layer = nn.Linear(3, 2)
    with pytest.raises(KeyError, match=f"Linear.{method}: the name must be non-empty and contain no '.'"):
        getattr(layer, method)(name, None)
    with pytest.raises(TypeError, match=f"Linear.{method}: the name must be a str, got int"):
        getattr(layer, method)(1, None)
    assert list(layer.state_dict()) == ["weight", "bias"]


def test_add_module_registers_a_child_under_a_run_time_name():
    model = nn.Sequential(nn.Linear(3, 4))
    model.add_module("head", nn.Linear(4, 2))
    model.register_module("act", nn.ReLU())
    assert [name for name, _ in model.named_children()] == ["0", "head", "act"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "head.weight", "head.bias"]
    assert model.head.weight.name == "head.weight" and model.act._scope_label == "act: ReLU"
    assert model(mg.randn(5, 3)).shape == (5, 2)
    with pytest.raises(KeyError, match="Sequential.add_module: attribute 'forward' already exists"):
        model.add_module("forward", nn.ReLU())
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'x'"):
        model.add_module("x", 3)


def test_parameters_keep_their_full_path_when_a_nested_container_changes():
    inner = nn.Sequential(nn.Linear(2, 3))
    model = nn.Sequential(nn.Linear(2, 2), inner)
    inner.insert(0, nn.ReLU())
    inner.append(nn.Linear(3, 1))
    deep = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 1)))
    _ = deep[1][0:], deep[1:]  # slices name nothing anew
    for checked in (model, deep):
        assert all(parameter.name == path for path, parameter in checked.named_parameters())
    assert model[1][2].weight.name == "1.2.weight"


def test_get_submodule_follows_a_path():
    model = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.ReLU(), nn.Linear(4, 2)))
    assert model.get_submodule("") is model
    assert model.get_submodule("1.1") is model[1][1]
    with pytest.raises(AttributeError, match="get_submodule: Sequential has no child module '2'"):
        model.get_submodule("1.2")


def test_apply_visits_children_first_then_the_module():
    model = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.ReLU(), nn.Tanh()))
    visited = []
    assert model.apply(lambda module: visited.append(type(module).__name__)) is model
    assert visited == ["Linear", "ReLU", "Tanh", "Sequential", "Sequential"]  # as PyTorch 2.13
    model.apply(lambda module: nn.init.zeros_(module.bias) if isinstance(module, nn.Linear) else None)
    assert not model[0].bias.data.any()
    shared = nn.Linear(2, 2)
    visited.clear()
    nn.Sequential(shared, shared).apply(visited.append)  # a child registered twice is visited once
    assert visited[0] is shared and len(visited) == 2


def test_requires_grad_false_freezes_the_parameters():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert model[0].requires_grad_(False) is model[0]
    model(mg.randn(5, 3)).sum().backward()
    assert model[0].weight.grad is None and model[0].bias.grad is None
    assert model[2].weight.grad is not None
    model.requires_grad_()
    assert all(parameter.requires_grad for parameter in model.parameters())


def test_double_and_float_convert_parameters_buffers_and_grads_in_place():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    weight = model[0].weight
    model(mg.randn(5, 3)).sum().backward()
    assert model.double() is model
    assert model[0].weight is weight and weight.dtype == np.float64 and weight.grad.dtype == np.float64
    assert model[1].running_var.dtype == np.float64 and model[1].num_batches_tracked.dtype == np.int64
    x = mg.tensor(np.random.default_rng(0).standard_normal((5, 3)), requires_grad=True)
    assert mg.gradcheck(lambda t: model(t).sum(), [x])
    model.float()
    assert all(tensor.dtype == np.float32 for tensor in model.parameters())


# ---- forward hooks ---------------------------------------------------------------------------


def test_forward_hooks_see_each_layers_output_until_removed():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    seen = []
    handles = [
        layer.register_forward_hook(lambda module, args, output: seen.append((module, args[0].shape, output)))
        for layer in model
    ]
    x = mg.tensor(random_array(4, 2))
    y = model(x)
    assert [module for module, _, _ in seen] == list(model)
    assert [shape for _, shape, _ in seen] == [(4, 2), (4, 3), (4, 3)]
    assert seen[-1][2] is y
    for handle in handles:
        handle.remove()
    model(x)
    assert len(seen) == 3


def test_a_hook_that_returns_something_replaces_the_args_or_the_output():
    layer = nn.Linear(2, 2)
    x = mg.tensor(random_array(3, 2))
    with layer.register_forward_pre_hook(lambda module, args: args[0] * 2.0):  # one tensor: the one arg
        doubled = layer(x)
    np.testing.assert_allclose(doubled.data, layer(x * 2.0).data)
    with layer.register_forward_hook(lambda module, args, output: output.relu()):
        np.testing.assert_array_equal(layer(x).data, np.maximum(layer(x).data, 0))
    np.testing.assert_array_equal(layer(x).data, x.data @ layer.weight.data.T + layer.bias.data)


def test_hooks_run_in_order_outside_the_modules_drawn_box():
    layer, order = nn.Linear(2, 2), []
    layer.register_forward_hook(lambda module, args, output: order.append("first"))
    second = layer.register_forward_hook(lambda module, args, output: order.append("second"))
    layer.register_forward_pre_hook(lambda module, args: order.append("before"))
    y = layer(mg.tensor(random_array(1, 2)))
    assert order == ["before", "first", "second"]
    second.remove()
    second.remove()  # removing twice changes nothing
    hooked = layer.register_forward_hook(lambda module, args, output: output * 3.0)
    z = layer(mg.tensor(random_array(1, 2)))
    assert z.op.scope == () and y.op.scope != ()  # the hook's mul is not in the Linear box
    hooked.remove()
    with pytest.raises(TypeError, match="register_forward_hook: the hook must be callable, got int"):
        layer.register_forward_hook(3)


# ---- repr ------------------------------------------------------------------------------------


def test_repr_matches_pytorch():
    assert repr(make_model()) == PYTORCH_REPR


def test_nested_repr_indents_like_pytorch():
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 3)), nn.ReLU(), nn.Linear(3, 1, bias=False))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  )\n"
        "  (1): ReLU()\n"
        "  (2): Linear(in_features=3, out_features=1, bias=False)\n"
        ")"
    )


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (nn.Flatten(), "Flatten(start_dim=1, end_dim=-1)"),
        (nn.Tanh(), "Tanh()"),
        (nn.CrossEntropyLoss(), "CrossEntropyLoss()"),
        (nn.MSELoss(), "MSELoss()"),
        (nn.LeakyReLU(), "LeakyReLU(negative_slope=0.01)"),
        (nn.ELU(alpha=0.5), "ELU(alpha=0.5)"),
        (nn.SiLU(), "SiLU()"),
        (nn.Softplus(2, 10), "Softplus(beta=2, threshold=10)"),
        (nn.GELU(approximate="tanh"), "GELU(approximate='tanh')"),
        (nn.Embedding(10, 3), "Embedding(10, 3)"),
        (nn.Embedding(10, 3, padding_idx=-1), "Embedding(10, 3, padding_idx=9)"),
        (nn.NLLLoss(), "NLLLoss()"),
        (nn.BCELoss(), "BCELoss()"),
        (nn.BCEWithLogitsLoss(), "BCEWithLogitsLoss()"),
        (nn.L1Loss(), "L1Loss()"),
        (nn.HuberLoss(), "HuberLoss()"),
        (nn.SmoothL1Loss(), "SmoothL1Loss()"),
        (nn.LayerNorm(4), "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)"),
        (nn.GroupNorm(2, 6), "GroupNorm(2, 6, eps=1e-05, affine=True, bias=True)"),
        (
            nn.BatchNorm2d(3, affine=False),
            "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=True)",
        ),
    ],
    ids=[
        "Flatten",
        "Tanh",
        "CrossEntropyLoss",
        "MSELoss",
        "LeakyReLU",
        "ELU",
        "SiLU",
        "Softplus",
        "GELU",
        "Embedding",
        "Embedding-padding",
        "NLLLoss",
        "BCELoss",
        "BCEWithLogitsLoss",
        "L1Loss",
        "HuberLoss",
        "SmoothL1Loss",
        "LayerNorm",
        "GroupNorm",
        "BatchNorm2d-no-affine",
    ],
)
def test_layer_reprs_match_pytorch(module, expected):
    # PyTorch 2.13.0, checked by hand; its BatchNorm, LayerNorm and GroupNorm print their bias option.
    assert repr(module) == expected


def test_loss_reprs_show_the_options_that_are_not_defaults():
    # PyTorch's loss reprs show no options at all; minigrad's show those that were changed.
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    assert repr(nn.HuberLoss(delta=2.0)) == "HuberLoss(delta=2.0)"
    assert repr(nn.SmoothL1Loss("none", beta=0.5)) == "SmoothL1Loss(reduction='none', beta=0.5)"


# ---- Sequential --------------------------------------------------------------------------


def test_sequential_indexing_and_len():
    model = make_model()
    assert len(model) == 4
    assert isinstance(model[0], nn.Linear) and model[0].out_features == 100
    assert model[-1] is model[3] and model[-4] is model[0]
    assert list(model) == [model[0], model[1], model[2], model[3]]
    for bad in (4, -5):
        with pytest.raises(IndexError):
            model[bad]


def test_sequential_slices_hold_the_same_modules():
    model = make_model()
    tail = model[1:]
    assert isinstance(tail, nn.Sequential) and len(tail) == 3
    assert list(tail) == [model[1], model[2], model[3]]
    assert list(model[::2]) == [model[0], model[2]]
    assert list(model[-2:]) == [model[2], model[3]]
    assert len(model[4:]) == 0
    x = mg.randn(5, 100)
    np.testing.assert_array_equal(tail(x).data, model[3](model[2](model[1](x))).data)


def test_sequential_slice_keeps_the_original_names():
    # PyTorch 2.13.0: Sequential.__getitem__(slice) keeps the keys, so list(model[1:].state_dict())
    # begins with "1.weight" and model[1:] prints "(1): BatchNorm1d(...)".
    model = make_model()
    assert list(model[1:].state_dict()) == PYTORCH_KEYS[2:]
    assert model[1].weight.name == "1.weight"  # slicing must not rename the model's parameters


def test_extend_and_insert_renumber_as_in_pytorch():
    model = nn.Sequential(nn.ReLU())
    model.insert(0, nn.Linear(3, 3))
    model.extend([nn.Tanh(), nn.Linear(3, 1)])
    assert [type(module).__name__ for module in model] == ["Linear", "ReLU", "Tanh", "Linear"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    assert model[3]._scope_label == "3: Linear" and model(mg.randn(2, 3)).shape == (2, 1)
    layers = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    assert layers.insert(-1, nn.Sigmoid()) is layers
    assert [type(module).__name__ for module in layers] == ["ReLU", "Sigmoid", "Tanh"]
    with pytest.raises(TypeError, match="ModuleList: 3 is not a Module"):
        layers.insert(0, 3)
    with pytest.raises(IndexError, match="ModuleList.insert: index 4 is out of range for 3 modules"):
        layers.insert(4, nn.ReLU())
    layers.add_module("head", nn.ReLU())
    with pytest.raises(KeyError, match="renumbering needs children named 0, 1, ..."):
        layers.insert(0, nn.ReLU())


def test_sequential_runs_its_modules_in_order():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = mg.randn(5, 3)
    np.testing.assert_array_equal(model(x).data, model[2](model[1](model[0](x))).data)


# ---- Linear --------------------------------------------------------------------------------


@pytest.mark.parametrize(("in_features", "out_features"), [(64, 100), (3, 1000), (1000, 5)])
def test_linear_init_is_uniform_within_one_over_sqrt_in_features(in_features, out_features):
    mg.manual_seed(0)
    layer = nn.Linear(in_features, out_features)
    bound = 1 / math.sqrt(in_features)
    for parameter in (layer.weight, layer.bias):
        assert np.all(np.abs(parameter.data) <= bound)
    # Uniform on [-bound, bound]: it reaches near both ends and has std bound / sqrt(3).
    assert layer.weight.data.max() > 0.95 * bound and layer.weight.data.min() < -0.95 * bound
    assert abs(layer.weight.data.std() - bound / math.sqrt(3)) < 0.1 * bound
    assert layer.weight.shape == (out_features, in_features) and layer.bias.shape == (out_features,)


def test_linear_init_is_reproducible_with_manual_seed():
    mg.manual_seed(5)
    first = nn.Linear(4, 3)
    mg.manual_seed(5)
    second = nn.Linear(4, 3)
    np.testing.assert_array_equal(first.weight.data, second.weight.data)
    np.testing.assert_array_equal(first.bias.data, second.bias.data)
    assert not np.array_equal(first.weight.data, nn.Linear(4, 3).weight.data)


# ---- nn.init --------------------------------------------------------------------------------


def test_calculate_gain_gives_pytorchs_gains():
    gains = {
        ("linear", None): 1.0,
        ("sigmoid", None): 1.0,
        ("tanh", None): 5 / 3,
        ("relu", None): math.sqrt(2),
    }
    gains |= {
        ("selu", None): 0.75,
        ("leaky_relu", None): math.sqrt(2 / (1 + 0.01**2)),
        ("leaky_relu", 0.2): math.sqrt(2 / 1.04),
    }
    for (nonlinearity, param), gain in gains.items():
        assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(gain, rel=1e-15)
    assert nn.init.calculate_gain("conv2d") == nn.init.calculate_gain("conv_transpose1d") == 1.0
    with pytest.raises(ValueError, match="calculate_gain: unknown nonlinearity 'gelu'"):
        nn.init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="calculate_gain: the negative slope must be a number, got True"):
        nn.init.calculate_gain("leaky_relu", True)


# (function, keyword arguments, expected std) for a weight of shape (out, in, k) = (300, 200, 3):
# fan_in = 200 * 3, fan_out = 300 * 3, and a uniform on [-b, b] has std b / sqrt(3).
INITIALIZERS = {
    "kaiming_uniform_ fan_out relu": (
        nn.init.kaiming_uniform_,
        {"mode": "fan_out", "nonlinearity": "relu"},
        math.sqrt(2 / 900),
    ),
    "kaiming_uniform_ slope": (nn.init.kaiming_uniform_, {"a": math.sqrt(5)}, 1 / math.sqrt(3 * 600)),
    "kaiming_normal_": (nn.init.kaiming_normal_, {}, math.sqrt(2 / 600)),
    "kaiming_normal_ tanh": (nn.init.kaiming_normal_, {"nonlinearity": "tanh"}, (5 / 3) / math.sqrt(600)),
    "xavier_uniform_": (nn.init.xavier_uniform_, {"gain": 2.0}, 2 * math.sqrt(2 / 1500)),
    "xavier_normal_": (nn.init.xavier_normal_, {}, math.sqrt(2 / 1500)),
}


@pytest.mark.parametrize("name", INITIALIZERS)
def test_initializers_have_pytorchs_spread(name):
    function, options, std = INITIALIZERS[name]
    mg.manual_seed(0)
    weight = mg.zeros(300, 200, 3)
    assert function(weight, **options) is weight
    assert abs(weight.data.std() - std) < 0.01 * std and abs(weight.data.mean()) < 0.01 * std
    if "uniform" in name:  # on [-sqrt(3) std, sqrt(3) std]
        assert np.abs(weight.data).max() <= math.sqrt(3) * std * (1 + 1e-6)


def test_initializers_check_their_arguments():
    with pytest.raises(ValueError, match="kaiming_normal_: mode must be 'fan_in' or 'fan_out', got 'fan'"):
        nn.init.kaiming_normal_(mg.zeros(3, 4), mode="fan")
    with pytest.raises(
        ValueError, match=r"xavier_uniform_: needs a weight of at least 2 dimensions, got shape \(4,\)"
    ):
        nn.init.xavier_uniform_(mg.zeros(4))
    with pytest.warns(UserWarning, match="xavier_normal_: initializing zero-element tensors is a no-op"):
        nn.init.xavier_normal_(mg.zeros(0, 4))


def test_modules_use_float32_by_default():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LayerNorm(4))
    assert all(
        value.dtype == np.float32 for key, value in model.state_dict().items() if "num_batches" not in key
    )
    assert model(mg.randn(5, 3)).dtype == np.float32


def test_modules_follow_set_default_dtype(float64_default):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LayerNorm(4))
    assert all(
        value.dtype == np.float64 for key, value in model.state_dict().items() if "num_batches" not in key
    )
    assert model[1].num_batches_tracked.dtype == np.int64
    assert model(mg.randn(5, 3)).dtype == np.float64


@pytest.mark.parametrize("shape", [(5, 3), (3,), (2, 4, 3)])
def test_linear_forward(shape):
    layer = nn.Linear(3, 2)
    x = random_array(*shape).astype(np.float32)
    result = layer(mg.tensor(x))
    assert result.shape == (*shape[:-1], 2)
    np.testing.assert_allclose(result.data, x @ layer.weight.data.T + layer.bias.data, rtol=1e-5, atol=1e-6)


def test_linear_without_bias():
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    x = mg.randn(4, 3)
    np.testing.assert_allclose(layer(x).data, x.data @ layer.weight.data.T, rtol=1e-6)


@pytest.mark.parametrize(("in_features", "out_features"), [(0, 3), (3, 0)])
def test_linear_with_no_weights_warns_instead_of_failing(in_features, out_features):
    # PyTorch warns "Initializing zero-element tensors is a no-op"; Linear(0, 3) gives y = bias = 0.
    with pytest.warns(UserWarning, match="kaiming_uniform_: initializing zero-element tensors is a no-op"):
        layer = nn.Linear(in_features, out_features)
    assert layer.weight.shape == (out_features, in_features)
    result = layer(mg.ones(2, in_features))
    assert result.shape == (2, out_features)
    np.testing.assert_array_equal(result.data, np.zeros((2, out_features)))


@pytest.mark.parametrize("shape", [(5, 63), (5, 65), (64, 5), (63,)])
def test_linear_with_wrong_in_features_names_the_layer_and_shapes(shape):
    with pytest.raises(ValueError, match=rf"Linear.*64.*{re.escape(str(shape))}"):
        nn.Linear(64, 10)(mg.randn(*shape))


# ---- activations, Dropout, Flatten, LayerNorm, losses ---------------------------------------


@pytest.mark.parametrize(
    ("module", "function"),
    [
        (nn.ReLU(), F.relu),
        (nn.Tanh(), F.tanh),
        (nn.Sigmoid(), F.sigmoid),
        (nn.Softmax(), F.softmax),
        (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2)),
        (nn.ELU(0.5), lambda x: F.elu(x, 0.5)),
        (nn.SiLU(), F.silu),
        (nn.Softplus(2.0, 1.0), lambda x: F.softplus(x, 2.0, 1.0)),
        (nn.GELU(), F.gelu),
        (nn.GELU("tanh"), lambda x: F.gelu(x, "tanh")),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, nn.Module) else "",
)
def test_activation_modules_equal_their_functions(module, function):
    x = mg.tensor(random_array(3, 4))
    np.testing.assert_array_equal(module(x).data, function(x).data)
    module.eval()
    np.testing.assert_array_equal(module(x).data, function(x).data)


def test_identity_returns_its_input_and_ignores_arguments_as_pytorch_does():
    x = mg.randn(2, 3)
    assert nn.Identity()(x) is x and nn.Identity(54, unused_argument=0.1)(x) is x


def test_dropout_module_in_eval_is_the_identity():
    x = random_array(20, 10)
    layer = nn.Dropout(0.5).eval()
    np.testing.assert_array_equal(layer(mg.tensor(x)).data, x)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_module_in_training_zeroes_about_p_and_scales(p):
    mg.manual_seed(0)
    x = random_array(100, 100, positive=True)
    result = nn.Dropout(p)(mg.tensor(x)).data
    kept = result != 0
    assert abs((~kept).mean() - p) < 0.02
    np.testing.assert_allclose(result[kept], x[kept] / (1 - p), rtol=1e-12)


def test_dropout_module_is_reproducible_with_manual_seed():
    layer, x = nn.Dropout(0.5), mg.tensor(random_array(10, 10))
    mg.manual_seed(7)
    first = layer(x).data
    mg.manual_seed(7)
    np.testing.assert_array_equal(layer(x).data, first)


@pytest.mark.parametrize("p", [-0.5, 1.1])
def test_dropout_module_rejects_bad_p(p):
    with pytest.raises(ValueError, match=rf"Dropout.*{p}"):
        nn.Dropout(p)


@pytest.mark.parametrize(
    ("shape", "expected"), [((2, 3, 4), (2, 12)), ((5, 1, 2, 3), (5, 6)), ((4, 3), (4, 3))]
)
def test_flatten_keeps_the_batch_axis(shape, expected):
    x = random_array(*shape)
    result = nn.Flatten()(mg.tensor(x))
    assert result.shape == expected
    np.testing.assert_array_equal(result.data, x.reshape(expected))


def test_layer_norm_module(float64_default):
    layer = nn.LayerNorm((2, 3))
    assert [(name, p.shape) for name, p in layer.named_parameters()] == [("weight", (2, 3)), ("bias", (2, 3))]
    layer.weight.data[...] = random_array(2, 3, seed=1)
    layer.bias.data[...] = random_array(2, 3, seed=2)
    x = mg.tensor(random_array(4, 2, 3))
    expected = F.layer_norm(x, (2, 3), layer.weight, layer.bias).data
    np.testing.assert_array_equal(layer(x).data, expected)
    np.testing.assert_array_equal(layer.eval()(x).data, expected)
    assert list(nn.LayerNorm(3, elementwise_affine=False).parameters()) == []
    with pytest.raises(ValueError, match=r"layer_norm.*\(2, 3\).*\(4, 3, 2\)"):
        layer(mg.tensor(random_array(4, 3, 2)))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_modules_equal_their_functions(reduction):
    logits, target = mg.tensor(random_array(5, 3)), np.array([0, 2, 1, 2, 0])
    np.testing.assert_array_equal(
        nn.CrossEntropyLoss(reduction=reduction)(logits, target).data,
        F.cross_entropy(logits, target, reduction=reduction).data,
    )
    prediction, wanted = mg.tensor(random_array(4, 2)), random_array(4, 2, seed=1)
    np.testing.assert_array_equal(
        nn.MSELoss(reduction=reduction)(prediction, wanted).data,
        F.mse_loss(prediction, wanted, reduction=reduction).data,
    )


def test_cross_entropy_loss_passes_its_options_and_keeps_weight_as_a_buffer():
    logits, target = mg.tensor(random_array(5, 3)), np.array([0, 2, 1, -1, 0])
    weight = np.array([0.5, 2.0, 1.0])
    loss = nn.CrossEntropyLoss(weight, ignore_index=-1, label_smoothing=0.1, reduction="sum")
    expected = F.cross_entropy(logits, target, "sum", weight=weight, ignore_index=-1, label_smoothing=0.1)
    np.testing.assert_array_equal(loss(logits, target).data, expected.data)
    assert list(loss.state_dict()) == ["weight"] and list(loss.parameters()) == []  # as PyTorch's
    assert list(nn.CrossEntropyLoss().state_dict()) == []


PROBABILITIES = np.random.default_rng(5).uniform(size=(4, 3))
LOSS_MODULE_CASES = {
    "NLLLoss": (
        lambda reduction: nn.NLLLoss(np.array([0.5, 2.0, 1.0]), ignore_index=1, reduction=reduction),
        lambda x, target, reduction: F.nll_loss(
            x, target, np.array([0.5, 2.0, 1.0]), ignore_index=1, reduction=reduction
        ),
        np.array([0, 2, 1, 2]),
    ),
    "BCELoss": (
        lambda reduction: nn.BCELoss(np.array([0.5, 2.0, 1.0]), reduction=reduction),
        lambda x, target, reduction: F.binary_cross_entropy(
            F.sigmoid(x), target, np.array([0.5, 2.0, 1.0]), reduction=reduction
        ),
        PROBABILITIES,
    ),
    "BCEWithLogitsLoss": (
        lambda reduction: nn.BCEWithLogitsLoss(
            np.array([0.5, 2.0, 1.0]), reduction=reduction, pos_weight=np.array([3.0, 1.0, 0.5])
        ),
        lambda x, target, reduction: F.binary_cross_entropy_with_logits(
            x, target, np.array([0.5, 2.0, 1.0]), reduction=reduction, pos_weight=np.array([3.0, 1.0, 0.5])
        ),
        PROBABILITIES,
    ),
    "L1Loss": (
        lambda reduction: nn.L1Loss(reduction),
        lambda x, target, reduction: F.l1_loss(x, target, reduction),
        PROBABILITIES,
    ),
    "HuberLoss": (
        lambda reduction: nn.HuberLoss(reduction, delta=0.3),
        lambda x, target, reduction: F.huber_loss(x, target, reduction, delta=0.3),
        PROBABILITIES,
    ),
    "SmoothL1Loss": (
        lambda reduction: nn.SmoothL1Loss(reduction, beta=0.3),
        lambda x, target, reduction: F.smooth_l1_loss(x, target, reduction, beta=0.3),
        PROBABILITIES,
    ),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSS_MODULE_CASES)
def test_new_loss_modules_pass_their_options_to_their_functions(name, reduction):
    make, function, target = LOSS_MODULE_CASES[name]
    x = mg.tensor(random_array(4, 3))
    # BCELoss takes probabilities: it gets those of the logits x.
    module_input = F.sigmoid(x) if name == "BCELoss" else x
    np.testing.assert_array_equal(
        make(reduction)(module_input, target).data, function(x, target, reduction).data
    )


def test_weighted_loss_modules_keep_their_weights_as_buffers():
    # As PyTorch's: weight and pos_weight are in the state dict when given, and are not parameters.
    weight = np.array([0.5, 2.0, 1.0])
    for loss in (nn.NLLLoss(weight), nn.BCELoss(weight), nn.BCEWithLogitsLoss(weight)):
        assert list(loss.state_dict()) == ["weight"] and list(loss.parameters()) == []
        np.testing.assert_array_equal(loss.state_dict()["weight"], weight)
    assert list(nn.BCEWithLogitsLoss(pos_weight=weight).state_dict()) == ["pos_weight"]
    assert list(nn.BCEWithLogitsLoss(weight, pos_weight=weight).state_dict()) == ["weight", "pos_weight"]
    assert all(list(loss().state_dict()) == [] for loss in (nn.NLLLoss, nn.BCELoss, nn.BCEWithLogitsLoss))


@pytest.mark.parametrize(
    "loss",
    [
        nn.CrossEntropyLoss,
        nn.MSELoss,
        nn.NLLLoss,
        nn.BCELoss,
        nn.BCEWithLogitsLoss,
        nn.L1Loss,
        nn.HuberLoss,
        nn.SmoothL1Loss,
    ],
)
def test_loss_modules_reject_a_bad_reduction(loss):
    with pytest.raises(ValueError, match=rf"{loss.__name__}.*'average'"):
        loss(reduction="average")


# ---- Embedding --------------------------------------------------------------------------------


def test_embedding_starts_as_standard_normal_samples_from_minigrads_generator():
    mg.manual_seed(4)
    layer = nn.Embedding(6, 5)
    mg.manual_seed(4)
    expected = mg.randn(6, 5, dtype=np.float64).data  # N(0, 1), as PyTorch's init, from the same generator
    assert layer.weight.dtype == np.float32 and isinstance(layer.weight, nn.Parameter)
    np.testing.assert_array_equal(layer.weight.data, expected.astype(np.float32))
    big = nn.Embedding(1000, 100, dtype=np.float64)
    assert big.weight.dtype == np.float64
    assert abs(big.weight.data.mean()) < 0.01 and abs(big.weight.data.std() - 1) < 0.01


@pytest.mark.parametrize("padding_idx", [0, 3, -1])
def test_embedding_padding_row_starts_at_zero_and_stays_there(padding_idx):
    mg.manual_seed(0)
    layer = nn.Embedding(4, 3, padding_idx=padding_idx)
    row = padding_idx % 4
    assert layer.padding_idx == row
    np.testing.assert_array_equal(layer.weight.data[row], np.zeros(3))
    indices = np.array([[row, 1], [2, row]])
    before = layer.weight.data.copy()
    for _ in range(3):  # plain gradient descent: the padding row gets no gradient, so it never moves
        loss = (layer(indices) ** 2).sum() + layer(indices).sum()
        layer.zero_grad()
        loss.backward()
        np.testing.assert_array_equal(layer.weight.grad.data[row], np.zeros(3))
        layer.weight.data -= 0.1 * layer.weight.grad.data
    np.testing.assert_array_equal(layer.weight.data[row], np.zeros(3))
    assert not np.array_equal(layer.weight.data[[1, 2]], before[[1, 2]])


def test_embedding_forward_is_the_function_and_its_state_dict_is_pytorchs():
    layer = nn.Embedding(5, 2, padding_idx=1)
    indices = mg.tensor(np.array([[0, 1, 4]]))
    result = layer(indices)
    assert result.shape == (1, 3, 2)
    np.testing.assert_array_equal(result.data, F.embedding(indices, layer.weight, padding_idx=1).data)
    state = layer.state_dict()
    assert list(state) == ["weight"] and state["weight"].shape == (5, 2)
    other = nn.Embedding(5, 2, padding_idx=1)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other(indices).data, result.data)


def test_embedding_gradcheck_through_the_module(float64_default):
    layer = nn.Embedding(5, 3)
    indices = mg.tensor(np.array([[0, 4, 4], [1, 0, 2]]))

    def run(weight):
        with parameters_replaced(layer, [weight]):
            return layer(indices)

    assert_gradcheck(run, layer.weight.data.copy())


@pytest.mark.parametrize("padding_idx", [4, -5])
def test_embedding_rejects_a_padding_idx_outside_the_table(padding_idx):
    with pytest.raises(
        ValueError,
        match=rf"Embedding: padding_idx must be a row of the 4 embeddings \(-4 to 3\), got {padding_idx}",
    ):
        nn.Embedding(4, 3, padding_idx=padding_idx)


# ---- state dicts -----------------------------------------------------------------------------


def test_state_dict_keys_and_order_match_pytorch():
    state = make_model().state_dict()
    assert list(state) == PYTORCH_KEYS
    assert all(isinstance(value, np.ndarray) for value in state.values())
    assert state["0.weight"].shape == (100, 64) and state["3.weight"].shape == (10, 100)
    assert state["1.num_batches_tracked"].shape == ()
    assert state["1.num_batches_tracked"].dtype == np.int64


def test_state_dict_counts_training_batches():
    model = make_model()
    train_steps(model, steps=3)
    assert model.state_dict()["1.num_batches_tracked"] == 3


def test_state_dict_values_are_copies():
    model = make_model()
    state = model.state_dict()
    before = snapshot(model)
    for value in state.values():
        value[...] = 7
    assert_same_arrays(model.state_dict(), before)  # changing the dict leaves the model alone
    fresh = model.state_dict()
    train_steps(model, steps=1)
    for key in ("0.weight", "1.running_mean", "1.num_batches_tracked"):
        np.testing.assert_array_equal(fresh[key], before[key])  # and the model leaves the dict alone


def test_state_dict_round_trip_gives_identical_outputs():
    mg.manual_seed(0)
    model = make_model()
    train_steps(model, steps=3)
    mg.manual_seed(1)
    fresh = make_model()
    result = fresh.load_state_dict(model.state_dict())
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    assert_same_arrays(fresh.state_dict(), model.state_dict())
    x = mg.randn(7, 64)
    for mode in (False, True):
        model.train(mode)
        fresh.train(mode)
        np.testing.assert_array_equal(fresh(x).data, model(x).data)


def test_loaded_values_are_copies_and_keep_the_module_dtypes():
    model = make_model()
    state = {key: np.array(value + 1, dtype=np.float64) for key, value in model.state_dict().items()}
    model.load_state_dict(state)
    expected = {key: value.copy() for key, value in state.items()}
    for value in state.values():
        value[...] = -3
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(value, expected[key], rtol=1e-6, err_msg=key)
        assert value.dtype == (np.int64 if key.endswith("num_batches_tracked") else np.float32), key


def test_load_state_dict_takes_tensors():
    model, other = make_model(), make_model()
    model.load_state_dict({key: mg.tensor(value) for key, value in other.state_dict().items()})
    assert_same_arrays(model.state_dict(), other.state_dict())


def altered(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every value changed, so a load that stopped half-way would show."""
    return {key: value + 1 for key, value in state.items()}


def without(state: dict, key: str) -> dict:
    return {name: value for name, value in state.items() if name != key}


def with_value(state: dict, key: str, value: object) -> dict:
    return {**state, key: value}


BAD_STATE_DICTS = {
    "missing-key": (lambda s: without(s, "3.bias"), True, "3.bias"),
    "missing-buffer": (lambda s: without(s, "1.num_batches_tracked"), True, "1.num_batches_tracked"),
    "unexpected-key": (lambda s: {**s, "4.weight": np.zeros(3)}, True, "4.weight"),
    "wrong-shape-strict": (lambda s: with_value(s, "3.bias", np.zeros(11)), True, "3.bias"),
    "wrong-shape-not-strict": (lambda s: with_value(s, "3.bias", np.zeros(11)), False, "3.bias"),
    "transposed-weight": (lambda s: with_value(s, "3.weight", s["3.weight"].T), False, "3.weight"),
    "scalar-for-vector": (lambda s: with_value(s, "1.running_var", np.float32(1)), False, "1.running_var"),
    "vector-for-scalar": (
        lambda s: with_value(s, "1.num_batches_tracked", np.zeros(1)),
        True,
        "1.num_batches",
    ),
    "string": (lambda s: with_value(s, "3.bias", "zeros"), True, "3.bias"),
    "strings-array": (lambda s: with_value(s, "3.bias", np.array(["a"] * 10)), False, "3.bias"),
    "none": (lambda s: with_value(s, "3.bias", None), True, "3.bias"),
    "object-array": (lambda s: with_value(s, "3.bias", np.array([object()] * 10)), True, "3.bias"),
    "ragged-list": (lambda s: with_value(s, "3.bias", [[0.0] * 5, [0.0] * 4]), True, "3.bias"),
    "dict": (lambda s: with_value(s, "3.bias", {"a": 1}), False, "3.bias"),
}


@pytest.mark.parametrize("case", list(BAD_STATE_DICTS))
def test_a_failed_load_names_the_key_and_changes_nothing(case):
    make_bad, strict, key = BAD_STATE_DICTS[case]
    model = make_model()
    train_steps(model, steps=2)
    before = snapshot(model)
    with pytest.raises(ValueError, match=re.escape(key)):
        model.load_state_dict(make_bad(altered(model.state_dict())), strict=strict)
    assert_same_arrays(model.state_dict(), before)


def test_load_not_strict_returns_missing_and_unexpected_keys():
    model = make_model()
    source = altered(model.state_dict())
    state = {**without(source, "1.running_var"), "extra.weight": np.zeros(2)}
    result = model.load_state_dict(state, strict=False)
    assert list(result.missing_keys) == ["1.running_var"]
    assert list(result.unexpected_keys) == ["extra.weight"]
    assert result == (result.missing_keys, result.unexpected_keys)  # a named tuple, as in PyTorch
    loaded = model.state_dict()
    np.testing.assert_allclose(loaded["0.weight"], source["0.weight"], rtol=1e-6)  # the rest was loaded
    np.testing.assert_array_equal(loaded["1.running_var"], np.ones(100))


def test_strict_error_lists_every_missing_and_unexpected_key():
    model = make_model()
    state = {**without(without(model.state_dict(), "0.bias"), "3.weight"), "4.bias": np.zeros(1)}
    with pytest.raises(ValueError) as error:
        model.load_state_dict(state)
    for key in ("0.bias", "3.weight", "4.bias"):
        assert key in str(error.value)


# ---- training end to end -----------------------------------------------------------------------


def train_mlp(seed: int, steps: int = 100) -> tuple[list[float], float]:
    """A small MLP with batch norm, fit by plain gradient steps to a fixed labelling."""
    data = np.random.default_rng(0)
    x = data.standard_normal((64, 4))
    labels = (x @ data.standard_normal((4, 3))).argmax(axis=1)  # linearly separable classes
    mg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    losses = []
    for _ in range(steps):
        loss = F.cross_entropy(model(mg.tensor(x, dtype=np.float32)), labels)
        model.zero_grad()
        loss.backward()
        for parameter in model.parameters():
            parameter.data -= 0.5 * parameter.grad.data
        losses.append(loss.item())
    model.eval()
    accuracy = (model(mg.tensor(x, dtype=np.float32)).data.argmax(axis=1) == labels).mean()
    return losses, accuracy


def test_mlp_with_batch_norm_learns_and_is_deterministic():
    losses, accuracy = train_mlp(seed=0)
    assert losses[0] > 0.8
    assert losses[-1] < 0.1 * losses[0]
    assert accuracy > 0.95
    again, _ = train_mlp(seed=0)
    assert again == losses


def _ops_of(tensors):
    """Every op the graphs of ``tensors`` are made of."""
    found, stack = {}, [tensor.op for tensor in tensors if tensor.op is not None]
    while stack:
        op = stack.pop()
        if id(op) not in found:
            found[id(op)] = op
            stack.extend(parent for parent in op.parents if not isinstance(parent, mg.Tensor))
    return list(found.values())


def test_a_float32_training_step_stays_float32_end_to_end():
    # No op of the forward pass, of the (recorded) backward pass or of Adam's update
    # computes in float64: an accidental upcast would double the memory and time.
    mg.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.25),
        nn.Linear(8, 8), nn.LayerNorm(8), nn.Tanh(), nn.Sigmoid(), nn.Linear(8, 3),
    )  # fmt: skip
    x, labels = mg.randn(16, 6), np.arange(16) % 3
    loss = F.cross_entropy(model(x), labels) + 0.5 * F.mse_loss(F.softmax(model(x), axis=1), mg.zeros(16, 3))
    forward_ops = _ops_of([loss])
    assert len(forward_ops) > 50
    assert not [(op.name, op.out_dtype) for op in forward_ops if op.out_dtype != np.float32]
    params = list(model.parameters())
    backward_ops = _ops_of(mg.grad(loss, params, create_graph=True))
    assert len(backward_ops) > 50
    assert not [(op.name, op.out_dtype) for op in backward_ops if op.out_dtype != np.float32]
    optimizer = mg.optim.Adam(params, lr=0.1)
    loss.backward()
    optimizer.step()
    assert all(param.grad.dtype == np.float32 and param.dtype == np.float32 for param in params)
    state = [value for param in params for value in optimizer.state[param].values()]
    assert all(value.dtype in (np.float32, np.int64) for value in state)
