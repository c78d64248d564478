r"""Localisation claim of arXiv:2601.21366 (perceptrons and localisation).

``localization.circle_mass`` (explore)
    largest mass within width :math:`1/(2\sqrt\beta)` at second-order stable critical points of the
    model of :mod:`attnflow.numerics.localization`, against 0.5742.

References
----------
arXiv 2601.21366 (localisation).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from attnflow.numerics.localization import LOCALIZATION_CONSTANT, find_critical_point
from attnflow.properties import strategies as afs
from attnflow.properties.registry import Measurement, claim, require

__all__ = ["LOCALIZATION_BETAS"]


#: Inverse temperatures of the localisation sweep and particle numbers per interaction.
LOCALIZATION_BETAS = (4.0, 8.0, 16.0, 32.0)


@st.composite
def _localization_examples(draw):
    a = draw(st.floats(0.5, 2.0))
    return {
        "interaction": draw(st.sampled_from(["attractive", "repulsive"])),
        "a": a,
        "b": a * draw(st.floats(-0.5, 0.5)),
        "seed": draw(afs.seeds()),
    }


def _particles(interaction: str, beta: float) -> int:
    """Particles per run: 16 for attraction (clusters), 2 beta + 16 for repulsion (a stable near-uniform
    configuration needs spacing well below the kernel width 1/sqrt(beta))."""
    return 16 if interaction == "attractive" else int(2 * beta) + 16


@claim(
    id="localization.circle_mass",
    title="largest mass within angular width 1/(2 sqrt(beta)) at second-order stable critical points of "
    "sigma E_beta + perceptron potential on the circle, against 0.5742 (model of attnflow.numerics.localization)",
    source="arXiv 2601.21366 (via transcription; normalisation not recovered)",
    latex=r"\max_\phi \mu\bigl([\phi,\phi+\tfrac{1}{2\sqrt\beta}]\bigr) \le 0.5742 + O(e^{-\beta}),\quad "
    r"F_\sigma = \frac{\sigma}{2\beta n^2}\sum_{i,j}e^{\beta\cos(\theta_i-\theta_j)} + \frac1n\sum_i (a\cos\theta_i+b)_+",
    hypotheses=_localization_examples(),
    expect="explore",
    tolerance="explore: no pass/fail on 0.5742; a run counts if the relative gradient <= 1e-8 and the Wasserstein "
    "second-order test (atom Hessian, splitting curvature) passes to 1e-8 relative; the fraction of betas "
    "(4, 8, 16, 32) where the finder reached such a point is reported per interaction",
    measure="largest arc mass found",
    examples=0.6,
)
def circle_mass(ex):
    inter = ex["interaction"]
    rng = np.random.default_rng(ex["seed"])
    extra, masses, missed = {}, [], []
    for beta in LOCALIZATION_BETAS:
        n = _particles(inter, beta)
        cp = find_critical_point(rng.uniform(0, 2 * np.pi, n), beta, interaction=inter, a=ex["a"], b=ex["b"])
        if cp.stable:
            extra[f"{inter} beta={beta:g}: arc mass"] = cp.arc_mass
            extra[f"{inter} beta={beta:g}: atoms"] = float(cp.masses.size)
            masses.append(cp.arc_mass)
        else:
            missed.append(f"beta={beta:g} (grad {cp.grad_rel:.1e}, hess {cp.hess_rel:.1e}, split {cp.split_rel:.1e})")
    extra[f"{inter}: fraction of betas with a stable point"] = len(masses) / len(LOCALIZATION_BETAS)
    require(bool(masses), f"{inter}: no second-order stable critical point reached at " + "; ".join(missed))
    top = max(masses)
    return Measurement(value=top, fitted=top, theory=LOCALIZATION_CONSTANT, extra=extra)
