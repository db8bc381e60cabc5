"""PBT's score window across an exploit, as the paper's code computes it: the exploited member
loads its source's return history with its data (``pbt/worker.py``), so with an interval below
``last_k`` its next score still averages the source's last trials; with ``copy="hparams"`` it
continues its own. A backtrack continues the elite's history."""

import math

import pytest

from mbrlhpo.hpo.pbt import PBTSettings
from mbrlhpo.hpo.pbt_bt import PBTBTSettings
from mbrlhpo.hpo.space import defaults, param_table
from mbrlhpo.runner.spec import StudySpec
from mbrlhpo.runner.study import run_study
from mbrlhpo.runner.testing import quadratic_factory
from mbrlhpo.store.sqlite_store import StudyStore

SPACE = param_table("cartpole", "model")
BASE = defaults("cartpole", "planning")


def _study(tmp_path, method, settings, population=5, trials=8):
    db = tmp_path / f"{method}.db"
    s = run_study(
        StudySpec(
            method=method,
            space=SPACE,
            trials=trials,
            population=population,
            seed=3,
            base_config=BASE,
            pbt=settings,
            last_k=3,
        ),
        quadratic_factory(),
        db,
    )
    with StudyStore(db) as st:
        scores = {(x["round"], x["member"]): x["score"] for x in st.scores()}
    rets = {(t["member"], t["trial"]): t["ret"] for t in s.trials}
    return s, scores, rets


@pytest.mark.parametrize("copy", ["all", "hparams"])
def test_window_after_an_exploit_spans_the_source_or_own_trials(tmp_path, copy):
    s, scores, rets = _study(tmp_path, "pbt", PBTSettings(interval=2, copy=copy))
    exploits = [e for e in s.lineage if e["kind"] == "exploit"]
    assert exploits
    checked = 0
    for e in exploits:
        r, src, dst = e["round"], e["src"], e["dst"]
        if (r + 2, dst) not in scores:
            continue  # no decision after the last trial
        first = rets[(src, r)] if copy == "all" else rets[(dst, r)]
        want = (first + rets[(dst, r + 1)] + rets[(dst, r + 2)]) / 3
        assert scores[(r + 2, dst)] == pytest.approx(want, rel=1e-12)
        checked += 1
    assert checked >= 2


def test_window_after_a_backtrack_spans_the_elites_trials(tmp_path):
    s, scores, rets = _study(
        tmp_path,
        "pbt-bt",
        PBTBTSettings(interval=2, backtrack_every=1, tolerance=0.0),
        population=6,
        trials=10,
    )
    bts = [e for e in s.lineage if e["kind"] == "backtrack"]
    assert bts
    checked = 0
    for e in bts:
        r, dst, src, sr = e["round"], e["dst"], e["src"], e["src_round"]
        if (r + 2, dst) not in scores:
            continue
        # The elite's window ends with its own trial at sr; two trials later that is first.
        want = (rets[(src, sr)] + rets[(dst, r + 1)] + rets[(dst, r + 2)]) / 3
        assert math.isclose(scores[(r + 2, dst)], want, rel_tol=1e-12)
        checked += 1
    assert checked >= 1
