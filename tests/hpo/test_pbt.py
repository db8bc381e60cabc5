import json
import math
from pathlib import Path

import numpy as np
import pytest

from mbrlhpo.hpo.decisions import Exploit, Explore
from mbrlhpo.hpo.pbt import (
    PBTSettings,
    exploit_explore,
    from_unit,
    inherited_window,
    perturb,
    rank_members,
    to_unit,
    truncation_sizes,
)
from mbrlhpo.hpo.space import ParamSpec, param_table, sample_config

SPECS = param_table("halfcheetah", "joint")


def population(n, seed=0):
    rng = np.random.default_rng(seed)
    return {m: sample_config(SPECS, rng) for m in range(n)}


@pytest.mark.parametrize(
    "n, sources, replaced",
    [
        (40, 8, 8),
        (80, 16, 16),
        (10, 2, 2),
        (5, 1, 1),
        (4, 1, 1),
        (3, 1, 1),
        (2, 1, 1),
        (1, 0, 0),
        (0, 0, 0),
        # 1 mod 5: the code's ceil((n - 1) 0.2) sources, n - ceil((n - 1) 0.8) replaced.
        (6, 1, 2),
        (11, 2, 3),
        (16, 3, 4),
        (21, 4, 5),
        (41, 8, 9),
    ],
)
def test_truncation_sizes_are_the_papers_codes(n, sources, replaced):
    assert truncation_sizes(n, 0.2) == (sources, replaced)


def test_population_of_six_replaces_two_from_the_single_best():
    configs = population(6)
    scores = {m: float(m) for m in range(6)}
    d = exploit_explore(scores, configs, SPECS, np.random.default_rng(0), PBTSettings(), 6)
    exploits = [x for x in d if isinstance(x, Exploit)]
    assert [(e.src, e.dst) for e in exploits] == [(5, 0), (5, 1)]


def test_score_window_continues_the_sources():
    """The code's score after an exploit averages the source's copied return history when the
    interval is below last_k; copy="hparams" keeps the member's own."""
    own, src = [1.0, 2.0, 3.0], [7.0, 8.0, 9.0]
    assert inherited_window(own, src, copies_state=True) == src
    assert inherited_window(own, src, copies_state=False) == own
    got = inherited_window(own, src, True)
    got.append(0.0)
    assert src == [7.0, 8.0, 9.0]  # a copy, never the source's list


def test_rank_members_nan_last_and_ties():
    assert rank_members({0: 1.0, 1: math.nan, 2: 1.0, 3: 5.0}) == [3, 0, 2, 1]


def test_bottom_copies_top():
    n = 40
    configs = population(n)
    scores = {m: float(m) for m in range(n)}
    d = exploit_explore(scores, configs, SPECS, np.random.default_rng(1), PBTSettings(), 10)
    exploits = [x for x in d if isinstance(x, Exploit)]
    explores = [x for x in d if isinstance(x, Explore)]
    assert [e.dst for e in exploits] == list(range(8))
    assert all(32 <= e.src < 40 and e.src_round == 10 for e in exploits)
    assert [e.member for e in explores] == list(range(8))
    for e, x in zip(exploits, explores, strict=True):
        assert x.old == configs[e.src]  # explore starts from the source's hyperparameters
    again = exploit_explore(scores, configs, SPECS, np.random.default_rng(1), PBTSettings(), 10)
    assert again == d
    other = exploit_explore(scores, configs, SPECS, np.random.default_rng(2), PBTSettings(), 10)
    assert other != d


def test_explore_statistics():
    n = 40
    configs = population(n)
    scores = {m: float(m) for m in range(n)}
    rng = np.random.default_rng(123)
    kinds, srcs, ratios = [], [], []
    for _ in range(300):
        for x in exploit_explore(scores, configs, SPECS, rng, PBTSettings(), 5):
            if isinstance(x, Exploit):
                srcs.append(x.src)
            else:
                kinds.append(x.kind)
                if x.kind == "perturb":
                    for name, s in SPECS.items():
                        v, o = x.new[name], x.old[name]
                        u = to_unit(s, o)
                        if s.integer:
                            want = {from_unit(s, u * f) for f in (0.8, 1.2)}
                            assert v in want and type(v) is int
                        else:
                            assert s.low <= v <= s.high
                            if u * 1.2 < 1.0:
                                ratios.append(to_unit(s, v) / u)
    nk = len(kinds)
    p = kinds.count("resample") / nk
    assert abs(p - 0.25) < 4 * math.sqrt(0.25 * 0.75 / nk)
    r = np.array(ratios)
    assert np.all(np.isclose(r, 0.8) | np.isclose(r, 1.2))
    frac = np.mean(np.isclose(r, 0.8))
    assert abs(frac - 0.5) < 4 * math.sqrt(0.25 / r.size)
    counts = np.bincount(np.array(srcs) - 32, minlength=8)
    expected = len(srcs) / 8
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    assert chi2 < 30  # 7 dof: p < 1e-4
    assert counts.min() > 0


def test_perturb_clips_and_rounds():
    cfg = {n: s.high for n, s in SPECS.items()}
    rng = np.random.default_rng(0)
    for _ in range(50):
        new = perturb(cfg, SPECS, rng)
        for n, s in SPECS.items():
            assert s.low <= new[n] <= s.high
    # iterations [3, 8]: unit cube over [2.50001, 8.49999]; 7 -> 8.099998 (x1.2) / 6.100002.
    it = {"iterations": SPECS["iterations"]}
    assert perturb({"iterations": 7}, it, rng, factors=(1.2,)) == {"iterations": 8}
    assert perturb({"iterations": 7}, it, rng, factors=(0.8,)) == {"iterations": 6}
    assert perturb({"iterations": 8}, it, rng, factors=(1.2,)) == {"iterations": 8}  # clipped
    assert perturb({"iterations": 3}, it, rng, factors=(0.8,)) == {"iterations": 3}


@pytest.mark.parametrize(
    "env, name",
    [("halfcheetah", "epochs"), ("halfcheetah", "iterations"), ("reacher", "iterations")],
)
def test_five_never_moves_under_perturbation(env, name):
    """ConfigSpace 0.4.10's margin: with low 3, 5 x1.2 lands on 5.499998 and x0.8 on
    4.500002, both 5 (a +-0.5 cube would give 5.5 -> 6); Reacher's [4, 6] on 5.3 / 4.7."""
    s = param_table(env, "joint")[name]
    for f in (0.8, 1.2):
        assert perturb({name: 5}, {name: s}, np.random.default_rng(0), factors=(f,)) == {name: 5}


def test_perturb_in_unit_cube_at_the_defaults():
    """The paper's code multiplies the unit-cube position, not the value (PAPER.md): at Table
    4's defaults lr moves by x0.40 / x2.51 and weight decay by x0.27 / x3.76."""
    rng = np.random.default_rng(0)
    d = {"lr": 1e-3, "weight_decay": 7.5e-5}
    specs = {n: SPECS[n] for n in d}
    down = perturb(d, specs, rng, factors=(0.8,))
    up = perturb(d, specs, rng, factors=(1.2,))
    assert down["lr"] / 1e-3 == pytest.approx(0.398, abs=2e-3)
    assert up["lr"] / 1e-3 == pytest.approx(2.51, abs=1e-2)
    assert down["weight_decay"] / 7.5e-5 == pytest.approx(0.266, abs=2e-3)
    assert up["weight_decay"] / 7.5e-5 == pytest.approx(3.76, abs=1e-2)
    # Linear floats: alpha in [0.05, 0.2] at 0.1 -> u = 1/3 -> 0.09 / 0.11.
    a = perturb({"alpha": 0.1}, {"alpha": SPECS["alpha"]}, rng, factors=(0.8,))["alpha"]
    assert a == pytest.approx(0.09)
    for s in SPECS.values():  # to_unit / from_unit are inverse on the range's ends
        assert from_unit(s, to_unit(s, s.low)) == pytest.approx(s.low)
        assert from_unit(s, to_unit(s, s.high)) == pytest.approx(s.high)


DATA = Path(__file__).parent / "data"
PAPER_NAMES = {
    "model_learning_rate": "lr",
    "model_weight_decay": "weight_decay",
    "cem_alpha": "alpha",
    "cem_elites_ratio": "elite_ratio",
    "cem_popsize": "population",
}


def _fits(s, old, new, rule):
    for f in (0.8, 1.2):
        got = rule(s, old, f)
        if (got == new) if s.integer else math.isclose(got, new, rel_tol=1e-6):
            return True
    return False


def _raw(s, old, f):
    v = min(max(old * f, s.low), s.high)
    return int(math.floor(v + 0.5)) if s.integer else v


def _ours(s, old, f):
    return perturb({s.name: old}, {s.name: s}, np.random.default_rng(0), factors=(f,))[s.name]


@pytest.mark.parametrize(
    "file, names, min_fit",
    [
        ("hopper_pbt_model_train_incumbent.json", ("lr", "weight_decay"), 0.9),
        ("halfcheetah_pbt_planning_incumbent.json", ("alpha", "elite_ratio", "population"), 0.85),
    ],
)
def test_perturb_fits_the_papers_learned_schedules(file, names, min_fit):
    """Consecutive changes of the paper's incumbent schedules are perturbations of the previous
    value (or an exploit of another member): nearly all fit our rule, few fit raw x0.8/x1.2."""
    sched = json.loads((DATA / file).read_text())
    specs = param_table(file.split("_")[0], "joint")
    for name in names:
        changes = [
            (a[k], b[k])
            for a, b in zip(sched, sched[1:], strict=False)
            for k in a
            if PAPER_NAMES.get(k) == name and a[k] != b[k]
        ]
        assert len(changes) >= 10
        ours = sum(_fits(specs[name], a, b, _ours) for a, b in changes)
        raw = sum(_fits(specs[name], a, b, _raw) for a, b in changes)
        assert ours >= min_fit * len(changes), (name, ours, len(changes))
        assert raw <= 0.2 * len(changes), (name, raw, len(changes))


@pytest.mark.parametrize(
    "file, env, paper_name, old, new, factor, plus_minus_half",
    [
        ("hopper_pbt_model_train_incumbent.json", "hopper", "model_train_epoch", 10, 11, 1.2, 12),
        ("halfcheetah_pbtbt_model_train.json", "halfcheetah", "model_train_epoch", 15, 17, 1.2, 18),
        ("halfcheetah_pbt_planning_incumbent.json", "halfcheetah", "plan_hor", 27, 31, 1.2, 32),
    ],
)
def test_integer_moves_of_the_papers_schedules(
    file, env, paper_name, old, new, factor, plus_minus_half
):
    """Moves in the paper's learned schedules that only ConfigSpace 0.4.10's integer cube
    (low - 0.49999, high + 0.49999, round half to even) makes: 15 x1.2 -> 17.499998 -> 17."""
    sched = json.loads((DATA / file).read_text())
    moves = {(a[paper_name], b[paper_name]) for a, b in zip(sched, sched[1:], strict=False)}
    assert (old, new) in moves
    name = {"model_train_epoch": "epochs", "plan_hor": "horizon"}[paper_name]
    s = param_table(env, "joint")[name]
    rng = np.random.default_rng(0)
    assert perturb({name: old}, {name: s}, rng, factors=(factor,))[name] == new
    # The +-0.5 cube with rounding half up makes another move.
    lo, hi = s.low - 0.5, s.high + 0.5
    v = lo + (old - lo) / (hi - lo) * factor * (hi - lo)
    assert math.floor(v + 0.5) == plus_minus_half != new


def test_every_integer_move_of_the_incumbents_is_a_perturbation_or_a_jump():
    """Each integer change of the paper's PBT incumbents is the code's perturbation of the
    previous value or an exploit/resample: never a move the code cannot make from 5."""
    incumbents = (
        "hopper_pbt_model_train_incumbent.json",
        "halfcheetah_pbt_planning_incumbent.json",
    )
    for file in incumbents:
        env = file.split("_")[0]
        specs = param_table(env, "joint")
        sched = json.loads((DATA / file).read_text())
        for key, name in (
            ("model_train_epoch", "epochs"),
            ("num_cem_iters", "iterations"),
            ("plan_hor", "horizon"),
        ):
            if key not in sched[0]:
                continue
            changes = [(a[key], b[key]) for a, b in zip(sched, sched[1:], strict=False)]
            changes = [(a, b) for a, b in changes if a != b]
            fits = [_fits(specs[name], a, b, _ours) for a, b in changes]
            assert sum(fits) >= 0.84 * len(changes), (file, name, changes)
            assert not any(a == 5 and abs(b - 5) == 1 for a, b in changes)


def test_integers_round_half_to_even():
    """numpy.round (ConfigSpace's) rounds 2.5 to 2: the middle of [2, 3]'s cube."""
    s = ParamSpec("x", 2.0, 3.0, 2.0, log=False, integer=True)
    assert from_unit(s, 0.5) == 2
    assert from_unit(s, 0.0) == 2 and from_unit(s, 1.0) == 3
    assert to_unit(s, 1.0) == 0.0 and to_unit(s, 4.0) == 1.0  # clipped as ConfigSpace does


def test_fixed_keys_untouched():
    cfg = dict(population(1)[0], extra=7)
    x = [
        d
        for d in exploit_explore(
            {0: 0.0, 1: 1.0}, {0: cfg, 1: cfg}, SPECS, np.random.default_rng(0), PBTSettings(), 4
        )
        if isinstance(d, Explore)
    ]
    assert x[0].new["extra"] == 7


def test_failed_members_replaced_without_selection():
    configs = population(10)
    scores = {m: float(m) for m in range(10)}
    scores[9] = -math.inf
    d = exploit_explore(
        scores, configs, SPECS, np.random.default_rng(0), PBTSettings(), 3, failed=[9], select=False
    )
    assert len(d) == 2 and d[0].dst == 9 and d[0].reason == "replace_failed"
    assert d[0].src in (7, 8)
    with pytest.raises(RuntimeError, match="every member has failed"):
        exploit_explore(
            {0: -math.inf},
            {0: configs[0]},
            SPECS,
            np.random.default_rng(0),
            PBTSettings(),
            3,
            failed=[0],
            select=False,
        )


def test_settings_validation():
    with pytest.raises(ValueError, match="interval"):
        PBTSettings(interval=0)
    with pytest.raises(ValueError, match="quantile"):
        PBTSettings(quantile=0.7)
