"""``nnstudio explain`` on a sequence model: per-token bars labelled by token, the position chosen."""

from __future__ import annotations

import pytest

from studio.cli import main
from studio.io.project_file import save_project
from tests.analysis.seq_models import LENGTH, lstm_graph, train_sequence_run


@pytest.fixture(scope="module")
def seq_project(tmp_path_factory):
    from studio.catalog import default_registry

    registry = default_registry()
    folder = tmp_path_factory.mktemp("seq")
    proj, run = train_sequence_run(registry, lstm_graph(registry), folder / "run", epochs=2)
    path = folder / "seq.nnstudio"
    save_project(proj, path, registry)
    return path, run


@pytest.mark.slow
def test_explain_writes_token_bar_pictures_with_igs_completeness(seq_project, tmp_path, capsys):
    from PIL import Image

    path, run = seq_project
    out = tmp_path / "pics"
    assert main(["explain", str(path), "--run", str(run), "--method", "ig", "--samples", "4", "-o", str(out)]) == 0
    pictures = sorted(out.glob("*.png"))
    assert len(pictures) == 4
    width, height = Image.open(pictures[0]).size
    assert width >= LENGTH * 20 and height > 160  # one labelled bar per token, the labels under them
    text = capsys.readouterr().out
    delta = float(text.split("convergence delta: max ")[1].split()[0])
    assert delta < 1e-2
    assert main(["explain", str(path), "--run", str(run), "--method", "occlusion", "--samples", "2",
                 "--position", "0", "-o", str(tmp_path / "first")]) == 0


@pytest.mark.slow
def test_explain_refuses_a_position_outside_the_sequence_and_gradcam_on_tokens(seq_project, tmp_path, capsys):
    path, run = seq_project
    assert main(["explain", str(path), "--run", str(run), "--position", "99", "-o", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "--position" in err and "outside the sequence" in err and "Traceback" not in err
    assert main(["explain", str(path), "--run", str(run), "--method", "lrp", "-o", str(tmp_path / "y")]) != 0
    assert "use saliency, Integrated Gradients or occlusion" in capsys.readouterr().err
