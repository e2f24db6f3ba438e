"""Training settings: a dataclass tree stored in ``project.training`` as plain JSON.

``TrainingSettings.from_dict`` is strict: an unknown key or a value of the wrong kind raises
:class:`SettingsError` naming the dotted key (``optimizer.lr``), so a typo in a project file is
reported instead of silently ignored. Missing keys take their defaults, so ``{}`` is valid.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any

RECIPES = ("classification", "regression", "sequence", "reconstruction", "adversarial",
           "q_learning_tabular", "dqn")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("none", "step", "cosine", "one_cycle", "plateau")
DEVICES = ("auto", "cuda", "mps", "cpu")
LOSSES = ("auto", "cross_entropy", "mse", "l1", "huber", "bce")
INITS = ("default", "xavier", "kaiming", "orthogonal", "normal")


class SettingsError(ValueError):
    """A training setting that is unknown or invalid; ``key`` is the dotted path."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"training setting '{key}': {message}")
        self.key = key


def _f(default: Any = None, *, choices: tuple = (), minimum: float | None = None,
       maximum: float | None = None, help: str = "", factory: Any = None) -> Any:
    meta = {"choices": choices, "minimum": minimum, "maximum": maximum, "help": help}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class Augment:
    flip: bool = _f(False, help="Random horizontal flips (images).")
    crop: int = _f(0, minimum=0, maximum=64, help="Random crop after padding by this many pixels; 0 = off.")
    rotation: float = _f(0.0, minimum=0.0, maximum=180.0, help="Random rotation up to ± this many degrees.")
    normalize: bool = _f(False, help="Standardise inputs with the training set's mean and std.")


@dataclass
class DatasetSettings:
    name: str = _f("spirals", help="Built-in dataset name, or mnist/fashion_mnist/cifar10/image_folder/csv.")
    params: dict = _f(factory=dict, help="Generator parameters of a built-in dataset (e.g. classes, n).")
    path: str = _f("", help="Folder or file for image_folder/csv; data root for torchvision sets.")
    target: str = _f("", help="CSV: name of the target column (default: the last column).")
    download: bool = _f(True, help="Allow downloading torchvision datasets into the cache folder.")
    val_fraction: float = _f(0.2, minimum=0.0, maximum=0.9, help="Share of samples held out for validation.")
    limit: int = _f(0, minimum=0, help="Use at most this many training samples (0 = all); few-label fine-tuning.")
    workers: int = _f(0, minimum=0, maximum=64, help="Worker processes when decoding image folders.")
    augment: Augment = _f(factory=Augment)


@dataclass
class OptimizerSettings:
    name: str = _f("adam", choices=OPTIMIZERS)
    lr: float = _f(1e-3, minimum=0.0, maximum=1e12)
    momentum: float = _f(0.9, minimum=0.0, maximum=1.0, help="SGD / RMSprop momentum.")
    nesterov: bool = _f(False, help="Nesterov momentum (SGD).")
    betas: list = _f(factory=lambda: [0.9, 0.999], help="Adam/AdamW betas (GANs like 0.5, 0.999).")
    weight_decay: float = _f(0.0, minimum=0.0, maximum=10.0)
    l1: float = _f(0.0, minimum=0.0, maximum=10.0, help="L1 penalty on weights added to the loss.")


@dataclass
class ScheduleSettings:
    name: str = _f("none", choices=SCHEDULES)
    step_size: int = _f(10, minimum=1, help="step: epochs between decays.")
    gamma: float = _f(0.1, minimum=0.0, maximum=1.0, help="step: decay factor.")
    factor: float = _f(0.5, minimum=0.0, maximum=1.0, help="plateau: decay factor.")
    patience: int = _f(3, minimum=0, help="plateau: epochs without improvement before decaying.")
    max_lr: float = _f(0.0, minimum=0.0, help="one_cycle: peak lr (0 = 10 × optimizer lr).")
    min_lr: float = _f(0.0, minimum=0.0, help="cosine: final lr.")


@dataclass
class EarlyStopping:
    enabled: bool = _f(False)
    patience: int = _f(5, minimum=1)
    metric: str = _f("val_loss", help="Metric watched; lower is better unless it is an accuracy/F1/return.")
    min_delta: float = _f(0.0, minimum=0.0)


@dataclass
class NodeTraining:
    freeze: bool = _f(False, help="Keep this node's weights fixed.")
    lr_mult: float = _f(1.0, minimum=0.0, maximum=1000.0, help="Multiplies the learning rate for this node.")


@dataclass
class InitSettings:
    scheme: str = _f("default", choices=INITS, help="Weight initialisation of Linear/Conv layers.")
    checkpoint: str = _f("", help="Start from these weights (matching node names and shapes; the rest stay new).")


@dataclass
class LossSettings:
    name: str = _f("auto", choices=LOSSES, help="auto: cross-entropy for classification, MSE otherwise.")
    label_smoothing: float = _f(0.0, minimum=0.0, maximum=0.5)
    noise: float = _f(0.0, minimum=0.0, maximum=5.0, help="Reconstruction: std of Gaussian noise added to inputs (denoising).")


@dataclass
class GanSettings:
    generator: str = _f("generator", help="Name of the generator graph.")
    discriminator: str = _f("discriminator", help="Name of the discriminator graph.")
    latent_dim: int = _f(0, minimum=0, help="Noise size (0 = read from the generator's Input).")
    d_steps: int = _f(1, minimum=1, maximum=10, help="Discriminator steps per generator step.")
    d_output: str = _f("logits", choices=("logits", "probability"), help="What the discriminator returns.")
    samples: int = _f(64, minimum=1, maximum=4096, help="Size of the fixed noise batch shown during training.")
    loss: str = _f("bce", choices=("bce", "wgan_gp"),
                   help="bce: non-saturating GAN; wgan_gp: Wasserstein loss with gradient penalty (the critic "
                        "returns a raw score).")
    r1: float = _f(0.1, minimum=0.0, maximum=1000.0,
                   help="bce: R1 penalty weight on the discriminator's gradient at real samples; it keeps "
                        "training from collapsing onto a few modes (0 = off).")
    gp: float = _f(10.0, minimum=0.0, maximum=1000.0, help="wgan_gp: gradient penalty weight.")


@dataclass
class GridSettings:
    layout: list = _f(factory=lambda: ["S...#...", ".##.#.#.", "....#.#.", ".#....#.", ".#.##...",
                                       ".#..X.#.", ".##.#.#.", "....#..G"],
                      help="Rows of S start, G goal, # wall, X pit (ends the episode), C cliff (back to start), . free.")
    goal_reward: float = _f(1.0)
    pit_reward: float = _f(-1.0)
    cliff_reward: float = _f(-1.0)
    step_reward: float = _f(-0.01, help="Added every step (a small penalty favours short paths).")
    slip: float = _f(0.0, minimum=0.0, maximum=1.0, help="Probability that a move goes a random way.")
    max_steps: int = _f(0, minimum=0, help="Episode length cap (0 = 4 × cells).")


@dataclass
class RLSettings:
    gamma: float = _f(0.95, minimum=0.0, maximum=1.0)
    lr: float = _f(0.5, minimum=0.0, maximum=1.0, help="Tabular learning rate (alpha); DQN uses optimizer.lr.")
    epsilon_start: float = _f(1.0, minimum=0.0, maximum=1.0)
    epsilon_end: float = _f(0.05, minimum=0.0, maximum=1.0)
    epsilon_decay: float = _f(0.6, minimum=0.0, maximum=1.0, help="Share of the episodes over which epsilon decays.")
    episodes: int = _f(600, minimum=1, help="Episodes in total (spread over the epochs).")
    replay_size: int = _f(5000, minimum=10)
    batch_size: int = _f(64, minimum=1)
    target_update: int = _f(200, minimum=1, help="DQN: env steps between target network copies.")
    warmup: int = _f(200, minimum=0, help="DQN: env steps of random play before learning.")
    random_start: bool = _f(True, help="Start episodes in random free cells (explores every state).")
    grid: GridSettings = _f(factory=GridSettings)


@dataclass
class TrainingSettings:
    recipe: str = _f("classification", choices=RECIPES)
    graph: str = _f("", help="Graph to train (default: the first graph).")
    dataset: DatasetSettings = _f(factory=DatasetSettings)
    batch_size: int = _f(64, minimum=1, maximum=1_000_000)
    epochs: int = _f(10, minimum=1, maximum=1_000_000)
    steps_per_epoch: int = _f(0, minimum=0, help="Cap on steps per epoch (0 = a full pass).")
    optimizer: OptimizerSettings = _f(factory=OptimizerSettings)
    schedule: ScheduleSettings = _f(factory=ScheduleSettings)
    grad_clip: float = _f(0.0, minimum=0.0, help="Clip the gradient norm to this (0 = off).")
    early_stopping: EarlyStopping = _f(factory=EarlyStopping)
    nodes: dict = _f(factory=dict, help="Per-node settings by node name: {name: {freeze, lr_mult}}.")
    init: InitSettings = _f(factory=InitSettings)
    loss: LossSettings = _f(factory=LossSettings)
    gan: GanSettings = _f(factory=GanSettings)
    rl: RLSettings = _f(factory=RLSettings)
    seed: int = _f(0, minimum=0, maximum=2**32 - 1)
    device: str = _f("auto", choices=DEVICES)
    amp: bool = _f(True, help="Mixed precision on CUDA.")
    threads: int = _f(0, minimum=0, maximum=1024, help="torch threads (0 = cores − 1, leaving one for the UI).")
    checkpoint_every: int = _f(1, minimum=1, help="Epochs between checkpoints.")

    # -- conversion -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TrainingSettings:
        settings = _build(cls, data or {}, "")
        settings.node_settings()  # validates the per-node table
        return settings

    def node_settings(self) -> dict[str, NodeTraining]:
        out = {}
        if not isinstance(self.nodes, dict):
            raise SettingsError("nodes", "must be a table of node name -> {freeze, lr_mult}")
        for name, value in self.nodes.items():
            out[name] = _build(NodeTraining, value, f"nodes.{name}")
        return out


def _build(cls: type, data: Any, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise SettingsError(prefix or "training", f"must be a table of settings, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in known:
            where = f"{prefix}.{key}" if prefix else key
            raise SettingsError(where, f"unknown setting; known: {', '.join(sorted(known))}")
    kwargs = {}
    for name, f in known.items():
        if name not in data:
            continue
        key = f"{prefix}.{name}" if prefix else name
        kwargs[name] = _value(hints[name], f, data[name], key)
    return cls(**kwargs)


def _value(tp: Any, f: dataclasses.Field, value: Any, key: str) -> Any:
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        tp = args[0]
    meta = f.metadata
    if tp is bool:
        if not isinstance(value, bool):
            raise SettingsError(key, f"must be true or false, got {value!r}")
    elif tp is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(key, f"must be a whole number, got {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(key, f"must be a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise SettingsError(key, f"must be finite, got {value!r}")
    elif tp is str:
        if not isinstance(value, str):
            raise SettingsError(key, f"must be text, got {value!r}")
    elif tp is list or typing.get_origin(tp) is list:
        if not isinstance(value, list | tuple):
            raise SettingsError(key, f"must be a list, got {value!r}")
        value = list(value)
    elif tp is dict or typing.get_origin(tp) is dict:
        if not isinstance(value, dict):
            raise SettingsError(key, f"must be a table, got {value!r}")
        value = dict(value)
    if meta.get("choices") and value not in meta["choices"]:
        raise SettingsError(key, f"must be one of {', '.join(meta['choices'])}; got {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        lo, hi = meta.get("minimum"), meta.get("maximum")
        if lo is not None and value < lo:
            raise SettingsError(key, f"must be at least {lo:g}, got {value!r}")
        if hi is not None and value > hi:
            raise SettingsError(key, f"must be at most {hi:g}, got {value!r}")
    return value


def describe() -> dict[str, dict[str, Any]]:
    """Every setting by dotted key with default, choices, range and help (for the GUI's forms)."""
    out: dict[str, dict[str, Any]] = {}

    def walk(cls: type, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            key = f"{prefix}{f.name}"
            if dataclasses.is_dataclass(hints[f.name]):
                walk(hints[f.name], key + ".")
                continue
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            out[key] = {"default": default, "type": getattr(hints[f.name], "__name__", str(hints[f.name])),
                        **{k: v for k, v in f.metadata.items() if v not in (None, (), "")}}

    walk(TrainingSettings, "")
    return out
