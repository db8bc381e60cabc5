"""The native thread pools keep to the CPUs the process may use (issue 16).

Each case runs in a fresh interpreter: CPU affinity and OMP_NUM_THREADS are set there before the
native module is loaded, as a scheduler (taskset, Slurm, Ray) would set them.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mbrlhpo
from mbrlhpo import _native

pytestmark = pytest.mark.skipif(not _native.available(), reason="native core not built")

# The folder this process imported mbrlhpo from: the source tree with an in-place build, or
# site-packages in CI (the source tree there has no compiled module).
SRC = Path(mbrlhpo.__file__).resolve().parents[1]

# Prints the thread counts of the planner, the batched environments and the default, all made
# with num_threads=0 ("as many as allowed"), after pinning the process to `cpus` (if given).
CHILD = """
import json, os, sys
cpus = json.loads(sys.argv[1])
if cpus is not None:
    os.sched_setaffinity(0, cpus)
from mbrlhpo import _core_testing, _native
from mbrlhpo.envs import VecEnv
core = _native.core()
env = VecEnv("cartpole", 2, seed=0, backend="native")
print(json.dumps({
    "default": _core_testing.default_num_threads(),
    "planner": core.CemPlanner(num_threads=0).num_threads,
    "explicit": core.CemPlanner(num_threads=3).num_threads,
    "env": env._backend._env.num_threads,
}))
"""


def thread_counts(cpus: list[int] | None, omp: str | None) -> dict[str, int]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    # The child imports the same mbrlhpo as this process.
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    if omp is not None:
        env["OMP_NUM_THREADS"] = omp
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(cpus)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


needs_affinity = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this OS"
)


@needs_affinity
def test_one_allowed_cpu_gives_one_thread():
    cpu = min(os.sched_getaffinity(0))
    got = thread_counts([cpu], None)
    assert got == {"default": 1, "planner": 1, "explicit": 3, "env": 1}


def test_omp_num_threads_caps_the_default():
    got = thread_counts(None, "1")
    assert got == {"default": 1, "planner": 1, "explicit": 3, "env": 1}


@needs_affinity
def test_default_is_the_allowed_cpus():
    allowed = len(os.sched_getaffinity(0))
    got = thread_counts(None, None)
    assert got["default"] == got["planner"] == got["env"] == allowed
    # A larger OMP_NUM_THREADS does not raise it above the allowed CPUs; junk is ignored.
    assert thread_counts(None, str(allowed + 5))["default"] == allowed
    assert thread_counts(None, "many")["default"] == allowed
