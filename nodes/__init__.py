"""Built-in node library: one module per family, each exposing ``SPECS``.

Importing a family imports torch; the registry imports them only when first asked
(:func:`studio.core.registry.default_registry`).
"""

from __future__ import annotations

import importlib

from studio.core.spec import NodeSpec

FAMILIES = (
    "io",
    "linear",
    "conv",
    "pool",
    "norm",
    "activation",
    "reshape",
    "merge",
    "recurrent",
    "attention",
    "pretrained",
    "functional",
    "generic",
)


def all_specs() -> list[NodeSpec]:
    specs: list[NodeSpec] = []
    for family in FAMILIES:
        try:
            module = importlib.import_module(f"nodes.{family}")
        except ModuleNotFoundError as exc:
            if exc.name == f"nodes.{family}":
                continue  # family not written yet
            raise
        specs.extend(module.SPECS)
    return specs
