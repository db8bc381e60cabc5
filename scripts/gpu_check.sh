#!/usr/bin/env bash
# The GPU check of the CUDA planner in one device call of at most 6 minutes (a 15-minute device
# window: the rest is the machine's start and the transfers). From the repository root:
#   scripts/gpu_check.sh            on the GPU machine: carry .gpu_carry (made here by
#                                   scripts/prepare_gpu_wheels.sh); timeout_s about 400
#   scripts/gpu_check.sh --dry-run  anywhere: the same sections on the host launcher (emulator)
#   WINDOW=S (default 330; dry run 900) is the whole run's deadline, counted from the start.
# What it does: the carried gpu_check program (sm_90, static cudart) is started; only if it does
# not start is it rebuilt there. Then scripts/gpu_check_sections.py runs the sections in the order
# of value, each cut to what is left of the window: TF32 one member, TF32 40 members, float32 one
# member, paper-shape parity, compute-sanitizer (4 tools) on a tiny plan, conformance, six-task
# parity, float32 40 members, then the Python module's build, pytest -m cuda and
# bench/bench_cuda_planner.py (torch and mbrl-lib side by side). stdout is line-buffered; after
# every section $OUT/gpu_check_results.json and $OUT/gpu_check_logs.tar.gz are rewritten, so a
# cut run keeps what it measured; the summary table is the last lines of stdout (and
# $OUT/summary.txt). At most 4 files come back: those three and device.txt.
# Exit: 0 all passed, 1 a section failed or was cut, 2 bad arguments, 77 no GPU (not --dry-run).
set -uo pipefail
started=$(date +%s)
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
dry=0
case "${1:-}" in
  --dry-run) dry=1 ;;
  --build-module) ;;  # internal: the build_module section (configure and build the module)
  "") ;;
  -h|--help) sed -n 2,17p "$0"; exit 0 ;;
  *) echo "usage: scripts/gpu_check.sh [--dry-run]" >&2; exit 2 ;;
esac
[ "${1:-}" = "--dry-run" ] || [ "${2:-}" != "--dry-run" ] || dry=1
python="$(command -v python3)"
site="$root/build/gpu_site" # the carried wheels, installed inside the checkout (ignored)
if [ $dry -eq 1 ]; then
  build="${GPU_CHECK_BUILD:-$root/build/gpu_dry}"
  cuda_flags=(-DMBRLHPO_CUDA=AUTO)
else
  build="${GPU_CHECK_BUILD:-$root/build/gpu}"
  cuda_flags=(-DMBRLHPO_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90)
fi
# MuJoCo's C library and headers as prepare_gpu_wheels.sh carries them (no mujoco wheel there);
# the dry run takes them too where they are, so it configures as the GPU machine will
[ -d .gpu_carry/mujoco ] && cuda_flags+=(-DMUJOCO_DIR="$root/.gpu_carry/mujoco")
configure() {
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE="$python" \
    -Dpybind11_DIR="$("$python" -c 'import pybind11; print(pybind11.get_cmake_dir())')" \
    -DMBRLHPO_PYTHON=ON -DMBRLHPO_DEV_INPLACE=ON "${cuda_flags[@]}"
}
if [ "${1:-}" = "--build-module" ]; then
  [ -d "$site" ] && export PYTHONPATH="$site"
  configure && cmake --build "$build" --target _core -j "$(nproc)"
  exit $?
fi

if [ $dry -eq 0 ] && ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_check.sh: no GPU here (nvidia-smi finds none): skipped; use --dry-run"
  exit 77
fi
OUT="${OUT:-$root/build/gpu_check_out}"
mkdir -p "$OUT"
window="${WINDOW:-330}"
[ $dry -eq 1 ] && window="${WINDOW:-900}"
if [ -d .gpu_carry/wheels ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$site" .gpu_carry/wheels/*.whl
fi
[ -d "$site" ] && export PYTHONPATH="$site"
if [ -d .gpu_carry/anchor_wheels ]; then  # mbrl-lib's mujoco, on the anchor's path only
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$root/build/anchor_site" .gpu_carry/anchor_wheels/*.whl &&
    export MBRL_ANCHOR_PATH="$root/build/anchor_site"
fi
export MBRL_ANCHOR="$root/.gpu_carry/anchor/mbrl_lib_speed.py"
[ -f "$MBRL_ANCHOR" ] || export MBRL_ANCHOR="$root/bench/mbrl_lib_speed.py"
# the carried program's libraries: libmbrlhpo_core beside it, MuJoCo, OpenBLAS (the wheel)
export LD_LIBRARY_PATH="$root/.gpu_carry/gpu_check:$root/.gpu_carry/mujoco:$site/scipy_openblas32/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

if [ $dry -eq 0 ]; then
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,memory.total \
    --format=csv | tee "$OUT/device.txt"
  check="$root/.gpu_carry/gpu_check/gpu_check"
  built="$build/cuda/gpu_check/gpu_check"
  target=gpu_check
  sanitizer="$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer \
    "$site/nvidia/cu13/bin/compute-sanitizer" 2>/dev/null | head -n 1 || true)"
else
  check="$build/cuda/gpu_check/gpu_check_dry"
  built="$check"
  target=gpu_check_dry
  sanitizer=""
fi
# Start the program (--list touches no GPU): a missing library or another glibc shows here.
if ! "$check" --list >/dev/null 2>"$OUT/start_error.txt"; then
  echo "== the prepared program does not start ($(head -c 300 "$OUT/start_error.txt")):" \
    "building $target here"
  if ! { configure >/dev/null && timeout $(( window / 2 )) cmake --build "$build" \
      --target "$target" -j "$(nproc)"; } >"$OUT/start_error.txt" 2>&1; then
    tail -n 20 "$OUT/start_error.txt"
    echo "gpu_check.sh: could not build $target: FAILED"
    exit 1
  fi
  check="$built"
fi
rm -f "$OUT/start_error.txt"
args=(--check "$check" --out "$OUT" --window "$window" --started "$started" --build "$build")
[ $dry -eq 1 ] && args+=(--dry-run)
[ -n "$sanitizer" ] && args+=(--sanitizer "$sanitizer")
exec "$python" -u scripts/gpu_check_sections.py "${args[@]}"
