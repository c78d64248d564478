"""Tests of attnflow.numerics.interpolation (arXiv 2411.04551).

Expected values come from independent routes: explicit softmax loops / mpmath for the field,
closed forms (tanh push, Dirac W2) against the RK4 flow, POT's exact transport for W2.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import ot
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attnflow.numerics.interpolation import (
    ConstructionError,
    Layer,
    Schedule,
    cluster_time,
    construct_dirac_interpolation,
    draw_instance,
    flow,
    gate_mass_moved,
    interp_velocity,
    mass_concentration_family,
)


def _sphere(rng, n, d):
    x = rng.standard_normal((n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _random_layer(rng, d, m, scale=1.0, duration=1.0):
    return Layer(duration, scale * rng.standard_normal((d, d)), scale * rng.standard_normal((d, d)),
                 rng.standard_normal((d, m)), rng.standard_normal((m, d)), rng.standard_normal(m))


# ------------------------------------------------------------------ schedule bookkeeping
def test_switches_count_parameter_jumps_only():
    rng = np.random.default_rng(1)
    a, b = _random_layer(rng, 3, 2), _random_layer(rng, 3, 2)
    a2 = Layer(0.5, a.V, a.B, a.W, a.U, a.b, label="same parameters, other duration")
    c = Layer.attention(1.0, np.eye(3), np.eye(3))  # different hidden width m = 0
    assert Schedule(()).switches == 0
    assert Schedule((a,)).switches == 0
    assert Schedule((a, a2)).switches == 0
    assert Schedule((a, b)).switches == 1
    assert Schedule((a, a2, b, b, a, c)).switches == 3
    s = Schedule((a, a2, b, c))
    assert s.total_time == pytest.approx(3.5)
    np.testing.assert_allclose(s.switch_times, [1.5, 2.5])
    assert "switches" in repr(s) and "label" in s.summary()


def test_norm_inf_is_max_abs_entry():
    rng = np.random.default_rng(2)
    layers = tuple(_random_layer(rng, 4, 3, scale=k + 1) for k in range(3))
    expected = max(np.abs(np.concatenate([getattr(l, n).ravel() for n in "VBWUb"])).max() for l in layers)
    assert Schedule(layers).norm_inf == expected
    bad = Layer(1.0, np.eye(3), np.eye(3), np.zeros((3, 1)), np.zeros((1, 3)), [-7.5])
    assert Schedule(layers[:0] + (bad,)).norm_inf == 7.5


def test_layer_rejects_bad_shapes():
    with pytest.raises(ValueError, match="W"):
        Layer(1.0, np.eye(3), np.eye(3), np.zeros((2, 1)), np.zeros((1, 3)), [0.0])
    with pytest.raises(ValueError, match="duration"):
        Layer.attention(0.0, np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match="dimension"):
        Schedule((Layer.attention(1.0, np.eye(3), np.eye(3)), Layer.attention(1.0, np.eye(4), np.eye(4))))


def test_time_changes_keep_the_flow_map():
    """rescaled/fitted run each piece faster with a stronger field: same end state, same steps."""
    rng = np.random.default_rng(3)
    d = 3
    x = [_sphere(rng, 12, d), _sphere(rng, 7, d)]
    z = np.array([0.0, 0.0, 1.0])
    sch = Schedule((
        Layer.attention(0.7, np.eye(d), 2 * np.eye(d)),
        Layer.perceptron(1.3, np.array([[1.0], [0.0], [0.0]]), z[None], [-0.2]),
        Layer(0.4, 0.5 * np.eye(d), np.zeros((d, d)), np.ones((d, 1)), z[None], [0.1]),
    ))
    steps = [60, 80, 40]
    ref = flow(x, sch, steps=steps)
    for other in (sch.rescaled(0.25), sch.fitted(0.25), sch.fitted(40.0)):
        out = flow(x, other, steps=steps)
        for a, b in zip(ref, out):
            np.testing.assert_allclose(a, b, atol=1e-12)
    assert sch.fitted(0.25).total_time == pytest.approx(0.25, rel=1e-12)
    # fitting never does worse than the uniform time change
    assert sch.fitted(0.25).norm_inf <= sch.rescaled(0.25).norm_inf + 1e-12


# ------------------------------------------------------------------ the field
def _reference_velocity(x, layer):
    """Straightforward, loop-based implementation (softmax via scipy, no online max)."""
    from scipy.special import softmax

    out = np.empty_like(x)
    for i, xi in enumerate(x):
        logits = np.array([(layer.B @ xi) @ xj for xj in x])
        w = softmax(logits)
        a = sum(wj * xj for wj, xj in zip(w, x))
        y = layer.V @ a + layer.W @ np.maximum(layer.U @ xi + layer.b, 0.0)
        out[i] = y - (xi @ y) * xi
    return out


@settings(deadline=None)
@given(n=st.integers(1, 9), d=st.integers(2, 5), m=st.integers(0, 3), seed=st.integers(0, 10**6),
       scale=st.sampled_from([0.1, 1.0, 30.0]))
def test_field_matches_plain_numpy(n, d, m, seed, scale):
    rng = np.random.default_rng(seed)
    x = _sphere(rng, n, d)
    layer = _random_layer(rng, d, m, scale=scale)
    v = interp_velocity(x, layer)
    np.testing.assert_allclose(v, _reference_velocity(x, layer), rtol=1e-10, atol=1e-10 * max(1, scale))
    np.testing.assert_allclose(np.sum(v * x, axis=1), 0.0, atol=1e-10 * max(1, scale))  # tangent


def test_field_matches_mpmath_at_large_beta():
    """50-digit evaluation; B = 800 I makes unshifted exponentials overflow in float64."""
    mpmath.mp.dps = 50
    rng = np.random.default_rng(4)
    for d, n, m in ((3, 3, 2), (4, 4, 1)):
        x = _sphere(rng, n, d)
        layer = Layer(1.0, rng.standard_normal((d, d)), 800.0 * np.eye(d) + rng.standard_normal((d, d)),
                      rng.standard_normal((d, m)), rng.standard_normal((m, d)), rng.standard_normal(m))
        v = interp_velocity(x, layer)
        X = [mpmath.matrix([mpmath.mpf(float(c)) for c in row]) for row in x]
        M = lambda a: mpmath.matrix([[mpmath.mpf(float(c)) for c in row] for row in a])  # noqa: E731
        V, B, W, U = M(layer.V), M(layer.B), M(layer.W), M(layer.U)
        bb = mpmath.matrix([mpmath.mpf(float(c)) for c in layer.b])
        for i in range(n):
            Bx = B * X[i]
            e = [mpmath.exp(sum(Bx[k] * X[j][k] for k in range(d))) for j in range(n)]
            a = sum((e[j] * X[j] for j in range(n)), mpmath.matrix(d, 1)) / sum(e)
            h = U * X[i] + bb
            y = V * a + W * mpmath.matrix([max(h[k], 0) for k in range(m)])
            proj = y - sum(X[i][k] * y[k] for k in range(d)) * X[i]
            np.testing.assert_allclose(v[i], [float(proj[k]) for k in range(d)], rtol=1e-11, atol=1e-11)
    assert np.all(np.isfinite(v))


def test_field_and_flow_run_the_generated_kernel():
    """interp_velocity and flow evaluate the generated kernel of the model "interp", attention_average
    the kernel of the declaration "interp_attention" (traced through the kernel-call hook); it equals
    the plain softmax average."""
    from scipy.special import softmax

    from attnflow import export
    from attnflow.numerics.interpolation import attention_average

    rng = np.random.default_rng(12)
    x = _sphere(rng, 7, 3)
    layer = _random_layer(rng, 3, 2, duration=0.2)
    B = 5.0 * rng.standard_normal((3, 3))
    with export.trace_kernel_calls(["interp_velocity", "interp_attention_velocity"]) as calls:
        interp_velocity(x, layer)
        assert calls["interp_velocity"] == 1
        a = attention_average(x, B)  # the kernel of the auxiliary declaration interp_attention
        assert calls["interp_attention_velocity"] == 1 and calls["interp_velocity"] == 1
        flow([x, x[:4]], Schedule((layer,)), steps=[3])
        assert calls["interp_velocity"] == 1 + 2 * 3 * 4  # 2 measures, 3 RK4 steps, 4 stages
    want = np.stack([softmax(x @ (B @ xi)) @ x for xi in x])
    np.testing.assert_allclose(a, want, rtol=0, atol=1e-14)
    with pytest.raises(ValueError, match="^B:"):
        attention_average(x, np.eye(4))


# ------------------------------------------------------------------ closed forms vs the flow
def test_hole_push_matches_tanh_closed_form():
    """Constant field P_x(p): <x(t), p> = tanh(t + artanh <x(0), p>) for every atom."""
    rng = np.random.default_rng(5)
    x = _sphere(rng, 40, 4)
    p = np.array([0.0, 0.0, 0.0, 1.0])
    x = x[x @ p > -0.95]
    sch = Schedule((Layer.perceptron(1.7, p[:, None], np.zeros((1, 4)), [1.0]),))
    (y,) = flow([x], sch, dt=0.01)
    np.testing.assert_allclose(y @ p, np.tanh(1.7 + np.arctanh(x @ p)), atol=1e-9)


def test_one_schedule_acts_on_all_measures_independently():
    """Attention sees each measure alone: flowing together == flowing one at a time."""
    rng = np.random.default_rng(6)
    x = [_sphere(rng, 10, 3), _sphere(rng, 6, 3), _sphere(rng, 3, 3)]
    sch = Schedule((Layer.attention(0.8, np.eye(3), 3 * np.eye(3)), _random_layer(rng, 3, 2, duration=0.5)))
    together = flow(x, sch, dt=0.02)
    for c, t in zip(x, together):
        np.testing.assert_allclose(flow([c], sch, dt=0.02)[0], t, atol=1e-13)


# ------------------------------------------------------------------ gate lemma (erratum)
@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 10**6), R=st.floats(0.2, 1.4), d=st.integers(3, 5))
def test_corrected_gate_moves_exactly_the_ball_printed_moves_the_complement(seed, R, d):
    rng = np.random.default_rng(seed)
    x = _sphere(rng, 200, d)
    z = _sphere(rng, 1, d)[0]
    cosR = math.cos(R)
    x = x[np.abs(x @ z - cosR) > 1e-3]  # keep atoms off the sphere of radius R (rounding)
    inside = x @ z > cosR
    if inside.sum() == 0 or (~inside).sum() == 0:
        return
    good = gate_mass_moved(x, z, R, "corrected", duration=0.5, dt=0.05)
    bad = gate_mass_moved(x, z, R, "printed", duration=0.5, dt=0.05)
    assert good.correct and good.in_ball_moved == 1.0 and good.out_ball_moved == 0.0
    assert not bad.correct and bad.in_ball_moved == 0.0
    assert good.mass_in_ball == pytest.approx(inside.mean())


# ------------------------------------------------------------------ mass concentration (erratum)
def test_mass_concentration_two_sqrt_eta_holds_c_eta_fails():
    ratios = []
    for eta in (0.5, 0.1, 0.02, 0.004):
        r = mass_concentration_family(eta, n=500)
        assert r.w2 == pytest.approx(2 * math.sqrt(r.eta), rel=1e-12)  # antipodal: equality
        assert r.w2_assignment == pytest.approx(r.w2, rel=1e-12)
        ratios.append(r.ratio_eta)
    assert np.all(np.diff(ratios) > 0) and ratios[-1] > 30  # W2/eta unbounded: no C works
    # POT as a third, independent route, and a shorter move stays below 2 sqrt(eta)
    r = mass_concentration_family(0.1, n=50, distance=1.3, d=4)
    assert r.w2 <= r.bound_sqrt
    mu = np.array([[1.0, 0, 0, 0], [math.cos(2 * math.asin(0.65)), math.sin(2 * math.asin(0.65)), 0, 0]])
    cost = ot.dist(mu, np.array([[1.0, 0, 0, 0]]))
    assert math.sqrt(ot.emd2([0.9, 0.1], [1.0], cost)) == pytest.approx(r.w2, rel=1e-9)


# ------------------------------------------------------------------ clustering time
def test_cluster_time_grows_like_log_one_over_eps():
    rng = np.random.default_rng(7)
    x = np.array([1.0, 0.0, 0.0]) + 0.35 * rng.standard_normal((25, 3))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    fit = cluster_time(x, 1.0, [1e-1, 1e-2, 1e-3, 1e-4, 1e-5], dt=0.05, t_max=20.0)
    assert np.all(np.diff(fit.times) > 0)
    assert fit.r2 > 0.999
    # near collapse the spread decays like e^{-t} (V = I): slope 1 in log(1/eps)
    assert fit.slope == pytest.approx(1.0, abs=0.05)


# ------------------------------------------------------------------ the construction
def _w2_pot(cloud, z):
    return math.sqrt(ot.emd2(np.full(len(cloud), 1 / len(cloud)), [1.0], ot.dist(cloud, z[None])))


@pytest.mark.parametrize("d,N,seed", [(3, 3, 0), (4, 3, 1), (3, 2, 5)])
def test_construction_reaches_eps(d, N, seed):
    clouds, targets = draw_instance(d, N, 20, seed=seed)
    eps = 2e-2
    res = construct_dirac_interpolation(clouds, targets, T=5.0, eps=eps, seed=seed)
    assert res.schedule.total_time == pytest.approx(5.0, rel=1e-10)
    # re-run the returned schedule ourselves, with a finer step: the result does not hinge on dt
    fine = flow(clouds, res.schedule, steps=[2 * k for k in res.steps])
    for i in range(N):
        w = _w2_pot(fine[i], targets[i])
        assert w <= eps
        assert w == pytest.approx(res.w2[i], abs=1e-6)
    assert res.reached
    assert res.bystander_displacement < 1e-12  # gated layers leave the other clouds exactly fixed
    assert res.legs.max() <= 6
    assert res.switches <= 2 + res.legs.sum()  # push + cluster + one layer per leg
    assert res.switches <= 2 * d * N


def _ring(a, k, ph=0.0):
    th = ph + 2 * np.pi * np.arange(k) / k
    return np.stack([np.full(k, np.cos(a)), np.sin(a) * np.cos(th), np.sin(a) * np.sin(th)], 1)


def test_rings_with_one_clustering_limit_need_the_barycentre_split():
    """Two rings around e1 both collapse onto e1: attention clustering alone cannot disentangle them;
    the biased barycentre field (split) does."""
    clouds, targets = [_ring(0.3, 6), _ring(0.6, 6, 0.2)], np.array([[0, 1.0, 0], [0, 0, 1.0]])
    with pytest.raises(ConstructionError, match="clustering limits"):
        construct_dirac_interpolation(clouds, targets, split=False)
    res = construct_dirac_interpolation(clouds, targets, eps=1e-2)
    assert res.reached and "split" in res.phase_times
    for i in range(2):
        assert _w2_pot(res.final[i], targets[i]) <= 1e-2


def test_same_barycentre_and_same_limit_are_separated_first(monkeypatch):
    """Rotated copies of one 6-fold ring share barycentre AND clustering limit (isotropic layers commute
    with the rotation): the anisotropic attention layer (I, G, 0) moves their barycentres apart, then the
    barycentre split and the match reach the targets (W2 by POT).  Without that layer: the old refusal."""
    from attnflow.numerics.interpolation import _construct

    clouds, targets = [_ring(0.3, 6), _ring(0.3, 6, 0.2)], np.array([[0, 1.0, 0], [0, 0, 1.0]])
    res = construct_dirac_interpolation(clouds, targets, eps=1e-2)
    assert "separate" in res.phase_times and "split" in res.phase_times
    for i in range(2):
        assert _w2_pot(res.final[i], targets[i]) <= 1e-2
    def isotropic(cur, group, d, dt, layers, notes, rng):  # the one-line bug: B = I instead of an anisotropic G
        layers.append(Layer.attention(1.0, np.eye(d), np.eye(d)))
        return 1.0

    monkeypatch.setattr(_construct, "_separate", isotropic)
    with pytest.raises(ConstructionError, match="same barycentre"):
        construct_dirac_interpolation(clouds, targets, eps=1e-2)


def test_flow_rejects_bad_steps():
    sch = Schedule((Layer.attention(1.0, np.eye(3), np.eye(3)),))
    x = [np.array([[1.0, 0, 0]])]
    with pytest.raises(ValueError, match="dt, steps"):
        flow(x, sch)
    with pytest.raises(ValueError, match="steps"):
        flow(x, sch, steps=[1, 2])
    with pytest.raises(ValueError, match="dimension"):
        flow([np.array([[1.0, 0, 0, 0]])], sch, dt=0.1)


# ------------------------------------------------------------------ bad input
def test_bad_input_names_the_failing_hypothesis():
    clouds, targets = draw_instance(3, 2, 10, seed=0)
    with pytest.raises(ValueError, match="d >= 3"):
        construct_dirac_interpolation([c[:, :2] / np.linalg.norm(c[:, :2], axis=1, keepdims=True) for c in clouds],
                                      targets[:, :2] / np.linalg.norm(targets[:, :2], axis=1, keepdims=True))
    with pytest.raises(ValueError, match="targets.*coincide.*distinct targets"):
        construct_dirac_interpolation(clouds, np.vstack([targets[0], targets[0]]))
    with pytest.raises(ValueError, match="unit sphere"):
        construct_dirac_interpolation([1.01 * clouds[0], clouds[1]], targets)
    with pytest.raises(ValueError, match="distinct input measures"):
        construct_dirac_interpolation([clouds[0], clouds[0][::-1]], targets)
    # a dense Fibonacci sphere leaves no empty cap of radius 0.05: no common hole
    k = np.arange(3000) + 0.5
    phi, th = np.arccos(1 - 2 * k / 3000), np.pi * (1 + 5**0.5) * k
    dense = np.stack([np.cos(th) * np.sin(phi), np.sin(th) * np.sin(phi), np.cos(phi)], axis=1)
    with pytest.raises(ValueError, match="no common hole.*outside every support"):
        construct_dirac_interpolation([dense, clouds[1]], targets)
    with pytest.raises(ValueError, match="hole.*support"):
        construct_dirac_interpolation(clouds, targets, hole=clouds[1][0])
    with pytest.raises(ValueError, match="eps"):
        construct_dirac_interpolation(clouds, targets, eps=-1.0)
    with pytest.raises(ValueError, match="sign"):
        gate_mass_moved(clouds[0], targets[0], 0.5, sign="minus")


def test_cli_interpolate(capsys):
    from attnflow.cli import main

    assert main(["interpolate", "--d", "3", "--N", "2", "--n", "12", "--eps", "0.05", "--T", "3"]) == 0
    assert "REACHED" in capsys.readouterr().out
    assert main(["interpolate", "--d", "2"]) == 2
    assert "d >= 3" in capsys.readouterr().err
