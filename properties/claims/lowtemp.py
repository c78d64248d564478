r"""Low-temperature claim of arXiv:2605.10931 (abstract only: low-temperature concentration).

``lowtemp.concentration`` (explore)
    fitted exponent of :math:`W_2(\mu_t^\beta, \mu_t^{4\beta})` in :math:`\beta`, beside :math:`-1/2`.

References
----------
arXiv 2605.10931 (low temperature).
"""

from __future__ import annotations

from hypothesis import strategies as st

from attnflow.numerics.lowtemp import lowtemp_exponent
from attnflow.properties import strategies as afs
from attnflow.properties.registry import Measurement, claim

__all__ = ["LOWTEMP_BETAS"]


#: Inverse temperatures (beta, compared with 4 beta) and time of the low-temperature fit.
LOWTEMP_BETAS = (2.0, 4.0, 8.0, 16.0, 32.0)
LOWTEMP_T = 3.0


@st.composite
def _lowtemp_examples(draw):
    return {"x0": draw(afs.sphere_points(n=st.integers(16, 32), d=3))}


@claim(
    id="lowtemp.concentration",
    title="W2(mu_t^beta, mu_t^{4 beta}) shrinks with beta at fixed t (SA on S^2): fitted exponent beside -1/2",
    source="arXiv 2605.10931 (abstract: sqrt(log(beta+1)/beta))",
    latex=r"W_2(\mu_t^\beta,\mu_t^{4\beta}) \approx C\beta^{p},\quad p \overset{?}{\approx} -\tfrac12",
    hypotheses=_lowtemp_examples(),
    expect="explore",
    tolerance=f"explore: exponent p fitted over beta = {', '.join(f'{b:g}' for b in LOWTEMP_BETAS)} at t = "
    f"{LOWTEMP_T:g}, RK4 step min(0.02, 0.5/beta), exact assignment W2; theory column -1/2, extra: the exponent "
    "the abstract's sqrt(log(beta+1)/beta) itself gives over the same betas",
    measure="fitted exponent p",
    examples=0.6,
)
def lowtemp_concentration(ex):
    fit = lowtemp_exponent(ex["x0"], LOWTEMP_BETAS, LOWTEMP_T, model="sa")
    return Measurement(value=fit.exponent, fitted=fit.exponent, theory=-0.5,
                       extra={"exponent of sqrt(log(beta+1)/beta)": fit.reference, "R^2 (log-log)": fit.r2,
                              "W2 at smallest beta": float(fit.distances[0]),
                              "W2 at largest beta": float(fit.distances[-1])})
