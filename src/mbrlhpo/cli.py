"""The ``mbrlhpo`` command line."""

from __future__ import annotations

import argparse
import json
import sys

from mbrlhpo import __version__


def _cmd_info(args: argparse.Namespace) -> int:
    from mbrlhpo.info import build_info

    if args.cmake_dir:
        from mbrlhpo.info import cmake_dir

        print(cmake_dir())
        return 0 if cmake_dir().is_dir() else 1
    info = build_info()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    width = max(len(k) for k in info)
    for key, value in info.items():
        print(f"{key:<{width}}  {value}")
    return 0 if info["native"] else 1


def build_parser() -> argparse.ArgumentParser:
    from mbrlhpo.cli_checks import OneLineParser

    parser = OneLineParser(
        prog="mbrlhpo",
        description="Hyperparameter optimisation of model-based RL (PETS on MuJoCo).",
    )
    parser.add_argument("--version", action="version", version=f"mbrlhpo {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an error (also MBRLHPO_DEBUG=1)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    info = sub.add_parser("info", help="versions, build options, BLAS, MuJoCo and CUDA")
    info.add_argument("--json", action="store_true", help="print a JSON object")
    info.add_argument(
        "--cmake-dir", action="store_true", help="print the CMake package dir (mbrlhpo_DIR)"
    )
    info.set_defaults(func=_cmd_info)
    from mbrlhpo.cli_pets import add_parser as add_pets

    add_pets(sub)
    from mbrlhpo.cli_tune import add_parser as add_tune

    add_tune(sub)
    from mbrlhpo.cli_report import add_parsers as add_report

    add_report(sub)
    from mbrlhpo.cli_evaluate import add_parser as add_evaluate

    add_evaluate(sub)
    from mbrlhpo.cli_export import add_parser as add_export

    add_export(sub)
    from mbrlhpo.cli_bench import add_parser as add_bench

    add_bench(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from mbrlhpo.cli_errors import report

    try:
        return args.func(args)
    except (Exception, KeyboardInterrupt) as exc:  # known errors: one line, no traceback
        return report(exc, args.debug)


if __name__ == "__main__":
    sys.exit(main())
