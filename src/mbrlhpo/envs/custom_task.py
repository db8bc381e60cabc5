"""``mbrlhpo.Task``: a user's task, with its reward and termination written in Python.

The task supplies what planning needs (dims, action bounds, model input and target transforms,
reward, termination); any gymnasium environment with a Box action space runs the real rollouts
(``PETSAgent(env, task=...)``). numba compiles the reward and termination
(:mod:`mbrlhpo.envs.task_compiler`); the task is registered with the native CPU planner under
its name, so ``planner_backend="cpu"`` calls the compiled functions directly, without the GIL.
The torch planner evaluates the same compiled functions on the host (a GPU model's states are
copied to the host and back for the reward: the CUDA planner plans built-in tasks only).

A study, a checkpoint and a worker process name a custom task by an importable reference
``"package.module:NAME"`` to a module-level ``Task``: importing it there compiles and registers
the task in that process (docs/custom_task.md).
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from mbrlhpo.envs.task_compiler import CompiledTask, TaskCompileError, compile_task
from mbrlhpo.envs.tasks import TASK_NAMES, TaskSpec

Array = Any  # np.ndarray or torch.Tensor

# Compiled functions by task name, for the life of the process: the native registry points at
# their machine code, and a Task made again from the same definition (unpickled in this
# process, imported twice) reuses them instead of compiling and registering a second copy.
_COMPILED: dict[str, tuple[tuple, CompiledTask]] = {}


def _fingerprint(fn: Callable | None) -> tuple:
    """What identifies a function's definition across pickling: its code and constants, the
    values of its closure cells and of the module globals it reads (a constant array, a helper
    function: numba compiles their values in), recursively."""
    return _identity(fn, set())


def _identity(value: Any, seen: set[int]) -> Any:
    value = getattr(value, "py_func", value)  # a numba dispatcher: its Python function
    if isinstance(value, np.ndarray):  # all of it: repr elides the middle of big arrays
        return ("array", value.dtype.str, value.shape, value.tobytes())
    code = getattr(value, "__code__", None)
    if code is None or not callable(value):
        return repr(value)
    if id(value) in seen:  # recursion: named, not expanded again
        return ("function", value.__module__, value.__qualname__)
    seen.add(id(value))
    cells = tuple(_identity(c.cell_contents, seen) for c in (value.__closure__ or ()))
    space = getattr(value, "__globals__", {})
    names = sorted({n for c in _code_objects(code) for n in c.co_names if n in space})
    # Modules (math, np) are named by the code; their contents are not the definition's.
    read = tuple(
        (n, _identity(space[n], seen)) for n in names if not isinstance(space[n], ModuleType)
    )
    consts = tuple(repr(c) for c in code.co_consts if not hasattr(c, "co_code"))
    inner = tuple(c.co_code for c in _code_objects(code))
    return (value.__module__, value.__qualname__, inner, consts, cells, read)


def _code_objects(code: Any) -> list[Any]:
    """``code`` and the code objects nested in it (comprehensions, inner functions)."""
    out = [code]
    for c in code.co_consts:
        if hasattr(c, "co_code"):
            out.extend(_code_objects(c))
    return out


def _check_dims(name: str, dims: Any, obs_dim: int, what: str) -> tuple[int, ...]:
    try:
        out = tuple(int(d) for d in dims)
    except (TypeError, ValueError):
        raise ValueError(
            f"task {name!r}: expected {what} as a tuple of ints, got {dims!r}"
        ) from None
    if any(not 0 <= d < obs_dim for d in out) or len(set(out)) != len(out):
        raise ValueError(
            f"task {name!r}: expected {what} to be distinct ints in [0, {obs_dim}), got {dims!r}"
        )
    return out


def _bound(name: str, value: Any, act_dim: int, what: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, dtype=np.float32), (act_dim,)).copy()
    if not np.isfinite(arr).all():
        raise ValueError(f"task {name!r}: expected finite {what}, got {value!r}")
    arr.flags.writeable = False
    return arr


class Task:
    """A custom PETS task: what the planner needs, with reward and termination in Python.

    Args:
        name: a new name (not a built-in task's), used by the native planner's registry.
        obs_dim, act_dim: observation and action sizes (O, A).
        action_low, action_high: action bounds, scalars or ``(A,)``.
        reward: ``reward(action (A,), next_obs (O,)) -> float``, plain Python on float32 arrays
            that numba can compile (loops, math, NumPy on small arrays).
        terminated: ``terminated(next_obs (O,)) -> bool`` or None (never terminal). The planner
            adds the reward of the step that terminates and none after.
        angle_dims: obs dims fed to the model as sin/cos (model input ``O + len(angle_dims)``).
        absolute_target_dims: obs dims the model predicts as absolute values (others: deltas).
        steps_per_trial: env steps per trial (episode cap).
        default_trials: trials of a study when none are asked for.
        defaults_like: the built-in task whose expert hyperparameters, search space, Hyperband
            budgets and PBT interval this task starts from (``cartpole`` for a small task,
            ``halfcheetah`` for a locomotion one).
        env: what runs the real rollouts: a gymnasium id (``"InvertedPendulum-v5"``) or a
            function of no arguments that returns a ``gymnasium.Env``; None: an env must be
            passed to ``PETSAgent`` with the task.

    Raises :class:`TaskCompileError` (a ValueError) naming the construct numba cannot compile.
    """

    def __init__(
        self,
        name: str,
        obs_dim: int,
        act_dim: int,
        action_low: Any,
        action_high: Any,
        reward: Callable,
        terminated: Callable | None = None,
        *,
        angle_dims: tuple[int, ...] = (),
        absolute_target_dims: tuple[int, ...] = (),
        steps_per_trial: int = 1000,
        default_trials: int = 100,
        defaults_like: str = "halfcheetah",
        env: str | Callable[[], Any] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"expected a task name made of letters, digits and _, got {name!r}")
        if name in TASK_NAMES:
            raise ValueError(f"task {name!r} is a built-in task; expected a new name")
        for what, v in (
            ("obs_dim", obs_dim),
            ("act_dim", act_dim),
            ("steps_per_trial", steps_per_trial),
            ("default_trials", default_trials),
        ):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"task {name!r}: expected {what} to be an int >= 1, got {v!r}")
        if defaults_like not in TASK_NAMES:
            raise ValueError(
                f"task {name!r}: expected defaults_like in {TASK_NAMES}, got {defaults_like!r}"
            )
        if env is not None and not (isinstance(env, str) or callable(env)):
            raise ValueError(
                f"task {name!r}: expected env to be a gymnasium id or a function returning an "
                f"env, got {type(env).__name__}"
            )
        obs_dim, act_dim = int(obs_dim), int(act_dim)
        low = _bound(name, action_low, act_dim, "action_low")
        high = _bound(name, action_high, act_dim, "action_high")
        if not (low < high).all():
            raise ValueError(f"task {name!r}: expected action_low < action_high, got {low}, {high}")
        angle_dims = _check_dims(name, angle_dims, obs_dim, "angle_dims")
        absolute_target_dims = _check_dims(
            name, absolute_target_dims, obs_dim, "absolute_target_dims"
        )
        self._definition = dict(
            name=name,
            obs_dim=obs_dim,
            act_dim=act_dim,
            action_low=low,
            action_high=high,
            reward=reward,
            terminated=terminated,
            angle_dims=angle_dims,
            absolute_target_dims=absolute_target_dims,
            steps_per_trial=int(steps_per_trial),
            default_trials=int(default_trials),
            defaults_like=defaults_like,
            env=env,
        )
        self.name = name
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.action_low, self.action_high = low, high
        self.angle_dims, self.absolute_target_dims = angle_dims, absolute_target_dims
        self.steps_per_trial, self.default_trials = int(steps_per_trial), int(default_trials)
        self.defaults_like = defaults_like
        self.env = env
        self.ref: str | None = None  # "module:NAME" when loaded by load_task
        # The model input/target transforms are the built-in tasks' (TaskSpec); the array
        # reward and termination are the compiled batch functions.
        self._spec = TaskSpec(
            name=name,
            obs_dim=obs_dim,
            act_dim=act_dim,
            action_low=low,
            action_high=high,
            steps_per_trial=self.steps_per_trial,
            default_trials=self.default_trials,
            frame_skip=1,
            dt=float("nan"),
            model_file="",
            angle_dims=angle_dims,
            absolute_target_dims=absolute_target_dims,
            _reward=self._batch_reward,
            _terminated=self._batch_terminated,
        )
        self._compiled = _compiled(self)
        _register_native(self)

    # ---- what planning needs (the same interface as TaskSpec) ------------------------------
    @property
    def model_input_dim(self) -> int:
        return self.obs_dim + len(self.angle_dims)

    def reward(self, action: Array, next_obs: Array) -> Array:
        """Reward of ``action`` landing in ``next_obs``. ``(..., A), (..., O) -> (...)``."""
        return self._spec.reward(action, next_obs)

    def terminated(self, next_obs: Array) -> Array:
        """Whether ``next_obs`` is terminal. ``(..., O) -> bool (...)``."""
        return self._spec.terminated(next_obs)

    def model_input(self, obs: Array) -> Array:
        return self._spec.model_input(obs)

    def model_target(self, obs: Array, next_obs: Array) -> Array:
        return self._spec.model_target(obs, next_obs)

    def next_obs_from_target(self, obs: Array, target: Array) -> Array:
        return self._spec.next_obs_from_target(obs, target)

    @property
    def native_functions(self) -> tuple[int, int, int]:
        """Addresses of the compiled C functions (reward, terminated, model input)."""
        return self._compiled.addresses

    def make_env(self) -> Any:
        """A new environment from ``env`` (a gymnasium id or a factory)."""
        if self.env is None:
            raise ValueError(
                f"task {self.name!r} names no env: pass env= (a gymnasium id or a function "
                "returning an env) to Task, or an env to PETSAgent"
            )
        if isinstance(self.env, str):
            import gymnasium

            return gymnasium.make(self.env, max_episode_steps=self.steps_per_trial)
        return self.env()

    # ---- host evaluation of the compiled functions on NumPy arrays or torch tensors --------
    def _batch_reward(self, action: Array, next_obs: Array) -> Array:
        a, like = _host(action, self.act_dim)
        s, _ = _host(next_obs, self.obs_dim)
        batch = np.broadcast_shapes(a.shape[:-1], s.shape[:-1])
        a = np.broadcast_to(a, (*batch, self.act_dim)).reshape(-1, self.act_dim)
        s = np.broadcast_to(s, (*batch, self.obs_dim)).reshape(-1, self.obs_dim)
        a, s = np.ascontiguousarray(a), np.ascontiguousarray(s)
        out = np.empty(a.shape[0], dtype=np.float32)
        self._compiled.batch_reward(a, s, out)
        return _back(out.reshape(batch), like)

    def _batch_terminated(self, next_obs: Array) -> Array:
        s, like = _host(next_obs, self.obs_dim)
        batch = s.shape[:-1]
        out = np.empty(int(np.prod(batch, dtype=np.int64)), dtype=np.bool_)
        self._compiled.batch_terminated(np.ascontiguousarray(s.reshape(-1, self.obs_dim)), out)
        return _back(out.reshape(batch), like)

    # ---- pickling: the definition travels, the worker compiles and registers again --------
    def __reduce__(self) -> tuple:
        return (_rebuild, (self._definition, self.ref))

    def __repr__(self) -> str:
        return (
            f"Task({self.name!r}, obs_dim={self.obs_dim}, act_dim={self.act_dim}, "
            f"defaults_like={self.defaults_like!r}, env={self.env!r})"
        )


def _rebuild(definition: dict, ref: str | None) -> Task:
    task = Task(**definition)
    task.ref = ref
    return task


def _host(x: Array, width: int) -> tuple[np.ndarray, Any]:
    """float32 NumPy view/copy of ``x`` and what to convert the result back to."""
    if type(x).__module__.startswith("torch"):
        arr = x.detach().to("cpu").numpy()
        like = x
    else:
        arr, like = np.asarray(x), None
    return arr.astype(np.float32, copy=False), like


def _back(out: np.ndarray, like: Any) -> Array:
    if like is None:
        return out
    import torch

    return torch.from_numpy(out).to(like.device)


def _compiled(task: Task) -> CompiledTask:
    d = task._definition
    key = (
        d["obs_dim"],
        d["act_dim"],
        d["angle_dims"],
        _fingerprint(d["reward"]),
        _fingerprint(d["terminated"]),
    )
    cached = _COMPILED.get(task.name)
    if cached is not None:
        if cached[0] != key:
            raise ValueError(
                f"task {task.name!r} is already defined in this process with a different "
                "definition (dims, angle dims, reward or terminated); expected a new name"
            )
        return cached[1]
    compiled = compile_task(
        task.name, task.obs_dim, task.act_dim, task.angle_dims, d["reward"], d["terminated"]
    )
    _COMPILED[task.name] = (key, compiled)
    return compiled


def _register_native(task: Task) -> None:
    """Adds the task to the native CPU planner's registry (a no-op without the native core)."""
    from mbrlhpo import _native

    if not _native.available():
        return
    reward, terminated, model_input = task.native_functions
    _native.core().register_planner_task(
        task.name,
        task.obs_dim,
        task.act_dim,
        task.model_input_dim,
        list(task.absolute_target_dims),
        reward,
        terminated,
        model_input,
    )


def is_custom(task: Any) -> bool:
    """Whether ``task`` is a user's :class:`Task` (not a built-in TaskSpec)."""
    return isinstance(task, Task)


# Tasks the user named in this process (a ``"module:NAME"`` given to ``load_task``, or a Task
# object passed in), by reference and by name: the only custom tasks a stored file (a
# checkpoint, a study) may name. Loading a file never imports or calls anything itself.
_NAMED: dict[str, Task] = {}

_MODULE_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def name_task(task: Task) -> Task:
    """Records ``task`` as named by the user in this process (a stored file may then name it)."""
    _NAMED[task.name] = task
    if task.ref is not None:
        _NAMED[task.ref] = task
    return task


def _import_hint(module: str, error: ImportError) -> str:
    """What to check when a task's module does not import: where Python looks for it when
    the module itself is missing; that it is the module's own import otherwise."""
    missing = getattr(error, "name", None) if isinstance(error, ModuleNotFoundError) else None
    top = module.split(".")[0]
    if missing == top:
        holding = f"{top}.py" if top == module else f"the package {top}/"
        return f"; is the folder holding {holding} on PYTHONPATH?"
    if missing and missing != module and not module.startswith(f"{missing}."):
        return f"; {module!r} itself imports {missing!r}: is it installed?"
    return ""


def load_task(ref: str) -> Task:
    """The :class:`Task` named by ``"package.module:NAME"`` (importing it registers it): for
    a reference the user gave (``--env``, ``env=``), never one read from a file."""
    module, sep, attr = ref.partition(":") if isinstance(ref, str) else ("", "", "")
    if not sep or not module or not attr:
        raise ValueError(f"expected a task reference 'package.module:NAME', got {ref!r}")
    if not all(_MODULE_PART.fullmatch(p) for p in module.split(".") + attr.split(".")):
        raise ValueError(
            f"task reference {ref!r}: expected 'package.module:NAME' made of Python "
            "identifiers joined by dots (a module, not a file path)"
        )
    try:
        obj = importlib.import_module(module)
    except ImportError as e:
        raise ValueError(
            f"task reference {ref!r}: cannot import {module!r} ({e}){_import_hint(module, e)}"
        ) from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"task reference {ref!r}: {module!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    # A factory written in Python is called; a builtin (``os:system``) is never.
    if inspect.isfunction(obj):
        obj = obj()
    if not isinstance(obj, Task):
        raise ValueError(
            f"task reference {ref!r}: expected a mbrlhpo.Task (or a Python function "
            f"returning one), got {type(obj).__name__}"
        )
    obj.ref = ref
    return name_task(obj)


def _imported_task(ref: str) -> Task | None:
    """The Task instance at ``ref`` if its module is already imported (by the user's code),
    found by attribute lookup alone: nothing is imported or called."""
    module, sep, attr = ref.partition(":")
    obj = sys.modules.get(module) if sep else None
    for part in attr.split(".") if obj is not None else ():
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, Task) else None


def stored_task(stored: str, where: str, given: Task | str | None = None) -> Task | str:
    """The task a stored file names (``stored``: a built-in name, a custom task's name or its
    ``"package.module:NAME"``), without importing or calling anything: a built-in name comes
    back as it is; a custom task must be ``given`` by the caller (a Task or the same
    reference) or named by the user earlier in this process, else ValueError saying how to
    pass it. ``where``: the file, for the message."""
    if stored in TASK_NAMES:
        return stored
    if isinstance(given, Task) and stored in (given.ref, given.name):
        return name_task(given)
    if isinstance(given, str) and given == stored:
        return load_task(given)
    if stored in _NAMED:
        return _NAMED[stored]
    imported = _imported_task(stored)
    if imported is not None:
        imported.ref = stored
        return name_task(imported)
    if ":" in stored:
        how = f"pass env={stored!r} (or the Task object)"
    else:
        how = "pass env= (and task=) with the Task object"
    raise ValueError(
        f"{where} names the custom task {stored!r}: a stored file never imports code by "
        f"itself; {how} to load it"
    )


__all__ = ["Task", "TaskCompileError", "is_custom", "load_task", "name_task", "stored_task"]
