"""The test-only bindings live in mbrlhpo._core_testing, never in the production mbrlhpo._core,
and nothing in the package imports them."""

import subprocess
import sys
from pathlib import Path

import pytest

import mbrlhpo
from mbrlhpo import _native

pytestmark = pytest.mark.skipif(not _native.available(), reason="native core not built")

# Every binding that only tests call (a grep of src/mbrlhpo finds no other use).
TEST_ONLY = {
    "builtin_tasks",
    "bf16_matmul",
    "bf16_round",
    "cuda_self_test",
    "default_num_threads",
    "mujoco_smoke_test",
    "parse_model_file",
    "planner_task_info",
    "rng_bits",
    "rng_truncated_normal",
    "sha256_hex",
    "task_model_input",
    "task_names",
    "task_reward",
    "task_reward_f32",
    "task_terminated",
}


def public_names(module) -> set[str]:
    return {name for name in dir(module) if not name.startswith("_")}


def test_test_only_bindings_are_in_the_testing_module_alone():
    from mbrlhpo import _core_testing

    production = public_names(_native.core())
    testing = public_names(_core_testing) - {"NativeError"}
    assert testing == TEST_ONLY
    assert not production & TEST_ONLY, f"test-only bindings in _core: {production & TEST_ONLY}"


def test_testing_module_errors_are_value_errors():
    from mbrlhpo import _core_testing

    assert issubclass(_core_testing.NativeError, ValueError)
    with pytest.raises(_core_testing.NativeError, match="no native planner task named 'walker'"):
        _core_testing.planner_task_info("walker")


def test_the_package_never_imports_the_testing_module():
    package = Path(mbrlhpo.__file__).parent
    users = [
        str(path.relative_to(package))
        for path in sorted(package.rglob("*"))
        if path.suffix in (".py", ".pyi") and "_core_testing" in path.read_text(encoding="utf-8")
    ]
    assert not users, f"expected only tests to use mbrlhpo._core_testing, got {users}"


def test_planner_test_tasks_are_registered_by_the_testing_module_only():
    """The production registry holds the built-in tasks; importing _core_testing adds
    test_linear and test_pendulum (a fresh process: other tests import it)."""
    code = (
        "from mbrlhpo import _native\n"
        "before = set(_native.core().planner_task_names())\n"
        "import mbrlhpo._core_testing\n"
        "after = set(_native.core().planner_task_names())\n"
        "print(sorted(before & {'test_linear', 'test_pendulum'}), sorted(after - before))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[] ['test_linear', 'test_pendulum']"
