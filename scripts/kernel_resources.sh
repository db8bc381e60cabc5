#!/usr/bin/env bash
# Registers, stack frame, spills and barriers of every planner kernel (cuda/src/plan_kernels.cu),
# as ptxas reports them, for sm_80 and sm_90: a markdown table on stdout (copied into
# docs/planner.md, section "CUDA kernels: resources"). Needs nvcc only, no GPU.
# Dynamic shared memory is chosen at launch (kernels/launch_shape.h), so it is not in this table.
#   BUILD=build/dev scripts/kernel_resources.sh   (a configured build: the generated task list)
set -euo pipefail
cd "$(dirname "$0")/.."
NVCC=${NVCC:-nvcc}
BUILD=${BUILD:-build/dev}
if [[ ! -f "$BUILD/csrc/include/mbrlhpo/tasks/builtin.h" ]]; then
  echo "expected the generated list of tasks in $BUILD/csrc/include/mbrlhpo/tasks/builtin.h," \
    "got none: run scripts/dev_build.sh (or set BUILD to a configured build folder)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "| kernel | arch | registers | stack frame (B) | spill stores (B) | spill loads (B) |"
echo "|---|---|---|---|---|---|"
for arch in 80 90; do
  "$NVCC" -std=c++17 -O3 --expt-relaxed-constexpr -arch=sm_${arch} -Icuda/include -Icsrc/include \
    -Icsrc/src -I"$BUILD/csrc/include" -c cuda/src/plan_kernels.cu -o "$tmp/k.o" -Xptxas -v >"$tmp/log" 2>&1
  # ptxas prints, per entry: "Compiling entry function 'NAME'", "N bytes stack frame, S bytes spill
  # stores, L bytes spill loads", "Used R registers, ...".
  awk -v arch="sm_${arch}" '
    /Compiling entry function/ {
      name = $0; sub(/.*function .\x27?/, "", name); sub(/\x27.*/, "", name)
      k = name
      if (match(name, /(Pack|Sample|Refit|Rollout)Kernel/)) k = substr(name, RSTART, RLENGTH)
      if (match(name, /tasks[0-9]+/)) {  # mangled: tasks<length><TaskName>
        len = substr(name, RSTART + 5, RLENGTH - 5) + 0
        k = k "<" substr(name, RSTART + RLENGTH, len)
        k = k (name ~ /Tf32Mma/ ? ", Tf32Mma" : ", Fp32Fma")
        # rows per block, the last template argument: mangled Li<rows>E
        if (match(name, /Li[0-9]+E/)) k = k ", " substr(name, RSTART + 2, RLENGTH - 3)
        k = k ">"
      }
    }
    /bytes stack frame/ { stack = $1; sst = $5; sld = $9 }
    /Used [0-9]+ registers/ {
      for (i = 1; i <= NF; ++i) if ($i == "Used") regs = $(i + 1)
      printf "| %s | %s | %s | %s | %s | %s |\n", k, arch, regs, stack, sst, sld
    }' "$tmp/log" | sort
done
