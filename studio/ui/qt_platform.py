"""Can Qt open a window here? Checked before ``QApplication`` exists, so a missing system library
gives the exact install command instead of Qt's abort ("no Qt platform plugin could be initialized").

On Linux, Qt's xcb platform plugin (``libqxcb.so`` in the PySide6 wheel) links against X11/xcb
libraries that a fresh machine may lack. ``ldd`` names every missing one without loading the
plugin; each soname maps to its Debian/Ubuntu package. Qt ≥ 6.5 also needs ``libxcb-cursor0``,
which it looks for at run time, so that one is checked by name. Nothing here imports Qt.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

#: soname stem -> Debian/Ubuntu package, where the package name is not simply derived from the soname
PACKAGES = {
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libXext.so.6": "libxext6",
    "libXrender.so.1": "libxrender1",
}
#: what the README tells a fresh Debian/Ubuntu machine to install for ``make run``
XCB_PACKAGES = ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0", "libxcb-render-util0",
                "libxcb-xinerama0", "libxcb-xkb1", "libxkbcommon-x11-0", "libxcb-randr0", "libxcb-shape0",
                "libegl1")
_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.M)


def package_for(soname: str) -> str:
    """``libxcb-icccm.so.4`` -> ``libxcb-icccm4``; ``libfoo2.so.1`` -> ``libfoo2-1`` (Debian's naming)."""
    if soname in PACKAGES:
        return PACKAGES[soname]
    m = re.match(r"^(lib[\w+.-]+?)\.so\.(\d+)", soname)
    if not m:
        return soname
    stem, major = m.group(1), m.group(2)
    sep = "-" if stem[-1].isdigit() else ""
    return f"{stem.lower()}{sep}{major}"


def plugin_dir() -> Path | None:
    """PySide6's ``Qt/plugins/platforms`` folder, found without importing PySide6."""
    spec = importlib.util.find_spec("PySide6")
    for base in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(base) / "Qt" / "plugins" / "platforms"
        if folder.is_dir():
            return folder
    return None


def missing_libraries(plugin: Path, ldd: str = "ldd") -> list[str]:
    """Sonames ``ldd`` reports as not found for ``plugin`` (empty when ldd is unavailable)."""
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return list(dict.fromkeys(_NOT_FOUND.findall(out)))


def _wants_xcb(env: Mapping[str, str]) -> bool:
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    return not env.get("WAYLAND_DISPLAY")  # a Wayland session uses the wayland plugin first


def platform_problem(env: Mapping[str, str] | None = None, folder: Path | None = None,
                     ldd: str = "ldd") -> str | None:
    """A message with the install command when Qt's xcb plugin cannot load here; None when it can
    (or when this is not Linux, another platform plugin was chosen, or nothing can be checked)."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux") or not _wants_xcb(env):
        return None
    folder = folder or plugin_dir()
    plugin = folder / "libqxcb.so" if folder else None
    if plugin is None or not plugin.exists():
        return None
    missing = missing_libraries(plugin, ldd)
    if "libxcb-cursor.so.0" not in missing and ctypes.util.find_library("xcb-cursor") is None:
        missing.append("libxcb-cursor.so.0")
    if not missing:
        if not env.get("DISPLAY"):
            return ("error: NN Studio cannot open a window: there is no display (DISPLAY is not set). Start it "
                    "from a desktop session or over ssh -X; QT_QPA_PLATFORM=offscreen renders without one.")
        return None
    packages = list(dict.fromkeys(package_for(s) for s in missing))
    return (f"error: NN Studio cannot open a window: Qt's xcb platform plugin needs system libraries that are "
            f"missing ({', '.join(missing)}). Install them with:\n  sudo apt-get install {' '.join(packages)}")
