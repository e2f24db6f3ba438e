"""What the curves plot, without Qt: each run's metric series and what it trained with.

:class:`Series` keeps values in buffers that double when full (appending is O(1), plotting gets
views). :class:`Run` holds one run's series, the settings and graph it ran with, and how it ended;
its :func:`run_marks` say what made its training data differ from the dataset (flipped labels,
adversarial examples), so a noisy run and a clean one overlaid on the same plot are told apart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def run_marks(settings: dict[str, Any], info: dict[str, Any] | None = None) -> list[str]:
    """"label noise 30 %", "FGSM ε=0.03": what the run trained on besides the clean dataset.

    Once the run has started, its info says what the paradigm really applied (a regression run
    flips no labels); before that, the settings say what was asked.
    """
    marks = []
    if info:
        noise, adv = info.get("label_noise"), info.get("adversarial")
        share = noise.get("share") if isinstance(noise, dict) else None
        method, eps = (adv.get("method"), adv.get("eps")) if isinstance(adv, dict) else (None, None)
    else:
        ds = (settings or {}).get("dataset") or {}
        augment = ds.get("augment") or {}
        share = ds.get("label_noise")
        method = augment.get("adversarial")
        eps = augment.get("adversarial_eps", 0.1)
    if isinstance(share, int | float) and share > 0:
        marks.append(f"label noise {100 * share:.0f} %")
    if method and method != "off":
        marks.append(f"{str(method).upper()} ε={float(eps):g}" if isinstance(eps, int | float) else str(method).upper())
    return marks


class Series:
    """x/y values in buffers that double when full; the EMA-smoothed y is kept alongside."""

    def __init__(self, capacity: int = 1024) -> None:
        self.x = np.empty(capacity, np.float64)
        self.y = np.empty(capacity, np.float64)
        self.s = np.empty(capacity, np.float64)
        self.n = 0
        self.weight = 0.0
        self._ema = 0.0
        self._norm = 0.0

    def _grow(self, need: int) -> None:
        cap = len(self.x)
        while cap < need:
            cap *= 2
        if cap != len(self.x):
            for name in ("x", "y", "s"):
                old = getattr(self, name)
                new = np.empty(cap, np.float64)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)

    def append(self, x: float, y: float) -> None:
        if self.n >= len(self.x):
            self._grow(self.n + 1)
        self.x[self.n] = x
        self.y[self.n] = y
        self.s[self.n] = self._smooth(y)
        self.n += 1

    def _smooth(self, y: float) -> float:
        if not np.isfinite(y):
            return y
        w = self.weight
        self._ema = w * self._ema + (1 - w) * y
        self._norm = w * self._norm + (1 - w)
        return self._ema / self._norm if self._norm > 0 else y

    def set_smoothing(self, weight: float) -> None:
        """Recompute the EMA (debiased, like TensorBoard's) with a new weight."""
        self.weight = float(weight)
        self._ema = self._norm = 0.0
        for i in range(self.n):
            self.s[i] = self._smooth(self.y[i])

    def data(self, smoothed: bool = False) -> tuple[np.ndarray, np.ndarray]:
        return self.x[: self.n], (self.s if smoothed else self.y)[: self.n]

    def value_at(self, x: float) -> tuple[float, float] | None:
        if self.n == 0:
            return None
        xs = self.x[: self.n]
        i = int(np.clip(np.searchsorted(xs, x), 0, self.n - 1))
        if i > 0 and abs(xs[i - 1] - x) < abs(xs[i] - x):
            i -= 1
        return float(xs[i]), float(self.y[i])


@dataclass
class Run:
    """One training run: its curves, the settings and graph snapshot it ran with, and how it ended."""

    number: int
    settings: dict[str, Any]
    snapshot: Any = None
    started: float = field(default_factory=time.time)
    color: str = "#3b82f6"
    series: dict[tuple[str, str], Series] = field(default_factory=dict)  # (kind, metric) -> Series
    visible: bool = True
    status: str = "running"
    message: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    checkpoint: str | None = None
    label: str = ""  # what the run trained when it was not the project as is (a template stage)

    @property
    def marks(self) -> list[str]:
        """What the training data had besides the dataset: "label noise 30 %", "FGSM ε=0.03"."""
        return run_marks(self.settings, self.info)

    @property
    def title(self) -> str:
        what = f": {self.label}" if self.label else ""
        marks = "".join(f" · {m}" for m in self.marks)
        return f"Run {self.number}{what}{marks} ({time.strftime('%H:%M', time.localtime(self.started))})"

    def describe(self) -> str:
        s = self.settings or {}
        opt = s.get("optimizer", {})
        ds = s.get("dataset", {})
        parts = [s.get("recipe", "classification"), ds.get("name", "spirals"),
                 f"{opt.get('name', 'adam')} lr={opt.get('lr', 1e-3):g}", f"batch {s.get('batch_size', 64)}",
                 f"{s.get('epochs', 10)} epochs", *self.marks]
        return " · ".join(str(p) for p in parts)

    def series_for(self, kind: str, metric: str) -> Series:
        key = (kind, metric)
        if key not in self.series:
            self.series[key] = Series()
        return self.series[key]
