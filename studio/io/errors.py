"""The one error type that loading a project may raise."""

from __future__ import annotations

from pathlib import Path


class ProjectFileError(Exception):
    """A project file that cannot be read: names the file, the offending field and what is wrong."""

    def __init__(self, source: str | Path | None, field: str, message: str) -> None:
        self.source = str(source) if source is not None else "<project>"
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        field = self.field if len(self.field) <= 120 else f"{self.field[:70]}…{self.field[-40:]}"
        where = f" at {field}" if field else ""
        return f"{self.source}{where}: {self.message}"
