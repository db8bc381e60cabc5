"""``report(db, out_dir)`` and ``compare(dbs, out_dir)``: figures, a markdown summary and the
numbers as JSON for one study or several."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mbrlhpo.analysis.records import (
    compare_studies,
    failures,
    fidelity_correlations,
    final_scores,
    learning_curves,
    read_study,
    score_histogram,
    searched_names,
    summarize,
    top_bottom_curves,
    top_schedule,
)
from mbrlhpo.analysis.verdict import anytime, anytime_text, best_vs_defaults, evaluation_verdict


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return f"{v:.4g}"
    return str(v)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


def _clean(obj: Any) -> Any:
    """Non-finite floats as strings (``"-inf"``, ``"nan"``) so the JSON is standard."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    if isinstance(obj, Mapping):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def _write_json(path: Path, obj: Any) -> Path:
    path.write_text(json.dumps(_clean(obj), indent=2, default=_json_default) + "\n")
    return path


def _config_table(
    cfg: Mapping[str, Any] | None, base: Mapping[str, Any] | None, names: Sequence[str]
) -> list[str]:
    if not cfg:
        return ["(none)"]
    keys = list(names) or sorted(cfg)
    lines = ["| hyperparameter | best | defaults |", "|---|---|---|"]
    for k in keys:
        lines.append(f"| {k} | {_fmt(cfg.get(k))} | {_fmt((base or {}).get(k))} |")
    return lines


def report(
    db: str | os.PathLike,
    out_dir: str | os.PathLike,
    k: int = 5,
    plots: bool = True,
    bins: int = 20,
    mismatch: bool = True,
) -> dict[str, Path]:
    """Writes the analyses of the study in ``db`` to ``out_dir``.

    Files: ``summary.md`` (best configuration/schedule, score vs the defaults, failures,
    lineage counts, Hyperband fidelity correlations), ``summary.json`` (the same numbers plus
    the curves), and with ``plots`` (needs matplotlib) ``learning_curves.png`` (Fig. 1/4),
    ``scores_histogram.png`` (Fig. 3), ``schedule.png`` (the top-``k`` hyperparameters over
    trials, Fig. 4/9; population methods), ``fidelity.png`` (Fig. 2; Hyperband/BOHB),
    ``top_bottom.png`` (Fig. 10: the top-``k`` and bottom-``k`` configurations' returns) and,
    with ``mismatch`` and the final checkpoints of at least two members,
    ``objective_mismatch.png`` (A.6, Figs. 11-12: on- and off-policy NLL of the top-``k`` vs
    bottom-``k`` members' models; numbers in summary.json). Returns the written paths by name.
    """
    rec = read_study(db)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = searched_names(rec)
    summ = summarize(rec, k)
    curves = learning_curves(rec, k)
    summ["anytime"] = study_anytime(rec, curves)
    summ["versus_defaults"] = best_vs_defaults_text(rec, summ)
    scores = final_scores(rec)
    hist = score_histogram(scores, bins)
    population = rec["method"] not in ("hyperband", "bohb")
    sched = top_schedule(rec["trials"], rec["schedule"], k, names) if population else []
    fidelity = fidelity_correlations(rec["hb_jobs"]) if not population else []
    base = rec.get("baseline")
    title = f"{rec['method']}" + (f" on {summ['env']}" if summ.get("env") else "")
    tb = top_bottom_curves(rec, k)
    mm, mm_note = None, None
    if mismatch:
        from mbrlhpo.analysis.mismatch import objective_mismatch

        try:
            mm = objective_mismatch(db, k=k)
        except ValueError as exc:  # no final checkpoints: say why in the summary
            mm_note = str(exc)
    paths: dict[str, Path] = {}
    if plots:
        from mbrlhpo.analysis import plots as P

        paths["learning_curves"] = P.plot_learning_curves(
            curves, out / "learning_curves.png", title
        )
        if any(math.isfinite(s["score"]) for s in scores):
            paths["scores_histogram"] = P.plot_histogram(
                scores,
                out / "scores_histogram.png",
                bins,
                title,
                None if base is None else base["score"],
            )
        if sched and names:
            paths["schedule"] = P.plot_schedule(
                sched,
                out / "schedule.png",
                names,
                f"{title}: top-{summ['top_k']} hyperparameters",  # the count drawn, not asked
                None if base is None else base["config"],
            )
        if any(p["n"] > 0 for p in fidelity):
            paths["fidelity"] = P.plot_fidelity(fidelity, out / "fidelity.png", title)
        if tb["k"] > 0:
            paths["top_bottom"] = P.plot_top_bottom(
                tb, out / "top_bottom.png", f"{title}: top-{tb['k']} vs bottom-{tb['k']}", names
            )
        if mm is not None:
            paths["objective_mismatch"] = P.plot_mismatch(
                mm, out / "objective_mismatch.png", f"{title}: objective mismatch"
            )
    paths["summary_json"] = _write_json(
        out / "summary.json",
        {
            "summary": summ,
            "curves": curves,
            "top_schedule": sched,
            "final_scores": [
                {k2: s[k2] for k2 in ("member", "score", "budget", "status")} for s in scores
            ],
            "histogram": hist,
            "fidelity": fidelity,
            "best_schedule": rec.get("best_schedule"),
            "failures": failures(rec),
            "top_bottom": tb,
            "objective_mismatch": mm,
        },
    )
    paths["summary_md"] = out / "summary.md"
    paths["summary_md"].write_text(
        _markdown(rec, summ, sched, fidelity, hist, paths, names, mm, mm_note)
    )
    return paths


def best_vs_defaults_text(rec: Mapping[str, Any], summ: Mapping[str, Any]) -> str:
    """The study's best against its defaults, saying what one study (one seed) can claim,
    or, when ``mbrlhpo evaluate`` has run, what its seeds say."""
    ev = rec.get("evaluation")
    if ev:
        return "evaluated: " + evaluation_verdict(
            ev["comparison"],
            ev["curves"]["best"]["final_scenario"][-1],
            ev["curves"]["baseline"]["final_scenario"][-1],
            db=rec.get("db"),
        )
    return "in this study: " + best_vs_defaults(
        summ["best_score"], summ["baseline_score"], seeds=1, db=rec.get("db")
    )


def study_anytime(rec: Mapping[str, Any], curves: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`anytime` of the best lineage's and the defaults' returns."""
    named = {"best": [r["ret"] for r in curves.get("best") or []]}
    if curves.get("baseline"):
        named["defaults"] = [r["ret"] for r in curves["baseline"]]
    return anytime(named)


def _markdown(rec, summ, sched, fidelity, hist, paths, names, mm=None, mm_note=None) -> str:
    lines = [
        f"# Study report: {rec['method']}" + (f" on {summ['env']}" if summ.get("env") else ""),
        "",
    ]
    lines += [
        f"- database: `{rec['db']}`",
        f"- seed: {rec['seed']}",
        f"- searched: {', '.join(names) or '-'}",
        f"- members: {summ['members']}, trials run: {summ['trials']}",
        f"- best member: {_fmt(summ['best_member'])}, "
        f"score {_fmt(summ['best_score'])} (mean of the last "
        f"{rec['settings'].get('last_k', 3)} returns)",
    ]
    if summ["baseline_score"] is not None:
        from mbrlhpo.tuning import describe_baseline

        base = rec.get("baseline") or {}
        lines.append(
            f"- baseline, {describe_baseline(base.get('profile'), base.get('defaults'))}"
            f": score {_fmt(summ['baseline_score'])}"
        )
        lines.append(f"- {best_vs_defaults_text(rec, summ)}")
        lines.append(f"- {anytime_text(summ['anytime'])}")
    else:
        lines.append("- defaults: not run (no baseline.json in the study directory)")
    if summ["top_final_mean"] is not None:
        lines.append(
            f"- top-{summ['top_k']} at the last trial: "
            f"{_fmt(summ['top_final_mean'])} +- {_fmt(summ['top_final_std'])}"
        )
    lines += ["", "## Best configuration", ""]
    lines += _config_table(summ["best_config"], summ["baseline_config"], names)
    best = rec.get("best_schedule") or []
    if rec["method"] in ("pbt", "pbt-bt") and best:
        lines += [
            "",
            "## Best schedule (changes along the best lineage)",
            "",
            "| step | member | trial | " + " | ".join(names) + " |",
            "|---|---|---|" + "---|" * len(names),
        ]
        prev = None
        for i, s in enumerate(best):
            cfg = {n: s["config"].get(n) for n in names}
            if cfg != prev:
                lines.append(
                    f"| {i + 1} | {s['member']} | {s['trial']} | "
                    + " | ".join(_fmt(cfg[n]) for n in names)
                    + " |"
                )
                prev = cfg
    lines += ["", "## Lineage", ""]
    lines += [f"- {kind}: {n}" for kind, n in summ["lineage"].items()]
    lines += ["", "## Failures", ""]
    if summ["failed_trials"]:
        lines.append(f"{summ['failed_trials']} failed or diverged trials:")
        lines += [f"- {cause}: {n}" for cause, n in summ["failure_causes"].items()]
    else:
        lines.append("none")
    if rec["method"] in ("hyperband", "bohb"):
        lines += [
            "",
            "## Hyperband fidelities (Spearman rank correlation)",
            "",
            f"{summ['hb_jobs']} jobs, {summ['hb_failed_jobs']} failed.",
            "",
            "| low budget | high budget | configurations | rho |",
            "|---|---|---|---|",
        ]
        lines += [f"| {p['low']} | {p['high']} | {p['n']} | {_fmt(p['rho'])} |" for p in fidelity]
    ev = rec.get("evaluation")
    if ev:
        c = ev["comparison"]
        lines += [
            "",
            "## Evaluation (final scenario, `mbrlhpo evaluate`)",
            "",
            f"{len(ev['seeds'])} seeds, {ev['trials']} trials; best vs "
            f"{ev['baseline_name']} at the last trial: "
            + evaluation_verdict(
                c,
                ev["curves"]["best"]["final_scenario"][-1],
                ev["curves"]["baseline"]["final_scenario"][-1],
                db=rec["db"],
            )
            + " (full table in the study's evaluation/)",
        ]
    lines += ["", "## Objective mismatch (A.6)", ""]
    if mm is not None:
        lines += [
            f"NLL of the top-{mm['k']} vs bottom-{mm['k']} members' final models: "
            f"on-policy on their own last {mm['last']} trials, off-policy on held-out "
            "trajectories of the other members by return.",
            "",
            "| group | mean score | on-policy NLL | "
            + " | ".join(f"off-policy {b['low']:.3g}..{b['high']:.3g}" for b in mm["bins"])
            + " |",
            "|---|---|---|" + "---|" * len(mm["bins"]),
        ]
        for g in ("top", "bottom"):
            sm = mm["summary"][g]
            lines.append(
                f"| {g} | {_fmt(sm['score'])} | {_fmt(sm['on_policy_nll'])} | "
                + " | ".join(_fmt(x) for x in sm["off_policy_nll"])
                + " |"
            )
    else:
        lines.append(f"not computed: {mm_note or 'disabled'}")
    lines += ["", "## Final scores", "", f"{hist['n']} finite scores, {hist['failed']} failed."]
    figs = [
        n
        for n in (
            "learning_curves",
            "scores_histogram",
            "schedule",
            "fidelity",
            "top_bottom",
            "objective_mismatch",
        )
        if n in paths
    ]
    if figs:
        lines += ["", "## Figures", ""]
        lines += [f"![{n}]({paths[n].name})" for n in figs]
    if sched:
        lines += [
            "",
            f"Top-{summ['top_k']} schedule (mean per trial) is in summary.json (`top_schedule`).",
        ]
    return "\n".join(lines) + "\n"


def compare(
    dbs: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    labels: Sequence[str] | None = None,
    k: int = 5,
    plots: bool = True,
) -> dict[str, Path]:
    """Several studies side by side (e.g. PBT with ``copy="all"`` and ``"hparams"``, Fig. 5):
    ``comparison.md``, ``comparison.json`` and (with ``plots``) ``comparison.png``, the top-``k``
    mean +- std of each study over trials. Returns the written paths by name."""
    if not dbs:
        raise ValueError("expected at least one study database to compare, got none")
    recs = [read_study(db) for db in dbs]
    cmp = compare_studies(recs, labels, k)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    # The count drawn: a study with fewer members than k shows them all.
    k = max((r["n"] for c in cmp["curves"].values() for r in c["top"]), default=k)
    if plots:
        from mbrlhpo.analysis.plots import plot_comparison

        paths["comparison"] = plot_comparison(
            cmp["curves"], out / "comparison.png", f"top-{k} mean +- std"
        )
    paths["comparison_json"] = _write_json(out / "comparison.json", cmp)
    lines = [
        "# Study comparison",
        "",
        f"| study | method | database | best score | defaults | top-{k} final | "
        "failed trials | exploits |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in cmp["rows"]:
        top = (
            "-"
            if r["top_final_mean"] is None
            else f"{_fmt(r['top_final_mean'])} +- {_fmt(r['top_final_std'])}"
        )
        lines.append(
            f"| {r['label']} | {r['method']} | `{r['db']}` | {_fmt(r['best_score'])} "
            f"| {_fmt(r['baseline_score'])} | {top} | {r['failed_trials']} | "
            f"{r['lineage']['exploit']} |"
        )
    from mbrlhpo.tuning import describe_baseline

    names = [
        (
            r["label"],
            describe_baseline(rec["baseline"].get("profile"), rec["baseline"].get("defaults")),
        )
        for r, rec in zip(cmp["rows"], recs, strict=True)
        if rec.get("baseline")
    ]
    if names:
        lines += [
            "",
            "Defaults (baseline) of each study: "
            + "; ".join(f"{label}: {name}" for label, name in names)
            + ".",
        ]
    if "comparison" in paths:
        lines += ["", "![comparison](comparison.png)"]
    paths["comparison_md"] = out / "comparison.md"
    paths["comparison_md"].write_text("\n".join(lines) + "\n")
    return paths
