"""Export ``train.py`` beside the exported model code: training without NN Studio, with NN Studio's loop.

The export folder gets

- ``nnloop/``: :mod:`studio.train.nnloop` copied verbatim — the loop the app itself trains with;
- ``data.py``: :mod:`studio.train.synthetic` verbatim, the loaders of :mod:`studio.train.bundled`
  verbatim (scikit-learn's bundled sets) and loaders for the disk datasets (paradigms that read a dataset);
- ``gridworld.py``: :mod:`studio.train.gridworld` verbatim, and ``tabular.py`` (its solver, which
  judges policies) with its one import made local (tabular Q-learning);
- ``train.py``: a small template that configures the loop. Its settings are ``repr()`` literals of
  only the settings the paradigm reads, so a project can change numbers and names in the script
  but never add code to it.

The script runs as ``python train.py`` and under ``torchrun --nproc_per_node=N`` and writes
``metrics.csv`` with the columns ``nnstudio train`` writes. Which paradigms export is read from the
recipe registry (``RecipeSpec.export``): ``True`` for the built-in writers below, or a callable
``export(project, registry, settings) -> str`` that returns the text of ``train.py`` —
:func:`loop_writer` builds one from a paradigm's own task class, so a paradigm defined in one file
exports too.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from studio.core.model import Project
from studio.core.registry import Registry
from studio.train import bundled, gridworld, synthetic
from studio.train.recipes.registry import higher_is_better, recipe_spec
from studio.train.script_parts import (
    common_settings,
    export_with_plan,
    fill,
    find_graph,
    literal,
    node_tables,
    optimizer_settings,
    output_roles,
    pick,
    schedule_settings,
)
from studio.train.script_template import (
    DATA_FILES,
    TRAIN_GAN,
    TRAIN_LOOP,
    TRAIN_SUPERVISED,
    TRAIN_TABULAR_Q,
    TRAIN_VAE,
)
from studio.train.settings import SettingsError, TrainingSettings

LOOP_DIR = Path(__file__).resolve().parent / "nnloop"
# names the export folder's support files take: a graph exported under one of them would shadow it
SUPPORT_NAMES = ("train", "data", "nnloop", "gridworld", "tabular")


class ScriptExportError(ValueError):
    pass


def loop_sources() -> dict[str, str]:
    """``nnloop/<file>`` -> text, verbatim."""
    return {f"nnloop/{p.name}": p.read_text(encoding="utf-8") for p in sorted(LOOP_DIR.glob("*.py"))}


def data_source() -> str:
    """``data.py``: the built-in generators verbatim, the bundled-dataset loaders verbatim, then the disk loaders."""
    return inspect.getsource(synthetic).rstrip() + "\n" + _bundled_source() + DATA_FILES.rstrip() + "\n"


def _bundled_source() -> str:
    """The loaders of :mod:`studio.train.bundled` that data.py can hold, with the functions they call,
    verbatim, and ``BUNDLED``: name -> loader. They import scikit-learn when called, so data.py needs
    it only for these sets."""
    funcs, loaders = _bundled_loaders()
    table = "".join(f"\n    {name!r}: {f.__name__}," for name, f in loaders.items())
    parts = ["\n\n# " + "-" * 93 + "\n# Real datasets shipped inside scikit-learn, and the bundled texts (texts/ beside "
             "this file), as NN Studio loads them\n"]
    parts += ["\n\n" + inspect.getsource(f).rstrip() + "\n" for f in funcs]
    return "".join(parts) + f"\n\nBUNDLED = {{{table}\n}}\n"


def _bundled_loaders() -> tuple[list[Callable[..., Any]], dict[str, Callable[..., Any]]]:
    """(functions to copy in definition order, dataset name -> loader): a loader is copied when
    everything it uses is numpy, a function of :mod:`~studio.train.bundled`, or defined by the
    generators already in data.py (a loader reading NN Studio's own files is not)."""
    env, available = vars(bundled), vars(synthetic)

    def closure(f: Callable[..., Any], seen: dict[str, Callable[..., Any]]) -> bool:
        if f.__name__ in seen:
            return True
        if f.__name__ in available:  # data.py would define it twice
            return False
        seen[f.__name__] = f
        for name in _free_names(inspect.getsource(f)):
            value = env.get(name)
            if value is None or (name in available and available[name] is value):
                continue  # a builtin, or defined above in data.py
            if not (inspect.isfunction(value) and value.__module__ == bundled.__name__ and closure(value, seen)):
                return False
        return True

    needed: dict[str, Callable[..., Any]] = {}
    loaders = {}
    for name, loader in bundled.LOADERS.items():
        seen = dict(needed)
        if closure(loader, seen):
            needed, loaders[name] = seen, loader
    order = [id(v) for v in env.values()]
    return sorted(needed.values(), key=lambda f: order.index(id(f))), loaders


def _free_names(source: str) -> set[str]:
    """Names a function or class reads but does not bind itself (its globals and builtins)."""
    tree = ast.parse(textwrap.dedent(source))
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    stored |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments)
               for a in (*n.posonlyargs, *n.args, *n.kwonlyargs, n.vararg, n.kwarg) if a is not None}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - stored


def _fill(template: str, values: dict[str, str]) -> str:
    for key in ("__MODULE__", "__CLASS__"):
        if key in values and not values[key].isidentifier():  # the compiler sanitises names; guard anyway
            raise ScriptExportError(f"cannot use {values[key]!r} as a Python name")
    return fill(template, values)


# -- which settings a paradigm carries ---------------------------------------------------------------
def _dataset(ds: dict, labels: bool = False) -> dict:
    """``labels``: the paradigm trains on class labels, so label noise and adversarial batches apply."""
    keep = ["name", "params", "val_fraction", "limit"]
    if ds["name"] in bundled.LOADERS and ds["name"] not in _bundled_loaders()[1]:
        raise ScriptExportError(f"dataset '{ds['name']}' is not carried into data.py; train it in NN Studio or "
                                f"with `nnstudio train`")
    if ds["name"] not in synthetic.GENERATORS and ds["name"] not in bundled.LOADERS:
        keep += ["path", "target", "download"]
    out = pick(ds, *keep, *(["label_noise"] if labels else []))
    out["augment"] = pick(ds["augment"], "flip", "crop", "rotation", "normalize",
                           *(["adversarial", "adversarial_eps"] if labels else []))
    return out


def _gradient(d: dict, labels: bool = False) -> dict:
    return {"dataset": _dataset(d["dataset"], labels), "batch_size": d["batch_size"], "steps_per_epoch": d["steps_per_epoch"],
            "optimizer": optimizer_settings(d["optimizer"]), "schedule": schedule_settings(d["schedule"]), "grad_clip": d["grad_clip"],
            "init": pick(d["init"], "scheme", "checkpoint"), "amp": d["amp"]}


def _better(metrics: list[str]) -> dict[str, bool]:
    from studio.train.recipes.registry import metric_spec

    out = {}
    for m in metrics:
        spec = metric_spec(m)
        out[m] = spec.higher_is_better if spec is not None else higher_is_better(m)
    return out


# -- the writers ------------------------------------------------------------------------------------
def _graph(project: Project, name: str, key: str):
    return find_graph(project, name, key, ScriptExportError)


def _graph_parts(project: Project, registry: Registry, graph, settings: TrainingSettings, role: str = "") -> dict:
    """Module name, class, weights prefix, input shape, prediction index and node tables of one graph."""
    module, exported, plan, targets = export_with_plan(project, registry, graph, SUPPORT_NAMES, ScriptExportError)
    what = f"the {role} '{graph.name}'" if role else f"'{graph.name}'"
    if len(plan.inputs) != 1:
        raise ScriptExportError(f"train.py needs one Input in {what}; it has {len(plan.inputs)}")
    roles = output_roles(graph, plan)
    frozen, mult = node_tables(settings, targets, ScriptExportError, skip_unknown=bool(role))  # a GAN's spans both
    return {"module": module, "class": exported.class_name, "prefix": exported.weights_prefix, "graph": graph.name,
            "shape": list(plan.input_info.get(plan.inputs[0][1], ((), "float32"))[0]),
            "prediction": roles.index("prediction") if "prediction" in roles else 0,
            "frozen": frozen, "lr_mult": mult, "roles": roles}


def _head(project: Project, settings: dict, options: str, monitor: str) -> dict[str, str]:
    metric = settings["early_stopping"].get("metric", "val_loss")
    return {"__PROJECT__": repr(project.name), "__SETTINGS__": literal(settings), "__OPTIONS__": options,
            "__BETTER__": literal(_better(sorted({metric, monitor})))}


GRADIENT_OPTIONS = "--epochs N, --batch-size N (per process), --lr X, --max-steps N (per epoch)"


def supervised_script(project: Project, registry: Registry, settings: TrainingSettings, task: str) -> str:
    d = settings.to_dict()
    carried = {**common_settings(d), **_gradient(d, labels=task in ("classification", "sequence"))}
    loss = {"name": d["loss"]["name"]}
    if task in ("classification", "sequence"):
        loss["label_smoothing"] = d["loss"]["label_smoothing"]
    if task == "reconstruction":
        loss["noise"] = d["loss"]["noise"]
    carried["loss"] = loss
    g = _graph_parts(project, registry, _graph(project, settings.graph, "graph"), settings)
    values = _head(project, carried, GRADIENT_OPTIONS, "val_loss")
    values.update({"__MODULE__": g["module"], "__CLASS__": g["class"], "__TASK__": repr(task),
                   "__PREDICTION__": repr(g["prediction"]), "__INPUT_SHAPE__": repr(g["shape"]),
                   "__FROZEN__": literal(g["frozen"]), "__LR_MULT__": literal(g["lr_mult"]),
                   "__PREFIX__": repr(g["prefix"]), "__GRAPH__": repr(g["graph"])})
    return _fill(TRAIN_SUPERVISED, values)


def gan_script(project: Project, registry: Registry, settings: TrainingSettings) -> str:
    d = settings.to_dict()
    gan = d["gan"]
    keep = ["d_steps", "d_output", "samples", "loss"] + (["gp"] if gan["loss"] == "wgan_gp" else ["r1"])
    carried = {**common_settings(d), **_gradient(d), "loss": {"label_smoothing": d["loss"]["label_smoothing"]},
               "gan": pick(gan, *keep)}
    parts = {role: _graph_parts(project, registry, _graph(project, gan[role], f"gan.{role}"), settings, role)
             for role in ("generator", "discriminator")}
    values = _head(project, carried, GRADIENT_OPTIONS, "val_high_quality")
    values.update({"__MODELS__": literal({r: (p["module"], p["class"], p["prefix"], p["graph"]) for r, p in parts.items()}),
                   "__LATENT_SHAPE__": repr(parts["generator"]["shape"]),
                   "__INPUT_SHAPE__": repr(parts["discriminator"]["shape"]),
                   "__FROZEN__": literal({r: p["frozen"] for r, p in parts.items()}),
                   "__LR_MULT__": literal({r: p["lr_mult"] for r, p in parts.items()})})
    return _fill(TRAIN_GAN, values)


def vae_script(project: Project, registry: Registry, settings: TrainingSettings) -> str:
    d = settings.to_dict()
    vae = d["vae"]
    gradient = {k: v for k, v in _gradient(d).items() if k != "amp"}  # the VAE trains in full precision
    carried = {**common_settings(d), **gradient, "vae": pick(vae, "beta")}
    parts = {role: _graph_parts(project, registry, _graph(project, vae[role], f"vae.{role}"), settings, role)
             for role in ("encoder", "decoder")}
    roles = parts["encoder"]["roles"]
    for role in ("mean", "log_variance"):
        if roles.count(role) != 1:
            raise ScriptExportError(f"the encoder '{parts['encoder']['graph']}' needs one Output with role "
                                    f"'{role}'; it has {roles.count(role)}")
    values = _head(project, carried, GRADIENT_OPTIONS, "val_loss")
    values.update({"__MODELS__": literal({r: (p["module"], p["class"], p["prefix"], p["graph"]) for r, p in parts.items()}),
                   "__MEANS__": repr(roles.index("mean")), "__LOG_VARIANCES__": repr(roles.index("log_variance")),
                   "__INPUT_SHAPE__": repr(parts["encoder"]["shape"]),
                   "__FROZEN__": literal({r: p["frozen"] for r, p in parts.items()}),
                   "__LR_MULT__": literal({r: p["lr_mult"] for r, p in parts.items()})})
    return _fill(TRAIN_VAE, values)


def tabular_q_script(project: Project, registry: Registry, settings: TrainingSettings) -> str:
    d = settings.to_dict()
    rl = pick(d["rl"], "gamma", "lr", "epsilon_start", "epsilon_end", "epsilon_decay", "episodes", "random_start",
               "learning", "grid")
    values = _head(project, {**common_settings(d), "rl": rl}, "--epochs N", "val_optimal_paths")
    return _fill(TRAIN_TABULAR_Q, values)


# -- a paradigm's own task, copied into train.py ----------------------------------------------------
Writer = Callable[[Project, Registry, TrainingSettings], str]


def loop_writer(task: Callable[..., Any], *helpers: Any, keys: Sequence[str] | None = None) -> Writer:
    """A ``RecipeSpec.export`` writer for a paradigm that trains one graph with its own task.

    ``task`` (a class or a function) is what the recipe trains with in the app too: called as
    ``task(cfg, model, forward, **context)`` (see ``nnloop.script.train_task`` for ``context``), it
    returns an nnloop task (``steps_per_epoch``, ``step``, ``flush``, ``evaluate``, ``lr``,
    ``schedules``, ``monitor``). Its source and that of ``helpers`` (functions, classes it uses) are
    copied into ``train.py`` verbatim with the imports they use from their module: torch, numpy, the
    standard library, and ``studio.train.nnloop`` (as the copied ``nnloop``); anything else of NN
    Studio's raises :class:`ScriptExportError` here, when the paradigm registers. ``keys``: the
    settings it reads (default: the paradigm's ``uses`` and its own section).
    """
    objects = (*helpers, task)
    code, imports = _copied_code(objects)
    name = getattr(task, "__name__", "")
    if not name.isidentifier():
        raise ScriptExportError(f"cannot export {task!r}: it has no name")

    def write(project: Project, registry: Registry, settings: TrainingSettings) -> str:
        from studio.train.recipes.registry import recipe_spec

        spec = recipe_spec(settings.recipe)
        d = settings.to_dict()
        wanted = tuple(keys) if keys is not None else (*spec.uses, *((spec.section,) if spec.section else ()))
        carried = {**common_settings(d), **_carry(d, wanted), "init": pick(d["init"], "scheme", "checkpoint")}
        g = _graph_parts(project, registry, _graph(project, settings.graph, "graph"), settings)
        options = ", ".join(["--epochs N"] + [o for k, o in (("batch_size", "--batch-size N (per process)"),
                                                             ("optimizer", "--lr X"),
                                                             ("steps_per_epoch", "--max-steps N (per epoch)"))
                                             if k in carried])
        values = _head(project, carried, options, spec.monitor)
        values.update({"__MODULE__": g["module"], "__CLASS__": g["class"], "__MAKE__": name,
                       "__PREDICTION__": repr(g["prediction"]), "__INPUT_SHAPE__": repr(g["shape"]),
                       "__FROZEN__": literal(g["frozen"]), "__LR_MULT__": literal(g["lr_mult"]),
                       "__PREFIX__": repr(g["prefix"]), "__GRAPH__": repr(g["graph"]),
                       "__IMPORTS__": imports, "__CODE__": code})
        return _fill(TRAIN_LOOP, values)

    return write


def _carry(d: dict, keys: Sequence[str]) -> dict:
    """The settings named by ``keys`` (top-level or dotted), each as the built-in writers carry it."""
    shaped = {"dataset": lambda: _dataset(d["dataset"]), "optimizer": lambda: optimizer_settings(d["optimizer"]),
              "schedule": lambda: schedule_settings(d["schedule"])}
    out: dict = {}
    for key in keys:
        top, _, rest = key.partition(".")
        if top in ("nodes", "graph") or top not in d:  # the node table becomes FROZEN / LR_MULT
            continue
        if not rest:
            out[top] = shaped[top]() if top in shaped else d[top]
        elif isinstance(d[top], dict) and rest in d[top]:
            out.setdefault(top, {})[rest] = d[top][rest]
    return out


Import = tuple[str, str, str]  # (module, name imported from it or "" for ``import module``, alias or "")


def _copied_code(objects: Sequence[Any]) -> tuple[str, str]:
    """(source of ``objects``, the import lines it needs) for train.py; see :func:`loop_writer`."""
    defined = {getattr(o, "__name__", "") for o in objects}
    sources, needed = [], set()
    for obj in objects:
        try:
            source = textwrap.dedent(inspect.getsource(obj))
            module = sys.modules[obj.__module__]
        except (TypeError, OSError, KeyError, AttributeError) as exc:
            raise ScriptExportError(f"cannot copy the source of {obj!r} into train.py: {exc}") from None
        imported = _module_imports(module)
        for name in sorted(_free_names(source) - defined):
            if name in imported:
                found = imported[name]
                if found is None:
                    raise ScriptExportError(f"{obj.__qualname__} uses {name}, which train.py cannot import "
                                            f"(only torch, numpy, the standard library and studio.train.nnloop)")
                needed.add(found)
            elif name in vars(module):
                raise ScriptExportError(f"{obj.__qualname__} uses {name} from {module.__name__}; pass it to "
                                        f"loop_writer as a helper so train.py gets it too")
        sources.append(source.rstrip() + "\n")
    return "\n\n".join(sources).rstrip(), _import_block(needed)


def _import_block(imports: set[Import]) -> str:
    """Import lines grouped and ordered as isort orders them: standard library, other packages, nnloop;
    ``import x`` before ``from x import y``; one line per module."""
    def section(module: str) -> int:
        top = module.split(".")[0]
        return 2 if top == "nnloop" else 0 if top in sys.stdlib_module_names else 1

    def name_order(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)

    groups: list[list[str]] = [[], [], []]
    for module, _, alias in sorted(i for i in imports if not i[1]):
        groups[section(module)].append(f"import {module}" + (f" as {alias}" if alias else ""))
    froms: dict[str, list[str]] = {}
    for module, name, alias in imports:
        if name:
            froms.setdefault(module, []).append(name + (f" as {alias}" if alias else ""))
    for module in sorted(froms):
        names = sorted(set(froms[module]), key=name_order)
        groups[section(module)].append(f"from {module} import {', '.join(names)}")
    return "\n\n".join("\n".join(g) for g in groups if g)


def _module_imports(module: Any) -> dict[str, Import | None]:
    """Name bound by a top-level import of ``module`` -> that import as train.py makes it (None: it cannot)."""
    out: dict[str, Import | None] = {}
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.Import):
            for a in node.names:
                target = _loop_module(a.name)
                if not a.asname and target != a.name:  # ``import studio.x.y`` binds ``studio``
                    target = None
                bound = a.asname or a.name.split(".")[0]
                if out.get(bound) is None:  # ``import torch`` and ``import torch.nn`` both bind ``torch``
                    out[bound] = None if target is None else (target, "", a.asname or "")
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            base = (importlib.util.resolve_name("." * node.level + (node.module or ""), module.__package__)
                    if node.level else node.module or "")
            target = _loop_module(base)
            for a in node.names:
                out[a.asname or a.name] = None if target is None else (target, a.name, a.asname or "")
    return out


def _loop_module(name: str) -> str | None:
    """Where train.py imports module ``name`` from: the loop package as the copied ``nnloop``; NN
    Studio's other code (and its tests) not at all."""
    loop = "studio.train.nnloop"
    if name == loop or name.startswith(loop + "."):
        return "nnloop" + name[len(loop):]
    return None if name.split(".")[0] in ("studio", "nodes", "tests", "bench") else name


def _skipgram_script(project: Project, registry: Registry, settings: TrainingSettings) -> str:
    """Skip-gram's train.py: its task and the helpers it uses, copied (imported here: recipes never import this)."""
    from studio.train.recipes import skipgram

    return loop_writer(skipgram.SkipGramTask, *skipgram.EXPORT_HELPERS)(project, registry, settings)


BUILTIN_WRITERS: dict[str, Writer] = {
    "classification": lambda p, r, s: supervised_script(p, r, s, "classification"),
    "regression": lambda p, r, s: supervised_script(p, r, s, "regression"),
    "sequence": lambda p, r, s: supervised_script(p, r, s, "sequence"),
    "reconstruction": lambda p, r, s: supervised_script(p, r, s, "reconstruction"),
    "adversarial": gan_script,
    "q_learning_tabular": tabular_q_script,
    "vae": vae_script,
    "skipgram": _skipgram_script,
}
# support files each built-in writer's script imports (besides nnloop/)
_SUPPORT = {"q_learning_tabular": ("gridworld", "tabular")}


def _settings(project: Project) -> TrainingSettings:
    try:
        return TrainingSettings.from_dict(project.training)
    except SettingsError as exc:
        raise ScriptExportError(str(exc)) from exc


def _writer(settings: TrainingSettings) -> Writer:
    from studio.train.recipes.registry import all_recipes, recipe_spec

    spec = recipe_spec(settings.recipe)
    if callable(spec.export):
        return spec.export
    if spec.export and spec.name in BUILTIN_WRITERS:
        return BUILTIN_WRITERS[spec.name]
    exporting = ", ".join(r.name for r in all_recipes() if callable(r.export) or r.name in BUILTIN_WRITERS)
    raise ScriptExportError(f"train.py export covers {exporting}; '{settings.recipe}' runs inside NN Studio or "
                            f"with `nnstudio train`")


def train_source(project: Project, registry: Registry) -> str:
    """The text of ``train.py`` for the project's training settings."""
    settings = _settings(project)
    return _writer(settings)(project, registry, settings)


def support_sources(project: Project) -> dict[str, str]:
    """Every file ``train.py`` imports besides the model files: relative path -> text."""
    settings = _settings(project)
    files = loop_sources()
    if "gridworld" in _SUPPORT.get(settings.recipe, ()):
        files["gridworld.py"] = inspect.getsource(gridworld)
        files["tabular.py"] = _tabular_source()
    else:
        files["data.py"] = data_source()
        files.update(bundled.export_files(settings.dataset.name, settings.dataset.params))  # a bundled text
    own = recipe_spec(settings.recipe).extra.get("export_files")  # files a paradigm's own task reads
    if own is not None:
        files.update(own(settings))
    return files


def _check_names(project: Project, stems: set[str]) -> None:
    """No graph's file may take the name of a file ``train.py`` needs."""
    from studio.compile.exporter import module_names

    for graph in project.graphs:
        module = module_names(project)[graph.id]
        if module in stems:
            raise ScriptExportError(f"graph '{graph.name}' would be exported as {module}.py, which train.py needs "
                                    f"for itself; rename the graph")


def _tabular_source() -> str:
    """:mod:`studio.train.tabular` (numpy only) with its one import of the gridworld made local."""
    from studio.train import tabular

    text = inspect.getsource(tabular)
    line = "from studio.train.gridworld import"
    if text.count(line) != 1 or "studio" in text.replace(line, ""):
        raise ScriptExportError("studio.train.tabular must import only the gridworld from NN Studio to be exported")
    return text.replace(line, "from gridworld import")


def export_train_script(project: Project, registry: Registry, out_dir: str | Path) -> list[Path]:
    """Write ``train.py`` and its support files into ``out_dir`` (model files come from ``export_project``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"train.py": train_source(project, registry), **support_sources(project)}
    _check_names(project, {rel.split("/")[0].removesuffix(".py") for rel in files})
    paths = []
    for rel, text in files.items():
        if rel.endswith(".py"):
            ast.parse(text)
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
