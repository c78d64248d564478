r"""Phase-diagram claims (arXiv:2512.01868: the :math:`(t, \beta)` diagram of clustered pairs).

``phase_diagram.equiangular_boundary``
    The 1/2-level boundary :math:`t_{1/2}(\beta)` of
    :math:`P_d(\beta, t) = \mathbb P(\langle x_i(t), x_j(t)\rangle \ge 1-\delta)` (SA, i.i.d. uniform
    tokens on :math:`S^{d-1}`) approaches the equiangular prediction :math:`t_\beta` — the time at which
    the SA equiangular :math:`\rho`-ODE started from :math:`\rho_0 = 0` reaches :math:`1-\delta` — as
    :math:`d` grows: :math:`D_d = \mathrm{mean}_\beta |t_{1/2}(\beta) - t_\beta|` decreases along
    :math:`d = 8, 32, 128`, at least like :math:`d^{-1/2}` (the size of the initial inner products).

Diagrams and distances: :mod:`attnflow.properties.claims._phase_diagram`; the prediction
:func:`attnflow.numerics.phase.equiangular_boundary` (the package's statement of the
:math:`\rho`-ODE, :func:`attnflow.symbolic.equiangular.rho_dot_stated`).
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from attnflow.properties.claims._phase_diagram import CONFIG, diagrams, distances
from attnflow.properties.registry import Measurement, claim, require

__all__ = ["decide"]

SRC = "arXiv:2512.01868 (phase diagram of P(<x_i(t), x_j(t)> >= 0.999) and its equiangular prediction)"


def decide(dist: dict, ds) -> Measurement:
    r"""The verdict on distances ``{d: (D_d, per-beta differences)}``: :math:`D_d` strictly decreasing
    along ``ds`` and :math:`D_{d_{max}} \le D_{d_{min}}\,(d_{min}/d_{max})^{1/2}`.

    Raises :class:`~attnflow.properties.registry.Violation` otherwise.
    """
    ds = list(ds)
    dvals = [dist[d][0] for d in ds]
    require(all(math.isfinite(v) for v in dvals),
            f"the 1/2-level boundary is not reached inside the saved times for some d: D = {dvals}")
    for a, b, da, db in zip(ds, ds[1:], dvals, dvals[1:]):
        require(db < da, f"D_d does not shrink from d = {a} to d = {b}: D_{a} = {da:.4g}, D_{b} = {db:.4g} "
                         f"(all: {dict(zip(ds, [round(v, 4) for v in dvals]))})")
    ratio = dvals[-1] / dvals[0]
    bound = math.sqrt(ds[0] / ds[-1])
    require(ratio <= bound, f"D_{ds[-1]} / D_{ds[0]} = {ratio:.3g} > (d_min/d_max)^(1/2) = {bound:.3g}: the "
                            "boundary does not approach the equiangular curve at the rate of the initial "
                            f"inner products (D = {dict(zip(ds, [round(v, 4) for v in dvals]))})")
    extra = {f"D_d{d}": v for d, v in zip(ds, dvals)}
    extra["ratio_max_min"] = ratio
    return Measurement(value=dvals[-1], extra=extra)


@claim(
    id="phase_diagram.equiangular_boundary",
    title="the 1/2-level boundary of the SA phase diagram approaches the equiangular curve t_beta as d grows",
    source=SRC,
    latex=r"D_d=\operatorname{mean}_\beta\bigl|t_{1/2}(\beta)-t_\beta\bigr|\ \text{decreases in } d,\ "
    r"D_{128}\le D_8\,(8/128)^{1/2};\quad \rho(t_\beta)=1-\delta,\ \rho(0)=0,\ "
    r"\dot\rho=\frac{2e^{\beta\rho}(1-\rho)((n-1)\rho+1)}{e^\beta+(n-1)e^{\beta\rho}}",
    hypotheses=st.fixed_dictionaries({"seed0": st.integers(0, 10**6)}),
    expect="holds",
    tolerance=f"n = {CONFIG['n']}, d = {', '.join(map(str, CONFIG['ds']))}, beta = "
    f"{', '.join(f'{b:g}' for b in CONFIG['betas'])}, {CONFIG['seeds']} seeds, delta = {CONFIG['delta']:g}, "
    f"RK4 dt = {CONFIG['dt']:g}, saved every {CONFIG['save']:g} (boundary by linear interpolation; "
    "t_beta by DOP853 rtol 1e-12): D_d strictly decreasing and D_128 <= D_8 (8/128)^(1/2) = D_8/4, "
    "the d^(-1/2) size of the initial inner products; measured D_8 ~ 0.7-1.1, D_32 ~ 0.05-0.17, "
    "D_128 ~ 0.02-0.03 (seed noise of a boundary at 32 seeds ~ 0.05)",
    measure="D_128 = mean_beta |t_1/2(beta) - t_beta| at d = 128",
    examples=0.2,
)
def equiangular_boundary(ex):
    ps = diagrams(CONFIG, ex["seed0"])
    return decide(distances(ps, CONFIG), CONFIG["ds"])
