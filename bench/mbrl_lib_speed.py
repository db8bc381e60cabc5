#!/usr/bin/env python3
"""Speed anchor: planning latency of the reference PETS planner (mbrl-lib, package `mbrl` 0.2.0).

Run in the venv that bench/setup_anchors.sh builds (bench/.anchors/mbrl); bench_planner.py does.

Times one `agent.act(obs)` of mbrl-lib's TrajectoryOptimizerAgent + CEMOptimizer on a freshly
initialised GaussianMLP ensemble (normalizer fitted on random data), built the same way as
mbrl/algorithms/pets.py does it (create_one_dim_tr_model -> ModelEnv ->
create_trajectory_optim_agent_for_model), plus hardware ceilings (matmul rates, copy bandwidth).

Usage:
    python mbrl_lib_speed.py --device cpu  --json out_cpu.json
    python mbrl_lib_speed.py --device cuda --json out_gpu.json [--tf32-variant]

Only planning is timed (env.step is outside the timed region). Nothing is trained.
"""

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time

import numpy as np
import torch

# ----------------------------------------------------------------------------------------------
# Configurations. "paper" = PETS paper HalfCheetah (Chua et al. 2018): 5-member ensemble of
# 4x200 swish MLPs, TS-inf ("fixed_model"), 20 particles, CEM pop 500 / 5 iters / 10% elites /
# alpha 0.1, horizon 30, replan every step.
# ----------------------------------------------------------------------------------------------
CONFIGS = {
    "paper": dict(pop=500, horizon=30, particles=20, iters=5, elite_ratio=0.1, alpha=0.1),
    "small": dict(pop=100, horizon=15, particles=10, iters=3, elite_ratio=0.1, alpha=0.1),
}
ENSEMBLE = 5
HID = 200
NUM_LAYERS = 4  # mbrl GaussianMLP num_layers = number of hidden layers (in->h, then 3x h->h)
OBS_DIM, ACT_DIM = 18, 6


def make_env():
    """Real mbrl pets_halfcheetah env if mujoco + asset are present, else a shape-only stub."""
    try:
        import mbrl.env.pets_halfcheetah as hc

        env = hc.HalfCheetahEnv()
        env.reset(seed=0)
        return env, "mbrl.env.pets_halfcheetah.HalfCheetahEnv (mujoco)"
    except Exception as e:  # noqa: BLE001
        import gymnasium as gym

        class StubEnv(gym.Env):
            observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(OBS_DIM,), dtype=np.float64)
            action_space = gym.spaces.Box(-1.0, 1.0, shape=(ACT_DIM,), dtype=np.float32)

            def reset(self, seed=None, options=None):
                self._rng = np.random.default_rng(seed)
                return self._rng.normal(0, 0.1, OBS_DIM), {}

            def step(self, action):
                return self._rng.normal(0, 0.1, OBS_DIM), 0.0, False, False, {}

        env = StubEnv()
        env.reset(seed=0)
        # the error names the anchor venv's files: kept as a path inside the package, not this
        # machine's (the results are committed)
        why = re.sub(r"\S*/site-packages/", "<site-packages>/", str(e))
        return env, f"stub Box(18)/Box(6) env (real env unavailable: {type(e).__name__}: {why})"


def build_agent(device, c, env, seed=0):
    import mbrl.env.reward_fns as reward_fns
    import mbrl.env.termination_fns as termination_fns
    import mbrl.models
    import mbrl.planning
    import mbrl.util.common
    import omegaconf

    cfg = omegaconf.OmegaConf.create(
        {
            "seed": seed,
            "device": str(device),
            "algorithm": {
                "name": "pets",
                "agent": {
                    "_target_": "mbrl.planning.TrajectoryOptimizerAgent",
                    # hydra>=1.1 instantiates nested _target_ configs by default; hydra 1.0.3
                    # (what mbrl 0.2.0 pins) did not. Keep the 1.0.3 semantics.
                    "_recursive_": False,
                    "action_lb": "???",
                    "action_ub": "???",
                    "planning_horizon": "${overrides.planning_horizon}",
                    "optimizer_cfg": "${action_optimizer}",
                    "replan_freq": 1,
                    "verbose": False,
                },
                "normalize": True,
                "normalize_double_precision": True,
                "target_is_delta": True,
                "learned_rewards": False,
                "num_particles": c["particles"],
            },
            "dynamics_model": {
                "_target_": "mbrl.models.GaussianMLP",
                "_recursive_": False,  # see agent: GaussianMLP instantiates activation_fn_cfg
                "device": "${device}",
                "num_layers": NUM_LAYERS,
                "ensemble_size": ENSEMBLE,
                "hid_size": HID,
                "deterministic": False,
                "propagation_method": "fixed_model",
                "learn_logvar_bounds": False,
                "activation_fn_cfg": {"_target_": "torch.nn.SiLU"},
            },
            "overrides": {
                "env": "pets_halfcheetah",
                "term_fn": "no_termination",
                "obs_process_fn": "mbrl.env.pets_halfcheetah.HalfCheetahEnv.preprocess_fn",
                "learned_rewards": False,
                "num_elites": ENSEMBLE,
                "no_delta_list": [0],
                "planning_horizon": c["horizon"],
                "cem_num_iters": c["iters"],
                "cem_elite_ratio": c["elite_ratio"],
                "cem_population_size": c["pop"],
                "cem_alpha": c["alpha"],
                "cem_clipped_normal": False,
            },
            "action_optimizer": {
                "_target_": "mbrl.planning.CEMOptimizer",
                "num_iterations": "${overrides.cem_num_iters}",
                "elite_ratio": "${overrides.cem_elite_ratio}",
                "population_size": "${overrides.cem_population_size}",
                "alpha": "${overrides.cem_alpha}",
                "lower_bound": "???",
                "upper_bound": "???",
                "return_mean_elites": True,
                "device": "${device}",
                "clipped_normal": "${overrides.cem_clipped_normal}",
            },
        }
    )
    torch.manual_seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - mbrl-lib draws from NumPy's global generator
    gen = torch.Generator(device=cfg.device)
    gen.manual_seed(seed)
    obs_shape, act_shape = env.observation_space.shape, env.action_space.shape
    dyn = mbrl.util.common.create_one_dim_tr_model(cfg, obs_shape, act_shape)
    # Fit the normalizer on random data (model stays untrained).
    rng = np.random.default_rng(seed)
    n = 1000
    obs = rng.normal(0, 1, (n, OBS_DIM)).astype(np.float32)
    act = rng.uniform(-1, 1, (n, ACT_DIM)).astype(np.float32)
    nobs = obs + 0.1 * rng.normal(0, 1, (n, OBS_DIM)).astype(np.float32)
    dyn.update_normalizer(
        mbrl.types.TransitionBatch(
            obs, act, nobs, np.zeros(n, np.float32), np.zeros(n, bool), np.zeros(n, bool)
        )
    )
    model_env = mbrl.models.ModelEnv(
        env, dyn, termination_fns.no_termination, reward_fns.halfcheetah, generator=gen
    )
    agent = mbrl.planning.create_trajectory_optim_agent_for_model(
        model_env, cfg.algorithm.agent, num_particles=cfg.algorithm.num_particles
    )
    agent._anchor_model_env = model_env  # for profile_act.py
    return agent, dyn


def per_row_flops(in_size=OBS_DIM + ACT_DIM, out=OBS_DIM):
    layers = [(in_size, HID)] + [(HID, HID)] * (NUM_LAYERS - 1) + [(HID, 2 * out)]
    return 2 * sum(i * o for i, o in layers)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def stats(ts):
    ts = sorted(ts)
    q = lambda p: ts[min(len(ts) - 1, int(round(p * (len(ts) - 1))))]  # noqa: E731
    return dict(
        n=len(ts),
        median_s=statistics.median(ts),
        min_s=ts[0],
        max_s=ts[-1],
        p10_s=q(0.1),
        p90_s=q(0.9),
        mean_s=statistics.fmean(ts),
        stdev_s=statistics.stdev(ts) if len(ts) > 1 else 0.0,
    )


def bench_act(device, name, c, env, warmup, calls, label=""):
    agent, dyn = build_agent(device, c, env)
    # count rows actually pushed through the ensemble during one act() (checks the formula)
    gmlp = dyn.model
    counter = {"rows": 0, "calls": 0}
    orig_forward = gmlp.forward

    def counting_forward(x, *a, **k):
        counter["rows"] += x.shape[0] * (x.shape[1] if x.ndim == 3 else 1)
        counter["calls"] += 1
        return orig_forward(x, *a, **k)

    obs, _ = env.reset(seed=1)
    agent.reset()
    gmlp.forward = counting_forward
    agent.act(obs)
    gmlp.forward = orig_forward
    rows_measured, fwd_calls = counter["rows"], counter["calls"]
    for _ in range(warmup - 1):
        a = agent.act(obs)
        obs = env.step(a)[0]
    ts = []
    load0, cpu0, wall0 = loadavg(), time.process_time(), time.perf_counter()
    cpus = []
    for _ in range(calls):
        sync(device)
        c0 = time.process_time()
        t0 = time.perf_counter()
        a = agent.act(obs)
        sync(device)
        ts.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        obs = env.step(a)[0]  # not timed
    # contention check: our own CPU-seconds per wall-second over the timed loop (with T threads
    # on an idle CPU device run this is ~T; lower means other processes took cores) + load avg
    own_cpu_per_wall = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    load1 = loadavg()
    rows = c["pop"] * c["particles"] * c["horizon"] * c["iters"]
    flops = rows * per_row_flops()
    s = stats(ts)
    # CPU runs on a shared box: a call during which our threads did not get their cores shows
    # cpu-seconds/wall-second < threads. "clean" = calls with ratio >= 0.85 * threads.
    ratios = [c_ / t_ for c_, t_ in zip(cpus, ts, strict=True)]
    clean = [t_ for t_, r_ in zip(ts, ratios, strict=True) if r_ >= 0.85 * torch.get_num_threads()]
    s_clean = stats(clean) if (device.type == "cpu" and len(clean) >= 3) else None
    # pure ensemble-forward time for the same work (same batch shape, same number of calls)
    x = torch.randn(c["pop"] * c["particles"], OBS_DIM + ACT_DIM, device=device)
    idx = torch.randint(ENSEMBLE, (c["pop"] * c["particles"],), device=device)
    with torch.no_grad():
        for _ in range(3):
            gmlp.forward(x, propagation_indices=idx)
        sync(device)
        t0 = time.perf_counter()
        for _ in range(c["horizon"] * c["iters"]):
            gmlp.forward(x, propagation_indices=idx)
        sync(device)
        fwd_only = time.perf_counter() - t0
    r = dict(
        config=name,
        variant=label,
        device=str(device),
        **c,
        ensemble=ENSEMBLE,
        rows_formula=rows,
        rows_measured=rows_measured,
        model_forward_calls=fwd_calls,
        per_row_flops=per_row_flops(),
        flops_per_act=flops,
        gflops_achieved=flops / s["median_s"] / 1e9,
        ensemble_forward_only_s=fwd_only,
        forward_only_gflops=flops / fwd_only / 1e9,
        trial_1000_steps_s=1000 * s["median_s"],
        own_cpu_per_wall=own_cpu_per_wall,
        loadavg_before=load0,
        loadavg_after=load1,
        torch_threads=torch.get_num_threads(),
        per_call_s=ts,
        per_call_cpu_per_wall=ratios,
        clean=s_clean,
        **s,
    )
    print(
        f"[act] {name:5s} {label:8s} {str(device):5s} median {s['median_s'] * 1e3:9.2f} ms "
        f"(min {s['min_s'] * 1e3:.2f} p10 {s['p10_s'] * 1e3:.2f} p90 {s['p90_s'] * 1e3:.2f} "
        f"max {s['max_s'] * 1e3:.2f}, n={s['n']})  {flops / 1e9:.2f} GFLOP/act -> "
        f"{r['gflops_achieved']:.1f} GFLOP/s; fwd-only {fwd_only * 1e3:.2f} ms "
        f"({r['forward_only_gflops']:.1f} GFLOP/s); rows meas/formula {rows_measured}/{rows}; "
        f"own cpu/wall {own_cpu_per_wall:.2f} threads {torch.get_num_threads()} "
        f"load {load0}->{load1}",
        flush=True,
    )
    if s_clean:
        print(
            f"      clean calls (cpu/wall >= {0.85 * torch.get_num_threads():.1f}): "
            f"n={s_clean['n']} "
            f"median {s_clean['median_s'] * 1e3:.2f} ms min {s_clean['min_s'] * 1e3:.2f} "
            f"max {s_clean['max_s'] * 1e3:.2f} -> {flops / s_clean['median_s'] / 1e9:.1f} GFLOP/s",
            flush=True,
        )
    return r


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def time_fn(fn, device, reps, warm=3):
    for _ in range(warm):
        fn()
    sync(device)
    ts, good = [], []
    for _ in range(reps):
        sync(device)
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        sync(device)
        dt = time.perf_counter() - t0
        ts.append(dt)
        if (
            device.type == "cpu"
            and (time.process_time() - c0) / dt >= 0.85 * torch.get_num_threads()
        ):
            good.append(dt)
    # on cpu prefer reps during which we had all our cores (shared box); else all reps
    return statistics.median(good if len(good) >= max(1, reps // 3) else ts)


def ceilings(device, quick=False):
    out = []
    dev = device.type

    def mm_case(tag, shape_a, shape_b, dtype, reps, tf32=None):
        if tf32 is not None:
            torch.backends.cuda.matmul.allow_tf32 = tf32
        a = torch.randn(*shape_a, device=device, dtype=dtype)
        b = torch.randn(*shape_b, device=device, dtype=dtype)
        batch = shape_a[0] if len(shape_a) == 3 else 1
        m, k = shape_a[-2], shape_a[-1]
        n = shape_b[-1]
        fl = 2 * batch * m * k * n
        f = (lambda: torch.bmm(a, b)) if len(shape_a) == 3 else (lambda: a @ b)
        t = time_fn(f, device, reps)
        r = dict(
            kind="matmul",
            tag=tag,
            a=list(shape_a),
            b=list(shape_b),
            dtype=str(dtype),
            tf32=torch.backends.cuda.matmul.allow_tf32 if dev == "cuda" else None,
            median_s=t,
            tflops=fl / t / 1e12,
        )
        print(
            f"[mm] {dev} {tag:28s} {str(dtype):14s} tf32={r['tf32']} {t * 1e6:10.1f} us "
            f"{r['tflops']:8.2f} TFLOP/s",
            flush=True,
        )
        out.append(r)
        if tf32 is not None:
            torch.backends.cuda.matmul.allow_tf32 = False

    if dev == "cpu":
        mm_case("bmm 5x2000x200@5x200x200", (5, 2000, 200), (5, 200, 200), torch.float32, 30)
        mm_case("bmm 5x2000x24@5x24x200", (5, 2000, 24), (5, 24, 200), torch.float32, 30)
        mm_case("square 2048", (2048, 2048), (2048, 2048), torch.float32, 5)
        if not quick:
            mm_case("square 4096", (4096, 4096), (4096, 4096), torch.float32, 3)
        x = torch.empty(2**28 // 4, dtype=torch.float32)  # 256 MiB
        y = torch.empty_like(x)
        x.fill_(1.0)
        y.fill_(0.0)
        t = time_fn(lambda: y.copy_(x), device, 10)
        out.append(
            dict(
                kind="copy",
                tag="host memcpy 256MiB",
                bytes_moved=2 * x.numel() * 4,
                median_s=t,
                GBps=2 * x.numel() * 4 / t / 1e9,
            )
        )
        print(
            f"[copy] cpu 256MiB copy_ {2 * x.numel() * 4 / t / 1e9:.1f} GB/s (read+write)",
            flush=True,
        )
    else:
        for dt, tf in ((torch.float32, False), (torch.float32, True), (torch.bfloat16, None)):
            mm_case("bmm 5x2000x200@5x200x200", (5, 2000, 200), (5, 200, 200), dt, 200, tf)
        for dt, tf in ((torch.float32, False), (torch.float32, True), (torch.bfloat16, None)):
            mm_case("bmm 5x20000x200@5x200x200", (5, 20000, 200), (5, 200, 200), dt, 100, tf)
        for dt, tf in ((torch.float32, False), (torch.float32, True), (torch.bfloat16, None)):
            mm_case("square 8192", (8192, 8192), (8192, 8192), dt, 10, tf)
        n = 2**30 // 4  # 1 GiB fp32
        x = torch.empty(n, device=device)
        y = torch.empty_like(x)
        x.fill_(1.0)
        t = time_fn(lambda: y.copy_(x), device, 20)
        out.append(
            dict(
                kind="copy",
                tag="d2d copy_ 1GiB",
                bytes_moved=2 * n * 4,
                median_s=t,
                GBps=2 * n * 4 / t / 1e9,
            )
        )
        print(f"[copy] cuda d2d 1GiB copy_ {2 * n * 4 / t / 1e9:.1f} GB/s (read+write)", flush=True)
        # launch-overhead floor: tiny kernel round trip
        z = torch.zeros(1, device=device)
        t = time_fn(lambda: z.add_(1), device, 200)
        out.append(dict(kind="launch", tag="z.add_(1)+sync", median_s=t))
        print(f"[launch] tiny op + sync {t * 1e6:.1f} us", flush=True)
    return out


def env_info(device):
    import mbrl

    info = dict(
        python=sys.version.split()[0],
        platform=platform.platform(),
        machine=platform.machine(),
        torch=torch.__version__,
        mbrl=getattr(mbrl, "__version__", "?"),
        numpy=np.__version__,
        threads=torch.get_num_threads(),
        cpu_count=os.cpu_count(),
    )
    for mod in ("hydra", "omegaconf", "gymnasium", "mujoco"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception as e:  # noqa: BLE001
            info[mod] = f"n/a ({type(e).__name__})"
    try:
        info["cpu_model"] = next(
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo")
            if line.startswith("model name")
        )
    except Exception:  # noqa: BLE001
        pass
    if device.type == "cuda":
        p = torch.cuda.get_device_properties(device)
        info.update(
            gpu=p.name,
            sm_count=p.multi_processor_count,
            gpu_mem_gib=round(p.total_memory / 2**30, 1),
            cuda=torch.version.cuda,
        )
    return info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--configs", default="small,paper")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--calls", type=int, default=12)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0 = default)")
    ap.add_argument(
        "--tf32-variant",
        action="store_true",
        help="cuda: also time act() with allow_tf32=True (default is off)",
    )
    ap.add_argument("--no-ceilings", action="store_true")
    ap.add_argument("--quick-ceilings", action="store_true")
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    env, env_desc = make_env()
    info = env_info(device)
    info["env"] = env_desc
    print(json.dumps(info), flush=True)
    res = dict(info=info, act=[], ceilings=[])
    for name in args.configs.split(","):
        res["act"].append(
            bench_act(device, name, CONFIGS[name], env, args.warmup, args.calls, "default")
        )
        if device.type == "cuda" and args.tf32_variant:
            torch.backends.cuda.matmul.allow_tf32 = True
            res["act"].append(
                bench_act(device, name, CONFIGS[name], env, args.warmup, args.calls, "tf32")
            )
            torch.backends.cuda.matmul.allow_tf32 = False
    if not args.no_ceilings:
        res["ceilings"] = ceilings(device, args.quick_ceilings)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
