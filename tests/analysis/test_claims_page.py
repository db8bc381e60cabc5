"""The claims page (issue 26) from a real, tiny claims-shaped suite: its C1 tests recomputed
from the long table alone, Holm across the page, an archive that recomputes the same page
without machine paths, and the one command that writes docs/fidelity.md."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mbrlhpo.analysis import claim_tests as ct
from mbrlhpo.analysis.claims_page import (
    archive_bench,
    claims_results,
    load_bench,
    tuning_wall_s,
)
from mbrlhpo.harness.bench import bench
from mbrlhpo.harness.scores import task_scores
from mbrlhpo.harness.table import read_csv

ROOT = Path(__file__).resolve().parents[2]
SUITE = """
name = "tinyclaims"
tasks = ["cartpole"]
[budget]
trials = 2
population = 3
[seeds]
study = [0, 1]
test = [9000000, 9000001, 9000002]
[agent]
iterations = 1
population = 10
horizon = 3
particles = 5
hidden = 16
depth = 2
[methods.defaults]
[methods.random]
seeds = [0, 1]
space = { epochs = [3, 4] }
[methods.pbt]
seeds = [100, 101]
pbt_interval = 1
[methods.pbt-nocopy]
method = "pbt"
copy = "hparams"
seeds = [200, 201]
pbt_interval = 1
[methods.hyperband]
seeds = [300, 301]
budgets = [1, 9]
hb_iterations = 1
space = { epochs = [3, 4] }
"""


@pytest.fixture(scope="module")
def bench_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("claims")
    (d / "suite.toml").write_text(SUITE)
    bench(d / "suite.toml", d / "out", jobs=2)
    return d / "out"


@pytest.mark.slow
def test_c1_follows_from_the_long_table(bench_dir):
    rows = [r for r in read_csv(bench_dir / "results.csv") if r["phase"] == "test"]
    runs: dict = {}
    for r in rows:
        runs.setdefault((r["method"], r["study_seed"], r["test_seed"]), []).append(r)
    score, first = {}, []
    for key, rs in runs.items():
        rets = [r["return"] for r in sorted(rs, key=lambda r: r["trial"])]
        score[key] = float(np.mean(rets[-3:]))
        first.append(rets[0])
    low, high = float(np.mean(first)), max(score.values())

    def norm(v):
        return (v - low) / (high - low)

    results = claims_results(bench_dir)
    c1 = {c["comparison"]: c for c in results["claims"] if c["claim"] == "C1"}
    assert set(c1) == {
        "random winner vs defaults",
        "pbt winner vs defaults",
        "hyperband winner vs defaults",
    }
    for label in ("random", "pbt", "hyperband"):
        seeds = sorted({k[1] for k in score if k[0] == label})
        d = [
            np.mean(
                [
                    norm(score[(label, s, t)]) - norm(score[("defaults", None, t)])
                    for t in (9000000, 9000001, 9000002)
                ]
            )
            for s in seeds
        ]
        want = ct.wilcoxon_signed_rank(d)
        got = c1[f"{label} winner vs defaults"]
        assert (got["statistic"], got["p"], got["n"]) == (want.statistic, want.p, want.n)


@pytest.mark.slow
def test_the_page_normalises_as_the_bench_summary_does(bench_dir):
    """One normalisation for the claims page (cell files) and the summary (long table)."""
    rows = read_csv(bench_dir / "results.csv")
    (summary,) = task_scores(rows, 3, ["defaults", "random", "pbt", "pbt-nocopy", "hyperband"])
    low, high, _failed = load_bench(bench_dir)["bounds"]["cartpole"]
    assert (low, high) == pytest.approx((summary.low, summary.high), rel=1e-12)


@pytest.mark.slow
def test_one_family_holm_and_verdicts(bench_dir):
    paper = ROOT.parent / "shared" / "data" / "paper-learned-schedules"  # beside a checkout
    results = claims_results(bench_dir, paper)
    claims = results["claims"]
    # C4 needs two winners' schedules whose lr moved, or the paper's files (absent in CI)
    assert {c["claim"] for c in claims} >= {"C1", "C2", "C3"} | (
        {"C4"} if paper.is_dir() else set()
    )
    assert [c["p_holm"] for c in claims] == pytest.approx(ct.holm([c["p"] for c in claims]))
    for c in claims:
        assert c["verdict"] in (ct.REPRODUCED, ct.CONTRADICTED, ct.NOT_SHOWN)
        assert c["low"] <= c["effect"] + 1e-9 and c["effect"] <= c["high"] + 1e-9
    c2 = next(c for c in claims if c["claim"] == "C2")
    assert c2["test"].startswith("Mann-Whitney") and tuple(c2["n"]) == (2, 2)  # unpaired
    c3 = next(c for c in claims if c["claim"] == "C3")
    assert c3["n"] >= 4 and "budgets 1 vs 3 MPC trials" in c3["comparison"]


@pytest.mark.slow
def test_the_archive_recomputes_the_page_and_one_command_writes_it(bench_dir, tmp_path):
    archive = tmp_path / "archive"
    written = archive_bench(bench_dir, archive)
    assert claims_results(archive) == claims_results(bench_dir)
    # archiving again leaves the archived cells' files alone (a new backup has other bytes)
    dbs = {p: p.read_bytes() for p in archive.glob("cells/**/study.db")}
    assert dbs and all(str(p.relative_to(archive)) in written for p in dbs)
    again = archive_bench(bench_dir, archive)
    assert set(again) <= {"harness.json", "results.csv"}  # small files, rewritten as they are
    assert {p: p.read_bytes() for p in dbs} == dbs
    for cell in archive.glob("cells/**/cell.json"):
        assert str(bench_dir) not in cell.read_text()  # no machine paths
    for db in archive.glob("cells/**/study.db"):
        assert str(bench_dir).encode() not in db.read_bytes()  # none in the databases either
    docs = tmp_path / "docs"
    (docs / "fidelity").mkdir(parents=True)
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "fidelity_page.py"),
            str(bench_dir),
            "--docs",
            str(docs),
        ],
        check=True,
    )
    page = (docs / "fidelity.md").read_text()
    saved = json.loads((docs / "fidelity" / "claims.json").read_text())
    assert saved["family"] == page.count("\n| C")
    assert "not shown at this scale" in page or "reproduced" in page
    assert str(tmp_path) not in page and str(bench_dir) not in page  # no machine paths
    # the scale beside the paper's: the suite's budget and the profile's model and planner
    assert "- Scale: ours 2 MPC trials after the random one" in page
    assert "(paper: 80 trials;" in page and "cartpole: ensemble" in page
    # the repository's archive alone regenerates the same page and numbers
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "fidelity_page.py"),
            str(docs / "fidelity" / "claims"),
            "--docs",
            str(docs),
        ],
        check=True,
    )
    assert json.loads((docs / "fidelity" / "claims.json").read_text()) == saved
    assert (docs / "fidelity.md").read_text() == page


def test_a_population_round_counts_once_and_hyperband_jobs_add_up():
    # a population's members run each round together and each records the round's wall time
    rounds = [
        dict(member=m, trial=t, wall_time=w) for t, w in ((1, 1.0), (2, 20.0)) for m in range(3)
    ]
    rounds[4]["wall_time"] = 20.5  # the round's longest member
    for kind in ("random", "pbt", "pbt-bt"):
        assert tuning_wall_s(dict(kind=kind, study=dict(trials=rounds))) == 21.5
    # Hyperband's jobs (two configurations at trial 1 and 2) run one after another
    assert tuning_wall_s(dict(kind="hyperband", study=dict(trials=rounds))) == 3 * 1.0 + 60.5
    assert tuning_wall_s(dict(kind="defaults", study=None)) == 0.0
