"""The node library lists every family, and a listed family that cannot be imported is an error."""

from __future__ import annotations

from pathlib import Path

import pytest

import nodes


def test_every_family_module_is_listed_and_every_listed_family_exists():
    folder = Path(nodes.__file__).parent
    modules = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")
               and "SPECS" in p.read_text(encoding="utf-8")}
    assert modules == set(nodes.FAMILIES)


def test_a_missing_family_is_an_error_not_a_silent_gap(monkeypatch):
    monkeypatch.setattr(nodes, "FAMILIES", (*nodes.FAMILIES, "no_such_family"))
    with pytest.raises(ModuleNotFoundError, match="nodes.no_such_family"):
        nodes.all_specs()
