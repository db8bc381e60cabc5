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
