"""Saving has no side effects: mode and symlinks kept, file and folder fsynced, no temp files left."""

from __future__ import annotations

import os
import stat
import time

import pytest

from studio.io import safe_write
from studio.io.errors import ProjectFileError
from studio.io.project_file import load_project, save_project
from studio.io.safe_write import TEMP_SUFFIX, remove_stale_temps
from tests.core.helpers import mlp


def _temps(folder):
    return [p for p in folder.iterdir() if p.name.endswith(TEMP_SUFFIX) or p.name.endswith(".tmp")]


def test_save_keeps_the_file_mode(registry, tmp_path):
    path = tmp_path / "shared.nnstudio"
    save_project(mlp(registry), path, registry)
    os.chmod(path, 0o664)
    save_project(mlp(registry), path, registry)
    assert stat.S_IMODE(path.stat().st_mode) == 0o664


def test_a_new_file_gets_the_umask_mode_not_0600(registry, tmp_path):
    old = os.umask(0o022)
    try:
        path = save_project(mlp(registry), tmp_path / "new.nnstudio", registry)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_save_through_a_symlink_writes_its_target(registry, tmp_path):
    real = tmp_path / "store" / "real.nnstudio"
    real.parent.mkdir()
    save_project(mlp(registry), real, registry)
    link = tmp_path / "link.nnstudio"
    link.symlink_to(real)
    project = mlp(registry, widths=(7,))
    save_project(project, link, registry)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert len(load_project(real, registry).main_graph.nodes) == len(project.main_graph.nodes)
    assert _temps(tmp_path) == [] and _temps(real.parent) == []


def test_file_and_folder_are_fsynced(registry, tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(stat.S_ISDIR(os.fstat(fd).st_mode)) or real_fsync(fd))
    save_project(mlp(registry), tmp_path / "durable.nnstudio", registry)
    assert False in synced and True in synced  # the file, then the folder after the rename


def test_a_failed_save_leaves_the_old_file_and_no_temp(registry, tmp_path, monkeypatch):
    path = save_project(mlp(registry), tmp_path / "keep.nnstudio", registry)
    before = path.read_bytes()
    monkeypatch.setattr(safe_write.os, "replace", lambda *_a: (_ for _ in ()).throw(OSError(28, "No space left")))
    with pytest.raises(ProjectFileError, match="No space left"):
        save_project(mlp(registry, widths=(3,)), path, registry)
    assert path.read_bytes() == before and _temps(tmp_path) == []


def test_stale_temp_files_are_removed_and_fresh_ones_kept(tmp_path):
    stale = tmp_path / f".a.nnstudio.x1{TEMP_SUFFIX}"
    fresh = tmp_path / f".a.nnstudio.x2{TEMP_SUFFIX}"
    other = tmp_path / "notes.tmp"
    for p in (stale, fresh, other):
        p.write_text("x" * 1000)
    old = time.time() - 2 * safe_write.STALE_AFTER_S
    os.utime(stale, (old, old))
    assert remove_stale_temps(tmp_path) == [stale]
    assert fresh.exists() and other.exists()


def test_saving_cleans_stale_temps_beside_the_file(registry, tmp_path):
    stale = tmp_path / f".p.nnstudio.crashed{TEMP_SUFFIX}"
    stale.write_text("half a file")
    old = time.time() - 2 * safe_write.STALE_AFTER_S
    os.utime(stale, (old, old))
    save_project(mlp(registry), tmp_path / "p.nnstudio", registry)
    assert not stale.exists()
