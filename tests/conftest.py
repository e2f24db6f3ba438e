"""Test set-up: headless Qt before any Qt import, and torch kept to one thread per test process."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("NNSTUDIO_CONFIG_DIR", os.path.join(os.path.dirname(__file__), ".." , ".pytest_cache", "nnstudio-config"))

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# CI runs the same examples every time (a red CI must be reproducible); local runs keep exploring.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session", autouse=True)
def _torch_threads():
    try:
        import torch
    except ImportError:  # pragma: no cover
        yield
        return
    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def registry():
    from studio.catalog import default_registry

    return default_registry()
