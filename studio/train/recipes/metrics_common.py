"""Metric declarations shared by the supervised paradigms (each paradigm lists the ones it reports)."""

from __future__ import annotations

from studio.train.recipes.registry import MetricSpec

ACCURACY = MetricSpec("accuracy", "Accuracy", "share", True, help="Share of correct predictions.")
PRECISION = MetricSpec("precision", "Precision", "share", True, help="Macro-averaged precision over the classes.")
RECALL = MetricSpec("recall", "Recall", "share", True, help="Macro-averaged recall over the classes.")
F1 = MetricSpec("f1", "F1", "share", True, help="Macro-averaged F1 score over the classes.")
MSE = MetricSpec("mse", "MSE", plot="loss", help="Mean squared error.")
MAE = MetricSpec("mae", "MAE", plot="loss", help="Mean absolute error.")
BASELINE_MSE = MetricSpec("baseline_mse", "Baseline MSE", plot="loss",
                          help="MSE of the naive baseline (repeat the last value / predict the mean).")
VS_BASELINE = MetricSpec("vs_baseline", "Better than baseline", "×", True, plot="none",
                         help="Baseline MSE divided by the model's MSE: above 1 beats the baseline.")

CLASSIFICATION = (ACCURACY, PRECISION, RECALL, F1)
REGRESSION = (MSE, MAE, BASELINE_MSE, VS_BASELINE)
