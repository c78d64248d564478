"""``attnflow.numerics.meanfield``: the weighted attention flow and the von Mises-Fisher law.

Independent routes: the package field and integrator ``attnflow.numerics.simulate`` for the weighted RK4
kernel (fourth order), a weight-zero token that must not act on the context, closed-form vMF moments.
"""

import math

import numpy as np
import pytest

from attnflow.numerics import meanfield as M
from attnflow.numerics.simulate import simulate
from attnflow.properties.claims import _experiments as X


@pytest.mark.parametrize("model", ["sa", "usa"])
def test_weighted_flow_field_and_convergence_against_package(model):
    from attnflow.numerics.fields import make_field

    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((9, 3))
    x0 /= np.linalg.norm(x0, axis=1, keepdims=True)
    out = np.empty_like(x0)
    M._weighted_field(x0, np.full(9, 1 / 9), 1.3, model == "usa", out)
    assert np.max(np.abs(out - make_field(model, beta=1.3)(0.0, x0))) < 1e-13
    ref = simulate(model, x0, beta=1.3, t_final=1.0, rtol=1e-12, atol=1e-14, method="adaptive").final
    errs = [np.max(np.abs(M.weighted_attention_flow(x0, np.full(9, 1 / 9), beta=1.3, model=model, dt=1.0 / k,
                                                    steps=k)[-1] - ref)) for k in (10, 20)]
    assert errs[1] < 1e-6 and errs[0] / errs[1] > 8  # fourth order: ratio ~ 16


def test_weight_zero_token_is_a_test_particle():
    rng = np.random.default_rng(1)
    ctx = rng.standard_normal((12, 3))
    ctx /= np.linalg.norm(ctx, axis=1, keepdims=True)
    tok = X.CHAOS_TOKEN[None, :]
    a = M.weighted_attention_flow(ctx, np.full(12, 1 / 12), beta=1.0, model="sa", dt=0.1, steps=10)[-1]
    b = M.weighted_attention_flow(np.vstack([tok, ctx]), np.r_[0.0, np.full(12, 1 / 12)], beta=1.0, model="sa",
                                  dt=0.1, steps=10)[-1]
    assert np.max(np.abs(a - b[1:])) < 1e-14  # the context does not feel the test particle
    assert np.linalg.norm(b[0] - tok[0]) > 1e-2  # but the test particle moves


def test_vmf_sampler_and_quadrature_moments():
    kappa, axis = 2.0, np.array([0.0, 0.6, 0.8])
    mean_w = 1 / math.tanh(kappa) - 1 / kappa  # E<a, y> for vMF on S^2
    y, w = M.vmf_quadrature(24, 48, kappa, axis)
    assert abs(w.sum() - 1) < 1e-14 and abs(w @ (y @ axis) - mean_w) < 1e-13
    assert np.max(np.abs(w @ y - mean_w * axis)) < 1e-13
    s = M.vmf_sample(np.random.default_rng(2), 20000, kappa, axis)
    h = s @ axis
    assert abs(h.mean() - mean_w) < 5 * h.std() / math.sqrt(h.size)
