"""The packages' PEP 562 exports (mbrlhpo/lazy_exports.py): a name's module loads on first use,
once, and an unknown name is an AttributeError naming the package."""

import sys
import types

import pytest

from mbrlhpo.lazy_exports import lazy_getattr


def test_a_name_loads_its_module_once_and_stays():
    pkg = types.ModuleType("fakepkg")
    sys.modules["fakepkg"] = pkg
    try:
        pkg.__getattr__ = lazy_getattr("fakepkg", {"dumps": "json"}, ("sub",))
        import json

        assert pkg.dumps is json.dumps
        assert "dumps" in vars(pkg)  # kept: the next read does not call __getattr__
        with pytest.raises(ModuleNotFoundError):
            _ = pkg.sub  # a subpackage is imported as fakepkg.sub
        with pytest.raises(AttributeError, match="module 'fakepkg' has no attribute 'nope'"):
            _ = pkg.nope
    finally:
        del sys.modules["fakepkg"]
