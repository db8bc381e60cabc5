"""``mbrlhpo export``: the best agent of a study as a policy file for the C++ core."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write the policy of a study's best agent (for examples/cpp_controller)",
    )
    p.add_argument("--db", type=Path, required=True, help="study database")
    p.add_argument("--out", type=Path, required=True, help="policy file to write (.safetensors)")
    p.add_argument(
        "--study-dir",
        type=Path,
        default=None,
        help="the study's directory (default: next to the database, <db stem>.study)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mbrlhpo.agent import PETSAgent
    from mbrlhpo.runner.best import best_checkpoint, export_best

    if args.out.suffix != ".safetensors":
        raise ValueError(f"expected --out ending in .safetensors, got {str(args.out)!r}")
    print(f"best checkpoint: {best_checkpoint(args.db, args.study_dir)}", flush=True)
    print(f"policy: {export_best(args.db, args.out, PETSAgent, args.study_dir)}")
    return 0
