"""What the command line prints: results on stdout, one ``error: ...`` line on stderr, never a traceback.

Two things make a promised single line hard to keep, and both are handled here once:

* messages from libraries span several lines (torch's ``weights_only`` refusal explains itself in
  a page; ``load_state_dict`` lists every key). :func:`one_line` folds any message into one line,
  with a short summary for the known long forms;
* the reader may go away (``nnstudio check X | head``). :func:`say` then switches stdout to
  ``/dev/null`` so the command finishes its work (a training run still saves its results) and
  Python's exit-time flush cannot print "Exception ignored ... BrokenPipeError".
"""

from __future__ import annotations

import os
import re
import sys
from typing import TextIO

MAX_LINE = 400  # characters of one error line; the rest is summarised as "…"
EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_PIPE = 1, 2, 70, 130, 141

_closed = {"stdout": False}


class CliError(Exception):
    """A failure the user can act on; ``code`` is the exit status (1: failed, 2: bad input)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def reset() -> None:
    """Forget a closed pipe (each :func:`studio.cli.main` call starts afresh; tests run several)."""
    _closed["stdout"] = False


def pipe_closed() -> bool:
    """True once stdout's reader went away (output is then discarded)."""
    return _closed["stdout"]


def silence_stdout() -> None:
    """Point stdout at /dev/null: later writes and the interpreter's final flush succeed quietly."""
    _closed["stdout"] = True
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (tests' capture)
        pass


def say(text: str = "", stream: TextIO | None = None) -> None:
    """Print one result line to stdout; a closed pipe silences the rest instead of raising."""
    if _closed["stdout"]:
        return
    try:
        print(text, file=stream or sys.stdout, flush=True)
    except BrokenPipeError:
        silence_stdout()


def error(message: str, prefix: str = "error") -> None:
    """Print ``error: message`` as one line on stderr (a closed stderr is ignored)."""
    try:
        print(f"{prefix}: {one_line(message)}", file=sys.stderr, flush=True)
    except (BrokenPipeError, ValueError, OSError):
        pass


def warn(message: str) -> None:
    error(message, prefix="warning")


_STATE_DICT = re.compile(r"Error\(s\) in loading state_dict for (\w+):")
_WEIGHTS_ONLY = re.compile(r"Weights only load failed|WeightsUnpickler error|Unsupported global", re.I)
_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")


def one_line(text: str) -> str:
    """Any message as one line: known multi-line library messages summarised, others joined.

    >>> one_line("first\\n\\n  second")
    'first; second'
    """
    text = str(text).strip()
    if not text:
        return "unknown error"
    if _WEIGHTS_ONLY.search(text):
        return _weights_only(text)
    if _STATE_DICT.search(text):
        return _state_dict(text)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    out = "; ".join(lines)
    return out if len(out) <= MAX_LINE else out[: MAX_LINE - 1] + "…"


def _weights_only(text: str) -> str:
    """torch refused to unpickle something: say so in one line, naming what the file tried to load."""
    head = text.split("Weights only load failed", 1)[0].strip().rstrip("(").strip()
    g = _GLOBAL.search(text)
    what = f" (it asks for {g.group(1)})" if g else ""
    prefix = f"{head} " if head else ""
    return (f"{prefix}holds Python objects, not just tensors{what}; NN Studio loads weights only "
            "with torch.load(weights_only=True), so it refuses to run code from the file")


def _state_dict(text: str) -> str:
    """``load_state_dict``'s list of keys, as counts with the first few names."""
    head = text.split("Error(s) in loading state_dict", 1)[0].strip().rstrip(":").strip()
    parts = []
    for label, pattern in (("missing", r"Missing key\(s\) in state_dict: (.*?)\.\s*(?:\n|$)"),
                           ("unexpected", r"Unexpected key\(s\) in state_dict: (.*?)\.\s*(?:\n|$)")):
        m = re.search(pattern, text, re.S)
        if m:
            keys = re.findall(r'"([^"]+)"', m.group(1))
            parts.append(f"{len(keys)} {label} ({_few(keys)})")
    sizes = re.findall(r"size mismatch for ([\w.]+)", text)
    if sizes:
        parts.append(f"{len(sizes)} of another shape ({_few(sizes)})")
    summary = "; ".join(parts) or "the layers differ"
    prefix = f"{head}: " if head else ""
    return f"{prefix}the weights do not fit this architecture: {summary}"


def _few(names: list[str], n: int = 3) -> str:
    shown = ", ".join(names[:n])
    return shown + (f", … {len(names) - n} more" if len(names) > n else "")
