"""Trains every template's default settings to its quality target and prints a table.

``python -m bench.templates [KEY ...]`` (minutes on a 2-core CPU; not part of the test run).
The table (template, result vs target, time, throughput) goes to the "Templates" section of
docs/benchmarks.md. The gallery's templates (digits, VAE, diffusion, contrastive, clustering) are judged
by :mod:`bench.gallery` into its "Gallery" section; this entry point runs those too, so one command
checks every template's bar. The helpers here (``load``, ``apply_stage``, ``train``, the quality measures)
are shared with ``tests/templates`` so the tests and the benchmark judge templates the same way.
"""

from __future__ import annotations

import math
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from studio.catalog import default_registry
from studio.core.model import Project
from studio.core.registry import Registry
from studio.io.stages import apply_stage, default_subs, merge
from studio.io.templates import TEMPLATE_DIR, load_template

KEYS = ("transfer_cnn", "lstm_forecast", "conv_autoencoder", "gan_ring", "attention_reverse", "gridworld_q", "char_gpt")


# -- shared helpers ------------------------------------------------------------------------------------

def load(key: str, registry: Registry) -> Project:
    return load_template(key, registry, TEMPLATE_DIR)


@dataclass
class Run:
    """One finished training run: the final engine update and how fast it went."""

    update: Any
    seconds: float
    rate: float  # samples (or episodes) per second while stepping
    unit: str = "samples"
    steps: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # the engine's "started" info

    @property
    def history(self) -> list[dict[str, float]]:
        return self.update.history

    def last(self, metric: str) -> float:
        for row in reversed(self.history):
            if metric in row:
                return float(row[metric])
        raise KeyError(f"no epoch reported {metric!r}; metrics: {sorted(self.history[-1]) if self.history else []}")

    def curve(self, metric: str) -> list[float]:
        return [float(r[metric]) for r in self.history if metric in r]


def train(project: Project, registry: Registry, overrides: dict[str, Any] | None = None,
          checkpoint_dir: str | Path | None = None, keep_steps: bool = False) -> Run:
    """Train a snapshot of ``project`` to the end; raises RuntimeError when the run ends in an error."""
    from studio.train.engine import run

    snap = project.snapshot()
    merge(snap.training, overrides or {})
    t0 = time.perf_counter()
    rates, steps, unit, final, info = [], [], "samples", None, {}
    for update in run(snap, registry, checkpoint_dir=checkpoint_dir):
        if update.kind == "started":
            info = dict(update.info)
            unit = info.get("unit", unit)
        elif update.kind == "step":
            if update.samples_per_s > 0:
                rates.append(update.samples_per_s)
            if keep_steps:
                steps.extend(update.points)
        if update.final:
            final = update
    seconds = time.perf_counter() - t0
    assert final is not None
    if final.kind != "done":
        where = f" (node {final.node})" if final.node else f" (setting {final.setting})" if final.setting else ""
        raise RuntimeError(f"training ended with {final.kind}: {final.message}{where}")
    return Run(final, seconds, float(np.median(rates)) if rates else 0.0, unit, steps, info)


# -- quality measures --------------------------------------------------------------------------------

def knn_accuracy(points: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Leave-one-out k-nearest-neighbour accuracy of 2-D points: how well a latent view separates classes."""
    d = ((points[:, None, :] - points[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    votes = labels[np.argsort(d, 1)[:, :k]]
    pred = np.array([np.bincount(v, minlength=int(labels.max()) + 1).argmax() for v in votes])
    return float((pred == labels).mean())


def anti_diagonal_share(weights: np.ndarray) -> float:
    """Share of attention mass on the anti-diagonal (position i attending to L-1-i): reversal alignment."""
    w = np.asarray(weights, dtype=np.float64)
    while w.ndim > 2:
        w = w.mean(0)
    return float(np.fliplr(w).trace() / max(w.sum(), 1e-12))


# -- the checks, one per template ---------------------------------------------------------------------

@dataclass
class Row:
    template: str
    result: str
    target: str
    ok: bool
    seconds: float
    rate: float
    unit: str = "samples"


def check_lstm(reg: Registry) -> list[Row]:
    r = train(load("lstm_forecast", reg), reg)
    ratio = r.last("val_vs_baseline")
    result = f"val MSE {r.last('val_mse'):.4f} vs baseline {r.last('val_baseline_mse'):.4f} ({ratio:.1f}x lower)"
    rows = [Row("lstm_forecast", result, ">= 5x lower than repeat-last", ratio >= 5.0, r.seconds, r.rate, r.unit)]
    # the 'characters' stage: Embedding -> LSTM -> Linear on the bundled sample text (a user's file in the editor)
    project = load("lstm_forecast", reg)
    c = train(apply_stage(project, "characters", default_subs(project, "characters")), reg)
    uniform = math.log(max(2, len(c.info.get("classes") or [])))
    loss = c.last("val_loss")
    rows.append(Row("lstm_forecast (characters)", f"next-char val loss {loss:.2f} (uniform {uniform:.2f}), "
                    f"accuracy {c.last('val_accuracy'):.2f}", "loss < 0.5 x uniform", loss < 0.5 * uniform,
                    c.seconds, c.rate, c.unit))
    return rows


def check_autoencoder(reg: Registry) -> list[Row]:
    rows = []
    project = load("conv_autoencoder", reg)
    for name, proj in (("conv_autoencoder", project), ("conv_autoencoder (denoising)", apply_stage(project, "denoising"))):
        r = train(proj, reg)
        ratio = r.last("val_vs_baseline")
        latent = r.update.views.get("latent") or {}
        sep = knn_accuracy(latent["points"], latent["labels"]) if latent.get("labels") is not None else float("nan")
        chance = 1.0 / max(1, len(latent.get("classes", [])) or 1)
        result = (f"val MSE {r.last('val_mse'):.4f} = {1 / ratio:.2f} of mean-image {r.last('val_baseline_mse'):.4f}; "
                  f"2-D latent 5-NN acc {sep:.2f} (chance {chance:.2f})")
        ok = ratio >= 4.0 and sep >= 2 * chance
        rows.append(Row(name, result, "MSE <= 0.25 x baseline; latent separates", ok, r.seconds, r.rate, r.unit))
    return rows


def check_attention(reg: Registry) -> list[Row]:
    r = train(load("attention_reverse", reg), reg)
    acc = r.last("val_accuracy")
    attn = (r.update.views.get("attention") or {}).get("weights")
    share = anti_diagonal_share(attn) if attn is not None else float("nan")
    result = f"per-token val accuracy {acc:.3f}; attention mass on the anti-diagonal {share:.2f} (uniform 0.12)"
    return [Row("attention_reverse", result, ">= 0.95; anti-diagonal visible", acc >= 0.95 and share >= 0.4,
                r.seconds, r.rate, r.unit)]


def check_transfer(reg: Registry, curves_svg: Path | None = None) -> list[Row]:
    project = load("transfer_cnn", reg)
    with tempfile.TemporaryDirectory() as tmp:
        pre = train(apply_stage(project, "pretrain"), reg, checkpoint_dir=tmp)
        subs = {"pretrain": str(Path(tmp) / "last.pt")}
        fine = train(apply_stage(project, "finetune", subs), reg)
        last = train(apply_stage(project, "finetune_last_stage", subs), reg)
    scratch = train(apply_stage(project, "scratch"), reg)
    fa, la, sa = fine.last("val_accuracy"), last.last("val_accuracy"), scratch.last("val_accuracy")
    if curves_svg is not None:
        write_curves_svg(curves_svg, {"fine-tuned head (backbone pretrained on shapes)": fine.curve("val_accuracy"),
                                      "fine-tuned head + layer4 at 0.1x LR": last.curve("val_accuracy"),
                                      "same network from scratch": scratch.curve("val_accuracy")},
                         "glyphs, 60 labels: validation accuracy per epoch")
    limit = project.training["dataset"]["limit"]
    return [
        Row("transfer_cnn: pretrain", f"shapes val accuracy {pre.last('val_accuracy'):.3f}", "(stage 1)", True,
            pre.seconds, pre.rate, pre.unit),
        Row("transfer_cnn: fine-tune", f"glyphs ({limit} labels) val accuracy {fa:.3f} vs scratch {sa:.3f}",
            "fine-tuned > scratch", fa > sa + 0.05, fine.seconds, fine.rate, fine.unit),
        Row("transfer_cnn: fine-tune + layer4", f"glyphs ({limit} labels) val accuracy {la:.3f}", "(option)",
            True, last.seconds, last.rate, last.unit),
        Row("transfer_cnn: scratch", f"glyphs ({limit} labels) val accuracy {sa:.3f}", "(baseline)", True,
            scratch.seconds, scratch.rate, scratch.unit),
    ]


def write_curves_svg(path: Path, curves: dict[str, list[float]], title: str) -> None:
    """A dependency-free line plot (0..1 on y, epochs on x) of a few curves."""
    w, h, m = 480, 300, 40
    colours = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
    n = max(len(c) for c in curves.values())
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">',
             f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<text x="{w / 2}" y="16" text-anchor="middle" font-size="13">{title}</text>',
             f'<line x1="{m}" y1="{h - m}" x2="{w - 10}" y2="{h - m}" stroke="black"/>',
             f'<line x1="{m}" y1="{h - m}" x2="{m}" y2="{m - 10}" stroke="black"/>']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = h - m - tick * (h - 2 * m)
        parts.append(f'<text x="{m - 5}" y="{y + 4:.1f}" text-anchor="end">{tick:.2f}</text>')
        parts.append(f'<line x1="{m}" y1="{y:.1f}" x2="{w - 10}" y2="{y:.1f}" stroke="#ddd"/>')
    parts.append(f'<text x="{w / 2}" y="{h - 8}" text-anchor="middle">epoch (1..{n})</text>')
    for i, (label, ys) in enumerate(curves.items()):
        pts = " ".join(f"{m + (j / max(1, n - 1)) * (w - m - 10):.1f},{h - m - v * (h - 2 * m):.1f}" for j, v in enumerate(ys))
        c = colours[i % len(colours)]
        parts.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="{pts}"/>')
        parts.append(f'<text x="{m + 10}" y="{m + 8 + 14 * i}" fill="{c}">{label}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def check_gan(reg: Registry) -> list[Row]:
    r = train(load("gan_ring", reg), reg)
    modes, quality = r.last("val_modes_covered"), r.last("val_high_quality")
    result = f"{modes:.0f}/8 modes covered, {quality:.0%} of samples within 3 sigma of a mode"
    return [Row("gan_ring", result, ">= 7/8 modes, >= 80%", modes >= 7 and quality >= 0.8, r.seconds, r.rate, r.unit)]


def check_gridworld(reg: Registry) -> list[Row]:
    rows = []
    project = load("gridworld_q", reg)
    for name, proj in (("gridworld_q (tabular)", project), ("gridworld_q (DQN)", apply_stage(project, "dqn"))):
        try:
            r = train(proj, reg)
        except RuntimeError as exc:
            rows.append(Row(name, f"failed: {exc}", "100% shortest paths", False, 0.0, 0.0))
            continue
        paths, actions = r.last("val_optimal_paths"), r.last("val_optimal_actions")
        result = f"{paths:.0%} of starts reach the goal on a shortest path; {actions:.0%} optimal greedy actions"
        rows.append(Row(name, result, "100% shortest paths", paths >= 1.0, r.seconds, r.rate, r.unit))
    return rows


def unigram_perplexity(train_text: str, val_text: str, alphabet: str | list[str] | None = None) -> float:
    """Perplexity on ``val_text`` of the model that knows only character frequencies, counted on
    ``train_text`` (add-one smoothing over ``alphabet``, so a character unseen in training is not infinite)."""
    chars = sorted(set(alphabet if alphabet is not None else train_text + val_text))
    counts = {c: 1.0 for c in chars}
    for c in train_text:
        counts[c] += 1.0
    total = sum(counts.values())
    nll = -sum(math.log(counts[c] / total) for c in val_text) / max(1, len(val_text))
    return math.exp(nll)


def check_char_gpt(reg: Registry) -> list[Row]:
    """The small GPT against a unigram model of the same held-out text (frequencies counted on the training
    part), and the wall-clock time from the start until the bar was first met (validation and the
    generated-text samples included)."""
    from studio.train.bundled import bundled_text, text_split
    from studio.train.engine import run

    project = load("char_gpt", reg)
    params = project.training["dataset"]["params"]
    head, tail = text_split(params["text"], params["holdout"])
    unigram = unigram_perplexity(head, tail, bundled_text(params["text"]))
    bar = 0.5 * unigram
    t0, met, final, rates = time.perf_counter(), None, None, []
    for update in run(project.snapshot(), reg):
        if update.kind == "step" and update.samples_per_s > 0:
            rates.append(update.samples_per_s)
        if update.kind == "epoch" and met is None and update.metrics.get("val_perplexity", math.inf) <= bar:
            met = (update.epoch, time.perf_counter() - t0)
        if update.final:
            final = update
    seconds = time.perf_counter() - t0
    if final is None or final.kind != "done":
        raise RuntimeError(f"training ended with {final.kind if final else 'nothing'}: {final.message if final else ''}")
    last = final.history[-1]
    ppl = float(last["val_perplexity"])
    reached = f"; bar met after epoch {met[0]} of {len(final.history)}, {met[1]:.0f} s from the start" if met else ""
    result = (f"val perplexity {ppl:.2f} vs unigram {unigram:.2f} ({ppl / unigram:.2f} x); accuracy "
              f"{float(last['val_accuracy']):.2f}{reached}")
    rate = float(np.median(rates)) if rates else 0.0
    return [Row("char_gpt", result, "perplexity <= 0.5 x unigram", ppl <= bar, seconds, rate, "samples")]


def check_sonnets_skipgram(reg: Registry) -> list[Row]:
    """Skip-gram word vectors: words used within the window of each other in the text must be more similar
    (cosine) than the same words paired at random; also the held-out tail's figure and the CPU time."""
    project = load("sonnets_skipgram", reg)
    cpu = time.process_time()
    r = train(project, reg)
    cpu = time.process_time() - cpu
    auc, bar = r.last("val_pair_auc"), project.meta["targets"]["val_pair_auc"]
    result = (f"neighbour-pair AUC {auc:.3f} (untrained {r.info.get('untrained_pair_auc', float('nan')):.3f}); "
              f"cosine {r.last('val_pair_cos'):.3f} vs {r.last('val_random_cos'):.3f} shuffled; held-out AUC "
              f"{r.last('val_held_pair_auc'):.3f}; {r.info.get('vocabulary')} words; CPU {cpu:.0f} s")
    return [Row("sonnets_skipgram", result, f"pair AUC >= {bar}", auc >= bar, r.seconds, r.rate, r.unit)]


CHECKS: dict[str, Callable[[Registry], list[Row]]] = {
    "transfer_cnn": lambda reg: check_transfer(reg, TEMPLATE_DIR / "transfer_cnn_curves.svg"),
    "lstm_forecast": check_lstm,
    "conv_autoencoder": check_autoencoder,
    "gan_ring": check_gan,
    "attention_reverse": check_attention,
    "gridworld_q": check_gridworld,
    "char_gpt": check_char_gpt,
    "sonnets_skipgram": check_sonnets_skipgram,
}


def table(rows: list[Row]) -> str:
    lines = ["| template | result | target | met | time (s) | throughput |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.template} | {r.result} | {r.target} | {'yes' if r.ok else 'NO'} | {r.seconds:.0f} | "
                     f"{r.rate:,.0f} {r.unit}/s |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import torch

    from bench import gallery

    keys = [k for k in (argv or list(CHECKS))]
    in_gallery = [k for k in (argv or list(gallery.CHECKS)) if k in gallery.CHECKS and k not in CHECKS]
    keys = [k for k in keys if k not in in_gallery]
    if argv is not None and not keys:
        return gallery.main(in_gallery)
    reg = default_registry()
    rows: list[Row] = []
    for key in keys:
        if key not in CHECKS:
            print(f"skip {key}: no check (template or recipe missing)")
            continue
        try:
            new = CHECKS[key](reg)
        except Exception as exc:  # a failed template is a row, not a crashed benchmark
            new = [Row(key, f"failed: {exc}", "-", False, 0.0, 0.0)]
        for row in new:
            print(f"{row.template:32s} {'ok ' if row.ok else 'NO '} {row.result}  [{row.seconds:.0f} s, "
                  f"{row.rate:,.0f} {row.unit}/s]", flush=True)
        rows.extend(new)
    md = table(rows)
    print(md)
    note = (f"Each template's default settings trained on CPU with torch using {torch.get_num_threads()} thread(s) "
            "(the engine leaves one core for the UI); the machine was shared with other jobs, so times are "
            "pessimistic. Throughput is the median windowed rate while stepping. Transfer curves: "
            "`templates/transfer_cnn_curves.svg`.")
    from bench.report import write_section

    if argv is None or set(keys) == set(CHECKS):
        write_section("Templates", note + "\n\n" + md)
    elif rows:  # some templates: their rows replace theirs, the others' rows stay as measured before
        kept, stamp = kept_rows(keys)
        if kept:
            note += f" Rows of templates not trained in the latest run are from the full run of {stamp} or later."
        write_section("Templates", note + "\n\n" + md + "".join("\n" + line for line in kept))
    gallery_ok = gallery.main(in_gallery if argv is not None else None) == 0 if in_gallery else True
    return 0 if all(r.ok for r in rows) and gallery_ok else 1


def kept_rows(keys: list[str]) -> tuple[list[str], str]:
    """The Templates table's rows for templates other than ``keys``, and when they were measured."""
    from bench.report import DOC

    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    section = re.search(r"^## Templates\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if section is None:
        return [], ""
    body = section.group(1)
    stamp = re.search(r"_Measured (.*?) on ", body)
    earlier = re.search(r"Rows of templates not trained in the latest run are from the full run of (.*?) or later", body)
    rows = [line for line in body.splitlines() if line.startswith("| ") and not line.startswith(("| template ", "|---"))]
    kept = [line for line in rows if re.split(r"[ :|(]+", line.strip("| "))[0] not in keys]
    return kept, (earlier.group(1) if earlier else stamp.group(1) if stamp else "an earlier run")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:] or None))
