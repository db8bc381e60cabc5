"""Getting the result out: ``Study.best_checkpoint()`` and ``mbrlhpo export`` on a real tiny
study, the policy read back by the C++ model-file loader and planner (through the binding)."""

from __future__ import annotations

import numpy as np
import pytest

from mbrlhpo.agent import PETSAgent
from mbrlhpo.cli import main
from mbrlhpo.envs import native_backend
from mbrlhpo.runner.best import NoBestCheckpoint, best_checkpoint
from mbrlhpo.runner.checkpoints import CheckpointCorrupt
from mbrlhpo.store.sqlite_store import StudyStore
from mbrlhpo.tuning import tune

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2, epochs=3)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    db = tmp_path_factory.mktemp("study") / "rs.db"
    result = tune(
        "cartpole",
        "random",
        population=2,
        trials=1,
        db=db,
        agent_overrides=TINY,
        baseline=False,
        searched=["lr", "weight_decay"],
    )
    return db, result


def test_best_checkpoint_is_the_best_members_last(study):
    db, result = study
    path = result.best_checkpoint()
    assert path == best_checkpoint(db)
    agent = PETSAgent.load(path)
    last = max(t["trial"] for t in result.trials)
    assert agent.trial == last  # trials done: the random one + the MPC ones
    returns = [r.ret for r in agent.history]
    stored = [t["ret"] for t in result.trials if t["member"] == result.best_member]
    assert returns == stored
    agent.close()


@pytest.mark.skipif(not native_backend.available(), reason="native core not built")
def test_export_cli_writes_a_policy_the_cpp_loader_plans_with(study, tmp_path, capsys):
    from mbrlhpo import _native

    db, result = study
    out = tmp_path / "policy.safetensors"
    assert main(["export", "--db", str(db), "--out", str(out)]) == 0
    assert "policy:" in capsys.readouterr().out
    core = _native.core()
    meta, arrays = core.load_model_file(str(out))  # the C++ loader verifies the checksum
    assert meta["task"] == "cartpole"
    agent = PETSAgent.load(result.best_checkpoint())
    np.testing.assert_array_equal(arrays["layer0.weight"], agent.model.planner_weights().weights[0])
    planner = core.FilePlanner(str(out), num_threads=1)
    agent.planner.reset()
    agent.planner.step = 0
    obs = np.array([0.1, -0.2, 0.3, 0.05], np.float32)
    for _ in range(3):
        np.testing.assert_array_equal(planner.act(obs), agent.planner.plan(obs))
    agent.close()


def test_export_bad_input(study, tmp_path, capsys):
    db, _ = study
    assert main(["export", "--db", str(tmp_path / "none.db"), "--out", "p.safetensors"]) != 0
    assert "expected an existing study database" in capsys.readouterr().err
    assert main(["export", "--db", str(db), "--out", str(tmp_path / "p.bin")]) != 0
    assert "expected --out ending in .safetensors" in capsys.readouterr().err


def test_damaged_or_missing_best_checkpoint_is_refused(study, tmp_path):
    import shutil

    db, result = study
    copy_db = tmp_path / "copy.db"
    shutil.copy(db, copy_db)
    sdir = tmp_path / "copy.study"
    shutil.copytree(result.study_dir, sdir)
    path = best_checkpoint(copy_db)
    victim = next(p for p in sorted(path.rglob("*")) if p.is_file() and p.name[0] != ".")
    victim.write_bytes(victim.read_bytes() + b"x")
    with pytest.raises(CheckpointCorrupt, match="expected sha256"):
        best_checkpoint(copy_db)
    shutil.rmtree(path)
    with pytest.raises(CheckpointCorrupt, match="is missing"):
        best_checkpoint(copy_db)
    last = max(t["trial"] for t in result.trials)
    with StudyStore(copy_db) as st:
        st.mark_checkpoints_deleted([(result.best_member, last)])
    with pytest.raises(NoBestCheckpoint, match="was not kept"):
        best_checkpoint(copy_db)


@pytest.mark.slow
@pytest.mark.skipif(not native_backend.available(), reason="native core not built")
def test_hyperband_keeps_and_exports_its_best_job(tmp_path):
    """A real (tiny) Hyperband study: only the best job's final checkpoint survives, and it is
    the one exported."""
    from mbrlhpo import _native

    db = tmp_path / "hb.db"
    result = tune(
        "cartpole",
        "hyperband",
        trials=2,
        budgets=(1, 3),
        hb_iterations=1,
        db=db,
        agent_overrides=TINY,
        baseline=False,
        searched=["lr"],
    )
    ok = [j for j in result.hb_jobs if j["status"] == "ok"]
    assert len(ok) >= 2
    best = min(
        (j for j in ok if j["trials"] == max(j["trials"] for j in ok)),
        key=lambda j: (j["loss"], j["member"]),
    )
    assert result.best_member == best["member"]
    with StudyStore(db, readonly=True) as st:
        live = {(c["member"], c["trial"]) for c in st.checkpoints()}
    assert live == {(best["member"], best["trials"])}
    out = tmp_path / "hb.safetensors"
    assert main(["export", "--db", str(db), "--out", str(out)]) == 0
    agent = PETSAgent.load(result.best_checkpoint())
    _, arrays = _native.core().load_model_file(str(out))
    np.testing.assert_array_equal(arrays["layer0.weight"], agent.model.planner_weights().weights[0])
    agent.close()
