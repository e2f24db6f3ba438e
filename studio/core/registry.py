"""The node registry: the one place a type id turns into a spec.

Layer types come only from here, so a project file can never name a class or a function that
the registry does not already hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from studio.core.spec import NodeSpec


class DuplicateNodeType(ValueError):
    """Two specs claimed the same type id (or legacy id)."""


class UnknownNodeType(KeyError):
    """A type id that no spec registers."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it plain
        return str(self.args[0]) if self.args else "unknown node type"


class Registry:
    """Specs by stable type id, with legacy ids resolving to their current spec."""

    def __init__(self, specs: Iterable[NodeSpec] = ()) -> None:
        self._specs: dict[str, NodeSpec] = {}
        self._legacy: dict[str, str] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: NodeSpec) -> NodeSpec:
        for type_id in (spec.type_id, *spec.legacy_ids):
            if type_id in self._specs or type_id in self._legacy:
                raise DuplicateNodeType(f"node type {type_id!r} is already registered")
        self._specs[spec.type_id] = spec
        for old in spec.legacy_ids:
            self._legacy[old] = spec.type_id
        return spec

    def canonical_id(self, type_id: str) -> str:
        return self._legacy.get(type_id, type_id)

    def get(self, type_id: str) -> NodeSpec:
        spec = self._specs.get(self.canonical_id(type_id))
        if spec is None:
            raise UnknownNodeType(f"unknown node type {type_id!r}")
        return spec

    def find(self, type_id: str) -> NodeSpec | None:
        return self._specs.get(self.canonical_id(type_id))

    def __contains__(self, type_id: object) -> bool:
        return isinstance(type_id, str) and self.canonical_id(type_id) in self._specs

    def __iter__(self) -> Iterator[NodeSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def categories(self) -> dict[str, list[NodeSpec]]:
        """Specs grouped by category, in registration order (the palette's order)."""
        grouped: dict[str, list[NodeSpec]] = {}
        for spec in self._specs.values():
            grouped.setdefault(spec.category, []).append(spec)
        return grouped

    def search(self, text: str) -> list[NodeSpec]:
        """Specs whose title, id, category or tags contain every word of ``text`` (quick-add)."""
        words = text.lower().split()
        hits = []
        for spec in self._specs.values():
            hay = " ".join((spec.title, spec.type_id, spec.category, *spec.tags)).lower()
            if all(w in hay for w in words):
                hits.append(spec)
        hits.sort(key=lambda s: (not s.title.lower().startswith(text.lower().strip()), s.title))
        return hits

