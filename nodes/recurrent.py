"""Sequence layers: token embeddings, RNN/LSTM/GRU and positional encodings (batch first)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from nodes.linear import last_dim
from nodes.modules import PositionalEncoding, RecurrentLayer
from studio.core.spec import ExportInfo, NodeSpec, ParamSpec, PortSpec

OUTPUT_CHOICES = ("sequence", "last step", "hidden state")


def _padding_check(params: Mapping[str, Any]) -> str | None:
    index, count = params.get("padding_idx"), params.get("num_embeddings")
    if isinstance(index, int) and isinstance(count, int) and not -count <= index < count:
        return f"'padding_idx' ({index}) must be a token id below num_embeddings ({count})"
    return None


EMBEDDING = NodeSpec(
    type_id="nn.embedding",
    title="Embedding",
    category="Sequence",
    inputs=(PortSpec("in", help="(B, L) integer token ids (Input dtype int64)"),),
    params=(
        ParamSpec("num_embeddings", "int", 1000, minimum=1, maximum=10_000_000,
                  help="Vocabulary size: token ids must be below this."),
        ParamSpec("embedding_dim", "int", 64, minimum=1, maximum=100_000, help="Length of each token's vector."),
        ParamSpec("padding_idx", "int", None, minimum=-10_000_000, maximum=10_000_000, optional=True,
                  help="Token id whose vector stays zero and untrained (padding); empty for none."),
    ),
    module=nn.Embedding,
    export=ExportInfo("nn.Embedding"),
    check=_padding_check,
    description="Looks up a learned vector for each integer token id: (B, L) ids become (B, L, embedding_dim).",
    key_params=("num_embeddings", "embedding_dim"),
    tags=("embedding", "token", "lookup", "vocabulary", "nlp", "word"),
)


def _recurrent_check(params: Mapping[str, Any]) -> str | None:
    if params.get("dropout", 0.0) > 0 and params.get("num_layers", 1) < 2:
        return "'dropout' only acts between stacked layers; set num_layers to 2 or more, or dropout to 0"
    return None


def _recurrent(cell: str, title: str, description: str, tags: tuple[str, ...]) -> NodeSpec:
    params = [
        ParamSpec("input_size", "int", None, minimum=1, maximum=1_000_000, infer=last_dim,
                  help="Features per time step; inferred from the last dimension of the input."),
        ParamSpec("hidden_size", "int", 64, minimum=1, maximum=100_000, help="Size of the hidden state."),
        ParamSpec("num_layers", "int", 1, minimum=1, maximum=16, help="Layers stacked on top of each other."),
        ParamSpec("bidirectional", "bool", False,
                  help="Also read the sequence backwards; doubles the output features."),
        ParamSpec("dropout", "float", 0.0, minimum=0.0, maximum=0.99,
                  help="Dropout between stacked layers (needs num_layers ≥ 2)."),
        ParamSpec("output", "choice", "sequence", choices=OUTPUT_CHOICES,
                  help="sequence: every step (B, L, H); last step: final output (B, H); "
                       "hidden state: final layer's h_n (B, H). H doubles if bidirectional."),
    ]
    if cell == "rnn":
        params.append(ParamSpec("nonlinearity", "choice", "tanh", choices=("tanh", "relu"),
                                help="Activation inside the cell."))
    return NodeSpec(
        type_id=f"nn.{cell}",
        title=title,
        category="Sequence",
        inputs=(PortSpec("in", help="(B, L, features), batch first"),),
        params=tuple(params),
        module=RecurrentLayer,
        kwargs=lambda p: {"cell": cell, **p},
        export=ExportInfo("RecurrentLayer", source_of=(RecurrentLayer,)),
        check=_recurrent_check,
        description=description,
        key_params=("hidden_size", "output"),
        tags=("recurrent", "rnn", "sequence", "time series", "nlp", *tags),
    )


POSITIONAL = NodeSpec(
    type_id="nn.positional_encoding",
    title="PositionalEncoding",
    category="Sequence",
    inputs=(PortSpec("in", help="(B, L, d_model)"),),
    params=(
        ParamSpec("d_model", "int", None, minimum=1, maximum=100_000, infer=last_dim,
                  help="Features per position; inferred from the last dimension of the input."),
        ParamSpec("max_len", "int", 512, minimum=1, maximum=1_000_000, help="Longest sequence it can encode."),
        ParamSpec("kind", "choice", "sinusoidal", choices=("sinusoidal", "learned"),
                  help="sinusoidal: fixed sine/cosine waves; learned: a trained vector per position."),
        ParamSpec("dropout", "float", 0.0, minimum=0.0, maximum=0.99, help="Dropout applied after adding positions."),
    ),
    module=PositionalEncoding,
    export=ExportInfo("PositionalEncoding", source_of=(PositionalEncoding,)),
    description="Adds a position signal to each step so attention layers know the order of the sequence.",
    key_params=("kind", "max_len"),
    tags=("positional", "encoding", "position", "transformer", "sinusoidal"),
)

SPECS = [
    EMBEDDING,
    _recurrent("rnn", "RNN", "A simple recurrent layer that reads a sequence step by step, keeping a hidden state.",
               ("elman", "vanilla")),
    _recurrent("lstm", "LSTM", "A recurrent layer with gated memory that remembers over long sequences.",
               ("lstm", "long short-term memory", "memory")),
    _recurrent("gru", "GRU", "A gated recurrent layer, lighter than an LSTM and often as good.",
               ("gru", "gated")),
    POSITIONAL,
]
