"""scripts/gpu_check.sh: its usage and the no-GPU exit code (its dry run is the ctest
gpu_check_dry_run; the full dry run rebuilds the project, too slow for the suite)."""

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu_check.sh"


def test_usage_and_bad_arguments():
    out = subprocess.run(["bash", str(SCRIPT), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--dry-run" in out.stdout
    bad = subprocess.run(["bash", str(SCRIPT), "--fast"], capture_output=True, text=True)
    assert bad.returncode == 2 and "usage" in bad.stderr


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="nvidia-smi present")
def test_exits_77_without_a_gpu():
    out = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 77 and "no GPU here" in out.stdout


PREPARE = SCRIPT.parent / "prepare_gpu_wheels.sh"


def test_prepare_dry_run_lists_what_it_would_carry_without_network():
    """--dry-run only reads: it names every pinned wheel and the MuJoCo library, says which
    .gpu_carry/ holds, and exits 1 exactly when something is missing."""
    out = subprocess.run(
        ["bash", str(PREPARE), "--dry-run"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode in (0, 1), out.stderr
    for name in ("scipy-openblas32==", "gymnasium==", "farama-notifications==", "mujoco C library"):
        assert name in out.stdout
    assert (out.returncode == 1) == ("missing" in out.stdout)
    bad = subprocess.run(["bash", str(PREPARE), "--fast"], capture_output=True, text=True)
    assert bad.returncode == 2 and "usage" in bad.stderr
