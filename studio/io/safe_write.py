"""Saving files without side effects: atomic, durable, and faithful to what was there.

A save writes a temp file beside the target, fsyncs it, renames it over the target and fsyncs
the folder, so a crash at any moment leaves either the old file or the new one. It writes
through a symlink to the file it points at (the link stays a link) and keeps the file's
permission bits (``mkstemp`` would otherwise leave 0600). Temp files carry one recognisable
name pattern, so those left behind by a killed process are removed later.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

#: temp files are named ``.<target name>.<random>.nnstmp``
TEMP_SUFFIX = ".nnstmp"
#: a temp file older than this belongs to a save that died (a live save takes seconds)
STALE_AFTER_S = 3600.0


def resolve_target(path: str | Path) -> Path:
    """The file a save should really replace: a symlink's (final) target, made absolute."""
    path = Path(path).absolute()
    try:
        return path.resolve(strict=False) if path.is_symlink() else path
    except (OSError, RuntimeError):  # a symlink loop: save beside it as a plain file
        return path


def _mode_for(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """Have ``write(temp_path)`` fill a temp file, then atomically put it in place of ``path``.

    Returns the path really written (a symlink's target). The temp file never outlives a failure.
    """
    target = resolve_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = _mode_for(target)
    remove_stale_temps(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, mode)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_folder(target.parent)
    return target


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` as UTF-8 via :func:`atomic_write`: a crash never leaves half a file."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    return atomic_write(path, write)


def remove_stale_temps(folder: str | Path, older_than_s: float = STALE_AFTER_S) -> list[Path]:
    """Delete temp files a killed save left in ``folder``; returns what was removed."""
    removed = []
    now = time.time()
    try:
        entries: Iterable[os.DirEntry] = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX)):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > older_than_s:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed
