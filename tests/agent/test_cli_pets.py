"""``mbrlhpo pets``: runs trials, writes JSON lines and a checkpoint, resumes, rejects bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mbrlhpo.agent import TUNABLE, PETSAgent
from mbrlhpo.cli_pets import TUNABLE as CLI_TUNABLE
from mbrlhpo.cli_pets import parse_overrides

TINY = [
    "--set",
    "epochs=1",
    "--set",
    "iterations=1",
    "--set",
    "population=10",
    "--set",
    "horizon=3",
    "--set",
    "particles=5",
    "--set",
    "alpha=0.2",
]


def pets(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mbrlhpo", "pets", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_names_match_the_agent():
    assert CLI_TUNABLE == TUNABLE


def test_pets_runs_writes_and_resumes(tmp_path):
    out = tmp_path / "run"
    proc = pets(
        "--env", "cartpole", "--trials", "2", "--profile", "quick", "--out", str(out), *TINY
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\ntrial ") + proc.stdout.startswith("trial ") == 2
    # Progress goes to stderr (not a terminal here: plain lines), the results to stdout.
    assert "progress: PETS, 0/2 trials" in proc.stderr and "progress:" not in proc.stdout
    lines = [json.loads(line) for line in (out / "trials.jsonl").read_text().splitlines()]
    assert [r["trial"] for r in lines] == [0, 1]
    assert lines[1]["hparams"]["population"] == 10 and lines[0]["random"]
    agent = PETSAgent.load(out)
    assert agent.trial == 2
    proc = pets("--env", "cartpole", "--trials", "3", "--out", str(out), "--resume")
    assert proc.returncode == 0, proc.stderr
    assert "progress: PETS, 2/3 trials" in proc.stderr  # the trials it resumes after count
    lines = [json.loads(line) for line in (out / "trials.jsonl").read_text().splitlines()]
    assert [r["trial"] for r in lines] == [0, 1, 2]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--env", "walker"], "unknown task"),
        (["--env", "cartpole", "--set", "lr"], "expected NAME=VALUE"),
        (["--env", "cartpole", "--set", "lr=fast"], "expected a number for lr"),
        (["--env", "cartpole", "--set", "colour=3"], "unknown hyperparameters"),
        (["--env", "cartpole", "--trials", "0"], "expected --trials >= 1"),
    ],
)
def test_pets_bad_input_is_one_clear_line(args, message):
    proc = pets(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_parse_overrides_types():
    assert parse_overrides(["population=200", "lr=3e-4"]) == {"population": 200, "lr": 3e-4}
    assert type(parse_overrides(["epochs=5"])["epochs"]) is int
