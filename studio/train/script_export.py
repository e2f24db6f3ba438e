"""Export ``train.py`` + ``data.py`` beside the exported model code: training without NN Studio.

``data.py`` is :mod:`studio.train.synthetic` copied verbatim (numpy only) plus loaders for the
disk datasets; ``train.py`` is a fixed template (supervised recipes, or a GAN) whose settings
are ``repr()`` literals, so a project can change numbers and names in the script but never add
code to it. The script runs as ``python train.py`` and under ``torchrun --nproc_per_node=N``
(DistributedDataParallel; a GAN averages gradients by hand so its gradient penalties work).
Reinforcement-learning recipes are refused with a message: they run in NN Studio or the CLI.
"""

from __future__ import annotations

import ast
import inspect
import pprint
import re
from pathlib import Path

from studio.core.model import Project
from studio.core.registry import Registry
from studio.train import synthetic
from studio.train.build import TAP_WORDS
from studio.train.script_template import DATA_FILES, TRAIN
from studio.train.script_template_gan import TRAIN_GAN
from studio.train.settings import SettingsError, TrainingSettings

SUPPORTED = ("classification", "regression", "sequence", "reconstruction")


class ScriptExportError(ValueError):
    pass


def _task(settings: TrainingSettings) -> str:
    if settings.recipe == "sequence":
        gen = synthetic.GENERATORS.get(settings.dataset.name)
        if gen is synthetic.make_waves:
            return "regression"
        return "classification"
    return settings.recipe


def data_source() -> str:
    """``data.py``: the built-in generators verbatim, then the disk loaders."""
    return inspect.getsource(synthetic).rstrip() + "\n" + DATA_FILES.rstrip() + "\n"


def _node_tables(settings: TrainingSettings, targets: dict[str, str], where: str) -> tuple[list[str], dict[str, float]]:
    frozen, mult = [], {}
    for name, ns in settings.node_settings().items():
        if name not in targets:
            if where:
                continue  # a GAN's node table spans both graphs
            raise ScriptExportError(f"training setting 'nodes.{name}': no layer with that name")
        if ns.freeze:
            frozen.append(targets[name])
        if ns.lr_mult != 1.0:
            mult[targets[name]] = ns.lr_mult
    return sorted(frozen), dict(sorted(mult.items()))


def _lit(value) -> str:
    """A literal that stays within the line length (pprint wraps long tables)."""
    return pprint.pformat(value, width=100, sort_dicts=True)


def _fill(template: str, values: dict[str, str]) -> str:
    for key in ("__MODULE__", "__CLASS__"):
        if key in values and not values[key].isidentifier():  # the compiler sanitises names; guard anyway
            raise ScriptExportError(f"cannot use {values[key]!r} as a Python name")
    # one pass, so text substituted in is never scanned for markers again
    text = re.sub(r"__[A-Z]+(?:_[A-Z]+)*__", lambda m: values.get(m.group(0), m.group(0)), template)
    ast.parse(text)
    return text


def _graph(project: Project, name: str, key: str):
    try:
        return project.graph_by_name(name) if name else project.graphs[0]
    except KeyError:
        raise ScriptExportError(f"training setting '{key}': no graph named '{name}'") from None


def train_source(project: Project, registry: Registry) -> str:
    """The text of ``train.py`` for the project's training settings (supervised recipes and GANs)."""
    from studio.compile.exporter import export_graph, module_names
    from studio.compile.plan import build_plan

    try:
        settings = TrainingSettings.from_dict(project.training)
    except SettingsError as exc:
        raise ScriptExportError(str(exc)) from exc
    if settings.recipe not in SUPPORTED + ("adversarial",):
        raise ScriptExportError(f"train.py export covers supervised recipes ({', '.join(SUPPORTED)}) and GANs; "
                                f"'{settings.recipe}' runs inside NN Studio or with `nnstudio train`")
    if not project.graphs:
        raise ScriptExportError("the project has no graphs")
    names = module_names(project)
    common = {"__PROJECT__": repr(project.name),
              "__SETTINGS__": pprint.pformat(settings.to_dict(), width=100, sort_dicts=True)}
    if settings.recipe == "adversarial":
        parts = {}
        for role, key in (("generator", "gan.generator"), ("discriminator", "gan.discriminator")):
            graph = _graph(project, getattr(settings.gan, role), key)
            exported = export_graph(graph, registry, weights_prefix=names[graph.id])
            plan = build_plan(graph, registry)
            if len(plan.inputs) != 1:
                raise ScriptExportError(f"the {role} '{graph.name}' needs one Input; it has {len(plan.inputs)}")
            targets = {s.node_name: s.target for s in plan.steps if s.kind == "module"}
            shape = list(plan.input_info.get(plan.inputs[0][1], ((), "float32"))[0])
            parts[role] = (names[graph.id], exported, _node_tables(settings, targets, role), shape)
        g, d = parts["generator"], parts["discriminator"]
        values = dict(common, __MODELS__=_lit({r: (parts[r][0], parts[r][1].class_name) for r in parts}),
                      __LATENT_SHAPE__=repr(g[3]), __INPUT_SHAPE__=repr(d[3]),
                      __FROZEN__=_lit({r: parts[r][2][0] for r in parts}),
                      __LR_MULT__=_lit({r: parts[r][2][1] for r in parts}),
                      __PREFIXES__=_lit({r: parts[r][1].weights_prefix for r in parts}))
        return _fill(TRAIN_GAN, values)
    graph = _graph(project, settings.graph, "graph")
    exported = export_graph(graph, registry, weights_prefix=names[graph.id])
    plan = build_plan(graph, registry)
    if len(plan.inputs) != 1:
        raise ScriptExportError(f"train.py needs a model with one Input; '{graph.name}' has {len(plan.inputs)}")
    targets = {s.node_name: s.target for s in plan.steps if s.kind == "module"}
    frozen, mult = _node_tables(settings, targets, "")
    outputs = [name for _, name, _ in plan.outputs]
    prediction = next((i for i, n in enumerate(outputs) if not any(w in n.lower() for w in TAP_WORDS)), 0)
    shape = list(plan.input_info.get(plan.inputs[0][1], ((), "float32"))[0])
    values = dict(common, __MODULE__=names[graph.id], __CLASS__=exported.class_name, __TASK__=repr(_task(settings)),
                  __PREDICTION__=repr(prediction), __INPUT_SHAPE__=repr(shape), __FROZEN__=_lit(frozen),
                  __LR_MULT__=_lit(mult), __PREFIX__=repr(exported.weights_prefix))
    return _fill(TRAIN, values)


def export_train_script(project: Project, registry: Registry, out_dir: str | Path) -> list[Path]:
    """Write ``train.py`` and ``data.py`` into ``out_dir`` (model files come from ``export_project``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train = train_source(project, registry)
    data = data_source()
    ast.parse(data)
    paths = [out / "train.py", out / "data.py"]
    paths[0].write_text(train, encoding="utf-8")
    paths[1].write_text(data, encoding="utf-8")
    return paths
