"""Subcommands are discovered: one module with ``COMMAND = Command(...)`` is a new command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli import commands as commands_pkg
from studio.cli import main
from studio.cli.registry import command_names, discover

ROOT = Path(__file__).resolve().parents[2]


def test_a_new_module_in_the_commands_folder_is_a_new_command(tmp_path, monkeypatch, capsys):
    (tmp_path / "scorecard.py").write_text(
        "from studio.cli.output import say\n"
        "from studio.cli.command import Command\n\n"
        "def arguments(parser):\n    parser.add_argument('project')\n\n"
        "def run(args):\n    say('graded ' + args.project)\n    return 3\n\n"
        "COMMAND = Command('scorecard', 'score a trained project', arguments, run, order=40)\n")
    monkeypatch.setattr(commands_pkg, "__path__", [*commands_pkg.__path__, str(tmp_path)])
    monkeypatch.delitem(sys.modules, "studio.cli.commands.scorecard", raising=False)
    assert "scorecard" in command_names() and list(discover())[:3] == ["check", "train", "export"]
    assert main(["scorecard", "p.nnsp"]) == 3
    assert capsys.readouterr().out == "graded p.nnsp\n"
    assert main(["--help"]) == 0
    assert "score a trained project" in capsys.readouterr().out
    from studio.__main__ import is_headless

    assert is_headless(["scorecard", "x"]) and is_headless(["--debug", "scorecard"]) and not is_headless(["x.nnstudio"])


def test_a_module_without_a_command_is_reported(tmp_path, monkeypatch):
    (tmp_path / "broken.py").write_text("X = 1\n")
    monkeypatch.setattr(commands_pkg, "__path__", [*commands_pkg.__path__, str(tmp_path)])
    monkeypatch.delitem(sys.modules, "studio.cli.commands.broken", raising=False)
    with pytest.raises(TypeError, match="broken defines no COMMAND"):
        discover()


def test_listing_the_commands_imports_neither_torch_nor_qt():
    code = ("import sys, studio.cli.registry as r; r.build_parser(r.discover());"
            "print(sorted(m for m in ('torch', 'PySide6', 'numpy') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr
