import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mbrlhpo.hpo.hyperband import HyperbandSettings, hyperband_ladder, ladder_trials
from mbrlhpo.hpo.pbt import PBTSettings
from mbrlhpo.hpo.pbt_bt import PBTBTSettings
from mbrlhpo.hpo.space import defaults, param_table
from mbrlhpo.runner.spec import StudySpec
from mbrlhpo.runner.study import run_study, study_dir_for
from mbrlhpo.runner.testing import QuadraticMember, quadratic_factory
from mbrlhpo.store.sqlite_store import StudyStore

SPACE = param_table("cartpole", "model")
BASE = defaults("cartpole", "planning")
HERE = Path(__file__).parent


def load_ckpt(db, member, trial):
    with StudyStore(db) as st:
        ref = st.checkpoint(member, trial)
    return QuadraticMember.load(study_dir_for(db) / "checkpoints" / ref["path"])


def test_random_search_budget_and_failures(tmp_path):
    db = tmp_path / "rs.db"
    s = run_study(
        StudySpec(method="random", space=SPACE, trials=6, population=5, seed=0, base_config=BASE),
        quadratic_factory(fail={1: (3,)}),
        db,
    )
    by_m = {}
    for t in s.trials:
        by_m.setdefault(t["member"], []).append(t)
    assert len(by_m[1]) == 3 and by_m[1][-1]["status"] == "failed"
    assert "injected failure at trial 3" in by_m[1][-1]["cause"]
    assert all(len(by_m[m]) == 7 for m in (0, 2, 3, 4))  # the random trial + 6 MPC trials
    assert len(s.trials) == 4 * 7 + 3
    assert s.best_member != 1 and math.isfinite(s.best_score)
    assert all(r["config"] == s.best_config for r in s.best_schedule)
    assert {k: s.best_config[k] for k in BASE} == BASE
    assert s.top5_curve[0]["n"] == 5 and s.top5_curve[-1]["n"] == 4


@pytest.mark.parametrize("copy", ["all", "hparams"])
def test_pbt_exploit_copies_state(tmp_path, copy):
    """copy="all": the destination continues from the source's weights and buffer;
    copy="hparams" (the paper's no-copy-history ablation): it keeps its own weights, optimiser
    state and buffer and only takes the (explored) hyperparameters."""
    db = tmp_path / "pbt.db"
    s = run_study(
        StudySpec(
            method="pbt",
            space=SPACE,
            trials=8,
            population=10,
            seed=1,
            base_config=BASE,
            pbt=PBTSettings(interval=2, copy=copy),
            keep_all_checkpoints=True,
        ),
        quadratic_factory(),
        db,
    )
    exploits = [e for e in s.lineage if e["kind"] == "exploit"]
    explores = {(e["round"], e["dst"]): e for e in s.lineage if e["kind"] == "explore"}
    assert len(exploits) == 3 * 2  # after trials 3, 5, 7 (of 9); 2 of 10 members each
    sched = {(r["member"], r["trial"]): r["config"] for r in s.schedule}
    for e in exploits:
        r, src, dst = e["round"], e["src"], e["dst"]
        after = load_ckpt(db, dst, r + 1)
        source = load_ckpt(db, src, r)
        own = load_ckpt(db, dst, r)
        want = source.buffer if copy == "all" else own.buffer
        np.testing.assert_array_equal(after.buffer[:r], want)
        assert sched[(dst, r + 1)] == explores[(r, dst)]["new_config"]
        assert explores[(r, dst)]["old_config"] == sched[(src, r)]
        # weights continue from the source's (copy="all") or the member's own
        replay = load_ckpt(db, src if copy == "all" else dst, r)
        replay.set_hparams(sched[(dst, r + 1)])
        replay.run_trial()
        np.testing.assert_allclose(after.weights, replay.weights)
    assert len(s.best_schedule) == 9


def test_budget_is_one_random_trial_plus_the_mpc_trials(tmp_path):
    """The paper's code: a PBT study of n trials runs 1 + n (301 for 300), deciding after
    trials 1 + interval, 1 + 2 interval, ... (6, 11, ...), never after the last."""
    db = tmp_path / "pbt.db"
    s = run_study(
        StudySpec(
            method="pbt",
            space=SPACE,
            trials=20,
            population=5,
            seed=0,
            base_config=BASE,
            pbt=PBTSettings(interval=5),
        ),
        quadratic_factory(),
        db,
    )
    assert len(s.trials) == 5 * 21 and max(t["trial"] for t in s.trials) == 21
    assert sorted({e["round"] for e in s.lineage}) == [6, 11, 16]
    with StudyStore(db) as st:
        assert sorted({x["round"] for x in st.scores()}) == [6, 11, 16]


def test_pbt_replaces_failed_member(tmp_path):
    db = tmp_path / "pbt.db"
    s = run_study(
        StudySpec(
            method="pbt",
            space=SPACE,
            trials=8,
            population=6,
            seed=0,
            base_config=BASE,
            pbt=PBTSettings(interval=4),
        ),
        quadratic_factory(fail={4: (3,)}),
        db,
    )
    assert [(f["member"], f["trial"]) for f in s.failures] == [(4, 3)]
    rep = [e for e in s.lineage if e["kind"] == "replace_failed"]
    assert len(rep) == 1 and rep[0]["dst"] == 4 and rep[0]["round"] == 3
    assert len(s.trials) == 6 * 9  # the replaced member goes on


def test_pbt_bt_backtracking_restores(tmp_path):
    db = tmp_path / "bt.db"
    s = run_study(
        StudySpec(
            method="pbt-bt",
            space=SPACE,
            trials=12,
            population=8,
            seed=2,
            base_config=BASE,
            pbt=PBTBTSettings(interval=2, backtrack_every=2, tolerance=0.0),
            keep_all_checkpoints=True,
        ),
        quadratic_factory(diverge_lr=0.02),
        db,
    )
    bts = [e for e in s.lineage if e["kind"] == "backtrack"]
    assert bts, "expected some backtracking"
    sched = {(r["member"], r["trial"]): r["config"] for r in s.schedule}
    with StudyStore(db) as st:
        scores = st.scores()
    status = {(t["member"], t["trial"]): t["status"] for t in s.trials}
    checked = 0
    for e in bts:
        r, dst = e["round"], e["dst"]
        elite = load_ckpt(db, e["src"], e["src_round"])
        if status[(dst, r + 1)] != "ok":  # diverged again after restoring: no checkpoint
            continue
        checked += 1
        after = load_ckpt(db, dst, r + 1)
        np.testing.assert_array_equal(after.buffer[:-1], elite.buffer)
        assert after.trial == elite.trial + 1
        assert after.hparams == e["new_config"] == sched[(dst, r + 1)]
        elite.set_hparams(e["new_config"])
        elite.run_trial()
        np.testing.assert_allclose(after.weights, elite.weights)
        # the elite's score is among the best scores seen so far
        seen = sorted(
            (
                x["score"]
                for x in scores
                if x["round"] <= r
                and x["round"] % 2 == 1
                and x["score"] is not None
                and math.isfinite(x["score"])
            ),
            reverse=True,
        )
        assert e["detail"]["elite_score"] in seen[:8]
    assert checked >= 1
    for r in {e["round"] for e in bts}:
        confs = [tuple(sorted(sched[(m, r + 1)].items())) for m in range(8)]
        assert len(set(confs)) == 8  # no two members share hyperparameters


def test_keep_final_checkpoints_keeps_every_jobs_last_model(tmp_path):
    """Hyperband deletes a finished job's checkpoints, but the best job's final one, unless the
    final ones are kept (the objective-mismatch analysis needs every job's final model and
    data)."""
    hb = HyperbandSettings(3, 9, n_iterations=1)
    live, best = {}, {}
    for keep in (False, True):
        db = tmp_path / f"hb{keep}.db"
        s = run_study(
            StudySpec(
                method="hyperband",
                space=SPACE,
                trials=9,
                seed=0,
                base_config=BASE,
                hyperband=hb,
                keep_final_checkpoints=keep,
            ),
            quadratic_factory(),
            db,
        )
        with StudyStore(db) as st:
            live[keep] = {(c["member"], c["trial"]) for c in st.checkpoints()}
        jobs = {(j["member"], j["trials"]) for j in s.hb_jobs if j["status"] == "ok"}
        best[keep] = s.best_checkpoint()
    max_t = max(t for _, t in jobs)
    assert live[False] == {(s.best_member, max_t)}
    assert best[False] == study_dir_for(tmp_path / "hbFalse.db") / "checkpoints" / (
        f"m{s.best_member:04d}/t{max_t:05d}"
    )
    assert live[True] == jobs and len(jobs) >= 2


def test_keep_checkpoints_every_k_trials(tmp_path):
    db = tmp_path / "pbt.db"
    run_study(
        StudySpec(
            method="pbt",
            space=SPACE,
            trials=6,
            population=4,
            seed=0,
            base_config=BASE,
            pbt=PBTSettings(interval=2),
            keep_checkpoints_every=3,
        ),
        quadratic_factory(),
        db,
    )
    with StudyStore(db) as st:
        live = {(c["member"], c["trial"]) for c in st.checkpoints()}
    assert live == {(m, t) for m in range(4) for t in (3, 6, 7)}  # every 3rd + the last
    with pytest.raises(ValueError, match="keep_checkpoints_every"):
        run_study(
            StudySpec(method="pbt", space=SPACE, trials=2, keep_checkpoints_every=0),
            quadratic_factory(),
            tmp_path / "x.db",
        )


def test_hyperband_study_and_resume(tmp_path):
    db = tmp_path / "hb.db"
    hb = HyperbandSettings(3, 27, n_iterations=3)
    s = run_study(
        StudySpec(
            method="hyperband", space=SPACE, trials=27, seed=0, base_config=BASE, hyperband=hb
        ),
        quadratic_factory(),
        db,
    )
    assert len(s.trials) == ladder_trials(hyperband_ladder(3, 27, 3, 3))
    assert len(s.hb_jobs) == sum(st.n_configs for it in hyperband_ladder(3, 27, 3, 3) for st in it)
    calls = []

    def counting(hp, seed):
        m = QuadraticMember(hp, seed)
        orig = m.run_trial
        m.run_trial = lambda: calls.append(1) or orig()
        return m

    s2 = run_study(
        StudySpec(
            method="hyperband", space=SPACE, trials=27, seed=0, base_config=BASE, hyperband=hb
        ),
        counting,
        db,
    )
    assert calls == [] and s2.best_config == s.best_config and len(s2.trials) == len(s.trials)


def test_bad_method_and_settings(tmp_path):
    with pytest.raises(ValueError, match="unknown method 'grid'"):
        run_study(
            StudySpec(method="grid", space=SPACE, trials=2), quadratic_factory(), tmp_path / "x.db"
        )
    with pytest.raises(ValueError, match="needs hyperband"):
        run_study(
            StudySpec(method="bohb", space=SPACE, trials=2), quadratic_factory(), tmp_path / "x.db"
        )
    with pytest.raises(ValueError, match="PBTBTSettings"):
        run_study(
            StudySpec(method="pbt-bt", space=SPACE, trials=2, pbt=PBTSettings()),
            quadratic_factory(),
            tmp_path / "x.db",
        )


def _rows(db):
    with StudyStore(db) as st:
        assert st.integrity_check() == "ok"
        trials = [(t["member"], t["trial"], t["ret"], t["status"]) for t in st.trials()]
        sched = [(s["member"], s["trial"], s["config"]) for s in st.schedule()]
        lin = [
            (e["round"], e["kind"], e["src"], e["src_round"], e["dst"], e["new_config"])
            for e in st.lineage()
        ]
        done = [e["kind"] for e in st.events()].count("study_done")
    return trials, sched, lin, done


def _script_env() -> dict:
    return dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [str(HERE.parents[1] / "src"), os.environ.get("PYTHONPATH", "")]
        ),
    )


def _kill_and_resume(cmd, finish, env, first, later) -> int:
    """Run ``cmd`` and SIGKILL it at random moments (the first within ``first`` seconds, the
    others within ``later``), up to 4 times, then let ``finish`` end it; return the kills."""
    rng = np.random.default_rng(int(os.environ.get("MBRLHPO_KILL_SEED", "7")))
    kills = 0
    for _ in range(4):
        p = subprocess.Popen(cmd, env=env)
        try:
            p.wait(timeout=float(rng.uniform(*(first if kills == 0 else later))))
        except subprocess.TimeoutExpired:
            p.kill()  # SIGKILL
            p.wait()
            kills += 1
            continue
        assert p.returncode == 0
        return kills
    subprocess.run(finish, check=True, env=env, timeout=300)
    return kills


@pytest.mark.slow
@pytest.mark.parametrize("method", ["pbt", "pbt-bt", "random"])
def test_sigkill_and_resume(tmp_path, method):
    env = _script_env()
    cmd = [sys.executable, str(HERE / "study_script.py"), method]
    ref = tmp_path / "ref.db"
    subprocess.run(cmd + [str(ref), "0"], check=True, env=env, timeout=120)
    db = tmp_path / "killed.db"
    # the first kill always before the study can end
    kills = _kill_and_resume(
        cmd + [str(db), "0.02"], cmd + [str(db), "0.0"], env, (0.3, 1.2), (0.3, 2.5)
    )
    assert kills >= 1
    t_ref, s_ref, l_ref, _ = _rows(ref)
    t, s, lin, done = _rows(db)
    assert done >= 1  # a kill can land after "study_done": the rerun completes again
    assert len(t) == len(set((m, k) for m, k, *_ in t))  # every trial once
    assert t == t_ref and s == s_ref and lin == l_ref  # nothing lost, nothing changed


@pytest.mark.slow
def test_sigkill_and_resume_hyperband_with_two_workers(tmp_path):
    """Killed (SIGKILL) while two jobs run at once and resumed, again with two workers: the
    study stores what one uninterrupted worker stores."""
    env = _script_env()
    cmd = [sys.executable, str(HERE / "study_script.py"), "hyperband"]
    ref = tmp_path / "ref.db"
    subprocess.run(cmd + [str(ref), "0", "1"], check=True, env=env, timeout=300)
    db = tmp_path / "killed.db"
    # 236 trials of 20 ms on two workers: about 2.5 s of trials after a start of a few s
    kills = _kill_and_resume(
        cmd + [str(db), "0.02", "2"], cmd + [str(db), "0.0", "2"], env, (2.0, 4.0), (2.0, 5.0)
    )
    assert kills >= 1
    t_ref, s_ref, _, _ = _rows(ref)
    t, s, _, done = _rows(db)
    assert done >= 1
    assert len(t) == len(set((m, k) for m, k, *_ in t))  # every trial once
    assert t == t_ref and s == s_ref
    with StudyStore(ref) as a, StudyStore(db) as b:
        strip = ("finished",)  # when it finished
        jobs_ref = [{k: v for k, v in j.items() if k not in strip} for j in a.hb_jobs()]
        jobs = [{k: v for k, v in j.items() if k not in strip} for j in b.hb_jobs()]
    assert jobs == jobs_ref and len(jobs) == 20
