#!/usr/bin/env bash
# Builds the benchmarks' reference environments ("anchors") in bench/.anchors/ (ignored by git),
# from the package registry, with the pins that are known to work:
#   bench/.anchors/mbrl     mbrl-lib 0.2.0 (the reference PETS planner and training loop) for
#                           bench_planner.py (mbrl-lib column) and bench_training.py (mbrl row)
#   bench/.anchors/envpool  envpool 1.2.5 for bench_envs.py (envpool column)
# Each is its own venv because their pins clash with mbrlhpo's (mbrl 0.2.0 asks for an old
# MuJoCo and hydra; envpool brings its own MuJoCo build and gym). The timing code stays in the
# repo (bench/mbrl_lib_speed.py); the benchmarks find the venvs here by default.
#
# Usage: bench/setup_anchors.sh [mbrl] [envpool]       (both when no argument)
# Environment: PYTHON (default python3.11, then python3), TORCH_SPEC (default torch==2.13.0),
# TORCH_INDEX_URL (e.g. https://download.pytorch.org/whl/cpu for a CPU-only torch; PyPI's
# default Linux wheel is the CUDA build, which a GPU machine wants), ANCHORS (default
# bench/.anchors).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
anchors="${ANCHORS:-$here/.anchors}"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
torch_spec="${TORCH_SPEC:-torch==2.13.0}"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(mbrl envpool)

new_venv() {
  local dir="$1"
  if [ ! -x "$dir/bin/python" ]; then
    "$python" -m venv "$dir"
  fi
  "$dir/bin/python" -m pip install --quiet --upgrade pip
}

setup_mbrl() {
  local dir="$anchors/mbrl"
  new_venv "$dir"
  local torch_args=("$torch_spec")
  [ -n "${TORCH_INDEX_URL:-}" ] && torch_args+=(--index-url "$TORCH_INDEX_URL")
  "$dir/bin/pip" install --quiet "${torch_args[@]}"
  # mbrl 0.2.0's own pins (hydra-core 1.0, omegaconf 2.0, mujoco 2.2) do not install on
  # Python 3.11: install it without them, then the versions known to work.
  "$dir/bin/pip" install --quiet --no-deps mbrl==0.2.0
  "$dir/bin/pip" install --quiet hydra-core==1.3.2 omegaconf==2.3.0 mujoco==2.3.7 \
    gymnasium==0.26.3 "numpy<2" matplotlib tqdm termcolor imageio glfw
  "$dir/bin/python" -c "import mbrl, mbrl.models, mbrl.planning, torch; \
print('mbrl', mbrl.__version__, 'torch', torch.__version__)"
}

setup_envpool() {
  local dir="$anchors/envpool"
  new_venv "$dir"
  "$dir/bin/pip" install --quiet envpool==1.2.5
  "$dir/bin/python" -c "import envpool; e = envpool.make_gymnasium('HalfCheetah-v4', num_envs=2); \
e.reset(); print('envpool', envpool.__version__)"
}

mkdir -p "$anchors"
for t in "${targets[@]}"; do
  case "$t" in
    mbrl) setup_mbrl ;;
    envpool) setup_envpool ;;
    *) echo "expected targets among mbrl, envpool; got '$t'" >&2; exit 2 ;;
  esac
done
echo "anchors ready in $anchors: ${targets[*]}"
