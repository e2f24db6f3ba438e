"""Each run claims a new folder: never one that holds another run, even when runs start together."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from studio.train.run_folder import RunFolderError, claim_run_folder


def test_a_new_or_empty_folder_is_taken_else_the_next_number(tmp_path):
    assert claim_run_folder(tmp_path / "exp") == tmp_path / "exp"
    (tmp_path / "exp" / "metrics.json").write_text("{}")
    assert claim_run_folder(tmp_path / "exp") == tmp_path / "exp-2"
    assert claim_run_folder(tmp_path / "exp") == tmp_path / "exp-3"  # exp-2 is marked as taken
    (tmp_path / "empty").mkdir()
    assert claim_run_folder(tmp_path / "empty") == tmp_path / "empty"
    assert (tmp_path / "exp" / "metrics.json").read_text() == "{}"


def test_runs_started_together_never_share_a_folder(tmp_path):
    with ThreadPoolExecutor(8) as pool:
        folders = list(pool.map(lambda _: claim_run_folder(tmp_path / "run"), range(16)))
    assert len(set(folders)) == 16


def test_a_file_or_an_unusable_path_is_refused_in_one_line(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("keep")
    with pytest.raises(RunFolderError, match="is a file"):
        claim_run_folder(target)
    with pytest.raises(RunFolderError, match="cannot write") as info:
        claim_run_folder(target / "sub")
    assert "\n" not in str(info.value) and target.read_text() == "keep"
