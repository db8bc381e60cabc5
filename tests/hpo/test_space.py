import math

import numpy as np
import pytest

from mbrlhpo.hpo.objective import objective
from mbrlhpo.hpo.space import (
    ENV_NAMES,
    defaults,
    param_table,
    sample_config,
    to_plain,
    validate_config,
)


def test_paper_defaults_and_ranges():
    assert defaults("pusher") == {
        "lr": 1e-3,
        "weight_decay": 4e-4,
        "epochs": 5,
        "iterations": 5,
        "population": 500,
        "alpha": 0.1,
        "elite_ratio": 0.1,
        "horizon": 30,
    }
    assert defaults("reacher", "planning") == {
        "iterations": 5,
        "population": 400,
        "alpha": 0.1,
        "elite_ratio": 0.1,
        "horizon": 25,
    }
    for env in ("hopper", "halfcheetah", "hexapod"):
        assert defaults(env, "model") == {"lr": 1e-3, "weight_decay": 7.5e-5, "epochs": 5}
    c = defaults("cartpole")
    assert (c["lr"], c["horizon"], c["population"]) == (1e-3, 25, 400)
    s = param_table("pusher", "joint")
    assert (s["lr"].low, s["lr"].high, s["lr"].log) == (3e-5, 3e-3, True)
    assert (s["population"].low, s["population"].high, s["population"].log) == (100, 700, True)
    assert s["alpha"].log is False and s["elite_ratio"].log is True
    assert s["epochs"].integer and not s["alpha"].integer
    s = param_table("halfcheetah", "planning")
    assert (s["horizon"].low, s["horizon"].high) == (5, 60)
    assert (s["alpha"].low, s["alpha"].high) == (0.05, 0.2)
    assert set(param_table("reacher", "model")) == {"lr", "weight_decay", "epochs"}


@pytest.mark.parametrize("env", ENV_NAMES)
def test_samples_are_plain_and_in_range(env):
    rng = np.random.default_rng(0)
    specs = param_table(env, "joint")
    for _ in range(200):
        d = sample_config(specs, rng)
        assert validate_config(specs, d) == d
        assert all(type(v) is (int if specs[k].integer else float) for k, v in d.items())
    assert to_plain({"a": np.int64(3), "b": np.float32(0.5)}) == {"a": 3, "b": 0.5}
    assert type(to_plain({"a": np.int64(3)})["a"]) is int


def test_integer_sampling_reaches_bounds():
    specs = param_table("reacher", "planning")
    rng = np.random.default_rng(1)
    its = {sample_config(specs, rng)["iterations"] for _ in range(300)}
    assert its == {4, 5, 6}


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"foo": (1, 2)}, "unknown hyperparameter 'foo'"),
        ({"horizon": (1, 2)}, "not in group 'model'"),
        ({"lr": (1e-2, 1e-3)}, "expected low < high"),
        ({"lr": {"low": 0.0, "high": 1e-3}}, "log-scale range needs low > 0"),
        ({"lr": {"default": 1.0}}, "expected default inside"),
        ({"epochs": (2.5, 10)}, "integer"),
        ({"lr": {"lo": 1}}, "unknown keys"),
        ({"lr": (1, 2, 3)}, r"expected \(low, high\)"),
        ({"lr": {"log": "yes"}}, "'log' must be a bool"),
    ],
)
def test_bad_overrides(overrides, match):
    with pytest.raises(ValueError, match=match):
        param_table("hopper", "model", overrides)


def test_good_override_narrows_and_keeps_default():
    s = param_table("hopper", "model", {"lr": (1e-4, 1e-2), "epochs": {"low": 6, "high": 9}})
    assert (s["lr"].low, s["lr"].high, s["lr"].default) == (1e-4, 1e-2, 1e-3)
    assert (s["epochs"].low, s["epochs"].default) == (6, 6)


def test_unknown_env_and_group():
    with pytest.raises(ValueError, match="unknown env 'walker'.*cartpole"):
        param_table("walker")
    with pytest.raises(ValueError, match="unknown group 'cem'"):
        param_table("hopper", "cem")


def test_validate_config_errors():
    cs = param_table("hopper", "model")
    with pytest.raises(ValueError, match="lr: expected a value in"):
        validate_config(cs, {"lr": 1.0, "weight_decay": 1e-4, "epochs": 5})
    with pytest.raises(ValueError, match="missing"):
        validate_config(cs, {"lr": 1e-3})
    with pytest.raises(ValueError, match="epochs is an integer"):
        validate_config(cs, {"lr": 1e-3, "weight_decay": 1e-4, "epochs": 5.5})
    with pytest.raises(ValueError, match="unknown"):
        to_plain({"lr": 1e-3, "weight_decay": 1e-4, "epochs": 5, "depth": 3}, cs)


def test_objective():
    assert objective([1.0, 2.0, 3.0, 4.0]) == 3.0
    assert objective([1.0, 2.0, 3.0, 4.0], k=2) == 3.5
    assert objective([5.0]) == 5.0
    assert objective([1.0, math.nan, 2.0]) == -math.inf
    assert objective([]) == -math.inf
    with pytest.raises(ValueError, match="k: expected an int >= 1"):
        objective([1.0], k=0)
