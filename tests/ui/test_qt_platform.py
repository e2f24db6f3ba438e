"""Start-up on a machine without the xcb libraries: the exact apt-get line, exit 1, never Qt's abort."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from studio.ui.qt_platform import XCB_PACKAGES, package_for, platform_problem, plugin_dir

ROOT = Path(__file__).resolve().parents[2]


def fake_ldd(folder: Path, missing: list[str]) -> Path:
    """An ``ldd`` that reports ``missing`` as not found (and everything else as present)."""
    script = folder / "ldd"
    lines = "".join(f"echo '\t{name} => not found'\n" for name in missing)
    script.write_text(f"#!/bin/sh\necho '\tlibc.so.6 => /lib/libc.so.6 (0x0)'\n{lines}")
    script.chmod(0o755)
    return script


def test_sonames_map_to_debian_packages():
    assert [package_for(s) for s in ("libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0",
                                     "libxcb-render-util.so.0", "libxkbcommon-x11.so.0", "libEGL.so.1")] == [
        "libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0", "libxcb-render-util0", "libxkbcommon-x11-0", "libegl1"]


def test_the_readme_lists_the_packages_for_make_run():
    readme = (ROOT / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    line = next(ln for ln in readme.splitlines() if "sudo apt-get install" in ln)
    assert all(p in line.split() for p in XCB_PACKAGES), line


def test_the_problem_names_the_missing_libraries_and_the_command(tmp_path):
    ldd = fake_ldd(tmp_path, ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-icccm.so.4"])
    text = platform_problem({"DISPLAY": ":0"}, ldd=str(ldd))
    assert text is not None and "libxcb-icccm.so.4, libxcb-keysyms.so.1" in text
    assert text.splitlines()[-1].strip().startswith("sudo apt-get install libxcb-icccm4 libxcb-keysyms1")
    # offscreen, Wayland or another chosen platform: nothing to check
    for env in ({"QT_QPA_PLATFORM": "offscreen"}, {"WAYLAND_DISPLAY": "wayland-0"}, {"QT_QPA_PLATFORM": "wayland"}):
        assert platform_problem(env, ldd=str(ldd)) is None
    assert platform_problem({"QT_QPA_PLATFORM": "xcb"}, ldd=str(ldd)) is not None


def test_no_display_is_said_instead_of_aborting(tmp_path, monkeypatch):
    import studio.ui.qt_platform as qp

    monkeypatch.setattr(qp.ctypes.util, "find_library", lambda name: f"lib{name}.so.0")
    ldd = fake_ldd(tmp_path, [])
    assert platform_problem({"DISPLAY": ":0"}, ldd=str(ldd)) is None
    assert "no display" in platform_problem({}, ldd=str(ldd))


def test_the_app_prints_the_install_command_instead_of_aborting(tmp_path):
    assert plugin_dir() is not None and (plugin_dir() / "libqxcb.so").exists()
    fake_ldd(tmp_path, ["libxcb-cursor.so.0", "libxcb-icccm.so.4"])
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=":99", PYTHONPATH=str(ROOT), PATH=f"{tmp_path}{os.pathsep}{env.get('PATH', '')}",
               NNSTUDIO_CONFIG_DIR=str(tmp_path / "config"))
    r = subprocess.run([sys.executable, "-m", "studio"], capture_output=True, text=True, env=env, timeout=120,
                       cwd=ROOT)
    assert r.returncode == 1, (r.returncode, r.stderr[-500:])
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4" in r.stderr
    assert "Aborted" not in r.stderr and "could not be initialized" not in r.stderr
