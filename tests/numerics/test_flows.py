"""attnflow.numerics.flows: perceptron pieces, the exact piecewise-linear factors and the KR construction
(arXiv 2602.08606), against np.interp, an ODE solver, the closed-form KR map and POT."""

import math

import numpy as np
import pytest

from attnflow.numerics import flows as F

E1, E2 = (1.0, 0.0), (0.0, 1.0)


def test_closed_form_matches_ode_for_shear_and_aligned_pieces():
    rng = np.random.default_rng(0)
    pieces = [F.Piece(w=0.7, a=(0.0, 2.0), c=0.3, e=E1, tau=0.5),   # shear
              F.Piece(w=-0.4, a=(1.5, 0.0), c=0.2, e=E1, tau=1.3),  # aligned, alpha = 1.5
              F.Piece(w=1.1, a=(-1.0, 0.0), c=0.1, e=E1)]           # aligned, alpha = -1
    x = rng.normal(size=(50, 2))
    assert np.abs(F.flow_map(pieces, x) - F.integrate_flow(pieces, x)).max() < 1e-10


def test_general_piece_has_no_closed_form_but_integrates():
    p = F.Piece(w=1.0, a=(1.0, 1.0), c=0.0, e=E1)
    assert F.piece_kind(p) == "general"
    with pytest.raises(ValueError, match="pieces"):
        F.flow_map([p], np.zeros((1, 2)))
    # x' = relu(x1 + x2) e1 from (1, 0): x1(t) = e^t - 0 ... with x2 = 0: x1' = x1, x1(1) = e
    assert abs(F.integrate_flow([p], [[1.0, 0.0]])[0, 0] - math.e) < 1e-10


def test_monotone_and_shear_pieces_reproduce_np_interp():
    rng = np.random.default_rng(1)
    nodes = np.array([-1.0, -0.4, 0.1, 0.5, 1.0])
    vals = np.cumsum(rng.uniform(0.1, 1.0, 5)) - 1.0
    g = rng.normal(size=5)
    x = rng.uniform(-1.0, 1.0, size=(200, 2))
    mono = F.flow_map(F.monotone_pieces(nodes, vals, E1), x)
    assert np.abs(mono[:, 0] - np.interp(x[:, 0], nodes, vals)).max() < 1e-13
    assert np.array_equal(mono[:, 1], x[:, 1])
    sh = F.flow_map(F.shear_pieces(nodes, g, E1, E2), x)
    assert np.abs(sh[:, 1] - x[:, 1] - np.interp(x[:, 0], nodes, g)).max() < 1e-13
    assert np.array_equal(sh[:, 0], x[:, 0])
    assert len(F.monotone_pieces(nodes, vals, E1)) == len(F.shear_pieces(nodes, g, E1, E2)) == len(nodes)


def test_two_sided_factors_are_exact_on_the_whole_line():
    nodes, v = np.array([-1.0, 0.0, 0.5, 1.0]), np.array([0.0, 1.0, 1.2, 3.0])
    s = np.linspace(-5.0, 5.0, 101)
    lo, hi = (v[1] - v[0]) / (nodes[1] - nodes[0]), (v[3] - v[2]) / (nodes[3] - nodes[2])
    ref = np.where(s < -1, v[0] + lo * (s + 1), np.where(s > 1, v[3] + hi * (s - 1), np.interp(s, nodes, v)))
    x = np.column_stack([s, np.zeros_like(s)])
    assert np.abs(F.flow_map(F.monotone_pieces(nodes, v, E1, two_sided=True), x)[:, 0] - ref).max() < 1e-13
    assert np.abs(F.flow_map(F.shear_pieces(nodes, v, E1, E2, two_sided=True), x)[:, 1] - ref).max() < 1e-13


def test_kr_map_is_the_closed_form_and_the_construction_converges():
    x = np.array([[0.3, -0.2], [-1.0, 1.0]])
    assert np.allclose(F.kr_map(x, 1.5), np.column_stack([np.sinh(x[:, 0]), x[:, 1] + 1.5 * np.sinh(x[:, 0]) ** 2]),
                       rtol=0, atol=1e-15)
    e8, e16 = F.kr_errors(8), F.kr_errors(16)
    assert e8["pieces"] == 18 and e8["switches"] == 17
    assert e16["linf"] <= e16["bound"] and 3.5 < e8["linf"] / e16["linf"] < 4.5  # O(K^-2)
    assert e16["l1"] <= e16["l2"] <= e16["linf"]


def test_gaussian_banana_map_and_errors():
    x = np.array([[0.5, 0.1], [-2.0, 0.0]])
    assert np.allclose(F.banana_map(x, 0.7), np.column_stack([x[:, 0], x[:, 1] + 0.7 * (x[:, 0] ** 2 - 1)]),
                       rtol=0, atol=1e-15)
    e8, e32 = F.banana_errors(8), F.banana_errors(32)
    assert e8["pieces"] == 10 and e32["l2"] < e8["l2"] / 6 and e32["w2"] <= e32["l2_samples"] * (1 + 1e-12)


def test_w2_of_the_pushforward_matches_pot():
    ot = pytest.importorskip("ot")
    pieces = F.kr_flow_pieces(4)
    xs = np.random.default_rng(0).uniform(-1.0, 1.0, size=(120, 2))
    a, t = F.flow_map(pieces, xs), F.kr_map(xs)
    w = np.full(120, 1 / 120)
    ref = math.sqrt(ot.emd2(w, w, ot.dist(a, t)))  # ot.dist: squared Euclidean
    assert abs(F.kr_errors(4, n=120, seed=0)["w2"] - ref) < 1e-12


@pytest.mark.parametrize("call, name", [
    (lambda: F.Piece(w=1.0, a=(1.0, 0.0), c=0.0, e=(2.0, 0.0)), "e"),
    (lambda: F.Piece(w=1.0, a=(1.0, 0.0), c=0.0, e=E1, tau=0.0), "tau"),
    (lambda: F.monotone_pieces([-1, 0, 1], [0, 1, 0.5], E1), "values"),
    (lambda: F.monotone_pieces([-1, 1, 0], [0, 1, 2], E1), "nodes"),
    (lambda: F.shear_pieces([-1, 1], [0, 1], E1, E1), "a, e"),
    (lambda: F.kr_errors(0), "K"),
    (lambda: F.kr_map(np.zeros((3, 3))), "x"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
