"""File > Import model…: an existing PyTorch model (torchvision by name, or a class in a .py file) as a new graph.

Tracing runs on a worker thread (resnet50 takes a second, a user file may take longer) while the
dialog shows a busy bar. The result is added with one undoable ``AddGraph`` (Ctrl+Z removes it),
and the import report (opaque operations by name, notes) is shown in the dialog, never dropped.
"""

from __future__ import annotations

import ast
import html
import re
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from studio.ui.panels._common import dim_color, error_color, warning_color
from studio.ui.tasks import Task, TaskContext, shared_runner

#: torchvision models offered in the list (any other torchvision classification name may be typed); every
#: operation of each becomes an editable node (dedicated or generic), checked by the import corpus test
TORCHVISION_FULL = (
    "resnet18", "resnet34", "resnet50", "resnet101", "resnext50_32x4d", "wide_resnet50_2",
    "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0", "efficientnet_b1",
    "regnet_x_400mf", "regnet_y_400mf", "mnasnet0_5", "mnasnet1_0", "squeezenet1_0", "squeezenet1_1",
    "alexnet", "vgg11", "vgg16", "densenet121", "shufflenet_v2_x1_0", "googlenet", "inception_v3",
    "convnext_tiny", "vit_b_16", "swin_t",
)
#: torchvision models that import with some operations as opaque nodes (and why, for the hint)
TORCHVISION_PARTIAL: dict[str, str] = {}
DEFAULT_SHAPE = "3, 224, 224"
_MAX_FILE_BYTES = 2_000_000


class ShapeError(ValueError):
    """The example input shape text is not usable; the message says which part and why."""


def parse_shapes(text: str) -> list[tuple[int, ...]]:
    """``"3, 224, 224"`` -> ``[(1, 3, 224, 224)]``: one sample's shape per forward input (``;`` between inputs).

    The batch dimension is not typed; a batch of 1 is put in front.
    """
    parts = text.split(";")
    if not text.strip():
        raise ShapeError("type the shape of one input sample, e.g. 3, 224, 224")
    shapes = []
    for index, part in enumerate(parts, start=1):
        where = f"input {index}: " if len(parts) > 1 else ""
        cleaned = part.strip().strip("()[]")
        tokens = [t for t in re.split(r"[,\s×x*]+", cleaned) if t]
        if not tokens:
            raise ShapeError(f"{where}no dimensions (e.g. 3, 224, 224)")
        dims = []
        for i, token in enumerate(tokens, start=1):
            if not re.fullmatch(r"\d+", token):
                raise ShapeError(f"{where}dimension {i} ({token!r}) is not a whole number")
            value = int(token)
            if value < 1:
                raise ShapeError(f"{where}dimension {i} must be at least 1")
            if value > 1_000_000:
                raise ShapeError(f"{where}dimension {i} ({value}) is too large")
            dims.append(value)
        if len(dims) > 6:
            raise ShapeError(f"{where}{len(dims)} dimensions; at most 6 (without the batch)")
        shapes.append((1, *dims))
    return shapes


def classes_in_file(path: str | Path) -> list[str]:
    """Class names defined at the top of a Python file, found by reading it (the file is not run).

    Classes that look like ``nn.Module`` subclasses come first. Raises ValueError with a plain
    message when the file cannot be read or is not Python.
    """
    source = Path(path)
    try:
        if source.stat().st_size > _MAX_FILE_BYTES:
            raise ValueError(f"{source.name} is larger than 2 MB; is it really a model file?")
        tree = ast.parse(source.read_text(encoding="utf-8"), filename=source.name)
    except OSError as exc:
        raise ValueError(f"cannot read {source.name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{source.name} is not a text file") from None
    except SyntaxError as exc:
        raise ValueError(f"{source.name} is not valid Python (line {exc.lineno}: {exc.msg})") from None
    modules, others = [], []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = " ".join(ast.unparse(b) for b in node.bases)
            (modules if "Module" in bases else others).append(node.name)
    return modules + others


# ------------------------------------------------------------------------------ the worker


def import_job(job: Callable[[], tuple[Any, Any]]) -> Callable[[TaskContext], tuple[Any, Any]]:
    """``job`` as a task whose failure is one readable line (a ModelImportError says it plainly)."""

    def run(_ctx: TaskContext) -> tuple[Any, Any]:
        from studio.compile.importer import ModelImportError

        try:
            return job()
        except ModelImportError:
            raise
        except SystemExit as exc:  # a user file that calls exit() must not end the thread without a word
            raise ModelImportError("the file called exit() while it was loading") from exc
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise ModelImportError(f"{type(exc).__name__}: {first}" if first else type(exc).__name__) from exc

    return run


# ------------------------------------------------------------------------------ the report


def report_html(report: Any, graph: Any) -> str:
    """The import report as short HTML: what came in, each opaque operation by name and why, the notes."""
    esc = html.escape
    io = sum(n.type_id in ("io.input", "io.output") for n in graph.nodes.values())
    counts = [f"{report.mapped} editable layer{'s' if report.mapped != 1 else ''} and operations",
              f"{io} input{'s' if io != 1 else ''}/output{'s' if io != 1 else ''}"]
    if report.opaque:
        counts.append(f"{len(report.opaque)} opaque")
    parts = [f"<p>Imported <b>{esc(report.source)}</b> as the new graph tab <b>{esc(graph.name)}</b>: "
             f"{len(graph.nodes)} nodes ({', '.join(counts)}). <i>Edit › Undo</i> removes it again.</p>"]
    if report.opaque:
        by_kind: dict[tuple[str, str], list[str]] = {}
        for op in report.opaque:
            by_kind.setdefault((op.what, op.reason), []).append(op.name)
        parts.append(f"<p><b>{len(report.opaque)} operation{'s' if len(report.opaque) != 1 else ''} could not be "
                     "represented</b> and came in as opaque nodes (they keep their wires, but the graph will not "
                     "compile until they are replaced):</p><ul>")
        for (what, reason), names in by_kind.items():
            count = f" ×{len(names)}" if len(names) > 1 else ""
            parts.append(f"<li><b>{esc(what)}</b>{count}: {esc(reason)}<br>"
                         f"<small>{esc(', '.join(names))}</small></li>")
        parts.append("</ul>")
    else:
        parts.append("<p>Every operation mapped to an editable node.</p>")
    if report.notes:
        parts.append("<p><b>Notes</b></p><ul>")
        parts.extend(f"<li>{esc(note)}</li>" for note in report.notes)
        parts.append("</ul>")
    if report.weights:
        where = getattr(report, "weights_file", None)
        saved = f"saved beside the project in <b>{esc(Path(where).name)}</b>" if where else \
            "kept, and saved beside the project when it is saved"
        parts.append(f"<p><small>The model's weights came along: {saved}. torchvision models are built "
                     "without pretrained weights (random initialisation).</small></p>")
    return "".join(parts)


# ------------------------------------------------------------------------------ the dialog


class ImportModelDialog(QDialog):
    """Pick a model, check the input shape, import on a worker, then show the report."""

    #: the graph was added to the project (its id)
    imported = Signal(str)
    #: the import failed (the message shown)
    import_failed = Signal(str)

    def __init__(self, window: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent if parent is not None else window)
        self.window_ = window
        self.document = window.document
        #: the running import (a task on the application's runner: closing the dialog cannot end it)
        self.worker: Task | None = None
        self.last_report = None
        self.graph_id: str | None = None
        self.setWindowTitle("Import PyTorch model")
        self.setMinimumWidth(640)

        self.pages = QStackedWidget(self)
        self.pages.addWidget(self._form_page())
        self.report_view = QTextBrowser(self)
        self.report_view.setOpenLinks(False)
        self.report_view.setMinimumHeight(220)
        self.pages.addWidget(self.report_view)

        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(6)
        self.busy_label = QLabel(self)
        self.busy.hide()
        self.busy_label.hide()

        self.buttons = QDialogButtonBox(self)
        self.import_button = self.buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setDefault(True)
        self.again_button = self.buttons.addButton("Import another…", QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.again_button.hide()
        self.import_button.clicked.connect(self.start_import)
        self.again_button.clicked.connect(self._back_to_form)
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        layout.addWidget(self.busy_label)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)
        self._source_changed()
        self._validate()

    def _form_page(self) -> QWidget:
        page = QWidget(self)
        grid = QGridLayout(page)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setColumnStretch(1, 1)
        grid.setVerticalSpacing(6)
        intro = QLabel("Bring an existing PyTorch model into the project as a new graph tab. "
                       "Its layers become editable nodes; what cannot be represented is listed afterwards.", page)
        intro.setWordWrap(True)
        grid.addWidget(intro, 0, 0, 1, 3)

        self.from_torchvision = QRadioButton("torchvision model", page)
        self.from_file = QRadioButton("Python file", page)
        self.from_torchvision.setChecked(True)
        group = QButtonGroup(page)
        group.addButton(self.from_torchvision)
        group.addButton(self.from_file)
        group.buttonToggled.connect(lambda *_a: self._source_changed())

        self.model_combo = QComboBox(page)
        self.model_combo.setEditable(True)
        self.model_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_combo.addItems(TORCHVISION_FULL)
        self.model_combo.insertSeparator(len(TORCHVISION_FULL))
        self.model_combo.addItems(list(TORCHVISION_PARTIAL))
        self.model_combo.setToolTip("Any torchvision classification model name; built with random weights "
                                    "(nothing is downloaded)")
        self.model_combo.currentTextChanged.connect(lambda *_a: self._validate())
        self.model_hint = self._hint(page)
        grid.addWidget(self.from_torchvision, 1, 0)
        grid.addWidget(self.model_combo, 1, 1, 1, 2)
        grid.addWidget(self.model_hint, 2, 1, 1, 2)

        self.path_edit = QLineEdit(page)
        self.path_edit.setPlaceholderText("model.py")
        self.path_edit.editingFinished.connect(self._read_classes)
        self.path_edit.textChanged.connect(lambda *_a: self._validate())
        self.browse_button = QPushButton("Browse…", page)
        self.browse_button.clicked.connect(self._browse)
        grid.addWidget(self.from_file, 3, 0)
        grid.addWidget(self.path_edit, 3, 1)
        grid.addWidget(self.browse_button, 3, 2)
        self.class_label = QLabel("Class", page)
        self.class_combo = QComboBox(page)
        self.class_combo.setEditable(True)
        self.class_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.class_combo.lineEdit().setPlaceholderText("the nn.Module class; it must construct with no arguments")
        self.class_combo.currentTextChanged.connect(lambda *_a: self._validate())
        grid.addWidget(self.class_label, 4, 0, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.class_combo, 4, 1, 1, 2)
        self.file_warning = QLabel("Importing runs this file's code, just as <code>import</code> would in Python. "
                                   "Only import files you trust.", page)
        self.file_warning.setWordWrap(True)
        self.file_warning.setStyleSheet(f"color: {warning_color(self).name()}")
        grid.addWidget(self.file_warning, 5, 1, 1, 2)

        self.shape_edit = QLineEdit(DEFAULT_SHAPE, page)
        self.shape_edit.setToolTip("One sample's shape, without the batch dimension; separate several "
                                   "forward() inputs with ';' (e.g. 16, 32; 16)")
        self.shape_edit.textChanged.connect(lambda *_a: self._validate())
        grid.addWidget(QLabel("Example input", page), 6, 0)
        grid.addWidget(self.shape_edit, 6, 1, 1, 2)
        self.shape_hint = self._hint(page)
        self.shape_hint.setText("One sample, without the batch dimension: 3, 224, 224 for an image; "
                                "separate several forward() inputs with ';'.")
        grid.addWidget(self.shape_hint, 7, 1, 1, 2)
        self.error_label = QLabel(page)
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet(f"color: {error_color(self).name()}")
        self.error_label.hide()
        grid.addWidget(self.error_label, 8, 0, 1, 3)
        grid.setRowStretch(9, 1)
        return page

    def _hint(self, parent: QWidget) -> QLabel:
        label = QLabel(parent)
        label.setWordWrap(True)
        label.setStyleSheet(f"color: {dim_color(self).name()}")
        return label

    # -- form state ---------------------------------------------------------------------------
    @property
    def busy_now(self) -> bool:
        return self.worker is not None

    def _source_changed(self) -> None:
        tv = self.from_torchvision.isChecked()
        self.model_combo.setEnabled(tv)
        self.model_hint.setEnabled(tv)
        for widget in (self.path_edit, self.browse_button, self.class_label, self.class_combo, self.file_warning):
            widget.setEnabled(not tv)
        self._validate()

    def _set_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def problem(self) -> str:
        """What stops an import right now ('' when the form is complete)."""
        try:
            parse_shapes(self.shape_edit.text())
        except ShapeError as exc:
            return f"Example input: {exc}"
        if self.from_torchvision.isChecked():
            if not self.model_combo.currentText().strip():
                return "Choose a torchvision model."
            return ""
        if not self.path_edit.text().strip():
            return "Choose a Python file."
        name = self.class_combo.currentText().strip()
        if not name:
            return "Type the name of the model class."
        if not name.isidentifier():
            return f"{name!r} is not a class name."
        return ""

    def _validate(self) -> None:
        name = self.model_combo.currentText().strip()
        if name in TORCHVISION_PARTIAL:
            self.model_hint.setText(f"Partly supported: {TORCHVISION_PARTIAL[name]}. Random weights.")
        elif name in TORCHVISION_FULL:
            self.model_hint.setText("Every layer maps to an editable node. Random weights (nothing is downloaded).")
        else:
            self.model_hint.setText("Any torchvision classification model name. Random weights.")
        problem = self.problem()
        shape_problem = problem.startswith("Example input")
        self._set_error(problem if shape_problem else "")
        self.import_button.setEnabled(not problem and not self.busy_now)

    def _browse(self) -> None:
        start = self.path_edit.text().strip() or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Python file with the model class", start,
                                              "Python files (*.py);;All files (*)")
        if path:
            self.set_file(path)

    def set_file(self, path: str | Path) -> None:
        """Use ``path`` and list its classes (read, not run) in the class box."""
        self.from_file.setChecked(True)
        self.path_edit.setText(str(path))
        self._read_classes()

    def _read_classes(self) -> None:
        text = self.path_edit.text().strip()
        if not text:
            return
        try:
            names = classes_in_file(text)
        except ValueError as exc:
            self._set_error(str(exc))
            return
        current = self.class_combo.currentText().strip()
        self.class_combo.clear()
        self.class_combo.addItems(names)
        if current in names or (current and not names):
            self.class_combo.setCurrentText(current)
        if not names:
            self._set_error(f"{Path(text).name} defines no classes; type the class name if it comes from elsewhere.")

    # -- importing ----------------------------------------------------------------------------
    def job(self) -> tuple[Callable[[], tuple[Any, Any]], str]:
        """The import to run (a plain callable, safe off the GUI thread) and a description for the busy text."""
        shapes = parse_shapes(self.shape_edit.text())
        example: Any = shapes[0] if len(shapes) == 1 else shapes
        registry = self.document.registry
        if self.from_torchvision.isChecked():
            name = self.model_combo.currentText().strip()

            def run_torchvision() -> tuple[Any, Any]:
                from studio.compile.importer import import_torchvision
                return import_torchvision(name, registry, example)
            return run_torchvision, f"Building and tracing {name}…"
        path, class_name = self.path_edit.text().strip(), self.class_combo.currentText().strip()

        def run_file() -> tuple[Any, Any]:
            from studio.compile.importer import import_from_file

            # like `python model.py`: the file's own folder is importable (model files import their helpers)
            folder = str(Path(path).resolve().parent)
            added = folder not in sys.path
            if added:
                sys.path.insert(0, folder)
            try:
                return import_from_file(path, class_name, registry, example)
            finally:
                if added and folder in sys.path:
                    sys.path.remove(folder)
        return run_file, f"Running {Path(path).name} and tracing {class_name}…"

    def start_import(self) -> None:
        """Start the import on a worker thread (the result arrives through :attr:`imported` / :attr:`import_failed`)."""
        if self.busy_now:
            return
        problem = self.problem()
        if problem:
            self._set_error(problem)
            return
        job, text = self.job()
        self._set_error("")
        self._set_busy(text)
        self.worker = shared_runner().start(import_job(job), name="nnstudio-import",
                                            on_result=self._succeeded, on_error=self._failed)

    def _set_busy(self, text: str) -> None:
        busy = bool(text)
        self.busy_label.setText(text)
        self.busy_label.setVisible(busy)
        self.busy.setVisible(busy)
        self.pages.widget(0).setEnabled(not busy)
        self.import_button.setEnabled(not busy)
        self.close_button.setText("Cancel")
        self.setCursor(Qt.CursorShape.BusyCursor if busy else Qt.CursorShape.ArrowCursor)

    def _finished_worker(self) -> bool:
        """Whether a result is still wanted (one worker at a time; Cancel disconnects and forgets it)."""
        if self.worker is None:
            return False
        self.worker = None
        self._set_busy("")
        return True

    def _failed(self, message: str) -> None:
        if not self._finished_worker():
            return
        self._validate()
        self._set_error(f"Import failed: {message}")
        self.import_failed.emit(message)

    def _succeeded(self, result: tuple[Any, Any]) -> None:
        if not self._finished_worker():
            return
        graph, report = result
        graph_id = add_imported_graph(self.window_, graph, report)
        self.graph_id = graph_id
        self.last_report = report
        self.report_view.setHtml(report_html(report, self.document.project.graph(graph_id)))
        self.pages.setCurrentIndex(1)
        self.import_button.hide()
        self.again_button.show()
        self.close_button.setText("Close")
        self.close_button.setFocus()
        self.imported.emit(graph_id)

    def _back_to_form(self) -> None:
        self.pages.setCurrentIndex(0)
        self.again_button.hide()
        self.import_button.show()
        self.close_button.setText("Cancel")
        self._validate()

    def report_text(self) -> str:
        """The report as plain text (what the user reads on the second page)."""
        return self.report_view.toPlainText()

    def reject(self) -> None:
        """Cancel while busy abandons the running import: its result is ignored when it arrives."""
        if self.worker is not None:
            self.worker = None  # its result, when it comes, finds no worker and is dropped
            self.window_.show_message("Import cancelled")
        super().reject()


def add_imported_graph(window: Any, graph: Any, report: Any) -> str:
    """Add ``graph`` as a new tab in one undo step (with freeze settings for frozen parameters), laid out,
    shown and fitted; the imported weights go beside the project. Returns the graph id."""
    from studio.compile.import_weights import freeze_settings
    from studio.core.ops import AddGraph, Batch, SetTraining
    from studio.ui.arrange import wrapped_layout

    document = window.document
    names = {g.name for g in document.project.graphs}
    base, i = graph.name, 2
    while graph.name in names:
        graph.name = f"{base}_{i}"
        i += 1
    tabs = getattr(window, "tabs", None)
    viewport = (float(max(600, tabs.width())), float(max(400, tabs.height()))) if tabs is not None else (1000.0, 700.0)
    for node_id, pos in wrapped_layout(graph, viewport=viewport).items():
        graph.nodes[node_id].position = pos
    label = f"Import {report.source}"
    table = freeze_settings(document.project, graph, report)
    if table is None:
        document.push(AddGraph(graph, label=label))
    else:
        document.push(Batch([AddGraph(graph, label=label), SetTraining("nodes", table)], label=label))
    keep_imported_weights(window, graph, report)
    document.set_current_graph(graph.id)
    view = window.view_for(graph.id) if hasattr(window, "view_for") else None
    if view is not None:
        def fit() -> None:
            view.graph_scene.flush()
            view.fit()
        fit()
        QTimer.singleShot(0, view, fit)  # once more after the tab has its final size
    summary = f"Imported {report.source} as '{graph.name}': {len(graph.nodes)} nodes"
    if report.opaque:
        summary += f", {len(report.opaque)} opaque"
    window.show_message(summary)
    return graph.id


#: documents -> {graph id: (graph, report)} imported before the project had a file
_PENDING: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def keep_imported_weights(window: Any, graph: Any, report: Any) -> None:
    """Write the imported weights beside the project now, or when the project is first saved."""
    if not report.weights:
        return
    document = window.document
    if document.path is not None:
        _write_weights(window, document, graph, report)
        return
    pending = _PENDING.get(document)
    if pending is None:
        pending = _PENDING[document] = {}
        document.path_changed.connect(lambda _path, doc=document: _flush_pending(window, doc))
    pending[graph.id] = (graph, report)


def _flush_pending(window: Any, document: Any) -> None:
    pending = _PENDING.get(document) or {}
    live = {g.id for g in document.project.graphs}
    for graph_id, (graph, report) in list(pending.items()):
        if document.path is not None and graph_id in live:
            _write_weights(window, document, graph, report)
            del pending[graph_id]


def _write_weights(window: Any, document: Any, graph: Any, report: Any) -> None:
    from studio.compile.import_weights import store_imported_weights

    try:
        report.weights_file = str(store_imported_weights(document.project, graph, document.registry, report,
                                                         document.path))
    except Exception as exc:  # a full disk or an unwritable folder must not lose the import itself
        window.show_message(f"The imported weights could not be saved: {exc}")


def import_model_dialog(window: Any) -> ImportModelDialog:
    """Open the import dialog over ``window`` (window-modal, returns at once; the dialog deletes itself)."""
    dialog = ImportModelDialog(window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


__all__ = ["ImportModelDialog", "ShapeError", "add_imported_graph", "classes_in_file",
           "import_model_dialog", "keep_imported_weights", "parse_shapes", "report_html"]
