"""The GPU check's section runner: runs each section as its own process, in the order of value,
each under a time limit cut to what is left of the whole device window, and rewrites one results
JSON (atomically) and one log archive after every section, so a run killed at any point keeps
everything it measured. The last lines of stdout are a summary table (measured against the static
model's prediction where there is one).

  python scripts/gpu_check_sections.py --check BIN [--dry-run] [--out DIR] [--window S]
      [--started EPOCH] [--sanitizer PATH] [--only NAME,...] [--no-rest] [--prediction JSON]

scripts/gpu_check.sh runs it (on the GPU machine, and with --dry-run anywhere). Writes at most
three files under --out: gpu_check_results.json, gpu_check_logs.tar.gz, summary.txt.
Exit: 0 every section passed, 1 a section failed or was cut, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS, LOGS, SUMMARY = "gpu_check_results.json", "gpu_check_logs.tar.gz", "summary.txt"
SANITIZER_TOOLS = ("memcheck", "racecheck", "synccheck", "initcheck")
# Seconds kept back from the window for the archive, the summary and the device tool's copy.
RESERVE_S = 15
# A section given less than this is not started (it could not finish).
MIN_SECTION_S = 8


@dataclass
class Section:
    name: str
    budget_s: int  # its own limit on the GPU machine; a dry run multiplies it (--scale)
    command: list[str]
    what: str  # one line for the summary
    # gpu_check's own JSON of this section (None for the non-gpu_check sections)
    check_json: Path | None = None
    ok_codes: tuple[int, ...] = (0,)
    skip_codes: tuple[int, ...] = ()  # e.g. 77: nothing to run here (recorded, not a failure)
    result: dict = field(default_factory=dict)


def check_sections(check: str, dry: bool, work: Path, sanitizer: str | None) -> list[Section]:
    """The gpu_check program's sections, in the order of value for a short window."""
    base = [check] + (["--dry-run"] if dry else [])

    def program(name: str, budget: int, what: str, small: bool = False) -> Section:
        out = work / f"{name}.json"
        # a dry run is always at small shapes (the emulator runs 2^20 probes in minutes)
        small = small or dry
        cmd = base + (["--small"] if small else []) + ["--section", name, "--json", str(out)]
        return Section(name, budget, cmd, what, check_json=out)

    sections = [
        program("time_tf32_1", 40, "TF32, 1 member, paper step"),
        program("time_tf32_40", 60, "TF32, 40 members, paper step"),
        program("time_fp32_1", 45, "float32, 1 member, paper step"),
        program("parity_paper", 60, "CUDA vs CPU planner at 4 x 200, E 5"),
    ]
    for tool in SANITIZER_TOOLS:
        # a tiny plan under each tool; in a dry run (no sanitizer) the same plan without it
        s = program("plan_tiny", 35, f"compute-sanitizer {tool} on a tiny plan", small=True)
        s.name = f"sanitizer_{tool}"
        s.check_json = work / f"{s.name}.json"
        s.command = s.command[:-1] + [str(s.check_json)]
        if not dry:
            # no sanitizer there: the section fails (it says so) rather than pass unchecked
            s.command = (
                [sanitizer, "--tool", tool, "--error-exitcode", "9"] + s.command
                if sanitizer
                else []
            )
        sections.append(s)
    sections += [
        program("conformance", 45, "emulator primitives vs the hardware"),
        program("parity_tasks", 60, "CUDA vs CPU planner, six tasks"),
        program("time_fp32_40", 90, "float32, 40 members, paper step"),
    ]
    return sections


def rest_sections(dry: bool, build: Path, python: str) -> list[Section]:
    """After the program: the Python module (built there), its GPU tests and the benchmark."""
    env_py = ["env", f"PYTHONPATH={ROOT / 'src'}:{os.environ.get('PYTHONPATH', '')}", python]
    script = ["env", f"GPU_CHECK_BUILD={build}", "bash", str(ROOT / "scripts" / "gpu_check.sh")]
    return [
        Section(
            "build_module",
            150,
            script + ["--build-module"] + (["--dry-run"] if dry else []),
            "the Python module with CUDA (configure, build)",
        ),
        Section(
            "pytest_cuda",
            120,
            env_py + ["-m", "pytest", "-q", "-m", "cuda", "tests/planning", "tests/agent"],
            "pytest -m cuda",
            ok_codes=(0,),
            skip_codes=(5,),  # no test collected
        ),
        Section(
            "bench",
            150,
            env_py + ["bench/bench_cuda_planner.py", "--json", str(build / "bench.json")],
            "bench_cuda_planner.py (torch, mbrl-lib)",
            skip_codes=(77,),
        ),
    ]


def predictions(path: Path) -> dict[tuple[str, int], float]:
    """The static model's rollout time per paper step (bench/static_model.py's JSON), by
    (precision, members), of the block size the driver picks there; empty when the file is
    absent or has no predictions."""
    try:
        rows = json.loads(path.read_text()).get("predictions", [])
    except (OSError, ValueError):
        return {}
    out = {}
    for r in rows:
        kernel = str(r.get("kernel", ""))
        if "HalfCheetah" not in kernel or "model_ms" not in r:
            continue
        if r.get("driver_choice") is False:  # a block size the driver does not pick there
            continue
        precision = "tf32" if "Tf32" in kernel else "float32" if "Fp32" in kernel else None
        if precision:
            out[(precision, int(r.get("members", 0)))] = float(r["model_ms"])
    return out


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def archive(logs: Path, out: Path) -> None:
    """All logs in one archive (the device tool brings back few files), replaced atomically."""
    tmp = out / (LOGS + ".tmp")
    with tarfile.open(tmp, "w:gz") as tar:
        for f in sorted(logs.iterdir()):
            tar.add(f, arcname=f"gpu_check_logs/{f.name}")
    os.replace(tmp, out / LOGS)


def headline(section: Section) -> str:
    """The section's key number for the summary table."""
    r = section.result
    items = r.get("results") or []
    if items and "ms" in items[0]:
        t = items[0]
        text = f"{t['ms']:.2f} ms, {t['tflops']:.2f} TFLOP/s ({t['members']} member(s))"
        if r.get("predicted_ms") is not None:
            text += f"; model {r['predicted_ms']:.2f} ms"
        return text
    if items and "returns_rel" in items[0]:
        worst = max(i["returns_rel"] for i in items)
        bad = sum(i["elite_not_near_tie"] for i in items)
        return f"{len(items)} plans, returns rel {worst:.1e}, {bad} elites off"
    if items and "probe" in items[0]:
        return f"{sum(i['pass'] for i in items)}/{len(items)} probes ok"
    return r.get("note") or r.get("last_line", "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", required=True, help="the gpu_check program (gpu_check_dry: dry run)")
    ap.add_argument("--dry-run", action="store_true", help="the host launcher, no GPU")
    ap.add_argument("--out", default=os.environ.get("OUT", str(ROOT / "build" / "gpu_check_out")))
    ap.add_argument("--window", type=float, default=330.0, help="seconds for the whole run")
    ap.add_argument("--started", type=float, default=None, help="epoch the window began")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every section's limit")
    ap.add_argument("--sanitizer", default=None, help="compute-sanitizer's path")
    ap.add_argument("--only", default="", help="comma-separated section names")
    ap.add_argument("--no-rest", action="store_true", help="only the gpu_check sections")
    ap.add_argument("--build", default=str(ROOT / "build" / "gpu"), help="the module's build")
    ap.add_argument(
        "--prediction", default=str(ROOT / "bench" / "results" / "static_model_after.json")
    )
    args = ap.parse_args(argv)
    started = args.started if args.started is not None else time.time()
    deadline = started + args.window
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # the logs live outside $OUT (only the archive goes back) and survive a kill of this process
    work = Path(tempfile.mkdtemp(prefix="gpu_check_", dir=os.environ.get("TMPDIR")))
    logs = work / "logs"
    logs.mkdir()
    sections = check_sections(args.check, args.dry_run, work, args.sanitizer)
    if not args.no_rest:
        sections += rest_sections(args.dry_run, Path(args.build), sys.executable)
    if args.only:
        wanted = args.only.split(",")
        unknown = [w for w in wanted if w not in {s.name for s in sections}]
        if unknown:
            print(
                f"gpu_check_sections: unknown section(s) {', '.join(unknown)}; expected some of "
                f"{', '.join(s.name for s in sections)}",
                file=sys.stderr,
            )
            return 2
        sections = [s for s in sections if s.name in wanted]
    predicted = predictions(Path(args.prediction))
    doc = {
        "dry_run": args.dry_run,
        "window_s": args.window,
        "prediction_source": args.prediction if predicted else None,
        "complete": False,
        "sections": [],
    }

    def save() -> None:
        doc["elapsed_s"] = round(time.time() - started, 1)
        write_atomic(out / RESULTS, json.dumps(doc, indent=1))
        archive(logs, out)

    save()
    for s in sections:
        left = deadline - RESERVE_S - time.time()
        limit = min(s.budget_s * args.scale, left)
        entry = {"section": s.name, "what": s.what, "limit_s": round(max(limit, 0), 1)}
        doc["sections"].append(entry)
        s.result = entry
        if left < MIN_SECTION_S:
            entry.update(status="skipped", note=f"window: {left:.0f} s left")
            print(f"== {s.name}: skipped ({left:.0f} s of the window left)", flush=True)
            save()
            continue
        print(f"== {s.name} (limit {limit:.0f} s, {time.time() - started:.0f} s in)", flush=True)
        if not s.command:
            entry.update(status="FAIL", note="compute-sanitizer not found (PATH, /usr/local/cuda)")
            print(f"-- {s.name}: FAIL ({entry['note']})", flush=True)
            save()
            continue
        log = logs / f"{s.name}.txt"
        t0 = time.time()
        with log.open("w") as f:
            f.write("$ " + " ".join(s.command) + "\n")
            f.flush()
            try:
                proc = subprocess.Popen(
                    s.command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
                )
            except OSError as e:
                entry.update(status="FAIL", note=f"could not start: {e}")
                print(f"-- {s.name}: could not start ({e})", flush=True)
                save()
                continue
            try:
                rc = run_streaming(proc, f, t0 + limit)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        entry["seconds"] = round(time.time() - t0, 1)
        entry["rc"] = rc
        tail = [line for line in log.read_text().splitlines()[1:] if line.strip()]
        if tail:
            entry["last_line"] = tail[-1].strip()[:160]
        if rc is None:
            entry["status"] = "TIMEOUT"
        elif rc in s.ok_codes:
            entry["status"] = "pass"
        elif rc in s.skip_codes:
            entry["status"] = "skipped"
            entry["note"] = f"exit {rc}: nothing to run here"
        else:
            entry["status"] = "FAIL"
        if s.check_json is not None and s.check_json.exists():
            # what the program measured, even when it failed or was cut after a section
            try:
                program = json.loads(s.check_json.read_text())
                entry["device"] = program.get("device")
                entry["results"] = [r for p in program["sections"] for r in p["results"]]
                errors = [p["error"] for p in program["sections"] if "error" in p]
                if errors:
                    entry["note"] = errors[0][:300]
            except (ValueError, KeyError) as e:
                entry["note"] = f"unreadable program JSON: {e}"
        items = entry.get("results") or []
        if items and "ms" in items[0] and items[0].get("paper_setting"):
            entry["predicted_ms"] = predicted.get((items[0]["gemm"], items[0]["members"]))
        print(f"-- {s.name}: {entry['status']} in {entry['seconds']} s", flush=True)
        save()
    doc["complete"] = True
    doc["pass"] = all(e["status"] in ("pass", "skipped") for e in doc["sections"])
    doc["skipped_for_window"] = [
        e["section"] for e in doc["sections"] if "window" in e.get("note", "")
    ]
    save()
    table = summary(sections, doc)
    (out / SUMMARY).write_text(table + "\n")
    print(table, flush=True)
    shutil.rmtree(work, ignore_errors=True)
    return 0 if doc["pass"] and not doc["skipped_for_window"] else 1


def run_streaming(proc: subprocess.Popen, log, until: float) -> int | None:
    """Copies the process's output line by line to the log and to stdout (prefixed) until it
    ends or `until` passes; returns its exit code, None if it was cut."""
    import selectors

    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    while True:
        left = until - time.time()
        if left <= 0:
            return None
        if not sel.select(timeout=min(left, 1.0)):
            if proc.poll() is not None:
                break
            continue
        line = proc.stdout.readline()
        if not line:
            break
        log.write(line)
        log.flush()
        print("   " + line.rstrip("\n"), flush=True)
    try:
        return proc.wait(timeout=max(0.0, until - time.time()))
    except subprocess.TimeoutExpired:
        return None


def summary(sections: list[Section], doc: dict) -> str:
    rows = [("section", "status", "s", "result")]
    for s in sections:
        e = s.result
        rows.append((s.name, e.get("status", "?"), str(e.get("seconds", "-")), headline(s)))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["== summary (" + ("dry run, host launcher" if doc["dry_run"] else "GPU") + ")"]
    for r in rows:
        lines.append("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])
    verdict = "all sections passed" if doc["pass"] else "FAILED"
    if doc["skipped_for_window"]:
        verdict += f"; cut by the window: {', '.join(doc['skipped_for_window'])}"
    lines.append(f"== {verdict} in {doc['elapsed_s']} s")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
