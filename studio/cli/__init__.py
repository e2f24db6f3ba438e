"""Headless commands: ``nnstudio COMMAND ...`` (``check``, ``train``, ``export``, and any module in
``studio/cli/commands``; see :mod:`studio.cli.registry` to add one).

Promises every command keeps, enforced here once: results on stdout; a failure is one
``error: ...`` line on stderr and a non-zero exit (1: the project or run failed, 2: bad arguments
or an unreadable file, 70: an internal error, 130: interrupted); never a traceback (``--debug``
shows it for internal errors). When the reader of stdout goes away (``| head``), output stops
quietly and the command still finishes its work (a run still saves its results); 141 only if the
pipe breaks outside :func:`studio.cli.output.say`. No Qt is imported.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from studio.cli import output
from studio.cli.output import (
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_PIPE,
    EXIT_USAGE,
    CliError,
    error,
    say,
    silence_stdout,
)

__all__ = ["CliError", "main", "say"]


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors as one ``error:`` line (exit 2) instead of usage + message."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(f"{message} (see {self.prog} --help)", EXIT_USAGE)


def main(argv: list[str] | None = None) -> int:
    """Run one command; every outcome is an exit code, whatever the command raises."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args_list or bool(os.environ.get("NNSTUDIO_DEBUG"))
    output.reset()
    try:
        return _dispatch(args_list)
    except CliError as exc:
        error(str(exc))
        return exc.code
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        silence_stdout()
        return EXIT_PIPE
    except SystemExit as exc:  # a command that calls sys.exit keeps its code
        return exc.code if isinstance(exc.code, int) else EXIT_FAILED
    except MemoryError:
        error("out of memory; lower the dataset size or batch size, or set memory_limit_mb")
        return EXIT_FAILED
    except BaseException as exc:  # the last guard: one line, the traceback only on request
        if debug:
            traceback.print_exc()
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        hint = "" if debug else "; run again with --debug for the details"
        error(f"internal error ({type(exc).__name__}{': ' + detail if detail else ''}){hint}")
        return EXIT_INTERNAL


def _dispatch(args_list: list[str]) -> int:
    from studio.cli.registry import build_parser, discover

    commands = discover()
    parser = build_parser(commands, parser_class=_Parser)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help printed its text
        if sys.stdout is not None:
            sys.stdout.flush()
        return int(exc.code or 0)
    return int(commands[args.command].run(args) or 0)
