"""attnflow.numerics.transport: the flow-map representative of the attention flow (arXiv 2604.16653)
against the particle system and POT."""

import math

import numpy as np
import pytest

from attnflow.numerics import random_sphere, simulate
from attnflow.numerics import transport as TR


def test_probes_are_unit_and_spread():
    p = TR.sphere_probes(100)
    assert p.shape == (100, 3) and np.allclose(np.linalg.norm(p, axis=1), 1.0)
    assert abs(p[:, 2].mean()) < 1e-12


def test_flow_map_at_the_atoms_is_the_particle_system():
    x = random_sphere(5, 3, seed=3)
    phi, xt = TR.flow_map(x, x, beta=2.0, t=1.0, dt=0.05)
    ref = simulate("sa", x, beta=2.0, t_final=1.0, dt=0.05, energy=False).states[-1]
    assert np.abs(phi - ref).max() < 1e-8 and np.abs(xt - ref).max() < 1e-8


def test_representation_gap_distances_match_pot_and_the_coupling_bound():
    ot = pytest.importorskip("ot")
    x = random_sphere(6, 3, seed=0)
    y = x + 0.05 * np.random.default_rng(1).normal(size=x.shape)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    r = TR.representation_gap(x, y, TR.sphere_probes(20), beta=1.0, t=1.0, dt=0.1)
    w = np.full(6, 1 / 6)
    assert abs(r["w2_in"] - math.sqrt(ot.emd2(w, w, ot.dist(x, y)))) < 1e-12
    _, xt = TR.flow_map(x, x, beta=1.0, t=1.0, dt=0.1)
    _, yt = TR.flow_map(y, y, beta=1.0, t=1.0, dt=0.1)
    assert abs(r["w2_out"] - math.sqrt(ot.emd2(w, w, ot.dist(xt, yt)))) < 1e-12
    assert r["w2_out"] <= r["coupling"] * (1 + 1e-12) and r["sup_gap"] > 0
    assert r["ratio_sup"] == pytest.approx(r["sup_gap"] / r["w2_in"])


@pytest.mark.parametrize("kwargs, name", [({"dt": 0.3}, "dt"), ({"t": -1.0}, "t")])
def test_bad_times_name_the_argument(kwargs, name):
    x = random_sphere(3, 3, seed=0)
    args = {"beta": 1.0, "t": 1.0, "dt": 0.1, **kwargs}
    with pytest.raises(ValueError, match=name):
        TR.flow_map(x, x, **args)


def test_mismatched_probes_are_refused():
    with pytest.raises(ValueError, match="probes"):
        TR.flow_map(random_sphere(3, 3, seed=0), np.ones((2, 2)), beta=1.0, t=1.0, dt=0.1)


def test_field_gap_at_beta_zero_is_the_projected_mean_difference():
    x = random_sphere(4, 3, seed=5)
    y = random_sphere(4, 3, seed=6)
    z = TR.sphere_probes(30)
    r = TR.field_gap(x, y, z, beta=0.0)
    d = x.mean(axis=0) - y.mean(axis=0)  # SA at beta = 0: v[mu](z) = P_z(mean of the atoms)
    allz = np.vstack([z, x, y])
    ref = np.linalg.norm(d[None, :] - (allz @ d)[:, None] * allz, axis=1).max()
    assert abs(r["gap"] - ref) < 1e-14
    assert r["bound"] == pytest.approx(np.mean(np.linalg.norm(x - y, axis=1)))  # L(0) = 1
    assert TR.field_lipschitz_bound(1.0) == pytest.approx(3 * np.exp(2))
