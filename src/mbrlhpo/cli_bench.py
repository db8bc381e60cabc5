"""``mbrlhpo bench``: run (or resume) a benchmark suite of methods x tasks x seeds."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="run a benchmark suite (tasks x methods x seeds, winners re-scored on test seeds)",
    )
    p.add_argument("suite", type=Path, help="the suite file (TOML, see docs/bench.md)")
    p.add_argument(
        "--out", type=Path, required=True, help="output directory (resumed when it exists)"
    )
    p.add_argument("--executor", default="local", choices=("local", "ray"), help="where cells run")
    p.add_argument("--jobs", type=int, default=1, help="cells run at once (default 1)")
    p.add_argument("--ray-address", default=None, help="with --executor ray: the cluster")
    p.add_argument("--no-progress", action="store_true", help="no progress line")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mbrlhpo.harness.bench import bench

    if args.jobs < 1:
        raise ValueError(f"expected --jobs >= 1, got {args.jobs}")
    if not args.suite.is_file():
        raise ValueError(f"expected an existing suite file (TOML), got {str(args.suite)!r}")
    out = bench(
        args.suite,
        args.out,
        jobs=args.jobs,
        executor=args.executor,
        ray_address=args.ray_address,
        progress=not args.no_progress,
    )
    for path in out["paths"].values():
        print(path)
    return 0
