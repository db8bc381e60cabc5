"""Issue 24, item 4: the sizes of a study that every trial would fail on (out of memory) or
never finish (a billion epochs) are refused before anything is built, in one line."""

from __future__ import annotations

import pytest

from mbrlhpo.agent import default_hparams
from mbrlhpo.hpo.hyperband import HyperbandSettings
from mbrlhpo.limits import (
    MAX_SETTINGS,
    MAX_TRIALS,
    check_int,
    check_planner_memory,
    check_settings,
    model_bytes,
    planner_bytes,
)

CARTPOLE = default_hparams("cartpole", "quick").to_dict()  # obs 4, act 1
GIB = 2**30


def test_the_model_estimate_grows_with_depth_width_and_ensemble():
    base = model_bytes(CARTPOLE, 4, 1)
    # input 9 -> 64 x 3 -> 8: (9*64 + 64) + 2 * (64*64 + 64) + (64*8 + 8) floats per member
    assert base == 4 * 5 * 5 * (9 * 64 + 64 + 2 * (64 * 64 + 64) + 64 * 8 + 8)
    deeper = model_bytes({**CARTPOLE, "depth": 4}, 4, 1)
    assert deeper - base == 4 * 5 * 5 * (64 * 64 + 64)  # one more hidden layer per member
    assert model_bytes({**CARTPOLE, "ensemble_size": 10}, 4, 1) == 2 * base
    assert planner_bytes({**CARTPOLE, "depth": 10**6}, 4, 1) == planner_bytes(CARTPOLE, 4, 1)
    assert model_bytes({**CARTPOLE, "depth": 10**15}, 4, 1) > 10**20  # computed, not listed


def test_a_deep_model_is_refused_by_the_memory_estimate_naming_depth():
    deep = {**CARTPOLE, "depth": 1_000_000}  # ~388 GiB of weights and optimiser state a model
    with pytest.raises(ValueError) as err:
        check_planner_memory(deep, 4, 1, 2, {"depth": 1_000_000}, memory=64 * GIB)
    assert str(err.value).startswith(
        "depth=1000000: the planners and models would need about 775 GiB (2 agent(s) x 387 GiB: "
        "the planner 165 KiB for CEM population 60 x particles 5, the model 387 GiB for 5 x "
        "depth 1000000 x hidden 64), more than 50% of this machine's 64 GiB"
    ), str(err.value)
    check_planner_memory(CARTPOLE, 4, 1, 40, {}, memory=64 * GIB)  # the defaults fit


@pytest.mark.parametrize("name", sorted(MAX_SETTINGS))
def test_settings_that_cost_time_have_a_ceiling(name):
    high = MAX_SETTINGS[name]
    check_settings({**CARTPOLE, name: high})
    with pytest.raises(ValueError, match=rf"^{name}={high + 1}: expected at most {high}$"):
        check_settings({**CARTPOLE, name: high + 1})
    with pytest.raises(
        ValueError, match=rf"^{name}: expected a search range with a top of at most {high}, got"
    ):
        check_settings({**CARTPOLE, name: 10**9}, searched={name})


def test_hyperband_budgets_above_the_trial_limit_are_refused():
    HyperbandSettings(1, MAX_TRIALS)
    limit = r"^max_budget: expected at most 100000 trials \(the trial limit\), got 1e\+09$"
    with pytest.raises(ValueError, match=limit):
        HyperbandSettings(1, 1_000_000_000)


@pytest.mark.parametrize(
    "value, error, message",
    [
        ("4", TypeError, "n: expected an int, got str '4'"),
        (2.0, TypeError, "n: expected an int, got float 2.0"),
        (False, TypeError, "n: expected an int, got bool False"),
        (None, TypeError, "n: expected an int, got NoneType None"),
        (0, ValueError, "n: expected an integer from 1 to 10, got 0"),
        (11, ValueError, "n: expected an integer from 1 to 10, got 11"),
    ],
)
def test_check_int_names_what_was_expected(value, error, message):
    with pytest.raises(error) as err:
        check_int("n", value, 1, 10)
    assert str(err.value) == message


def test_check_int_returns_plain_ints():
    import numpy as np

    got = check_int("n", np.int64(3), 1, 10)
    assert got == 3 and type(got) is int
