"""Diffusion models' own layer: the sinusoidal timestep embedding (Ho et al. 2020, from the
Transformer's position encoding), which tells a denoiser how noisy its input is.

The layer class is copied verbatim into standalone exports (``ExportInfo.source_of``), so it uses
only torch and math.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from studio.core.spec import ExportInfo, NodeSpec, ParamSpec, PortSpec


class TimestepEmbedding(nn.Module):
    """``[sin(s·t·f_k), cos(s·t·f_k)]`` for ``k < dim / 2`` with ``f_k = max_period^(−k / (dim / 2))``:
    nearby times get similar codes, and every frequency from 1 to 1 / max_period is present."""

    def __init__(self, dim: int = 64, scale: float = 1000.0, max_period: float = 10000.0) -> None:
        super().__init__()
        if dim < 2 or dim % 2:
            raise ValueError(f"dim must be an even number >= 2 (one sine and one cosine per frequency), got {dim}")
        self.dim, self.scale, self.max_period = dim, scale, max_period
        half = dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
        self.register_buffer("freqs", freqs, persistent=False)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        if t.dim() > 1 and t[0].numel() != 1:
            raise ValueError(f"the time must be one number per sample, shaped (B,) or (B, 1); got {tuple(t.shape)}")
        angles = t.reshape(-1, 1).float() * self.scale * self.freqs.to(t.device)
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, scale={self.scale}, max_period={self.max_period}"


def _even(params) -> str | None:
    dim = params.get("dim")
    if isinstance(dim, int) and dim % 2:
        return f"'dim' ({dim}) must be even: one sine and one cosine per frequency"
    return None


TIMESTEP_EMBEDDING = NodeSpec(
    type_id="diffusion.timestep_embedding",
    title="TimestepEmbedding",
    category="Diffusion",
    inputs=(PortSpec("in", help="the time, one number per sample: (B,) or (B, 1)"),),
    outputs=(PortSpec("out", help="(B, dim)"),),
    params=(
        ParamSpec("dim", "int", 64, minimum=2, maximum=4096, help="Size of the code: dim / 2 sines and as many cosines."),
        ParamSpec("scale", "float", 1000.0, minimum=1e-3, maximum=1e6,
                  help="Multiplies the time first: the diffusion recipe feeds t / T, so 1000 spreads it like the "
                       "paper's step numbers."),
        ParamSpec("max_period", "float", 10000.0, minimum=2.0, maximum=1e8,
                  help="The slowest wave's period (the Transformer's 10000)."),
    ),
    module=TimestepEmbedding,
    check=_even,
    export=ExportInfo("TimestepEmbedding", source_of=(TimestepEmbedding,)),
    description="Turns a diffusion step's time into a vector of sines and cosines at many frequencies, so a "
                "denoiser can tell how much noise to remove.",
    key_params=("dim",),
    tags=("timestep", "time", "embedding", "sinusoidal", "positional", "diffusion", "ddpm", "noise level"),
)

SPECS = [TIMESTEP_EMBEDDING]
