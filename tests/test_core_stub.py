"""src/mbrlhpo/_core.pyi lists the built module's API: every name, method and parameter."""

import ast
import importlib.util
from pathlib import Path

import pytest

import mbrlhpo
from mbrlhpo import _native

pytestmark = pytest.mark.skipif(not _native.available(), reason="native core not built")

ROOT = Path(__file__).resolve().parents[1]
STUB = Path(mbrlhpo.__file__).parent / "_core.pyi"
FIX = "run `PYTHONPATH=src python scripts/make_core_stub.py` and commit src/mbrlhpo/_core.pyi"


def generator():
    spec = importlib.util.spec_from_file_location(
        "make_core_stub", ROOT / "scripts/make_core_stub.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def definitions(tree: ast.Module) -> dict[str, ast.AST]:
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out.setdefault(node.name, node)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = node
    return out


def params(node: ast.FunctionDef) -> list[str]:
    a = node.args
    return [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]


def members(node: ast.ClassDef) -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = {}
    for item in node.body:
        if isinstance(item, ast.FunctionDef):
            out.setdefault(item.name, []).append(params(item))
    return out


def test_stub_and_marker_ship_with_the_package():
    assert STUB.is_file(), FIX
    assert (STUB.parent / "py.typed").is_file()


def test_stub_lists_every_name_with_its_parameters():
    committed = definitions(ast.parse(STUB.read_text()))
    fresh = definitions(ast.parse(generator().render(_native.core())))
    missing = sorted(set(fresh) - set(committed))
    assert not missing, f"names of the built module missing from the stub: {missing}; {FIX}"
    for name, node in fresh.items():
        have = committed[name]
        assert type(have) is type(node), f"{name}: stub has a {type(have).__name__}; {FIX}"
        if isinstance(node, ast.FunctionDef):
            assert params(have) == params(node), f"{name}: parameters differ; {FIX}"
        elif isinstance(node, ast.ClassDef):
            assert members(have) == members(node), f"class {name}: members differ; {FIX}"
