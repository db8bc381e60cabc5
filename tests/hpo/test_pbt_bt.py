import math

import numpy as np

from mbrlhpo.hpo.decisions import Backtrack, Exploit
from mbrlhpo.hpo.pbt_bt import (
    PBTBT,
    EliteArchive,
    PBTBTSettings,
    backtrack,
    backtrack_threshold,
    elite_size,
)
from mbrlhpo.hpo.space import param_table, sample_config

SPECS = param_table("hopper", "planning")


def configs(n, seed=0):
    rng = np.random.default_rng(seed)
    return {m: sample_config(SPECS, rng) for m in range(n)}


def test_archive_sorted_and_bounded():
    a = EliteArchive(4)
    rng = np.random.default_rng(0)
    cfg = configs(6)
    for r in range(1, 6):
        a.add_round(r, {m: float(rng.normal()) for m in range(6)}, cfg)
    a.add_round(6, {0: math.nan, 1: -math.inf, 2: 100.0}, cfg)
    scores = [e.score for e in a.entries]
    assert len(scores) == 4 and scores == sorted(scores, reverse=True)
    assert a.entries[0].score == 100.0 and a.entries[0].round == 6
    assert all(math.isfinite(s) for s in scores)
    assert a.retained() == {(e.member, e.round) for e in a.entries}


def test_archive_is_one_elite_per_member_as_the_papers_code():
    """The paper's code: each member contributes its best state so far; round(0.125 x 40) = 5
    elites; the threshold comes from the worst of them."""
    assert [elite_size(n) for n in (40, 80, 8, 4, 1)] == [5, 10, 1, 1, 1]
    n = 40
    bt = PBTBT(PBTBTSettings(interval=5), n)
    assert bt.archive.capacity == 5
    cfg = configs(n)
    # Member 0 scores best at every round: today's archive of (member, round) states would
    # fill up with member 0's states; the paper's keeps one per member.
    for r in (5, 10, 15):
        bt.archive.add_round(
            r, {m: (1000.0 + r if m == 0 else float(m + r)) for m in range(n)}, cfg
        )
    entries = bt.archive.entries
    assert [e.member for e in entries] == [0, 39, 38, 37, 36]
    assert [e.round for e in entries] == [15] * 5
    assert bt.archive.worst().score == 36.0 + 15
    # A member's elite is its best state, not its latest.
    bt.archive.add_round(20, {m: 0.0 for m in range(n)}, cfg)
    assert [e.round for e in bt.archive.entries] == [15] * 5
    assert bt.archive.retained() == {(m, 15) for m in (0, 39, 38, 37, 36)}


def test_threshold():
    assert backtrack_threshold(100.0, 0.2) == 80.0
    assert backtrack_threshold(-100.0, 0.2) == -120.0


def test_backtrack_poor_members_with_unique_configs():
    n = 8
    cfg = configs(n)
    a = EliteArchive(n)
    a.add_round(5, {m: 10.0 + m for m in range(n)}, cfg)
    worst = a.worst().score  # 10.0 -> threshold 8.0
    scores = {m: (0.0 if m < 3 else 20.0) for m in range(n)}
    st = PBTBTSettings(interval=5)
    d = backtrack(a, scores, cfg, SPECS, np.random.default_rng(0), st, failed=[7])
    assert [b.dst for b in d] == [0, 1, 2, 7]
    assert worst == 10.0
    entries = {(e.member, e.round): e for e in a.entries}
    seen = {tuple(cfg[m][k] for k in SPECS) for m in range(3, 7)}
    for b in d:
        assert isinstance(b, Backtrack)
        e = entries[(b.src, b.src_round)]
        assert b.old == e.config and b.score == e.score
        key = tuple(b.new[k] for k in SPECS)
        assert key not in seen
        seen.add(key)


def test_uniqueness_with_tiny_integer_space():
    specs = {"iterations": SPECS["iterations"]}  # 6 values only
    cfg = {m: {"iterations": 3 + m} for m in range(5)}
    a = EliteArchive(5)
    a.add_round(1, {m: float(m) for m in range(5)}, cfg)
    scores = {0: -10.0, 1: -10.0, 2: 5.0, 3: 5.0, 4: 5.0}
    d = backtrack(a, scores, cfg, specs, np.random.default_rng(0), PBTBTSettings(), max_tries=3)
    news = [b.new["iterations"] for b in d] + [cfg[m]["iterations"] for m in (2, 3, 4)]
    assert len(set(news)) == len(news)


def test_step_schedule():
    n = 10
    cfg = configs(n)
    bt = PBTBT(PBTBTSettings(interval=5, backtrack_every=3), n)
    rng = np.random.default_rng(0)
    for ts in (1, 2):
        d = bt.step(ts, ts * 5, {m: float(m + ts) for m in range(n)}, cfg, SPECS, rng)
        assert all(not isinstance(x, Backtrack) for x in d)
        assert any(isinstance(x, Exploit) for x in d)
    d = bt.step(3, 15, {m: (-50.0 if m < 2 else 50.0) for m in range(n)}, cfg, SPECS, rng)
    assert d and all(isinstance(x, Backtrack) for x in d)
    assert sorted(x.dst for x in d) == [0, 1]
    assert len(bt.archive) == elite_size(n) == 1
