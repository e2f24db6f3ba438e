"""Activation functions (as modules, so they show by name in exports)."""

from __future__ import annotations

from torch import nn

from studio.core.spec import ExportInfo, NodeSpec, ParamSpec, PortSpec


def _act(type_id: str, title: str, cls: type, description: str, params=(), key=(), tags=()) -> NodeSpec:
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
        tags=("activation", "nonlinearity", *tags),
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
    _act("nn.relu6", "ReLU6", nn.ReLU6, "ReLU capped at 6 (used by MobileNet).", tags=("mobilenet", "clamp")),
    _act("nn.hardswish", "Hardswish", nn.Hardswish, "Cheap piecewise approximation of SiLU/swish (MobileNetV3).",
         tags=("mobilenet", "swish")),
    _act("nn.hardsigmoid", "Hardsigmoid", nn.Hardsigmoid, "Cheap piecewise approximation of the sigmoid (MobileNetV3).",
         tags=("mobilenet", "sigmoid")),
    _act("nn.softplus", "Softplus", nn.Softplus, "A smooth ReLU: log(1 + exp(βx)) / β, always positive.",
         [ParamSpec("beta", "float", 1.0, minimum=0.001, maximum=100.0, help="Sharpness: larger values look more like ReLU."),
          ParamSpec("threshold", "float", 20.0, minimum=0.0, maximum=1000.0,
                    help="Above threshold/β the output is simply x (for numerical stability).")],
         key=("beta",), tags=("smooth", "positive")),
    _act("nn.mish", "Mish", nn.Mish, "x · tanh(softplus(x)): a smooth, self-gated activation.", tags=("smooth",)),
    _act("nn.prelu", "PReLU", nn.PReLU, "Leaky ReLU whose negative slope is learned.",
         [ParamSpec("num_parameters", "int", 1, minimum=1, maximum=100_000,
                    help="1 shares one slope; the channel count (dimension 1) learns one per channel."),
          ParamSpec("init", "float", 0.25, minimum=0.0, maximum=1.0, help="Starting value of the slope.")],
         key=("num_parameters",), tags=("leaky", "learned", "parametric")),
]
