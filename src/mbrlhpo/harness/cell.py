"""One cell of a suite: a task, a method and (for a tuning method) a study seed.

A tuning cell runs its study with ``mbrlhpo.tune`` (its own database under ``DIR/cells/...``,
so a killed cell resumes from it), takes the study's winner (best configuration, or best
schedule for PBT/PBT-BT, as ``mbrlhpo evaluate`` does) and re-scores it on every test seed
(``mbrlhpo.harness.rescore``). An untuned cell (``defaults``, ``replay``) runs only the test
runs, once per task. A finished cell is ``cell.json`` in its directory.

``run_cell`` takes only plain data (the suite's content), so it runs alike in this process, in
a worker process or as a Ray task.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mbrlhpo.catalog import POPULATION_METHODS
from mbrlhpo.harness.rescore import (
    defaults_schedule,
    finite_or_none,
    fit_schedule,
    hardware,
    test_run,
)
from mbrlhpo.harness.state import write_json


@dataclass(frozen=True)
class Cell:
    task: str
    method: str  # the suite's label of the method
    study_seed: int | None  # None for an untuned method

    def name(self) -> str:
        seed = "untuned" if self.study_seed is None else f"seed{self.study_seed}"
        return f"{self.task}/{self.method}/{seed}"


def cells_of(content: dict[str, Any]) -> list[Cell]:
    """Every cell of a suite's content, in the order tasks x methods x study seeds."""
    out = []
    for task in content["tasks"]:
        for label, spec in content["methods"].items():
            if spec["method"] in ("defaults", "replay"):
                out.append(Cell(task, label, None))
            else:
                seeds = spec.get("seeds", content["seeds"]["study"])  # a method's own, if set
                out += [Cell(task, label, s) for s in seeds]
    return out


def cell_dir(root: Path, cell: Cell) -> Path:
    safe = [re.sub(r"[^A-Za-z0-9_.-]", "_", p) for p in cell.name().split("/")]
    return root / "cells" / Path(*safe)


def finished(root: Path, cell: Cell) -> dict[str, Any] | None:
    """The cell's stored result, or None if it has not finished."""
    path = cell_dir(root, cell) / "cell.json"
    return json.loads(path.read_text()) if path.is_file() else None


def run_cell(
    content: dict[str, Any], cell: Cell, root: str | Path, threads: int | None = None
) -> dict[str, Any]:
    """Runs (or resumes, or reads back) one cell; returns its result (JSON data)."""
    root = Path(root)
    done = finished(root, cell)
    if done is not None:
        return done
    if threads is not None:
        import torch

        torch.set_num_threads(threads)  # cells in parallel share the machine's cores
    d = cell_dir(root, cell)
    d.mkdir(parents=True, exist_ok=True)
    spec = content["methods"][cell.method]
    n = 1 + content["budget"]["trials"]  # every test run: the random trial + the MPC trials
    profile = content["profile"]
    study: dict[str, Any] | None = None
    if spec["method"] == "defaults":
        schedule, fixed = defaults_schedule(
            cell.task, profile, content["defaults"], content["agent"], n
        )
    elif spec["method"] == "replay":
        schedule, fixed = fit_schedule(spec["schedule"], content["agent"], n)
    else:
        study, schedule, fixed, profile = _tune(content, cell, spec, d / "study.db", n)
    tests = [
        test_run(
            cell.task,
            schedule,
            seed,
            profile,
            fixed,
            content["last_k"],
            d / f"test-{seed}.json",
        )
        for seed in content["seeds"]["test"]
    ]
    result = {
        "cell": asdict(cell),
        "kind": spec["method"],
        "winner": schedule,
        "fixed": fixed,
        "study": study,
        "tests": tests,
    }
    write_json(d / "cell.json", result)
    return result


def _tune(
    content: dict[str, Any], cell: Cell, spec: dict[str, Any], db: Path, n: int
) -> tuple[dict[str, Any], list[dict], dict[str, Any], str]:
    """The cell's study (resumed if ``db`` holds it) and its winner as a schedule of ``n``."""
    from mbrlhpo.analysis.evaluate import evaluation_plan
    from mbrlhpo.analysis.records import read_study
    from mbrlhpo.tuning import run_spec, study_spec

    method = spec["method"]
    trials = content["budget"]["trials"]
    kwargs: dict[str, Any] = {
        "group": spec.get("group", content["group"]),
        "population": spec.get("population", content["budget"]["population"]),
        "searched": spec.get("searched"),
        "space_overrides": {k: tuple(v) for k, v in spec.get("space", {}).items()} or None,
        "agent_overrides": dict(content["agent"]) or None,
    }
    if method in ("pbt", "pbt-bt"):
        kwargs["pbt_interval"] = spec.get("pbt_interval")
        kwargs["copy"] = spec.get("copy", "all")
    if method in ("hyperband", "bohb"):
        kwargs["budgets"] = tuple(spec.get("budgets", (max(1, trials // 3), trials)))
        kwargs["hb_iterations"] = spec.get("hb_iterations")
    spec = study_spec(
        cell.task,
        method,
        trials=trials,
        seed=cell.study_seed,
        profile=content["profile"],
        defaults=content["defaults"],
        last_k=content["last_k"],
        **kwargs,
    )
    # The defaults are a method of the suite, run on the test seeds: no baseline here.
    run_spec(spec, db, baseline=False)
    rec = read_study(db)
    plan = evaluation_plan(rec, trials=n)
    trials_done = rec["trials"]
    if method in POPULATION_METHODS:  # rounds: every member's trial t before any trial t + 1
        trials_done = sorted(trials_done, key=lambda t: (t["trial"], t["member"]))
    else:  # Hyperband's jobs, in the order they finished
        trials_done = sorted(trials_done, key=lambda t: (t["finished"], t["member"], t["trial"]))
    study = {
        "db": str(db),
        "best_score": finite_or_none(float(rec["best_score"])),
        "trials": [
            {
                "member": t["member"],
                "trial": t["trial"],
                "return": finite_or_none(float(t["ret"]))
                if t["status"] == "ok" and t["ret"] is not None
                else None,
                "wall_time": float(t["wall_time"]),
            }
            for t in trials_done
        ],
        "hardware": hardware(),
    }
    return study, plan["schedules"]["best"], plan["fixed"], plan["profile"]
