import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from toy_tasks import linear_task, pendulum_task, pendulum_transitions

from mbrlhpo.models import (
    DynamicsModel,
    Normalizer,
    ProbabilisticEnsemble,
    bound_logvar,
)


def test_ensemble_shapes_init_and_member_independence():
    g = torch.Generator().manual_seed(0)
    ens = ProbabilisticEnsemble(5, 3, ensemble_size=4, hidden=16, depth=3, generator=g)
    assert [tuple(w.shape) for w in ens.weights] == [
        (4, 5, 16),
        (4, 16, 16),
        (4, 16, 16),
        (4, 16, 6),
    ]
    assert [tuple(b.shape) for b in ens.biases] == [
        (4, 1, 16),
        (4, 1, 16),
        (4, 1, 16),
        (4, 1, 6),
    ]
    assert all(w.is_contiguous() for w in ens.weights)
    w0 = ens.weights[0]
    std = 1 / (2 * np.sqrt(5))
    assert float(w0.detach().abs().max()) <= 2 * std + 1e-7
    x = torch.randn(4, 7, 5, generator=g)
    mean, logvar = ens(x)
    assert mean.shape == (4, 7, 3) and logvar.shape == (4, 7, 3)
    # member 2's output depends only on member 2's input and weights
    x2 = x.clone()
    x2[1] += 1.0
    mean2, _ = ens(x2)
    assert torch.equal(mean2[2], mean[2]) and not torch.equal(mean2[1], mean[1])
    # per-member reference with plain matmuls
    h = x[2]
    for i, (w, b) in enumerate(zip(ens.weights, ens.biases, strict=False)):
        h = h @ w[2] + b[2]
        if i < 3:
            h = h * torch.sigmoid(h)
    torch.testing.assert_close(mean[2], h[:, :3])
    with pytest.raises(ValueError, match=r"expected input of shape \(4, B, 5\), got \(4, 7, 6\)"):
        ens(torch.zeros(4, 7, 6))


def test_bound_logvar_stays_inside_bounds():
    raw = torch.linspace(-100, 100, 1001).reshape(1, -1)
    mx, mn = torch.tensor(0.5), torch.tensor(-10.0)
    lv = bound_logvar(raw, mx, mn)
    assert float(lv.max()) <= 0.5 + 1e-4 and float(lv.min()) >= -10 - 1e-6  # soft bounds
    assert torch.all(lv[:, 1:] >= lv[:, :-1])  # monotone


def test_normalizer_constant_dims_and_errors():
    n = Normalizer(3)
    x = np.stack([np.arange(10.0), np.full(10, 4.0), np.arange(10.0) * 2], axis=1)
    n.fit(x)
    assert n.std[0, 1] == 1.0 and np.isclose(n.mean[0, 1], 4.0)
    y = n(torch.as_tensor(x, dtype=torch.float32))
    assert torch.allclose(y.mean(0), torch.zeros(3), atol=1e-6)
    with pytest.raises(ValueError, match=r"expected data of shape \(B >= 1, 3\), got \(10, 2\)"):
        n.fit(x[:, :2])


def test_training_reduces_nll_and_beats_constant_predictor():
    task = pendulum_task()
    rng = np.random.default_rng(0)
    obs, act, nxt = pendulum_transitions(1500, rng)
    tr, te = slice(0, 1200), slice(1200, 1500)
    model = DynamicsModel(task, ensemble_size=3, hidden=64, depth=3, seed=0)
    nll0 = model.nll(obs[te], act[te], nxt[te])
    losses = model.train(obs[tr], act[tr], nxt[tr], epochs=8, lr=1e-3, weight_decay=1e-5, rng=rng)
    assert len(losses) == 8 and losses[-1] < losses[0]
    nll1 = model.nll(obs[te], act[te], nxt[te])
    assert nll1 < nll0 - 1.0
    # held-out MSE of the ensemble-mean prediction vs predicting the mean training delta
    mean_next, var = model.predict(obs[te], act[te])
    assert mean_next.shape == (3, 300, 2) and var.shape == (3, 300, 2) and (var > 0).all()
    mse_model = float(((mean_next.mean(0) - nxt[te]) ** 2).mean())
    const = obs[te] + (nxt[tr] - obs[tr]).mean(0)
    mse_const = float(((const - nxt[te]) ** 2).mean())
    assert mse_model < 0.2 * mse_const


def test_hyperparameters_change_without_losing_adam_state_and_determinism():
    task = linear_task(obs_dim=3, act_dim=2)
    rng = np.random.default_rng(1)
    obs = rng.normal(size=(200, 3)).astype(np.float32)
    act = rng.uniform(-1, 1, size=(200, 2)).astype(np.float32)
    nxt = obs + 0.1 * np.concatenate([act, act[:, :1]], 1)

    def run() -> tuple[DynamicsModel, list[float]]:
        m = DynamicsModel(task, ensemble_size=2, hidden=16, depth=2, seed=3)
        r = np.random.default_rng(5)
        m.train(obs, act, nxt, epochs=2, lr=1e-3, weight_decay=1e-4, rng=r)
        steps = [int(s["step"]) for s in m.optimizer.state.values()]
        loss = m.train(obs, act, nxt, epochs=3, lr=3e-4, weight_decay=0.0, rng=r)
        steps2 = [int(s["step"]) for s in m.optimizer.state.values()]
        assert all(
            s2 == s + 3 * 7 for s, s2 in zip(steps, steps2, strict=False)
        )  # ceil(200/32) = 7 batches
        assert m.optimizer.param_groups[0]["lr"] == 3e-4
        return m, loss

    m1, l1 = run()
    _m2, l2 = run()
    assert l1 == l2
    # state_dict round trip restores predictions and Adam state
    m3 = DynamicsModel(task, ensemble_size=2, hidden=16, depth=2, seed=99)
    m3.load_state_dict(m1.state_dict())
    p1, _ = m1.predict(obs[:5], act[:5])
    p3, _ = m3.predict(obs[:5], act[:5])
    np.testing.assert_array_equal(p1, p3)
    r1, r3 = np.random.default_rng(7), np.random.default_rng(7)
    assert m1.train(obs, act, nxt, 1, 1e-3, 0.0, rng=r1) == m3.train(
        obs, act, nxt, 1, 1e-3, 0.0, rng=r3
    )


def test_absolute_target_dims_and_angle_inputs():
    task = pendulum_task()
    model = DynamicsModel(task, ensemble_size=1, hidden=8, depth=1, seed=0)
    assert model.input_dim == 2 + 1 + 1  # thetadot, sin, cos, action
    rng = np.random.default_rng(0)
    obs, act, nxt = pendulum_transitions(60, rng)
    model.train(obs, act, nxt, epochs=1, lr=1e-3, weight_decay=0.0, rng=rng)
    w = model.planner_weights()
    assert w.weights[0].data_ptr() == model.ensemble.weights[0].data_ptr()


def test_bad_inputs_raise_clear_errors():
    task = linear_task(obs_dim=3, act_dim=2)
    m = DynamicsModel(task, ensemble_size=2, hidden=8, depth=1, seed=0)
    rng = np.random.default_rng(0)
    o = np.zeros((4, 3), np.float32)
    a = np.zeros((4, 2), np.float32)
    with pytest.raises(ValueError, match=r"expected obs of shape \(B, 3\), got \(4, 2\)"):
        m.train(o[:, :2], a, o, 1, 1e-3, 0.0, rng=rng)
    with pytest.raises(ValueError, match="expected act with 4 rows"):
        m.nll(o, a[:3], o)
    with pytest.raises(ValueError, match="expected epochs"):
        m.train(o, a, o, 0, 1e-3, 0.0, rng=rng)
    with pytest.raises(ValueError, match="expected lr > 0"):
        m.train(o, a, o, 1, -1.0, 0.0, rng=rng)
    with pytest.raises(TypeError, match="expected rng"):
        m.train(o, a, o, 1, 1e-3, 0.0, rng=0)
    bad = o.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        m.train(bad, a, o, 1, 1e-3, 0.0, rng=rng)
