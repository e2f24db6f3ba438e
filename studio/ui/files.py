"""New/open/save, recent files, the unsaved-changes prompt, autosave after every action, crash recovery.

Autosave writes the whole project (atomically) to ``<config>/recovery/autosave-<pid>.nnstudio``
each time the undo stack moves, so a crash loses at most the action in flight. A clean exit
deletes the file; a file whose process is gone is offered for recovery on the next start.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QStandardPaths, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from studio.core.model import new_project
from studio.io.errors import ProjectFileError
from studio.io.project_file import SUFFIX, load_project, save_project
from studio.io.safe_write import remove_stale_temps
from studio.ui.document import Document

MAX_RECENT = 10
FILE_FILTER = f"NN Studio projects (*{SUFFIX});;All files (*)"


def config_dir() -> Path:
    """Settings and recovery files live here (``NNSTUDIO_CONFIG_DIR`` overrides, e.g. in tests)."""
    env = os.environ.get("NNSTUDIO_CONFIG_DIR")
    if env:
        path = Path(env)
    else:
        path = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppConfigLocation) or
                    Path.home() / ".config") / "nnstudio"
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings() -> QSettings:
    return QSettings(str(config_dir() / "settings.ini"), QSettings.Format.IniFormat)


def training_settings_problem(training: dict) -> tuple[str, str] | None:
    """(dotted key, message) when the settings schema refuses a file's training settings, else None.

    The editor's panels are generated from the schema, so a file it refuses is refused on open
    (with the key named), not met later as an error inside a panel.
    """
    from studio.train.settings import SettingsError, TrainingSettings

    try:
        TrainingSettings.from_dict(training)
    except SettingsError as exc:
        key = str(getattr(exc, "key", "") or "")
        return key, " ".join(str(exc).split()).removeprefix(f"training setting '{key}': ")
    except (RecursionError, OverflowError, ValueError, TypeError) as exc:
        return "", " ".join(str(exc).split())[:300]
    return None


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class FileController(QObject):
    """File commands for one window and its document."""

    recent_changed = Signal(list)
    message = Signal(str)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.widget = parent
        self.recovery_dir = config_dir() / "recovery"
        self.recovery_path = self.recovery_dir / f"autosave-{os.getpid()}{SUFFIX}"
        self.autosave_enabled = True
        self.autosave_count = 0
        self._autosaved_state: tuple | None = None
        self._moves = 0  # undo-stack moves, merged edits included
        #: (title, text) -> 'save' | 'discard' | 'cancel'; tests replace it
        self.ask_unsaved: Callable[[str, str], str] = self._ask_unsaved_dialog
        #: (title, text) -> bool; tests replace it
        self.ask_yes_no: Callable[[str, str], bool] = self._ask_yes_no_dialog
        #: (title, text) -> None
        self.warn: Callable[[str, str], None] = self._warn_dialog
        #: () -> path or None (save-as / open dialogs); tests replace them
        self.choose_save_path: Callable[[], Path | None] = self._save_dialog
        self.choose_open_path: Callable[[], Path | None] = self._open_dialog
        document.undo_stack.indexChanged.connect(self._stack_moved)
        document.undo_stack.cleanChanged.connect(lambda _c: self.autosave())
        self.clean_stale_temps()

    def clean_stale_temps(self) -> int:
        """On start-up: remove temp files that killed saves left beside recent projects and autosaves."""
        folders = {self.recovery_dir}
        try:
            folders |= {Path(p).parent for p in self.recent()}
        except Exception:  # noqa: BLE001 - an odd settings file must not stop the window opening
            pass
        return sum(len(remove_stale_temps(folder)) for folder in folders)

    # -- commands --------------------------------------------------------------------------
    def new(self) -> bool:
        if not self.maybe_save():
            return False
        self.document.replace_project(new_project())
        self.discard_recovery()
        return True

    def open(self, path: str | Path | None = None) -> bool:
        if not self.maybe_save():
            return False
        if path is None:
            path = self.choose_open_path()
            if path is None:
                return False
        path = Path(path)
        project = self._load(path, "Cannot open project")
        if project is None:
            self.remove_recent(path)
            return False
        self.document.replace_project(project, path.resolve())
        self.discard_recovery()
        self.add_recent(path.resolve())
        self.message.emit(f"Opened {path.name}")
        return True

    def open_template(self, path: str | Path) -> bool:
        """Open a template as a new, untitled project (saving asks for a file name)."""
        if not self.maybe_save():
            return False
        project = self._load(Path(path), "Cannot open template")
        if project is None:
            return False
        self.document.replace_project(project, None)
        self.discard_recovery()
        return True

    def _load(self, path: Path, title: str):
        """Load ``path`` or show why not in a dialog (None): no error of any kind escapes into Qt."""
        try:
            project = load_project(path, self.document.registry)
            problem = training_settings_problem(project.training)
            if problem is not None:
                raise ProjectFileError(path, f"training.{problem[0]}" if problem[0] else "training", problem[1])
            return project
        except ProjectFileError as exc:
            self.warn(title, str(exc))
        except Exception as exc:  # noqa: BLE001 - the loader promises ProjectFileError; never crash on a file
            self.warn(title, f"{path}: cannot open ({type(exc).__name__}: {' '.join(str(exc).split())[:300]})")
        return None

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._write(self.document.path)

    def save_as(self, path: str | Path | None = None) -> bool:
        if path is None:
            path = self.choose_save_path()
            if path is None:
                return False
        path = Path(path)
        if path.suffix != SUFFIX:
            path = path.with_name(path.name + SUFFIX)
        return self._write(path)

    def _write(self, path: Path) -> bool:
        try:
            save_project(self.document.project, path, self.document.registry)
        except ProjectFileError as exc:
            self.warn("Cannot save project", str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - the work stays open and unsaved; say why
            self.warn("Cannot save project", f"{path}: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
            return False
        self.document.mark_saved(path.resolve())
        self.discard_recovery()
        self.add_recent(path.resolve())
        self.message.emit(f"Saved {path.name}")
        return True

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False means the user cancelled."""
        if not self.document.dirty:
            return True
        name = self.document.path.name if self.document.path else self.document.project.name
        answer = self.ask_unsaved("Unsaved changes", f"Save changes to “{name}” first?")
        if answer == "save":
            return self.save()
        return answer == "discard"

    # -- recent files ----------------------------------------------------------------------
    def recent(self) -> list[str]:
        value = settings().value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self, path: Path) -> None:
        items = [str(path)] + [p for p in self.recent() if p != str(path)]
        self._set_recent(items[:MAX_RECENT])

    def remove_recent(self, path: Path) -> None:
        self._set_recent([p for p in self.recent() if Path(p) != Path(path).resolve() and p != str(path)])

    def _set_recent(self, items: list[str]) -> None:
        s = settings()
        s.setValue("recent_files", items)
        s.sync()
        self.recent_changed.emit(items)

    # -- autosave / recovery ---------------------------------------------------------------
    def _stack_moved(self, _index: int) -> None:
        self._moves += 1
        self.autosave()

    def autosave(self) -> None:
        """Write the recovery file now (called after every undo-stack move)."""
        if not self.autosave_enabled:
            return
        state = (self._moves, self.document.dirty, id(self.document.project))
        if state == self._autosaved_state and (not state[1] or self.recovery_path.exists()):
            return  # indexChanged and cleanChanged both fire for one action: write once
        self._autosaved_state = state
        if not self.document.dirty:
            self.discard_recovery()
            return
        try:
            save_project(self.document.project, self.recovery_path, self.document.registry)
            info = {"path": str(self.document.path) if self.document.path else None,
                    "pid": os.getpid(), "time": time.time(), "name": self.document.project.name}
            self.recovery_path.with_suffix(".json").write_text(json.dumps(info))
            self.autosave_count += 1
        except Exception as exc:  # noqa: BLE001 - autosave runs from a Qt signal: report, never raise
            self.message.emit(f"Autosave failed: {exc}")

    def discard_recovery(self) -> None:
        for p in (self.recovery_path, self.recovery_path.with_suffix(".json")):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                pass

    def orphaned_autosaves(self) -> list[Path]:
        """Recovery files left behind by a process that is gone (a crash), newest first."""
        if not self.recovery_dir.is_dir():
            return []
        found = []
        for path in self.recovery_dir.glob(f"autosave-*{SUFFIX}"):
            try:
                pid = int(path.stem.split("-", 1)[1])
            except (IndexError, ValueError):
                continue
            if not _pid_alive(pid):
                found.append(path)
        return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)

    def offer_recovery(self) -> bool:
        """If a crashed session left an autosave, offer it; True when a project was recovered."""
        for path in self.orphaned_autosaves():
            info_path = path.with_suffix(".json")
            try:
                info = json.loads(info_path.read_text())
            except (OSError, ValueError, RecursionError):
                info = {}
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
            if not isinstance(info, dict):
                info = {}
            original = info.get("path") if isinstance(info.get("path"), str) else None
            label = Path(original).name if original else str(info.get("name", "an unsaved project"))[:200]
            keep = self.ask_yes_no("Recover unsaved work?",
                                   f"NN Studio closed unexpectedly. Recover the changes to “{label}” autosaved {when}?")
            recovered = False
            if keep:
                project = self._load(path, "Cannot recover")
                if project is not None:
                    self.document.replace_project(project, Path(original) if original else None)
                    self.document.undo_stack.resetClean()  # recovered work is unsaved work
                    recovered = True
            for p in (path, info_path):
                try:
                    p.unlink()
                except OSError:
                    pass
            if recovered:
                self.autosave()
                return True
        return False

    # -- dialogs (replaced in tests) -------------------------------------------------------
    def _ask_unsaved_dialog(self, title: str, text: str) -> str:
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(self.widget, title, text, buttons.Save | buttons.Discard | buttons.Cancel,
                                      buttons.Save)
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    def _ask_yes_no_dialog(self, title: str, text: str) -> bool:
        buttons = QMessageBox.StandardButton
        return QMessageBox.question(self.widget, title, text, buttons.Yes | buttons.No, buttons.Yes) == buttons.Yes

    def _warn_dialog(self, title: str, text: str) -> None:
        QMessageBox.warning(self.widget, title, text)

    def _save_dialog(self) -> Path | None:
        start = str(self.document.path or Path.home() / f"{self.document.project.name}{SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self.widget, "Save project", start, FILE_FILTER)
        return Path(path) if path else None

    def _open_dialog(self) -> Path | None:
        start = str(self.document.path.parent) if self.document.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self.widget, "Open project", start, FILE_FILTER)
        return Path(path) if path else None
