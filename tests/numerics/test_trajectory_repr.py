"""Notebook displays of a Trajectory: one line (no arrays), and an escaped HTML table."""

from __future__ import annotations

import numpy as np

from attnflow.numerics.trajectory import Trajectory


def _trajectory(**kw) -> Trajectory:
    base = dict(times=np.linspace(0.0, 20.0, 201), states=np.ones((201, 32, 3)),
                energy=np.linspace(643.0, 1391.76, 201), model="sa", beta=1.0, method="rk45", steps=200, nfev=1200)
    return Trajectory(**{**base, **kw})


def test_repr_summarises_without_arrays():
    text = repr(_trajectory())
    assert text == ("Trajectory(model: 'sa', beta=1, states: 201 x (32, 3), t: 0 .. 20, "
                    "method: 'rk45', 200 steps, 1200 evaluations, energy: 643 -> 1391.76)")
    none = repr(_trajectory(energy=None, energy_note="model 'x' has no energy"))
    assert none.endswith("energy: model 'x' has no energy)") and "array" not in none


def test_html_table_is_escaped():
    page = _trajectory(model="<b>")._repr_html_()
    assert page.startswith("<table><caption>Trajectory</caption>") and "&lt;b&gt;" in page and "<b>" not in page
    assert "201 x (32, 3)" in page
