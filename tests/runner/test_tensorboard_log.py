"""``mbrlhpo tune --tensorboard DIR`` (issue 28): a real tiny PBT study, its event files read
back with TensorBoard's own reader and compared with the study store."""

from __future__ import annotations

import importlib.util
import math

import pytest

pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing.event_accumulator import (  # noqa: E402
    EventAccumulator,
)

from mbrlhpo.store.sqlite_store import StudyStore  # noqa: E402
from mbrlhpo.tuning import tune  # noqa: E402

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)


def _read(run_dir):
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    scalars = {tag: {e.step: e.value for e in acc.Scalars(tag)} for tag in acc.Tags()["scalars"]}
    texts = {tag: {e.step for e in acc.Tensors(tag)} for tag in acc.Tags()["tensors"]}
    return scalars, texts


def test_tensorboard_logs_every_member_as_the_store_has_it(tmp_path):
    db, logdir = tmp_path / "pbt.db", tmp_path / "tb"
    tune(
        "cartpole",
        "pbt",
        population=3,
        trials=3,
        db=db,
        pbt_interval=2,
        agent_overrides=TINY,
        space_overrides={"epochs": (3, 4)},
        tensorboard=logdir,
    )
    with StudyStore(db, readonly=True) as st:
        trials, lineage = st.trials(), st.lineage()
        schedule = {(s["member"], s["trial"]): s["config"] for s in st.schedule()}
    assert lineage  # the study made PBT decisions to log
    runs = sorted(p.name for p in logdir.iterdir())
    assert runs == ["defaults", "member_00000", "member_00001", "member_00002"]
    for m in range(3):
        scalars, texts = _read(logdir / f"member_{m:05d}")
        mine = {t["trial"]: t for t in trials if t["member"] == m}
        assert scalars["return"] == pytest.approx({k: t["ret"] for k, t in mine.items()})
        # Every trial trains after it acted (the random trial 1 too): losses 1-4, finite.
        assert sorted(scalars["model_loss"]) == [1, 2, 3, 4]
        assert all(math.isfinite(v) for v in scalars["model_loss"].values())
        for name in ("lr", "weight_decay", "epochs"):
            want = {t: schedule[(m, t)][name] for t in mine}
            assert scalars[f"hparams/{name}"] == pytest.approx(want, rel=1e-6)
        exploits = {e["round"]: e["src"] for e in lineage if e["dst"] == m and e["src"] is not None}
        assert scalars.get("pbt/exploit_source", {}) == pytest.approx(exploits)
        explores = {e["round"] for e in lineage if e["dst"] == m and e["kind"] == "explore"}
        assert set(scalars.get("pbt/explored", {})) == explores
        if exploits or explores:
            assert texts["pbt/events/text_summary"] == set(exploits) | explores
        assert (logdir / f"member_{m:05d}" / "hparams").is_dir()  # the HParams tab
    defaults, _ = _read(logdir / "defaults")
    assert sorted(defaults["return"]) == [1, 2, 3, 4]


def test_tensorboard_missing_is_one_line_before_the_study(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "tensorboard" else real(n, *a)
    )
    with pytest.raises(ImportError, match=r"mbrlhpo\[tensorboard\]"):
        tune("cartpole", "pbt", population=2, trials=1, db=tmp_path / "x.db", tensorboard=tmp_path)
    assert not (tmp_path / "x.db").exists()
