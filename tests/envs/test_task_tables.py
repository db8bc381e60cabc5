"""Every table of built-in tasks agrees with the one list (docs/new_task.md).

The C++ tables are derived from csrc/include/mbrlhpo/tasks/builtin.h (ctest test_task_tables checks
them among themselves); here the Python side is checked against them through the bindings: the
names (mbrlhpo.catalog), the Python rows (mbrlhpo.envs.tasks), the gymnasium ids, the native
planner's registry, the CUDA planner's kernels, the native environments and the MJCF files.
"""

import mujoco
import numpy as np
import pytest

from mbrlhpo import _native, catalog
from mbrlhpo.envs import GYM_IDS, TASK_NAMES, get_task

native = pytest.mark.skipif(not _native.available(), reason="native core not built")


def test_python_tables_share_the_catalog_names():
    assert TASK_NAMES == catalog.TASK_NAMES
    assert tuple(GYM_IDS) == catalog.TASK_NAMES
    assert len(set(GYM_IDS.values())) == len(GYM_IDS)


@native
def test_cpp_list_has_the_catalog_names_in_order():
    from mbrlhpo import _core_testing as core

    assert tuple(core.task_names()) == catalog.TASK_NAMES
    assert tuple(row["name"] for row in core.builtin_tasks()) == catalog.TASK_NAMES


@native
@pytest.mark.parametrize("name", catalog.TASK_NAMES)
def test_python_row_matches_cpp_row(name):
    from mbrlhpo import _core_testing

    row = {r["name"]: r for r in _core_testing.builtin_tasks()}[name]
    task = get_task(name)
    assert (task.obs_dim, task.act_dim) == (row["obs_dim"], row["act_dim"])
    np.testing.assert_array_equal(task.action_low, np.float32(-row["action_bound"]))
    np.testing.assert_array_equal(task.action_high, np.float32(row["action_bound"]))
    assert task.steps_per_trial == row["steps_per_trial"]
    assert task.default_trials == row["default_trials"]
    assert task.frame_skip == row["frame_skip"]
    assert task.angle_dims == row["angle_dims"]
    assert task.absolute_target_dims == row["absolute_target_dims"]
    assert task.model_input_dim == row["model_input_dim"]
    # dt = the MJCF's timestep x the frame skip of the C++ row (what the native env steps)
    model = mujoco.MjModel.from_xml_path(task.model_file)
    assert model.nu == row["act_dim"]
    assert task.dt == pytest.approx(model.opt.timestep * row["frame_skip"], rel=1e-12)


@native
@pytest.mark.parametrize("name", catalog.TASK_NAMES)
def test_planner_registry_has_the_task_with_its_dims(name):
    from mbrlhpo import _core_testing

    assert name in _native.core().planner_task_names()
    info = _core_testing.planner_task_info(name)
    task = get_task(name)
    assert (info["obs_dim"], info["act_dim"]) == (task.obs_dim, task.act_dim)
    assert info["model_input_dim"] == task.model_input_dim
    assert info["absolute_target_dims"] == task.absolute_target_dims


@native
def test_cuda_kernels_are_built_for_every_task():
    names = _native.core().cuda_planner_task_names()
    assert set(catalog.TASK_NAMES) <= set(names)


@native
@pytest.mark.parametrize("name", catalog.TASK_NAMES)
def test_native_env_has_the_task_dims(name):
    from mbrlhpo.envs import VecEnv

    env = VecEnv(name, num_envs=1, backend="native")
    try:
        obs, _ = env.reset(seed=0)
        task = get_task(name)
        assert obs.shape == (1, task.obs_dim)
        assert env.single_action_space.shape == (task.act_dim,)
    finally:
        env.close()


@native
def test_an_unknown_task_lists_the_names_of_the_list():
    from mbrlhpo import _core_testing

    with pytest.raises(ValueError, match=", ".join(catalog.TASK_NAMES)):
        _core_testing.task_reward("walker", np.zeros((1, 1)), np.zeros((1, 1)))


def test_catalog_finds_tasks_by_their_title_line(tmp_path):
    """The catalog lists every definition file with a TITLE line, in the order of the names (as
    CMake orders the C++ task headers), and nothing else."""
    (tmp_path / "walker.py").write_text('import numpy\nTITLE = "Walker"\nOBS_DIM = 3\n')
    (tmp_path / "ant.py").write_text("TITLE = 'Ant'\n")
    (tmp_path / "helpers.py").write_text("X = 1  # no TITLE line: not a task\n")
    (tmp_path / "_private.py").write_text('TITLE = "Private"\n')
    (tmp_path / "notes.txt").write_text('TITLE = "Notes"\n')
    (tmp_path / "bee.py").write_text('TITLE = "Bee"\nDEFAULTS_LIKE = "cartpole"\n')
    assert catalog._read_builtin_definitions(str(tmp_path)) == {
        "ant": {"TITLE": "Ant"},
        "bee": {"TITLE": "Bee", "DEFAULTS_LIKE": "cartpole"},
        "walker": {"TITLE": "Walker"},
    }
    (tmp_path / "ant.py").write_text("TITLE = Ant\n")
    with pytest.raises(ValueError, match=r'ant.py: expected one line TITLE = "<Name>"'):
        catalog._read_builtin_definitions(str(tmp_path))


def test_a_task_without_tuning_rows_borrows_them_or_is_refused(monkeypatch):
    """A built-in task added without rows in the tuning tables (agent/hparams.py _PAPER,
    hpo/space.py _TABLES) uses those of its DEFAULTS_LIKE task; without one it is refused."""
    from mbrlhpo.agent import hparams
    from mbrlhpo.hpo import space

    monkeypatch.setattr(hparams, "TASK_NAMES", (*catalog.TASK_NAMES, "walker"))
    with pytest.raises(ValueError, match="built-in task 'walker' has no expert defaults"):
        hparams.default_hparams("walker")
    monkeypatch.setitem(catalog.DEFAULTS_LIKE, "walker", "halfcheetah")
    assert hparams.default_hparams("walker", "quick") == hparams.default_hparams(
        "halfcheetah", "quick"
    )
    assert space.check_env("walker") == "halfcheetah"
    assert space.defaults("walker") == space.defaults("halfcheetah")
