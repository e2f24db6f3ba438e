"""One new folder per training run, so no run, failed or not, ever touches an earlier run's files.

A run asks for a folder (``--out runs/exp`` or the project's default). When that folder does not
exist or is empty, the run takes it; when it already holds files (an earlier run), the run takes
the first free ``exp-2``, ``exp-3``, …. Taking a folder is atomic (``mkdir`` without ``exist_ok``,
or an exclusively created marker file in an empty one), so two runs started at once never share.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

MARKER = ".nnstudio-run"
MAX_TRIES = 10_000


class RunFolderError(OSError):
    """The requested output cannot hold a run; the message names the path and why, in one line."""


def claim_run_folder(requested: str | os.PathLike) -> Path:
    """Create and return a new, empty folder for one run: ``requested`` or the next free ``requested-N``."""
    base = Path(requested)
    if base.exists() and not base.is_dir():
        raise RunFolderError(f"--out {base} is a file, not a folder; give a folder for the run")
    for n in range(1, MAX_TRIES + 1):
        candidate = base if n == 1 else base.with_name(f"{base.name}-{n}")
        if candidate.exists() and not candidate.is_dir():
            continue
        if _take(candidate):
            return candidate
    raise RunFolderError(f"{base} and {MAX_TRIES - 1} numbered folders beside it are all taken")


def _take(folder: Path) -> bool:
    """True when ``folder`` is now ours: newly made, or empty and marked by us before anyone else."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        folder.mkdir()
    except FileExistsError:
        try:
            if any(entry.name != MARKER for entry in os.scandir(folder)):
                return False
        except OSError as exc:
            raise _unusable(folder, exc) from exc
    except OSError as exc:
        raise _unusable(folder, exc) from exc
    try:
        fd = os.open(folder / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.close(fd)
    except FileExistsError:
        return False  # another run marked this empty folder first
    except OSError as exc:
        raise _unusable(folder, exc) from exc
    return True


def _unusable(folder: Path, exc: OSError) -> RunFolderError:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOTDIR:
        reason = "a part of the path is a file"
    return RunFolderError(f"cannot write the run folder {folder}: {reason}")
