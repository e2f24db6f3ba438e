"""The table of subcommands, filled by discovery: one module in ``studio/cli/commands`` is one command.

Adding a subcommand is a one-file change: create ``studio/cli/commands/<name>.py`` holding ::

    from studio.cli.command import Command

    def arguments(parser):            # argparse options of this command
        parser.add_argument("project")

    def run(args) -> int:             # the work; import torch & co. here, not at module level
        ...
        return 0

    COMMAND = Command("grade", "score a trained project on its validation set", arguments, run, order=40)

``nnstudio --help`` lists it, ``nnstudio grade ...`` runs it, and :func:`studio.cli.main` gives it
the shared guarantees (one-line errors, exit codes, a quiet exit on a closed pipe, ``--debug``).
Command modules are imported to build the help, so they must stay light at import time.

Helpers for command code: print results with :func:`studio.cli.output.say`; fail with
``raise CliError("what and where", code)`` (1: failed, 2: bad input); load a project with
:func:`studio.cli.common.load`; check an output folder with :func:`studio.cli.common.writable_folder`.
(A frozen build must bundle the package's modules: ``collect_submodules("studio.cli.commands")``.)
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil

from studio.cli import commands as _commands_pkg
from studio.cli.command import Command

__all__ = ["Command", "build_parser", "command_names", "discover"]


def command_names() -> list[str]:
    """Names of every command module, without importing any of them (fast: used to route ``argv``)."""
    return sorted(m.name for m in pkgutil.iter_modules(_commands_pkg.__path__) if not m.name.startswith("_"))


def discover() -> dict[str, Command]:
    """Every ``COMMAND`` in ``studio.cli.commands``, in help order; a duplicate name raises."""
    found: dict[str, Command] = {}
    for module_name in command_names():
        module = importlib.import_module(f"{_commands_pkg.__name__}.{module_name}")
        cmd = getattr(module, "COMMAND", None)
        if not isinstance(cmd, Command):
            raise TypeError(f"studio.cli.commands.{module_name} defines no COMMAND = Command(...)")
        if cmd.name in found:
            raise ValueError(f"two modules define the command '{cmd.name}'")
        found[cmd.name] = cmd
    return dict(sorted(found.items(), key=lambda kv: (kv[1].order, kv[0])))


def build_parser(commands: dict[str, Command],
                 parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``nnstudio`` with one subparser per command; ``--debug`` is accepted before or after the command."""
    common = parser_class(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an internal error")
    parser = parser_class(
        prog="nnstudio", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        description="NN Studio: build, train and export neural networks.\n\n"
                    "Without a command, nnstudio opens the editor:\n"
                    "  nnstudio [FILE] [--theme dark|light] [--template NAME]\n"
                    "  nnstudio --screenshot OUT.png [--template NAME] [--size WxH]",
        epilog="Run 'nnstudio COMMAND --help' for a command's options.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    for name, cmd in commands.items():
        p = sub.add_parser(name, help=cmd.help, description=cmd.help, parents=[common])
        cmd.arguments(p)
    return parser
