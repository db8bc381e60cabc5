"""mbrlhpo.Task: numba-compiled reward/termination against the built-in task's NumPy/torch
definitions, clear errors for what numba cannot compile, registration in this process and in
worker processes."""

import multiprocessing
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("numba")

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
sys.path.insert(0, str(HELPERS))
import custom_tasks  # noqa: E402

import mbrlhpo  # noqa: E402
from mbrlhpo import _native  # noqa: E402
from mbrlhpo.envs import Task, TaskCompileError, get_task, load_task  # noqa: E402

HC = get_task("halfcheetah")


def _batch(seed: int, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 0.7, (*shape, HC.act_dim)).astype(np.float32)
    s = rng.normal(0, 1.0, (*shape, HC.obs_dim)).astype(np.float32)
    return a, s


def test_compiled_reward_and_transforms_match_the_builtin_task():
    task = custom_tasks.CHEETAH
    a, s = _batch(0, (4, 33))
    np.testing.assert_allclose(task.reward(a, s), HC.reward(a, s), rtol=1e-6, atol=1e-6)
    got = task.reward(torch.from_numpy(a), torch.from_numpy(s))
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32 and got.shape == (4, 33)
    np.testing.assert_allclose(got.numpy(), HC.reward(a, s), rtol=1e-6, atol=1e-6)
    assert not task.terminated(s).any() and task.terminated(s).shape == (4, 33)
    np.testing.assert_array_equal(task.model_input(s), HC.model_input(s))
    assert task.model_input_dim == HC.model_input_dim
    np.testing.assert_array_equal(task.model_target(s[0], s[1]), HC.model_target(s[0], s[1]))


def test_termination_is_compiled():
    task = custom_tasks.CHEETAH_TERMINATING
    _, s = _batch(1, (50,))
    np.testing.assert_array_equal(task.terminated(s), np.abs(s[:, 1]) > 0.5)
    t = task.terminated(torch.from_numpy(s))
    assert t.dtype == torch.bool and t.numpy().tolist() == (np.abs(s[:, 1]) > 0.5).tolist()


def test_native_functions_are_c_functions_of_the_table():
    """The addresses the planner calls: the same numbers as the array functions."""
    import ctypes

    task = custom_tasks.CHEETAH_TERMINATING
    reward_fn, term_fn, input_fn = task.native_functions
    reward = ctypes.CFUNCTYPE(ctypes.c_float, ctypes.c_void_p, ctypes.c_void_p)(reward_fn)
    term = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)(term_fn)
    model_input = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)(input_fn)
    a, s = _batch(2, (20,))
    for i in range(20):
        assert reward(a[i].ctypes.data, s[i].ctypes.data) == task.reward(a[i], s[i])
        assert term(s[i].ctypes.data) == int(abs(s[i, 1]) > 0.5)
        out = np.zeros(HC.model_input_dim, np.float32)
        model_input(s[i].ctypes.data, out.ctypes.data)
        np.testing.assert_allclose(out, HC.model_input(s[i]), rtol=1e-6, atol=1e-7)


@pytest.mark.skipif(not _native.available(), reason="native core not built")
def test_registered_with_the_native_planner():
    names = _native.core().planner_task_names()
    assert "py_cheetah" in names and "py_cheetah_terminating" in names


def _uses_os(action, next_obs):
    import os

    return float(os.getpid())


def _returns_array(action, next_obs):
    return action * 2.0


def _helper(x):
    return x * 2.0


def _calls_plain_helper(action, next_obs):
    return _helper(next_obs[0])


@pytest.mark.parametrize(
    "fn, words",
    [
        (_uses_os, ["_uses_os", "test_custom_task.py", "IMPORT_NAME"]),
        (_returns_array, ["_returns_array", "to return a number", "got array("]),
        (_calls_plain_helper, ["_calls_plain_helper", "_helper", "@numba.njit"]),
    ],
)
def test_what_numba_cannot_compile_is_one_clear_error(fn, words):
    with pytest.raises(TaskCompileError) as info:
        Task(f"bad_{fn.__name__.strip('_')}", 3, 1, -1, 1, fn)
    message = str(info.value)
    assert message.startswith(f"task 'bad_{fn.__name__.strip('_')}': ")
    for w in words:
        assert w in message, message
    assert "During:" not in message and "Failed in" not in message


def test_bad_definitions_are_refused():
    r = custom_tasks.cheetah_reward
    with pytest.raises(ValueError, match="'halfcheetah' is a built-in task"):
        Task("halfcheetah", 18, 6, -1, 1, r)
    with pytest.raises(ValueError, match="expected obs_dim to be an int >= 1, got 0"):
        Task("t_bad", 0, 6, -1, 1, r)
    with pytest.raises(ValueError, match=r"expected angle_dims to be distinct ints in \[0, 18\)"):
        Task("t_bad", 18, 6, -1, 1, r, angle_dims=(18,))
    with pytest.raises(ValueError, match="expected action_low < action_high"):
        Task("t_bad", 18, 6, 1, -1, r)
    with pytest.raises(ValueError, match="expected defaults_like in"):
        Task("t_bad", 18, 6, -1, 1, r, defaults_like="pendulum")
    with pytest.raises(ValueError, match="with a different definition"):
        Task("py_cheetah", 18, 6, -1, 1, _helper2)


def _helper2(action, next_obs):
    return next_obs[0]


def test_the_same_definition_again_reuses_the_compiled_task():
    again = pickle.loads(pickle.dumps(custom_tasks.CHEETAH))
    assert again.native_functions == custom_tasks.CHEETAH.native_functions
    ref = load_task("custom_tasks:CHEETAH")
    assert ref is custom_tasks.CHEETAH and ref.ref == "custom_tasks:CHEETAH"
    with pytest.raises(ValueError, match="expected a task reference 'package.module:NAME'"):
        load_task("custom_tasks")
    with pytest.raises(ValueError, match="has no attribute 'NOPE'"):
        load_task("custom_tasks:NOPE")


def test_a_module_that_does_not_import_gets_a_hint_at_where_to_look(tmp_path, monkeypatch):
    # Not found: where Python looks (the folder on PYTHONPATH); found but its own import
    # fails: that import, not the path.
    with pytest.raises(ValueError) as missing:
        load_task("mymod_not_on_path:TASK")
    assert str(missing.value) == (
        "task reference 'mymod_not_on_path:TASK': cannot import 'mymod_not_on_path' (No module "
        "named 'mymod_not_on_path'); is the folder holding mymod_not_on_path.py on PYTHONPATH?"
    )
    with pytest.raises(ValueError, match=r"holding the package nopkg_xyz/ on PYTHONPATH\?$"):
        load_task("nopkg_xyz.tasks:TASK")
    (tmp_path / "needs_a_dep.py").write_text("import a_dependency_not_installed_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError) as dep:
        load_task("needs_a_dep:TASK")
    assert str(dep.value).endswith(
        "'needs_a_dep' itself imports 'a_dependency_not_installed_xyz': is it installed?"
    )
    assert "PYTHONPATH" not in str(dep.value) and "\n" not in str(dep.value)


@pytest.mark.slow
@pytest.mark.skipif(not _native.available(), reason="native core not built")
def test_a_worker_process_registers_the_task_from_its_definition():
    from mbrlhpo.models import DynamicsModel
    from mbrlhpo.planning import CEMConfig, CEMPlanner

    ctx = multiprocessing.get_context("spawn")  # nothing inherited: the worker compiles anew
    with ctx.Pool(1, initializer=sys.path.insert, initargs=(0, str(HELPERS))) as pool:
        names, action = pool.apply(
            custom_tasks.plan_in_worker, (pickle.dumps(custom_tasks.CHEETAH),)
        )
    assert "py_cheetah" in names
    task = custom_tasks.CHEETAH
    model = DynamicsModel(task, ensemble_size=2, hidden=16, depth=2, seed=0)
    cfg = CEMConfig(horizon=3, population=16, iterations=2, particles=2)
    here = CEMPlanner(task, model, cfg, backend="cpu", seed=3).plan(np.zeros(18, np.float32))
    np.testing.assert_array_equal(np.asarray(action, np.float32), here)


def test_public_names():
    assert mbrlhpo.Task is Task and mbrlhpo.TaskCompileError is TaskCompileError


def _reward_reading(goal):
    """The same code, module and name each time, reading another module-level GOAL."""
    space = {"__name__": "goal_tasks"}
    exec("def reward(action, next_obs):\n    return next_obs[0] - GOAL[0]\n", space)
    space["GOAL"] = goal
    return space["reward"]


def test_a_definition_differing_only_in_a_global_it_reads_is_a_different_definition():
    # A big array: its repr elides the middle, where the two goals differ.
    goal = np.zeros(2000, dtype=np.float32)
    other = goal.copy()
    other[1000] = 1.0
    Task("t_goal", 18, 6, -1, 1, _reward_reading(goal))
    Task("t_goal", 18, 6, -1, 1, _reward_reading(goal.copy()))  # equal values: reused
    with pytest.raises(ValueError, match="with a different definition"):
        Task("t_goal", 18, 6, -1, 1, _reward_reading(other))
