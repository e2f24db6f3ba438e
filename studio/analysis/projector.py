"""The embedding projector, headless: vectors of a trained run seen in two (or three) dimensions.

A *source* is a set of vectors with what each stands for: the rows of an Embedding node (one per
token: a character, a word), or what an Output with role ``latent`` gives for the validation samples
(coloured by class when the dataset has labels). :func:`project_points` maps them to 2-D or 3-D with
scikit-learn's PCA or t-SNE, the field's reference implementations; :func:`nearest` answers "which
tokens are closest to this one" by cosine similarity, the measure word vectors are compared with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

METHODS = ("pca", "tsne")
METHOD_LABELS = {"pca": "PCA", "tsne": "t-SNE"}


class ProjectorError(ValueError):
    """A run or query the projector cannot show; one line saying what and where."""


@dataclass
class Source:
    """Vectors to project: ``vectors`` (N×D), ``tokens`` (a label per point, or None), ``labels`` (a class
    id per point for colour, or None) and ``classes`` (the class names)."""

    name: str
    kind: str  # "embedding" or "latent"
    vectors: np.ndarray
    tokens: list[str] | None = None
    labels: np.ndarray | None = None
    classes: list[str] = field(default_factory=list)

    def label(self, i: int) -> str:
        """What point ``i`` stands for (its token, else its class, else its number)."""
        if self.tokens is not None:
            return self.tokens[i]
        if self.labels is not None:
            k = int(self.labels[i])
            return self.classes[k] if 0 <= k < len(self.classes) else str(k)
        return f"#{i}"


def project_points(vectors: np.ndarray, method: str = "pca", dims: int = 2, seed: int = 0,
                   perplexity: float = 30.0) -> np.ndarray:
    """``vectors`` (N×D) mapped to N×``dims`` by PCA or t-SNE (scikit-learn). Fewer input dimensions than
    ``dims`` are padded with zeros; t-SNE's perplexity is capped below N, as it must be."""
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ProjectorError(f"expected a non-empty N×D table of vectors, got shape {list(x.shape)}")
    if method not in METHODS:
        raise ProjectorError(f"unknown projection '{method}'; known: {', '.join(METHODS)}")
    if not np.isfinite(x).all():
        raise ProjectorError("the vectors hold NaN or infinite values")
    n, d = x.shape
    k = min(dims, d, n)
    if method == "pca" or n < 4:
        from sklearn.decomposition import PCA

        out = PCA(n_components=k, random_state=seed).fit_transform(x) if k > 0 else np.zeros((n, 0))
    else:
        from sklearn.manifold import TSNE

        out = TSNE(n_components=dims, perplexity=min(perplexity, (n - 1) / 3.0), init="pca", random_state=seed,
                   max_iter=500).fit_transform(x)
    if out.shape[1] < dims:
        out = np.concatenate([out, np.zeros((n, dims - out.shape[1]))], 1)
    return out.astype(np.float32)


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """Rows normalised to length 1 (a zero row stays zero), so ``a @ b.T`` is cosine similarity."""
    x = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def neighbours(vectors: np.ndarray, index: int, k: int = 10) -> list[tuple[int, float]]:
    """The ``k`` rows most similar to row ``index`` by cosine similarity (itself excluded), best first."""
    unit = cosine_matrix(vectors)
    sims = unit @ unit[index]
    sims[index] = -np.inf
    order = np.argsort(-sims, kind="stable")[: max(0, min(k, len(sims) - 1))]
    return [(int(i), float(sims[i])) for i in order]


def find_token(tokens: list[str], query: str) -> int:
    """The row of ``query`` (exact, else case-insensitive); ProjectorError naming a few close tokens."""
    if query in tokens:
        return tokens.index(query)
    low = query.strip().lower()
    for i, t in enumerate(tokens):
        if t.lower() == low:
            return i
    near = [t for t in tokens if low and t.lower().startswith(low[:2])][:5]
    hint = f"; close: {', '.join(near)}" if near else ""
    raise ProjectorError(f"'{query}' is not in the vocabulary ({len(tokens)} tokens){hint}")


def nearest(source: Source, query: str, k: int = 10) -> list[tuple[str, float]]:
    """``k`` nearest tokens of ``query`` by cosine similarity, as (token, similarity)."""
    if source.tokens is None:
        raise ProjectorError(f"{source.name} has no tokens to look up; pick an Embedding")
    i = find_token(source.tokens, query)
    return [(source.tokens[j], s) for j, s in neighbours(source.vectors, i, k)]


# -- sources of a trained run ---------------------------------------------------------------------------

def _vocab(project: Any, settings: Any, state: dict[str, Any]) -> list[str] | None:
    """What an Embedding's rows stand for: a paradigm's stored vocabulary (skip-gram's words), else a text
    dataset's characters."""
    vocab = (state.get("recipe") or {}).get("vocab")
    if vocab:
        return [str(v) for v in vocab]
    if settings.dataset.name in ("bundled_text", "text"):
        from studio.train.data import load_data

        try:
            return [str(c) for c in load_data(settings.dataset, settings.seed).classes]
        except Exception:  # noqa: BLE001 - a run whose data no longer loads still shows its table, by row number
            return None
    return None


def run_sources(project: Any, registry: Any, run: str | Path, max_points: int = 1000) -> list[Source]:
    """Every Embedding table and latent Output of ``run`` (a run folder or checkpoint of ``project``).

    Embedding rows are labelled by token when the vocabulary is known; latent Outputs are evaluated on up
    to ``max_points`` validation samples of the run's dataset, coloured by class when it has labels."""
    import torch

    from studio.analysis.session import RunError, checkpoint_of
    from studio.train.checkpoint import load_checkpoint
    from studio.train.engine import load_trained
    from studio.train.settings import TrainingSettings

    try:
        checkpoint = checkpoint_of(run)
    except RunError as exc:
        raise ProjectorError(str(exc)) from None
    settings = TrainingSettings.from_dict(project.training)
    state = load_checkpoint(checkpoint)
    models = load_trained(project, registry, checkpoint)
    vocab = _vocab(project, settings, state)
    out: list[Source] = []
    for graph in project.graphs:
        built = models.get(graph.name)
        if built is None:
            continue
        for node in graph.nodes.values():
            if registry.canonical_id(node.type_id) != "nn.embedding":
                continue
            module = built.submodule(node.name)
            weight = getattr(module, "weight", None)
            if weight is None:
                continue
            table = weight.detach().float().cpu().numpy()
            tokens = None
            if vocab is not None:
                n = min(len(vocab), len(table))
                table, tokens = table[:n], vocab[:n]
            out.append(Source(f"Embedding '{node.name}' ({graph.name})", "embedding", table[:max_points],
                              tokens[:max_points] if tokens else None))
        latent = built.outputs_with_role("latent")
        if latent and len(built.inputs) == 1:
            out.extend(_latent_sources(built, latent, settings, max_points, torch))
    if not out:
        raise ProjectorError("this run has no Embedding node and no Output with role 'latent' to project")
    return out


def _latent_sources(built: Any, latent: dict[str, int], settings: Any, max_points: int, torch: Any) -> list[Source]:
    from studio.train.data import load_data
    from studio.train.nnloop.parts import input_stats

    try:
        data = load_data(settings.dataset, settings.seed, built.inputs[0].shape)
    except Exception as exc:  # noqa: BLE001 - said in one line, as every data error
        raise ProjectorError(f"cannot load the run's dataset for its latent Output: {exc}") from None
    x = data.val_x[:max_points]
    if settings.dataset.augment.normalize and x.is_floating_point():
        mean, std = input_stats(data.train_x)
        x = (x - mean) / std
    with torch.no_grad():
        outs = built.module(x)
    outs = outs if isinstance(outs, tuple | list) else (outs,)
    labels = data.val_y[:max_points].numpy() if data.task == "classification" else None
    return [Source(f"Output '{name}' (latent, {built.name})", "latent",
                   outs[i].detach().float().reshape(len(x), -1).cpu().numpy(), None, labels,
                   list(data.classes) if labels is not None else [])
            for name, i in latent.items()]
