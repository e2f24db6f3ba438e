"""Built-in node library: one module per family, each exposing ``SPECS``.

Importing a family imports torch; the registry imports them only when first asked
(:func:`studio.catalog.default_registry`).
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
    "diffusion",
    "generic",
)


def all_specs() -> list[NodeSpec]:
    specs: list[NodeSpec] = []
    """Every family's specs in ``FAMILIES`` order (the palette's order); a family that fails to import raises."""
    for family in FAMILIES:
        specs.extend(importlib.import_module(f"nodes.{family}").SPECS)
    return specs
