"""bench/static_model.py: the SASS reading on planted code (always), and the whole model on a small
kernel set (the paper task's two Rollout variants) built by nvcc and read by cuobjdump, where
both are here (CI has nvcc; the test extra carries cuobjdump and nvdisasm)."""

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "static_model.py"
_spec = importlib.util.spec_from_file_location("static_model", SCRIPT)
sm = importlib.util.module_from_spec(_spec)
sys.modules["static_model"] = sm
_spec.loader.exec_module(sm)

PLANTED = """
        Function : _Z3fooPf
        /*0000*/                   MOV R1, c[0x0][0x28] ;
        /*0010*/                   LDS R4, [R2] ;
        /*0020*/                   LDS.64 R6, [R2+0x10] ;
        /*0030*/                   FSETP.GEU.AND P0, PT, |R4|, +INF , PT ;
        /*0040*/               @!P0 IMAD.IADD.U32 R4, R4, 0x1, R9 ;
        /*0050*/                   LDG.E R8, desc[UR4][R10.64] ;
        /*0060*/                   HMMA.1688.F32.TF32 R12, R4, R8, R12 ;
        /*0070*/                   HMMA.1688.F32.TF32 R16, R4, R8, R16 ;
        /*0080*/               @P1 BRA 0x10 ;
        /*0090*/                   MUFU.EX2 R3, R3 ;
        /*00a0*/                   STS [R2], R3 ;
        /*00b0*/               @P2 BRA 0x10 ;
        /*00c0*/                   EXIT ;
"""


def test_hot_loop_and_its_counts_on_planted_sass():
    funcs = sm.parse_sass(PLANTED)
    ins = funcs["_Z3fooPf"]
    assert len(ins) == 13
    st = sm.analyse("_Z3fooPf", ins, {"registers": 40})
    assert st.hot_range == (0x10, 0x80)  # the innermost loop, not the one around it
    assert st.hot["mma"] == 2 and st.hot["instructions"] == 8
    assert st.per_unit("lds") == 1.0 and st.per_unit("global_loads") == 0.5
    assert st.per_unit("conversions") == 0.5
    assert st.per_unit("lsu_wavefronts") == 2.0  # LDS 1 + LDS.64 2 + LDG 1, over 2 MMAs
    assert st.epilogue["instructions"] == 3 and st.epilogue["mufu"] == 1
    assert st.epilogue_per_value == 3.0  # one value stored


# A register-tiled FFMA layer (Fp32Fma): per k, 4 input words (one LDS.128) and 4 weight words
# (two LDG.64) feed 16 FFMAs; its guarded twin reads the same words one float at a time; the
# state update's polynomial has more FFMAs than its loads can feed; the tile loop around the
# first two stores the outputs. Instruction i is at address 0x10 * i; "BRA @j" branches to j.
_FFMA16 = [f"FFMA R{20 + i}, R4, R8, R{20 + i}" for i in range(16)]
_FFMA_LISTING = [
    "MOV R1, c[0x0][0x28]",
    "LDS.128 R4, [R2]",  # 1: the tiled loop
    "LDG.E.64.CONSTANT R8, desc[UR4][R10.64]",
    "LDG.E.64.CONSTANT R12, desc[UR4][R10.64+0x8]",
    *_FFMA16,
    "@P0 BRA @1",  # 20
    "LDS.128 R4, [R2]",  # 21: its guarded twin
    "ISETP.GE.AND P1, PT, R3, 0x1, PT",
    *[f"@P1 LDG.E.CONSTANT R{r}, desc[UR4][R10.64+0x{4 * i:x}]" for i, r in enumerate((8, 9, 12))],
    "@P1 LDG.E.CONSTANT R13, desc[UR4][R10.64+0xc]",
    *_FFMA16,
    "@P1 BRA @21",  # 42
    "MUFU.EX2 R3, R3",
    "STS [R2], R3",
    "@P2 BRA @1",  # 45: the tile loop
    "LDS R4, [R2]",  # 46: a polynomial
    "LDG.E R8, desc[UR4][R10.64]",
    *_FFMA16,
    "@P3 BRA @46",
    "EXIT",
]
PLANTED_FFMA = "        Function : _Z3barPf\n" + "".join(
    f"        /*{0x10 * i:04x}*/  "
    + re.sub(r"@(\d+)", lambda m: f"0x{0x10 * int(m.group(1)):x}", text)
    + " ;\n"
    for i, text in enumerate(_FFMA_LISTING)
)


def test_ffma_hot_loop_is_the_tiled_one_on_planted_sass():
    ins = sm.parse_sass(PLANTED_FFMA)["_Z3barPf"]
    st = sm.analyse("_Z3barPf", ins, {"registers": 200})
    assert st.unit == "ffma" and st.hot_range == (0x10, 0x140)  # not the guarded twin
    assert st.hot["ffma"] == 16 and st.hot["instructions"] == 20
    assert st.hot["lds_words"] == 4 and st.hot["global_words"] == 4
    assert st.per_unit("lsu_wavefronts") == 0.5  # LDS.128 4 + 2 x LDG.64 2, over 16 FFMAs
    assert st.epilogue["stored_values"] == 1 and st.epilogue["mufu"] == 1


def test_fp32_warps_take_even_runs_of_strips_and_are_costed_per_scheduler():
    shape = sm.Shape(64, 4, 128, 4, fp32_tile_cols=10)
    # 200 wide: 20 strips, 5 per warp: one pass of 8-row tiles, one of 2-row tiles
    assert sm.fp32_warp_tiles(200, shape) == [[8, 2]] * 4
    assert sm.fp32_warp_tiles(36, shape) == [[2]] * 4  # one strip each
    assert sm.fp32_warp_tiles(70, shape) == [[4], [4], [4], [2]]  # 7 strips: 2, 2, 2, 1
    assert sm.fp32_warp_tiles(110, shape) == [[8], [8], [8], [4]]  # 3 on 24 lanes, 2
    assert sm.fp32_warp_tiles(3, shape) == [[2], [], [], []]
    assert sm.fp32_warp_tiles(200, sm.Shape(32, 4, 128, 4, fp32_tile_cols=10)) == [[4, 1]] * 4
    assert sm.tile_rows(dict(ffma=320, lds_words=32, global_words=40)) == 8  # 4 k of 8 x 10
    assert sm.tile_rows(dict(ffma=80, lds_words=8, global_words=10)) == 8  # the one-k tail
    assert sm.tile_rows(dict(ffma=52, lds_words=3, global_words=5)) == 0  # a polynomial
    st = sm.KernelStats("k", 0, 0, 0, 0, hot=dict(ffma=320, instructions=384, lsu_wavefronts=72))
    st.tile_loops = {
        8: dict(ffma=320, instructions=384, lsu_wavefronts=72),
        2: dict(ffma=80, instructions=120, lsu_wavefronts=48),
    }
    st.epilogue = dict(instructions=20, stored_values=1)
    p = dict(sm.PAPER, hidden=200, hidden_layers=1)  # layers 25 x 200, 200 x 36
    w = sm.step_work(st, p, shape)
    per_warp = [(8 * 10 * 25, 1.2), (2 * 10 * 25, 1.5), (2 * 10 * 200, 1.5)]
    assert w["units"] == 4 * sum(u for u, _ in per_warp)
    assert w["hot_instructions"] == 4 * sum(u * r for u, r in per_warp)
    assert w["epilogue_instructions"] == 4 * (80 + 20 + 20) * 20
    # even warps: the busiest scheduler carries a quarter
    assert w["scheduler_instructions"] * 4 == w["hot_instructions"] + w["epilogue_instructions"]
    uneven = sm.step_work(st, dict(p, obs_dim=1, hidden=30), shape)  # 3 strips: warps 0-2 only
    assert uneven["scheduler_instructions"] * 4 > (
        uneven["hot_instructions"] + uneven["epilogue_instructions"]
    )


def test_fp32_wavefronts_count_the_distinct_bytes_of_the_tile_layout():
    # per 4 k of a 4 x 10 tile: 4 LDS.128 (one per row) and 20 LDG.64 (5 pairs per k), 160 FFMAs
    loop = dict(ffma=160, lds=4, lds_words=16, global_loads=20, global_words=40)
    st = sm.KernelStats("k", 0, 0, 0, 0, hot=loop)
    st.tile_loops = {4: loop, 1: dict(loop, ffma=40)}
    # 32-row blocks, 4-row tiles: 8 row groups x 4 strips; a LDS.128 reads 8 rows (128 B: one
    # wavefront), a weight load 4 strips' pairs (two)
    assert sm.fp32_wavefronts_per_ffma(st, 4, 32) == (4 * 1 + 20 * 2) / 160
    # 1-row tiles: 32 row groups x 1 strip; 32 rows of 16 B (four), one pair for all lanes (one)
    assert sm.fp32_wavefronts_per_ffma(st, 1, 32) == (4 * 4 + 20 * 1) / 40
    # a tile height without its own loop takes the hot loop's counts
    assert sm.fp32_wavefronts_per_ffma(st, 2, 32) == (4 * 2 + 20 * 2) / 160
    assert sm.fp32_wavefronts_per_ffma(sm.KernelStats("k", 0, 0, 0, 0), 4, 32) == 0.0


def test_passes_are_costed_with_their_own_loops():
    shape = sm.Shape(tile_rows=64, act_pad=4, threads=128, warp_n_tiles=4)
    # 200 wide: 25 n-tiles over 4 warps -> 7, 6, 6, 6 tiles in passes of 4 + 3 and 4 + 2
    assert sm.warp_passes(200, shape) == [4, 3, 4, 2, 4, 2, 4, 2]
    assert sm.warp_passes(36, shape) == [2, 1, 1, 1]
    # 4 MMAs per A word: 16 MMAs over 16 LDS words is a 4-tile pass, 8 over 32 a 1-tile one
    assert sm.pass_tiles(dict(mma=16, lds_words=16)) == 4
    assert sm.pass_tiles(dict(mma=8, lds_words=32)) == 1
    st = sm.KernelStats("k", 0, 0, 0, 0, hot=dict(mma=16, instructions=40))
    st.pass_loops = {4: dict(mma=16, instructions=40), 1: dict(mma=8, instructions=48)}
    assert sm.per_mma(st, 4, "instructions") == 2.5
    assert sm.per_mma(st, 1, "instructions") == 6.0
    assert sm.per_mma(st, 2, "instructions") == 2.5  # no loop of that size: the hot loop's rate


def test_tile_choice_mirrors_the_driver():
    choices = sm.driver_choices(ROOT / "cuda/include/mbrlhpo/cuda/kernels")
    tf32, fp32 = choices["mma"], choices["ffma"]
    # the numbers of launch_shape.h's comments (and test_cuda_driver's checks)
    assert (tf32.large, tf32.small, fp32.large, fp32.small) == (64, 48, 64, 32)
    assert tf32.cost(sm.PAPER, 1, 64) == 16_000 and tf32.cost(sm.PAPER, 1, 48) == 13_440
    assert tf32.rows(sm.PAPER, 1) == 48 and tf32.rows(sm.PAPER, 40) == 64
    assert fp32.cost(sm.PAPER, 1, 64) == 82_944 and fp32.cost(sm.PAPER, 1, 32) == 67_584
    assert fp32.cost(sm.PAPER, 40, 64) == 2_032_128 and fp32.cost(sm.PAPER, 40, 32) == 2_162_688
    assert fp32.rows(sm.PAPER, 1) == 32 and fp32.rows(sm.PAPER, 40) == 64
    assert sm.variant_rows("RolloutKernel<HalfCheetah, Tf32Mma, 48>", 64) == 48
    assert sm.variant_rows("RefitKernel", 64) == 64


def test_occupancy_limits():
    assert sm.blocks_per_sm(96, 128, 110 * 1024)["blocks"] == 2  # shared memory
    assert sm.blocks_per_sm(255, 256, 0)["by_registers"] == 1
    assert sm.blocks_per_sm(32, 128, 0)["blocks"] == 16  # threads


SMALL = """
#include "mbrlhpo/cuda/kernels/rollout.h"
#include "mbrlhpo/cuda/plan_kernels.h"
#include "mbrlhpo/cuda/simt.h"
namespace mbrlhpo::cuda {
template <class Task, class G, int kRows>
__global__ void __launch_bounds__(kRolloutThreads, 2)
    RolloutKernel(const MemberArgs* m, int n, kernels::RolloutGrid grid, int it) {
  simt::DeviceCtx c;
  kernels::Rollout<Task, G, kRows>(c, m, n, grid, it);
}
template __global__ void RolloutKernel<tasks::HalfCheetah, kernels::Tf32Mma, 64>(
    const MemberArgs*, int, kernels::RolloutGrid, int);
template __global__ void RolloutKernel<tasks::HalfCheetah, kernels::Tf32Mma, 48>(
    const MemberArgs*, int, kernels::RolloutGrid, int);
template __global__ void RolloutKernel<tasks::HalfCheetah, kernels::Fp32Fma, 64>(
    const MemberArgs*, int, kernels::RolloutGrid, int);
template __global__ void RolloutKernel<tasks::HalfCheetah, kernels::Fp32Fma, 32>(
    const MemberArgs*, int, kernels::RolloutGrid, int);
}  // namespace mbrlhpo::cuda
"""

BUILTIN = """#pragma once
#include "mbrlhpo/tasks/halfcheetah.h"
#define MBRLHPO_BUILTIN_TASKS(X) X(HalfCheetah)
"""


@pytest.mark.skipif(
    sm.find_tool("nvcc") is None
    or sm.find_tool("cuobjdump") is None
    or sm.find_tool("nvdisasm") is None,
    reason="needs nvcc, cuobjdump and nvdisasm (pip: nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm)",
)
def test_model_on_the_paper_task_kernels(tmp_path):
    gen = tmp_path / "build" / "csrc" / "include" / "mbrlhpo" / "tasks"
    gen.mkdir(parents=True)
    (gen / "builtin.h").write_text(BUILTIN)
    src = tmp_path / "small.cu"
    src.write_text(SMALL)
    out = tmp_path / "model.json"
    run = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--source",
            str(src),
            "--build",
            str(tmp_path / "build"),
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "issue : " in run.stdout and "tensor: " in run.stdout
    model = json.loads(out.read_text())
    kernels = {k["name"]: k for k in model["kernels"]}
    tf32 = kernels["RolloutKernel<HalfCheetah, Tf32Mma, 64>"]
    fp32 = kernels["RolloutKernel<HalfCheetah, Fp32Fma, 64>"]
    assert tf32["unit"] == "mma" and tf32["hot"]["mma"] >= 4 and tf32["registers"] > 32
    assert fp32["unit"] == "ffma" and fp32["hot"]["lds"] >= 1
    assert tf32["occupancy"]["blocks"] >= 1
    preds = {(p["kernel"], p["members"]): p for p in model["predictions"]}
    one = preds[("RolloutKernel<HalfCheetah, Tf32Mma, 64>", 1)]
    forty = preds[("RolloutKernel<HalfCheetah, Tf32Mma, 64>", 40)]
    assert one["blocks"] == 160 and forty["blocks"] == 6400
    bounds = ("issue_ms", "scheduler_ms", "lsu_ms", "tensor_ms", "l2_ms")
    assert one["model_ms"] == max(one[b] for b in bounds) > 0
    fp32 = preds[("RolloutKernel<HalfCheetah, Fp32Fma, 64>", 1)]
    assert fp32["scheduler_ms"] > 0 and fp32["model_ms"] >= fp32["scheduler_ms"]
    assert forty["model_ms"] > one["model_ms"]
    # every block loads its ~0.5 MB of packed weights per step, whatever its rows
    assert 0.5e6 < one["global_bytes"] < 0.6e6
    one48 = preds[("RolloutKernel<HalfCheetah, Tf32Mma, 48>", 1)]
    assert one48["blocks"] == 210 and one48["tile_rows"] == 48
    # the driver's pick (mirrored) is the variant marked for gpu_check's prediction
    assert one48["driver_choice"] and not one["driver_choice"] and forty["driver_choice"]
    assert model["tile_choice"]["tf32"]["members_1"]["picked"] == 48
    assert model["tile_choice"]["tf32"]["members_40"]["picked"] == 64
    # float32: 32-row blocks for one member (315 blocks), 64 for the population
    f32 = {
        (r, m): preds[(f"RolloutKernel<HalfCheetah, Fp32Fma, {r}>", m)]
        for r in (32, 64)
        for m in (1, 40)
    }
    assert f32[(32, 1)]["blocks"] == 315 and f32[(32, 1)]["tile_rows"] == 32
    assert f32[(32, 1)]["driver_choice"] and not f32[(64, 1)]["driver_choice"]
    assert f32[(64, 40)]["driver_choice"] and not f32[(32, 40)]["driver_choice"]
    assert model["tile_choice"]["float32"]["members_1"]["picked"] == 32


def test_no_matching_kernel_is_one_line(tmp_path):
    cubin = tmp_path / "none.cubin"
    cubin.write_bytes(b"")
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--cubin", str(cubin), "--kernels", "Nothing"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert run.stderr.startswith("static_model: ")


def test_gpu_check_reads_the_prediction_of_the_driver_s_block_size(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "gpu_check_sections", ROOT / "scripts" / "gpu_check_sections.py"
    )
    runner = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check_sections"] = runner  # its dataclasses look their module up
    spec.loader.exec_module(runner)
    rows = [
        dict(kernel="RolloutKernel<HalfCheetah, Tf32Mma, 48>", members=1, model_ms=2.4),
        dict(kernel="RolloutKernel<HalfCheetah, Tf32Mma, 64>", members=1, model_ms=2.9),
        dict(kernel="RolloutKernel<HalfCheetah, Tf32Mma, 48>", members=40, model_ms=97.0),
        dict(kernel="RolloutKernel<HalfCheetah, Tf32Mma, 64>", members=40, model_ms=74.0),
        dict(kernel="RolloutKernel<HalfCheetah, Fp32Fma, 32>", members=1, model_ms=12.4),
        dict(kernel="RolloutKernel<HalfCheetah, Fp32Fma, 64>", members=1, model_ms=14.9),
    ]
    for r, picked in zip(rows, (True, False, False, True, True, False), strict=True):
        r["driver_choice"] = picked
    path = tmp_path / "model.json"
    path.write_text(json.dumps(dict(predictions=rows)))
    assert runner.predictions(path) == {("tf32", 1): 2.4, ("tf32", 40): 74.0, ("float32", 1): 12.4}
