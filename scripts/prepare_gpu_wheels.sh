#!/usr/bin/env bash
# Prepares, on a machine with network, what scripts/gpu_check.sh needs on a GPU machine that has
# no network (its image has torch, numpy, pytest, cmake, ninja, pybind11, scikit-build-core,
# compute-sanitizer, rich: the device image's own package list): the wheels it lacks (Python 3.12,
# x86-64), the mbrl-lib timing anchor, and the gpu_check program prebuilt here for sm_90 (static
# cudart; .gpu_carry/gpu_check/: the program and libmbrlhpo_core.so), so that the device window
# is spent measuring, not compiling. Output: .gpu_carry/ (git-ignored), about 20 MB without
# mbrl-lib (the device tool carries at most 64 MiB). Carry it with the device call:
# carry=[".gpu_carry"].
#   scripts/prepare_gpu_wheels.sh [--with-mbrl]            download and build into .gpu_carry/
#   scripts/prepare_gpu_wheels.sh --binary-only            only (re)build the gpu_check program
#   scripts/prepare_gpu_wheels.sh --dry-run [--with-mbrl]  no network: print what would be
#       downloaded, and which of those wheels .gpu_carry/ already holds (exit 1 if any is missing)
# JOBS=N limits the build's parallel jobs (default: all CPUs).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.gpu_carry"
dry=0
mbrl=0
binary_only=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry=1 ;;
    --with-mbrl) mbrl=1 ;;
    --binary-only) binary_only=1 ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "usage: scripts/prepare_gpu_wheels.sh [--dry-run] [--with-mbrl] [--binary-only]" >&2
      exit 2 ;;
  esac
done
# What gpu_check.sh runs there: the CMake build, then pytest on tests/planning and tests/agent.
# - MuJoCo: the build needs only the C library and headers (cmake/FindMuJoCoWheel.cmake,
#   MUJOCO_DIR), and those tests never import the mujoco Python package. They are copied from the
#   mujoco 4.0.0 installed here into .gpu_carry/mujoco/ (the C library does not depend on the
#   Python version). Not downloaded: the mujoco==4.0.0 wheel the registry here serves is a 108 KB
#   stub without libmujoco (seen 2026-11-28), which would also shadow the carried library.
# - OpenBLAS (scipy-openblas32, the pyproject.toml pin) and gymnasium (+ farama-notifications),
#   which mbrlhpo.envs imports; the rest of what those tests import is in the image.
# Not carried: hpbandster, Pyro4, netifaces, ConfigSpace (only the HPO layer imports them;
# hpbandster and netifaces have no wheels for Python 3.12); the compute-sanitizer wheel (the
# image has compute-sanitizer; the registry here offers only a 0.0.0a0 placeholder of
# nvidia-cuda-sanitizer-api).
pins=(scipy-openblas32==0.3.34.481.3 gymnasium==1.4.0 farama-notifications==0.0.4)
# mbrl-lib 0.2.0, the planner benchmark's reference (the pins of bench/setup_anchors.sh), to
# time bench/mbrl_lib_speed.py on the GPU beside ours, with everything it imports that the image
# lacks (traced 2026-12-07 by importing what mbrl_lib_speed.py imports, with hydra resolving its
# obs_process_fn, mbrl.env.pets_halfcheetah, which needs gymnasium.envs.mujoco and so the mujoco
# Python package): termcolor, PyYAML, glfw, imageio, attrs; antlr4-python3-runtime 4.9.3 has only
# an sdist (built into a wheel here). mujoco 3.3.4 (cp312) goes to anchor_wheels/, installed only
# on the anchor's path (bench_cuda_planner.py, MBRL_ANCHOR_PATH): the planner's own build and
# tests use the carried MuJoCo 4.0.0 C library and never import mujoco.
mbrl_pins=(mbrl==0.2.0 hydra-core==1.3.2 omegaconf==2.3.0 termcolor==3.3.0 PyYAML==6.0.4
  glfw==2.11.0 imageio==2.38.2 attrs==26.1.0)
anchor_pins=(mujoco==3.3.4)
antlr_pin=antlr4-python3-runtime==4.9.3
[ $mbrl -eq 1 ] && pins+=("${mbrl_pins[@]}")
anchor="${MBRL_ANCHOR:-$(cd "$(dirname "$0")/.." && pwd)/bench/mbrl_lib_speed.py}"
python="$(command -v python3)"
mujoco_version=4.0.0
mujoco_src="$("$python" -c "import importlib.util as u; s = u.find_spec('mujoco'); \
print(s.submodule_search_locations[0] if s else '')")"

# The gpu_check program for sm_90 (H100/H200) with the CUDA runtime linked statically: only the
# driver is needed there. It also needs libmbrlhpo_core.so (copied beside it) and, at run time,
# MuJoCo's and OpenBLAS's libraries (the carried mujoco/ and the scipy-openblas32 wheel:
# scripts/gpu_check.sh puts both on LD_LIBRARY_PATH). gpu_check.sh rebuilds it there only if it
# does not start (another glibc, say).
check_dest="$dest/gpu_check"
build_check() {
  local build="$root/build/gpu_carry" mujoco_dir="${mujoco_src}"
  [ -f "$dest/mujoco/libmujoco.so.$mujoco_version" ] && mujoco_dir="$dest/mujoco"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMBRLHPO_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DMBRLHPO_PYTHON=OFF -DMBRLHPO_BUILD_TESTS=ON \
    -DMUJOCO_DIR="$mujoco_dir" -DPython_EXECUTABLE="$python" >/dev/null
  cmake --build "$build" --target gpu_check -j "${JOBS:-$(nproc)}"
  mkdir -p "$check_dest"
  cp "$build/cuda/gpu_check/gpu_check" "$build/csrc/libmbrlhpo_core.so" "$check_dest/"
  git -C "$root" rev-parse --short HEAD >"$check_dest/commit.txt"
  "$check_dest/gpu_check" --list >/dev/null  # starts here (needs no GPU)
  echo "gpu_check (sm_90, static cudart) in $check_dest: $(du -sh "$check_dest" | cut -f1)," \
    "built at $(cat "$check_dest/commit.txt")"
}

if [ $dry -eq 1 ]; then
  missing=0
  if [ -x "$check_dest/gpu_check" ]; then
    echo "gpu_check program: have $check_dest/gpu_check (built at" \
      "$(cat "$check_dest/commit.txt" 2>/dev/null || echo '?'))"
  else
    echo "gpu_check program: missing (would build $check_dest/gpu_check for sm_90)"
    missing=1
  fi
  echo "would download into $dest/wheels (Python 3.12, manylinux x86-64, binary only):"
  check_pin() {  # check_pin DIR PIN
    local name="${2%%==*}" version="${2#*==}" found
    # wheel file names use underscores and keep the project's case only loosely
    found="$(find "$1" -maxdepth 1 -iname "$(echo "$name" | tr '-' '_')-${version}-*.whl" \
      2>/dev/null | head -n 1 || true)"
    if [ -n "$found" ]; then
      echo "  $2: have $(basename "$found")"
    else
      echo "  $2: missing"
      missing=1
    fi
  }
  for pin in "${pins[@]}"; do check_pin "$dest/wheels" "$pin"; done
  if [ $mbrl -eq 1 ]; then
    check_pin "$dest/wheels" "$antlr_pin"
    for pin in "${anchor_pins[@]}"; do check_pin "$dest/anchor_wheels" "$pin"; done
  fi
  if [ -f "$dest/mujoco/libmujoco.so.$mujoco_version" ]; then
    echo "mujoco C library: have $dest/mujoco/libmujoco.so.$mujoco_version"
  else
    echo "mujoco C library: missing (would copy from ${mujoco_src:-no mujoco installed here})"
    missing=1
  fi
  if [ -f "$anchor" ]; then echo "anchor: $anchor"; else echo "anchor: $anchor not found"; fi
  if [ -d "$dest" ]; then du -sh "$dest"; fi
  exit $missing
fi

if [ $binary_only -eq 1 ]; then
  build_check
  exit 0
fi
if [ ! -f "$mujoco_src/libmujoco.so.$mujoco_version" ] || [ ! -d "$mujoco_src/include/mujoco" ]; then
  echo "prepare_gpu_wheels.sh: expected mujoco==$mujoco_version installed here (libmujoco and" \
    "include/ in its package), got '${mujoco_src:-none}'" >&2
  exit 1
fi
mkdir -p "$dest/wheels" "$dest/anchor" "$dest/mujoco"
cp "$mujoco_src/libmujoco.so.$mujoco_version" "$dest/mujoco/"
cp -r "$mujoco_src/include" "$dest/mujoco/"
"$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
  --platform any \
  -d "$dest/wheels" "${pins[@]}"
if [ $mbrl -eq 1 ]; then
  mkdir -p "$dest/anchor_wheels"
  "$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$dest/anchor_wheels" \
    "${anchor_pins[@]}"
  "$python" -m pip wheel -q --no-deps -w "$dest/wheels" "$antlr_pin"  # pure Python: any 3.x
fi
[ -f "$anchor" ] && cp "$anchor" "$dest/anchor/"
build_check
du -sh "$dest"
ls "$dest/wheels"
