"""The native planner's optional BF16 mode (AVX512_BF16 CPUs): kernel and planner accuracy."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from toy_tasks import native_test_task

from mbrlhpo import _native
from mbrlhpo.models import DynamicsModel
from mbrlhpo.planning import CEMConfig, CEMPlanner

pytestmark = pytest.mark.skipif(not _native.available(), reason="native core not built")


def _supported() -> bool:
    return _native.available() and bool(_native.core().bf16_supported())


needs_bf16 = pytest.mark.skipif(not _supported(), reason="CPU lacks AVX512_BF16")


def test_bf16_round_matches_torch():
    x = np.random.default_rng(0).normal(0, 3, 4099).astype(np.float32)
    x[:4] = [0.0, -0.0, 1e30, -2.5e-3]
    ref = torch.from_numpy(x).to(torch.bfloat16).float().numpy()
    from mbrlhpo import _core_testing

    np.testing.assert_array_equal(_core_testing.bf16_round(x), ref)


@needs_bf16
@pytest.mark.parametrize(
    "rows,k,n",
    [
        (1, 1, 1),
        (7, 3, 5),
        (13, 200, 200),
        (500, 200, 200),
        (37, 33, 70),
        (25, 24, 32),
        (9, 200, 48),
        (100, 31, 64),
    ],
)
def test_bf16_kernel_matches_float32_gemm_on_rounded_inputs(rows, k, n):
    """Products of BF16 numbers are exact in float32: only the summation order differs from a
    float64 GEMM on the same rounded inputs (bound: k * 2^-24 * |a| @ |w|)."""
    from mbrlhpo import _core_testing as core

    r = np.random.default_rng(rows * 1000 + k + n)
    a = r.normal(0, 1, (rows, k)).astype(np.float32)
    w = r.normal(0, 1, (k, n)).astype(np.float32)
    ab, wb = core.bf16_round(a).astype(np.float64), core.bf16_round(w).astype(np.float64)
    ref = ab @ wb
    got = core.bf16_matmul(a, w)
    assert got.shape == (rows, n) and got.dtype == np.float32
    bound = k * 2.0**-24 * (np.abs(ab) @ np.abs(wb)) + 1e-30
    assert np.all(np.abs(got - ref) <= bound)
    # and it is not the float32 GEMM on unrounded inputs (the inputs really were rounded)
    if k >= 24:
        assert np.abs(got - a.astype(np.float64) @ w).max() > 1e-4


def _compare(task, model, cfg, obs, seed=3):
    pf = CEMPlanner(task, model, cfg, backend="cpu", seed=seed)
    pb = CEMPlanner(task, model, cfg, backend="cpu", seed=seed, precision="bf16")
    af, tf = pf.plan_with_trace(obs)
    ab, tb = pb.plan_with_trace(obs)
    # iteration 0 rolls out identical candidates on identical noise
    rel = np.abs(tb.returns[0] - tf.returns[0]).max() / np.abs(tf.returns[0]).max()
    overlap = len(set(tf.elites[0]) & set(tb.elites[0])) / tf.elites.shape[1]
    return rel, overlap, np.abs(ab - af).max(), (af, ab, tf, tb)


@needs_bf16
def test_bf16_planner_close_to_float32_on_trained_pendulum():
    from test_native_planner import trained_pendulum_model

    task = native_test_task("test_pendulum")
    model = trained_pendulum_model()  # 3 x 32 swish: two BF16 layers
    cfg = CEMConfig(horizon=10, population=100, elite_ratio=0.1, iterations=3, particles=4)
    for obs in (np.array([0.3, -0.5]), np.array([3.0, 2.0])):
        rel, overlap, da, (af, ab, tf, tb) = _compare(task, model, cfg, obs)
        assert 0 < rel < 2e-3  # measured 5e-5 .. 1.2e-4: really BF16, and close
        assert overlap >= 0.9  # measured 1.0
        assert da < 0.05  # measured 0 (identical elites in every iteration)


@needs_bf16
def test_bf16_planner_halfcheetah_widths_and_thread_independence():
    from mbrlhpo.envs import get_task

    task = get_task("halfcheetah")
    model = DynamicsModel(task, ensemble_size=2, hidden=200, depth=4, seed=1)
    cfg = CEMConfig(horizon=5, population=37, elite_ratio=0.2, iterations=2, particles=2)
    obs = np.random.default_rng(0).normal(0, 0.3, task.obs_dim).astype(np.float32)
    rel, overlap, _, (_, ab, _, tb) = _compare(task, model, cfg, obs)
    assert 0 < rel < 2e-3 and overlap >= 0.8
    p1 = CEMPlanner(task, model, cfg, backend="cpu", seed=3, precision="bf16", num_threads=1)
    a1, t1 = p1.plan_with_trace(obs)
    np.testing.assert_array_equal(t1.returns, tb.returns)
    np.testing.assert_array_equal(a1, ab)


def test_bf16_precision_errors():
    task = native_test_task("test_pendulum")
    model = DynamicsModel(task, ensemble_size=2, hidden=8, depth=2, seed=0)
    cfg = CEMConfig(horizon=3, population=8, iterations=1, particles=2)
    with pytest.raises(ValueError, match="expected precision in"):
        CEMPlanner(task, model, cfg, backend="cpu", precision="fp16")
    with pytest.raises(ValueError, match="needs backend 'cpu'"):
        CEMPlanner(task, model, cfg, backend="torch", precision="bf16")
    if not _supported():
        with pytest.raises(RuntimeError, match="AVX512_BF16"):
            CEMPlanner(task, model, cfg, backend="cpu", precision="bf16")
