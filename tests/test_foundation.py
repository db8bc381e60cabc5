"""The installed package: native module, build facts, MuJoCo linkage, CLI, CMake package."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import mujoco
import numpy as np
import pytest

import mbrlhpo
from mbrlhpo import _native
from mbrlhpo.info import build_info, cmake_dir

PENDULUM = """
<mujoco>
  <option timestep="0.01"/>
  <worldbody><body>
    <joint type="hinge" axis="0 1 0"/>
    <geom type="capsule" fromto="0 0 0 0 0 -1" size="0.05" mass="1"/>
  </body></worldbody>
</mujoco>"""

REPO = Path(__file__).resolve().parents[1]


def run_python(code: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, **kwargs
    )


@pytest.mark.parametrize("mujoco_first", [False, True])
def test_core_imports_in_a_fresh_process(mujoco_first):
    prefix = "import mujoco; " if mujoco_first else ""
    proc = run_python(
        prefix + "from mbrlhpo import _native; print(_native.core().build_info()['version'])"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == mbrlhpo.__version__


def test_build_info_is_right():
    info = build_info()
    assert info["native"] is True
    assert info["version"] == mbrlhpo.__version__
    assert info["mujoco_header_version"] == 4000000
    assert info["mujoco_library_version"] == mujoco.mj_version()
    assert info["mujoco_version"] == mujoco.mj_versionString() == "4.0.0"
    assert "OpenBLAS" in info["blas_config"]
    assert isinstance(info["cuda_compiled"], bool)
    assert isinstance(info["cuda_available"], bool)
    assert info["cuda_available"] == _native.cuda_available()
    if not info["cuda_available"]:
        assert info["cuda_devices"] == []


def test_core_steps_mujoco_exactly_like_mujoco_itself():
    from mbrlhpo import _core_testing

    time, qpos = _core_testing.mujoco_smoke_test(
        PENDULUM.replace("<body>", '<body euler="0 30 0">'), 50
    )
    model = mujoco.MjModel.from_xml_string(PENDULUM.replace("<body>", '<body euler="0 30 0">'))
    data = mujoco.MjData(model)
    for _ in range(50):
        mujoco.mj_step(model, data)
    assert time == pytest.approx(data.time, abs=0)
    np.testing.assert_array_equal(qpos, data.qpos)


def test_bad_mjcf_gives_clear_error():
    from mbrlhpo import _core_testing

    with pytest.raises(ValueError, match="could not compile MJCF"):
        _core_testing.mujoco_smoke_test("<mujoco><worldbody><geom type='nope'/>", 1)
    with pytest.raises(ValueError, match="expected steps >= 0"):
        _core_testing.mujoco_smoke_test(PENDULUM, -1)


def test_cuda_self_test_runs_or_says_why():
    from mbrlhpo import _core_testing

    core = _native.core()
    if core.cuda_available():
        _core_testing.cuda_self_test(0)
        assert core.cuda_devices()
    else:
        with pytest.raises(ValueError, match="CUDA"):
            _core_testing.cuda_self_test(0)


def test_missing_mujoco_library_gives_clear_error(tmp_path):
    # A copy of the installed package with no `mujoco` package beside it: the core's run path
    # ($ORIGIN/../mujoco) finds no libmujoco, and the error must say so.
    installed = Path(mbrlhpo.__file__).parent
    if not (installed / "lib").is_dir():
        pytest.skip("in-place development build: its run paths are absolute, not the wheel's")
    shutil.copytree(installed, tmp_path / "mbrlhpo", ignore=shutil.ignore_patterns("__pycache__"))
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from mbrlhpo import _native\n"
        "try:\n    _native.core()\nexcept _native.NativeUnavailableError as e:\n    print(e)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "libmujoco.so.4.0.0" in proc.stdout
    assert "mujoco==4.0.0" in proc.stdout


def test_wrong_mujoco_version_is_named(monkeypatch):
    monkeypatch.setattr(_native.importlib.metadata, "version", lambda name: "3.3.7")
    problem = _native._mujoco_problem()
    assert "mujoco==3.3.7 is installed" in problem and "4.0.0" in problem


def test_cli_version_and_info():
    proc = subprocess.run(
        [sys.executable, "-m", "mbrlhpo", "--version"], capture_output=True, text=True
    )
    assert proc.stdout.strip() == f"mbrlhpo {mbrlhpo.__version__}"
    proc = subprocess.run(
        [sys.executable, "-m", "mbrlhpo", "info", "--json"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["native"] and info["mujoco_version"] == "4.0.0"
    exe = shutil.which("mbrlhpo", path=str(Path(sys.executable).parent))
    assert exe is not None, "the mbrlhpo console script is not installed"


@pytest.mark.slow
def test_installed_cmake_package_builds_the_example(tmp_path):
    cmake = shutil.which("cmake")
    if cmake is None or not cmake_dir().is_dir():
        pytest.skip("cmake or the installed CMake package is missing")
    build = tmp_path / "build"
    subprocess.run(
        [
            cmake,
            "-S",
            str(REPO / "examples" / "cpp_controller"),
            "-B",
            str(build),
            f"-Dmbrlhpo_DIR={cmake_dir()}",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    subprocess.run([cmake, "--build", str(build)], check=True, capture_output=True, timeout=300)
    from mbrlhpo.agent import PETSAgent

    agent = PETSAgent(
        "cartpole", dict(population=10, horizon=3, particles=5, hidden=16, depth=2), profile="quick"
    )
    agent.run_trial()
    agent.run_trial()
    policy = agent.export(tmp_path / "policy.safetensors")
    proc = subprocess.run(
        [str(build / "cpp_controller"), str(policy), "--steps", "5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "MuJoCo 4.0.0" in proc.stdout and "task cartpole" in proc.stdout

    # Huge but legal CEM settings with a valid checksum: one clear line and exit 1, not an
    # uncaught std::bad_alloc (exit 134) (issue 12, point 10).
    from safetensors.numpy import save_file

    from mbrlhpo.planning.export import policy_checksum, read_policy

    metadata, arrays = read_policy(policy)
    ens = int(metadata["ensemble_size"])
    metadata.update(
        {"cem.population": str(1 << 24), "cem.particles": str(ens * ((1 << 20) // ens))}
    )
    metadata["sha256"] = policy_checksum(arrays, metadata)
    huge = tmp_path / "huge.safetensors"
    save_file(arrays, str(huge), metadata=metadata)
    proc = subprocess.run(
        [str(build / "cpp_controller"), str(huge), "--steps", "5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.startswith("error: ") and "GiB of planner memory" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
