#!/usr/bin/env bash
# The GPU check of the CUDA planner in one command (CUDA.md 5.4), at most 7 minutes on an H100 or
# H200 machine (16 cores, no network). From the repository root:
#   scripts/gpu_check.sh            on the GPU machine (carry .gpu_carry from
#                                   scripts/prepare_gpu_wheels.sh); results under $OUT
#   scripts/gpu_check.sh --dry-run  anywhere: the same steps on the host launcher, no GPU needed
# Steps: build (CUDA sm_90, -j16) -> ctest (the CUDA tests run there) -> gpu_check (CudaPlanner
# vs CemPlanner on six tasks, float32 and TF32; paper-setting timings, 1 and 40 members) ->
# pytest -m cuda -> compute-sanitizer memcheck/racecheck/synccheck/initcheck on gpu_check
# --small -> bench/bench_cuda_planner.py (GEMM rates, torch reference, mbrl-lib if carried).
# Exit: 0 all passed, 1 a step failed, 77 no GPU (and not --dry-run).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
dry=0
case "${1:-}" in
  --dry-run) dry=1 ;;
  "") ;;
  -h|--help) sed -n 2,12p "$0"; exit 0 ;;
  *) echo "usage: scripts/gpu_check.sh [--dry-run]" >&2; exit 2 ;;
esac
if [ $dry -eq 0 ] && ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_check.sh: no GPU here (nvidia-smi finds none): skipped; use --dry-run"
  exit 77
fi
# The time limits below are the GPU machine's (16 cores; the whole is cut at 400 s, within the
# 7 minutes). A dry run checks the harness on whatever host runs it (2 busy cores build from
# scratch in about 10 minutes), so its limits are 5 times longer.
scale=1
[ $dry -eq 1 ] && scale=5
OUT="${OUT:-$root/build/gpu_check_out}"
mkdir -p "$OUT"
start=$SECONDS
failed=()
step() {  # step NAME SECONDS COMMAND...: runs with a time limit, logs to $OUT/NAME.txt
  local name=$1 limit=$(( $2 * scale ))
  shift 2
  if [ $(( SECONDS - start )) -gt $(( 400 * scale )) ]; then  # on a GPU: within 7 minutes
    echo "== $name: skipped (over the time budget)"; failed+=("$name(skipped)"); return 1
  fi
  echo "== $name ($(( SECONDS - start )) s)"
  timeout "$limit" "$@" >"$OUT/$name.txt" 2>&1
  local rc=$?
  tail -n 25 "$OUT/$name.txt"
  [ $rc -eq 0 ] || { echo "-- $name: exit $rc"; failed+=("$name($rc)"); }
  return $rc
}

if [ $dry -eq 0 ]; then
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,memory.total \
    --format=csv | tee "$OUT/device.txt"
  site="$root/build/gpu_site" # the carried wheels, installed inside the checkout (ignored)
  if [ -d .gpu_carry/wheels ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target "$site" .gpu_carry/wheels/*.whl && export PYTHONPATH="$site"
  fi
  export MBRL_ANCHOR="$root/.gpu_carry/anchor/mbrl_lib_speed.py"
  sanitizer="$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer \
    "$site/nvidia/cu13/bin/compute-sanitizer" 2>/dev/null | head -n 1 || true)"
  build="$root/build/gpu"
  cuda_flags=(-DMBRLHPO_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90)
else
  build="$root/build/gpu_dry"
  cuda_flags=(-DMBRLHPO_CUDA=AUTO)
fi
# MuJoCo's C library and headers as prepare_gpu_wheels.sh carries them (no mujoco wheel there);
# the dry run takes them too where they are, so it configures as the GPU machine will
[ -d .gpu_carry/mujoco ] && cuda_flags+=(-DMUJOCO_DIR="$root/.gpu_carry/mujoco")
python="$(command -v python3)"
pybind_dir="$("$python" -c 'import pybind11; print(pybind11.get_cmake_dir())')"
step configure 120 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPython_EXECUTABLE="$python" -Dpybind11_DIR="$pybind_dir" -DMBRLHPO_PYTHON=ON \
  -DMBRLHPO_DEV_INPLACE=ON "${cuda_flags[@]}"
step build 240 cmake --build "$build" -j "$(nproc)"
step ctest 120 ctest --test-dir "$build" --output-on-failure
check="$build/tests/cpp/gpu_check"
if [ $dry -eq 1 ]; then
  step gpu_check 120 "$build/tests/cpp/gpu_check_dry" --dry-run --small --json "$OUT/gpu_check.json"
else
  step gpu_check 180 "$check" --json "$OUT/gpu_check.json"
  step pytest_cuda 150 env PYTHONPATH="src:${PYTHONPATH:-}" "$python" -m pytest -q -m cuda \
    tests/planning tests/agent
  if [ -n "$sanitizer" ]; then
    for tool in memcheck racecheck synccheck initcheck; do
      step "sanitizer_$tool" 60 "$sanitizer" --tool "$tool" --error-exitcode 9 "$check" --small
    done
  else
    echo "compute-sanitizer not found (neither on PATH nor carried)"; failed+=("sanitizer")
  fi
  step bench 150 env PYTHONPATH="src:${PYTHONPATH:-}" "$python" bench/bench_cuda_planner.py \
    --json "$OUT/bench_cuda_planner.json"
fi
echo "== done in $(( SECONDS - start )) s; results in $OUT"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all steps passed"
