"""The one place that imports the native module ``mbrlhpo._core``.

Everything else asks this module for it, so a missing build, a missing MuJoCo or a MuJoCo of
the wrong version fails in one place with one clear message.
"""

from __future__ import annotations

import importlib.metadata
from types import ModuleType

MUJOCO_VERSION = "4.0.0"  # the C ABI the core is compiled against

_core: ModuleType | None = None
_import_error: str | None = None


class NativeUnavailableError(ImportError):
    """The compiled core cannot be used on this installation."""


def _mujoco_problem() -> str | None:
    """Says what is wrong with the installed MuJoCo, or None. Does not import mujoco."""
    try:
        found = importlib.metadata.version("mujoco")
    except importlib.metadata.PackageNotFoundError:
        return (
            f"MuJoCo is not installed: expected mujoco=={MUJOCO_VERSION} "
            f"(pip install mujoco=={MUJOCO_VERSION})"
        )
    if found != MUJOCO_VERSION:
        return (
            f"mbrlhpo's native core is built against MuJoCo {MUJOCO_VERSION}, but mujoco=={found} "
            f"is installed (pip install mujoco=={MUJOCO_VERSION})"
        )
    return None


def core() -> ModuleType:
    """Returns ``mbrlhpo._core``, importing it on first use; raises NativeUnavailableError."""
    global _core, _import_error
    if _core is not None:
        return _core
    if _import_error is None:
        try:
            from mbrlhpo import _core as module
        except ImportError as exc:
            problem = _mujoco_problem()
            detail = f"{problem} ({exc})" if problem else str(exc)
            if "libmujoco" in str(exc) and not problem:
                detail = (
                    f"the MuJoCo {MUJOCO_VERSION} shared library (libmujoco.so.{MUJOCO_VERSION}) "
                    f"was not found next to mbrlhpo; reinstall mujoco=={MUJOCO_VERSION} ({exc})"
                )
            _import_error = f"mbrlhpo's native core cannot be loaded: {detail}"
        except ValueError as exc:  # the core's own MuJoCo version check
            _import_error = f"mbrlhpo's native core cannot be loaded: {exc}"
        else:
            _core = module
            return module
    raise NativeUnavailableError(_import_error)


def available() -> bool:
    """True when the native core imports on this installation."""
    try:
        core()
    except NativeUnavailableError:
        return False
    return True


def cuda_available() -> bool:
    """True when the native core has the CUDA backend and a device is usable."""
    return available() and bool(core().cuda_available())


class BackendUnavailable(RuntimeError):
    """A planner backend that this build or machine cannot run (the user's setting: one
    line in the CLI)."""


def require_cuda_planner() -> ModuleType:
    """The native module, or BackendUnavailable saying why backend 'cuda' cannot run here."""
    module = core()
    if not hasattr(module, "CudaPlanner"):
        raise BackendUnavailable(
            "backend 'cuda' needs mbrlhpo built with its CUDA backend (nvcc found at build "
            "time); this build has none: use backend 'cpu' or 'torch'"
        )
    if not module.cuda_available():
        raise BackendUnavailable(
            "backend 'cuda' needs a usable CUDA device; this machine has none (no driver or "
            "no GPU): use backend 'cpu' or 'torch'"
        )
    return module
