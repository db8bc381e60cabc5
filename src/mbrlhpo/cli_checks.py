"""Command-line checks that need nothing heavy: a bad value is answered at parse time, before
torch, MuJoCo or the study store are imported and before anything is printed or created."""

from __future__ import annotations

import argparse
import re
import sys

_DEVICE = re.compile(r"(cpu|cuda|mps|xpu)(:\d+)?")
PLANNER_BACKENDS = ("auto", "cpu", "torch", "cuda")


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line and a pointer to ``--help``, not
    argparse's whole usage block above the one useful line (subcommands inherit it)."""

    def error(self, message: str):  # noqa: D102 (argparse's hook)
        print(f"{self.prog}: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


def torch_device(text: str) -> str:
    """``--device``: a torch device name (cpu, cuda, cuda:N, mps, xpu), checked without
    importing torch; whether the device exists is checked when the study starts."""
    if not _DEVICE.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"expected a torch device (cpu, cuda, cuda:N, mps or xpu), got {text!r}"
        )
    return text


def check_planner_backend(name: str) -> None:
    """``--planner cuda`` on a build or machine without CUDA: refused before the study's
    files are made (BackendUnavailable, one line), not after seconds of imports."""
    if name == "cuda":
        from mbrlhpo._native import require_cuda_planner

        require_cuda_planner()
