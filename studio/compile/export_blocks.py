"""The shape of an export: submodule paths become containers, repeated blocks become one class.

The plan names every module by its path (``layer1.0.conv1``). Each path prefix is a *box*:

- a **block** when its steps run as one contiguous stretch of the plan (so calling it as a unit
  keeps the exact order of operations): it becomes a class, and blocks whose code differs only in
  constructor values share one class whose differing values are ``__init__`` arguments
  (resnet18's eight BasicBlocks are two classes);
- a **seq** when a block is a plain chain of children named ``0``, ``1``, … (``nn.Sequential``);
- a **list** / **holder** otherwise (``nn.ModuleList`` or an ``nn.Module()`` holding attributes),
  whose steps are written inline in the enclosing forward.

Submodule paths, registration order and the order of operations are exactly the plan's, so the
exported class has the compiled module's state_dict keys and computes bit-identical results.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from studio.compile.plan import FORWARD_RESERVED, Namer, Plan, Step, ValueRef, class_name_for

__all__ = ["Box", "ClassDef", "Structure", "analyse", "value_key"]


@dataclass(eq=False)
class Box:
    """One container path and everything under it."""

    path: tuple[str, ...]
    #: child boxes and module steps in registration order (first module use); function steps are not children
    children: list[Box | Step] = field(default_factory=list)
    #: every step inside (functions included), plan order
    steps: list[Step] = field(default_factory=list)
    kind: str = "holder"  # root | block | seq | list | holder
    inputs: list[ValueRef] = field(default_factory=list)
    outputs: list[ValueRef] = field(default_factory=list)
    cls: ClassDef | None = None
    #: slot values of this instance (constructor values of everything inside, in skeleton order)
    values: list[Any] = field(default_factory=list)
    slot_names: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path[-1] if self.path else ""

    @property
    def is_unit(self) -> bool:
        """Called as one statement (a class instance or a Sequential)."""
        return self.kind in ("block", "seq")


@dataclass(eq=False)
class ClassDef:
    """One generated class and the boxes that are instances of it."""

    name: str
    skeleton: tuple
    instances: list[Box] = field(default_factory=list)
    #: per slot: the parameter index it reads, or None for a constant
    slot_param: list[int | None] = field(default_factory=list)
    param_names: list[str] = field(default_factory=list)
    #: per parameter: its first slot
    param_slots: list[int] = field(default_factory=list)

    def args_of(self, box: Box) -> list[Any]:
        return [box.values[s] for s in self.param_slots]


@dataclass
class Structure:
    root: Box
    boxes: dict[tuple[str, ...], Box]
    classes: list[ClassDef]  # dependency order: a class comes after the classes it uses
    #: how many times each value is read (by steps and the graph outputs)
    uses: dict[ValueRef, int]

    def unit_for(self, step: Step, inside: Box) -> Box | None:
        """The outermost block/seq strictly inside ``inside`` that contains ``step``, if any."""
        depth = len(inside.path)
        for i in range(depth + 1, len(step.scope) + 1):
            box = self.boxes[step.scope[:i]]
            if box.is_unit:
                return box
        return None


def value_key(value: Any) -> Any:
    """Hashable identity of a plain value that keeps 1, 1.0 and True apart."""
    if isinstance(value, tuple | list):
        return (type(value).__name__, tuple(value_key(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((value_key(k), value_key(v)) for k, v in value.items()))
    return (type(value).__name__, repr(value))


def _digits(name: str) -> bool:
    return name.isascii() and name.isdigit()


def _tree(plan: Plan) -> tuple[Box, dict[tuple[str, ...], Box]]:
    root = Box((), kind="root")
    boxes = {(): root}
    first_module: dict[int, int] = {}  # id(child) -> plan index of its first module step
    for index, step in enumerate(plan.steps):
        for i in range(1, len(step.scope) + 1):
            prefix = step.scope[:i]
            if prefix not in boxes:
                boxes[prefix] = Box(prefix)
        for i in range(len(step.scope) + 1):
            boxes[step.scope[:i]].steps.append(step)
        if step.kind != "module":
            continue
        chain: list[Box | Step] = [*(boxes[step.scope[:i]] for i in range(1, len(step.scope) + 1)), step]
        for parent, child in zip([root, *chain[:-1]], chain, strict=True):
            if id(child) not in first_module:
                first_module[id(child)] = index
                parent.children.append(child)
    return root, boxes  # a box holding only functions is no child: it registers nothing and holds no state


def _io(box: Box, plan: Plan, consumers: dict[ValueRef, list[str]], outputs: set[ValueRef]) -> None:
    inside = {s.node_id for s in box.steps}
    for step in box.steps:
        for ref in step.args:
            if ref is not None and ref.node_id not in inside and ref not in box.inputs:
                box.inputs.append(ref)
    for step in box.steps:
        for port in step.out_vars:
            ref = ValueRef(step.node_id, port)
            if ref in outputs or any(c not in inside for c in consumers.get(ref, ())):
                box.outputs.append(ref)


def _one_in_one_out(child: Box | Step) -> tuple[ValueRef, ValueRef] | None:
    if isinstance(child, Box):
        if child.is_unit and len(child.inputs) == 1 and len(child.outputs) == 1:
            return child.inputs[0], child.outputs[0]
        return None
    args = [a for a in child.args if a is not None]
    if len(args) == 1 and len(child.args) == 1 and len(child.out_vars) == 1:
        return args[0], ValueRef(child.node_id, next(iter(child.out_vars)))
    return None


def _is_chain(box: Box, consumers: dict[ValueRef, list[str]], outputs: set[ValueRef]) -> bool:
    """Children 0..n-1, each one tensor in and out, each feeding only the next: an nn.Sequential."""
    names = [c.path[-1] for c in box.children]
    if not names or names != [str(i) for i in range(len(names))] or len(box.inputs) != 1:
        return False
    module_steps = sum(1 for c in box.children if isinstance(c, Step))
    inner = sum(len(c.steps) for c in box.children if isinstance(c, Box))
    if module_steps + inner != len(box.steps):  # a function step lives directly in the box
        return False
    current = box.inputs[0]
    for i, child in enumerate(box.children):
        io = _one_in_one_out(child)
        if io is None or io[0] != current:
            return False
        if i > 0:  # the value between two children is read by the second one only
            ids = {s.node_id for s in child.steps} if isinstance(child, Box) else {child.node_id}
            if current in outputs or not set(consumers.get(current, ())) <= ids:
                return False
        current = io[1]
    return box.outputs == [current]


def _pascal(text: str) -> str:
    return class_name_for(text)


def analyse(plan: Plan, taken_names: set[str]) -> Structure:
    """Boxes, their kinds, and the classes of the export (``taken_names``: globals a class must avoid)."""
    root, boxes = _tree(plan)
    consumers: dict[ValueRef, list[str]] = {}
    uses: dict[ValueRef, int] = {}
    for step in plan.steps:
        for ref in step.args:
            if ref is not None:
                consumers.setdefault(ref, []).append(step.node_id)
                uses[ref] = uses.get(ref, 0) + 1
    graph_outputs = {ref for _, _, ref in plan.outputs}
    for ref in graph_outputs:
        uses[ref] = uses.get(ref, 0) + 1
    position = {s.node_id: i for i, s in enumerate(plan.steps)}
    structure = Structure(root, boxes, [], uses)
    root.outputs = [ref for _, _, ref in plan.outputs]
    # deepest boxes first, so a parent sees its children's kinds and classes
    for path in sorted((p for p in boxes if p), key=len, reverse=True):
        box = boxes[path]
        _io(box, plan, consumers, graph_outputs)
        span = [position[s.node_id] for s in box.steps]
        contiguous = bool(span) and max(span) - min(span) + 1 == len(span)
        if contiguous and box.outputs and box.children:
            box.kind = "seq" if _is_chain(box, consumers, graph_outputs) else "block"
        else:
            names = [c.path[-1] for c in box.children]
            plain = all(isinstance(c, Step) or c.kind != "holder" for c in box.children)
            box.kind = "list" if plain and names and names == [str(i) for i in range(len(names))] else "holder"
    classes: dict[tuple, ClassDef] = {}
    used_names = set(taken_names)
    for path in sorted((p for p in boxes if p), key=len, reverse=True):
        box = boxes[path]
        if box.kind != "block":
            continue
        skeleton = describe(structure, box)
        cls = classes.get(skeleton)
        if cls is None:
            last = path[-1]
            base = (path[-2] if len(path) > 1 else "module") + "_block" if _digits(last) else last
            name, i = _pascal(base), 2
            while name in used_names:
                name, i = f"{_pascal(base)}{i}", i + 1
            used_names.add(name)
            cls = classes[skeleton] = ClassDef(name, skeleton)
            structure.classes.append(cls)
        cls.instances.append(box)
        box.cls = cls
    root.inputs = []
    describe(structure, root)
    for cls in structure.classes:
        _parameters(cls, used_names)
    return structure


def describe(structure: Structure, box: Box) -> tuple:
    """The box's code with every constructor value replaced by a slot; fills ``box.values``."""
    box.values, box.slot_names = [], []

    def slot(value: Any, name: str) -> int:
        box.values.append(value)
        box.slot_names.append(name)
        return len(box.values) - 1

    def ctor(child: Box | Step) -> tuple:
        if isinstance(child, Step):
            if child.spec.type_id in ("generic.module", "generic.parameter"):  # written from its values directly
                return ("generic", child.path[-1], value_key(child.kwargs))
            kwargs = tuple((k, slot(v, k)) for k, v in child.kwargs.items())
            return ("leaf", child.path[-1], child.spec.type_id, kwargs)
        if child.kind == "block":
            assert child.cls is not None
            values = tuple(slot(v, n) for v, n in zip(child.values, child.slot_names, strict=True))
            return ("class", child.path[-1], child.cls.name, values)
        return (child.kind, child.path[-1], tuple(ctor(c) for c in child.children))

    init = tuple(ctor(c) for c in box.children)
    local: dict[ValueRef, tuple] = {ref: ("in", i) for i, ref in enumerate(box.inputs)}
    stmts = []
    for kind, item in statements(structure, box):
        if kind == "unit":
            unit: Box = item
            args = tuple(local.get(r) for r in unit.inputs)
            for port, ref in enumerate(unit.outputs):
                local[ref] = ("v", len(stmts), port)
            stmts.append(("unit", unit.path[len(box.path):], args, len(unit.outputs)))
        else:
            step: Step = item
            args = tuple(local.get(r) if r is not None else None for r in step.args)
            for port, name in enumerate(step.out_vars):
                local[ValueRef(step.node_id, name)] = ("v", len(stmts), port)
            if step.kind == "module":
                stmts.append(("mod", step.path[len(box.path):], args, len(step.out_vars)))
            else:
                kwargs = tuple((k, value_key(v)) for k, v in step.kwargs.items())
                stmts.append(("fn", step.spec.type_id, kwargs, args, len(step.out_vars)))
    outputs = tuple(local.get(r) for r in box.outputs)
    return (box.kind, init, tuple(stmts), outputs, len(box.inputs))


def statements(structure: Structure, box: Box) -> Iterator[tuple[str, Any]]:
    """The forward of ``box`` in plan order: ("unit", child box) once per unit, ("step", step) otherwise."""
    done: set[int] = set()
    for step in box.steps:
        unit = structure.unit_for(step, box)
        if unit is None:
            yield "step", step
        elif id(unit) not in done:
            done.add(id(unit))
            yield "unit", unit


def _param_name(names: list[str]) -> str:
    first = names[0]
    others = set(names)
    for prefix, other in (("in_", "out_"), ("out_", "in_")):
        if first.startswith(prefix) and any(n.startswith(other) for n in others):
            return first[len(prefix):]
    if first in ("num_features", "normalized_shape") and any(n.endswith("channels") for n in others):
        return "channels"
    return first


def _parameters(cls: ClassDef, reserved: set[str]) -> None:
    """Constant slots stay literals; slots that differ between instances become ``__init__`` arguments."""
    first = cls.instances[0]
    columns = [tuple(value_key(box.values[j]) for box in cls.instances) for j in range(len(first.values))]
    groups: dict[tuple, int] = {}
    names: list[list[str]] = []
    for j, column in enumerate(columns):
        if len(set(column)) == 1:
            cls.slot_param.append(None)
            continue
        index = groups.get(column)
        if index is None:
            index = groups[column] = len(cls.param_slots)
            cls.param_slots.append(j)
            names.append([])
        names[index].append(first.slot_names[j])
        cls.slot_param.append(index)
    namer = Namer(FORWARD_RESERVED | reserved)
    cls.param_names = [namer.take(_param_name(n), "value") for n in names]
