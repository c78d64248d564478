"""Tests of the general-target construction (arXiv 2411.04551, Theorem 1.2).

Independent routes: POT's exact transport (``ot.emd2``) for every W2, SciPy's adaptive ODE solver for
the peel time closed form, the flow of the returned schedule re-run from the inputs.
"""

from __future__ import annotations

import math

import numpy as np
import ot
import pytest
from scipy.integrate import solve_ivp

from attnflow.numerics.interpolation import (
    ConstructionError,
    construct_general_interpolation,
    draw_general_instance,
    flow,
    measure_w2,
    peel_time,
    same_barycentre_pair,
)
from attnflow.numerics.interpolation import _general


def _w2_pot(cloud, atoms, weights):
    C = ((cloud[:, None, :] - atoms[None, :, :]) ** 2).sum(-1)
    return math.sqrt(ot.emd2(np.full(len(cloud), 1.0 / len(cloud)), np.asarray(weights), C))


@pytest.fixture(scope="module")
def general_run():
    clouds, atoms, weights = draw_general_instance(3, 2, 8, 2, seed=3)
    res = construct_general_interpolation(clouds, atoms, weights, T=5.0, eps=2e-2, seed=3)
    return clouds, atoms, weights, res


def test_targets_reached_with_one_schedule_pot(general_run):
    clouds, atoms, weights, res = general_run
    before = [_w2_pot(clouds[i], atoms[i], weights[i]) for i in range(2)]
    assert min(before) > 0.3  # the inputs start far from their targets
    again = flow(clouds, res.schedule, dt=None, steps=res.steps)
    for i in range(2):
        assert np.array_equal(again[i], res.final[i])  # the returned schedule IS the flow
        w = _w2_pot(res.final[i], atoms[i], weights[i])
        assert abs(w - res.w2[i]) <= 1e-9 and abs(w - measure_w2(res.final[i], atoms[i], weights[i])) <= 1e-9
        assert w <= 2e-2
        # every group sits at its own atom: the realised transport map has the target's weights
        assert np.allclose(np.bincount(res.groups[i], minlength=len(atoms[i])) / len(clouds[i]), weights[i])
    assert res.bystander_displacement <= 1e-12  # gates keep every other atom exactly fixed
    assert res.switches <= 2 * res.switch_scale
    # the RK4 steps resolve the ODE flow of the schedule: 4x finer steps move no atom by more than 1e-3
    fine = flow(clouds, res.schedule, dt=None, steps=[4 * k for k in res.steps])
    assert max(float(np.abs(a - b).max()) for a, b in zip(fine, res.final)) <= 1e-3
    assert max(_w2_pot(fine[i], atoms[i], weights[i]) for i in range(2)) <= 2e-2
    # pieces of one gate share their parameters: the switch count is that of the distinct layers
    distinct = sum(not a.same_parameters(b) for a, b in zip(res.schedule.layers[:-1], res.schedule.layers[1:]))
    assert res.switches == distinct < len(res.schedule) - 1


def test_peel_time_matches_the_ode():
    for a, c0, c1 in [(0.9, 0.905, 0.999), (0.2, 0.25, 0.9), (-0.5, -0.4, 0.3)]:
        sol = solve_ivp(lambda t, c: (c - a) * (1 - c * c), (0, 200), [c0], rtol=1e-11, atol=1e-13,
                        events=lambda t, c: c[0] - c1)
        assert abs(sol.t_events[0][0] - peel_time(c0, c1, a)) <= 1e-7 * max(1.0, sol.t_events[0][0])
    with pytest.raises(ValueError, match="c0, c1"):
        peel_time(0.5, 0.4, 0.1)


def test_same_barycentre_pair_is_the_hard_case():
    clouds = same_barycentre_pair(3, 8, seed=1)
    assert np.allclose(clouds[0].mean(0), clouds[1].mean(0), atol=1e-15)
    assert not np.allclose(np.sort(clouds[0], 0), np.sort(clouds[1], 0))
    _, atoms, weights = draw_general_instance(3, 2, 8, 2, seed=1)
    res = construct_general_interpolation(clouds, atoms, weights, T=5.0, eps=2e-2, seed=1, hole=-np.eye(3)[0])
    assert any("separate" in lay.label for lay in res.schedule)
    assert max(_w2_pot(res.final[i], atoms[i], weights[i]) for i in range(2)) <= 2e-2


def test_printed_gate_sign_in_the_peel_breaks_the_construction(monkeypatch):
    """One-line bug: the peel with the printed gate sign (U = -w, b = +cos R) moves the complement."""
    clouds, atoms, weights = draw_general_instance(3, 2, 8, 2, seed=3)
    real = _general.Layer.perceptron

    def printed(tau, W, U, b, label=""):
        if label.startswith("peel"):
            return real(tau, W, -np.asarray(U), -np.asarray(b), label)
        return real(tau, W, U, b, label)

    monkeypatch.setattr(_general.Layer, "perceptron", staticmethod(printed))
    try:
        res = construct_general_interpolation(clouds, atoms, weights, T=5.0, eps=2e-2, seed=3)
    except ConstructionError:
        return
    assert not res.reached or res.bystander_displacement > 1e-6


def test_bad_input_names_the_hypothesis():
    clouds, atoms, weights = draw_general_instance(3, 2, 8, 2, seed=0)
    with pytest.raises(ValueError, match="transport map"):
        construct_general_interpolation(clouds, atoms, [np.array([0.3, 0.7]), weights[1]])
    with pytest.raises(ValueError, match="weights\\[0\\]"):
        construct_general_interpolation(clouds, atoms, [np.array([0.5, 0.6]), weights[1]])
    with pytest.raises(ValueError, match="merge them"):
        construct_general_interpolation(clouds, [atoms[0][[0, 0]], atoms[1]], weights)
    near = atoms[0] + 1e-8 * np.array([0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="closer than 1e-6"):
        construct_general_interpolation(clouds, [atoms[0], near / np.linalg.norm(near, axis=1, keepdims=True)], weights)
    with pytest.raises(ValueError, match="same measure"):
        construct_general_interpolation([clouds[0], clouds[0]], atoms, weights)
    with pytest.raises(ValueError, match="eps"):
        construct_general_interpolation(clouds, atoms, weights, eps=3.0)
    with pytest.raises(ValueError, match="M"):
        draw_general_instance(3, 2, 4, 5)


def test_shared_target_atoms_and_a_dead_lock_parking():
    """Both targets on the same two atoms (weights 3/4, 1/4 and 1/4, 3/4); this instance dead-locks and is
    resolved by parking one cloud (measured); W2 by POT."""
    clouds, atoms, weights = draw_general_instance(3, 2, 8, 2, seed=2, shared=True)
    assert np.array_equal(atoms[0], atoms[1])
    res = construct_general_interpolation(clouds, atoms, weights, T=5.0, eps=2e-2, seed=2)
    assert any("parked" in note for note in res.notes)
    assert max(_w2_pot(res.final[i], atoms[i], weights[i]) for i in range(2)) <= 2e-2
