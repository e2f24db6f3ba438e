"""One subcommand as data: what ``studio.cli.commands`` modules declare (see :mod:`studio.cli.registry`).

Kept apart from the registry so the command modules it discovers never import the registry back.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, the one-line description ``--help`` shows, its options and its work."""

    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    order: int = 100  # position in --help (lower first), then by name
