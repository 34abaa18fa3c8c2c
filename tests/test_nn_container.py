"""ModuleDict, ParameterList and ParameterDict (minigrad/nn/container.py; ModuleList and
Sequential are covered with the other modules in test_nn_modules.py)."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


class Heads(nn.Module):
    """A model with a dict of layers, a list of parameters and a dict of parameters."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleDict({"encoder": nn.Linear(3, 2), "act": nn.ReLU()})
        self.scales = nn.ParameterList([mg.ones(2), nn.Parameter(np.full(2, 2.0, dtype=np.float32))])
        self.shifts = nn.ParameterDict({"b": mg.zeros(2)})

    def forward(self, x):
        y = self.blocks["act"](self.blocks["encoder"](x))
        for scale in self.scales:
            y = y * scale
        return y + self.shifts["b"]


def test_the_parent_sees_and_names_what_the_containers_hold():
    model = Heads()
    names = ["blocks.encoder.weight", "blocks.encoder.bias", "scales.0", "scales.1", "shifts.b"]
    assert [name for name, _ in model.named_parameters()] == names
    assert [parameter.name for parameter in model.parameters()] == names  # shown in drawings
    assert list(model.state_dict()) == names
    assert all(isinstance(parameter, nn.Parameter) for parameter in model.parameters())


def test_a_model_with_containers_trains_and_reloads():
    mg.manual_seed(0)
    model, x = Heads(), mg.randn(4, 3)
    optimizer = mg.optim.SGD(model.parameters(), lr=0.1)
    before = {name: value.copy() for name, value in model.state_dict().items()}
    model(x).sum().backward()
    optimizer.step()
    assert all(not np.array_equal(before[name], value) for name, value in model.state_dict().items())
    model.load_state_dict(before)
    np.testing.assert_array_equal(model.scales[1].data, [2.0, 2.0])


def test_module_dict_works_like_a_dict_in_insertion_order():
    blocks = nn.ModuleDict([("b", nn.Tanh()), ("a", nn.ReLU())])  # pairs keep their order
    assert list(blocks) == blocks.keys() == ["b", "a"] and len(blocks) == 2 and "a" in blocks
    relu = blocks["a"]
    blocks["c"] = nn.Sigmoid()
    blocks.update({"b": nn.Identity(), "d": nn.Tanh()})  # replaces b in place, adds d
    assert blocks.keys() == ["b", "a", "c", "d"] and isinstance(blocks["b"], nn.Identity)
    assert blocks.pop("a") is relu and "a" not in blocks and not hasattr(blocks, "a")
    del blocks["c"]
    assert [key for key, _ in blocks.items()] == ["b", "d"] and len(blocks.values()) == 2
    assert repr(blocks) == "ModuleDict(\n  (b): Identity()\n  (d): Tanh()\n)"
    blocks.clear()
    assert len(blocks) == 0 and list(blocks.modules()) == [blocks]


def test_module_dict_refuses_what_cannot_be_a_child():
    blocks = nn.ModuleDict()
    with pytest.raises(KeyError, match="attribute 'training' already exists"):
        blocks["training"] = nn.ReLU()
    with pytest.raises(KeyError, match=r"contain no '\.'"):
        blocks["a.b"] = nn.ReLU()
    with pytest.raises(TypeError, match="the name must be a str"):
        blocks[1] = nn.ReLU()
    with pytest.raises(TypeError, match="ModuleDict: 'x' must be a Module, got Tensor"):
        blocks["x"] = mg.ones(2)
    with pytest.raises(TypeError, match="expected a mapping or"):
        blocks.update([nn.ReLU()])
    blocks["a"] = nn.ReLU()
    with pytest.raises(KeyError, match=r"ModuleDict: no entry 'z'; it has \['a'\]"):
        blocks["z"]
    with pytest.raises(KeyError, match="no entry 'z'"):
        del blocks["z"]


def test_parameter_list_indexes_and_makes_tensors_parameters_sharing_their_data():
    first = mg.ones(3)
    weights = nn.ParameterList([first])
    assert isinstance(weights[0], nn.Parameter) and weights[0].requires_grad
    assert weights[0].data is first.data  # as PyTorch's: the same numbers, not a copy
    weights.append(nn.Parameter(np.zeros(2))).extend([mg.zeros(4)])
    assert [weight.shape for weight in weights] == [(3,), (2,), (4,)] and len(weights) == 3
    assert weights[-1] is weights[2] and [w.shape for w in weights[1:]] == [(2,), (4,)]
    replacement = nn.Parameter(np.ones(5))
    weights[1] = replacement
    assert weights[1] is replacement and list(weights.state_dict()) == ["0", "1", "2"]
    assert repr(weights).splitlines()[1] == "  (0): Parameter of shape (3,), float32"
    assert repr(nn.ParameterList()) == "ParameterList()"
    with pytest.raises(IndexError, match="ParameterList: index 3 is out of range for 3 parameters"):
        weights[3]
    with pytest.raises(TypeError, match="ParameterList: entry 3 must be a Parameter or a Tensor, got list"):
        weights.append([1.0])
    computed = mg.ones(2, requires_grad=True) * 2.0
    with pytest.raises(ValueError, match="ParameterList: entry 3 is a computed tensor"):
        weights.append(computed)


def test_parameter_dict_works_like_a_dict_of_parameters():
    scales = nn.ParameterDict({"a": mg.ones(2)})
    scales["b"] = nn.Parameter(np.zeros(1))
    assert scales.keys() == ["a", "b"] and isinstance(scales["a"], nn.Parameter)
    assert [name for name, _ in scales.named_parameters()] == ["a", "b"]
    assert scales.pop("a").shape == (2,) and list(scales) == ["b"]
    assert repr(scales) == "ParameterDict(\n  (b): Parameter of shape (1,), float64\n)"
    with pytest.raises(TypeError, match="ParameterDict: entry 'c' must be a Parameter or a Tensor"):
        scales["c"] = 3.0


def test_dicts_take_another_dict_of_their_kind():
    blocks = nn.ModuleDict(nn.ModuleDict({"a": nn.Linear(2, 2)}))
    scales = nn.ParameterDict()
    scales.update(nn.ParameterDict({"w": mg.ones(2)}))
    assert blocks.keys() == ["a"] and scales.keys() == ["w"]


def test_slicing_a_list_keeps_the_models_names():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(1, 1), nn.BatchNorm1d(1)])
            self.weights = nn.ParameterList([mg.ones(1), mg.ones(2)])

    net = Net()
    names = [tensor.name for tensor in [*net.parameters(), *net.buffers()]]
    assert names[2:5] == ["layers.1.weight", "layers.1.bias", "weights.0"]
    assert len(net.layers[1:]) == 1 and len(net.weights[1:]) == 1
    assert [tensor.name for tensor in [*net.parameters(), *net.buffers()]] == names
