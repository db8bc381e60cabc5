"""``mbrlhpo report --html`` (and ``--watch``) in a real headless Chromium, on real studies;
the watcher against a real writer process (issue 28)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("plotly")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))

from headless_browser import find_chromium, load_page  # noqa: E402

from mbrlhpo.analysis.html_report import write_html_report  # noqa: E402
from mbrlhpo.cli import main  # noqa: E402
from mbrlhpo.tuning import tune  # noqa: E402

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def chromium():
    exe = find_chromium()
    if exe is None:
        msg = "Chromium is not installed (apt-get install chromium; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)  # CI must run the browser test, never skip it
        pytest.skip(msg)
    return exe


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    root = tmp_path_factory.mktemp("html")
    pbt, hb = root / "pbt.db", root / "hb.db"
    tune(
        "cartpole",
        "pbt",
        population=3,
        trials=3,
        db=pbt,
        pbt_interval=2,
        agent_overrides=TINY,
        space_overrides={"epochs": (3, 4)},
    )
    tune(
        "cartpole",
        "hyperband",
        db=hb,
        budgets=(1, 3),
        hb_iterations=1,
        agent_overrides=TINY,
        space_overrides={"epochs": (3, 4)},
        baseline=False,
    )
    return {"pbt": pbt, "hb": hb}


@pytest.mark.slow
def test_the_page_loads_without_errors_and_every_figure_has_data(chromium, studies, tmp_path):
    assert main(["report", "--db", str(studies["pbt"]), "--out", str(tmp_path), "--html",
                 "--no-plots", "--no-mismatch"]) == 0  # fmt: skip
    page = tmp_path / "report.html"
    assert "<script src" not in page.read_text()  # self-contained: plotly is inlined
    got = load_page(chromium, page)
    assert got["loaded"] and got["errors"] == [] and got["requests"] == []
    assert got["title"] == "mbrlhpo: pbt on cartpole"
    figs = {f["id"]: f for f in got["figures"]}
    assert set(figs) == {"learning-curves", "lineage", "schedules", "best-vs-defaults"}
    assert figs["learning-curves"]["traces"] == 4  # 3 members and the defaults
    assert figs["learning-curves"]["points"] == 3 * 4 + 4  # random trial + 3, each
    assert figs["lineage"]["traces"] >= 2  # the trials and at least one exploit
    for f in figs.values():
        assert f["points"] > 0 and f["svg"] > 0, f
    text = page.read_text()
    assert "one seed each" in text and "no claim is made" in text and "anytime" in text

    hb_page, _ = write_html_report(studies["hb"], tmp_path / "hb.html")
    got = load_page(chromium, hb_page)
    assert got["errors"] == [] and got["requests"] == []
    figs = {f["id"]: f for f in got["figures"]}
    assert "hyperband" in figs and figs["hyperband"]["points"] >= 3 and "lineage" not in figs


def test_the_browser_check_catches_errors_and_requests(chromium, tmp_path):
    """The helper proves itself on a planted broken page."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<html><head><script src='http://127.0.0.1:9/x.js'></script></head><body>"
        "<script>console.error('planted'); throw new Error('boom');</script></body></html>"
    )
    got = load_page(chromium, page, settle=1.5)
    assert any("boom" in e for e in got["errors"]) and any("planted" in e for e in got["errors"])
    assert got["requests"] == ["http://127.0.0.1:9/x.js"] and got["figures"] == []


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mbrlhpo.store.sqlite_store import StudyStore
    db, page = Path(sys.argv[1]), Path(sys.argv[2])

    def wait_for(text):  # the watcher's page: deterministic hand-offs, no timed asserts
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if page.is_file() and text in page.read_text(errors="replace"):
                return
            time.sleep(0.05)
        sys.exit(f"the watcher never wrote a page with {text!r}")

    wait_for("waiting for the study")  # the watcher started before the study exists
    with StudyStore(db) as st:
        st.init_study("pbt", 0, {"env": "cartpole", "last_k": 1}, {"lr": [1e-4, 1e-2]})
        for m in range(3):
            st.add_member(m, m, {"lr": 1e-3 * (m + 1)})
        for t in range(1, 41):
            for m in range(3):
                st.record_trial(m, t, {"lr": 1e-3 * (m + 1)}, float(t + m), 0.01)
            copy = {"kind": "exploit", "src": 2, "src_round": t, "dst": 0}
            events = [copy] if t % 10 == 0 else []
            st.record_round(t, {m: float(t + m) for m in range(3)}, events)
            if t == 20:
                wait_for("state: <b>running</b>")  # a page of the study in progress
        st.record_event("study_done")
    print("writer done")
    """
)


@pytest.mark.slow
def test_watch_rewrites_the_page_while_a_real_writer_runs(chromium, tmp_path):
    db, out = tmp_path / "live.db", tmp_path / "report"
    path = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    watcher = subprocess.Popen(
        [sys.executable, "-m", "mbrlhpo", "report", "--db", str(db), "--out", str(out),
         "--html", "--watch", "0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        writer = subprocess.run(
            [sys.executable, "-c", WRITER, str(db), str(out / "report.html")],
            capture_output=True, text=True, timeout=300, env=env,
        )  # fmt: skip
        assert writer.returncode == 0 and "writer done" in writer.stdout, writer.stderr
        stdout, stderr = watcher.communicate(timeout=120)  # it stops by itself: study done
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    assert watcher.returncode == 0, stderr
    assert "the study is done" in stdout
    from mbrlhpo.store.sqlite_store import StudyStore

    with StudyStore(db) as st:  # every row of the writer is there and verifies
        assert len(st.trials()) == 120 and len(st.lineage()) == 4
    page = out / "report.html"
    assert "trials done: 120" in page.read_text()
    assert 'http-equiv="refresh"' not in page.read_text()  # the finished page stays still
    assert not list(out.glob(".*.tmp"))  # atomic rewrites leave nothing behind
    got = load_page(chromium, page)
    assert got["errors"] == [] and {f["id"] for f in got["figures"]} >= {"lineage"}


def test_watch_and_html_bad_input(tmp_path, capsys):
    db = str(tmp_path / "x.db")
    assert main(["report", "--db", db, "--out", str(tmp_path), "--watch", "5"]) == 2
    assert "--watch N rewrites the HTML page: add --html" in capsys.readouterr().err
    assert main(["report", "--db", db, "--out", str(tmp_path), "--html", "--watch", "0"]) == 2
    assert "--watch: expected seconds > 0, got 0" in capsys.readouterr().err
    assert main(["report", "--db", db, db, "--out", str(tmp_path), "--html"]) == 2
    assert "one --db" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing written for bad input


def test_a_page_of_a_study_that_has_not_run_a_trial(tmp_path):
    from mbrlhpo.store.sqlite_store import StudyStore

    db = tmp_path / "new.db"
    with StudyStore(db) as st:
        st.init_study("pbt", 0, {"env": "cartpole"}, {"lr": [1e-4, 1e-2]})
    page, state = write_html_report(db, tmp_path / "p.html", refresh=5)
    text = page.read_text()
    assert state == "running" and "no trial has finished yet" in text
    assert '<meta http-equiv="refresh" content="5">' in text
