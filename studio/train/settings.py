"""Training settings: one pydantic schema stored in ``project.training`` as plain JSON.

The schema is the single definition of every setting: its type, default, range, choices, help
text, UI group and "advanced" flag. From it come validation (``TrainingSettings.from_dict`` is
strict: an unknown key or a value of the wrong kind raises :class:`SettingsError` naming the
dotted key, ``optimizer.lr``, and a one-line reason), the project-file format (missing keys take
their defaults, so ``{}`` is valid and every older file still reads) and the training panel's
form (:mod:`studio.train.settings_form`: ``settings_fields``, ``get_setting``, ``validate_setting``,
``label_for``).

Paradigms own their sections: the adversarial recipe declares ``gan``, the RL recipes ``rl``
(see :mod:`studio.train.recipes.registry`); ``TrainingSettings`` validates whichever sections the
registered paradigms declare and exposes them as attributes (``settings.gan``). Built-in dataset
generators declare their parameters in :data:`studio.train.synthetic.PARAMS`, so
``dataset.params`` is checked against the chosen dataset too.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, ValidationError, model_validator

from studio.train import bundled, synthetic

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("none", "step", "cosine", "one_cycle", "plateau")
DEVICES = ("auto", "cuda", "mps", "cpu")
LOSSES = ("auto", "cross_entropy", "mse", "l1", "huber", "bce")
INITS = ("default", "xavier", "kaiming", "orthogonal", "normal")
FILE_SETS = ("mnist", "fashion_mnist", "cifar10", "image_folder", "csv", "text")
DATASETS = tuple(synthetic.GENERATORS) + tuple(bundled.LOADERS) + FILE_SETS

# The learning-rate range, the one place it is defined (the optimizer, the form and the CLI read it).
# The top is deliberately huge: a too-large rate is a lesson (the loss diverges), not a typo.
LR_MIN, LR_MAX = 0.0, 1e12

GROUPS = ("Data", "Optimisation", "Regularisation", "Schedule", "Training", "Advanced")

# Parameters of the file-based datasets (the generators declare theirs in synthetic.PARAMS).
FILE_PARAMS: dict[str, dict[str, dict[str, Any]]] = {
    "text": {
        "length": synthetic.param(32, 1, 4096, "Characters per sample."),
        "many_to_many": synthetic.param(True, help="Predict the next character at every position (else only the last)."),
        "max_windows": synthetic.param(20000, 1, 1_000_000, "At most this many samples from the text."),
    },
    "csv": {
        "task": synthetic.param("auto", help="auto: regression for many distinct numbers, classification otherwise.",
                                choices=("auto", "classification", "regression")),
        "features": synthetic.param([], help="Columns to use as inputs (empty = every column but the target)."),
    },
}


class SettingsError(ValueError):
    """A training setting that is unknown or invalid; ``key`` is the dotted path."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"training setting '{key}': {message}")
        self.key = key
        self.reason = message


# -- value types: strict, except that 3.0 is a whole number and a tuple is a list ----------------
def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _listy(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


Int = Annotated[int, BeforeValidator(_whole), Strict()]
Float = Annotated[float, Strict()]
Bool = Annotated[bool, Strict()]
Str = Annotated[str, Strict()]


def S(default: Any = None, *, title: str = "", help: str = "", group: str = "", advanced: bool = False,
      ge: float | None = None, le: float | None = None, factory: Any = None, kind: str = "") -> Any:
    """A setting: default, range, help, and where the form shows it (``group``, ``advanced``)."""
    extra: dict[str, Any] = {"advanced": advanced}
    if group:
        extra["group"] = group
    if kind:
        extra["kind"] = kind
    kw: dict[str, Any] = {"title": title or None, "description": help or None, "ge": ge, "le": le,
                          "json_schema_extra": extra}
    if factory is not None:
        return Field(default_factory=factory, **kw)
    return Field(default, **kw)


class Section(BaseModel):
    """A table of settings. ``group`` is where the form shows its fields unless a field says otherwise."""

    model_config = ConfigDict(extra="forbid", validate_default=False, allow_inf_nan=False)
    group: ClassVar[str] = "Training"

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise settings_error(exc) from None


class Augment(Section):
    group: ClassVar[str] = "Data"
    flip: Bool = S(False, title="Random flips", help="Random horizontal flips (images).")
    crop: Int = S(0, title="Random crop", ge=0, le=64, help="Random crop after padding by this many pixels; 0 = off.")
    rotation: Float = S(0.0, title="Random rotation", ge=0.0, le=180.0, help="Random rotation up to ± this many degrees.")
    normalize: Bool = S(False, title="Normalise inputs", help="Standardise inputs with the training set's mean and std.")
    adversarial: Literal["off", "fgsm", "pgd"] = S("off", title="Adversarial training", group="Regularisation",
                                                   help="Train on clean plus FGSM or PGD examples of each batch "
                                                        "(classification), for robustness to small perturbations.")
    adversarial_eps: Float = S(0.1, title="Adversarial ε", ge=0.0, le=10.0, group="Regularisation",
                               help="Size of the adversarial perturbation, in raw input units (pixels 0..1).")


class DatasetSettings(Section):
    group: ClassVar[str] = "Data"
    name: Literal[DATASETS] = S("spirals", title="Dataset",  # type: ignore[valid-type]
                                help="A built-in generated dataset, or mnist/fashion_mnist/cifar10/image_folder/csv/text.")
    params: dict[str, Any] = S(factory=dict, title="Dataset parameters",
                               help="Parameters of the chosen dataset (each dataset declares its own).")
    path: Str = S("", title="Path", kind="path", help="Folder or file for image_folder/csv/text; data root for torchvision sets.")
    target: Str = S("", title="Target column", help="CSV: name of the target column (default: the last column).")
    download: Bool = S(True, title="Allow download", advanced=True,
                       help="Allow downloading torchvision datasets into the cache folder.")
    val_fraction: Float = S(0.2, title="Validation share", ge=0.0, le=0.9, help="Share of samples held out for validation.")
    limit: Int = S(0, title="Sample limit", ge=0, le=100_000_000,
                   help="Use at most this many training samples (0 = all); few-label fine-tuning.")
    label_noise: Float = S(0.0, title="Label noise", ge=0.0, le=0.9, group="Regularisation",
                           help="Flip this share of the training labels to another class (seeded); validation stays clean.")
    workers: Int = S(0, title="Loader workers", ge=0, le=64, advanced=True,
                     help="Worker processes when decoding image folders.")
    augment: Augment = S(factory=Augment)


class OptimizerSettings(Section):
    group: ClassVar[str] = "Optimisation"
    name: Literal[OPTIMIZERS] = S("adam", title="Optimizer", help="How weights follow the gradient.")  # type: ignore[valid-type]
    lr: Float = S(1e-3, title="Learning rate", ge=LR_MIN, le=LR_MAX, help="Step size of each update.")
    momentum: Float = S(0.9, title="Momentum", ge=0.0, le=1.0, help="SGD / RMSprop momentum.")
    nesterov: Bool = S(False, title="Nesterov momentum", advanced=True, help="Nesterov momentum (SGD).")
    betas: Annotated[list[Annotated[Float, Field(ge=0.0, lt=1.0)]], BeforeValidator(_listy),
                     Field(min_length=2, max_length=2)] = S(
        factory=lambda: [0.9, 0.999], title="Adam betas", advanced=True, help="Adam/AdamW betas (GANs like 0.5, 0.999).")
    weight_decay: Float = S(0.0, title="Weight decay", ge=0.0, le=10.0, group="Regularisation",
                            help="L2 penalty applied by the optimizer.")
    l1: Float = S(0.0, title="L1 penalty", ge=0.0, le=10.0, group="Regularisation",
                  help="L1 penalty on weights added to the loss.")


class ScheduleSettings(Section):
    group: ClassVar[str] = "Schedule"
    name: Literal[SCHEDULES] = S("none", title="LR schedule", help="How the learning rate changes over training.")  # type: ignore[valid-type]
    step_size: Int = S(10, title="Step every", ge=1, le=1_000_000, help="step: epochs between decays.")
    gamma: Float = S(0.1, title="Step decay factor", ge=0.0, le=1.0, help="step: decay factor.")
    factor: Float = S(0.5, title="Plateau decay factor", ge=0.0, le=1.0, help="plateau: decay factor.")
    patience: Int = S(3, title="Plateau patience", ge=0, le=1_000_000,
                      help="plateau: epochs without improvement before decaying.")
    max_lr: Float = S(0.0, title="Peak learning rate", ge=LR_MIN, le=LR_MAX, help="one_cycle: peak lr (0 = 10 × optimizer lr).")
    min_lr: Float = S(0.0, title="Final learning rate", ge=LR_MIN, le=LR_MAX, help="cosine: final lr.")


class EarlyStopping(Section):
    group: ClassVar[str] = "Schedule"
    enabled: Bool = S(False, title="Early stopping", help="Stop when the watched metric stops improving.")
    patience: Int = S(5, title="Early-stopping patience", ge=1, le=1_000_000,
                      help="Epochs without improvement before stopping.")
    metric: Str = S("val_loss", title="Watched metric",
                    help="Metric watched; its paradigm declares whether higher or lower is better.")
    min_delta: Float = S(0.0, title="Minimum improvement", ge=0.0, advanced=True,
                         help="A change smaller than this does not count as an improvement.")


class NodeTraining(Section):
    group: ClassVar[str] = "Optimisation"
    freeze: Bool = S(False, title="Freeze", help="Keep this node's weights fixed.")
    lr_mult: Float = S(1.0, title="LR multiplier", ge=0.0, le=1000.0, help="Multiplies the learning rate for this node.")


class InitSettings(Section):
    group: ClassVar[str] = "Advanced"
    scheme: Literal[INITS] = S("default", title="Weight initialisation",  # type: ignore[valid-type]
                               help="Weight initialisation of Linear/Conv layers.")
    checkpoint: Str = S("", title="Initial weights", kind="path",
                        help="Start from these weights (matching node names and shapes; the rest stay new).")


class LossSettings(Section):
    group: ClassVar[str] = "Optimisation"
    name: Literal[LOSSES] = S("auto", title="Loss", help="auto: cross-entropy for classification, MSE otherwise.")  # type: ignore[valid-type]
    label_smoothing: Float = S(0.0, title="Label smoothing", ge=0.0, le=0.5, group="Regularisation",
                               help="Spread this share of each target over the other classes.")
    noise: Float = S(0.0, title="Input noise", ge=0.0, le=5.0, group="Regularisation",
                     help="Reconstruction: std of Gaussian noise added to inputs (denoising).")


class TrainingSettings(Section):
    """Every training setting. Paradigm sections (``gan``, ``rl``, ...) are attributes too."""

    model_config = ConfigDict(extra="allow", validate_default=False, allow_inf_nan=False)
    recipe: Str = S("classification", title="Paradigm", kind="choice", help="How a training step works (the recipe).")
    graph: Str = S("", title="Graph", help="Graph to train (default: the first graph).")
    dataset: DatasetSettings = S(factory=DatasetSettings)
    batch_size: Int = S(64, title="Batch size", ge=1, le=1_000_000, group="Data", help="Samples per training step.")
    epochs: Int = S(10, title="Epochs", ge=1, le=1_000_000, group="Schedule", help="Passes over the training data.")
    steps_per_epoch: Int = S(0, title="Steps per epoch", ge=0, le=100_000_000, advanced=True, group="Schedule",
                             help="Cap on steps per epoch (0 = a full pass).")
    optimizer: OptimizerSettings = S(factory=OptimizerSettings)
    schedule: ScheduleSettings = S(factory=ScheduleSettings)
    grad_clip: Float = S(0.0, title="Gradient clipping", ge=0.0, le=1e6, group="Regularisation",
                         help="Clip the gradient norm to this (0 = off).")
    early_stopping: EarlyStopping = S(factory=EarlyStopping)
    nodes: dict[str, NodeTraining] = S(factory=dict, title="Per-node settings",
                                       help="Per-node settings by node name: {name: {freeze, lr_mult}}.")
    init: InitSettings = S(factory=InitSettings)
    loss: LossSettings = S(factory=LossSettings)
    seed: Int = S(0, title="Seed", ge=0, le=2**32 - 1, help="Random seed: the same seed gives the same run.")
    device: Literal[DEVICES] = S("auto", title="Device", advanced=True, group="Advanced", help="Where to train (auto: GPU if there is one).")  # type: ignore[valid-type]
    amp: Bool = S(True, title="Mixed precision", advanced=True, group="Advanced", help="Mixed precision on CUDA.")
    threads: Int = S(0, title="CPU threads", ge=0, le=1024, advanced=True, group="Advanced",
                     help="torch threads (0 = cores − 1, leaving one for the UI).")
    checkpoint_every: Int = S(1, title="Checkpoint every", ge=1, le=1_000_000, advanced=True, group="Advanced",
                              help="Epochs between checkpoints.")
    memory_limit_mb: Int = S(2048, title="Memory limit (MB)", ge=16, le=1_048_576, advanced=True, group="Advanced",
                             help="Refuse to start a run whose data and model would need more memory than this.")

    @model_validator(mode="after")
    def _check(self) -> TrainingSettings:
        from studio.train.recipes.registry import recipe_names, sections

        names = recipe_names()
        if self.recipe not in names:
            raise SettingsError("recipe", f"must be one of {', '.join(names)}; got {self.recipe!r}")
        own = sections()
        extra = self.__pydantic_extra__ if self.__pydantic_extra__ is not None else {}
        for key in list(extra):
            if key not in own:
                known = sorted([*type(self).model_fields, *own])
                raise SettingsError(key, f"unknown setting; known: {', '.join(known)}")
        for key, model in own.items():
            value = extra.get(key, {})
            if not isinstance(value, model):
                if not isinstance(value, dict):
                    raise SettingsError(key, f"must be a table of settings, got {type(value).__name__}")
                try:
                    value = model.model_validate(value)
                except ValidationError as exc:
                    raise settings_error(exc, key) from None
            extra[key] = value
        self.dataset.params = dataset_params(self.dataset.name, self.dataset.params, "dataset.params")
        return self

    # -- conversion -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="python")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TrainingSettings:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise SettingsError("training", f"must be a table of settings, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise settings_error(exc) from None

    def node_settings(self) -> dict[str, NodeTraining]:
        return dict(self.nodes)

    def section(self, name: str) -> BaseModel:
        """A paradigm's own settings section by name (``settings.section("rl")``)."""
        extra = self.__pydantic_extra__ or {}
        if name not in extra:
            raise SettingsError(name, "no paradigm declares this section")
        return extra[name]


# -- dataset parameters ------------------------------------------------------------------------
def dataset_param_schema(name: str) -> dict[str, dict[str, Any]] | None:
    """The declared parameters of dataset ``name`` (None for datasets that take none)."""
    return synthetic.PARAMS.get(name) or bundled.PARAMS.get(name) or FILE_PARAMS.get(name)


def dataset_params(name: str, params: Any, prefix: str = "dataset.params") -> dict[str, Any]:
    """``params`` checked against dataset ``name``'s declaration; values come back normalised
    (3.0 -> 3). Parameters left out stay out: the generator's own default applies."""
    if not isinstance(params, dict):
        raise SettingsError(prefix, f"must be a table of parameters, got {type(params).__name__}")
    schema = dataset_param_schema(name)
    if schema is None:
        return dict(params)
    out = {}
    for key, value in params.items():
        where = f"{prefix}.{key}"
        if key not in schema:
            raise SettingsError(where, f"dataset '{name}' has no parameter '{key}'; known: {', '.join(schema)}")
        out[key] = check_value(schema[key], value, where)
    return out


def check_value(decl: dict[str, Any], value: Any, key: str) -> Any:
    """One value against a plain declaration (``synthetic.param``): kind, choices, range."""
    kind = decl["kind"]
    if kind == "bool" and not isinstance(value, bool):
        raise SettingsError(key, f"must be true or false, got {value!r}")
    if kind == "int":
        value = _whole(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(key, f"must be a whole number, got {value!r}")
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(key, f"must be a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise SettingsError(key, f"must be finite, got {value!r}")
    if kind in ("text", "choice") and not isinstance(value, str):
        raise SettingsError(key, f"must be text, got {value!r}")
    if kind == "list":
        if not isinstance(value, list | tuple):
            raise SettingsError(key, f"must be a list, got {value!r}")
        value = list(value)
    if decl.get("choices") and value not in decl["choices"]:
        raise SettingsError(key, f"must be one of {', '.join(map(str, decl['choices']))}; got {value!r}")
    if kind in ("int", "float"):
        lo, hi = decl.get("minimum"), decl.get("maximum")
        if lo is not None and value < lo:
            raise SettingsError(key, f"must be at least {lo:g}, got {value!r}")
        if hi is not None and value > hi:
            raise SettingsError(key, f"must be at most {hi:g}, got {value!r}")
    return value


# -- errors ------------------------------------------------------------------------------------
def settings_error(exc: ValidationError, prefix: str = "") -> SettingsError:
    """The first error of a pydantic validation as one SettingsError: dotted key + one-line reason."""
    err = exc.errors(include_url=False)[0]
    cause = (err.get("ctx") or {}).get("error")
    loc = [str(p) for p in err["loc"] if not str(p).startswith("function-")]
    if isinstance(cause, SettingsError):  # raised by a nested table's own check: its key is relative
        return SettingsError(".".join(p for p in [prefix, *loc, cause.key] if p), cause.reason)
    if err["type"] in ("literal_error",) and loc and loc[-1].startswith("literal["):
        loc = loc[:-1]
    key = ".".join([p for p in [prefix, *loc] if p]) or "training"
    return SettingsError(key, _reason(err, exc.title))


def _reason(err: dict[str, Any], model: str) -> str:
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "extra_forbidden":
        from studio.train import settings as this

        known = getattr(this, model, None)
        names = ", ".join(sorted(known.model_fields)) if known is not None else ""
        return "unknown setting" + (f"; known: {names}" if names else "")
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '').replace(' or ', ', ')}; got {value!r}".replace("'", "")
    reasons = {
        "bool_type": "must be true or false", "int_type": "must be a whole number", "int_from_float": "must be a whole number",
        "float_type": "must be a number", "finite_number": "must be finite", "string_type": "must be text",
        "list_type": "must be a list", "dict_type": "must be a table", "model_type": "must be a table of settings",
        "model_attributes_type": "must be a table of settings",
    }
    if kind in reasons:
        got = type(value).__name__ if kind.startswith("model") or kind == "dict_type" else repr(value)
        return f"{reasons[kind]}, got {got}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be at least {ctx.get('ge', ctx.get('gt')):g}, got {value!r}"
    if kind in ("less_than_equal", "less_than"):
        return f"must be {'at most' if kind.endswith('equal') else 'less than'} {ctx.get('le', ctx.get('lt')):g}, got {value!r}"
    if kind in ("too_short", "too_long"):
        return f"must have {ctx.get('min_length', ctx.get('max_length'))} items, got {value!r}"
    return str(err["msg"]).splitlines()[0]
