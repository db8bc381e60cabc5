"""The import contract: cli -> tuning -> runner -> agent -> planning/envs -> _native, with hpo,
store, models (and the runner's protocol) at the bottom; nothing imports upward.

Every ``import`` in src/mbrlhpo counts, also those inside functions (lazy imports are still
dependencies). A module may import its own layer or any layer below it.
"""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "mbrlhpo"

# Top first. ``runner.protocol`` is the runner's contract with members: members (the agent)
# implement it, so it sits at the bottom and imports nothing of mbrlhpo.
LAYERS: list[tuple[str, set[str]]] = [
    (
        "cli",
        {
            "__main__",
            "cli",
            "cli_bench",
            "cli_checks",
            "cli_errors",
            "cli_evaluate",
            "cli_export",
            "cli_pets",
            "cli_report",
            "cli_tune",
            "info",
            "progress",
        },
    ),  # fmt: skip
    ("harness", {"harness"}),  # benchmark suites: runs studies (tuning) and replays (analysis)
    ("analysis", {"analysis", "video"}),  # reports, replays and videos of finished agents
    ("tuning", {"tuning", "integrations", "integrations.ray_tune"}),  # ray_tune: PETS for Tune
    ("runner", {"runner", "integrations.ray_local"}),  # ray_local: starting a loopback Ray
    ("agent", {"agent"}),
    ("planning/envs", {"planning", "envs", "gym_registration"}),
    ("_native", {"_native"}),
    (
        "bottom",
        {
            "hpo",
            "store",
            "models",
            "limits",
            "catalog",
            "protocol_rows",
            "atomic_file",
            "lazy_exports",
            "runner.protocol",
            "_core",
            "mbrlhpo",
        },
    ),
]
# The one edge allowed upward: ``import mbrlhpo`` must register the gymnasium ids (a side effect
# gymnasium users rely on); gym_registration imports the env layer only inside gymnasium's hook.
ALLOWED_UPWARD = {("mbrlhpo", "gym_registration")}
RANK = {unit: rank for rank, (_, units) in enumerate(LAYERS) for unit in units}
LAYER_NAME = {unit: name for name, units in LAYERS for unit in units}


def unit_of(module: str, package: Path) -> str:
    """The layer unit of a dotted module name: ``mbrlhpo.runner.study`` -> ``runner``."""
    parts = module.split(".")
    if len(parts) == 1:
        return "mbrlhpo"  # the package root: lazy exports and __version__ only
    if parts[1] == "runner" and len(parts) > 2 and parts[2] == "protocol":
        return "runner.protocol"
    if parts[1] == "integrations" and len(parts) > 2:
        return f"integrations.{parts[2]}"  # each adapter sits at the layer it adapts
    return parts[1]


def imports_of(path: Path, package: Path) -> list[tuple[int, str]]:
    """(line, imported mbrlhpo module) for every import in ``path``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
            if node.module == "mbrlhpo":
                # ``from mbrlhpo import _native`` names a module; ``__version__`` the root.
                for a in node.names:
                    sub = (package / a.name).with_suffix(".py").exists() or (
                        package / a.name
                    ).is_dir()
                    out.append((node.lineno, f"mbrlhpo.{a.name}" if sub else "mbrlhpo"))
            elif node.module:
                out.append((node.lineno, node.module))
    return [(line, m) for line, m in out if m == "mbrlhpo" or m.startswith("mbrlhpo.")]


def violations(package: Path) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        src_unit = unit_of(module, package)
        if src_unit not in RANK:
            found.append(f"{path}: module {module} is in no layer (add it to LAYERS)")
            continue
        for line, target in imports_of(path, package):
            dst_unit = unit_of(target, package)
            if dst_unit not in RANK:
                found.append(f"{path}:{line}: imports {target}, which is in no layer")
            elif src_unit == "runner.protocol" and dst_unit != "runner.protocol":
                found.append(f"{path}:{line}: the runner's protocol imports {target}")
            elif (src_unit, dst_unit) in ALLOWED_UPWARD:
                continue
            elif RANK[dst_unit] < RANK[src_unit]:
                found.append(
                    f"{path}:{line}: {module} ({LAYER_NAME[src_unit]}) imports {target} "
                    f"({LAYER_NAME[dst_unit]}), a layer above it"
                )
    return found


def test_nothing_imports_upward():
    assert violations(SRC) == []


# The runner sees members only through runner.protocol: a member's code (the agent, its models)
# reaches it by injection (the factory, ``member.train_population``, ``export_best``'s class).
RUNNER_NEVER_IMPORTS = {"agent", "models"}


def runner_violations(package: Path) -> list[str]:
    """Imports of the agent or the models by the runner, and import cycles among its modules."""
    found, graph = [], {}
    for path in sorted((package / "runner").glob("*.py")):
        module = f"mbrlhpo.runner.{path.stem}".removesuffix(".__init__")
        deps = set()
        for line, target in imports_of(path, package):
            if unit_of(target, package) in RUNNER_NEVER_IMPORTS:
                found.append(f"{path}:{line}: the runner imports {target} (inject it instead)")
            if target.startswith("mbrlhpo.runner.") and target != module:
                deps.add(target)
        graph[module] = deps

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    return trail + [start]
                if nxt not in trail:
                    stack.append((nxt, trail + [nxt]))
        return None

    cycles = {tuple(sorted(set(c))): c for m in graph if (c := cycle_from(m))}
    found += [f"import cycle in the runner: {' -> '.join(c)}" for c in cycles.values()]
    return found


def test_the_runner_imports_no_member_code_and_no_module_of_it_twice_around():
    assert runner_violations(SRC) == []


def test_the_catalog_imports_nothing():
    """mbrlhpo.catalog (task names, tunables, profiles) is dependency-free: the CLIs build their
    parsers from it without loading NumPy, torch or anything of mbrlhpo. It imports ``os`` only
    (loaded by every interpreter at start-up) to find the built-in tasks' definition files."""
    tree = ast.parse((SRC / "catalog.py").read_text())
    imported = [
        a.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for a in node.names
    ]
    assert set(imported) <= {"__future__", "os"}, imported
    code = "import sys, mbrlhpo.catalog; print(sorted({'numpy', 'torch'} & set(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(SRC.parent)},
    )
    assert out.stdout.strip() == "[]"


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "mbrlhpo"
    shutil.copytree(SRC, dst, ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    return dst


@pytest.mark.parametrize(
    ("file", "line"),
    [
        ("hpo/objective.py", "from mbrlhpo.runner.study import run_study"),
        ("agent/hparams.py", "    import mbrlhpo.tuning"),  # lazy, inside a block
        ("runner/protocol.py", "from mbrlhpo.store import sqlite_store"),
        ("planning/__init__.py", "from mbrlhpo import agent"),
    ],
)
def test_a_planted_upward_import_is_found(tmp_path, file, line):
    package = _copy(tmp_path)
    target = package / file
    body = f"if False:\n{line}\n" if line.startswith(" ") else f"{line}\n"
    target.write_text(target.read_text() + "\n" + body)
    found = violations(package)
    assert len(found) == 1 and file in found[0], found


@pytest.mark.parametrize(
    ("file", "line", "found"),
    [
        (
            "runner/executors.py",
            "    from mbrlhpo.models import train_population",
            "imports mbrlhpo.models",
        ),
        ("runner/best.py", "    from mbrlhpo.agent import PETSAgent", "imports mbrlhpo.agent"),
        ("runner/results.py", "    from mbrlhpo.runner.best import export_best", "import cycle"),
    ],
)
def test_a_planted_runner_import_is_found(tmp_path, file, line, found):
    package = _copy(tmp_path)
    target = package / file
    target.write_text(target.read_text() + f"\nif False:\n{line}\n")
    got = runner_violations(package)
    assert len(got) == 1 and found in got[0], got
