"""The suite's results as one long table: one row per trial, of the test runs and the studies.

``phase`` is ``test`` (a winner, or the defaults, replayed on a held-out test seed: these rows
give the scores) or ``tune`` (a study's own trials on its study seed: the anytime curves).
Empty fields: ``study_seed`` for untuned methods, ``test_seed`` for tuning rows, ``member`` for
test rows, ``return`` for a failed or diverged trial, ``cpu_time_s`` for tuning rows (the study
store keeps wall time only). Written as CSV (empty = missing) and JSON (null = missing).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mbrlhpo.harness.state import write_json

COLUMNS = (
    "suite",
    "phase",
    "task",
    "method",
    "study_seed",
    "test_seed",
    "member",
    "trial",
    "return",
    "wall_time_s",
    "cpu_time_s",
    "hardware",
)
# The type of each column's values (None aside), for readers and for the schema test.
TYPES = {
    "suite": str,
    "phase": str,
    "task": str,
    "method": str,
    "study_seed": int,
    "test_seed": int,
    "member": int,
    "trial": int,
    "return": float,
    "wall_time_s": float,
    "cpu_time_s": float,
    "hardware": str,
}
PHASES = ("test", "tune")


def rows_of(suite: str, results: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The long table of the cells' results (``run_cell``); trials numbered from 1."""
    rows = []
    for r in results:
        cell = r["cell"]
        base = {"suite": suite, "task": cell["task"], "method": cell["method"]}
        for run in r["tests"]:
            for t, ret in enumerate(run["returns"]):
                rows.append(
                    {
                        **base,
                        "phase": "test",
                        "study_seed": cell["study_seed"],
                        "test_seed": run["seed"],
                        "member": None,
                        "trial": t + 1,
                        "return": ret,
                        "wall_time_s": run["wall_time"][t],
                        "cpu_time_s": run["cpu_time"][t],
                        "hardware": run["hardware"],
                    }
                )
        study = r.get("study")
        for tr in (study or {}).get("trials", []):
            rows.append(
                {
                    **base,
                    "phase": "tune",
                    "study_seed": cell["study_seed"],
                    "test_seed": None,
                    "member": tr["member"],
                    "trial": tr["trial"],
                    "return": tr["return"],
                    "wall_time_s": tr["wall_time"],
                    "cpu_time_s": None,
                    "hardware": study["hardware"],
                }
            )
    return [{c: row[c] for c in COLUMNS} for row in rows]


def write_table(rows: list[dict[str, Any]], out: Path) -> dict[str, Path]:
    """``results.csv`` and ``results.json`` in ``out``."""
    paths = {"csv": out / "results.csv", "json": out / "results.json"}
    tmp = paths["csv"].with_name(f".results.csv.{os.getpid()}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    os.replace(tmp, paths["csv"])
    write_json(paths["json"], {"columns": list(COLUMNS), "rows": rows})
    return paths


def read_csv(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The CSV table back with its types (empty fields as None)."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{path}: expected the columns {COLUMNS}, got {reader.fieldnames}")
        return [{k: None if v == "" else TYPES[k](v) for k, v in row.items()} for row in reader]
