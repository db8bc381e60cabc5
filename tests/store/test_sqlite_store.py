import math
import sqlite3

import pytest

from mbrlhpo.store.sqlite_store import SCHEMA_VERSION, StoreError, StudyStore


def test_roundtrip(tmp_path):
    with StudyStore(tmp_path / "s.db") as st:
        assert st.schema_version == SCHEMA_VERSION
        assert st.init_study("pbt", 1, {"trials": 5}, {"lr": {"low": 1}})
        assert not st.init_study("pbt", 1, {"trials": 5}, {"lr": {"low": 1}})
        with pytest.raises(StoreError, match="different study"):
            st.init_study("random", 1, {"trials": 5}, {"lr": {"low": 1}})
        st.add_member(0, 7, {"lr": 0.1})
        st.record_trial(0, 1, {"lr": 0.1}, 2.5, 0.3, checkpoint=("m0/t1", "ab", 10))
        st.record_trial(0, 2, {"lr": 0.1}, math.nan, 0.3, "diverged", "nan loss")
        with pytest.raises(sqlite3.IntegrityError):
            st.record_trial(0, 2, {"lr": 0.1}, 1.0, 0.3)
        st.record_round(
            2, {0: -math.inf}, [{"kind": "exploit", "src": 1, "src_round": 2, "dst": 0}]
        )
        assert st.trials()[0]["ret"] == 2.5 and st.trials()[1]["ret"] is None
        assert st.scores(2) == [{"round": 2, "member": 0, "score": -math.inf}]
        assert [e["kind"] for e in st.events()] == [
            "study_start",
            "failure",
            "exploit",
            "round_done",
        ]
        assert st.lineage()[0]["src"] == 1
        assert st.rounds_done() == [2]
        assert st.checkpoint(0, 1)["sha256"] == "ab"
        st.mark_checkpoints_deleted([(0, 1)])
        assert st.checkpoints() == [] and len(st.checkpoints(live_only=False)) == 1
        st.record_hb_job((0, 0, 1), 3, {"lr": 0.1}, 8.9, 8, -1.5, "ok")
        assert st.hb_job((0, 0, 1), 8)["loss"] == -1.5 and st.hb_job((0, 0, 1), 26) is None
        assert st.integrity_check() == "ok"
        assert list(st.frame("trials")["trial"]) == [1, 2]
        with pytest.raises(ValueError, match="unknown table"):
            st.frame("nope")
        with pytest.raises(ValueError, match="status"):
            st.record_trial(0, 3, {}, 1.0, 0.1, "weird")


def test_schema_version_checked(tmp_path):
    p = tmp_path / "s.db"
    StudyStore(p).close()
    con = sqlite3.connect(p)
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="expected schema version 2, got 99"):
        StudyStore(p)


def test_wal(tmp_path):
    with StudyStore(tmp_path / "s.db") as st:
        assert st._con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_redacted_event_details_still_verify(tmp_path):
    from mbrlhpo.store.sqlite_store import redact_event_details

    p = tmp_path / "s.db"
    with StudyStore(p) as st:
        st.record_event("study_error", detail={"error": "cannot load /home/me/repo/_core.so"})
        st.record_event("study_done")
    assert redact_event_details(p, "/home/me/repo", "<checkout>") == 1
    with StudyStore(p, readonly=True) as st:
        st.verify()  # the changed row is resealed
        details = [e["detail"] for e in st.events(["study_error"])]
    assert "/home/me" not in str(details) and "<checkout>/_core.so" in str(details)
