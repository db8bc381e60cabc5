"""Shared pytest set-up: the `cuda` marker skips where no GPU is there to use.

A CUDA build that sees a GPU (the driver lists one and CUDA_VISIBLE_DEVICES does not hide it)
but cannot use it is a broken build, not a missing GPU: its cuda tests fail instead of skipping.
"""

import os
from pathlib import Path

import pytest

from mbrlhpo.envs.headless_gl import use_headless_gl_default

# Before any test module imports mujoco: offscreen rendering (render_mode, --video) works
# headless only with MUJOCO_GL chosen first.
use_headless_gl_default()


def _driver_lists_a_gpu() -> bool:
    """True when the NVIDIA driver lists a GPU that CUDA_VISIBLE_DEVICES leaves visible."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return False
    gpus = Path("/proc/driver/nvidia/gpus")
    return gpus.is_dir() and any(gpus.iterdir())


def _cuda_build(native) -> bool:
    return native.available() and hasattr(native.core(), "CudaPlanner")


def pytest_collection_modifyitems(config, items):
    from mbrlhpo import _native

    if _native.cuda_available():
        return
    if _cuda_build(_native) and _driver_lists_a_gpu():
        reason = (
            "the module was built with CUDA and the driver lists a GPU, but the module sees "
            "no usable CUDA device (driver/runtime mismatch or a missing sm_ target?)"
        )
        fail = reason
    else:
        fail = None
    skip = pytest.mark.skip(reason="no CUDA device (or no CUDA build)")
    for item in items:
        # the marker itself, not a keyword: keywords also hold the names of the parent
        # directories, so a checkout in a folder named "cuda" would skip every test
        if item.get_closest_marker("cuda") is None:
            continue
        if fail is None:
            item.add_marker(skip)
        else:
            item.user_properties.append(("cuda_unusable", fail))


def pytest_runtest_setup(item):
    for name, reason in item.user_properties:
        if name == "cuda_unusable":
            pytest.fail(reason, pytrace=False)
