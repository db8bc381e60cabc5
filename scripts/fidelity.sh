#!/usr/bin/env bash
# The paper's four claims at laptop scale (docs/fidelity.md): runs every experiment, then writes
# the statistics and figures.
#
#   scripts/fidelity.sh [OUT_DIR]            # default: fidelity-runs/ (ignored by git)
#   scripts/fidelity.sh --analyze [OUT_DIR]  # only turn the finished databases into results
#
# Resumable: every experiment is a study with its own SQLite database under OUT_DIR; re-running
# skips finished ones (a `<name>.done` marker next to the database) and resumes unfinished ones
# from their last stored round (`mbrlhpo tune` resumes a study found in its --db). An
# evaluation keeps each finished arm, a replay is rerun whole.
# Three streams run side by side (experiments within a stream run one after another); run the
# whole script under `nice -n 19` on a shared machine.
#
# Environment: PYTHON (default python), PAPER_SCHEDULES (folder of the paper's learned
# schedules, default ../shared/data/paper-learned-schedules beside the repository; the replay is skipped without
# it), FIDELITY_RESULTS (where the analysis writes, default docs/fidelity).
set -euo pipefail

analyze_only=0
if [[ "${1:-}" == "--analyze" ]]; then
  analyze_only=1
  shift
fi
OUT="${1:-fidelity-runs}"
PY="${PYTHON:-python}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# The paper's schedules ship in the project's shared/ folder, beside the repository.
SCHED="${PAPER_SCHEDULES:-$ROOT/../shared/data/paper-learned-schedules}"
RESULTS="${FIDELITY_RESULTS:-docs/fidelity}"
# One thread per study: three streams share the machine's cores, and torch's OpenMP workers
# spin while they wait; measured on a loaded 2-core host, a stream with 2 threads spent 88% of
# its CPU time spinning in libgomp and finished no PBT round in 24 minutes. The planner's
# results do not depend on its thread count; torch's training may differ in the last bits.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
mkdir -p "$OUT"

# The scale (docs/fidelity.md, "Scale"): Reacher, quick profile, model-training group. The
# FIDELITY_* variables exist for a smoke test of this script (tests use tiny values); the
# page's results use these defaults.
ENV="${FIDELITY_ENV:-reacher}"
PROFILE=quick
TRIALS="${FIDELITY_TRIALS:-8}" # MPC trials per member after the random one: 9 trials per run
SEEDS="${FIDELITY_SEEDS:-0 1 2 3 4}"
PBT_POP="${FIDELITY_PBT_POP:-4}"
PBT_INTERVAL="${FIDELITY_PBT_INTERVAL:-2}"
RS_POP="${FIDELITY_RS_POP:-12}"

log() { echo "[fidelity $(date -u +%H:%M:%S)] $*"; }

# tune NAME ARGS...: one study, skipped when finished, resumed when interrupted.
tune() {
  local name="$1"
  shift
  if [[ -f "$OUT/$name.done" ]]; then
    log "$name: finished, skipped"
    return 0
  fi
  log "$name: running (log $OUT/$name.log)"
  rm -f "$OUT/$name.failed"
  if ! "$PY" -m mbrlhpo tune --env "$ENV" --profile "$PROFILE" --group model \
    --trials "$TRIALS" --db "$OUT/$name.db" "$@" >>"$OUT/$name.log" 2>&1; then
    touch "$OUT/$name.failed" # an evaluation waiting for it stops waiting
    log "$name: FAILED (see $OUT/$name.log); re-running the script resumes it"
    return 1
  fi
  touch "$OUT/$name.done"
  log "$name: done"
}

# evaluate NAME: the final scenario (best vs the defaults, 5 seeds) of a finished study.
evaluate() {
  local name="$1"
  while [[ ! -f "$OUT/$name.done" ]]; do # the study runs in another stream
    if [[ -f "$OUT/$name.failed" ]]; then
      log "$name evaluation: skipped, the study failed"
      return 1
    fi
    sleep 30
  done
  if [[ -f "$OUT/$name.study/evaluation/evaluation.json" ]]; then
    log "$name evaluation: finished, skipped"
    return 0
  fi
  log "$name evaluation: running (log $OUT/$name.evaluate.log)"
  if ! "$PY" -m mbrlhpo evaluate --db "$OUT/$name.db" --seeds "$(wc -w <<<"$SEEDS")" \
    >>"$OUT/$name.evaluate.log" 2>&1; then
    log "$name evaluation: FAILED (see $OUT/$name.evaluate.log)"
    return 1
  fi
  log "$name evaluation: done"
}

# replay_paper: the paper's learned Reacher model-training schedule (its first 1 + TRIALS
# entries) against the defaults as a constant schedule, same seeds, same profile.
replay_paper() {
  local paper="$SCHED/reacher_pbt_model_train_incumbent.json"
  if [[ ! -f "$paper" ]]; then
    log "replay: $paper not found (set PAPER_SCHEDULES), skipped"
    return 0
  fi
  local n=$((1 + TRIALS))
  "$PY" - "$OUT/reacher_default_model_schedule.json" "$n" "$PROFILE" <<'EOF' || return 1
import json, sys
from mbrlhpo.agent import default_hparams
from mbrlhpo.hpo.space import GROUPS
d = default_hparams("reacher", sys.argv[3]).to_dict()
json.dump([{k: d[k] for k in GROUPS["model"]}] * int(sys.argv[2]), open(sys.argv[1], "w"))
EOF
  local arm src
  for arm in paper_pbt default; do
    if [[ -f "$OUT/replay_$arm/replay.json" ]]; then
      log "replay $arm: finished, skipped"
      continue
    fi
    src="$paper"
    [[ "$arm" == default ]] && src="$OUT/reacher_default_model_schedule.json"
    log "replay $arm: running (log $OUT/replay_$arm.log)"
    if ! "$PY" -m mbrlhpo replay --schedule "$src" --env "$ENV" --profile "$PROFILE" \
      --trials "$n" --seeds $SEEDS --out "$OUT/replay_$arm" >"$OUT/replay_$arm.log" 2>&1; then
      log "replay $arm: FAILED (see $OUT/replay_$arm.log)"
      return 1
    fi
    log "replay $arm: done"
  done
}

# C2 (and C4): PBT with and without copying the history, 5 study seeds per arm (paired: the
# same seed gives both arms the same initial population).
# stream_pbt ARM COPY: the 5 seeds of one arm (c2_pbt_<ARM>_sS, `--copy COPY`).
stream_pbt() {
  local s rc=0
  for s in $SEEDS; do
    tune "c2_pbt_$1_s$s" --method pbt --population "$PBT_POP" --interval "$PBT_INTERVAL" \
      --seed "$s" --copy "$2" --no-baseline || rc=1
  done
  return "$rc"
}
# C3: random search (every configuration runs the whole budget; its scores at lower budgets
# are the low fidelities). C1: the final scenario of PBT (seed 0) and of random search.
stream_rs() {
  local rc=0
  tune c3_random_s0 --method random --population "$RS_POP" --seed 0 || rc=1
  evaluate c2_pbt_copy_s0 || rc=1
  [[ -f "$OUT/c3_random_s0.done" ]] && { evaluate c3_random_s0 || rc=1; }
  replay_paper || rc=1
  return "$rc"
}

if [[ "$analyze_only" == 0 ]]; then
  stream_pbt copy all &
  p1=$!
  stream_pbt nocopy hparams &
  p2=$!
  stream_rs &
  p3=$!
  rc=0
  wait "$p1" || rc=1
  wait "$p2" || rc=1
  wait "$p3" || rc=1
  if [[ "$rc" != 0 ]]; then
    log "an experiment failed (see the logs in $OUT); analysing what finished"
  fi
fi
log "analysis -> $RESULTS"
"$PY" "$ROOT/scripts/fidelity_analyze.py" \
  --runs "$OUT" --schedules "$SCHED" --out "$RESULTS" --archive "$RESULTS/studies"
