"""Entry point: no arguments opens the editor; ``train``, ``export`` and ``check`` run headless."""

from __future__ import annotations

import sys

HEADLESS_COMMANDS = ("train", "export", "check")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in HEADLESS_COMMANDS:
        from studio.cli import main as cli_main

        return cli_main(args)
    from studio.ui.app import main as gui_main

    return gui_main(args)


if __name__ == "__main__":
    sys.exit(main())
