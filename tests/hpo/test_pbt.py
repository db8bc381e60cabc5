import math

import numpy as np
import pytest

from mbrlhpo.hpo.decisions import Exploit, Explore
from mbrlhpo.hpo.pbt import PBTSettings, exploit_explore, perturb, quantile_size, rank_members
from mbrlhpo.hpo.space import sample_config, search_space, specs_of

SPECS = specs_of(search_space("halfcheetah", "joint"))


def population(n, seed=0):
    rng = np.random.default_rng(seed)
    return {m: sample_config(SPECS, rng) for m in range(n)}


@pytest.mark.parametrize("n, k", [(40, 8), (80, 16), (10, 2), (6, 2), (5, 1), (4, 1), (2, 1),
                                  (1, 0), (0, 0)])
def test_quantile_size(n, k):
    assert quantile_size(n, 0.2) == k


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
                        if s.integer:
                            want = {min(max(math.floor(o * f + 0.5), s.low), s.high)
                                    for f in (0.8, 1.2)}
                            assert v in want and type(v) is int
                        else:
                            assert s.low <= v <= s.high
                            if s.low < o * 0.8 and o * 1.2 < s.high:
                                ratios.append(v / o)
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
    assert perturb({"iterations": 4}, {"iterations": SPECS["iterations"]}, rng,
                   factors=(1.2,)) == {"iterations": 5}  # 4.8 -> 5
    assert perturb({"iterations": 4}, {"iterations": SPECS["iterations"]}, rng,
                   factors=(0.8,)) == {"iterations": 3}  # 3.2 -> 3


def test_fixed_keys_untouched():
    cfg = dict(population(1)[0], extra=7)
    x = [d for d in exploit_explore({0: 0.0, 1: 1.0}, {0: cfg, 1: cfg}, SPECS,
                                    np.random.default_rng(0), PBTSettings(), 4)
         if isinstance(d, Explore)]
    assert x[0].new["extra"] == 7


def test_failed_members_replaced_without_selection():
    configs = population(10)
    scores = {m: float(m) for m in range(10)}
    scores[9] = -math.inf
    d = exploit_explore(scores, configs, SPECS, np.random.default_rng(0), PBTSettings(), 3,
                        failed=[9], select=False)
    assert len(d) == 2 and d[0].dst == 9 and d[0].reason == "replace_failed"
    assert d[0].src in (7, 8)
    with pytest.raises(RuntimeError, match="every member has failed"):
        exploit_explore({0: -math.inf}, {0: configs[0]}, SPECS, np.random.default_rng(0),
                        PBTSettings(), 3, failed=[0], select=False)


def test_settings_validation():
    with pytest.raises(ValueError, match="interval"):
        PBTSettings(interval=0)
    with pytest.raises(ValueError, match="quantile"):
        PBTSettings(quantile=0.7)
