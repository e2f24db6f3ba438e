"""Entry point: no command opens the editor; ``nnstudio COMMAND`` (check, train, export, ...) runs headless.

Routing only looks at file names in ``studio/cli/commands`` (no imports), so the editor starts as
fast as before; ``-h`` / ``--help`` shows the headless help, which lists every command.
"""

from __future__ import annotations

import sys

HELP_FLAGS = ("-h", "--help")


def is_headless(args: list[str]) -> bool:
    """True when ``args`` name a command (``--debug`` may come first) or ask for help."""
    from studio.cli.registry import command_names

    first = next((a for a in args if a != "--debug"), None)
    return first is not None and (first in HELP_FLAGS or first in command_names())


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if is_headless(args):
        from studio.cli import main as cli_main

        return cli_main(args)
    from studio.ui.app import main as gui_main

    return gui_main(args)


if __name__ == "__main__":
    sys.exit(main())
