"""MuJoCo's GL backend on machines without a display (imports nothing heavy).

MuJoCo reads ``MUJOCO_GL`` once, when ``mujoco`` is imported; its default (GLFW) cannot open a
context without a display, and a backend whose library is missing breaks ``import mujoco``
itself. So, before the first ``import mujoco``, :func:`use_headless_gl_default` picks EGL
(Mesa's surfaceless EGL renders in software where there is no GPU), else OSMesa, where the
library is installed; a ``MUJOCO_GL`` set by the user always wins. ``reference_env`` calls it
before importing mujoco; a program that imports mujoco earlier sets ``MUJOCO_GL`` itself.
"""

from __future__ import annotations

import os
import sys


def use_headless_gl_default() -> str | None:
    """Set ``MUJOCO_GL`` for a headless Linux machine if unset; returns the value in force."""
    if "MUJOCO_GL" in os.environ or not sys.platform.startswith("linux"):
        return os.environ.get("MUJOCO_GL")
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    from ctypes.util import find_library

    for backend, library in (("egl", "EGL"), ("osmesa", "OSMesa")):
        if find_library(library):
            os.environ["MUJOCO_GL"] = backend
            return backend
    return None
