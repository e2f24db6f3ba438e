"""Small layer classes and functions that plain ``torch.nn`` lacks.

Everything here is copied verbatim into standalone exports (``inspect.getsource``), so this
module stays self-contained: only torch, torch.nn, torch.nn.functional, math and typing are
imported at the top, and anything else (os, torchvision, safetensors) inside the method that
needs it. No class or function here may use another helper of this file, except where the
spec lists both in ``ExportInfo.source_of``. Dimension numbers always count the batch as 0.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

# --------------------------------------------------------------------------- merge functions


def concat(*tensors: torch.Tensor | None, dim: int = 1) -> torch.Tensor:
    """Join the connected inputs along ``dim``; unconnected optional inputs (None) are skipped."""
    return torch.cat([t for t in tensors if t is not None], dim=dim)


# --------------------------------------------------------------------------- shape helpers


class Reshape(nn.Module):
    """Reshape every sample to ``shape`` (the batch dimension is kept; one -1 is allowed)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


class Permute(nn.Module):
    """Reorder dimensions (``dims`` includes the batch dimension 0, like ``Tensor.permute``)."""

    def __init__(self, dims: tuple[int, ...]) -> None:
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(self.dims) != x.dim():
            raise ValueError(f"dims {self.dims} name {len(self.dims)} dimensions, "
                             f"but the input has {x.dim()} (batch included)")
        return x.permute(*self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class Transpose(nn.Module):
    """Swap two dimensions (batch is dimension 0)."""

    def __init__(self, dim0: int = 1, dim1: int = 2) -> None:
        super().__init__()
        self.dim0 = dim0
        self.dim1 = dim1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(self.dim0, self.dim1)

    def extra_repr(self) -> str:
        return f"dim0={self.dim0}, dim1={self.dim1}"


class Select(nn.Module):
    """Pick one index along a dimension, removing that dimension (``x[:, index]`` for dim 1)."""

    def __init__(self, dim: int = 1, index: int = 0) -> None:
        super().__init__()
        self.dim = dim
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not -x.dim() <= self.dim < x.dim():
            raise IndexError(f"dimension {self.dim} does not exist in a {x.dim()}-D input")
        size = x.shape[self.dim]
        if not -size <= self.index < size:
            raise IndexError(f"index {self.index} is outside dimension {self.dim} of size {size}")
        return x.select(self.dim, self.index)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, index={self.index}"


class SplitTwo(nn.Module):
    """Cut a tensor in two along ``dim``: the first ``split_size`` entries and the rest.

    ``split_size`` None cuts in half (the first part gets the extra entry when the size is odd).
    """

    def __init__(self, dim: int = 1, split_size: int | None = None) -> None:
        super().__init__()
        self.dim = dim
        self.split_size = split_size

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not -x.dim() <= self.dim < x.dim():
            raise IndexError(f"dimension {self.dim} does not exist in a {x.dim()}-D input")
        size = x.shape[self.dim]
        first = (size + 1) // 2 if self.split_size is None else self.split_size
        if not 0 < first < size:
            raise ValueError(f"split_size {first} must be between 1 and {size - 1} "
                             f"(dimension {self.dim} has size {size})")
        return x.narrow(self.dim, 0, first), x.narrow(self.dim, first, size - first)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, split_size={self.split_size}"


class Squeeze(nn.Module):
    """Remove a dimension of size 1."""

    def __init__(self, dim: int = 1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not -x.dim() <= self.dim < x.dim():
            raise IndexError(f"dimension {self.dim} does not exist in a {x.dim()}-D input")
        if x.shape[self.dim] != 1:
            raise ValueError(f"dimension {self.dim} has size {x.shape[self.dim]}; only size-1 "
                             "dimensions can be squeezed")
        return x.squeeze(self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Unsqueeze(nn.Module):
    """Insert a new dimension of size 1 at ``dim``."""

    def __init__(self, dim: int = 1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class StochasticDepth(nn.Module):
    """Drops a residual branch for whole samples ("row") or the whole batch ("batch") while
    training, rescaling survivors by 1 / (1 - p); identity in evaluation. Same maths and
    attributes as ``torchvision.ops.StochasticDepth``, without importing torchvision."""

    def __init__(self, p: float = 0.1, mode: str = "row") -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0 or mode not in ("row", "batch"):
            raise ValueError(f"p must lie in [0, 1] and mode be row or batch, got p={p}, mode={mode!r}")
        self.p = p
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        survival = 1.0 - self.p
        size = [x.shape[0]] + [1] * (x.dim() - 1) if self.mode == "row" else [1] * x.dim()
        noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
        if survival > 0.0:
            noise.div_(survival)
        return x * noise

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode!r}"


# --------------------------------------------------------------------------- sequences


class RecurrentLayer(nn.Module):
    """RNN, LSTM or GRU (batch first) that returns ONE tensor chosen by ``output``.

    ``"sequence"``: every step (B, L, H·dirs); ``"last step"``: the output at the final step
    (B, H·dirs); ``"hidden state"``: the final layer's h_n, both directions concatenated
    (B, H·dirs).
    """

    def __init__(self, cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, output: str = "sequence",
                 nonlinearity: str = "tanh") -> None:
        super().__init__()
        options = dict(num_layers=num_layers, bidirectional=bidirectional,
                                       dropout=dropout if num_layers > 1 else 0.0, batch_first=True)
        if cell == "lstm":
            self.rnn = nn.LSTM(input_size, hidden_size, **options)
        elif cell == "gru":
            self.rnn = nn.GRU(input_size, hidden_size, **options)
        elif cell == "rnn":
            self.rnn = nn.RNN(input_size, hidden_size, nonlinearity=nonlinearity, **options)
        else:
            raise ValueError(f"unknown recurrent cell {cell!r} (rnn, lstm or gru)")
        if output not in ("sequence", "last step", "hidden state"):
            raise ValueError(f"unknown output {output!r} (sequence, last step or hidden state)")
        self.cell = cell
        self.output = output
        self.directions = 2 if bidirectional else 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3:
            raise ValueError(f"needs a 3-D input (batch, steps, features), gets {x.dim()}-D")
        sequence, state = self.rnn(x)
        if self.output == "sequence":
            return sequence
        if self.output == "last step":
            return sequence[:, -1]
        h_n = state[0] if isinstance(state, tuple) else state  # LSTM: (h_n, c_n)
        last = h_n[-self.directions:]  # (dirs, B, H) of the final layer
        return last.transpose(0, 1).reshape(x.shape[0], -1)

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}, output={self.output!r}"


class PositionalEncoding(nn.Module):
    """Adds position information to (B, L, d_model): fixed sinusoids or a learned table."""

    def __init__(self, d_model: int, max_len: int = 512, kind: str = "sinusoidal", dropout: float = 0.0) -> None:
        super().__init__()
        self.kind = kind
        if kind == "learned":
            self.pe = nn.Parameter(torch.zeros(max_len, d_model))
            nn.init.normal_(self.pe, std=0.02)
        elif kind == "sinusoidal":
            position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
            div = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
            pe = torch.zeros(max_len, d_model)
            pe[:, 0::2] = torch.sin(position * div)
            pe[:, 1::2] = torch.cos(position * div)[:, : d_model // 2]
            self.register_buffer("pe", pe)
        else:
            raise ValueError(f"unknown positional encoding {kind!r} (sinusoidal or learned)")
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3:
            raise ValueError(f"needs a 3-D input (batch, sequence, features), gets {x.dim()}-D")
        length = x.shape[1]
        if length > self.pe.shape[0]:
            raise ValueError(f"sequence length {length} is longer than max_len {self.pe.shape[0]}")
        return self.dropout(x + self.pe[:length])

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, max_len={self.pe.shape[0]}, d_model={self.pe.shape[1]}"


# --------------------------------------------------------------------------- attention


class SelfAttention(nn.Module):
    """Scaled dot-product self-attention over (B, L, E); returns (out, weights averaged over heads)."""

    def __init__(self, embed_dim: int, num_heads: int = 1, dropout: float = 0.0, bias: bool = True,
                 causal: bool = False) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.causal = causal
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim, bias=bias)
        self.proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.attn_dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 3:
            raise ValueError(f"needs a 3-D input (batch, sequence, features), gets {x.dim()}-D")
        batch, length, embed = x.shape
        head_dim = embed // self.num_heads
        q, k, v = self.qkv(x).reshape(batch, length, 3, self.num_heads, head_dim).permute(2, 0, 3, 1, 4)
        scores = q @ k.transpose(-2, -1) / math.sqrt(head_dim)
        if self.causal:
            mask = torch.ones(length, length, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(mask, float("-inf"))
        weights = scores.softmax(dim=-1)
        out = (self.attn_dropout(weights) @ v).transpose(1, 2).reshape(batch, length, embed)
        return self.proj(out), weights.mean(dim=1)

    def extra_repr(self) -> str:
        return f"num_heads={self.num_heads}, causal={self.causal}"


class MultiheadAttentionBlock(nn.Module):
    """``nn.MultiheadAttention`` (batch first) whose key and value default to the query.

    Returns (out, weights) with weights (B, L, S) averaged over heads.
    """

    def __init__(self, embed_dim: int, num_heads: int = 1, dropout: float = 0.0, bias: bool = True,
                 kdim: int | None = None, vdim: int | None = None, causal: bool = False) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(embed_dim, num_heads, dropout=dropout, bias=bias,
                                          kdim=kdim, vdim=vdim, batch_first=True)
        self.causal = causal

    def forward(self, query: torch.Tensor, key: torch.Tensor | None = None,
                value: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if query.dim() != 3:
            raise ValueError(f"needs a 3-D query (batch, sequence, features), gets {query.dim()}-D")
        key = query if key is None else key
        value = key if value is None else value
        mask = None
        if self.causal:
            mask = torch.ones(query.shape[1], key.shape[1], dtype=torch.bool, device=query.device).triu(1)
        return self.attn(query, key, value, attn_mask=mask, need_weights=True, average_attn_weights=True)


class TransformerEncoderBlock(nn.Module):
    """A transformer encoder layer (like ``nn.TransformerEncoderLayer``, batch first) that also
    returns its attention weights (B, L, L) averaged over heads, for visualisation.

    Parameter names match ``nn.TransformerEncoderLayer``, so its state dicts load here.
    """

    def __init__(self, d_model: int, nhead: int = 4, dim_feedforward: int = 256, dropout: float = 0.1,
                 activation: str = "relu", norm_first: bool = False, causal: bool = False,
                 layer_norm_eps: float = 1e-5) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        if activation not in ("relu", "gelu"):
            raise ValueError(f"unknown activation {activation!r} (relu or gelu)")
        self.activation = activation
        self.norm_first = norm_first
        self.causal = causal

    def _attend(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask = None
        if self.causal:
            mask = torch.ones(x.shape[1], x.shape[1], dtype=torch.bool, device=x.device).triu(1)
        out, weights = self.self_attn(x, x, x, attn_mask=mask, need_weights=True, average_attn_weights=True)
        return self.dropout1(out), weights

    def _feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = F.gelu(self.linear1(x)) if self.activation == "gelu" else F.relu(self.linear1(x))
        return self.dropout2(self.linear2(self.dropout(hidden)))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.dim() != 3:
            raise ValueError(f"needs a 3-D input (batch, sequence, features), gets {x.dim()}-D")
        if self.norm_first:
            attended, weights = self._attend(self.norm1(x))
            x = x + attended
            x = x + self._feed_forward(self.norm2(x))
        else:
            attended, weights = self._attend(x)
            x = self.norm1(x + attended)
            x = self.norm2(x + self._feed_forward(x))
        return x, weights


# --------------------------------------------------------------------------- pretrained backbones


class PretrainedBackbone(nn.Module):
    """A torchvision image backbone whose classifier is replaced by Identity: (B, 3, H, W) -> (B, C).

    ``weights``: "none" (random), "imagenet" (from the torch hub cache; never downloaded here)
    or "file" (``weights_path``: a state dict saved with torch.save or safetensors; classifier
    keys fc.* / classifier.* are ignored). ``freeze``: "none", "all" or "all_but_last" (the
    last stage stays trainable). Frozen batch-norm layers stay in eval mode while training.
    Weights are never read while the parameters live on the meta device (shape inference).
    """

    HEADS = {"resnet18": "fc", "resnet50": "fc", "mobilenet_v3_small": "classifier",
             "efficientnet_b0": "classifier"}

    def __init__(self, arch: str, weights: str = "none", weights_path: str = "", freeze: str = "none") -> None:
        super().__init__()
        from torchvision import models

        if arch not in self.HEADS:
            raise ValueError(f"unknown backbone {arch!r}; choose one of {', '.join(self.HEADS)}")
        self.arch = arch
        self.freeze = freeze
        self.net = getattr(models, arch)(weights=None)
        setattr(self.net, self.HEADS[arch], nn.Identity())
        on_meta = any(p.is_meta for p in self.net.parameters())
        if weights == "imagenet" and not on_meta:
            self._load(self._imagenet_file(), "ImageNet weights")
        elif weights == "file" and not on_meta:
            self._load(weights_path, "weights file")
        elif weights not in ("none", "imagenet", "file"):
            raise ValueError(f"unknown weights {weights!r} (none, imagenet or file)")
        self._apply_freeze(freeze)

    def _last_stage(self) -> nn.Module:
        return self.net.layer4 if self.arch.startswith("resnet") else self.net.features[-1]

    def _apply_freeze(self, freeze: str) -> None:
        if freeze not in ("none", "all", "all_but_last"):
            raise ValueError(f"unknown freeze {freeze!r} (none, all or all_but_last)")
        if freeze == "none":
            return
        for p in self.net.parameters():
            p.requires_grad_(False)
        if freeze == "all_but_last":
            for p in self._last_stage().parameters():
                p.requires_grad_(True)

    def _imagenet_file(self) -> str:
        import os
        from urllib.parse import urlparse

        from torchvision import models

        url = models.get_model_weights(self.arch).DEFAULT.url
        folder = os.path.join(torch.hub.get_dir(), "checkpoints")
        path = os.path.join(folder, os.path.basename(urlparse(url).path))
        if not os.path.isfile(path):
            raise FileNotFoundError(f"ImageNet weights for {self.arch} are not cached in {folder}; "
                                    "connect once to download them, or choose weights = file")
        return path

    def _load(self, path: str, what: str) -> None:
        import os

        if not path:
            raise FileNotFoundError(f"no weights file chosen for {self.arch}; set weights_path")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{what} '{path}' does not exist")
        try:
            if path.endswith(".safetensors"):
                from safetensors.torch import load_file

                state = load_file(path, device="cpu")
            else:
                state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ValueError(f"{what} '{path}' cannot be read as PyTorch weights: {exc}") from exc
        for wrapper in ("state_dict", "model_state_dict", "model"):
            if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
                state = state[wrapper]
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise ValueError(f"{what} '{path}' does not hold a state dict of tensors")
        head = self.HEADS[self.arch] + "."
        cleaned = {}
        for key, value in state.items():
            for prefix in ("module.", "net."):
                key = key.removeprefix(prefix)
            if not key.startswith(head):
                cleaned[key] = value
        try:
            missing, unexpected = self.net.load_state_dict(cleaned, strict=False)
        except RuntimeError as exc:
            raise ValueError(f"{what} '{path}' does not fit {self.arch}: sizes differ "
                             f"({str(exc).splitlines()[-1].strip()})") from exc
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"{len(missing)} missing keys (e.g. {missing[0]})")
            if unexpected:
                parts.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[0]})")
            raise ValueError(f"{what} '{path}' does not fit {self.arch}: " + ", ".join(parts))

    def train(self, mode: bool = True) -> nn.Module:
        super().train(mode)
        if mode and self.freeze != "none":
            for module in self.net.modules():
                params = list(module.parameters(recurse=False))
                if isinstance(module, nn.modules.batchnorm._BatchNorm) and params and \
                        not any(p.requires_grad for p in params):
                    module.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"needs RGB images (batch, 3, height, width), gets {tuple(x.shape)}")
        return self.net(x)

    def extra_repr(self) -> str:
        return f"arch={self.arch!r}, freeze={self.freeze!r}"
