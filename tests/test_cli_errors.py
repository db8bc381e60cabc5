"""Issue 12, bad input: the CLI's errors are one line on stderr with a non-zero exit, nothing is
written before the input is checked, and a person watching sees what the study is doing."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys

import pytest

from mbrlhpo.catalog import TASK_NAMES
from mbrlhpo.cli import main
from mbrlhpo.cli_errors import EXIT_ERROR, EXIT_INTERRUPTED, report
from mbrlhpo.hpo.space import defaults, param_table
from mbrlhpo.runner.spec import StudySpec
from mbrlhpo.runner.study import run_study, study_dir_for
from mbrlhpo.runner.testing import quadratic_factory
from mbrlhpo.store.sqlite_store import StoreError

TINY = ["--set", "hidden=16", "--set", "depth=2", "--set", "particles=5"]


def tune_argv(db, *extra):
    return [
        "tune",
        "--env",
        "cartpole",
        "--method",
        "random",
        "--population",
        "2",
        "--trials",
        "2",
        "--db",
        str(db),
        "--no-baseline",
        *extra,
    ]


def one_line_error(capsys, argv) -> str:
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == EXIT_ERROR, err
    assert err.startswith("mbrlhpo: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


# 8 ------------------------------------------------------------------------------------------
def test_huge_particles_are_refused_before_anything_is_written(tmp_path, capsys):
    db = tmp_path / "runs" / "s.db"
    err = one_line_error(capsys, tune_argv(db, "--set", "particles=1000000000"))
    assert "particles=1000000000: the planners and models would need about" in err and "GiB" in err
    assert not (tmp_path / "runs").exists()


def test_a_study_whose_members_all_failed_says_so_and_exits_non_zero(tmp_path, capsys, monkeypatch):
    db = tmp_path / "f.db"
    study = run_study(
        StudySpec(
            method="random",
            space=param_table("cartpole", "model"),
            trials=2,
            population=2,
            base_config=defaults("cartpole", "planning"),
        ),
        lambda hp, seed: quadratic_factory(fail={0: (1,)})(hp, 0),
        db,
    )
    assert study.best_member is None and len(study.failures) == 2
    import mbrlhpo.tuning

    monkeypatch.setattr(mbrlhpo.tuning, "run_spec", lambda *a, **kw: study)
    err = one_line_error(capsys, tune_argv(tmp_path / "other.db"))
    assert "every member of the study failed (2 failed trials" in err


# 9 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "extra, message",
    [
        (["--population", "1000000"], "population (members): expected an integer from 1 to 1000"),
        (["--trials", "0"], "trials: expected an integer from 1"),
    ],
)
def test_absurd_study_sizes_are_refused(tmp_path, capsys, extra, message):
    db = tmp_path / "s.db"
    assert message in one_line_error(capsys, tune_argv(db) + extra)
    assert not db.exists()


def test_zero_hyperband_iterations_are_refused(tmp_path, capsys):
    argv = [
        "tune",
        "--env",
        "cartpole",
        "--method",
        "hyperband",
        "--hb-iterations",
        "0",
        "--db",
        str(tmp_path / "h.db"),
    ]
    assert "hb_iterations: expected an integer from 1" in one_line_error(capsys, argv)


# 11 -----------------------------------------------------------------------------------------
def test_an_unknown_setting_leaves_no_database_behind(tmp_path, capsys):
    db = tmp_path / "s.db"
    assert "foo" in one_line_error(capsys, tune_argv(db, "--set", "foo=3"))
    assert not db.exists() and not study_dir_for(db).exists()


@pytest.mark.parametrize("what", ["directory", "random bytes", "foreign sqlite", "busy"])
def test_unusable_databases_are_one_line(tmp_path, capsys, what):
    db = tmp_path / "s.db"
    holder = None
    if what == "directory":
        db.mkdir()
    elif what == "random bytes":
        db.write_bytes(os.urandom(8192))
    elif what == "foreign sqlite":
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE t (x)")
        con.commit()
        con.close()
    else:
        from mbrlhpo.store.sqlite_store import StudyStore

        holder = StudyStore(db)
    try:
        err = one_line_error(capsys, tune_argv(db, *TINY))
    finally:
        if holder is not None:
            holder.close()
    assert str(db) in err


def test_reusing_a_db_with_other_settings_names_the_difference(tmp_path, capsys):
    db = tmp_path / "s.db"
    run_study(
        StudySpec(
            method="random",
            space=param_table("cartpole", "model"),
            trials=2,
            population=2,
            base_config=defaults("cartpole", "planning"),
            task="cartpole",
        ),
        quadratic_factory(),
        db,
    )
    err = one_line_error(capsys, tune_argv(db, *TINY))
    assert "holds a different study: settings." in err and len(err) < 400


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a GPU is present")
def test_cuda_without_a_gpu_is_one_line(tmp_path, capsys):
    err = one_line_error(capsys, tune_argv(tmp_path / "s.db", "--device", "cuda"))
    assert "no CUDA GPU" in err and not (tmp_path / "s.db").exists()


def test_a_truncated_baseline_names_its_file(tmp_path):
    from mbrlhpo.tuning import run_baseline

    db = tmp_path / "s.db"
    path = study_dir_for(db) / "baseline.json"
    path.parent.mkdir()
    path.write_text('{"key": {"env": "cartp')
    with pytest.raises(ValueError, match=f"{path} is damaged"):
        run_baseline("cartpole", "quick", 2, 0, db, "cpu", "auto")


def test_report_without_matplotlib_writes_nothing(tmp_path, capsys, monkeypatch):
    db = tmp_path / "s.db"
    run_study(
        StudySpec(
            method="random",
            space=param_table("cartpole", "model"),
            trials=2,
            population=2,
            base_config=defaults("cartpole", "planning"),
        ),
        quadratic_factory(),
        db,
    )
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = tmp_path / "report"
    err = one_line_error(capsys, ["report", "--db", str(db), "--out", str(out)])
    assert "need matplotlib" in err and "--no-plots" in err and not out.exists()


def test_known_errors_and_interrupts(capsys, monkeypatch):
    full = OSError(errno.ENOSPC, "No space left on device")
    full.filename = "runs/s.study/x"
    assert report(full) == EXIT_ERROR
    assert "disk is full writing runs/s.study/x" in capsys.readouterr().err
    assert report(sqlite3.OperationalError("database or disk is full")) == EXIT_ERROR
    assert report(StoreError("a\nb")) == EXIT_ERROR
    assert capsys.readouterr().err.count("\n") == 2
    assert report(KeyboardInterrupt()) == EXIT_INTERRUPTED
    assert "run the same command again to resume" in capsys.readouterr().err
    with pytest.raises(ZeroDivisionError):  # a bug keeps its traceback
        report(ZeroDivisionError("x"))
    with pytest.raises(ValueError):
        report(ValueError("x"), debug=True)
    monkeypatch.setenv("MBRLHPO_DEBUG", "1")
    with pytest.raises(ValueError):
        report(ValueError("x"))


# 14 -----------------------------------------------------------------------------------------
def test_tune_help_shows_defaults_and_choices(capsys):
    with pytest.raises(SystemExit):
        main(["tune", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert ",".join(TASK_NAMES) in out and "cartpole,halfcheetah" in out
    assert "random,hyperband,bohb,pbt,pbt-bt" in out
    assert "(default: quick)" in out and "default 40" in out
    assert "not CEM's population" in out


def test_a_resumed_run_says_so(tmp_path):
    from mbrlhpo.cli_tune import resume_line

    db = tmp_path / "s.db"
    assert resume_line(tmp_path / "missing" / "s.db").startswith("creating the directory")
    assert resume_line(db) == "new study"
    run_study(
        StudySpec(
            method="random",
            space=param_table("cartpole", "model"),
            trials=3,
            population=2,
            base_config=defaults("cartpole", "planning"),
        ),
        quadratic_factory(),
        db,
    )
    # 1 random + 3 MPC trials: finished (issue 12 point 14: not "resuming after round 4").
    assert resume_line(db) == "the study is already finished (8 trials stored); its results:"

    def stop_after_round_2(r):
        if r == 2:
            raise KeyboardInterrupt

    db = tmp_path / "killed.db"
    with pytest.raises(KeyboardInterrupt):
        run_study(
            StudySpec(
                method="random",
                space=param_table("cartpole", "model"),
                trials=3,
                population=2,
                base_config=defaults("cartpole", "planning"),
            ),
            quadratic_factory(),
            db,
            on_round=stop_after_round_2,
        )
    assert resume_line(db) == "resuming after round 2 (4 trials stored)"


def test_the_run_of_the_defaults_reports_progress(tmp_path):
    from mbrlhpo.tuning import run_baseline

    seen = []
    tiny = {
        "hidden": 16,
        "depth": 2,
        "particles": 5,
        "population": 10,
        "horizon": 3,
        "iterations": 1,
    }
    run_baseline(
        "cartpole",
        "quick",
        2,
        0,
        tmp_path / "s.db",
        "cpu",
        "auto",
        overrides=tiny,
        on_trial=lambda t, n: seen.append((t, n)),
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]  # the random trial plus 2 MPC trials


# issue 24 item 4 / issue 28 items 4 and 6: answered at parse time, one line, nothing made ----
def usage_error(capsys, argv) -> str:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2, err
    assert err.count("\n") == 1 and "usage:" not in err, err  # not argparse's usage block
    assert err.startswith("mbrlhpo tune: error: ") and "(see `mbrlhpo tune --help`)" in err
    return err


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--device", "banana"], "expected a torch device (cpu, cuda, cuda:N, mps or xpu)"),
        (["--planner", "gpu"], "invalid choice: 'gpu' (choose from 'auto', 'cpu', 'torch'"),
        (["--seed", "1.5"], "argument --seed: invalid int value: '1.5'"),
    ],
)
def test_bad_values_are_one_usage_line_and_create_nothing(tmp_path, capsys, extra, expected):
    db = tmp_path / "runs" / "s.db"
    assert expected in usage_error(capsys, tune_argv(db, *extra))
    assert not (tmp_path / "runs").exists()


def test_the_cuda_planner_without_a_gpu_is_one_line_before_anything_is_made(tmp_path, capsys):
    from mbrlhpo import _native

    if _native.available() and _native.cuda_available():
        pytest.skip("this machine can run the CUDA planner")
    db = tmp_path / "runs" / "s.db"
    err = one_line_error(capsys, tune_argv(db, "--planner", "cuda"))
    assert "backend 'cuda' needs" in err and "use backend 'cpu' or 'torch'" in err
    assert capsys.readouterr().out == ""  # not even the "creating the directory" line
    assert not (tmp_path / "runs").exists()


# issue 24 item 4: sizes and task references refused before any line is printed or file made --
def refused_before_anything(capsys, tmp_path, argv) -> str:
    """The one error line, with nothing on stdout before it and nothing created."""
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == EXIT_ERROR and out == "", (out, err)
    assert err.startswith("mbrlhpo: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "runs").exists()
    return err.removeprefix("mbrlhpo: error: ").rstrip("\n")


def test_a_deep_model_is_refused_by_the_memory_estimate(tmp_path, capsys):
    db = tmp_path / "runs" / "s.db"
    err = refused_before_anything(capsys, tmp_path, tune_argv(db, "--set", "depth=1000000"))
    assert err.startswith(
        "depth=1000000: the planners and models would need about 775 GiB (2 agent(s) x 387 GiB: "
        "the planner 165 KiB for CEM population 60 x particles 5, the model 387 GiB for 5 x "
        "depth 1000000 x hidden 64), more than 50% of this machine's "
    ), err


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--range", "epochs=1:1000000000"],
            "epochs: expected a search range with a top of at most 10000, got 1000000000",
        ),
        (
            ["--group", "planning", "--set", "epochs=1000000000"],
            "epochs=1000000000: expected at most 10000",
        ),
        (
            ["--group", "model", "--range", "epochs=1:5", "--set", "iterations=5000"],
            "iterations=5000: expected at most 1000",
        ),
        (
            ["--method", "hyperband", "--budgets", "1", "1000000000"],
            "max_budget: expected at most 100000 trials (the trial limit), got 1e+09",
        ),
        (  # an end no agent takes: refused here, not in the trial of a member drawn there
            ["--group", "planning", "--range", "horizon=0:10"],
            "horizon: expected a search range of values the agent accepts, got [0, 10] "
            "(expected horizon to be an int >= 1, got 0)",
        ),
    ],
)
def test_sizes_above_the_limits_are_one_line_before_anything(tmp_path, capsys, argv, message):
    db = tmp_path / "runs" / "s.db"
    args = tune_argv(db, *TINY, *argv)
    if "--method" in argv:  # the later --method wins: drop random's population
        i = args.index("--population")
        del args[i : i + 2]
    assert refused_before_anything(capsys, tmp_path, args) == message


@pytest.mark.parametrize(
    "env, message",
    [
        (
            "os:system",
            "task reference 'os:system': expected a mbrlhpo.Task (or a Python function "
            "returning one), got builtin_function_or_method",
        ),
        (
            "../../etc:passwd",
            "task reference '../../etc:passwd': expected 'package.module:NAME' made of Python "
            "identifiers joined by dots (a module, not a file path)",
        ),
    ],
)
def test_a_task_reference_that_is_no_task_prints_nothing_before_its_error(
    tmp_path, capsys, env, message
):
    argv = tune_argv(tmp_path / "runs" / "s.db")
    argv[argv.index("cartpole")] = env
    assert refused_before_anything(capsys, tmp_path, argv) == message


def test_a_database_whose_folder_belongs_to_another_study_creates_nothing(tmp_path, capsys):
    """``x.db`` and ``x.sqlite`` share ``x.study/``: the second is refused before a line is
    printed or a file (the database, its WAL, lock or ledger) is made."""
    run_study(
        StudySpec(
            method="random",
            space=param_table("cartpole", "model"),
            trials=2,
            population=2,
            base_config=defaults("cartpole", "planning"),
            task="cartpole",
        ),
        quadratic_factory(),
        tmp_path / "x.db",
    )
    before = sorted(p.name for p in tmp_path.iterdir())
    rc = main(tune_argv(tmp_path / "x.sqlite", *TINY))
    out, err = capsys.readouterr()
    assert rc == EXIT_ERROR and out == "", out
    assert err.startswith(f"mbrlhpo: error: the checkpoint folder {tmp_path / 'x.study'} belongs")
    assert err.rstrip().endswith("give this study a database with another name")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--trials", "0"], "trials: expected an integer from 1 to 100000"),
        (["--set", "nope=3"], "unknown hyperparameters ['nope']"),
        (["--set", "depth=1000000"], "depth=1000000: the planners and models would need"),
        (["--set", "horizon=1000000"], "horizon=1000000: expected at most 10000"),
    ],
)
def test_bad_values_are_answered_before_torch_or_configspace_load(tmp_path, extra, message):
    """Issue 28: a bad value gets its line at once; the heavy imports (torch ~1 s, ConfigSpace
    with SciPy ~0.7 s) come only after every setting passed. Checked by what was imported, in a
    fresh process (not by a timing)."""
    db = tmp_path / "runs" / "s.db"
    code = (
        "import sys; from mbrlhpo.cli import main; "
        f"rc = main({[*tune_argv(db), *extra]!r}); "
        "print(rc, 'torch' in sys.modules, 'ConfigSpace' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.stdout.split() == [str(EXIT_ERROR), "False", "False"], proc.stderr
    assert proc.stderr.startswith(f"mbrlhpo: error: {message}"), proc.stderr
    assert not (tmp_path / "runs").exists()
