"""Shared pytest set-up: the `cuda` marker skips where no CUDA device is usable."""

import pytest

from mbrlhpo.envs.headless_gl import use_headless_gl_default

# Before any test module imports mujoco: offscreen rendering (render_mode, --video) works
# headless only with MUJOCO_GL chosen first.
use_headless_gl_default()


def pytest_collection_modifyitems(config, items):
    from mbrlhpo import _native

    if _native.cuda_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device (or no CUDA build)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
