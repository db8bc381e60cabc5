"""Statistics and figures of the paper's four claims (docs/fidelity.md) from the study databases
that scripts/fidelity.sh writes.

    python scripts/fidelity_analyze.py --runs fidelity-runs --out docs/fidelity \
        [--schedules ../shared/data/paper-learned-schedules]

Writes ``claims.json`` (every number docs/fidelity.md quotes, with the test behind it), a CSV per
claim and PNG figures. A claim whose experiments have not finished is written as
``{"status": "missing", ...}`` naming what is missing; nothing is filled in.

Tests (scipy.stats, exact where scipy offers it):
- C1: the final scenario of ``mbrlhpo evaluate`` (paired bootstrap over 5 seeds of the
  difference of the best-so-far seed-mean curves) and a one-sided Wilcoxon signed-rank test on
  the per-seed best return (best > defaults).
- C2: one-sided Mann-Whitney U (copy > no copy) on each study's population-mean final
  objective, plus a paired bootstrap CI over study seeds (both arms share the initial
  population per seed).
- C3: Spearman's rho with its p-value between the objective at a lower budget and at the full
  budget of the same random-search configurations.
- C4: Spearman's rho of each hyperparameter vs trial (our PBT studies: over all member-trials of
  each study, then a sign test over seeds; the paper's schedules: over the schedule's trials).
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from mbrlhpo.analysis import final_scores, load_schedule, read_study, spearman
from mbrlhpo.hpo.objective import objective

MODEL_HP = ("lr", "weight_decay", "epochs")
PLANNING_HP = ("iterations", "population", "alpha", "elite_ratio", "horizon")
LOG_HP = {"lr", "weight_decay", "population", "elite_ratio"}
BOOT_SEED = 20210413  # the bootstrap's own generator: the intervals are reproducible
N_BOOT = 10_000


def _clean(obj: Any) -> Any:
    """Standard JSON: non-finite floats as strings ("-inf", "nan"), NumPy scalars as Python's."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.integer, np.bool_)):
        return obj.item()
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else str(float(obj))
    return obj


def _spearman(x: Any, y: Any) -> tuple[float | None, float | None]:
    """Spearman's rho and its two-sided p-value; None, None where it is not defined (fewer than
    three pairs, or one side constant)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None, None
    r = stats.spearmanr(x, y)
    return float(r.statistic), float(r.pvalue)


def _wilcoxon_greater(a: Any, b: Any) -> float | None:
    """One-sided Wilcoxon signed-rank p-value of a > b over paired values (exact for small n);
    None where it is not defined (fewer than two finite pairs, or no nonzero difference)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    d = a[ok] - b[ok]
    if d.size < 2 or not np.any(d != 0):
        return None
    return float(stats.wilcoxon(a[ok], b[ok], alternative="greater").pvalue)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _done(runs: Path, name: str) -> bool:
    return (runs / f"{name}.done").is_file() and (runs / f"{name}.db").is_file()


def _returns_by_member(rec: dict[str, Any]) -> dict[int, list[float]]:
    per: dict[int, list[float]] = {}
    for t in sorted(rec["trials"], key=lambda t: (t["member"], t["trial"])):
        ok = t["status"] == "ok" and t["ret"] is not None
        per.setdefault(int(t["member"]), []).append(float(t["ret"]) if ok else math.nan)
    return per


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


# ---------------------------------------------------------------------------------------------
def claim1(runs: Path, out: Path) -> dict[str, Any]:
    """C1: the best configuration / schedule of an HPO study vs the defaults (final scenario)."""
    results: dict[str, Any] = {}
    plt = _plt()
    evals = [
        ("pbt", "c2_pbt_copy_s0"),
        ("random search", "c3_random_s0"),
    ]
    done = []
    for label, name in evals:
        path = runs / f"{name}.study" / "evaluation" / "evaluation.json"
        if not path.is_file():
            results[label] = {"status": "missing", "missing": str(path)}
            continue
        ev = json.loads(path.read_text())
        seeds = [str(s) for s in ev["seeds"]]
        best = np.array([ev["returns"]["best"][s] for s in seeds], dtype=float)
        base = np.array([ev["returns"]["baseline"][s] for s in seeds], dtype=float)
        best_per_seed = np.nanmax(best, axis=1)
        base_per_seed = np.nanmax(base, axis=1)
        results[label] = {
            "status": "done",
            "study": name,
            "env": ev["env"],
            "profile": ev["profile"],
            "baseline": ev["baseline_name"],
            "seeds": ev["seeds"],
            "trials": ev["trials"],
            "best_schedule_first": ev["schedules"]["best"][0],
            "best_schedule_last": ev["schedules"]["best"][-1],
            "final_scenario_best": ev["curves"]["best"]["final_scenario"][-1],
            "final_scenario_baseline": ev["curves"]["baseline"]["final_scenario"][-1],
            "bootstrap": ev["comparison"],
            "per_seed_best_return": {
                "best": best_per_seed.tolist(),
                "baseline": base_per_seed.tolist(),
            },
            "wilcoxon_one_sided_p": _wilcoxon_greater(best_per_seed, base_per_seed),
        }
        done.append((label, ev))
    replay = _replay_paper(runs)
    results["paper schedule replay"] = replay
    panels = done + ([("paper schedule", replay)] if replay.get("status") == "done" else [])
    if panels:
        fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
        for ax, (label, ev) in zip(axes[0], panels, strict=True):
            if label == "paper schedule":
                arms = {
                    "paper's PBT schedule": ev["curves"]["paper"],
                    "defaults": ev["curves"]["default"],
                }
            else:
                arms = {
                    f"best of {label}": ev["curves"]["best"],
                    "defaults": ev["curves"]["baseline"],
                }
            n = len(ev["seeds"])
            for arm, c in arms.items():
                x = np.arange(1, len(c["mean"]) + 1)
                (line,) = ax.plot(x, c["final_scenario"], label=f"{arm}: best so far")
                ax.plot(x, c["mean"], ls=":", color=line.get_color(), label=f"{arm}: this trial")
            ax.set_title(f"C1, Reacher (quick profile): {label}")
            ax.set_xlabel("trial (1 = random)")
            ax.set_ylabel(f"return (mean over {n} seeds)")
            ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "c1_final_scenario.png", dpi=110)
        plt.close(fig)
    return results


def _replay_paper(runs: Path) -> dict[str, Any]:
    arms = {}
    for arm in ("paper_pbt", "default"):
        path = runs / f"replay_{arm}" / "replay.json"
        if not path.is_file():
            return {"status": "missing", "missing": str(path)}
        arms[arm] = json.loads(path.read_text())
    seeds = [str(s) for s in arms["paper_pbt"]["seeds"]]
    mats = {a: np.array([arms[a]["returns"][s] for s in seeds], dtype=float) for a in arms}
    paper_ps, default_ps = np.nanmax(mats["paper_pbt"], axis=1), np.nanmax(mats["default"], axis=1)
    rng = np.random.default_rng(BOOT_SEED)
    idx = rng.integers(len(seeds), size=(N_BOOT, len(seeds)))

    def fs(m):
        return np.nanmax(np.nanmean(m, axis=-2), axis=-1)

    diffs = fs(mats["paper_pbt"][idx]) - fs(mats["default"][idx])
    return {
        "status": "done",
        "seeds": arms["paper_pbt"]["seeds"],
        "trials": arms["paper_pbt"]["trials"],
        "final_scenario_paper": arms["paper_pbt"]["score"],
        "final_scenario_default": arms["default"]["score"],
        "difference": float(arms["paper_pbt"]["score"] - arms["default"]["score"]),
        "ci95": [float(np.quantile(diffs, 0.025)), float(np.quantile(diffs, 0.975))],
        "p_better": float(np.mean(diffs > 0)),
        "wilcoxon_one_sided_p": _wilcoxon_greater(paper_ps, default_ps),
        "curves": {
            "paper": {
                "mean": arms["paper_pbt"]["mean"],
                "final_scenario": arms["paper_pbt"]["final_scenario"],
            },
            "default": {
                "mean": arms["default"]["mean"],
                "final_scenario": arms["default"]["final_scenario"],
            },
        },
    }


# ---------------------------------------------------------------------------------------------
def _population_curve(rec: dict[str, Any]) -> tuple[list[float], float]:
    """Per trial the population's mean return; the population's mean final objective."""
    per = _returns_by_member(rec)
    n = max(len(r) for r in per.values())
    mat = np.full((len(per), n), np.nan)
    for i, m in enumerate(sorted(per)):
        mat[i, : len(per[m])] = per[m]
    scores = [s["score"] for s in final_scores(rec)]
    finite = [s for s in scores if math.isfinite(s)]
    return np.nanmean(mat, axis=0).tolist(), float(np.mean(finite)) if finite else math.nan


def claim2(runs: Path, out: Path, seeds: list[int]) -> dict[str, Any]:
    """C2: PBT copying the history vs copying only the hyperparameters."""
    arms: dict[str, dict[int, Any]] = {"copy": {}, "nocopy": {}}
    missing = []
    for arm in arms:
        for s in seeds:
            name = f"c2_pbt_{arm}_s{s}"
            if not _done(runs, name):
                missing.append(name)
                continue
            arms[arm][s] = _population_curve(read_study(runs / f"{name}.db"))
    rows = [
        {"arm": arm, "seed": s, "population_mean_final_objective": v[1]}
        for arm in arms
        for s, v in sorted(arms[arm].items())
    ]
    _write_csv(out / "c2_scores.csv", rows)
    res: dict[str, Any] = {
        "scores": {arm: {str(s): v[1] for s, v in sorted(arms[arm].items())} for arm in arms},
        "missing": missing,
    }
    a = [arms["copy"][s][1] for s in sorted(arms["copy"])]
    b = [arms["nocopy"][s][1] for s in sorted(arms["nocopy"])]
    if len(a) >= 2 and len(b) >= 2:
        u = stats.mannwhitneyu(a, b, alternative="greater", method="exact")
        res["mann_whitney_u"] = float(u.statistic)
        res["mann_whitney_one_sided_p"] = float(u.pvalue)
        res["mean_copy"], res["mean_nocopy"] = float(np.mean(a)), float(np.mean(b))
        paired = sorted(set(arms["copy"]) & set(arms["nocopy"]))
        if len(paired) >= 2:
            d = np.array([arms["copy"][s][1] - arms["nocopy"][s][1] for s in paired])
            rng = np.random.default_rng(BOOT_SEED)
            boot = d[rng.integers(len(d), size=(N_BOOT, len(d)))].mean(axis=1)
            res["paired_seeds"] = paired
            res["paired_mean_difference"] = float(d.mean())
            res["paired_bootstrap_ci95"] = [
                float(np.quantile(boot, 0.025)),
                float(np.quantile(boot, 0.975)),
            ]
            res["relative_drop_without_copy"] = float((np.mean(a) - np.mean(b)) / abs(np.mean(a)))
    res["status"] = "done" if not missing else ("partial" if rows else "missing")
    if rows:
        plt = _plt()
        fig, ax = plt.subplots(figsize=(6, 4))
        for arm, label in (
            ("copy", "copy history (weights, data, hparams)"),
            ("nocopy", "copy hyperparameters only"),
        ):
            if not arms[arm]:
                continue
            curves = np.array([v[0] for v in arms[arm].values()])
            x = np.arange(1, curves.shape[1] + 1)
            m, sd = curves.mean(axis=0), curves.std(axis=0)
            ax.plot(x, m, label=f"{label}, {len(curves)} seeds")
            ax.fill_between(x, m - sd, m + sd, alpha=0.2)
        ax.set_title("C2, Reacher PBT (population 4): population-mean return")
        ax.set_xlabel("trial (1 = random; PBT steps after 3, 5, 7)")
        ax.set_ylabel("return (mean over members; band: std over seeds)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "c2_copy_history.png", dpi=110)
        plt.close(fig)
    return res


# ---------------------------------------------------------------------------------------------
def claim3(runs: Path, out: Path, budgets: tuple[int, ...] = (2, 4, 6)) -> dict[str, Any]:
    """C3: rank correlation of the same configurations' scores at a lower and the full budget."""
    name = "c3_random_s0"
    if not _done(runs, name):
        return {"status": "missing", "missing": [name]}
    rec = read_study(runs / f"{name}.db")
    k = int(rec["settings"].get("last_k", 3))
    full = int(rec["settings"]["trials"])
    per = _returns_by_member(rec)
    members = sorted(per)
    budgets = tuple(b for b in budgets if b < full)  # a lower fidelity than the study's own
    score_at = {b: [objective(per[m][: 1 + b], k) for m in members] for b in (*budgets, full)}
    rows = [
        {"member": m, **{f"score_at_{b}": score_at[b][i] for b in score_at}}
        for i, m in enumerate(members)
    ]
    _write_csv(out / "c3_scores.csv", rows)
    pairs = []
    for b in budgets:
        x, y = np.array(score_at[b]), np.array(score_at[full])
        ok = np.isfinite(x) & np.isfinite(y)
        rho, p = _spearman(x[ok], y[ok])
        pairs.append(
            {
                "low": b,
                "high": full,
                "n": int(ok.sum()),
                "rho": rho,
                # the library's own, as a check (NaN where rho is not defined)
                "rho_mbrlhpo": float(spearman(x[ok], y[ok])) if rho is not None else None,
                "p_two_sided": p,
            }
        )
    if not pairs:  # no budget below the study's: nothing to correlate, no figure
        return {"status": "done", "study": name, "configurations": len(members), "pairs": []}
    plt = _plt()
    fig, axes = plt.subplots(1, len(budgets), figsize=(4.2 * len(budgets), 3.8), squeeze=False)
    for ax, p in zip(axes[0], pairs, strict=True):
        ax.scatter(score_at[p["low"]], score_at[full])
        ax.set_title(
            f"C3: budget {p['low']} vs {full}: rho {_p(p['rho'])} (p {_p(p['p_two_sided'])})"
        )
        ax.set_xlabel(f"objective after {p['low']} MPC trials (return)")
        ax.set_ylabel(f"objective after {full} MPC trials (return)")
    fig.suptitle(f"Reacher, random search over the model group, {len(members)} configurations")
    fig.tight_layout()
    fig.savefig(out / "c3_fidelity.png", dpi=110)
    plt.close(fig)
    return {"status": "done", "study": name, "configurations": len(members), "pairs": pairs}


# ---------------------------------------------------------------------------------------------
def claim4_ours(runs: Path, out: Path, seeds: list[int]) -> dict[str, Any]:
    """C4 in our PBT studies: does each hyperparameter move with the trial number?"""
    per_seed, missing = {}, []
    for s in seeds:
        name = f"c2_pbt_copy_s{s}"
        if not _done(runs, name):
            missing.append(name)
            continue
        rec = read_study(runs / f"{name}.db")
        sched = rec["schedule"]
        per_seed[s] = {}
        for hp in MODEL_HP:
            t = [r["trial"] for r in sched]
            v = [r["config"][hp] for r in sched]
            rho, p = _spearman(t, v)
            best = [(r2["trial"], r2["config"][hp]) for r2 in rec["best_schedule"]]
            per_seed[s][hp] = {
                "rho_all_member_trials": rho,
                "p": p,
                "best_first": best[0][1] if best else None,
                "best_last": best[-1][1] if best else None,
            }
    res: dict[str, Any] = {"per_seed": {str(s): v for s, v in per_seed.items()}, "missing": missing}
    signs = {}
    for hp in MODEL_HP:
        rhos = [v[hp]["rho_all_member_trials"] for v in per_seed.values()]
        rhos = [r for r in rhos if r is not None and r != 0]
        pos = sum(r > 0 for r in rhos)
        signs[hp] = {
            "n": len(rhos),
            "positive": pos,
            "sign_test_p_two_sided": float(stats.binomtest(pos, len(rhos)).pvalue)
            if rhos
            else None,
        }
    res["sign_test"] = signs
    res["status"] = "done" if not missing else ("partial" if per_seed else "missing")
    if per_seed:
        plt = _plt()
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
        for ax, hp in zip(axes, MODEL_HP, strict=True):
            for s in sorted(per_seed):
                rec = read_study(runs / f"c2_pbt_copy_s{s}.db")
                b = rec["best_schedule"]
                ax.plot(
                    [r["trial"] for r in b],
                    [r["config"][hp] for r in b],
                    marker="o",
                    label=f"seed {s}",
                )
            if hp in LOG_HP:
                ax.set_yscale("log")
            ax.set_title(f"C4: {hp} along the best lineage")
            ax.set_xlabel("trial")
            ax.set_ylabel(hp + (" (log scale)" if hp in LOG_HP else ""))
        axes[0].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "c4_our_schedules.png", dpi=110)
        plt.close(fig)
    return res


def claim4_paper(schedules: Path, out: Path) -> dict[str, Any]:
    """C4 in the paper's own learned PBT / PBT-BT schedules."""
    files = sorted(glob.glob(str(schedules / "*_pbt*.json")))
    if not files:
        return {"status": "missing", "missing": [str(schedules)]}
    rows = []
    for f in files:
        sched = load_schedule(f)
        base = os.path.basename(f)[: -len(".json")]
        for hp in sched[0]:
            v = np.array([e[hp] for e in sched], dtype=float)
            t = np.arange(len(v))
            rho, p = _spearman(t, v)
            q = max(1, len(v) // 4)
            rows.append(
                {
                    "schedule": base,
                    "hparam": hp,
                    "trials": len(v),
                    "changes": int(np.sum(np.diff(v) != 0)),
                    "first": float(v[0]),
                    "last": float(v[-1]),
                    "mean_first_quarter": float(v[:q].mean()),
                    "mean_last_quarter": float(v[-q:].mean()),
                    "rho": rho,  # None for a constant schedule
                    "p": p,
                }
            )
    _write_csv(out / "c4_paper_schedules.csv", rows)
    # One schedule per PBT run for the test across runs: incumbent and top-5 average of one run
    # are not independent; the top-5 average (the paper's Fig. 4/9) is used where both exist.
    runs_of: dict[str, dict[str, Any]] = {}
    for f in files:
        base = os.path.basename(f)[: -len(".json")]
        run = re.sub(r"_(incumbent|top_avg)$", "", base)
        if run not in runs_of or base.endswith("_top_avg"):
            runs_of[run] = {"schedule": base}
    summary = {}
    for hp in (*MODEL_HP, *PLANNING_HP):
        sel = [r for r in rows if r["hparam"] == hp and r["changes"] > 0]
        per_run = [
            r
            for r in rows
            if r["hparam"] == hp and r["schedule"] in {v["schedule"] for v in runs_of.values()}
        ]
        per_run = [r for r in per_run if r["mean_last_quarter"] != r["mean_first_quarter"]]
        down = sum(r["mean_last_quarter"] < r["mean_first_quarter"] for r in per_run)
        summary[hp] = {
            "schedules_that_change": len(sel),
            "rho_gt_0_p_lt_0.05": sum(r["rho"] > 0 and r["p"] < 0.05 for r in sel),
            "rho_lt_0_p_lt_0.05": sum(r["rho"] < 0 and r["p"] < 0.05 for r in sel),
            "runs": [r["schedule"] for r in per_run],
            "runs_last_quarter_below_first": down,
            "runs_last_quarter_above_first": len(per_run) - down,
            "sign_test_p_two_sided": (
                float(stats.binomtest(down, len(per_run)).pvalue) if per_run else None
            ),
        }
    plt = _plt()
    inc = [f for f in files if f.endswith("_incumbent.json")]
    fig, axes = plt.subplots(2, 4, figsize=(16, 7))
    for ax, hp in zip(axes.flat, (*MODEL_HP, *PLANNING_HP), strict=True):
        for f in inc:
            sched = load_schedule(f)
            if hp not in sched[0]:
                continue
            v = [e[hp] for e in sched]
            x = np.arange(len(v)) / (len(v) - 1)
            ax.plot(x, v, label=re.sub(r"_pbt_.*", "", os.path.basename(f)))
        if hp in LOG_HP:
            ax.set_yscale("log")
        ax.set_title(f"paper's PBT incumbent: {hp}")
        ax.set_xlabel("fraction of the run's trials")
        ax.set_ylabel(hp + (" (log scale)" if hp in LOG_HP else ""))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "c4_paper_schedules.png", dpi=100)
    plt.close(fig)
    return {"status": "done", "files": len(files), "summary": summary}


# ---------------------------------------------------------------------------------------------
def archive(runs: Path, dest: Path) -> list[str]:
    """Copies what the analysis reads of every finished experiment into ``dest`` (same layout,
    so ``--runs dest`` re-analyses it): the database (SQLite's backup API: a consistent copy
    without the WAL), its ``.done`` marker, the defaults run and the evaluation, and the replays.
    Checkpoints (model weights, replay buffers) are not copied: too big to commit."""
    import shutil
    import sqlite3

    from mbrlhpo.store.sqlite_store import redact_event_details

    root = Path(__file__).resolve().parents[1]
    copied = []
    for done in sorted(runs.glob("*.done")):
        name = done.stem
        src = runs / f"{name}.db"
        if not src.is_file():
            continue
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / f"{name}.db"
        target.unlink(missing_ok=True)
        with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as a, sqlite3.connect(target) as b:
            a.backup(b)
        b.close()
        a.close()
        # No path of this machine in the copy (an error event names the files it failed on).
        for local, alias in (
            (runs.resolve(), "<runs>"),
            (runs.resolve().parent, "<runs>/.."),
            (root, "<checkout>"),
        ):
            redact_event_details(target, str(local), alias)
        (dest / f"{name}.done").touch()
        for rel in ("baseline.json", "evaluation/evaluation.json"):
            f = runs / f"{name}.study" / rel
            if f.is_file():
                (dest / f"{name}.study" / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, dest / f"{name}.study" / rel)
        copied.append(name)
    for f in sorted(runs.glob("replay_*/replay.json")):
        (dest / f.parent.name).mkdir(parents=True, exist_ok=True)
        replay = json.loads(f.read_text())
        if replay.get("schedule_file"):  # the schedule by name, not this machine's path to it
            replay["schedule_file"] = Path(replay["schedule_file"]).name
        (dest / f.parent.name / "replay.json").write_text(json.dumps(replay, indent=2) + "\n")
        copied.append(f.parent.name)
    return copied


def _p(x: Any) -> str:
    return "-" if x is None else f"{x:.3g}"


def results_markdown(res: dict[str, Any]) -> str:
    """The numbers of docs/fidelity.md, generated: one section per claim."""
    out = ["# Results of scripts/fidelity.sh (generated by scripts/fidelity_analyze.py)", ""]
    meta = res["meta"]
    out += [f"Commit {meta['commit']}, generated {meta['generated']}, {meta['machine']}.", ""]
    out += ["## C1: HPO vs the defaults (final scenario)", ""]
    out += [
        "| study | seeds | defaults | best | difference (95% paired bootstrap CI) | "
        "P(best wins) | Wilcoxon one-sided p (per-seed best return) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, r in res["C1"].items():
        if r.get("status") != "done":
            out.append(f"| {label} | running / to resume: {r.get('missing')} | | | | | |")
        elif label == "paper schedule replay":
            out.append(
                f"| the paper's Reacher PBT schedule | {len(r['seeds'])} | "
                f"{r['final_scenario_default']:.1f} | "
                f"{r['final_scenario_paper']:.1f} | {r['difference']:.1f} "
                f"[{r['ci95'][0]:.1f}, {r['ci95'][1]:.1f}] | {r['p_better']:.2f} | "
                f"{_p(r['wilcoxon_one_sided_p'])} |"
            )
        else:
            b = r["bootstrap"]
            out.append(
                f"| {label} (`{r['study']}`) | {len(r['seeds'])} | "
                f"{r['final_scenario_baseline']:.1f} | "
                f"{r['final_scenario_best']:.1f} | {b['difference']:.1f} "
                f"[{b['ci_low']:.1f}, {b['ci_high']:.1f}] | {b['p_better']:.2f} | "
                f"{_p(r['wilcoxon_one_sided_p'])} |"
            )
    c2 = res["C2"]
    out += ["", "## C2: PBT with and without copying the history", ""]
    out += [
        f"Status: {c2['status']}"
        + (f"; running / to resume: {c2['missing']}" if c2["missing"] else ""),
        "",
    ]
    if "mann_whitney_one_sided_p" in c2:
        out += [
            "| arm | population-mean final objective per seed | mean |",
            "|---|---|---|",
            f"| copy | {', '.join(f'{v:.1f}' for v in c2['scores']['copy'].values())} | "
            f"{c2['mean_copy']:.1f} |",
            f"| hyperparameters only | "
            f"{', '.join(f'{v:.1f}' for v in c2['scores']['nocopy'].values())} | "
            f"{c2['mean_nocopy']:.1f} |",
            "",
            f"Mann-Whitney U = {c2['mann_whitney_u']:.0f}, one-sided p (copy > no copy) = "
            f"{c2['mann_whitney_one_sided_p']:.3g}.",
        ]
        if "paired_mean_difference" in c2:
            ci = c2["paired_bootstrap_ci95"]
            out += [
                f"Paired by seed ({len(c2['paired_seeds'])} seeds): mean difference "
                f"{c2['paired_mean_difference']:.1f}, 95% bootstrap CI [{ci[0]:.1f}, {ci[1]:.1f}]; "
                f"relative drop without copying {100 * c2['relative_drop_without_copy']:.0f}%.",
            ]
    c3 = res["C3"]
    out += ["", "## C3: fidelity correlation (Spearman)", ""]
    if c3["status"] != "done":
        out.append(f"Running / to resume: {c3['missing']}")
    else:
        out += [
            f"{c3['configurations']} random-search configurations (`{c3['study']}`).",
            "",
            "| low budget (MPC trials) | full budget | n | Spearman rho | p (two-sided) |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| {p['low']} | {p['high']} | {p['n']} | {_p(p['rho'])} | {_p(p['p_two_sided'])} |"
            for p in c3["pairs"]
        ]
    c4 = res["C4_ours"]
    out += ["", "## C4 (ours): hyperparameter vs trial in the PBT (copy) studies", ""]
    out += [
        f"Status: {c4['status']}"
        + (f"; running / to resume: {c4['missing']}" if c4["missing"] else ""),
        "",
    ]
    if c4["per_seed"]:
        out += [
            "| hyperparameter | rho per seed (all member-trials) | seeds with rho > 0 | "
            "sign test p (two-sided) |",
            "|---|---|---|---|",
        ]
        for hp, st in c4["sign_test"].items():
            rhos = ", ".join(_p(v[hp]["rho_all_member_trials"]) for v in c4["per_seed"].values())
            out.append(
                f"| {hp} | {rhos} | {st['positive']} of {st['n']} | "
                f"{_p(st['sign_test_p_two_sided'])} |"
            )
    c4p = res["C4_paper"]
    out += ["", "## C4 (paper's schedules): direction over runs", ""]
    if c4p["status"] == "done":
        out += [
            "| hyperparameter | runs: last quarter below / above first | sign test p | "
            "files: rho < 0, p < 0.05 / rho > 0, p < 0.05 (of those that change) |",
            "|---|---|---|---|",
        ]
        for hp, v in c4p["summary"].items():
            out.append(
                f"| {hp} | {v['runs_last_quarter_below_first']} / "
                f"{v['runs_last_quarter_above_first']} | {_p(v['sign_test_p_two_sided'])} | "
                f"{v['rho_lt_0_p_lt_0.05']} / {v['rho_gt_0_p_lt_0.05']} "
                f"(of {v['schedules_that_change']}) |"
            )
    else:
        out.append(f"Missing: {c4p['missing']}")
    return "\n".join(out) + "\n"


def _meta() -> dict[str, Any]:
    import datetime
    import platform
    import subprocess

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "commit": commit,
        "generated": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
    }


# ---------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", default="fidelity-runs", help="scripts/fidelity.sh's output folder")
    ap.add_argument("--out", default="docs/fidelity", help="where the JSON, CSV and PNG go")
    ap.add_argument(
        "--schedules",
        default=str(Path(__file__).resolve().parents[2] / "shared/data/paper-learned-schedules"),
        help="the paper's learned schedules (default: shared/ beside the repository)",
    )
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument(
        "--archive",
        default=None,
        help="also copy the finished databases and their small JSON files here (to commit)",
    )
    args = ap.parse_args()
    runs, out = Path(args.runs), Path(args.out)
    if not runs.is_dir():
        raise SystemExit(
            f"--runs: expected the folder scripts/fidelity.sh writes, got {runs} (not a folder)"
        )
    out.mkdir(parents=True, exist_ok=True)
    res = {
        "meta": _meta(),
        "C1": claim1(runs, out),
        "C2": claim2(runs, out, args.seeds),
        "C3": claim3(runs, out),
        "C4_ours": claim4_ours(runs, out, args.seeds),
        "C4_paper": claim4_paper(Path(args.schedules), out),
    }
    text = json.dumps(_clean(res), indent=1)
    (out / "claims.json").write_text(text + "\n")
    (out / "results.md").write_text(results_markdown(res))
    if args.archive:
        print(f"archived to {args.archive}: {archive(runs, Path(args.archive))}")
    for claim, r in res.items():
        if claim == "meta":
            continue
        status = r.get("status") or {k: v.get("status") for k, v in r.items()}
        print(f"{claim}: {status}")


if __name__ == "__main__":
    main()
