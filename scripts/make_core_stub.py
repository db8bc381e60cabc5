"""Writes src/mbrlhpo/_core.pyi, the type stub of the pybind11 module, from its signatures.

pybind11 puts each function's typed signature on the first lines of its docstring; this script
turns those into a stub (one block per name, sorted), so type checkers and editors see the
native API. Run it after changing csrc/bindings/ in a build with the CUDA backend (the stub
then also lists the CUDA names; a CPU-only build simply lacks them):

  PYTHONPATH=src python scripts/make_core_stub.py   # rewrites the stub (then ruff-formats it)

tests/test_core_stub.py checks that every name of the built module, with its parameters, is in
the stub.
"""

from __future__ import annotations

import argparse
import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

STUB = Path(__file__).resolve().parents[1] / "src" / "mbrlhpo" / "_core.pyi"
HEADER = '''"""Type stub of mbrlhpo._core (pybind11), written by scripts/make_core_stub.py."""

# ruff: noqa: E501, F401
import collections.abc
import os
import typing

import numpy
import numpy.typing
'''
SIGNATURE = re.compile(r"^(\d+\. )?(\w+)\((.*)\)( -> (.+))?$")


def _clean(text: str) -> str:
    """Module-qualified names made local; defaults pybind11 cannot print become ``...``."""
    text = re.sub(r"\b(mbrlhpo\.)?_core\.", "", text)
    return re.sub(r"= <[^<>]*>", "= ...", text)


def _signatures(obj: object, name: str) -> list[tuple[str, str]]:
    """(parameters, return type) of each overload, from the docstring's signature lines."""
    out = []
    for line in (inspect.getdoc(obj) or "").splitlines():
        m = SIGNATURE.match(line.strip())
        if m and m.group(2) == name:
            out.append((_clean(m.group(3)), _clean(m.group(5) or "None")))
    return out


def _summary(obj: object) -> str:
    """The docstring's text after the signatures (its first line), if any."""
    lines = [
        ln for ln in (inspect.getdoc(obj) or "").splitlines() if ln and not SIGNATURE.match(ln)
    ]
    text = lines[0].strip() if lines and lines[0] != "Overloaded function." else ""
    return text.replace('"""', "'''").replace("\\", "\\\\")


def _function(obj: object, name: str, indent: str, *, method: bool) -> list[str]:
    sigs = _signatures(obj, name)
    if not sigs:
        params = "self, *args: typing.Any, **kwargs: typing.Any" if method else "*args, **kwargs"
        sigs = [(params, "typing.Any")]
    lines = []
    doc = _summary(obj)
    for params, ret in sigs:
        if method:
            params = re.sub(r"^self: [\w.]+", "self", params)
        if len(sigs) > 1:
            lines.append(f"{indent}@typing.overload")
        body = f'\n{indent}    """{doc}"""' if doc else " ..."
        lines.append(f"{indent}def {name}({params}) -> {ret}:{body}")
    return lines


def _class(cls: type) -> list[str]:
    if issubclass(cls, BaseException):
        base = cls.__mro__[1].__name__
        return [f"class {cls.__name__}({base}):", '    """Raised for bad input (one line)."""']
    lines = [f"class {cls.__name__}:"]
    doc = _summary(cls)
    if doc:
        lines.append(f'    """{doc}"""')
    for name, attr in sorted(vars(cls).items()):
        if name.startswith("_") and name != "__init__":
            continue
        if isinstance(attr, property):
            ret = "typing.Any"
            for line in (inspect.getdoc(attr.fget) or "").splitlines():
                m = re.match(r"^\((self|arg0): [\w.]+\) -> (.+)$", line.strip())
                if m:
                    ret = _clean(m.group(2))
            lines += ["    @property", f"    def {name}(self) -> {ret}: ..."]
        elif callable(attr):
            lines += _function(attr, name, "    ", method=True)
    if len(lines) == 1:
        lines.append("    ...")
    return lines


def blocks(core: ModuleType) -> dict[str, str]:
    """One stub block per public name of the module."""
    out: dict[str, str] = {}
    for name in sorted(dir(core)):
        if name.startswith("_"):
            continue
        obj = getattr(core, name)
        if isinstance(obj, type):
            out[name] = "\n".join(_class(obj))
        elif callable(obj):
            out[name] = "\n".join(_function(obj, name, "", method=False))
        else:
            out[name] = f"{name}: {type(obj).__name__}"
    return out


def render(core: ModuleType) -> str:
    return HEADER + "\n\n" + "\n\n".join(blocks(core).values()) + "\n"


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    from mbrlhpo import _native

    STUB.write_text(render(_native.core()))
    if shutil.which("ruff"):
        subprocess.run(["ruff", "format", "--quiet", str(STUB)], check=True)
    print(f"wrote {STUB}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
