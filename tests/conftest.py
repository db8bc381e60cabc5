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
        # the marker itself, not a keyword: keywords also hold the names of the parent
        # directories, so a checkout in a folder named "cuda" would skip every test
        if item.get_closest_marker("cuda") is not None:
            item.add_marker(skip)
