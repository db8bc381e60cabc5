"""PEP 562 lazy exports: a package's ``__getattr__`` that imports a name's module on first use.

The packages export names whose modules load torch or MuJoCo (about a second); checking a
command's settings, ``--version`` and the gymnasium registration must not pay for that.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_getattr(
    package: str, exports: Mapping[str, str], submodules: Iterable[str] = ()
) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: ``exports`` maps a name to the module that
    defines it; ``submodules`` are ``package``'s subpackages reachable as attributes. A name is
    imported once, then kept in the package's namespace."""
    subs = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        if name in exports:
            value = getattr(importlib.import_module(exports[name]), name)
        elif name in subs:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
