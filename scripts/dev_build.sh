#!/usr/bin/env bash
# Incremental development build: the C++ core, its ctest suite, and the Python module copied
# into src/mbrlhpo/ so that `PYTHONPATH=src python -m pytest` runs against it without installing.
#   scripts/dev_build.sh [build-dir]     (uses the python on PATH for MuJoCo/OpenBLAS/pybind11)
#   JOBS=N limits the parallel compile jobs (default: all CPUs).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build/dev}"
python="$(command -v python)"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$root" -B "$build" "${generator[@]}" -DPython_EXECUTABLE="$python" \
  -DMBRLHPO_PYTHON=ON -DMBRLHPO_DEV_INPLACE=ON \
  -Dpybind11_DIR="$("$python" -c 'import pybind11; print(pybind11.get_cmake_dir())')"
cmake --build "$build" -j "${JOBS:-$(nproc)}" # JOBS=1 on a busy machine
ctest --test-dir "$build" --output-on-failure
