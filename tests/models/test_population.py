"""Population-batched training equals each member trained alone, bit for bit on the CPU.

Two independent references:
- ``_reference_train``: the per-member loop this project used before batching (a Python loop per
  batch with ``torch.optim.Adam`` and ``float(loss)``), kept here verbatim as the oracle;
- ``DynamicsModel.train`` alone (the population trainer with one member).
"""

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))
from toy_tasks import linear_task

from mbrlhpo.models import DynamicsModel, TrainingJob, gaussian_nll_terms, train_population

TASK = linear_task(obs_dim=3, act_dim=2)


def _data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    obs = rng.normal(size=(n, 3)).astype(np.float32)
    act = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
    nxt = obs + 0.1 * np.concatenate([act, act[:, :1]], 1) + 0.01 * rng.normal(size=(n, 3))
    return obs, act, nxt.astype(np.float32)


def _model(seed: int) -> DynamicsModel:
    return DynamicsModel(TASK, ensemble_size=3, hidden=16, depth=2, seed=seed)


def _reference_train(model, obs, act, nxt, epochs, lr, weight_decay, batch_size, rng):
    """The pre-batching training loop (one member, one Python step per batch), with
    ``torch.optim.Adam`` loaded from the model's Adam state and written back to it after (the
    model itself keeps only the state: mbrlhpo.models.adam_state)."""
    adam = torch.optim.Adam(model.ensemble.parameters(), lr=1e-3)
    saved = adam.state_dict()
    saved["state"] = model.optimizer.state_dict()["state"]
    adam.load_state_dict(saved)
    x_all, y_all = model.training_tensors(obs, act, nxt)
    for group in adam.param_groups:
        group["lr"] = float(lr)
    num = x_all.shape[0]
    boot = rng.integers(0, num, size=(model.ensemble_size, num))
    num_batches = math.ceil(num / batch_size)
    losses = []
    for _ in range(epochs):
        boot = rng.permuted(boot, axis=1)
        idx_all = torch.from_numpy(boot)
        total = 0.0
        for b in range(num_batches):
            idx = idx_all[:, b * batch_size : (b + 1) * batch_size]
            mean, logvar = model.ensemble(x_all[idx])
            loss = gaussian_nll_terms(mean, logvar, y_all[idx])
            loss = loss + model.ensemble.logvar_bound_penalty()
            if weight_decay > 0:
                loss = loss + weight_decay * model.ensemble.weight_l2()
            adam.zero_grad(set_to_none=True)
            loss.backward()
            adam.step()
            total += float(loss.detach())
        losses.append(total / num_batches)
    model.optimizer.load_state_dict(adam.state_dict())
    return losses


def _assert_same_state(a: DynamicsModel, b: DynamicsModel) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    sa.pop("num_train_calls"), sb.pop("num_train_calls")
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


# (epochs, lr, weight_decay) per member: different everywhere, one member without decay.
HPARAMS = [(3, 1e-3, 1e-4), (1, 3e-3, 0.0), (2, 5e-4, 3e-5), (3, 2e-3, 1e-3)]


@pytest.mark.parametrize("num", [128, 150, 200])
def test_single_member_equals_the_torch_adam_reference_loop_bit_for_bit(num):
    # Bit for bit, with one torch thread (the default): the batched loss sums every gradient in
    # the reference's order (population.py, _batched_loss). 150 and 200 transitions end in a
    # short batch (22 and 8 rows), which the batched step pads to 32 rows.
    obs, act, nxt = _data(num, 0)
    new, ref = _model(1), _model(1)
    r_new, r_ref = np.random.default_rng(2), np.random.default_rng(2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for epochs, lr, wd in HPARAMS:
            l_new = new.train(obs, act, nxt, epochs, lr, wd, rng=r_new)
            l_ref = _reference_train(ref, obs, act, nxt, epochs, lr, wd, 32, r_ref)
            assert l_new == l_ref
            _assert_same_state(new, ref)
    finally:
        torch.set_num_threads(threads)
    assert r_new.integers(1 << 30) == r_ref.integers(1 << 30)


def test_population_equals_each_member_alone_bit_for_bit():
    # Members 0-3 share a data size (one batched network); member 4 has another (its own
    # group); two calls, so the second starts from non-empty, unequal Adam states.
    sizes = [150, 150, 150, 150, 97]
    hps = HPARAMS + [(2, 1e-3, 1e-4)]
    data = [_data(n, 10 + i) for i, n in enumerate(sizes)]
    batched = [_model(20 + i) for i in range(5)]
    alone = [_model(20 + i) for i in range(5)]
    rngs_b = [np.random.default_rng(30 + i) for i in range(5)]
    rngs_a = [np.random.default_rng(30 + i) for i in range(5)]
    for call in range(2):
        jobs = [
            TrainingJob(m, *d, epochs=e + call, lr=lr, weight_decay=wd, batch_size=32, rng=r)
            for m, d, (e, lr, wd), r in zip(batched, data, hps, rngs_b, strict=True)
        ]
        losses_b = train_population(jobs)
        for i, (m, d, (e, lr, wd), r) in enumerate(zip(alone, data, hps, rngs_a, strict=True)):
            losses_a = m.train(*d, e + call, lr, wd, rng=r)
            assert losses_b[i] == losses_a, (call, i)
            assert len(losses_a) == e + call
            _assert_same_state(batched[i], m)
    for rb, ra in zip(rngs_b, rngs_a, strict=True):
        assert rb.integers(1 << 30) == ra.integers(1 << 30)


def test_a_watcher_is_told_every_batched_step_against_the_calls_total():
    # Two groups (150 and 97 transitions, batch 32: 5 and 4 batches an epoch); a group's steps
    # are its longest member's epochs x batches. Watching changes nothing in the result.
    data = [_data(150, 1), _data(150, 2), _data(97, 3)]
    epochs = [3, 1, 2]
    watched, plain = [_model(40 + i) for i in range(3)], [_model(40 + i) for i in range(3)]
    seen = []

    def jobs(models):
        return [
            TrainingJob(m, *d, epochs=e, lr=1e-3, weight_decay=0.0, batch_size=32, rng=r)
            for m, d, e, r in zip(
                models, data, epochs, [np.random.default_rng(i) for i in range(3)], strict=True
            )
        ]

    losses = train_population(jobs(watched), on_step=lambda done, total: seen.append((done, total)))
    total = 3 * 5 + 2 * 4
    assert seen == [(i, total) for i in range(1, total + 1)]
    assert losses == train_population(jobs(plain))
    for a, b in zip(watched, plain, strict=True):
        _assert_same_state(a, b)


def test_population_after_exploit_copy_and_checkpoint_round_trip():
    # PBT's exploit copies a member's weights and Adam state into another; a checkpoint
    # restores a member. Both must carry into batched training as into training alone.
    obs, act, nxt = _data(120, 5)
    a, b = _model(1), _model(2)
    ra, rb = np.random.default_rng(3), np.random.default_rng(4)
    train_population(
        [
            TrainingJob(a, obs, act, nxt, 2, 1e-3, 1e-4, 32, ra),
            TrainingJob(b, obs, act, nxt, 1, 2e-3, 0.0, 32, rb),
        ]
    )
    b.load_state_dict(a.state_dict())  # exploit: b becomes a
    restored = _model(99)
    restored.load_state_dict(a.state_dict())  # a checkpoint of a
    twin_a, twin_b = _model(7), _model(8)
    twin_a.load_state_dict(a.state_dict()), twin_b.load_state_dict(b.state_dict())
    rngs = [np.random.default_rng(s) for s in (11, 12, 11)]
    twin_rngs = [np.random.default_rng(s) for s in (11, 12, 11)]
    train_population(
        [
            TrainingJob(m, obs, act, nxt, 2, lr, 0.0, 32, r)
            for m, lr, r in zip((a, b, restored), (1e-3, 5e-4, 1e-3), rngs, strict=True)
        ]
    )
    twin_a.train(obs, act, nxt, 2, 1e-3, 0.0, rng=twin_rngs[0])
    twin_b.train(obs, act, nxt, 2, 5e-4, 0.0, rng=twin_rngs[1])
    _assert_same_state(a, twin_a)
    _assert_same_state(b, twin_b)
    _assert_same_state(restored, a)  # same state, same seed stream: same result


def test_cpu_training_runs_on_the_given_torch_threads_and_restores_them(monkeypatch):
    # The default trains CPU groups on one torch thread (bit-identical to training alone with
    # any process setting) and puts torch's own setting back, also after a failure.
    import mbrlhpo.models.population as population

    obs, act, nxt = _data(64, 1)
    seen = []
    train_group = population._train_group
    monkeypatch.setattr(
        population,
        "_train_group",
        lambda *a: seen.append(torch.get_num_threads()) or train_group(*a),
    )
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        m = _model(3)
        train_population(
            [TrainingJob(m, obs, act, nxt, 1, 1e-3, 0.0, 32, np.random.default_rng(0))]
        )
        assert seen == [1] and torch.get_num_threads() == 2
        train_population(
            [TrainingJob(m, obs, act, nxt, 1, 1e-3, 0.0, 32, np.random.default_rng(0))],
            cpu_threads=None,
        )
        assert seen == [1, 2]
        bad = nxt.copy()
        bad[0, 0] = np.inf
        with pytest.raises(ValueError, match="NaN or inf"):
            train_population(
                [TrainingJob(m, obs, act, bad, 1, 1e-3, 0.0, 32, np.random.default_rng())]
            )
        assert torch.get_num_threads() == 2
        for wrong in (0, 1.5, True):
            with pytest.raises(ValueError, match="expected cpu_threads"):
                train_population(
                    [TrainingJob(m, obs, act, nxt, 1, 1e-3, 0.0, 32, np.random.default_rng())],
                    cpu_threads=wrong,
                )
    finally:
        torch.set_num_threads(before)


def test_population_bad_input_names_the_problem():
    obs, act, nxt = _data(40, 0)
    m = _model(0)
    with pytest.raises(ValueError, match="at most once"):
        train_population(
            [TrainingJob(m, obs, act, nxt, 1, 1e-3, 0.0, 32, np.random.default_rng())] * 2
        )
    with pytest.raises(ValueError, match="expected epochs"):
        train_population([TrainingJob(m, obs, act, nxt, 0, 1e-3, 0.0, 32, np.random.default_rng())])
    with pytest.raises(ValueError, match="NaN or inf"):
        bad = nxt.copy()
        bad[3, 1] = np.nan
        train_population([TrainingJob(m, obs, act, bad, 1, 1e-3, 0.0, 32, np.random.default_rng())])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("graphs", [False, True])
def test_population_on_gpu_matches_cpu(graphs):
    # On a GPU, kernels differ from the CPU's (cuBLAS, fused reductions): equal to float
    # tolerance, not bit for bit. The graph-captured step must equal the eager one exactly.
    obs, act, nxt = _data(150, 0)
    cpu = [_model(20 + i) for i in range(3)]
    gpu = [
        DynamicsModel(TASK, ensemble_size=3, hidden=16, depth=2, device="cuda", seed=20 + i)
        for i in range(3)
    ]
    jobs = lambda ms, seed: [  # noqa: E731
        TrainingJob(m, obs, act, nxt, e, lr, wd, 32, np.random.default_rng(seed + i))
        for i, (m, (e, lr, wd)) in enumerate(zip(ms, HPARAMS, strict=False))
    ]
    lc = train_population(jobs(cpu, 0))
    lg = train_population(jobs(gpu, 0), graphs=graphs)
    for a, b in zip(lc, lg, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4)
    for a, b in zip(cpu, gpu, strict=True):
        for k, v in a.state_dict().items():
            if v.is_floating_point():
                torch.testing.assert_close(v, b.state_dict()[k], rtol=1e-3, atol=1e-5)
    if graphs:
        eager = [
            DynamicsModel(TASK, ensemble_size=3, hidden=16, depth=2, device="cuda", seed=20 + i)
            for i in range(3)
        ]
        train_population(jobs(eager, 0), graphs=False)
        for a, b in zip(eager, gpu, strict=True):
            _assert_same_state(a, b)
