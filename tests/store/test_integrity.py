"""Issue 12, data integrity: stored settings, one writer, one folder per database, model
divergence recorded, checksummed rows, foreign databases refused, stray checkpoint files."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import struct
import subprocess
import sys

import pytest

from mbrlhpo.hpo.pbt import PBTSettings
from mbrlhpo.hpo.space import defaults, param_table
from mbrlhpo.runner.checkpoints import CheckpointCorrupt, CheckpointDir
from mbrlhpo.runner.spec import AgentSettings, StudySpec
from mbrlhpo.runner.study import MODEL_DIVERGED, run_study, study_dir_for
from mbrlhpo.runner.testing import QuadraticMember, quadratic_factory
from mbrlhpo.store.sqlite_store import StoreError, StudyLocked, StudyStore

SPACE = param_table("cartpole", "model")
BASE = defaults("cartpole", "planning")


def small_pbt(db, trials=4, factory=None, agent=None, **kw):
    spec = StudySpec(
        method="pbt",
        space=SPACE,
        trials=trials,
        population=4,
        seed=0,
        base_config=BASE,
        pbt=PBTSettings(interval=2),
        agent=agent,
    )
    return run_study(spec, factory or quadratic_factory(), db, **kw)


# 1 ------------------------------------------------------------------------------------------
def test_resume_with_a_changed_fixed_setting_is_refused_and_names_it(tmp_path):
    db = tmp_path / "s.db"
    small_pbt(db, trials=2, agent=AgentSettings("quick", fixed={"hidden": 64}))
    with pytest.raises(StoreError, match=r"agent\.fixed\.hidden is 64 there, 32 in this run"):
        small_pbt(db, trials=2, agent=AgentSettings("quick", fixed={"hidden": 32}))
    with pytest.raises(StoreError, match=r"agent\.profile is 'quick' there, 'paper'"):
        small_pbt(db, trials=2, agent=AgentSettings("paper", fixed={"hidden": 64}))
    # the study itself is untouched and resumes with its own settings
    s = small_pbt(db, trials=2, agent=AgentSettings("quick", fixed={"hidden": 64}))
    assert len(s.trials) == 4 * (1 + 2)  # a random first trial plus 2 MPC trials each


def test_tune_stores_profile_and_fixed_agent_settings(tmp_path, monkeypatch):
    import mbrlhpo.tuning as tuning

    seen = {}
    monkeypatch.setattr(tuning, "run_study", lambda spec, *a, **kw: seen.update(spec=spec))
    tuning.tune(
        "cartpole",
        "pbt",
        db=tmp_path / "t.db",
        baseline=False,
        agent_overrides={"hidden": 32},
        profile="quick",
    )
    assert seen["spec"].record()["agent"] == {
        "profile": "quick",
        "defaults": "table",
        "group": "model",
        "fixed": {"hidden": 32},
    }


# 2 ------------------------------------------------------------------------------------------
HOLDER = """
import sys, time
from mbrlhpo.store.sqlite_store import StudyStore
st = StudyStore(sys.argv[1])
print("ready", flush=True)
time.sleep(60)
"""


def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
    db = tmp_path / "s.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, env=env
    )
    try:
        assert proc.stdout.readline().strip() == b"ready"
        with pytest.raises(StudyLocked, match=f"in use by process {proc.pid} on "):
            small_pbt(db)
        with StudyStore(db, readonly=True) as ro:  # readers are welcome
            assert ro.study() is None
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    assert len(small_pbt(db).trials) == 4 * (1 + 4)  # the lock dies with its holder


def test_one_writer_per_store_in_one_process(tmp_path):
    with StudyStore(tmp_path / "s.db"):
        with pytest.raises(StudyLocked, match="one process writes a study at a time"):
            StudyStore(tmp_path / "s.db")
    StudyStore(tmp_path / "s.db").close()


# 3 ------------------------------------------------------------------------------------------
def test_two_databases_cannot_share_a_checkpoint_folder(tmp_path):
    first = small_pbt(tmp_path / "x.db")
    files = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(StoreError, match="belongs to another study .*this database is new"):
        small_pbt(tmp_path / "x.sqlite")
    assert sorted(p.name for p in tmp_path.iterdir()) == files  # refused before any file
    with StudyStore(tmp_path / "x.db") as st:
        refs = st.checkpoints()
    ckpt = CheckpointDir(study_dir_for(tmp_path / "x.db") / "checkpoints")
    for ref in refs:  # x.db's checkpoints are intact
        ckpt.load(QuadraticMember, ref["path"], ref["sha256"])
    assert small_pbt(tmp_path / "x.db").trials == first.trials


# 4 ------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Result:
    ret: float
    wall_time: float
    diverged: bool = False
    model_diverged: bool = False


class _ModelDiverges(QuadraticMember):
    def run_trial(self):
        r = super().run_trial()
        return _Result(r.ret, r.wall_time, r.diverged, model_diverged=self.trial % 2 == 0)


def test_model_divergence_is_stored_and_counted(tmp_path):
    s = run_study(
        StudySpec(method="random", space=SPACE, trials=4, population=3, seed=0, base_config=BASE),
        lambda hp, seed: _ModelDiverges(hp, seed),
        tmp_path / "r.db",
    )
    assert len(s.model_divergences) == 3 * 2
    assert {(t["trial"], t["status"], t["cause"]) for t in s.model_divergences} == {
        (2, "ok", MODEL_DIVERGED),
        (4, "ok", MODEL_DIVERGED),
    }
    with StudyStore(tmp_path / "r.db", readonly=True) as st:
        assert len(st.events(["note"])) == 6


# 5 ------------------------------------------------------------------------------------------
def _flip_lowest_bit(x: float) -> float:
    (bits,) = struct.unpack("<q", struct.pack("<d", x))
    return struct.unpack("<d", struct.pack("<q", bits ^ 1))[0]


def test_a_flipped_bit_in_a_stored_return_is_reported(tmp_path):
    db = tmp_path / "s.db"
    small_pbt(db)
    con = sqlite3.connect(db)
    (ret,) = con.execute("SELECT ret FROM trials WHERE member = 2 AND trial = 3").fetchone()
    con.execute(
        "UPDATE trials SET ret = ? WHERE member = 2 AND trial = 3", (_flip_lowest_bit(ret),)
    )
    con.commit()
    con.close()
    for opener in (lambda: StudyStore(db), lambda: StudyStore(db, readonly=True)):
        with pytest.raises(StoreError, match=r"trials row \[2, 3\] was changed"):
            opener()
    with pytest.raises(StoreError, match="damaged or was edited"):
        small_pbt(db)


def test_deleted_and_added_rows_are_reported(tmp_path):
    db = tmp_path / "s.db"
    small_pbt(db)
    con = sqlite3.connect(db)
    # the first PBT decision follows trial 3 (the random trial plus interval 2)
    con.execute("DELETE FROM scores WHERE round = 3 AND member = 1")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match=r"scores row \[3, 1\] is missing"):
        StudyStore(db)
    con = sqlite3.connect(db)
    con.execute("INSERT INTO scores VALUES (3, 1, 5.0)")
    con.execute("INSERT INTO trials VALUES (0, 99, 1.0, 0.1, 'ok', NULL, 0.0)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="has no checksum"):
        StudyStore(db)


def test_a_flipped_byte_in_the_events_page_is_reported(tmp_path):
    db = tmp_path / "s.db"
    small_pbt(db)
    data = bytearray(db.read_bytes())
    assert not os.path.exists(str(db) + "-wal") or os.path.getsize(str(db) + "-wal") == 0
    i = data.index(b"round_done")
    data[i] ^= 0x04  # 'r' -> 'v'
    db.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="damaged"):
        small_pbt(db)


# 6 ------------------------------------------------------------------------------------------
def test_a_foreign_sqlite_database_is_refused_untouched(tmp_path):
    db = tmp_path / "app.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO customers VALUES (1, 'ada')")
    con.commit()
    con.close()
    before = db.read_bytes()
    for opener in (
        lambda: StudyStore(db),
        lambda: StudyStore(db, readonly=True),
        lambda: small_pbt(db),
    ):
        with pytest.raises(StoreError, match="not an mbrlhpo study database"):
            opener()
    assert db.read_bytes() == before
    assert not os.path.exists(str(db) + "-wal")
    assert not study_dir_for(db).exists()


@pytest.mark.parametrize("what", ["random bytes", "directory", "missing directory"])
def test_unusable_db_paths_give_a_store_error(tmp_path, what):
    db = tmp_path / "s.db"
    if what == "random bytes":
        db.write_bytes(os.urandom(4096))
    elif what == "directory":
        db.mkdir()
    else:
        db = tmp_path / "nope" / "s.db"
    with pytest.raises(StoreError, match=r"not a database|is a directory|does not exist"):
        StudyStore(db)


def test_readers_never_write(tmp_path):
    db = tmp_path / "s.db"
    with pytest.raises(StoreError, match="no study database"):
        StudyStore(db, readonly=True)
    assert not db.exists()
    small_pbt(db)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(str(db) + suffix):
            os.remove(str(db) + suffix)  # as if copied from elsewhere / read-only storage
    before = db.read_bytes()
    db.chmod(0o444)
    try:
        with StudyStore(db, readonly=True) as st:
            assert len(st.trials()) == 4 * (1 + 4)
            with pytest.raises(StoreError, match="read-only"):
                st.record_event("x")
    finally:
        db.chmod(0o644)
    assert db.read_bytes() == before


def test_a_version_1_study_is_upgraded_and_sealed(tmp_path):
    db = tmp_path / "s.db"
    small_pbt(db)
    con = sqlite3.connect(db)
    con.execute("DELETE FROM sums")
    con.execute("DELETE FROM meta WHERE key = 'study_id'")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with StudyStore(db) as st:
        assert st.schema_version == 2 and st.study_id
    StudyStore(db, readonly=True).close()


# 7 ------------------------------------------------------------------------------------------
def test_a_stray_file_in_a_checkpoint_is_ignored_but_changes_are_not(tmp_path):
    ckpt = CheckpointDir(tmp_path / "c")
    m = QuadraticMember({"lr": 1e-3}, 0)
    m.run_trial()
    rel, sha, _ = ckpt.save(m, 0, 1)
    (tmp_path / "c" / rel / ".DS_Store").write_bytes(b"junk")
    (tmp_path / "c" / rel / "notes").mkdir()
    (tmp_path / "c" / rel / "notes" / "x.txt").write_text("mine")
    assert ckpt.load(QuadraticMember, rel, sha).trial == 1
    (tmp_path / "c" / rel / "state.json").write_text("{}")
    with pytest.raises(CheckpointCorrupt, match="expected sha256"):
        ckpt.load(QuadraticMember, rel, sha)
    (tmp_path / "c" / rel / "state.json").unlink()
    with pytest.raises(CheckpointCorrupt, match="state.json is missing"):
        ckpt.load(QuadraticMember, rel, sha)


def test_a_stray_file_does_not_break_a_resume(tmp_path):
    db = tmp_path / "s.db"
    first = small_pbt(db)
    with StudyStore(db) as st:
        refs = st.checkpoints()
    root = study_dir_for(db) / "checkpoints"
    for ref in refs:
        (root / ref["path"] / "Thumbs.db").write_bytes(b"x")
    assert refs and small_pbt(db).trials == first.trials  # resuming loads every kept one


def test_a_new_study_refuses_a_folder_with_another_studys_files(tmp_path):
    sdir = study_dir_for(tmp_path / "s.db")
    (sdir / "checkpoints" / "m0000").mkdir(parents=True)
    (sdir / "checkpoints" / "m0000" / "x").write_text("old")
    with pytest.raises(StoreError, match="already holds files of an unknown study"):
        small_pbt(tmp_path / "s.db")
