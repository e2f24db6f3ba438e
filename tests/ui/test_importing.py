"""File > Import model…: the dialog's worker imports a model as a new graph tab, undoable, with its report."""

from __future__ import annotations

import sys
import textwrap

import pytest
import shiboken6

from studio.ui.importing import ShapeError, classes_in_file, parse_shapes

TIMEOUT_MS = 60_000

TINY = textwrap.dedent('''
    import torch
    from torch import nn


    class Helper:
        """Not a module: listed after the modules."""


    class Gate(nn.Module):
        def forward(self, x):
            if x.sum() > 0:  # decided by the values: no graph can hold it
                return x * 2
            return x


    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(8, 16)
            self.act = nn.ReLU()
            self.fc2 = nn.Linear(16, 4)
            self.gate = Gate()

        def forward(self, x):
            return self.gate(torch.cumsum(self.fc2(self.act(self.fc1(x))), 1))
''')


def _open(editor):
    """File > Import model… (Ctrl+I), as the user opens it."""
    action = editor.window.file_actions["import"]
    assert action.shortcut().toString() == "Ctrl+I"
    action.trigger()
    dialog = editor.window.import_dialog
    assert dialog.isVisible() and dialog.windowTitle() == "Import PyTorch model"
    return dialog


def _run(qtbot, dialog):
    """Click Import, check the busy state, wait for the worker's result."""
    with qtbot.waitSignal(dialog.imported, timeout=TIMEOUT_MS) as blocker:
        dialog.import_button.click()
        assert dialog.busy.isVisible() and dialog.busy_label.text()
        assert not dialog.import_button.isEnabled()  # one import at a time
    return blocker.args[0]


def test_parse_shapes_accepts_common_spellings_and_names_bad_parts():
    assert parse_shapes("3, 224, 224") == [(1, 3, 224, 224)]
    assert parse_shapes("(3 x 64 x 64)") == [(1, 3, 64, 64)]
    assert parse_shapes("16, 32; 16") == [(1, 16, 32), (1, 16)]
    for text, words in (("", "shape"), ("3, a, 4", "dimension 2"), ("3, 0", "at least 1"),
                        ("8; ", "input 2")):
        with pytest.raises(ShapeError, match=words):
            parse_shapes(text)


def test_torchvision_resnet18_imports_as_undoable_tab(editor, qtbot):
    doc, window = editor.document, editor.window
    graphs_before, tabs_before = len(doc.project.graphs), window.tabs.count()
    steps = doc.undo_stack.count()
    dialog = _open(editor)
    dialog.model_combo.setCurrentText("resnet18")
    dialog.shape_edit.setText("3, 64, 64")
    graph_id = _run(qtbot, dialog)

    graph = doc.project.graph(graph_id)
    assert graph.name == "resnet18"
    assert sum(n.type_id == "nn.conv2d" for n in graph.nodes.values()) == 20  # resnet18 has 20 convolutions
    inputs = [n for n in graph.nodes.values() if n.type_id == "io.input"]
    assert [n.params["shape"] for n in inputs] == [[3, 64, 64]]
    assert doc.undo_stack.count() == steps + 1  # one step
    assert window.tabs.count() == tabs_before + 1
    assert window.current_view() is window.view_for(graph_id)  # the new tab is shown
    qtbot.wait(20)
    view = window.view_for(graph_id)
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.graph_scene.itemsBoundingRect().adjusted(10, 10, -10, -10))  # fitted
    report = dialog.report_text()
    assert "resnet18" in report and "Every operation mapped" in report and "Undo" in report
    assert dialog.pages.currentIndex() == 1

    doc.undo_stack.undo()
    assert len(doc.project.graphs) == graphs_before and window.tabs.count() == tabs_before
    assert graph_id not in window.views
    dialog.close()


def test_class_from_file_imports_and_reports_opaque_ops_by_name(editor, qtbot, tmp_path):
    path = tmp_path / "tiny_model.py"
    path.write_text(TINY, encoding="utf-8")
    assert classes_in_file(path) == ["Gate", "Tiny", "Helper"]
    dialog = _open(editor)
    assert "runs this file's code" in dialog.file_warning.text()
    dialog.set_file(path)
    dialog.class_combo.setCurrentText("Tiny")
    assert dialog.from_file.isChecked() and dialog.class_combo.currentText() == "Tiny"
    dialog.shape_edit.setText("8")
    graph_id = _run(qtbot, dialog)

    graph = editor.document.project.graph(graph_id)
    linears = sorted(n.params.get("out_features") for n in graph.nodes.values() if n.type_id == "nn.linear")
    assert linears == [4, 16]
    assert any(n.type_id == "nn.relu" for n in graph.nodes.values())
    opaque = dialog.last_report.opaque
    assert [o.name for o in opaque] == ["gate"]
    report = dialog.report_text()
    assert "1 operation could not be represented" in report
    assert "branches on tensor values at tiny_model.py:" in report and opaque[0].name in report  # by name
    dialog.close()


def test_file_may_import_modules_beside_it(editor, qtbot, tmp_path):
    (tmp_path / "my_layers.py").write_text("from torch import nn\n\ndef head():\n    return nn.Linear(8, 3)\n",
                                           encoding="utf-8")
    path = tmp_path / "net.py"
    path.write_text("from torch import nn\nfrom my_layers import head\n\n\nclass Net(nn.Module):\n"
                    "    def __init__(self):\n        super().__init__()\n        self.head = head()\n\n"
                    "    def forward(self, x):\n        return self.head(x)\n", encoding="utf-8")
    dialog = _open(editor)
    dialog.set_file(path)
    dialog.shape_edit.setText("8")
    graph_id = _run(qtbot, dialog)
    graph = editor.document.project.graph(graph_id)
    assert [n.params.get("out_features") for n in graph.nodes.values() if n.type_id == "nn.linear"] == [3]
    assert str(tmp_path) not in sys.path  # put back as it was
    dialog.close()


@pytest.mark.parametrize(("source", "class_name", "words"), [
    (TINY, "Missing", "has no nn.Module class named 'Missing'"),
    ("raise RuntimeError('no GPU here')\n", "Tiny", "failed to run: RuntimeError: no GPU here"),
    ("import sys\nsys.exit(3)\n", "Tiny", "called exit()"),
])
def test_bad_file_or_class_gives_a_clear_error(editor, qtbot, tmp_path, source, class_name, words):
    path = tmp_path / "model.py"
    path.write_text(source, encoding="utf-8")
    doc = editor.document
    graphs, steps = len(doc.project.graphs), doc.undo_stack.count()
    dialog = _open(editor)
    dialog.set_file(path)
    dialog.class_combo.setCurrentText(class_name)
    with qtbot.waitSignal(dialog.import_failed, timeout=TIMEOUT_MS) as blocker:
        dialog.import_button.click()
    assert words in blocker.args[0]
    assert dialog.error_label.isVisible() and words in dialog.error_label.text()
    assert "Traceback" not in dialog.error_label.text()
    assert len(doc.project.graphs) == graphs and doc.undo_stack.count() == steps
    assert dialog.pages.currentIndex() == 0 and dialog.import_button.isEnabled()  # fix it and try again
    dialog.close()


def test_form_refuses_bad_shape_and_unreadable_file(editor, tmp_path):
    dialog = _open(editor)
    dialog.shape_edit.setText("3, a, 4")
    assert not dialog.import_button.isEnabled()
    assert "dimension 2" in dialog.error_label.text() and dialog.error_label.isVisible()
    dialog.shape_edit.setText("3, 32, 32")
    assert dialog.import_button.isEnabled() and not dialog.error_label.isVisible()
    broken = tmp_path / "broken.py"
    broken.write_text("class Net(nn.Module:\n", encoding="utf-8")
    dialog.set_file(broken)
    assert "not valid Python (line 1" in dialog.error_label.text()
    dialog.class_combo.setCurrentText("")
    assert not dialog.import_button.isEnabled()
    dialog.close()


def test_cancel_while_busy_drops_the_late_result(editor, qtbot, tmp_path):
    path = tmp_path / "slow.py"
    path.write_text("import time\ntime.sleep(0.4)\n" + TINY, encoding="utf-8")
    doc = editor.document
    graphs = len(doc.project.graphs)
    dialog = _open(editor)
    dialog.set_file(path)
    dialog.class_combo.setCurrentText("Tiny")
    dialog.shape_edit.setText("8")
    dialog.import_button.click()
    worker = dialog.worker
    assert worker is not None and worker.running
    dialog.reject()
    # the application's task runner keeps the thread until it ends; then the task handle is deleted
    qtbot.waitUntil(lambda: not shiboken6.isValid(worker), timeout=TIMEOUT_MS)
    qtbot.wait(20)  # the queued result would have arrived by now: it is ignored
    assert len(doc.project.graphs) == graphs
    assert "cancelled" in editor.window.status_message.text()


WEIGHTED = textwrap.dedent('''
    import torch
    from torch import nn


    class Weighted(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(5)
            self.conv = nn.Conv2d(3, 6, 3, padding=1)
            self.bn = nn.BatchNorm2d(6)
            self.head = nn.Linear(6 * 8 * 8, 4)
            self.scale = nn.Parameter(torch.rand(4) + 0.5)
            for p in self.conv.parameters():
                p.requires_grad = False  # a frozen backbone

        def forward(self, x):
            y = torch.relu(self.bn(self.conv(x)))
            return self.head(y.flatten(1)) * self.scale
''')


def test_imported_weights_are_saved_beside_the_project_and_give_the_same_outputs(editor, qtbot, tmp_path):
    import importlib.util

    import torch

    from studio.compile.compiler import compile_graph
    from studio.compile.weights import load_weights, weights_path

    path = tmp_path / "weighted.py"
    path.write_text(WEIGHTED, encoding="utf-8")
    doc = editor.document
    steps = doc.undo_stack.count()
    dialog = _open(editor)
    dialog.set_file(path)
    dialog.class_combo.setCurrentText("Weighted")
    dialog.shape_edit.setText("3, 8, 8")
    graph_id = _run(qtbot, dialog)
    assert doc.undo_stack.count() == steps + 1  # graph and freeze settings: one step
    graph = doc.project.graph(graph_id)
    conv = next(n for n in graph.nodes.values() if n.type_id == "nn.conv2d")
    assert doc.project.training["nodes"][conv.name]["freeze"] is True
    assert "kept, and saved beside the project when it is saved" in dialog.report_text()
    assert "set to freeze in training" in dialog.report_text()

    project_file = tmp_path / "imported.nnstudio"
    doc.mark_saved(project_file)  # the first save writes the weights that were waiting
    stored = weights_path(project_file)
    assert stored.is_file()
    state = load_weights(doc.project, stored)[graph.name]
    compiled = compile_graph(graph, doc.registry)
    compiled.load_state_dict(state)

    spec = importlib.util.spec_from_file_location("weighted_original", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    original = module.Weighted()
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        for mode in (False, True):
            original.train(mode)
            compiled.train(mode)
            assert torch.equal(compiled(x), original(x))

    doc.undo_stack.undo()
    assert graph_id not in {g.id for g in doc.project.graphs}
    assert conv.name not in (doc.project.training.get("nodes") or {})
    dialog.close()
