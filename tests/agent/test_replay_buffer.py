"""The replay buffer: episodes in, views out, sharing without copying, state round trip."""

import numpy as np
import pytest

from mbrlhpo.agent import ReplayBuffer


def episode(rng, steps, o=3, a=2):
    return (
        rng.normal(size=(steps, o)),
        rng.normal(size=(steps, a)),
        rng.normal(size=(steps, o)),
        rng.normal(size=steps),
        rng.random(steps) < 0.1,
    )


def test_append_grows_and_keeps_every_transition():
    rng = np.random.default_rng(0)
    buffer = ReplayBuffer(3, 2)
    episodes = [episode(rng, n) for n in (5, 300, 1, 700)]
    for ep in episodes:
        buffer.add_episode(*ep)
    assert len(buffer) == 1006 and buffer.num_episodes == 4
    assert buffer.episode_lengths == [5, 300, 1, 700]
    data = buffer.all()
    np.testing.assert_array_equal(data.obs, np.concatenate([ep[0] for ep in episodes]))
    np.testing.assert_array_equal(data.terminated, np.concatenate([ep[4] for ep in episodes]))
    np.testing.assert_array_equal(buffer.episode(1).act, episodes[1][1])
    np.testing.assert_array_equal(buffer.episode(-1).reward, episodes[3][3])
    np.testing.assert_array_equal(
        buffer.last_episodes(2).next_obs, np.concatenate([episodes[2][2], episodes[3][2]])
    )
    with pytest.raises(ValueError):
        data.obs[0, 0] = 1.0  # views are read-only


def test_growth_is_amortised():
    buffer = ReplayBuffer(1, 1)
    rng = np.random.default_rng(1)
    reallocations, store = 0, None
    for _ in range(1000):
        buffer.add_episode(*episode(rng, 10, 1, 1))
        if buffer._store["obs"] is not store:
            reallocations, store = reallocations + 1, buffer._store["obs"]
    assert reallocations <= 7  # 256 -> 16384 by doubling, never once per episode


def test_share_from_copies_nothing_until_written():
    rng = np.random.default_rng(2)
    source = ReplayBuffer(3, 2)
    source.add_episode(*episode(rng, 50))
    target = ReplayBuffer(3, 2)
    target.add_episode(*episode(rng, 7))
    target.share_from(source)
    assert target.all().obs.base is source.all().obs.base  # same memory
    np.testing.assert_array_equal(target.all().reward, source.all().reward)
    before = source.all().reward.copy()
    extra_target, extra_source = episode(rng, 10), episode(rng, 20)
    target.add_episode(*extra_target)
    source.add_episode(*extra_source)
    np.testing.assert_array_equal(target.all().reward[:50], before)
    np.testing.assert_array_equal(target.all().reward[50:], extra_target[3])
    np.testing.assert_array_equal(source.all().reward[50:], extra_source[3])
    assert len(target) == 60 and len(source) == 70


def test_state_round_trip_and_bad_shapes():
    rng = np.random.default_rng(3)
    buffer = ReplayBuffer(3, 2)
    for n in (4, 9):
        buffer.add_episode(*episode(rng, n))
    restored = ReplayBuffer.from_state(buffer.state(), 3, 2)
    assert restored.episode_lengths == [4, 9]
    np.testing.assert_array_equal(restored.all().next_obs, buffer.all().next_obs)
    obs, act, nxt, rew, term = episode(rng, 4)
    with pytest.raises(ValueError, match=r"expected act of shape \(4, 2\), got \(4, 3\)"):
        buffer.add_episode(obs, np.zeros((4, 3)), nxt, rew, term)
    with pytest.raises(ValueError, match="non-empty reward"):
        buffer.add_episode(obs[:0], act[:0], nxt[:0], rew[:0], term[:0])
