"""Input and Output nodes: the compiled module's arguments and return values."""

from __future__ import annotations

from studio.core.spec import NodeSpec, ParamSpec, PortSpec

DTYPES = ("float32", "int64", "float64", "bool")
# What a returned value means; the training recipes read roles, never Output names.
OUTPUT_ROLES = ("prediction", "latent", "attention", "auxiliary", "mean", "log_variance")

INPUT = NodeSpec(
    type_id="io.input",
    title="Input",
    category="Input / Output",
    role="input",
    inputs=(),
    outputs=(PortSpec("out", help="the tensor fed to the model, batch first"),),
    params=(
        ParamSpec("shape", "ints", [1, 28, 28], minimum=1, maximum=1_000_000,
                  help="Shape of one sample, without the batch dimension (e.g. 1, 28, 28 for MNIST)."),
        ParamSpec("dtype", "choice", "float32", choices=DTYPES,
                  help="Element type: float32 for images and signals, int64 for token ids."),
    ),
    description="Where data enters the model. Each Input becomes one argument of forward().",
    key_params=("shape", "dtype"),
    tags=("data", "source", "placeholder"),
)

OUTPUT = NodeSpec(
    type_id="io.output",
    title="Output",
    category="Input / Output",
    role="output",
    inputs=(PortSpec("in", help="the tensor the model returns"),),
    outputs=(),
    params=(
        ParamSpec("role", "choice", "prediction", choices=OUTPUT_ROLES,
                  help="What this output is for training: prediction (the loss compares it with the target; "
                       "the first one counts), latent (a code, shown as a scatter), attention (weights, shown "
                       "as a heatmap), auxiliary (returned, not trained on), or mean / log_variance (a VAE encoder's "
                       "code distribution, read by the VAE recipe)."),
    ),
    description="What the model returns. The node's name names the output; several Outputs return a tuple. "
                "Its role says what training does with it.",
    key_params=("role",),
    tags=("result", "sink", "return"),
)

SPECS = [INPUT, OUTPUT]
