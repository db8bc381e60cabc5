import pytest

from mbrlhpo.hpo.hyperband import (
    HyperbandSettings,
    budget_to_trials,
    hyperband_ladder,
    job_trials,
    ladder_trials,
)
from mbrlhpo.hpo.random_search import total_trials
from mbrlhpo.hpo.space import param_table
from mbrlhpo.runner.hpbandster_driver import configuration_space


def hpbandster_ladder(min_budget, max_budget, n_iterations):
    """hpbandster's own HyperBand master, asked for its iterations."""
    pytest.importorskip("hpbandster")  # the reference (in the test extra)
    from hpbandster.core.nameserver import NameServer
    from hpbandster.optimizers import HyperBand

    ns = NameServer(run_id="ladder", host="127.0.0.1", port=0)
    host, port = ns.start()
    hb = HyperBand(
        configspace=configuration_space(param_table("hopper"), seed=0),
        eta=3,
        min_budget=min_budget,
        max_budget=max_budget,
        run_id="ladder",
        nameserver=host,
        nameserver_port=port,
        ping_interval=1,
    )
    try:
        out = []
        for i in range(n_iterations):
            it = hb.get_next_iteration(i)
            out.append(list(zip(it.num_configs, [float(b) for b in it.budgets], strict=True)))
        return out
    finally:
        hb.shutdown()
        ns.shutdown()


@pytest.mark.parametrize("lo, hi, total", [(8, 80, 3140 + 100), (33, 300, 11985 + 100)])
def test_ladder_equals_hpbandster(lo, hi, total):
    """Every job runs the random trial plus int(budget) MPC trials (the paper's code): 3140
    MPC trials at 8/80 and 11985 at 33/300, in 100 jobs each."""
    ours = hyperband_ladder(lo, hi, 3, 15)
    theirs = hpbandster_ladder(lo, hi, 15)
    assert [[(s.n_configs, s.budget) for s in it] for it in ours] == [
        [(n, pytest.approx(b, rel=1e-12)) for n, b in it] for it in theirs
    ]
    assert [s.n_configs for s in ours[0]] == [9, 3, 1]
    assert ladder_trials(ours) == total  # MPC trials: the paper reports 3130 and 11982
    assert [s.trials for s in ours[0]] == [1 + int(hi / 9 + 1e-9), 1 + int(hi / 3 + 1e-9), 1 + hi]


def test_budget_to_trials():
    assert job_trials(8.888) == 9 and job_trials(300) == 301
    assert budget_to_trials(8.888) == 8
    assert budget_to_trials(99.9999999) == 100
    assert budget_to_trials(0.5) == 1
    with pytest.raises(ValueError):
        budget_to_trials(0)


def test_random_search_budget():
    assert total_trials(40, 80) == 3240 and total_trials(40, 300) == 12040


def test_settings_errors():
    with pytest.raises(ValueError, match="min_budget < max_budget"):
        HyperbandSettings(80, 8)
    with pytest.raises(ValueError, match="unknown BOHB settings"):
        HyperbandSettings(8, 80, bohb={"gamma": 1})
