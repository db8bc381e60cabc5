"""Each task's tuning protocol (defaults per profile and variant, search ranges, Hyperband
budgets, PBT interval) read through the three modules that use it.

The literals below were printed from main at 5b97f46, before the protocol moved into one row
per task (``mbrlhpo.protocol_rows``): the refactor must change none of them.
"""

import dataclasses

import pytest

from mbrlhpo import catalog, protocol_rows, tuning
from mbrlhpo.agent.hparams import PETSHparams, default_hparams
from mbrlhpo.hpo import space

FIELDS = tuple(f.name for f in dataclasses.fields(PETSHparams))
# (task, profile, defaults) -> PETSHparams values in the order of FIELDS:
# lr, weight_decay, epochs, iterations, population, alpha, elite_ratio, horizon,
# ensemble_size, hidden, depth, particles, batch_size.
HPARAMS = {
    ("cartpole", "paper", "table"): (0.001, 0.00025, 5, 5, 400, 0.1, 0.1, 25, 5, 500, 3, 20, 32),
    ("cartpole", "paper", "code"): (0.001, 0.00025, 5, 5, 400, 0.1, 0.1, 25, 5, 500, 3, 20, 32),
    ("cartpole", "quick", "table"): (0.001, 0.00025, 5, 3, 60, 0.1, 0.1, 20, 5, 64, 3, 5, 32),
    ("cartpole", "quick", "code"): (0.001, 0.00025, 5, 3, 60, 0.1, 0.1, 20, 5, 64, 3, 5, 32),
    ("halfcheetah", "paper", "table"): (0.001, 7.5e-05, 5, 5, 500, 0.1, 0.1, 30, 5, 200, 4, 20, 32),
    ("halfcheetah", "paper", "code"): (0.001, 0.00075, 5, 5, 500, 0.1, 0.1, 30, 5, 200, 4, 20, 32),
    ("halfcheetah", "quick", "table"): (0.001, 7.5e-05, 5, 3, 60, 0.1, 0.1, 20, 5, 64, 3, 5, 32),
    ("halfcheetah", "quick", "code"): (0.001, 0.00075, 5, 3, 60, 0.1, 0.1, 20, 5, 64, 3, 5, 32),
    ("hexapod", "paper", "table"): (0.001, 7.5e-05, 5, 5, 500, 0.1, 0.1, 30, 5, 200, 4, 20, 32),
    ("hexapod", "paper", "code"): (0.001, 7.5e-05, 5, 5, 500, 0.1, 0.1, 30, 5, 200, 4, 20, 32),
    ("hexapod", "quick", "table"): (0.001, 7.5e-05, 5, 3, 60, 0.1, 0.1, 20, 5, 64, 3, 5, 32),
    ("hexapod", "quick", "code"): (0.001, 7.5e-05, 5, 3, 60, 0.1, 0.1, 20, 5, 64, 3, 5, 32),
    ("hopper", "paper", "table"): (0.001, 7.5e-05, 5, 5, 500, 0.1, 0.1, 30, 5, 200, 4, 20, 32),
    ("hopper", "paper", "code"): (0.001, 7.5e-05, 5, 5, 500, 0.1, 0.1, 30, 5, 200, 4, 20, 32),
    ("hopper", "quick", "table"): (0.001, 7.5e-05, 5, 3, 60, 0.1, 0.1, 20, 5, 64, 3, 5, 32),
    ("hopper", "quick", "code"): (0.001, 7.5e-05, 5, 3, 60, 0.1, 0.1, 20, 5, 64, 3, 5, 32),
    ("pusher", "paper", "table"): (0.001, 0.0004, 5, 5, 500, 0.1, 0.1, 30, 5, 200, 3, 20, 32),
    ("pusher", "paper", "code"): (0.001, 0.0005, 5, 5, 500, 0.1, 0.1, 25, 5, 200, 3, 20, 32),
    ("pusher", "quick", "table"): (0.001, 0.0004, 5, 3, 60, 0.1, 0.1, 20, 5, 64, 3, 5, 32),
    ("pusher", "quick", "code"): (0.001, 0.0005, 5, 3, 60, 0.1, 0.1, 20, 5, 64, 3, 5, 32),
    ("reacher", "paper", "table"): (0.00075, 0.0005, 5, 5, 400, 0.1, 0.1, 25, 5, 200, 4, 20, 32),
    ("reacher", "paper", "code"): (0.00075, 0.0005, 5, 5, 400, 0.1, 0.1, 25, 5, 200, 4, 20, 32),
    ("reacher", "quick", "table"): (0.00075, 0.0005, 5, 3, 60, 0.1, 0.1, 20, 5, 64, 3, 5, 32),
    ("reacher", "quick", "code"): (0.00075, 0.0005, 5, 3, 60, 0.1, 0.1, 20, 5, 64, 3, 5, 32),
}
SPACES = {
    "cartpole": {
        "lr": (1e-05, 0.04, 0.001, True, False),
        "weight_decay": (1e-07, 0.1, 0.00025, True, False),
        "epochs": (3.0, 20.0, 5.0, False, True),
        "iterations": (3.0, 8.0, 5.0, False, True),
        "population": (200.0, 700.0, 400.0, True, True),
        "alpha": (0.05, 0.2, 0.1, False, False),
        "elite_ratio": (0.04, 0.5, 0.1, True, False),
        "horizon": (5.0, 60.0, 25.0, False, True),
    },
    "halfcheetah": {
        "lr": (1e-05, 0.04, 0.001, True, False),
        "weight_decay": (1e-07, 0.1, 7.5e-05, True, False),
        "epochs": (3.0, 20.0, 5.0, False, True),
        "iterations": (3.0, 8.0, 5.0, False, True),
        "population": (200.0, 700.0, 500.0, True, True),
        "alpha": (0.05, 0.2, 0.1, False, False),
        "elite_ratio": (0.04, 0.5, 0.1, True, False),
        "horizon": (5.0, 60.0, 30.0, False, True),
    },
    "hexapod": {
        "lr": (1e-05, 0.04, 0.001, True, False),
        "weight_decay": (1e-07, 0.1, 7.5e-05, True, False),
        "epochs": (3.0, 20.0, 5.0, False, True),
        "iterations": (3.0, 8.0, 5.0, False, True),
        "population": (200.0, 700.0, 500.0, True, True),
        "alpha": (0.05, 0.2, 0.1, False, False),
        "elite_ratio": (0.04, 0.5, 0.1, True, False),
        "horizon": (5.0, 60.0, 30.0, False, True),
    },
    "hopper": {
        "lr": (1e-05, 0.04, 0.001, True, False),
        "weight_decay": (1e-07, 0.1, 7.5e-05, True, False),
        "epochs": (3.0, 20.0, 5.0, False, True),
        "iterations": (3.0, 8.0, 5.0, False, True),
        "population": (200.0, 700.0, 500.0, True, True),
        "alpha": (0.05, 0.2, 0.1, False, False),
        "elite_ratio": (0.04, 0.5, 0.1, True, False),
        "horizon": (5.0, 60.0, 30.0, False, True),
    },
    "pusher": {
        "lr": (3e-05, 0.003, 0.001, True, False),
        "weight_decay": (1e-07, 0.1, 0.0004, True, False),
        "epochs": (3.0, 20.0, 5.0, False, True),
        "iterations": (3.0, 8.0, 5.0, False, True),
        "population": (100.0, 700.0, 500.0, True, True),
        "alpha": (0.01, 0.5, 0.1, False, False),
        "elite_ratio": (0.04, 0.5, 0.1, True, False),
        "horizon": (5.0, 40.0, 30.0, False, True),
    },
    "reacher": {
        "lr": (1e-05, 0.04, 0.00075, True, False),
        "weight_decay": (1e-07, 0.1, 0.0005, True, False),
        "epochs": (3.0, 20.0, 5.0, False, True),
        "iterations": (4.0, 6.0, 5.0, False, True),
        "population": (200.0, 700.0, 400.0, True, True),
        "alpha": (0.05, 0.4, 0.1, False, False),
        "elite_ratio": (0.04, 0.5, 0.1, True, False),
        "horizon": (5.0, 40.0, 25.0, False, True),
    },
}
BUDGETS = {
    "cartpole": (5, 15),
    "halfcheetah": (33, 300),
    "hexapod": (33, 300),
    "hopper": (33, 300),
    "pusher": (8, 80),
    "reacher": (8, 80),
}
INTERVALS = {"cartpole": 5, "halfcheetah": 5, "hexapod": 5, "hopper": 5, "pusher": 4, "reacher": 4}


def test_every_task_is_pinned():
    assert {t for t, _, _ in HPARAMS} == set(SPACES) == set(BUDGETS) == set(catalog.TASK_NAMES)


@pytest.mark.parametrize(("task", "profile", "defaults"), sorted(HPARAMS))
def test_agent_defaults_are_unchanged(task, profile, defaults):
    got = default_hparams(task, profile, defaults).to_dict()
    assert got == dict(zip(FIELDS, HPARAMS[task, profile, defaults], strict=True))
    assert [type(v) for v in got.values()] == [type(v) for v in HPARAMS[task, profile, defaults]]


@pytest.mark.parametrize("task", sorted(SPACES))
def test_search_ranges_are_unchanged(task):
    table = space.param_table(task, "joint")
    assert list(table) == sorted(catalog.TUNABLE)  # by name: the order a study draws in
    got = {n: (s.low, s.high, s.default, s.log, s.integer) for n, s in table.items()}
    assert got == SPACES[task]


@pytest.mark.parametrize("task", sorted(BUDGETS))
def test_budgets_and_interval_are_unchanged(task):
    assert tuning.default_budgets(task) == BUDGETS[task]
    assert tuning.default_interval(task) == INTERVALS[task]


def test_the_three_readers_share_one_row():
    """hparams, space and tuning read the same row: a changed row reaches all three."""
    row = protocol_rows.ROWS["reacher"]
    assert space.defaults("reacher") == dict(row.defaults)
    assert default_hparams("reacher").horizon == row.defaults["horizon"]
    assert (tuning.default_budgets("reacher"), tuning.default_interval("reacher")) == (
        row.budgets,
        row.pbt_interval,
    )
    with pytest.raises(TypeError):
        row.defaults["horizon"] = 5  # read-only: one reader cannot change another's row


def test_a_row_that_misses_a_tunable_or_leaves_its_range_is_refused():
    row = protocol_rows.ROWS["hopper"]
    fields = dict(defaults=row.defaults, ranges=row.ranges, budgets=(1, 3), pbt_interval=2)
    protocol_rows.ProtocolRow(**fields)
    with pytest.raises(ValueError, match="defaults: expected one value for each of"):
        protocol_rows.ProtocolRow(**{**fields, "defaults": {"lr": 1e-3}})
    with pytest.raises(ValueError, match=r"horizon: expected a default in \[5, 60\], got 99"):
        protocol_rows.ProtocolRow(**fields, code_defaults={"horizon": 99})
    with pytest.raises(ValueError, match="model: expected some of"):
        protocol_rows.ProtocolRow(**fields, model={"lr": 1})
    with pytest.raises(ValueError, match="expected budgets 1 <= min <= max"):
        protocol_rows.ProtocolRow(**{**fields, "budgets": (9, 3)})


def test_a_task_without_a_row_is_named(monkeypatch):
    with pytest.raises(ValueError, match="no tuning protocol for task 'walker'"):
        protocol_rows.protocol_row("walker")
    monkeypatch.setitem(catalog.DEFAULTS_LIKE, "walker", "pusher")
    assert protocol_rows.protocol_row("walker") is protocol_rows.ROWS["pusher"]
    assert tuning.default_budgets("walker") == (8, 80)
