"""What this installation of mbrlhpo is: versions, build options, devices."""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path
from typing import Any

from mbrlhpo import __version__, _native


def cmake_dir() -> Path:
    """Directory of the installed CMake package (for ``find_package(mbrlhpo)``)."""
    return Path(__file__).resolve().parent / "lib" / "cmake" / "mbrlhpo"


def build_info() -> dict[str, Any]:
    """Plain dict of facts about this installation; native facts when the core loads."""
    info: dict[str, Any] = {"version": __version__, "native": _native.available()}
    for package in ("mujoco", "torch", "numpy", "gymnasium", "scipy-openblas32"):
        try:
            info[f"{package}_package"] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            info[f"{package}_package"] = None
    if info["native"]:
        core = _native.core()
        info.update(core.build_info())
        info["cuda_available"] = bool(core.cuda_available())
        info["cuda_devices"] = list(core.cuda_devices())
        info["cmake_dir"] = str(cmake_dir()) if cmake_dir().is_dir() else None
    else:
        try:
            _native.core()
        except _native.NativeUnavailableError as exc:
            info["native_error"] = str(exc)
    info["cpu_count"] = os.cpu_count()
    return info
