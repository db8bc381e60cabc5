#!/usr/bin/env bash
# Style checks that CI runs: ruff (lint and format) for Python, clang-format for C++/CUDA.
# The formatter versions are pinned so that every machine formats the same way.
#   scripts/check_style.sh          check only (exit 1 on any difference)
#   scripts/check_style.sh --fix    rewrite the files in place
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mapfile -t cxx < <(git ls-files '*.h' '*.hpp' '*.cpp' '*.cu' '*.cuh')
python_dirs=(src tests bench scripts examples)
if [[ "${1:-}" == "--fix" ]]; then
  ruff check --fix "${python_dirs[@]}"
  ruff format "${python_dirs[@]}"
  clang-format -i "${cxx[@]}"
  exit 0
fi
ruff check "${python_dirs[@]}"
ruff format --check "${python_dirs[@]}"
clang-format --dry-run -Werror "${cxx[@]}"
echo "style: ruff and clang-format clean (${#cxx[@]} C++/CUDA files)"
