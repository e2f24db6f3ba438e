"""Export ``train.py`` + ``data.py`` beside the exported model code: training without NN Studio.

``data.py`` is :mod:`studio.train.synthetic` copied verbatim (numpy only) plus loaders for the
disk datasets; ``train.py`` is a fixed template whose settings are ``repr()`` literals, so a
project can change numbers and names in the script but never add code to it. The script runs
as ``python train.py`` and under ``torchrun --nproc_per_node=N`` (DistributedDataParallel).
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


def train_source(project: Project, registry: Registry) -> str:
    from studio.compile.exporter import export_graph, module_names
    from studio.compile.plan import build_plan

    try:
        settings = TrainingSettings.from_dict(project.training)
    except SettingsError as exc:
        raise ScriptExportError(str(exc)) from exc
    if settings.recipe not in SUPPORTED:
        raise ScriptExportError(f"train.py export covers supervised recipes ({', '.join(SUPPORTED)}); "
                                f"'{settings.recipe}' runs inside NN Studio or with `nnstudio train`")
    if not project.graphs:
        raise ScriptExportError("the project has no graphs")
    graph = project.graph_by_name(settings.graph) if settings.graph else project.graphs[0]
    exported = export_graph(graph, registry, weights_prefix=module_names(project)[graph.id])
    plan = build_plan(graph, registry)
    if len(plan.inputs) != 1:
        raise ScriptExportError(f"train.py needs a model with one Input; '{graph.name}' has {len(plan.inputs)}")
    targets = {s.node_name: s.target for s in plan.steps if s.kind == "module"}
    frozen, mult = [], {}
    for name, ns in settings.node_settings().items():
        if name not in targets:
            raise ScriptExportError(f"training setting 'nodes.{name}': no layer with that name")
        if ns.freeze:
            frozen.append(targets[name])
        if ns.lr_mult != 1.0:
            mult[targets[name]] = ns.lr_mult
    outputs = [name for _, name, _ in plan.outputs]
    prediction = next((i for i, n in enumerate(outputs) if not any(w in n.lower() for w in TAP_WORDS)), 0)
    shape = list(plan.input_info.get(plan.inputs[0][1], ((), "float32"))[0])
    values = {
        "__PROJECT__": repr(project.name),
        "__MODULE__": module_names(project)[graph.id],
        "__CLASS__": exported.class_name,
        "__SETTINGS__": pprint.pformat(settings.to_dict(), width=100, sort_dicts=True),
        "__TASK__": repr(_task(settings)),
        "__PREDICTION__": repr(prediction),
        "__INPUT_SHAPE__": repr(shape),
        "__FROZEN__": repr(sorted(frozen)),
        "__LR_MULT__": repr(dict(sorted(mult.items()))),
        "__PREFIX__": repr(exported.weights_prefix),
    }
    for ident in (values["__MODULE__"], values["__CLASS__"]):
        if not ident.isidentifier():  # the compiler sanitises names; guard anyway
            raise ScriptExportError(f"cannot use {ident!r} as a Python name")
    # one pass, so text substituted in is never scanned for markers again
    text = re.sub(r"__[A-Z]+(?:_[A-Z]+)*__", lambda m: values.get(m.group(0), m.group(0)), TRAIN)
    ast.parse(text)
    return text


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
