"""The README's main job, before vs after a change, timed in one run, with its results compared.

The main job is ``mbrlhpo tune --env cartpole --method pbt --population 8 --trials 15`` (quick
profile, CPU, SQLite). Arms:

- ``after``: this checkout's ``src/``;
- ``before``: the sources of ``--before COMMIT`` (``git archive`` of the whole tree) with the
  native module built from that commit's own ``csrc/`` (``--before-native build``, the default:
  CMake, the ``_core`` target only, a few minutes once; the build is kept under
  ``build/bench_main_job/<commit>/`` and reused), so that native changes are measured too; or,
  with ``--before-native this``, this checkout's module copied in (Python changes only; the
  native sources that differ are listed).

Arms alternate (before, after, before, after, ...) for ``--repeats`` rounds, each in its own
process, so that both see the same machine load; the load is recorded around each. Every run's
trial table (member, trial, return, status) is compared with the first run's: the job is seeded,
so the results must be equal (the column ``same_results``).

Usage: python bench/bench_main_job.py --before 6e58c53 [--repeats 1] [--trials 15]
       [--population 8] [--before-native build|this] [--json bench/results/main_job.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def native_changes(commit: str) -> list[str]:
    """Files under csrc/ (and CMakeLists.txt) that differ between ``commit`` and HEAD other
    than in whitespace, line breaks and trailing commas (all a formatting pass changes)."""
    names = git("diff", "--name-only", commit, "HEAD", "--", "csrc", "CMakeLists.txt").split()

    def tokens(rev: str, name: str) -> str:
        out = subprocess.run(["git", "show", f"{rev}:{name}"], cwd=ROOT, capture_output=True)
        text = "".join(out.stdout.decode(errors="replace").split()) if out.returncode == 0 else ""
        return re.sub(r",([)\]}])", r"\1", text)  # a formatter's trailing commas

    return [n for n in names if tokens(commit, n) != tokens("HEAD", n)]


def extract(commit: str, dest: Path) -> Path:
    """The ``src/`` tree of ``commit`` in ``dest``, with this checkout's native module."""
    archive = subprocess.run(
        ["git", "archive", commit, "src"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    modules = sorted((ROOT / "src" / "mbrlhpo").glob("_core*.so"))
    if not modules:
        raise SystemExit("expected a built native module in src/mbrlhpo/ (scripts/dev_build.sh)")
    for m in modules:
        shutil.copy2(m, dest / "src" / "mbrlhpo" / m.name)
    return dest / "src"


def build_before(commit: str, jobs: int) -> Path:
    """The ``src/`` tree of ``commit`` with the native module built from its own sources, in
    ``build/bench_main_job/<full sha>/`` (reused when already built)."""
    sha = git("rev-parse", commit)
    tree = ROOT / "build" / "bench_main_job" / sha
    modules = sorted((tree / "src" / "mbrlhpo").glob("_core*.so"))
    if modules and (tree / "BUILT").is_file():
        return tree / "src"
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", sha], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    import pybind11

    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    print(f"building the native module of {commit} in {tree} ...", flush=True)
    subprocess.run(
        ["cmake", "-S", str(tree), "-B", str(tree / "build"), *generator,
         f"-DPython_EXECUTABLE={sys.executable}", "-DMBRLHPO_PYTHON=ON",
         "-DMBRLHPO_DEV_INPLACE=ON", "-DMBRLHPO_BUILD_TESTS=OFF",
         f"-Dpybind11_DIR={pybind11.get_cmake_dir()}"],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        ["cmake", "--build", str(tree / "build"), "--target", "_core", "-j", str(jobs)],
        check=True,
    )
    (tree / "BUILT").write_text(sha + "\n")
    return tree / "src"


def trial_rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT member, trial, ret, status FROM trials ORDER BY member, trial"
        ).fetchall()


def run_job(src: Path, work: Path, name: str, args: argparse.Namespace) -> dict:
    db = work / f"{name}.db"
    cmd = [
        sys.executable, "-m", "mbrlhpo", "tune", "--env", "cartpole", "--method", "pbt",
        "--population", str(args.population), "--trials", str(args.trials), "--db", str(db),
    ]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(src))
    load = os.getloadavg()[0]
    before = os.times()
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = os.times()
    if out.returncode != 0:
        raise SystemExit(f"{name}: mbrlhpo tune failed ({out.returncode}):\n{out.stderr[-2000:]}")
    rows = trial_rows(db)
    return {
        "run": name,
        "seconds": wall,
        "cpu_seconds": (after.children_user + after.children_system)
        - (before.children_user + before.children_system),
        "load_before": load,
        "load_after": os.getloadavg()[0],
        "trials": len(rows),
        "trial_seconds_sum": sum_trial_seconds(db),
        "rows": rows,
    }


def sum_trial_seconds(db: Path) -> float:
    with sqlite3.connect(db) as con:
        return float(con.execute("SELECT SUM(wall_time) FROM trials").fetchone()[0] or 0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="the commit to compare with (e.g. 6e58c53)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--population", type=int, default=8)
    ap.add_argument("--trials", type=int, default=15)
    ap.add_argument("--arms", default="before,after", help="which arms to run, in this order")
    ap.add_argument(
        "--before-native",
        choices=("build", "this"),
        default="build",
        help="the before arm's native module: built from --before's sources (default) or "
        "this checkout's",
    )
    ap.add_argument("--jobs", type=int, default=2, help="compile jobs of the before build")
    ap.add_argument(
        "--workdir", type=Path, help="keep the study databases here (default: a temp dir)"
    )
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    arms = [a for a in args.arms.split(",") if a]
    if not set(arms) <= {"before", "after"} or not arms:
        raise SystemExit(f"expected --arms among before,after; got {args.arms!r}")
    changed = native_changes(args.before)
    if changed and args.before_native == "this":
        print(
            f"note: the before arm reuses this checkout's native module; these native sources "
            f"differ between {args.before} and HEAD beyond whitespace (read the diff to be sure "
            f"it is formatting only): {changed}",
            flush=True,
        )
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench_main_job_") as tmp:
        work = args.workdir or Path(tmp)
        (work / "before").mkdir(parents=True, exist_ok=True)
        before_src = (
            build_before(args.before, args.jobs)
            if args.before_native == "build"
            else extract(args.before, work / "before")
        )
        srcs = {"before": before_src, "after": ROOT / "src"}
        for r in range(args.repeats):
            for arm in arms:
                run = run_job(srcs[arm], work, f"{arm}{r}", args)
                run["arm"] = arm
                print(
                    f"{arm:>6} round {r}: {run['seconds']:7.1f} s wall, "
                    f"{run['cpu_seconds']:7.1f} s CPU, load {run['load_before']:.1f}"
                    f"-{run['load_after']:.1f}",
                    flush=True,
                )
                runs.append(run)
    reference = runs[0]["rows"]
    for run in runs:
        run["same_results"] = run.pop("rows") == reference
    best = {arm: min(r["seconds"] for r in runs if r["arm"] == arm) for arm in set(arms)}
    result = {
        "benchmark": "main_job",
        "command": f"mbrlhpo tune --env cartpole --method pbt --population {args.population} "
        f"--trials {args.trials}",
        "before": git("rev-parse", "--short", args.before),
        "after": git("rev-parse", "--short", "HEAD"),
        "native_sources_changed": changed,
        "before_native": (
            f"built from {args.before}'s sources"
            if args.before_native == "build"
            else "this checkout's module"
        ),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "time": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
        },
        "versions": {"python": platform.python_version()},
        "runs": runs,
        "speedup_best": best["before"] / best["after"] if len(best) == 2 else None,
        "all_same_results": all(r["same_results"] for r in runs),
    }
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
