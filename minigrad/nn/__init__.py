"""Neural-network building blocks: modules, layers, losses (layer 4).

``minigrad.nn.functional`` holds the same computations as functions (layer 3).
"""

from minigrad.nn import functional, init
from minigrad.nn.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from minigrad.nn.layers import Dropout, Flatten, Identity, Linear, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from minigrad.nn.loss import CrossEntropyLoss, MSELoss
from minigrad.nn.module import IncompatibleKeys, Module
from minigrad.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from minigrad.nn.parameter import Parameter

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Identity",
    "IncompatibleKeys",
    "LayerNorm",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "ParameterDict",
    "ParameterList",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "functional",
    "init",
]
