"""A static performance model of the CUDA planner's kernels, read from their own sm_90 machine code.

No GPU is needed: nvcc builds the sm_90 cubin of one translation unit (by default
cuda/src/plan_kernels.cu, every planner kernel), ``ptxas -v`` reports registers and shared memory,
cuobjdump prints the SASS. Per kernel variant the model finds the hot loop (the innermost loop with
the most MMAs, or where a kernel has no MMA the most FFMAs fed by loads) and counts per MMA
(FFMA): instructions, shared loads, global loads, conversions; and the per-tile loop around it
(the epilogue: bias, swish, stores, per value stored). TF32 k-loops come in one variant per pass
size (n-tiles a warp keeps in registers, 1 .. kWarpNTiles; read from each loop as 4 MMAs per A
fragment word it loads): the hot loop is the widest pass, and each layer's passes are costed with
the loop of their own size. Rollouts come in two block sizes per gemm (TF32 64 and 48 rows,
float32 64 and 32: the last template argument); each is costed at its own, and the rows the
driver picks for the paper step and for the population (kernels::ChooseTileRows, mirrored here)
are printed beside the model's own pick. From these and the paper step's shape it
prints three per-SM bounds on an H100 for one member and for a population of 40, with the
arithmetic:

  issue   warp instructions on the busiest SM / (4 schedulers x 1 per clock)
  sched   (FP32) the busiest scheduler's: warp w of every block issues on scheduler w % 4
  lsu     shared/L1 wavefronts on the busiest SM / 1 per clock (128 B/clock, conflict-free assumed;
          TF32 every lane's load in full, FP32 tiles the distinct bytes of their layout)
  tensor  MMAs on the busiest SM / the mma.sync rate (an assumption, --mma-per-clock)

The modelled time is the largest bound (the pipes overlap); latency is assumed hidden, so the
model is a lower bound where few warps run per scheduler (printed). Left out: the per-row work
of a step (model input, state update, reward: a few percent of the GEMM instructions at the
paper shape) and the sample/refit kernels. A first GPU run holds the model against measured time
(bench/bench_cuda_planner.py); --json keeps every number for that comparison.

  python bench/static_model.py                       # builds cuda/src/plan_kernels.cu (build/dev)
  python bench/static_model.py --json bench/results/static_model.json
  python bench/static_model.py --source my.cu --kernels 'RolloutKernel'   # a smaller set

Needs nvcc (CUDA 12/13) and cuobjdump + nvdisasm (pip: nvidia-cuda-cuobjdump,
nvidia-cuda-nvdisasm; the test extra carries them).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# H100 SXM (sm_90): 132 SMs, 4 schedulers per SM, 64 K registers, 228 KB shared memory per SM
# (227 KB per block, 1 KB reserved per block), 2048 threads, 32 blocks.
H100 = dict(
    sms=132, schedulers=4, regs=65536, smem=228 * 1024, smem_reserved=1024, threads=2048, blocks=32
)

# The paper step (bench/bench_cuda_planner.py, docs/scale.md): HalfCheetah, E = 5 ensemble of
# 4 x 200 swish MLPs, 20 particles (TS-inf), population 500, horizon 30, 5 iterations.
PAPER = dict(
    task="HalfCheetah",
    obs_dim=18,
    model_input_dim=19,
    act_dim=6,
    hidden=200,
    hidden_layers=4,
    ensemble=5,
    particles=20,
    population=500,
    horizon=30,
    iterations=5,
)


class ModelError(Exception):
    """A tool or input the model needs is missing or unreadable (one line, for the CLI)."""


# ---- tools -------------------------------------------------------------------------------------


def find_tool(name: str) -> str | None:
    """`name` on PATH, else in a pip CUDA wheel (site-packages/nvidia/*/bin)."""
    found = shutil.which(name)
    if found:
        return found
    for entry in sys.path:
        nvidia = Path(entry) / "nvidia"
        if nvidia.is_dir():
            for candidate in sorted(nvidia.glob(f"*/bin/{name}")):
                if os.access(candidate, os.X_OK):
                    return str(candidate)
    return None


def _repo_relative(path: Path) -> str:
    """The path as a clone would name it: relative to the repo, or only its file name (a
    cubin from elsewhere); results files carry no path of the machine that made them."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return path.name


def build_cubin(source: Path, build: Path, out: Path, nvcc: str) -> str:
    """nvcc -cubin -arch=sm_90 of one translation unit; returns ptxas's -v report."""
    generated = build / "csrc" / "include"
    if not (generated / "mbrlhpo" / "tasks" / "builtin.h").is_file():
        raise ModelError(
            f"expected the generated task list under {generated} (a configured "
            "build: scripts/dev_build.sh, or --build DIR), got none"
        )
    cmd = [
        nvcc,
        "-std=c++17",
        "-O3",
        "--expt-relaxed-constexpr",
        "-arch=sm_90",
        "-cubin",
        "-Xptxas",
        "-v",
        f"-I{ROOT / 'cuda/include'}",
        f"-I{ROOT / 'csrc/include'}",
        f"-I{ROOT / 'csrc/src'}",
        f"-I{generated}",
        str(source),
        "-o",
        str(out),
    ]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise ModelError(f"nvcc failed on {source}: {run.stderr.strip().splitlines()[-1:]}")
    return run.stderr


def disassemble(cubin: Path, cuobjdump: str) -> str:
    env = dict(os.environ)
    nvdisasm = find_tool("nvdisasm")
    if nvdisasm:  # cuobjdump -sass runs nvdisasm; the wheels put it beside cuobjdump
        env["PATH"] = f"{Path(nvdisasm).parent}{os.pathsep}{env.get('PATH', '')}"
    run = subprocess.run([cuobjdump, "-sass", str(cubin)], capture_output=True, text=True, env=env)
    if run.returncode != 0:
        raise ModelError(f"cuobjdump -sass failed: {run.stderr.strip()}")
    return run.stdout


# ---- parsing -----------------------------------------------------------------------------------


@dataclass
class Instr:
    addr: int
    opcode: str  # with modifiers, e.g. HMMA.1688.F32.TF32
    text: str  # operands


_SASS_LINE = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)\s*([^;]*);")


def parse_sass(text: str) -> dict[str, list[Instr]]:
    """Mangled function name -> its instructions in address order (cuobjdump -sass)."""
    funcs: dict[str, list[Instr]] = {}
    current: list[Instr] | None = None
    for line in text.splitlines():
        if "Function :" in line:
            current = funcs.setdefault(line.split("Function :", 1)[1].strip(), [])
            continue
        m = _SASS_LINE.search(line)
        if m and current is not None:
            current.append(Instr(int(m.group(1), 16), m.group(2), m.group(3)))
    return funcs


def parse_ptxas(text: str) -> dict[str, dict[str, int]]:
    """Mangled entry name -> registers, stack frame, spills, static shared memory (ptxas -v)."""
    out: dict[str, dict[str, int]] = {}
    name = None
    for line in text.splitlines():
        m = re.search(r"Compiling entry function '([^']+)'", line)
        if m:
            name = m.group(1)
            out[name] = dict(registers=0, stack=0, spill_stores=0, spill_loads=0, smem_static=0)
            continue
        if name is None:
            continue
        m = re.search(
            r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line
        )
        if m:
            out[name].update(
                stack=int(m.group(1)), spill_stores=int(m.group(2)), spill_loads=int(m.group(3))
            )
        m = re.search(r"Used (\d+) registers", line)
        if m:
            out[name]["registers"] = int(m.group(1))
            m2 = re.search(r"(\d+) bytes smem", line)
            out[name]["smem_static"] = int(m2.group(1)) if m2 else 0
    return out


def pretty_name(mangled: str) -> str:
    """RolloutKernel<HalfCheetah, Tf32Mma> (and any template width), SampleKernel, RefitKernel."""
    try:
        full = subprocess.run(["c++filt", mangled], capture_output=True, text=True).stdout.strip()
    except OSError:
        full = mangled
    m = re.search(r"(\w+Kernel)(<.*>)?\(", full)
    if not m:
        return full
    args = m.group(2) or ""
    args = re.sub(r"[\w:]*::", "", args)  # drop namespaces
    return m.group(1) + args


def header_constant(path: Path, name: str) -> int:
    m = re.search(rf"\b{name}\s*=\s*(\d+)", path.read_text())
    if not m:
        raise ModelError(f"expected `{name} = <int>` in {path}")
    return int(m.group(1))


# ---- the hot loop ------------------------------------------------------------------------------

_BRANCH = re.compile(r"0x([0-9a-f]+)")


def loops(instrs: list[Instr]) -> list[tuple[int, int]]:
    """(first, last) instruction indices of every backward branch's range."""
    index = {ins.addr: i for i, ins in enumerate(instrs)}
    found = []
    for i, ins in enumerate(instrs):
        if ins.opcode.startswith("BRA"):
            m = _BRANCH.search(ins.text)
            if m and int(m.group(1), 16) <= ins.addr and int(m.group(1), 16) in index:
                found.append((index[int(m.group(1), 16)], i))
    return found


def is_mma(op: str) -> bool:
    return op.startswith(("HMMA", "IMMA", "DMMA", "HGMMA"))


def classify(instrs: list[Instr]) -> dict[str, float]:
    """Counts of one region: instructions, MMAs, FFMAs, shared loads/stores, global loads, cp.async,
    TF32 conversions (cvt.rna.tf32 compiles to a finiteness test + a predicated add: counted once),
    and the LSU wavefronts (32-bit: 1, 64-bit: 2, 128-bit: 4 per warp instruction)."""
    c = dict(
        instructions=0,
        mma=0,
        ffma=0,
        lds=0,
        sts=0,
        global_loads=0,
        cp_async=0,
        conversions=0,
        mufu=0,
        lsu_wavefronts=0,
        global_bytes=0,
        lds_words=0,
        global_words=0,
        stored_values=0,
    )
    for ins in instrs:
        op = ins.opcode
        if op in ("NOP",):
            continue
        c["instructions"] += 1
        width = 4 if ".128" in op else 2 if ".64" in op else 1
        if is_mma(op):
            c["mma"] += 1
        elif op.startswith("FFMA"):
            c["ffma"] += 1
        elif op.startswith(("LDS", "LDSM")):
            c["lds"] += 1
            c["lds_words"] += width
            c["lsu_wavefronts"] += width
        elif op.startswith("STS"):
            c["sts"] += 1
            c["stored_values"] += width
            c["lsu_wavefronts"] += width
        elif op.startswith("LDGSTS"):
            c["cp_async"] += 1
            c["lsu_wavefronts"] += width
        elif op.startswith(("LDG", "LD.", "LD ", "LDC")) or op == "LD":
            if not op.startswith("LDC"):  # constant-bank loads are not the LSU's
                c["global_loads"] += 1
                c["global_words"] += width
                c["lsu_wavefronts"] += width
                c["global_bytes"] += 4 * width * 32  # a warp's load
        elif op.startswith("MUFU"):
            c["mufu"] += 1
        elif op.startswith("FSETP") and "+INF" in ins.text and "|" in ins.text:
            c["conversions"] += 1
        elif op.startswith(("F2F", "F2FP")):
            c["conversions"] += 1
    return c


@dataclass
class KernelStats:
    name: str
    registers: int
    stack: int
    smem_static: int
    instructions: int
    hot: dict[str, float] = field(default_factory=dict)  # the hot loop's counts
    hot_range: tuple[int, int] | None = None  # SASS addresses
    epilogue: dict[str, float] = field(default_factory=dict)  # the enclosing loop minus the hot one
    # TF32: the k-loop of each pass size (n-tiles per warp pass) -> its counts
    pass_loops: dict[int, dict[str, float]] = field(default_factory=dict)
    # FP32: the k-loop of each tile height (rows of outputs per thread) -> its counts
    tile_loops: dict[int, dict[str, float]] = field(default_factory=dict)

    @property
    def unit(self) -> str:
        return "mma" if self.hot.get("mma") else "ffma"

    @property
    def epilogue_per_value(self) -> float:
        """Epilogue warp instructions per output value a lane stores."""
        v = self.epilogue.get("stored_values", 0)
        return self.epilogue.get("instructions", 0) / v if v else 0.0

    def per_unit(self, key: str, region: str = "hot") -> float:
        counts = self.hot if region == "hot" else self.epilogue
        n = self.hot.get(self.unit, 0)
        return counts.get(key, 0) / n if n else math.nan


def pass_tiles(counts: dict[str, float]) -> int:
    """n-tiles of a TF32 k-loop's pass: per k step each m-tile's A fragment is 4 words per lane and
    feeds one MMA per n-tile, so n-tiles = 4 x MMAs / A words loaded."""
    return round(4 * counts["mma"] / counts["lds_words"]) if counts["lds_words"] else 0


def tile_rows(counts: dict[str, float]) -> int:
    """Rows of an FFMA k-loop's output tile (0: not an outer product). Over u k's a tile of R rows
    x C columns loads R u input words and C u weight words for R C u FFMAs, so u = input words x
    weight words / FFMAs is a whole number and R = FFMAs / weight words."""
    f, a, b = counts["ffma"], counts["lds_words"], counts["global_words"]
    return round(f / b) if f and a and b and (a * b) % f == 0 else 0


def analyse(name: str, instrs: list[Instr], resources: dict[str, int]) -> KernelStats:
    st = KernelStats(
        pretty_name(name),
        resources.get("registers", 0),
        resources.get("stack", 0),
        resources.get("smem_static", 0),
        len(instrs),
    )
    ranges = loops(instrs)
    inner = [r for r in ranges if not any(o != r and r[0] <= o[0] and o[1] <= r[1] for o in ranges)]
    # An FFMA k-loop is an outer product: per k, R input words and C weight words feed R x C
    # FFMAs, so its FFMAs are at most (input words) x (weight words) loaded; the state update's
    # polynomials have far more FFMAs than that. Score a loop by its FFMAs fed by loads; between
    # equal scores (a tile's float4 loop and its guarded scalar twin) the fewest instructions.
    # An MMA k-loop: the widest pass first (it carries most of a wide layer's MMAs), then the
    # most MMAs; per pass size the loop with the most MMAs (the main loop, not a remainder).
    best, best_key = None, (0, 0, 0, -math.inf)
    for r in inner:
        cnt = classify(instrs[r[0] : r[1] + 1])
        tiles = pass_tiles(cnt) if cnt["mma"] else 0
        fed = min(cnt["ffma"], cnt["lds_words"] * cnt["global_words"])
        key = (tiles, cnt["mma"], fed, -cnt["instructions"])
        if (cnt["mma"] or fed) and key > best_key:
            best, best_key = r, key
        if tiles and cnt["mma"] > st.pass_loops.get(tiles, {}).get("mma", 0):
            st.pass_loops[tiles] = cnt
        rows = 0 if cnt["mma"] else tile_rows(cnt)
        have = st.tile_loops.get(rows)
        if rows and (
            have is None or (fed, -cnt["instructions"]) > (have["ffma"], -have["instructions"])
        ):
            st.tile_loops[rows] = cnt
    if best is None:
        return st
    st.hot = classify(instrs[best[0] : best[1] + 1])
    st.hot_range = (instrs[best[0]].addr, instrs[best[1]].addr)
    # The epilogue: the loop around the hot one, less every loop inside it (the hot loop and the
    # k-loops of other pass sizes); costed per value it stores (the stores are the outputs).
    outer = [r for r in ranges if r != best and r[0] <= best[0] and best[1] <= r[1]]
    if outer:
        o = min(outer, key=lambda r: r[1] - r[0])
        nested = [r for r in ranges if r != o and o[0] <= r[0] and r[1] <= o[1]]
        region = [
            instrs[i] for i in range(o[0], o[1] + 1) if not any(a <= i <= b for a, b in nested)
        ]
        st.epilogue = classify(region)
    return st


# ---- occupancy and time ------------------------------------------------------------------------


def blocks_per_sm(registers: int, threads: int, smem_bytes: int) -> dict[str, int]:
    """Resident blocks per SM on sm_90 and what limits them (register allocation per warp in units
    of 256, shared memory with 1 KB reserved per block)."""
    warps = math.ceil(threads / 32)
    regs_per_warp = math.ceil(max(registers, 1) * 32 / 256) * 256
    by_regs = (H100["regs"] // regs_per_warp) // warps
    by_smem = H100["smem"] // (smem_bytes + H100["smem_reserved"]) if smem_bytes else 99
    by_threads = H100["threads"] // threads
    limit = min(by_regs, by_smem, by_threads, H100["blocks"])
    return dict(blocks=limit, by_registers=by_regs, by_smem=by_smem, by_threads=by_threads)


def paper_layers(p: dict) -> list[tuple[int, int]]:
    widths = [p["model_input_dim"] + p["act_dim"]] + [p["hidden"]] * p["hidden_layers"]
    widths.append(2 * p["obs_dim"])
    return list(zip(widths[:-1], widths[1:], strict=True))


@dataclass
class Shape:
    tile_rows: int
    act_pad: int
    threads: int
    warp_n_tiles: int  # n-tiles (8 columns) one warp keeps in registers (Tf32Mma)
    fp32_tile_cols: int = 0  # Fp32Fma's column strips (0: one thread per output, before cuda4f)


def variant_rows(name: str, default: int) -> int:
    """Rows per block of a Rollout variant: its last template argument where it has one
    (RolloutKernel<HalfCheetah, Tf32Mma, 32>), else the default tile."""
    m = re.search(r",\s*(\d+)>$", name)
    return int(m.group(1)) if m else default


@dataclass
class TileChoice:
    """kernels::ChooseTileRows (launch_shape.h), mirrored for one gemm: a launch takes `small` rows
    per block where max(busiest SM's blocks x rows x per_row[rows], blocks x l2_per_block) is
    smaller than with `large` rows (the model's compute and L2 bounds in the driver's integer
    units; TF32 125 per row at both sizes, float32 a per-row cost per size)."""

    large: int
    small: int
    per_row: dict[int, int]
    l2_per_block: int

    def blocks(self, p: dict, members: int, rows: int) -> int:
        per_model = p["population"] * (p["particles"] // p["ensemble"])
        return members * p["ensemble"] * math.ceil(per_model / rows)

    def cost(self, p: dict, members: int, rows: int) -> int:
        blocks = self.blocks(p, members, rows)
        busiest = math.ceil(blocks / H100["sms"])
        return max(busiest * rows * self.per_row[rows], blocks * self.l2_per_block)

    def rows(self, p: dict, members: int) -> int:
        small_wins = self.cost(p, members, self.small) < self.cost(p, members, self.large)
        return self.small if small_wins else self.large


def driver_choices(kernels_h: Path) -> dict[str, TileChoice]:
    """The driver's block-size choices per kernel unit, from launch_shape.h's and rollout.h's
    constants: TF32 ("mma") 64 or 48 rows, float32 ("ffma") 64 or 32."""
    large = header_constant(kernels_h / "rollout.h", "kTileRows")
    tf32_small = header_constant(kernels_h / "rollout.h", "kTf32SmallTileRows")
    fp32_small = header_constant(kernels_h / "rollout.h", "kFp32SmallTileRows")
    tensor = header_constant(kernels_h / "launch_shape.h", "kTensorCostPerRow")
    l2 = header_constant(kernels_h / "launch_shape.h", "kL2CostPerBlock")
    fp32 = header_constant(kernels_h / "launch_shape.h", "kFp32CostPerRow")
    fp32_s = header_constant(kernels_h / "launch_shape.h", "kFp32SmallCostPerRow")
    return dict(
        mma=TileChoice(large, tf32_small, {large: tensor, tf32_small: tensor}, l2),
        ffma=TileChoice(large, fp32_small, {large: fp32, fp32_small: fp32_s}, l2),
    )


def rollout_smem(p: dict, shape: Shape) -> int:
    """RolloutSmemBytes (kernels/rollout.h): two activation buffers and the state."""
    stride = math.ceil(p["hidden"] / 8) * 8 + shape.act_pad
    return 4 * (2 * shape.tile_rows * stride + shape.tile_rows * p["obs_dim"])


def warp_passes(n: int, shape: Shape) -> list[int]:
    """Pass sizes (n-tiles) of every warp of a block for an n-wide TF32 layer: warp w takes tiles
    w, w + warps, ... in passes of warp_n_tiles, the rest in one smaller pass (Tf32Mma::Layer)."""
    tiles, warps = math.ceil(n / 8), shape.threads // 32
    out = []
    for w in range(warps):
        mine = (tiles - w + warps - 1) // warps if w < tiles else 0
        out += [shape.warp_n_tiles] * (mine // shape.warp_n_tiles)
        if mine % shape.warp_n_tiles:
            out.append(mine % shape.warp_n_tiles)
    return out


def fp32_warp_tiles(n: int, shape: Shape) -> list[list[int]]:
    """Per warp of a block, the tile rows of each of its passes over an n-wide FP32 layer
    (Fp32Fma::Layer): warp w takes a contiguous run of the ceil(n / cols) column strips, as many
    as every other warp +-1; four at a time in tiles of tile_rows / 8 rows, the last 1 / 2 / 3 in
    tiles of tile_rows / 32, / 16, / 8 (24 lanes)."""
    warps = shape.threads // 32
    strips = math.ceil(n / shape.fp32_tile_cols)
    last = {1: shape.tile_rows // 32, 2: shape.tile_rows // 16, 3: shape.tile_rows // 8}
    out = []
    for w in range(warps):
        mine = strips // warps + (1 if w < strips % warps else 0)
        out.append([shape.tile_rows // 8] * (mine // 4) + ([last[mine % 4]] if mine % 4 else []))
    return out


def per_ffma(st: KernelStats, rows: int, key: str) -> float:
    """Per FFMA count of the k-loop of tiles of `rows` rows (the hot loop's if none)."""
    loop = st.tile_loops.get(rows)
    return loop[key] / loop["ffma"] if loop else st.per_unit(key)


def fp32_wavefronts_per_ffma(st: KernelStats, rows: int, block_rows: int) -> float:
    """LSU wavefronts per FFMA of the k-loop of `rows`-row FP32 tiles in blocks of `block_rows`
    rows (Fp32Fma::Tile), from the tile layout instead of every lane's load in full: a warp's
    lanes are G = block_rows / rows row groups x 32 / G column strips (24 lanes for 3 strips).
    A shared load of w words reads one row per group, which the strips' lanes share (a
    broadcast): G x 4w bytes, at least one 128-B wavefront. A weight load reads one pair per
    strip, which the groups' lanes share: one wavefront for one strip, two for several (strips
    are 40 B apart and may straddle a 128-B line)."""
    loop = st.tile_loops.get(rows) or st.hot
    ffma = loop.get("ffma", 0)
    if not ffma:
        return 0.0
    groups = block_rows // rows
    lds, ldg = loop.get("lds", 0), loop.get("global_loads", 0)
    lds_width = loop.get("lds_words", 0) / lds if lds else 0.0
    shared = lds * max(1.0, groups * 4 * lds_width / 128)
    weights = ldg * (1 if groups >= 32 else 2)
    return (shared + weights) / ffma


def per_mma(st: KernelStats, tiles: int, key: str) -> float:
    """Per MMA count of the k-loop of passes of `tiles` n-tiles (the hot loop's if none)."""
    loop = st.pass_loops.get(tiles)
    return loop[key] / loop["mma"] if loop else st.per_unit(key)


def step_work(st: KernelStats, p: dict, shape: Shape) -> dict[str, float]:
    """Per block and one rollout step: MMAs (or warp FFMAs), hot-loop warp instructions, LSU
    wavefronts and global bytes loaded (TF32: each pass at its own loop's rate), epilogue warp
    instructions (per output value stored: 32 per warp instruction); FP32 tiles also the busiest
    scheduler's share (warp w of a block issues on scheduler w % 4, and each layer ends at a
    barrier)."""
    units = instr = lsu = epi = gbytes = 0.0
    m_tiles = shape.tile_rows // 16
    per_scheduler = [0.0] * H100["schedulers"]
    for k, n in paper_layers(p):
        if st.unit == "mma":
            for tiles in warp_passes(n, shape):
                pass_units = m_tiles * tiles * math.ceil(k / 8)
                units += pass_units
                instr += pass_units * per_mma(st, tiles, "instructions")
                lsu += pass_units * per_mma(st, tiles, "lsu_wavefronts")
                gbytes += pass_units * per_mma(st, tiles, "global_bytes")
            values = shape.tile_rows * math.ceil(n / 8) * 8
        elif shape.fp32_tile_cols:  # per warp pass: rows x cols warp FFMAs per k (idle lanes too)
            values = 0
            for w, passes in enumerate(fp32_warp_tiles(n, shape)):
                for rows in passes:
                    pass_units = rows * shape.fp32_tile_cols * k
                    pass_instr = pass_units * per_ffma(st, rows, "instructions")
                    units += pass_units
                    instr += pass_instr
                    lsu += pass_units * fp32_wavefronts_per_ffma(st, rows, shape.tile_rows)
                    values += 32 * rows * shape.fp32_tile_cols
                    pass_epi = rows * shape.fp32_tile_cols * st.epilogue_per_value
                    per_scheduler[w % len(per_scheduler)] += pass_instr + pass_epi
        else:  # one thread per output
            layer_units = shape.tile_rows * n * k / 32
            units += layer_units
            instr += layer_units * st.per_unit("instructions")
            lsu += layer_units * st.per_unit("lsu_wavefronts")
            gbytes += layer_units * st.per_unit("global_bytes")
            values = shape.tile_rows * n
        epi += values / 32 * st.epilogue_per_value
    return dict(
        units=units,
        hot_instructions=instr,
        lsu_wavefronts=lsu,
        epilogue_instructions=epi,
        global_bytes=gbytes,
        scheduler_instructions=max(per_scheduler),
    )


# L2 -> SM bandwidth of the whole H100 SXM, TB/s: an assumption (NVIDIA states none for H100;
# A100's stated 5120 B/clock would be 9 TB/s at 1.755 GHz; measurements reported for the H100
# PCIe are lower). The k-loop's weights come from L2 at every step of every block: a block's
# 0.5 MB of weights does not stay in the ~28 KB of L1 the paper's shared memory leaves.
L2_TBPS = 7.0


def times(
    st: KernelStats,
    p: dict,
    shape: Shape,
    members: int,
    clock_ghz: float,
    mma_per_clock: float,
    l2_tbps: float = L2_TBPS,
) -> dict[str, float]:
    rows = p["population"] * (p["particles"] // p["ensemble"])  # per ensemble model
    blocks = members * p["ensemble"] * math.ceil(rows / shape.tile_rows)
    busiest = math.ceil(blocks / H100["sms"])  # blocks of work on the busiest SM
    w = step_work(st, p, shape)
    steps = p["horizon"] * p["iterations"]
    clk = clock_ghz * 1e9
    warp_instr = w["hot_instructions"] + w["epilogue_instructions"]
    issue = busiest * steps * warp_instr / H100["schedulers"]
    sched = busiest * steps * w["scheduler_instructions"]  # 0 where not counted (TF32)
    lsu = busiest * steps * w["lsu_wavefronts"]
    tensor = busiest * steps * w["units"] / mma_per_clock if st.unit == "mma" else 0.0
    # The whole GPU's L2 traffic, for TF32 only: a block loads each packed word once per step, so
    # nothing is reused within it; FP32 reads the weights in place once per row (reuse that L1
    # may serve in part: not modelled).
    l2_ms = blocks * steps * w["global_bytes"] / (l2_tbps * 1e12) * 1e3 if st.unit == "mma" else 0.0
    return dict(
        blocks=blocks,
        busiest_sm_blocks=busiest,
        steps=steps,
        **w,
        issue_ms=issue / clk * 1e3,
        scheduler_ms=sched / clk * 1e3,
        lsu_ms=lsu / clk * 1e3,
        tensor_ms=tensor / clk * 1e3,
        l2_ms=l2_ms,
        l2_tbps=l2_tbps,
        model_ms=max(max(issue, sched, lsu, tensor) / clk * 1e3, l2_ms),
    )


# ---- report ------------------------------------------------------------------------------------


def fmt(x: float, nd: int = 1) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def report(
    stats: list[KernelStats],
    p: dict,
    shape: Shape,
    clock_ghz: float,
    mma_per_clock: float,
    members: int,
    choices: dict[str, TileChoice] | None = None,
    l2_tbps: float = L2_TBPS,
) -> dict:
    """Prints the model and returns its numbers; `choices`: the driver's block-size choice per
    kernel unit ("mma": TF32, "ffma": float32), mirrored."""
    choices = choices or {}
    smem = rollout_smem(p, shape)

    def shape_of(st: KernelStats) -> Shape:
        return replace(shape, tile_rows=variant_rows(st.name, shape.tile_rows))

    print(
        f"# Static model: sm_90 SASS, H100 (132 SMs x 4 schedulers) at {clock_ghz} GHz, "
        f"mma.sync {mma_per_clock} HMMA.1688/clock/SM (assumed)"
    )
    print("\n## Hot loop per kernel variant (per MMA; FFMA where the kernel has no MMA)\n")
    print(
        "| kernel | regs | loop instr | MMA/FFMA | instr/unit | LDS/unit | global/unit | "
        "cvt/unit | LSU wavefronts/unit | epilogue instr/value | blocks/SM (paper smem) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for st in stats:
        occ = blocks_per_sm(
            st.registers, shape.threads, rollout_smem(p, shape_of(st)) + st.smem_static
        )
        n = st.hot.get(st.unit, 0)
        print(
            f"| {st.name} | {st.registers} | {st.hot.get('instructions', 0)} | {n} {st.unit} | "
            f"{fmt(st.per_unit('instructions'))} | {fmt(st.per_unit('lds'), 2)} | "
            f"{fmt(st.per_unit('global_loads'), 2)} | {fmt(st.per_unit('conversions'), 2)} | "
            f"{fmt(st.per_unit('lsu_wavefronts'), 2)} | {fmt(st.epilogue_per_value)} | "
            f"{occ['blocks']} |"
        )
        rows.append(dict(asdict(st), occupancy=occ, unit=st.unit))
    out = dict(
        clock_ghz=clock_ghz,
        l2_tbps=l2_tbps,
        mma_per_clock=mma_per_clock,
        paper=p,
        shape=asdict(shape),
        rollout_smem_bytes=smem,
        kernels=rows,
        predictions=[],
    )
    paper = [s for s in stats if s.name.startswith("RolloutKernel<" + p["task"])]
    for st in paper:
        vshape = shape_of(st)
        vsmem = rollout_smem(p, vshape)
        occ = blocks_per_sm(st.registers, shape.threads, vsmem + st.smem_static)
        print(
            f"\n## {st.name}: the paper step ({vshape.tile_rows} rows per block, "
            f"{fmt(vsmem / 1024)} KB shared memory per block, "
            f"{occ['blocks']} blocks = {occ['blocks'] * shape.threads // 32 // 4} warps per "
            f"scheduler per SM)"
        )
        if st.pass_loops:
            loops_txt = ", ".join(
                f"{tiles}: {fmt(c['instructions'] / c['mma'], 2)}"
                for tiles, c in sorted(st.pass_loops.items(), reverse=True)
            )
            print(f"\nk-loop instructions per MMA by pass size (n-tiles): {loops_txt}")
        for mem in (1, members):
            t = times(st, p, vshape, mem, clock_ghz, mma_per_clock, l2_tbps)
            choice = choices.get(st.unit)
            picked = choice is None or choice.rows(p, mem) == vshape.tile_rows
            out["predictions"].append(
                dict(
                    kernel=st.name,
                    members=mem,
                    tile_rows=vshape.tile_rows,
                    driver_choice=picked,
                    **t,
                )
            )
            clk = clock_ghz * 1e9
            print(
                f"\n{mem} member(s): {t['blocks']} blocks -> {t['busiest_sm_blocks']} on the "
                f"busiest SM; per block and step {t['units']:.0f} {st.unit} x "
                f"{fmt(t['hot_instructions'] / t['units'], 2)} instr = "
                f"{t['hot_instructions']:.0f} + "
                f"epilogue {t['epilogue_instructions']:.0f} warp instr; x {t['steps']} steps"
            )
            b, s = t["busiest_sm_blocks"], t["steps"]
            hi, ei = t["hot_instructions"], t["epilogue_instructions"]
            print(
                f"  issue : {b} x {s} x ({hi:.0f} + {ei:.0f}) / 4 / {clk:.3g} = "
                f"{t['issue_ms']:.2f} ms"
            )
            if t["scheduler_instructions"]:
                print(
                    f"  sched : {b} x {s} x {t['scheduler_instructions']:.0f} (the busiest "
                    f"scheduler's warps) / 1 / {clk:.3g} = {t['scheduler_ms']:.2f} ms"
                )
            print(
                f"  lsu   : {b} x {s} x {t['lsu_wavefronts']:.0f} / 1 / {clk:.3g} = "
                f"{t['lsu_ms']:.2f} ms"
            )
            if st.unit == "mma":
                print(
                    f"  tensor: {b} x {s} x {t['units']:.0f} / {mma_per_clock} / {clk:.3g} = "
                    f"{t['tensor_ms']:.2f} ms"
                )
            if st.unit == "mma":
                print(
                    f"  l2    : {t['blocks']} x {s} x {t['global_bytes'] / 1e3:.0f} KB / "
                    f"{t['l2_tbps']} TB/s = {t['l2_ms']:.2f} ms"
                )
            print(f"  model : {t['model_ms']:.2f} ms (the largest bound)")
    out["tile_choice"] = {}
    for unit, precision in (("mma", "tf32"), ("ffma", "float32")):
        variants = {variant_rows(s.name, shape.tile_rows): s for s in paper if s.unit == unit}
        choice = choices.get(unit)
        if choice and {choice.large, choice.small} <= variants.keys():
            out["tile_choice"][precision] = tile_choice(
                precision, variants, p, shape, choice, clock_ghz, mma_per_clock, members, l2_tbps
            )
    return out


def tile_choice(
    precision: str,
    variants: dict[int, KernelStats],
    p: dict,
    shape: Shape,
    choice: TileChoice,
    clock_ghz: float,
    mma_per_clock: float,
    members: int,
    l2_tbps: float,
) -> dict:
    """One gemm's two tile sizes costed against each other, and the rows the driver picks."""
    print(f"\n## {precision} rows per block (kernels::ChooseTileRows)\n")
    out = {}
    for mem in (1, members):
        picked = choice.rows(p, mem)
        ms = {
            r: times(st, p, replace(shape, tile_rows=r), mem, clock_ghz, mma_per_clock, l2_tbps)[
                "model_ms"
            ]
            for r, st in variants.items()
        }
        best = min(ms, key=ms.get)
        print(
            f"{mem} member(s): {choice.large} rows {ms[choice.large]:.2f} ms, {choice.small} rows "
            f"{ms[choice.small]:.2f} ms; the driver picks {picked} rows"
            + ("" if picked == best else f" (the model would pick {best})")
        )
        out[f"members_{mem}"] = dict(
            picked=picked,
            model_best=best,
            ms=ms,
            driver_cost={r: choice.cost(p, mem, r) for r in (choice.large, choice.small)},
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=ROOT / "cuda/src/plan_kernels.cu")
    ap.add_argument(
        "--build",
        type=Path,
        default=ROOT / "build/dev",
        help="a configured build folder (the generated task list)",
    )
    ap.add_argument("--cubin", type=Path, help="read this cubin instead of building")
    ap.add_argument("--ptxas-log", type=Path, help="ptxas -v output of --cubin")
    ap.add_argument("--kernels", default="", help="a regex: only matching kernels")
    ap.add_argument("--clock-ghz", type=float, default=1.755)
    ap.add_argument(
        "--mma-per-clock",
        type=float,
        default=0.5,
        help="HMMA.1688.F32.TF32 per clock per SM that mma.sync sustains (assumed)",
    )
    ap.add_argument(
        "--l2-tbps",
        type=float,
        default=L2_TBPS,
        help="L2 -> SM bandwidth of the whole GPU in TB/s (assumed)",
    )
    ap.add_argument("--members", type=int, default=40)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    try:
        cuobjdump = find_tool("cuobjdump")
        if cuobjdump is None:
            raise ModelError(
                "expected cuobjdump on PATH or from pip's nvidia-cuda-cuobjdump, got none"
            )
        with tempfile.TemporaryDirectory() as tmp:
            if args.cubin:
                cubin = args.cubin
                log = args.ptxas_log.read_text() if args.ptxas_log else ""
            else:
                nvcc = os.environ.get("NVCC") or find_tool("nvcc")
                if nvcc is None:
                    raise ModelError("expected nvcc on PATH (or NVCC), got none")
                cubin = Path(tmp) / "kernels.cubin"
                log = build_cubin(args.source, args.build, cubin, nvcc)
            sass = parse_sass(disassemble(cubin, cuobjdump))
        resources = parse_ptxas(log)
        kernels_h = ROOT / "cuda/include/mbrlhpo/cuda/kernels"
        choices = driver_choices(kernels_h)
        shape = Shape(
            tile_rows=header_constant(kernels_h / "rollout.h", "kTileRows"),
            act_pad=header_constant(kernels_h / "rollout.h", "kActPad"),
            threads=header_constant(
                ROOT / "cuda/include/mbrlhpo/cuda/plan_kernels.h", "kRolloutThreads"
            ),
            warp_n_tiles=header_constant(kernels_h / "gemm.h", "kWarpNTiles"),
            fp32_tile_cols=header_constant(kernels_h / "gemm.h", "kFp32TileCols"),
        )
        stats = [analyse(n, ins, resources.get(n, {})) for n, ins in sass.items()]
        stats = sorted((s for s in stats if re.search(args.kernels, s.name)), key=lambda s: s.name)
        if not stats:
            raise ModelError(f"expected kernels matching {args.kernels!r}, got none")
        out = report(
            stats,
            PAPER,
            shape,
            args.clock_ghz,
            args.mma_per_clock,
            args.members,
            choices,
            args.l2_tbps,
        )
    except (ModelError, OSError) as e:
        print(f"static_model: {e}", file=sys.stderr)
        return 1
    if args.json:
        git = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        out["commit"] = git.stdout.strip() or None
        out["source"] = _repo_relative(args.cubin or args.source)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
