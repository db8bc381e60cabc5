"""scripts/gpu_check_sections.py, the GPU check's section runner, on the host launcher: the
gpu_check program's dry run (gpu_check_dry, built by any CMake build of the tests) at tiny
shapes. The results JSON is rewritten after every section and survives a kill; a section past its
limit is cut, and sections past the window are skipped and said so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "scripts" / "gpu_check_sections.py"


def find_check() -> Path | None:
    """The dry-run program: $MBRLHPO_GPU_CHECK_DRY, else the newest one under build/."""
    if os.environ.get("MBRLHPO_GPU_CHECK_DRY"):
        return Path(os.environ["MBRLHPO_GPU_CHECK_DRY"])
    found = sorted(
        ROOT.glob("build/*/cuda/gpu_check/gpu_check_dry"), key=lambda p: p.stat().st_mtime
    )
    return found[-1] if found else None


CHECK = find_check()
pytestmark = pytest.mark.skipif(
    CHECK is None, reason="no gpu_check_dry built (a CMake build with the tests makes it)"
)


def runner(out: Path, *args: str) -> list[str]:
    base = [sys.executable, "-u", str(RUNNER), "--check", str(CHECK), "--dry-run"]
    return base + ["--out", str(out), *args]


def results(out: Path) -> dict:
    return json.loads((out / "gpu_check_results.json").read_text())


def test_sections_run_in_order_and_the_json_is_rewritten_after_each(tmp_path):
    only = "time_tf32_1,parity_paper,sanitizer_memcheck,conformance"
    proc = subprocess.Popen(
        runner(tmp_path, "--no-rest", "--only", only),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen = set()  # (sections recorded, of which finished) while it runs
    while proc.poll() is None:
        try:
            doc = results(tmp_path)  # never half a file: it is replaced atomically
        except FileNotFoundError:
            continue
        if not doc["complete"]:
            seen.add((len(doc["sections"]), sum("status" in s for s in doc["sections"])))
        time.sleep(0.02)
    stdout = proc.stdout.read()
    assert proc.returncode == 0, stdout
    doc = results(tmp_path)
    assert doc["complete"] and doc["pass"] and doc["dry_run"]
    assert [s["section"] for s in doc["sections"]] == only.split(",")
    assert all(s["status"] == "pass" for s in doc["sections"])
    # intermediate states were on disk: at least two sections finished one after another
    assert len({finished for _, finished in seen}) >= 2, seen
    timing = doc["sections"][0]["results"][0]
    assert timing["members"] == 1 and timing["gemm"] == "tf32" and timing["ms"] > 0
    assert {r["gemm"] for r in doc["sections"][1]["results"]} == {"tf32", "float32"}
    assert all(r["pass"] for r in doc["sections"][3]["results"])
    # few files come back: the JSON, the log archive, the summary
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "gpu_check_logs.tar.gz",
        "gpu_check_results.json",
        "summary.txt",
    ]
    with tarfile.open(tmp_path / "gpu_check_logs.tar.gz") as tar:
        names = tar.getnames()
    assert sorted(names) == sorted(f"gpu_check_logs/{n}.txt" for n in only.split(","))
    # the summary table is the last lines of stdout
    lines = stdout.strip().splitlines()
    table = lines[-(len(only.split(",")) + 3) :]
    assert table[0].startswith("== summary (dry run") and table[-1].startswith("== all sections")
    assert (tmp_path / "summary.txt").read_text().strip().splitlines() == table


def test_a_killed_run_keeps_the_sections_it_finished(tmp_path):
    proc = subprocess.Popen(
        runner(tmp_path, "--no-rest"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own group: the kill takes the running section too
    )
    try:
        deadline = time.time() + 60
        finished = 0
        while finished < 2 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
            try:
                finished = sum("status" in s for s in results(tmp_path)["sections"])
            except FileNotFoundError:
                pass
        assert finished >= 2, "two sections did not finish within 60 s"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    doc = results(tmp_path)
    assert not doc["complete"]
    done = [s for s in doc["sections"] if "status" in s]
    assert [s["section"] for s in done[:2]] == ["time_tf32_1", "time_tf32_40"]
    assert all(s["status"] == "pass" and s["results"][0]["ms"] > 0 for s in done)
    with tarfile.open(tmp_path / "gpu_check_logs.tar.gz") as tar:
        log = tar.extractfile("gpu_check_logs/time_tf32_1.txt").read().decode()
    assert "time_tf32_1: passed" in log


def test_a_section_past_its_limit_is_cut_and_the_window_skips_the_rest(tmp_path):
    # a 0.3 s limit for a section that takes seconds: cut, and reported
    out = subprocess.run(
        runner(tmp_path, "--no-rest", "--only", "time_tf32_40", "--scale", "0.005"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    section = results(tmp_path)["sections"][0]
    assert section["status"] == "TIMEOUT" and section["rc"] is None
    assert "FAILED" in out.stdout.strip().splitlines()[-1]
    # a window already spent: nothing starts, every section says why
    spent = tmp_path / "spent"
    out = subprocess.run(
        runner(spent, "--no-rest", "--window", "300", "--started", str(time.time() - 295)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    doc = results(spent)
    assert doc["complete"] and all(s["status"] == "skipped" for s in doc["sections"])
    assert doc["skipped_for_window"][0] == "time_tf32_1"
    assert "cut by the window" in out.stdout.strip().splitlines()[-1]


def test_unknown_section_is_one_clear_line(tmp_path):
    out = subprocess.run(
        runner(tmp_path, "--only", "time_tf32_1,nope"), capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "nope" in out.stderr
    assert "expected some of" in out.stderr and "Traceback" not in out.stderr
