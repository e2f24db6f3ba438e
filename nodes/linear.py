"""Dense layers."""

from __future__ import annotations

from torch import nn

from studio.core.spec import ExportInfo, NodeSpec, ParamSpec, PortSpec

_IN = (PortSpec("in"),)


def last_dim(shapes):
    """in_features / embed_dim style inference: the size of the last dimension."""
    return int(shapes[0][-1])


LINEAR = NodeSpec(
    type_id="nn.linear",
    title="Linear",
    category="Dense",
    inputs=_IN,
    params=(
        ParamSpec("in_features", "int", None, minimum=1, maximum=100_000_000, infer=last_dim,
                  help="Size of each input sample; inferred from the incoming shape."),
        ParamSpec("out_features", "int", 64, minimum=1, maximum=1_000_000, help="Size of each output sample."),
        ParamSpec("bias", "bool", True, help="Learn an additive bias."),
    ),
    module=nn.Linear,
    export=ExportInfo("nn.Linear"),
    description="Fully connected layer: y = x Wᵀ + b, applied to the last dimension.",
    key_params=("out_features",),
    tags=("dense", "fully connected", "fc", "mlp"),
)

IDENTITY = NodeSpec(
    type_id="nn.identity",
    title="Identity",
    category="Dense",
    inputs=_IN,
    module=nn.Identity,
    kwargs=lambda p: {},
    export=ExportInfo("nn.Identity"),
    description="Passes its input through unchanged (a placeholder or a named tap point).",
    tags=("pass", "noop"),
)

SPECS = [LINEAR, IDENTITY]
