"""The names the README and the issues promise are importable where they say."""

import subprocess
import sys

import mbrlhpo


def test_top_level_names():
    for name in (
        "make_env",
        "get_task",
        "VecEnv",
        "PETSAgent",
        "PETSHparams",
        "TrialResult",
        "CEMConfig",
        "CEMPlanner",
        "export_agent",
        "tune",
        "bench",
        "Study",
    ):
        assert getattr(mbrlhpo, name) is not None, name
    assert callable(mbrlhpo.tune) and mbrlhpo.tune.__module__ == "mbrlhpo.tuning"


def test_layer_packages():
    import mbrlhpo.hpo
    import mbrlhpo.runner
    import mbrlhpo.store

    space = mbrlhpo.hpo.param_table("halfcheetah", group="planning")
    assert list(space) == ["alpha", "elite_ratio", "horizon", "iterations", "population"]
    assert all(isinstance(s, mbrlhpo.hpo.ParamSpec) for s in space.values())
    assert not hasattr(mbrlhpo.hpo, "search_space")  # ConfigSpace is the hpbandster driver's
    assert mbrlhpo.hpo.defaults("pusher", "model")["weight_decay"] == 4e-4
    assert "pbt-bt" in mbrlhpo.runner.METHODS
    assert mbrlhpo.store.StudyStore is not None


def test_import_mbrlhpo_loads_no_torch():
    code = "import sys, mbrlhpo; mbrlhpo.__version__; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_readme_subpackage_paths_work_in_a_fresh_interpreter():
    code = (
        "import mbrlhpo; mbrlhpo.envs.VecEnv; mbrlhpo.planning.CEMPlanner; "
        "mbrlhpo.hpo.param_table; mbrlhpo.store.StudyStore; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
