#!/usr/bin/env bash
# Prepares, on a machine with network, what scripts/gpu_check.sh needs on a GPU machine that has
# no network (its image has torch, numpy, pytest, cmake, ninja, pybind11, scikit-build-core,
# compute-sanitizer; see /work/.library/device/KINDS.md): the wheels it lacks (Python 3.12,
# x86-64) and, where present, the mbrl-lib timing anchor. Output: .gpu_carry/ (git-ignored),
# about 20 MB without mbrl-lib. Carry it with the device call: carry=[".gpu_carry"].
#   scripts/prepare_gpu_wheels.sh [--with-mbrl]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.gpu_carry"
mkdir -p "$dest/wheels" "$dest/anchor"
python="$(command -v python3)"
download() {
  "$python" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
    -d "$dest/wheels" "$@"
}
# The build needs MuJoCo and OpenBLAS from their wheels (pyproject.toml pins); the tests need
# the package's run-time dependencies that the GPU image lacks (and theirs: --no-deps above).
download mujoco==4.0.0 scipy-openblas32==0.3.34.481.3 glfw==2.11.0 PyOpenGL==3.1.10 \
  gymnasium==1.4.0 farama-notifications==0.0.4 ConfigSpace==1.2.2 more-itertools==11.2.1 \
  hpbandster==0.7.4 Pyro4==4.82 serpent==1.43 netifaces==0.11.0 rich==15.0.0 \
  nvidia-cuda-sanitizer-api==13.0.85
if [ "${1:-}" = "--with-mbrl" ]; then
  # mbrl-lib 0.2.0 side by side (/work/shared/anchor/README.md); pure-Python wheels.
  download mbrl==0.2.0 hydra-core==1.3.2 omegaconf==2.3.0 antlr4-python3-runtime==4.9.3
fi
anchor="${MBRL_ANCHOR:-/work/shared/anchor/mbrl_lib_speed.py}"
[ -f "$anchor" ] && cp "$anchor" "$dest/anchor/"
du -sh "$dest"
ls "$dest/wheels"
