"""VecEnv (native and Python backends) and the C++ task functions against the references."""

import threading
import time

import numpy as np
import pytest

from mbrlhpo.envs import TASK_NAMES, ReferenceEnv, VecEnv, get_task, make_env, native_backend

native = pytest.mark.skipif(
    not native_backend.available(), reason=f"native core not built: {native_backend.why()}"
)


def _actions(task, n, steps, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(
        task.action_low * 1.3, task.action_high * 1.3, (steps, n, task.act_dim)
    ).astype(np.float32)


def _run_vec(env, actions):
    out = [env.reset()[0]]
    rewards, flags = [], []
    for a in actions:
        obs, r, te, tr, info = env.step(a)
        out.append(obs)
        rewards.append(r)
        flags.append((te.copy(), tr.copy(), info["sim_diverged"].copy()))
    return np.array(out), np.array(rewards), flags


@pytest.mark.parametrize("name", TASK_NAMES)
def test_python_vec_env_equals_single_reference_envs(name):
    task = get_task(name)
    acts = _actions(task, 3, 12)
    vec = VecEnv(name, 3, seed=5, backend="python", max_episode_steps=5)
    obs, rew, _ = _run_vec(vec, acts)
    for i in range(3):
        env = ReferenceEnv(name, seed=5, env_index=i, max_episode_steps=5)
        o = env.reset()[0]
        np.testing.assert_array_equal(obs[0, i], o)
        ended = False
        for t in range(12):
            if ended:
                o, r, ended = env.reset()[0], 0.0, False
            else:
                o, r, te, tr, _ = env.step(acts[t, i])
                ended = te or tr
            np.testing.assert_array_equal(obs[t + 1, i], o)
            assert rew[t, i] == r


@native
@pytest.mark.parametrize("name", TASK_NAMES)
def test_native_equals_reference_bit_for_bit(name):
    task = get_task(name)
    acts = _actions(task, 4, 25, seed=1)
    py = _run_vec(VecEnv(name, 4, seed=9, backend="python", max_episode_steps=10), acts)
    nat = _run_vec(
        VecEnv(name, 4, num_threads=2, seed=9, backend="native", max_episode_steps=10), acts
    )
    np.testing.assert_array_equal(nat[0], py[0])
    np.testing.assert_allclose(nat[1], py[1], rtol=1e-12, atol=1e-12)
    for a, b in zip(nat[2], py[2], strict=False):
        for x, y in zip(a, b, strict=False):
            np.testing.assert_array_equal(x, y)


@native
@pytest.mark.parametrize("name", ["halfcheetah", "hexapod", "pusher"])
def test_native_thread_count_and_batch_independence(name):
    task = get_task(name)
    acts = _actions(task, 7, 15, seed=2)
    runs = [
        _run_vec(VecEnv(name, 7, num_threads=t, seed=3, backend="native"), acts) for t in (1, 2, 4)
    ]
    for other in runs[1:]:
        np.testing.assert_array_equal(other[0], runs[0][0])
        np.testing.assert_array_equal(other[1], runs[0][1])
    small = _run_vec(VecEnv(name, 2, num_threads=1, seed=3, backend="native"), acts[:, :2])
    np.testing.assert_array_equal(small[0], runs[0][0][:, :2])


@native
@pytest.mark.parametrize("name", TASK_NAMES)
def test_cpp_task_functions_equal_numpy(name):
    from mbrlhpo import _core_testing as core

    task = get_task(name)
    rng = np.random.default_rng(4)
    action = rng.uniform(-2, 2, (64, task.act_dim))
    obs = rng.normal(size=(64, task.obs_dim))
    np.testing.assert_allclose(
        core.task_reward(name, action, obs), task.reward(action, obs), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        core.task_reward_f32(name, action.astype(np.float32), obs.astype(np.float32)),
        task.reward(action, obs),
        rtol=2e-5,
        atol=2e-5,
    )
    np.testing.assert_array_equal(core.task_terminated(name, obs), task.terminated(obs))
    np.testing.assert_allclose(
        core.task_model_input(name, obs), task.model_input(obs), rtol=1e-14, atol=1e-15
    )
    assert list(core.task_names()) == list(TASK_NAMES)


def test_vec_env_reset_streams_and_autoreset():
    vec = VecEnv("cartpole", 2, seed=1, backend="auto", max_episode_steps=2)
    first = vec.reset()[0]
    assert not np.array_equal(first[0], first[1])
    np.testing.assert_array_equal(vec.reset(seed=1)[0], first)
    assert not np.array_equal(vec.reset()[0], first)  # next episodes
    vec.reset(seed=1)
    a = np.zeros((2, 1), np.float32)
    vec.step(a)
    _, r, te, tr, info = vec.step(a)
    assert tr.all() and not te.any() and info["_sim_diverged"].all()
    obs, r, te, tr, _ = vec.step(a)  # autoreset step
    assert (r == 0).all() and not tr.any()
    ref = ReferenceEnv("cartpole", seed=1, env_index=1)
    ref.reset()
    np.testing.assert_array_equal(obs[1], ref.reset()[0])  # episode 1 of env 1
    vec.close()
    with pytest.raises(RuntimeError, match="closed"):
        vec.step(a)


@pytest.mark.parametrize("backend", ["python", "auto"])
def test_vec_env_bad_inputs(backend):
    with VecEnv("hopper", 3, backend=backend) as vec:
        vec.reset()
        with pytest.raises(ValueError, match=r"expected actions of shape \(3, 3\), got \(3, 2\)"):
            vec.step(np.zeros((3, 2), np.float32))
        with pytest.raises(ValueError, match=r"non-finite values in rows \[1\]"):
            vec.step(np.array([[0, 0, 0], [0, np.inf, 0], [0, 0, 0]], np.float64))
        with pytest.raises(ValueError, match="floating-point"):
            vec.step(np.zeros((3, 3), np.int64))
        with pytest.raises(ValueError, match="env index"):
            vec.set_state(3, np.zeros(6), np.zeros(6))
    with pytest.raises(ValueError, match="num_envs"):
        VecEnv("hopper", 0)
    with pytest.raises(ValueError, match="expected one of"):
        VecEnv("walker", 2)


@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        ((10**6,), {}, ValueError, "num_envs: expected an integer from 1 to 10000, got 1000000"),
        (("4",), {}, TypeError, "num_envs: expected an int, got str '4'"),
        ((4.0,), {}, TypeError, "num_envs: expected an int, got float 4.0"),
        ((True,), {}, TypeError, "num_envs: expected an int, got bool True"),
        ((2,), {"num_threads": 10**6}, ValueError, "num_threads: expected an integer from 1 to"),
        ((2,), {"num_threads": "2"}, TypeError, "num_threads: expected an int, got str '2'"),
        ((2,), {"seed": -1}, ValueError, "seed: expected an integer from 0 to 1844674407370955"),
        ((2,), {"seed": 1.5}, TypeError, "seed: expected an int, got float 1.5"),
        ((2,), {"max_episode_steps": "9"}, TypeError, "max_episode_steps: expected an int, got"),
    ],
)
def test_vec_env_sizes_and_types_are_checked_before_anything_is_built(args, kwargs, error, message):
    """Issue 24, item 4: a million environments would allocate ~170 GB of MuJoCo states; a
    string count would fail inside pybind11's conversion. Both are one clear line."""
    with pytest.raises(error) as err:
        VecEnv("cartpole", *args, **kwargs)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_vec_env_takes_numpy_integers_as_plain_ints():
    with VecEnv("cartpole", np.int64(2), num_threads=np.int32(1), seed=np.uint64(2**64 - 1)) as v:
        assert type(v.num_envs) is int and v.reset()[0].shape == (2, 4)


@pytest.mark.parametrize("backend", ["python", "auto"])
def test_vec_env_divergence(backend):
    vec = VecEnv("halfcheetah", 3, seed=0, backend=backend)
    vec.reset()
    vec.set_state(1, np.zeros(9), np.full(9, 1e300))
    obs, r, te, tr, info = vec.step(np.zeros((3, 6), np.float32))
    np.testing.assert_array_equal(info["sim_diverged"], [False, True, False])
    np.testing.assert_array_equal(tr, [False, True, False])
    assert np.isfinite(obs).all()
    obs, r, te, tr, info = vec.step(np.zeros((3, 6), np.float32))  # env 1 autoresets
    assert r[1] == 0 and not info["sim_diverged"].any()


@native
def test_native_step_releases_the_gil():
    vec = VecEnv("halfcheetah", 256, num_threads=1, seed=0, backend="native")
    vec.reset()
    acts = np.zeros((256, 6), np.float32)
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    thread = threading.Thread(target=ticker)
    thread.start()
    start = time.perf_counter()
    while time.perf_counter() - start < 0.3:
        vec.step(acts)
    stop.set()
    thread.join()
    # The ticker kept running while the main thread was inside native steps.
    assert len(ticks) > 50


def test_make_env_default_backend_is_native_when_built():
    env = make_env("cartpole", seed=0)
    name = type(env).__name__
    assert name == ("NativeEnv" if native_backend.available() else "ReferenceEnv")
