"""Activation functions (as modules, so they show by name in exports)."""

from __future__ import annotations

from torch import nn

from studio.core.spec import ExportInfo, NodeSpec, ParamSpec, PortSpec


def _act(type_id: str, title: str, cls: type, description: str, params=(), key=()) -> NodeSpec:
    return NodeSpec(
        type_id=type_id,
        title=title,
        category="Activation",
        inputs=(PortSpec("in"),),
        params=tuple(params),
        module=cls,
        export=ExportInfo(f"nn.{cls.__name__}"),
        description=description,
        key_params=tuple(key),
        tags=("activation", "nonlinearity"),
    )


_DIM = ParamSpec("dim", "int", -1, minimum=-8, maximum=8, help="Dimension the probabilities sum to one over.")

SPECS = [
    _act("nn.relu", "ReLU", nn.ReLU, "max(0, x): the default hidden activation."),
    _act("nn.leaky_relu", "LeakyReLU", nn.LeakyReLU, "ReLU with a small slope for negative inputs.",
         [ParamSpec("negative_slope", "float", 0.01, minimum=0.0, maximum=1.0, help="Slope for x < 0.")],
         key=("negative_slope",)),
    _act("nn.elu", "ELU", nn.ELU, "Exponential linear unit.",
         [ParamSpec("alpha", "float", 1.0, minimum=0.0, maximum=10.0, help="Saturation value for negative inputs.")]),
    _act("nn.gelu", "GELU", nn.GELU, "Gaussian error linear unit, the transformer default.",
         [ParamSpec("approximate", "choice", "none", choices=("none", "tanh"), help="Exact or tanh approximation.")]),
    _act("nn.silu", "SiLU", nn.SiLU, "x · sigmoid(x) (also called swish)."),
    _act("nn.sigmoid", "Sigmoid", nn.Sigmoid, "Squashes values into (0, 1)."),
    _act("nn.tanh", "Tanh", nn.Tanh, "Squashes values into (-1, 1)."),
    _act("nn.softmax", "Softmax", nn.Softmax, "Turns scores into probabilities along a dimension.", [_DIM], key=("dim",)),
    _act("nn.log_softmax", "LogSoftmax", nn.LogSoftmax, "Log of softmax; pair with NLL loss.", [_DIM], key=("dim",)),
]
