#!/usr/bin/env bash
# pybind11 and the Python C API belong to csrc/bindings/ alone: the C++ core, the CUDA backend,
# the C++ tests and the example consumer build and run with no Python (docs/architecture.md).
# Prints each offending line and exits 1; silent and 0 when the rule holds.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
pattern='pybind11|Python\.h|PyObject|Py_'
hits="$(grep -rnE "$pattern" CMakeLists.txt cmake csrc cuda examples tests/cpp \
  --include='*.h' --include='*.hpp' --include='*.cc' --include='*.cpp' --include='*.cu' \
  --include='*.cuh' --include='*.txt' --include='*.cmake' --include='*.in' \
  | grep -v '^csrc/bindings/' || true)"
# The top-level CMakeLists.txt may only add the bindings folder, never link pybind11 itself.
hits="$(printf '%s\n' "$hits" | grep -vE '^CMakeLists\.txt:[0-9]+:.*(MBRLHPO_PYTHON|Python module)' || true)"
if [ -n "$hits" ]; then
  echo "pybind11 / Python C API outside csrc/bindings/ (expected only there):"
  printf '%s\n' "$hits"
  exit 1
fi
