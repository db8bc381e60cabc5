"""numba compilation of a custom task's reward and termination (``mbrlhpo.Task``).

A user writes ``reward(action, next_obs) -> float`` and ``terminated(next_obs) -> bool`` as plain
Python on 1-D float32 arrays ``(A,)`` and ``(O,)``. This module compiles each, in numba's
nopython mode, into

- a C function for the native CPU planner (``numba.cfunc``): ``float reward(const float* a,
  const float* s')``, ``int terminated(const float* s')`` (an int, not a bool: a bool return's
  upper bits are not part of every compiler's ABI), and ``void model_input(const float* s,
  float* out)`` generated from the angle dims; the planner calls them through plain function
  pointers from its worker threads, without the GIL;
- a batched form for the torch planner and for tests, ``(n, A), (n, O) -> (n,)``, a numba loop
  over the same compiled function, so that both planners score a state with the same float32
  arithmetic.

A function numba cannot compile raises :class:`TaskCompileError` naming the function, where it
is defined and numba's own words for the construct it could not compile.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


class TaskCompileError(ValueError):
    """A custom task's function that numba cannot compile (the message names the construct)."""


def require_numba() -> Any:
    try:
        import numba
    except ImportError:
        raise ImportError(
            "mbrlhpo.Task compiles rewards with numba, which is not installed: "
            "pip install 'mbrlhpo[custom]' (or pip install numba)"
        ) from None
    return numba


@dataclass(frozen=True)
class CompiledTask:
    """The native functions of one task. The cfunc objects own the machine code: they must
    live as long as the planner may call the addresses (they are kept in a module-level cache,
    for the life of the process, like the native registry that points at them)."""

    reward_cfunc: Any
    terminated_cfunc: Any
    model_input_cfunc: Any
    batch_reward: Callable  # (actions (n, A), next_obs (n, O), out (n,) float32) -> None
    batch_terminated: Callable  # (next_obs (n, O), out (n,) bool) -> None

    @property
    def addresses(self) -> tuple[int, int, int]:
        return (
            self.reward_cfunc.address,
            self.terminated_cfunc.address,
            self.model_input_cfunc.address,
        )


def _where(fn: Callable) -> str:
    name = getattr(fn, "__qualname__", repr(fn))
    try:
        file = inspect.getsourcefile(fn)
        line = inspect.getsourcelines(fn)[1]
        return f"{name} ({file}:{line})"
    except (OSError, TypeError):
        return name


def _numba_reason(error: Exception) -> str:
    """The informative lines of a numba error: the construct and the source line, without
    numba's pipeline stack ("Failed in ... pipeline", "During: ...")."""
    kept = []
    for raw in str(error).splitlines():
        line = raw.strip()
        if not line or line.startswith(("Failed in ", "During:", "- argument", "^")):
            continue
        if "For more information" in line or line.startswith(("Enable logging", "http")):
            continue
        kept.append(line.split(": %")[0])  # drop LLVM IR that some messages carry
    return " ".join(kept[:4]) if kept else type(error).__name__


def _jit(fn: Callable, what: str, task: str, arg_types: tuple, numba: Any) -> Any:
    """``fn`` compiled by numba for ``arg_types``; a TaskCompileError naming the construct."""
    py_fn = getattr(fn, "py_func", fn)  # an @njit function is compiled again, for our types
    if not callable(py_fn) or not hasattr(py_fn, "__code__"):
        raise TaskCompileError(
            f"task {task!r}: expected {what} to be a Python function, got {type(fn).__name__}"
        )
    try:
        jitted = numba.njit(py_fn)
        jitted.compile(arg_types)
    except Exception as e:  # numba raises many types; all mean "cannot compile this"
        reason = _numba_reason(e)
        if "Untyped global name" in reason and "function" in reason:
            reason += " (a helper it calls must be compiled too: decorate it with @numba.njit)"
        raise TaskCompileError(
            f"task {task!r}: numba cannot compile the {what} function {_where(py_fn)}: {reason}"
        ) from None
    [(_, result)] = [(k, v.signature.return_type) for k, v in jitted.overloads.items()]
    if not isinstance(result, (numba.types.Number, numba.types.Boolean)):
        raise TaskCompileError(
            f"task {task!r}: expected the {what} function {_where(py_fn)} to return a number, "
            f"got {result}"
        )
    return jitted


def compile_task(
    name: str,
    obs_dim: int,
    act_dim: int,
    angle_dims: tuple[int, ...],
    reward: Callable,
    terminated: Callable | None,
) -> CompiledTask:
    """Compiles ``reward`` and ``terminated`` (None: never terminal) of a task with these dims."""
    numba = require_numba()
    types = numba.types
    vec = types.Array(types.float32, 1, "C")
    user_reward = _jit(reward, "reward", name, (vec, vec), numba)
    if terminated is None:

        def never(next_obs):
            return False

        terminated = never
    user_terminated = _jit(terminated, "terminated", name, (vec,), numba)
    carray = numba.carray
    ptr = types.CPointer(types.float32)
    a_dim, o_dim = int(act_dim), int(obs_dim)

    @numba.cfunc(types.float32(ptr, ptr), nopython=True)
    def reward_c(a, s):
        return user_reward(carray(a, (a_dim,)), carray(s, (o_dim,)))

    @numba.cfunc(types.int32(ptr), nopython=True)
    def terminated_c(s):
        return 1 if user_terminated(carray(s, (o_dim,))) else 0

    # The model input, as TaskSpec.model_input: [obs without angles, sin(angles), cos(angles)].
    # (Arrays in a closure are frozen into the machine code as constants.)
    keep = np.array([i for i in range(o_dim) if i not in angle_dims], dtype=np.int64)
    angles = np.array(angle_dims, dtype=np.int64)
    n_keep, n_ang = len(keep), len(angles)

    @numba.cfunc(types.void(ptr, ptr), nopython=True)
    def model_input_c(s, out):
        for k in range(n_keep):
            out[k] = s[keep[k]]
        for j in range(n_ang):
            out[n_keep + j] = math.sin(s[angles[j]])
            out[n_keep + n_ang + j] = math.cos(s[angles[j]])

    @numba.njit
    def batch_reward(actions, next_obs, out):
        for i in range(actions.shape[0]):
            out[i] = user_reward(actions[i], next_obs[i])

    @numba.njit
    def batch_terminated(next_obs, out):
        for i in range(next_obs.shape[0]):
            out[i] = bool(user_terminated(next_obs[i]))

    return CompiledTask(reward_c, terminated_c, model_input_c, batch_reward, batch_terminated)
