"""Fuzz-and-kill: random SIGKILLs, concurrent writers, corrupted bytes and changed settings on
resume, against one invariant: a study either continues to exactly the results of an
uninterrupted run, or stops with a one-line error naming the problem; a completed trial is
never lost.

Each scenario runs ``MBRLHPO_FUZZ_CASES`` seeded cases (default 1, about a minute in all on 2
cores; e.g. ``MBRLHPO_FUZZ_CASES=25`` for a long run). Cases are reproducible from their seed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mbrlhpo.runner.study import study_dir_for
from mbrlhpo.store.commit_ledger import read_ledger
from mbrlhpo.store.sqlite_store import StudyStore

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import fuzz_study  # noqa: E402

CASES = int(os.environ.get("MBRLHPO_FUZZ_CASES", "1"))
SLEEP = 0.02  # seconds per toy trial: something for a kill to interrupt
# Every member runs the random first trial plus `trials` MPC trials (docs/hpo.md, budget).
TOTAL = (1 + fuzz_study.STUDY["trials"]) * fuzz_study.STUDY["population"]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def fingerprint(db: Path) -> dict:
    """Everything a study's result consists of (times excluded)."""
    with StudyStore(db, readonly=True) as st:
        return {
            "trials": [
                (t["member"], t["trial"], t["ret"], t["status"], t["cause"]) for t in st.trials()
            ],
            "schedule": st.schedule(),
            "lineage": [
                {
                    k: e[k]
                    for k in (
                        "round",
                        "kind",
                        "src",
                        "src_round",
                        "dst",
                        "old_config",
                        "new_config",
                    )
                }
                for e in st.lineage()
            ],
            "scores": st.scores(),
        }


def completed(db: Path) -> dict:
    """The stored trials, read with plain sqlite3 (works mid-run): (member, trial) -> row."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            rows = con.execute("SELECT member, trial, ret, status FROM trials").fetchall()
        finally:
            con.close()
    except sqlite3.Error:
        return {}
    return {(m, t): (r, s) for m, t, r, s in rows}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    db = tmp_path_factory.mktemp("ref") / "ref.db"
    fuzz_study.run(str(db), 0.0)
    return fingerprint(db)


def start(db: Path, changes: dict | None = None) -> subprocess.Popen:
    argv = [sys.executable, str(HERE / "fuzz_study.py"), str(db), str(SLEEP)]
    if changes:
        argv.append(json.dumps(changes))
    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err


def assert_one_line(err: str, *names: str) -> None:
    assert err.startswith("mbrlhpo: error: ") and err.count("\n") == 1, err
    assert any(n in err for n in names), err


def kill_after(db: Path, rng: np.random.Generator, before: dict) -> bool:
    """Runs the study and SIGKILLs it after a random number of stored trials plus a random
    delay; True if it finished first. Checks that no completed trial was lost or changed."""
    proc = start(db)
    at = len(before) + int(rng.integers(1, TOTAL // 2))
    while proc.poll() is None and len(completed(db)) < at:
        time.sleep(0.01)
    time.sleep(float(rng.uniform(0, 0.1)))
    done = proc.poll() is not None
    if not done:
        os.kill(proc.pid, signal.SIGKILL)
    rc, err = finish(proc)
    assert done is False or rc == 0, err
    after = completed(db)
    assert {k: after.get(k) for k in before} == before  # nothing lost, nothing rewritten
    return done


def run_to_the_end(db: Path) -> None:
    rc, err = finish(start(db))
    assert rc == 0, err


def kill_partway(db: Path, rng: np.random.Generator) -> None:
    """Runs the study into a random moment (killed), or to its end when it is that fast."""
    kill_after(db, rng, {})


@pytest.mark.parametrize("case", range(CASES))
def test_random_kills_resume_exactly(tmp_path, reference, case):
    rng = np.random.default_rng([12, 1, case])
    db = tmp_path / "s.db"
    kills = 2 if CASES == 1 else int(rng.integers(1, 8))
    for _ in range(kills):
        if kill_after(db, rng, completed(db)):
            break
    else:
        run_to_the_end(db)
    assert fingerprint(db) == reference
    assert len(completed(db)) == TOTAL


@pytest.mark.parametrize("case", range(CASES))
def test_concurrent_writers_one_wins(tmp_path, reference, case):
    db = tmp_path / "s.db"
    if case % 2:  # also a study that already exists
        kill_partway(db, np.random.default_rng([12, 2, case]))
    procs = [start(db) for _ in range(2)]
    results = [finish(p) for p in procs]
    for rc, err in results:
        assert rc == 0 or (rc == 2 and "is in use by " in err), err
        if rc:
            assert_one_line(err, "is in use by ")
    if all(rc for rc, _ in results):
        pytest.fail("no writer ran")
    run_to_the_end(db)
    assert fingerprint(db) == reference


def _flip(path: Path, rng: np.random.Generator) -> tuple[int, int]:
    data = bytearray(path.read_bytes())
    i = int(rng.integers(0, len(data)))
    bit = 1 << int(rng.integers(0, 8))
    data[i] ^= bit
    path.write_bytes(bytes(data))
    return i, bit


@pytest.mark.parametrize("target", ["database", "checkpoint"])
@pytest.mark.parametrize("case", range(CASES))
def test_corrupted_bytes_are_caught_or_harmless(tmp_path, reference, case, target):
    rng = np.random.default_rng([12, 3, case, target == "database"])
    db = tmp_path / "s.db"
    kill_partway(db, rng)
    if CASES > 1 and rng.random() < 0.5:  # a finished study, or a killed one
        run_to_the_end(db)
    saved = tmp_path / "saved"
    shutil.copytree(db.parent, saved, ignore=shutil.ignore_patterns("saved"))
    if target == "database":
        victim = db
    else:
        with StudyStore(db, readonly=True) as st:
            refs = st.checkpoints()
        folder = study_dir_for(db) / "checkpoints" / refs[int(rng.integers(len(refs)))]["path"]
        files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name[0] != ".")
        victim = files[int(rng.integers(len(files)))]
    where = _flip(victim, rng)
    rc, err = finish(start(db))
    if rc == 0:  # the flip was harmless (unused bytes): the study went on exactly
        assert fingerprint(db) == reference, (victim, where)
    else:
        assert rc == 2, err
        assert_one_line(err, "damaged", "not a database", "checkpoint", "database failed")
        # put the good bytes back: nothing was lost
        shutil.rmtree(db.parent / "s.study")
        for p in saved.iterdir():
            dst = db.parent / p.name
            if p.is_dir():
                shutil.copytree(p, dst)
            else:
                shutil.copy2(p, dst)
        run_to_the_end(db)
        assert fingerprint(db) == reference


CHANGES = [
    ({"trials": 10}, "settings.trials is 8 there, 10"),
    ({"population": 5}, "settings.population is 4 there, 5"),
    ({"seed": 4}, "seed is 3 there, 4"),
    ({"interval": 4}, "settings.pbt.interval is 2 there, 4"),
    ({"hidden": 32}, "settings.fixed.agent.hidden is 64 there, 32"),
]


@pytest.mark.parametrize("case", range(CASES))
def test_changed_settings_on_resume_are_refused(tmp_path, reference, case):
    rng = np.random.default_rng([12, 4, case])
    db = tmp_path / "s.db"
    kill_partway(db, rng)
    before = completed(db)
    for i in rng.permutation(len(CHANGES))[: 1 if CASES == 1 else len(CHANGES)]:
        change, message = CHANGES[i]
        rc, err = finish(start(db, change))
        assert rc == 2, err
        assert_one_line(err, message)
        assert completed(db) == before
    run_to_the_end(db)
    assert fingerprint(db) == reference


def test_ctrl_c_says_how_to_resume_and_loses_nothing(tmp_path, reference):
    db = tmp_path / "s.db"
    proc = start(db)
    while proc.poll() is None and len(completed(db)) < TOTAL // 3:
        time.sleep(0.01)
    before = completed(db)
    proc.send_signal(signal.SIGINT)
    rc, err = finish(proc)
    if rc != 0:  # (a fast machine may have finished first)
        assert rc == 130, err
        assert err.strip() == (
            "mbrlhpo: interrupted; finished trials are stored: run the same command again to resume"
        )
    assert {k: completed(db)[k] for k in before} == before
    run_to_the_end(db)
    assert fingerprint(db) == reference


def ledgered(db: Path) -> dict:
    """The trials the commit ledger records as committed (the first ``ledger.trials`` rows in
    the order they were stored): the ones a damaged WAL must not lose silently. A kill between
    a COMMIT and its ledger write leaves that last transaction unrecorded; if the damage drops
    it, the resume recomputes it (the test's reference comparison proves nothing changed)."""
    ledger = read_ledger(str(db))
    if ledger is None:
        return {}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        sql = "SELECT member, trial, ret, status FROM trials ORDER BY rowid"
        rows = con.execute(sql).fetchall()
    finally:
        con.close()
    return {(m, t): (r, s) for m, t, r, s in rows[: ledger.trials]}


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
@pytest.mark.parametrize("case", range(CASES))
def test_a_damaged_wal_after_a_kill_loses_no_committed_trial(tmp_path, reference, case, damage):
    """Issue 24, item 1: the WAL of a killed study holds at most the transaction in flight
    (the store empties it after every commit, and records the commit in its ledger after
    that), so a byte flipped or a cut at a random offset, or the WAL deleted, loses no trial
    the ledger records: the resume ends exactly as an uninterrupted run. Where a reader kept
    the last checkpoint from running, the ledger names the loss in one line instead."""
    rng = np.random.default_rng([12, 6, case, ["flip", "truncate", "delete"].index(damage)])
    db = tmp_path / "s.db"
    kill_partway(db, rng)
    protected = ledgered(db)
    wal = Path(f"{db}-wal")
    if wal.is_file():
        data = bytearray(wal.read_bytes())
        if damage == "delete" or not data:
            wal.unlink()
        elif damage == "flip":
            data[int(rng.integers(0, len(data)))] ^= 1 << int(rng.integers(0, 8))
            wal.write_bytes(bytes(data))
        else:
            wal.write_bytes(bytes(data[: int(rng.integers(0, len(data)))]))
    Path(f"{db}-shm").unlink(missing_ok=True)  # as after a reboot: the WAL is read afresh
    survived = completed(db)
    if any(survived.get(k) != v for k, v in protected.items()):
        rc, err = finish(start(db))
        assert rc == 2, err
        assert_one_line(err, "lost committed transactions")
        assert f"records {len(protected)} trials" in err, err
        return
    run_to_the_end(db)
    assert fingerprint(db) == reference


@pytest.mark.parametrize("case", range(CASES))
def test_kills_while_the_study_is_created_never_block_it(tmp_path, reference, case):
    """Issue 24, item 3: SIGKILLs at random moments right after the writer's lock appears
    (the database being created, the study folder claimed): every rerun starts or resumes
    the study, which ends exactly as an uninterrupted run, with no temporary file left."""
    rng = np.random.default_rng([12, 7, case])
    db = tmp_path / "s.db"
    for _ in range(3 if CASES == 1 else int(rng.integers(1, 6))):
        proc = start(db)
        while proc.poll() is None and not Path(f"{db}.lock").exists():
            time.sleep(0.0005)
        time.sleep(float(rng.uniform(0, 0.03)))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        finish(proc)
        Path(f"{db}.lock").unlink(missing_ok=True)  # so the next run's appearance is seen
    run_to_the_end(db)
    assert fingerprint(db) == reference
    leftovers = [p.name for p in tmp_path.rglob("*") if "creating" in p.name or ".tmp" in p.name]
    assert leftovers == []


BLOCK_IN_RENAME = """import os, sys, time
sys.path.insert(0, sys.argv[3])
import fuzz_study
calls, rename = [0], os.replace
def replace(src, dst):  # the K-th atomic write stops between its temporary file and rename
    calls[0] += 1
    if calls[0] == int(sys.argv[2]):
        print(src, flush=True)
        time.sleep(600)
    rename(src, dst)
os.replace = replace
fuzz_study.run(sys.argv[1], 0.0)
"""


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if ".tmp" in p.name)


@pytest.mark.parametrize("case", range(CASES))
def test_a_kill_between_a_write_and_its_rename_leaves_no_temporary_file(tmp_path, reference, case):
    """Issue 24, item 4's leftovers: SIGKILLs inside the window of random atomic writes (a
    member's checkpoint, the study folder's owner file, the commit ledger) leave their
    temporary file; the resume removes every one and ends exactly as an uninterrupted run."""
    rng = np.random.default_rng([12, 8, case])
    db = tmp_path / "s.db"
    for _ in range(2 if CASES == 1 else int(rng.integers(1, 5))):
        at = str(int(rng.integers(1, 3 * TOTAL)))
        argv = [sys.executable, "-c", BLOCK_IN_RENAME, str(db), at, str(HERE)]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=ENV)
        blocked = proc.stdout.readline().strip()
        if blocked:
            os.kill(proc.pid, signal.SIGKILL)
            assert Path(blocked).name in temp_files(tmp_path)  # the window was hit
        proc.communicate(timeout=300)
    run_to_the_end(db)
    assert fingerprint(db) == reference
    assert temp_files(tmp_path) == []  # the study folder's and the ledger's (s.db.commits.tmp)


# Issue 24, item 2: code in data. A checkpoint or a study whose stored task names code
# ("os:abort", or "evilmod:TASK" with an evilmod.py beside it and importable) is crafted with
# every checksum recomputed, as a deliberate edit would; loading, exporting, reporting,
# evaluating or resuming it never imports or calls that code: one line, the process alive.
EVIL = """import pathlib
pathlib.Path(__file__).with_name("MARKER").write_text("imported")
def TASK():
    pathlib.Path(__file__).with_name("MARKER").write_text("called")
"""
PETS_STUDY = """import sys
from mbrlhpo.cli_errors import report
from mbrlhpo.tuning import tune
TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)
try:
    tune("cartpole", "pbt", population=2, trials=1, db=sys.argv[1], pbt_interval=1,
         agent_overrides=TINY, space_overrides={"epochs": (1, 2)}, baseline=False)
except Exception as exc:
    sys.exit(report(exc))
"""
LOAD = """import sys
from mbrlhpo import PETSAgent
from mbrlhpo.cli_errors import report
try:
    PETSAgent.load(sys.argv[1])
except Exception as exc:
    sys.exit(report(exc))
"""


def run_in(folder: Path, *argv: str) -> tuple[int, str]:
    """Runs ``argv`` with ``folder`` as its working directory (first on ``sys.path``, so a
    module there is importable by name, as an attacker's file beside the data would be)."""
    proc = subprocess.run(
        [sys.executable, *argv], cwd=folder, capture_output=True, text=True, env=ENV, timeout=300
    )
    return proc.returncode, proc.stderr


def craft_checkpoint(file: Path, env: str) -> None:
    """Rewrites a PETS checkpoint to name ``env``, with its hash recomputed."""
    from mbrlhpo.agent.checkpoint import read_checkpoint, write_checkpoint
    from mbrlhpo.agent.pets_agent import CHECKPOINT_KIND

    arrays, meta = read_checkpoint(file, CHECKPOINT_KIND)
    write_checkpoint(file, arrays, {**meta, "env": env}, CHECKPOINT_KIND)


def craft_study(db: Path, env: str) -> None:
    """Makes the closed study ``db`` name ``env`` in its settings and in every live checkpoint,
    resealing each changed row (its checksum, the checkpoint's sha256) as an editor could."""
    from mbrlhpo.runner.checkpoints import MANIFEST, dir_sha256
    from mbrlhpo.store.sqlite_store import _row_key, _row_sha

    root = study_dir_for(db) / "checkpoints"
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        with con:
            (settings,) = con.execute("SELECT settings FROM study").fetchone()
            con.execute(
                "UPDATE study SET settings = ?", (json.dumps({**json.loads(settings), "env": env}),)
            )
            rows = con.execute("SELECT * FROM checkpoints WHERE deleted = 0").fetchall()
            for r in rows:
                folder = root / r["path"]
                craft_checkpoint(folder / "agent.safetensors", env)
                files = (folder / MANIFEST).read_text().split()
                sha, _ = dir_sha256(folder, files)
                con.execute(
                    "UPDATE checkpoints SET sha256 = ? WHERE member = ? AND trial = ?",
                    (sha, r["member"], r["trial"]),
                )
            for table, where in (("study", "id = 1"), ("checkpoints", "deleted = 0")):
                for row in con.execute(f"SELECT * FROM {table} WHERE {where}").fetchall():
                    con.execute(
                        "INSERT OR REPLACE INTO sums VALUES (?, ?, ?)",
                        (table, _row_key(table, row), _row_sha(row)),
                    )
    finally:
        con.close()
    for folder in [db.parent, *(root / r["path"] for r in rows)]:
        (folder / "evilmod.py").write_text(EVIL)


@pytest.fixture(scope="module")
def pets_study(tmp_path_factory):
    """A finished two-member PBT study of real (tiny) PETS agents on cartpole."""
    folder = tmp_path_factory.mktemp("pets")
    rc, err = run_in(folder, "-c", PETS_STUDY, "s.db")
    assert rc == 0, err
    return folder


def refusal(env: str) -> str:
    return f"names the custom task {env!r}: a stored file never imports code by itself"


@pytest.mark.slow
@pytest.mark.parametrize("env", ["os:abort", "evilmod:TASK"])
def test_a_crafted_env_in_a_checkpoint_runs_no_code(tmp_path, pets_study, env):
    folder = tmp_path / "ckpt"
    shutil.copytree(next((pets_study / "s.study" / "checkpoints").glob("m*/t*")), folder)
    craft_checkpoint(folder / "agent.safetensors", env)
    (folder / "evilmod.py").write_text(EVIL)
    rc, err = run_in(folder, "-c", LOAD, str(folder))
    assert rc == 2, err  # alive: os.abort would end it with SIGABRT (-6)
    assert_one_line(err, refusal(env))
    assert f"pass env={env!r}" in err, err
    assert not (folder / "MARKER").exists()


@pytest.mark.slow
@pytest.mark.parametrize("env", ["os:abort", "evilmod:TASK"])
def test_a_crafted_env_in_a_study_runs_no_code(tmp_path, pets_study, env):
    shutil.copytree(pets_study, tmp_path / "s", ignore=shutil.ignore_patterns("*.lock"))
    db = tmp_path / "s" / "s.db"
    craft_study(db, env)
    cwd = db.parent
    # export loads the best checkpoint: refused before any task is imported
    rc, err = run_in(cwd, "-m", "mbrlhpo", "export", "--db", "s.db", "--out", "p.safetensors")
    assert rc == 2, err
    assert_one_line(err, refusal(env))
    assert not (cwd / "p.safetensors").exists()
    # report reads rows only: it runs, naming the task as text
    rc, err = run_in(cwd, "-m", "mbrlhpo", "report", "--db", "s.db", "--out", "rep", "--no-plots")
    assert rc == 0, err
    # evaluate rebuilds agents from the stored task: only a built-in name is taken from a file
    rc, err = run_in(cwd, "-m", "mbrlhpo", "evaluate", "--db", "s.db", "--seeds", "1")
    assert rc == 2, err
    assert_one_line(err, f"unknown task {env!r}; expected one of")
    # a resume with the user's own task is refused: the study names another
    rc, err = run_in(cwd, "-c", PETS_STUDY, "s.db")
    assert rc == 2, err
    assert_one_line(err, f"settings.env is {env!r} there, 'cartpole' in this run")
    assert list(tmp_path.rglob("MARKER")) == []
