"""The recipe registry: every training paradigm declared once, as data.

A paradigm is one module that calls :func:`register` with a :class:`RecipeSpec`: how to build its
step object, its own settings section (a pydantic model stored under ``project.training[section]``),
the setting keys it reads, its metrics (label, unit, which direction is better, which plot), the
Output roles it reads, its live views and its ``train.py`` support. Everything that used to switch
on recipe names (settings choices, the form, early stopping, the curves) asks this registry instead,
so a new paradigm is a one-file change.

This module imports neither torch nor the recipe base class, so :mod:`studio.train.settings` can use
it without an import cycle; the built-in paradigms are imported on first lookup.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BUILTIN_MODULES = (
    "studio.train.recipes.classification",
    "studio.train.recipes.regression",
    "studio.train.recipes.sequence",
    "studio.train.recipes.reconstruction",
    "studio.train.recipes.adversarial",
    "studio.train.recipes.rl",
    "studio.train.recipes.tabular_lab",
    "studio.train.recipes.distillation",
    "studio.train.recipes.control_dqn",
    "studio.train.recipes.policy_gradient",
    "studio.train.recipes.vae",
    "studio.train.recipes.diffusion",
    "studio.train.recipes.contrastive",
    "studio.train.recipes.clustering",
    "studio.train.recipes.skipgram",
)

# Output roles: what a model's returned value means. The Output node's ``role`` param chooses one;
# a recipe reads the role(s) it declares and ignores the rest.
ROLES: dict[str, str] = {
    "prediction": "What the loss compares with the target (the model's answer).",
    "latent": "A code or embedding, shown as a latent-space scatter.",
    "attention": "Attention weights, shown as a heatmap.",
    "auxiliary": "Returned by the model but not used in training (kept in exports).",
    "mean": "A VAE encoder's code mean (the VAE recipe draws the code around it).",
    "log_variance": "A VAE encoder's code log-variance (how far the VAE recipe's draw spreads).",
}

# Setting keys every paradigm reads (the form always shows them).
COMMON_KEYS = ("recipe", "graph", "epochs", "seed", "device", "threads", "checkpoint_every", "memory_limit_mb",
               "early_stopping")
# Setting keys of gradient training on a dataset (supervised learning and GANs).
DATASET_TRAINING_KEYS = ("dataset", "batch_size", "steps_per_epoch", "optimizer", "schedule", "grad_clip", "nodes",
                         "init", "amp")


@dataclass(frozen=True)
class MetricSpec:
    """One metric a recipe reports. ``name`` is the base name: ``accuracy`` also covers
    ``val_accuracy`` and ``train_accuracy``. ``plot`` is the chart it belongs on ("loss" or "metric")."""

    name: str
    label: str
    unit: str = ""
    higher_is_better: bool = False
    plot: str = "metric"
    help: str = ""

    def __post_init__(self) -> None:
        if self.plot not in ("loss", "metric", "none"):
            raise ValueError(f"metric '{self.name}': plot must be loss, metric or none, got {self.plot!r}")


@dataclass(frozen=True)
class RecipeSpec:
    """A training paradigm.

    ``factory(ctx)`` builds the step object (a :class:`studio.train.recipes.base.Recipe`).
    ``settings`` is a pydantic model for the paradigm's own section, stored under ``section``
    (several paradigms may share one section, e.g. both RL recipes use ``rl``); its fields show in
    the form under ``group`` (default: the label). ``uses`` lists the top-level or dotted setting
    keys the paradigm reads besides :data:`COMMON_KEYS` and its own section. ``export`` says whether
    ``train.py`` can be written for it: ``True``/``False`` or a callable the exporter calls.
    ``graph_settings`` are the setting keys naming the graphs it trains (an empty value means the
    project's first graph); by default ``("graph",)``, or none for a paradigm that reads no Output
    role (a tabular agent trains no graph).
    """

    name: str
    label: str
    factory: Callable[[Any], Any]
    help: str = ""
    settings: type | None = None
    section: str = ""
    group: str = ""
    uses: tuple[str, ...] = DATASET_TRAINING_KEYS
    metrics: tuple[MetricSpec, ...] = ()
    monitor: str = "val_loss"
    unit: str = "samples"
    roles: tuple[str, ...] = ("prediction",)
    views: tuple[str, ...] = ()
    export: bool | Callable[..., Any] = False
    graph_settings: tuple[str, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"recipe name must be an identifier, got {self.name!r}")
        if bool(self.settings) != bool(self.section):
            raise ValueError(f"recipe '{self.name}': settings and section go together")
        for role in self.roles:
            if role not in ROLES:
                raise ValueError(f"recipe '{self.name}': unknown Output role {role!r}; known: {', '.join(ROLES)}")

    @property
    def graph_keys(self) -> tuple[str, ...]:
        if self.graph_settings is not None:
            return self.graph_settings
        return ("graph",) if self.roles else ()

    @property
    def settings_group(self) -> str:
        return self.group or self.label

    def reads(self, key: str) -> bool:
        """Whether this paradigm reads the setting ``key`` (dotted)."""
        keys = COMMON_KEYS + self.uses + ((self.section,) if self.section else ())
        return any(key == k or key.startswith(k + ".") or k.startswith(key + ".") for k in keys)


# Metrics every run reports (the engine adds some of them).
COMMON_METRICS = (
    MetricSpec("loss", "Loss", plot="loss", help="The training objective; lower is better."),
    MetricSpec("lr", "Learning rate", plot="none"),
    MetricSpec("samples_per_s", "Throughput", "samples/s", True, plot="none"),
    MetricSpec("epoch_s", "Epoch time", "s", plot="none"),
    MetricSpec("inference_ms_per_sample", "Inference time", "ms/sample", plot="none"),
)

_RECIPES: dict[str, RecipeSpec] = {}
_METRICS: dict[str, MetricSpec] = {m.name: m for m in COMMON_METRICS}
_SECTIONS: dict[str, type] = {}
_ORIGIN: dict[str, str] = {}  # recipe name -> the module that registered it (orders the built-ins)
_loaded = False
_loading = False
_lock = threading.RLock()


def register(spec: RecipeSpec, *, replace: bool = False) -> RecipeSpec:
    """Add a paradigm. A second paradigm with the same name raises unless ``replace``; a metric
    declared again must agree on its direction and plot, and a shared section on its model."""
    if spec.name in _RECIPES and not replace:
        raise ValueError(f"a recipe named '{spec.name}' is already registered")
    if spec.section:
        from studio.train import settings as S

        if spec.section in S.TrainingSettings.model_fields:
            raise ValueError(f"recipe '{spec.name}': section '{spec.section}' is a core setting")
        known = _SECTIONS.get(spec.section)
        if known is not None and known is not spec.settings and not replace:
            raise ValueError(f"recipe '{spec.name}': section '{spec.section}' is already declared by another model")
    for m in spec.metrics:
        old = _METRICS.get(m.name)
        if old is not None and (old.higher_is_better, old.plot) != (m.higher_is_better, m.plot):
            raise ValueError(f"recipe '{spec.name}': metric '{m.name}' disagrees with its earlier declaration")
    for m in spec.metrics:
        _METRICS.setdefault(m.name, m)
    if spec.section:
        _SECTIONS[spec.section] = spec.settings  # type: ignore[assignment]
    _RECIPES[spec.name] = spec
    _ORIGIN[spec.name] = str(sys._getframe(1).f_globals.get("__name__", ""))
    return spec


def unregister(name: str) -> None:
    """Remove a paradigm (tests that define their own); its section goes when no paradigm uses it."""
    spec = _RECIPES.pop(name, None)
    _ORIGIN.pop(name, None)
    if spec is not None and spec.section and not any(r.section == spec.section for r in _RECIPES.values()):
        _SECTIONS.pop(spec.section, None)


def _ensure_loaded() -> None:
    """Import the built-in paradigms once. A second thread waits for the first to finish (the
    training worker and the GUI may both ask first); the loading thread's own nested lookups
    during the imports return at once."""
    global _loaded, _loading
    if _loaded:
        return
    with _lock:
        if _loaded or _loading:
            return
        _loading = True
        try:
            for module in BUILTIN_MODULES:
                importlib.import_module(module)
            _loaded = True
        finally:
            _loading = False


def all_recipes() -> list[RecipeSpec]:
    """Every registered paradigm: the built-ins in the order of :data:`BUILTIN_MODULES` (whichever
    module a program imports first), then the others in registration order."""
    _ensure_loaded()
    rank = {m: i for i, m in enumerate(BUILTIN_MODULES)}
    order = {name: i for i, name in enumerate(_RECIPES)}
    names = sorted(_RECIPES, key=lambda n: (rank.get(_ORIGIN.get(n, ""), len(rank)), order[n]))
    return [_RECIPES[n] for n in names]


def recipe_names() -> tuple[str, ...]:
    return tuple(r.name for r in all_recipes())


def recipe_spec(name: str) -> RecipeSpec:
    """The paradigm called ``name``; KeyError with the known names otherwise."""
    _ensure_loaded()
    try:
        return _RECIPES[name]
    except KeyError:
        raise KeyError(f"unknown recipe '{name}'; known: {', '.join(_RECIPES)}") from None


def sections() -> dict[str, type]:
    """Paradigm-owned settings sections: key in ``project.training`` -> pydantic model."""
    _ensure_loaded()
    return dict(_SECTIONS)


def base_metric(name: str) -> str:
    for prefix in ("val_", "train_", "test_"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def metric_spec(name: str) -> MetricSpec | None:
    """The declaration of a metric by its reported name (``val_accuracy`` -> ``accuracy``), or None."""
    _ensure_loaded()
    return _METRICS.get(name) or _METRICS.get(base_metric(name))


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of ``metric`` is better, as its paradigm declares it; undeclared metrics
    count as losses (lower is better)."""
    spec = metric_spec(metric)
    return bool(spec and spec.higher_is_better)


def metric_label(name: str) -> str:
    """Words for a reported metric: "Validation accuracy" for ``val_accuracy``."""
    spec = metric_spec(name)
    label = spec.label if spec else base_metric(name).replace("_", " ").capitalize()
    if label[1:2].islower():
        label = label[:1].lower() + label[1:]
    if name.startswith("val_"):
        return f"Validation {label}"
    if name.startswith("train_"):
        return f"Training {label}"
    return label[:1].upper() + label[1:]


def trained_graphs(project: Any, settings: Any) -> list[Any]:
    """The graphs a run of ``settings`` trains, as its paradigm declares them (``graph_settings``).
    ``settings`` is a TrainingSettings or a raw training dict; unknown names are left to the recipe
    to report."""
    def value(key: str) -> Any:
        node = settings
        for part in key.split("."):
            node = node.get(part, "") if isinstance(node, dict) else getattr(node, part, "")
        return node

    recipe = value("recipe") or "classification"
    graphs = list(getattr(project, "graphs", []))
    out: list[Any] = []
    for key in recipe_spec(str(recipe)).graph_keys:
        name = value(key)
        chosen = next((g for g in graphs if g.name == name), None) if name else (graphs[0] if graphs else None)
        if chosen is not None and chosen not in out:
            out.append(chosen)
    return out
