"""The hpbandster driver: runs the ladder, keeps values plain, never hangs, says when missing."""

import subprocess
import sys

import pytest

from mbrlhpo.hpo.hyperband import HyperbandSettings, hyperband_ladder, ladder_trials
from mbrlhpo.hpo.space import ENV_NAMES, defaults, param_table, to_plain
from mbrlhpo.runner.hpbandster_driver import (
    HyperbandStalled,
    configuration_space,
    run_hpbandster,
)


@pytest.mark.parametrize("env", ENV_NAMES)
def test_the_configuration_space_is_the_study_space(env):
    """ConfigSpace's space (made only here) has the ParamSpecs' names, order, ranges, scales
    and defaults; its samples come back as plain values inside the ranges."""
    specs = param_table(env, "joint")
    cs = configuration_space(specs, seed=3)
    assert list(cs.keys()) == list(specs)
    for name, s in specs.items():
        hp = cs[name]
        assert (float(hp.lower), float(hp.upper), bool(hp.log)) == (s.low, s.high, s.log)
    assert to_plain(cs.get_default_configuration(), specs) == defaults(env)
    for _ in range(20):
        d = to_plain(cs.sample_configuration(), specs)
        assert all(type(v) is (int if specs[k].integer else float) for k, v in d.items())


def test_run_small_and_plain_values():
    specs = param_table("pusher", "model")
    seen = []

    def evaluate(job):
        seen.append(job)
        assert all(type(v) in (int, float) for v in job.config.values())
        assert type(job.budget) is float and type(job.index) is int
        return -job.config["lr"] * job.trials

    jobs = run_hpbandster(
        "hyperband", specs, evaluate, HyperbandSettings(3, 27, n_iterations=3), seed=0
    )
    assert (
        len(jobs)
        == len(seen)
        == sum(s.n_configs for it in hyperband_ladder(3, 27, 3, 3) for s in it)
    )
    assert sum(j.trials for j in jobs) == ladder_trials(hyperband_ladder(3, 27, 3, 3))


def test_dead_transport_raises_instead_of_hanging():
    specs = param_table("pusher", "model")
    with pytest.raises(HyperbandStalled, match="no progress"):
        # NumPy budgets make Pyro4's serializer fail silently: the watchdog must fire.
        run_hpbandster(
            "hyperband",
            specs,
            lambda job: 0.0,
            HyperbandSettings(3, 27, n_iterations=1, stall_timeout=2),
            seed=0,
            _plain_transport=False,
        )


def test_evaluate_error_aborts():
    specs = param_table("pusher", "model")

    def evaluate(job):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        run_hpbandster(
            "hyperband", specs, evaluate, HyperbandSettings(3, 27, n_iterations=1), seed=0
        )


HIDE_HPBANDSTER = "import sys; sys.modules['hpbandster'] = None\n"  # as if not installed


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", HIDE_HPBANDSTER + code], capture_output=True, text=True, timeout=120
    )


def test_missing_hpbandster_is_one_clear_line(tmp_path):
    db = tmp_path / "s.db"
    out = _python(
        "from mbrlhpo.hpo.hyperband import HyperbandSettings\n"
        "from mbrlhpo.hpo.space import ENV_NAMES, defaults, param_table, to_plain\n"
        "from mbrlhpo.runner.spec import StudySpec\n"
        "from mbrlhpo.runner.study import run_study\n"
        "from mbrlhpo.runner.testing import quadratic_factory\n"
        "spec = StudySpec(method='bohb', space=param_table('pusher', 'model'), trials=2,\n"
        "                 hyperband=HyperbandSettings(1, 3))\n"
        "try:\n"
        f"    run_study(spec, quadratic_factory(), {str(db)!r})\n"
        "except ImportError as e:\n"
        "    print('ERR', e)\n"
    )
    assert out.returncode == 0, out.stderr
    line = out.stdout.strip()
    assert line.startswith("ERR method 'bohb' needs hpbandster") and "\n" not in line
    assert "pip install 'mbrlhpo[hyperband]'" in line
    assert not db.exists()  # refused before the study is created


def test_missing_hpbandster_in_the_cli(tmp_path):
    code = (
        "from mbrlhpo.cli import main\n"
        f"raise SystemExit(main(['tune', '--env', 'pusher', '--method', 'hyperband',"
        f" '--db', {str(tmp_path / 's.db')!r}]))\n"
    )
    out = _python(code)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs hpbandster" in lines[0], out.stderr


@pytest.mark.parametrize("method", ["random", "pbt", "pbt-bt"])
def test_population_methods_never_import_hpbandster(tmp_path, method):
    out = _python(
        "from mbrlhpo.hpo.space import ENV_NAMES, defaults, param_table, to_plain\n"
        "from mbrlhpo.runner.spec import StudySpec\n"
        "from mbrlhpo.runner.study import run_study\n"
        "from mbrlhpo.runner.testing import quadratic_factory\n"
        f"spec = StudySpec(method={method!r}, space=param_table('pusher', 'model'), trials=2,\n"
        "                 population=3)\n"
        f"s = run_study(spec, quadratic_factory(), {str(tmp_path / 's.db')!r})\n"
        "assert 'hpbandster' not in [m.split('.')[0] for m in sys.modules if sys.modules[m]]\n"
        "print(len(s.trials))\n"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "9"
