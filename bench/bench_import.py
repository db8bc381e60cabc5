"""Import cost: ``import mbrlhpo`` (which registers the gymnasium ids) against ``import
gymnasium``, and what ``import mbrlhpo`` loads. Each figure is the median over fresh
interpreters (``python -X importtime``), all measured in the same run.

    PYTHONPATH=src python bench/bench_import.py --runs 20 --json bench/results/import.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path


def import_us(code: str, module: str) -> int:
    """Microseconds that ``module``'s import (cumulative) took when running ``code``."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [r for r in out.stderr.splitlines() if r.rstrip().endswith(f"| {module}")]
    return int(rows[-1].split("|")[1])


def loaded_after_import_mbrlhpo() -> dict[str, bool]:
    code = (
        "import sys, mbrlhpo, json; "
        "print(json.dumps({m: m in sys.modules for m in ('gymnasium', 'torch', 'numpy', "
        "'mujoco')}))"
    )
    return json.loads(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    cases = {
        "import mbrlhpo": ("import mbrlhpo", "mbrlhpo"),
        "import gymnasium": ("import gymnasium", "gymnasium"),
        # the hook registers the ids inside gymnasium's import: counted in gymnasium's time
        "import mbrlhpo, then gymnasium": ("import mbrlhpo, gymnasium", "gymnasium"),
    }
    samples: dict[str, list[int]] = {k: [] for k in cases}
    for _ in range(args.runs):  # interleaved, so load changes hit every case alike
        for name, (code, module) in cases.items():
            samples[name].append(import_us(code, module))
    med = {k: statistics.median(v) / 1e3 for k, v in samples.items()}
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent,
    ).stdout.strip()
    import gymnasium

    import mbrlhpo

    res = {
        "median_ms": med,
        "gymnasium_over_mbrlhpo": med["import gymnasium"] / med["import mbrlhpo"],
        "registration_overhead": med["import mbrlhpo, then gymnasium"] / med["import gymnasium"],
        "loaded_by_import_mbrlhpo": loaded_after_import_mbrlhpo(),
        "runs": args.runs,
        "machine": platform.processor() or platform.machine(),
        "commit": commit,
        "mbrlhpo": mbrlhpo.__version__,
        "gymnasium": gymnasium.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg": os.getloadavg(),
    }
    for k, v in med.items():
        print(f"{k:32s} {v:8.1f} ms (median of {args.runs})")
    print(
        f"import gymnasium / import mbrlhpo: {res['gymnasium_over_mbrlhpo']:.1f}x; "
        f"gymnasium with the ids registered / without: {res['registration_overhead']:.2f}"
    )
    print(f"loaded by import mbrlhpo: {res['loaded_by_import_mbrlhpo']}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
