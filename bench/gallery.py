"""Quality bars of the gallery's newer templates (the digits templates, the VAE, diffusion on the ring): ``python -m bench.gallery [KEY ...]``.

Each template's default settings train on CPU (one thread, as on a shared 2-core laptop) and must reach
its bar within 3 minutes. The table goes to the "Gallery" section of docs/benchmarks.md. The quality
measures here are shared with ``tests/templates/test_digits_templates.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np

from bench.templates import Row, load, table, train
from studio.catalog import default_registry
from studio.core.registry import Registry

TIME_LIMIT_S = 180.0


def digit_classifier():
    """A classifier trained separately on all 1,797 real digits (RBF SVM with Platt-scaled probabilities,
    cross-validated Platt scaling; 97 % accuracy in 5-fold cross-validation): it judges whether generated images look like digits."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.datasets import load_digits
    from sklearn.svm import SVC

    data = load_digits()
    return CalibratedClassifierCV(SVC(gamma=0.001 * 256, C=10.0), ensemble=False).fit(data.data / 16.0, data.target)


def confident_share(images: np.ndarray, classifier=None, threshold: float = 0.8) -> tuple[float, np.ndarray]:
    """Share of 8×8 ``images`` (values in [0, 1]) that ``classifier`` calls some digit with probability ≥
    ``threshold``, and the predicted digits (for a look at which digits the samples cover)."""
    clf = classifier or digit_classifier()
    proba = clf.predict_proba(np.asarray(images, dtype=np.float64).reshape(len(images), -1))
    return float((proba.max(1) >= threshold).mean()), proba.argmax(1)


def check_cnn(reg: Registry) -> list[Row]:
    r = train(load("digits_cnn", reg), reg)
    acc = r.last("val_accuracy")
    ok = acc >= 0.95 and r.seconds <= TIME_LIMIT_S
    return [Row("digits_cnn", f"val accuracy {acc:.3f}", "≥ 0.95 in ≤ 3 min", ok, r.seconds, r.rate, r.unit)]


def check_autoencoder(reg: Registry) -> list[Row]:
    r = train(load("digits_autoencoder", reg), reg)
    ratio = r.last("val_vs_baseline")
    ok = ratio >= 2.0 and r.seconds <= TIME_LIMIT_S
    return [Row("digits_autoencoder", f"val MSE {r.last('val_mse'):.4f} = {1 / ratio:.2f} × mean-image "
                f"{r.last('val_baseline_mse'):.4f}", "MSE ≤ 0.5 × baseline in ≤ 3 min", ok, r.seconds, r.rate, r.unit)]


def check_gan(reg: Registry) -> list[Row]:
    r = train(load("digits_gan", reg), reg, {"gan": {"samples": 1000}})
    share, digits = confident_share(r.update.views["gan_samples"]["samples"])
    covered = len(np.unique(digits))
    ok = r.seconds <= TIME_LIMIT_S
    return [Row("digits_gan", f"{share:.0%} of 1,000 samples classified with confidence ≥ 0.8; {covered} of 10 "
                "digits drawn", "trains in ≤ 3 min (no bar set)", ok, r.seconds, r.rate, r.unit)]


def check_vae(reg: Registry) -> list[Row]:
    r = train(load("digits_vae", reg), reg, {"vae": {"samples": 1000}})
    ratio = r.last("val_vs_baseline")
    share, digits = confident_share(r.update.views["gan_samples"]["samples"])
    covered = len(np.unique(digits))
    ok = 1 / ratio <= 0.5 and share >= 0.8 and r.seconds <= TIME_LIMIT_S
    return [Row("digits_vae", f"val MSE {r.last('val_mse'):.4f} = {1 / ratio:.2f} × mean-image "
                f"{r.last('val_baseline_mse'):.4f}; {share:.0%} of 1,000 prior samples classified with confidence "
                f"≥ 0.8; {covered} of 10 digits drawn",
                "MSE ≤ 0.5 × baseline; ≥ 80 % confident; ≤ 3 min", ok, r.seconds, r.rate, r.unit)]


def check_diffusion(reg: Registry) -> list[Row]:
    r = train(load("diffusion_ring", reg), reg)
    modes, quality = r.last("val_modes_covered"), r.last("val_high_quality")
    ok = modes == 8 and quality >= 0.8 and r.seconds <= TIME_LIMIT_S
    return [Row("diffusion_ring", f"{modes:.0f}/8 modes covered, {quality:.0%} of 1,000 samples within 3σ of a mode",
                "8/8 modes, ≥ 80 % within 3σ; ≤ 3 min", ok, r.seconds, r.rate, r.unit)]


CHECKS: dict[str, Callable[[Registry], list[Row]]] = {
    "digits_cnn": check_cnn, "digits_autoencoder": check_autoencoder, "digits_gan": check_gan, "digits_vae": check_vae,
    "diffusion_ring": check_diffusion,
}


def main(argv: list[str] | None = None) -> int:
    import torch

    torch.set_num_threads(1)
    keys = list(argv or CHECKS)
    reg = default_registry()
    rows: list[Row] = []
    for key in keys:
        try:
            new = CHECKS[key](reg)
        except Exception as exc:  # a failed template is a row, not a crashed benchmark
            new = [Row(key, f"failed: {exc}", "-", False, 0.0, 0.0)]
        for row in new:
            print(f"{row.template:20s} {'ok ' if row.ok else 'NO '} {row.result}  [{row.seconds:.0f} s]", flush=True)
        rows.extend(new)
    md = table(rows)
    print(md)
    if set(keys) == set(CHECKS):
        from bench.report import write_section

        note = ("The real-data templates (scikit-learn's 8×8 digits, bundled, no download) and diffusion on the "
                "ring of Gaussians, default settings, "
                "trained on CPU with one torch thread on a machine shared with other jobs. Prior samples are "
                "judged by an RBF support-vector classifier trained separately on the 1,797 real digits.")
        write_section("Gallery", note + "\n\n" + md)
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:] or None))
