"""Suite validation, the refusal of a changed suite, and one real cell with its long table."""

import copy

import pytest

from mbrlhpo.harness.cell import cells_of, run_cell
from mbrlhpo.harness.state import claim
from mbrlhpo.harness.suite import suite_from_dict
from mbrlhpo.harness.table import COLUMNS, TYPES, read_csv, rows_of, write_table

TINY = dict(iterations=1, population=10, horizon=3, particles=5, hidden=16, depth=2)
RAW = {
    "name": "toy",
    "tasks": ["cartpole", "reacher"],
    "budget": {"trials": 2, "population": 2},
    "seeds": {"study": [0, 1], "test": [9000000, 9000001]},
    "agent": TINY,
    "methods": {"random": {"space": {"epochs": [3, 4]}}, "defaults": {}},
}


def test_cells_are_tasks_x_methods_x_seeds():
    cells = cells_of(suite_from_dict(RAW).content())
    assert len(cells) == 2 * (2 + 1)  # random per study seed, defaults once per task


def test_a_method_may_have_its_own_study_seeds():
    raw = copy.deepcopy(RAW)
    raw["methods"]["pbt"] = {"seeds": [100, 101, 102]}  # no member shared with random's studies
    seeds = {c.method: [] for c in cells_of(suite_from_dict(raw).content())}
    for c in cells_of(suite_from_dict(raw).content()):
        seeds[c.method].append(c.study_seed)
    assert seeds == {"random": [0, 1] * 2, "pbt": [100, 101, 102] * 2, "defaults": [None] * 2}


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r["seeds"].update(test=[0]), "held out"),
        (lambda r: r["seeds"].update(test=[5]), "member"),
        (lambda r: r.update(tasks=["nope"]), "unknown task"),
        (lambda r: r["methods"].update(x={"method": "sgd"}), "unknown method"),
        (lambda r: r["methods"]["random"].update(pbt_interval=2), "do not apply"),
        (lambda r: r["methods"]["defaults"].update(seeds=[3]), "do not apply"),
        (lambda r: r["methods"]["random"].update(seeds=[4, 4]), "twice"),
        (lambda r: r["methods"]["random"].update(seeds=[9000000]), "held out"),
        (
            lambda r: (r["methods"]["random"].update(seeds=[5]), r["seeds"].update(test=[5000016])),
            "member",  # 5000016 = member 1 of the study with seed 5
        ),
    ],
)
def test_bad_suites_get_one_clear_line(change, message):
    raw = copy.deepcopy(RAW)
    change(raw)
    with pytest.raises(ValueError, match=message):
        suite_from_dict(raw)


def test_a_changed_suite_is_refused_naming_what_changed(tmp_path):
    assert claim(tmp_path / "out", suite_from_dict(RAW).content()) is False
    assert claim(tmp_path / "out", suite_from_dict(RAW).content()) is True
    raw = copy.deepcopy(RAW)
    raw["budget"]["trials"] = 3
    raw["methods"]["pbt"] = {}
    with pytest.raises(ValueError, match=r"budget.trials: 2 -> 3; methods.pbt: added"):
        claim(tmp_path / "out", suite_from_dict(raw).content())


def test_a_cell_rescored_on_test_seeds_and_its_table(tmp_path):
    content = suite_from_dict(RAW).content()
    cell = cells_of(content)[0]
    result = run_cell(content, cell, tmp_path)
    assert [r["seed"] for r in result["tests"]] == [9000000, 9000001]
    assert all(len(r["returns"]) == 3 for r in result["tests"])
    assert run_cell(content, cell, tmp_path) == result  # read back, not rerun
    rows = rows_of("toy", [result])
    assert len(rows) == 2 * 3 + 2 * 3  # test: 2 seeds x 3 trials; tune: 2 members x 3
    back = read_csv(write_table(rows, tmp_path)["csv"])
    assert back == rows
    for row in rows:
        assert tuple(row) == COLUMNS
        assert all(v is None or isinstance(v, TYPES[k]) for k, v in row.items())
