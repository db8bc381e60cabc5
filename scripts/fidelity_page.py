#!/usr/bin/env python3
"""Regenerates docs/fidelity.md from a claims-suite bench dir (issue 26), in one command:

    python scripts/fidelity_page.py runs/claims [--docs docs] [--paper-schedules DIR]

Archives what the page reads into DOCS/fidelity/claims/ (no machine paths), computes every
claim from that archive (so the repository's copy recomputes the page), and writes
DOCS/fidelity/claims.json and DOCS/fidelity.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mbrlhpo.analysis.claims_page import (
    archive_bench,
    claims_results,
    fidelity_markdown,
    load_bench,
)

HERE = Path(__file__).resolve().parent


def shown(bench_dir: Path) -> str:
    """The bench dir as the page names it: relative to the repository, else a placeholder (no
    machine paths on the page)."""
    try:
        return str(bench_dir.resolve().relative_to(HERE.parent))
    except ValueError:
        return "<dir>"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bench_dir", type=Path, help="the --out of `mbrlhpo bench claims.toml`")
    ap.add_argument("--docs", type=Path, default=HERE.parent / "docs")
    ap.add_argument(
        "--paper-schedules",
        type=Path,
        default=HERE.parent.parent / "shared" / "data" / "paper-learned-schedules",
        help="automl/HPO_for_RL's learned_schedule/ (C4's re-analysis; skipped if absent)",
    )
    args = ap.parse_args()
    if not (args.bench_dir / "harness.json").is_file():
        sys.exit(f"error: {args.bench_dir} holds no bench run (no harness.json)")
    archive = args.docs / "fidelity" / "claims"
    archive_bench(args.bench_dir, archive)
    results = claims_results(archive, args.paper_schedules)
    (args.docs / "fidelity" / "claims.json").write_text(json.dumps(results, indent=1) + "\n")
    page = fidelity_markdown(results, load_bench(archive)["suite"], shown(args.bench_dir))
    (args.docs / "fidelity.md").write_text(page)
    print(f"wrote {args.docs / 'fidelity.md'} ({results['family']} tests)")


if __name__ == "__main__":
    main()
