"""Per-token attributions for sequence models that read token ids through an Embedding.

Gradients cannot flow into integer ids, so attributions are taken on the Embedding's output (one
vector per token) and summed over the embedding dimension: one number per token. The baseline is
"no token": a zero embedding vector at every position. It is written as id ``-1``; a hook clamps the
ids for the lookup and zeroes the vectors of ``-1`` ids, so captum's own baseline pass and its
convergence-delta check both run the model on the real "empty" input.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

TOKEN_METHODS = ("saliency", "ig", "occlusion")
NO_TOKEN = -1  # the baseline id: a zero embedding vector
TOLERANCE = 1e-2  # IG's convergence delta a result must reach (completeness), refining steps up to MAX_STEPS
MAX_STEPS = 1024


class NoTokenForward:
    """The model as a function of token ids in which id ``NO_TOKEN`` embeds to a zero vector.

    Used as a context manager so the hooks live only as long as one attribution.
    """

    def __init__(self, model: nn.Module, embedding: nn.Embedding) -> None:
        self.model, self.embedding = model, embedding
        self._known: torch.Tensor | None = None
        self._hooks: list = []

    def __enter__(self) -> NoTokenForward:
        def clamp(_m, args):
            ids = args[0]
            self._known = ids >= 0
            return (ids.clamp(min=0), *args[1:])

        def zero(_m, _args, out):
            known = self._known
            if known is None or bool(known.all()):
                return None
            return out * known.unsqueeze(-1).to(out.dtype)

        self._hooks = [self.embedding.register_forward_pre_hook(clamp),
                       self.embedding.register_forward_hook(zero)]
        return self

    def __exit__(self, *_exc) -> None:
        for hook in self._hooks:
            hook.remove()
        self._hooks = []
        self._known = None

    def __call__(self, ids: torch.Tensor) -> torch.Tensor:
        return self.model(ids.long())


def find_embedding(model: nn.Module) -> nn.Embedding | None:
    """The first Embedding in the model (the token lookup of a sequence model)."""
    return next((m for m in model.modules() if isinstance(m, nn.Embedding)), None)


def token_attribution(model: nn.Module, ids: torch.Tensor, target: torch.Tensor, method: str,
                      embedding: nn.Embedding, steps: int = 64,
                      max_steps: int = MAX_STEPS) -> tuple[torch.Tensor, torch.Tensor | None, int]:
    """(values shaped like ``ids`` (B, T), IG's convergence delta per sample or None, IG's steps taken).

    ``ig``: captum's LayerIntegratedGradients on the Embedding, from the zero embedding to the tokens;
    its attributions sum to f(tokens) − f(no tokens) (completeness); ``steps`` is where it starts, and
    it takes 4× more (up to ``max_steps``) while the convergence delta is above ``TOLERANCE``. ``saliency``: the gradient's
    L2 norm at each token's embedding. ``occlusion``: how much the score drops when one token is
    replaced by the zero embedding.
    """
    from captum import attr

    ids = ids.detach().long()
    with NoTokenForward(model, embedding) as forward:
        if method == "ig":
            lig = attr.LayerIntegratedGradients(forward, embedding)
            while True:  # sharp (well-trained) attention needs more steps for the sum to add up
                values, delta = lig.attribute(ids, baselines=torch.full_like(ids, NO_TOKEN), target=target,
                                              n_steps=steps, method="gausslegendre", return_convergence_delta=True,
                                              internal_batch_size=max(1, 4096 // max(1, ids.shape[0])))
                if float(delta.abs().max()) < TOLERANCE or steps >= max_steps:
                    return _per_token(values, ids).detach(), delta.detach().abs(), steps
                steps = min(max_steps, steps * 4)
        if method == "saliency":
            grads = attr.LayerGradientXActivation(forward, embedding, multiply_by_inputs=False).attribute(
                ids, target=target)
            return _per_token(grads, ids, norm=True).detach(), None, 0
        floats: Callable[[torch.Tensor], torch.Tensor] = lambda x: forward(x.round())  # noqa: E731
        values = attr.Occlusion(floats).attribute(ids.float(), sliding_window_shapes=(1,), target=target,
                                                  baselines=float(NO_TOKEN))
        return values.detach(), None, 0


def _per_token(values: torch.Tensor | tuple, ids: torch.Tensor, norm: bool = False) -> torch.Tensor:
    """(B, T, D) per-dimension values -> (B, T): summed (IG keeps completeness) or the L2 norm (saliency)."""
    if isinstance(values, tuple | list):
        values = values[0]
    values = values.reshape(*ids.shape, -1)
    return values.norm(dim=-1) if norm else values.sum(-1)


def token_label(token: int, vocab: list[str] | None) -> str:
    """A token as a reader sees it: its character or word when the vocabulary is known, else its id."""
    if vocab is None or not 0 <= token < len(vocab):
        return str(token)
    text = vocab[token]
    return {" ": "␣", "\n": "⏎", "\t": "⇥", "": "∅"}.get(text, text)
