"""The order in which a sweep submits its chunks: longest first (``_longest_first``), so that two
workers do not wait on one long chunk at the end. The order never changes a result (each chunk is
written to its own place; the bit-identity tests in ``test_sweep.py`` run with it)."""

import math

from attnflow.numerics import fields
from attnflow.numerics.simulate import authors_step_scale
from attnflow.sweeps import load_spec
from attnflow.sweeps._run import _longest_first, _task


def _todo(raw):
    spec = load_spec(raw)
    return [(ci, bi, _task(spec, cell, block)) for ci, cell in spec.cells()
            for bi, block in enumerate(spec.seed_blocks)]


def test_the_largest_dimension_and_the_longest_horizon_come_first():
    todo = _todo({"model": "sa", "n": 8, "d": [3, 1024, 128], "beta": [1.0, 2.0], "seeds": 4, "seed_block": 2,
                  "t": {"stop": 1.0, "num": 3}, "dt": 0.1, "observables": ["pair_fraction"]})
    order = _longest_first(todo)
    assert sorted(map(id, order)) == sorted(map(id, todo))  # a permutation: every chunk, once
    ds = [task["d"] for _, _, task in order]
    assert ds == [1024] * 4 + [128] * 4 + [3] * 4
    # equal costs: the first seed block of every cell (in the spec's order), then the second
    assert [(task["beta"], task["seeds"][0]) for _, _, task in order[:4]] == [(1.0, 0), (2.0, 0), (1.0, 2), (2.0, 2)]


def test_the_authors_usa_step_counts_its_smaller_step():
    todo = _todo({"model": ["sa", "usa"], "n": 8, "d": 3, "beta": [0.5, 4.0], "method": ["authors", "rk4"],
                  "seeds": 2, "t": {"stop": 1.0, "num": 3}, "dt": 0.1, "observables": ["pair_fraction"]})
    order = [(t["model"], t["beta"], t["method"]) for _, _, t in _longest_first(todo)]
    # the authors' USA step at beta = 4 is dt / (2 e^3.5) (66x the steps of one evaluation each) > RK4's
    # four evaluations per step; at beta = 0.5 the factor is 1, below RK4's 4
    scale = authors_step_scale(fields.model_spec("usa"), 4.0)
    assert math.isclose(scale, 2.0 * math.exp(3.5))
    assert order[0] == ("usa", 4.0, "authors")
    assert order.index(("usa", 0.5, "authors")) > order.index(("usa", 0.5, "rk4"))
    assert order.index(("sa", 4.0, "authors")) > order.index(("sa", 4.0, "rk4"))  # SA: no rescaled step
