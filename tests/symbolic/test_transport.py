"""attnflow.symbolic.transport: the KR map of the explicit pair and the perceptron pieces (arXiv 2602.08606)."""

import numpy as np
import sympy as sp

from attnflow.symbolic import documents
from attnflow.symbolic import transport as T
from attnflow.symbolic.proof import prove_zero


def test_results_are_proved_and_listed():
    assert ("transport", "Transport: normalizing flows and transport representations",
            "attnflow.symbolic.transport") in documents.TOPICS
    assert {r.id: r.status for r in T.results()} == {
        "flows.kr.triangular": "proved", "flows.kr.pushforward": "proved", "flows.kr.gaussian_banana": "proved",
        "flows.perceptron.exact": "proved", "transport.field_sensitivity": "proved-for-sizes",
        "flows.interpolation.sharp": "proved"}


def test_a_wrong_target_density_is_refuted():
    T1, _ = T.kr_map()
    J = sp.Matrix([[sp.diff(c, v) for v in (T.x1, T.x2)] for c in T.kr_map()]).det()
    wrong = 1 / (4 * (1 + T.y1**2))  # missing square root
    p = prove_zero(wrong.subs(T.y1, T1) * J - sp.Rational(1, 4), domains={T.x1: (-1, 1), T.b: (0.1, 3)})
    assert p.status == "refuted"


def test_pushforward_by_monte_carlo_histogram():
    """Independent of SymPy's proof: the empirical mass of T#mu in a box matches the integral of nu."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(400_000, 2))
    y = np.column_stack([np.sinh(x[:, 0]), x[:, 1] + np.sinh(x[:, 0]) ** 2])  # b = 1
    box = (y[:, 0] > 0.2) & (y[:, 0] < 0.8)
    # nu's y2-section has length 2, so nu(0.2 < y1 < 0.8) = 2 * int 1 / (4 sqrt(1 + y^2)) = (asinh .8 - asinh .2) / 2
    exact = (np.arcsinh(0.8) - np.arcsinh(0.2)) / 2
    assert abs(box.mean() - exact) < 4 * np.sqrt(exact / 400_000)
