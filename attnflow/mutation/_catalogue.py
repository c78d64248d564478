r"""The mutant catalogue: realistic one-line bugs, each with the claims expected to notice it.

A :class:`Mutant` is data: the file (relative to the repository root, as in ``pyproject.toml``'s
``package-dir``: ``numerics/_generated/sa.py``, ``symbolic/models/builtin/qkv.py``), the exact
original text, its replacement, a description, and the claim globs expected to notice it.  The
original text must occur exactly once in the file (optionally inside the region that starts at the
unique anchor ``within`` and ends at the next top-level ``def``/decorator), otherwise the catalogue
has drifted from the code and :func:`attnflow.mutation.locate` raises :class:`CatalogueDrift`.

Mutants of the code generator (``symbolic/codegen/``) and of the model declarations
(``symbolic/models/``) change the kernels only through ``attnflow derive``: the harness applies
them to its copy and regenerates the copy's ``numerics/_generated/`` (``regenerates``).

:func:`declaration_mutants` derives the mutants of one model declaration automatically (score
scale, dropped projection, softmax <-> mean, transposed value, energy factor); they target the
generic claims ``model.<name>.*``.

References
----------
DeMillo, Lipton, Sayward, "Hints on test data selection", IEEE Computer 11 (1978) (mutation
analysis); the claims are those of ``attnflow check`` (``properties/claims/``).
"""

from __future__ import annotations

import dataclasses
import re

__all__ = ["Mutant", "CATALOGUE", "EXTERNAL_FACTS", "QUICK", "catalogue", "declaration_mutants"]

_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One realistic bug.

    Parameters
    ----------
    id : str
        Short kebab-case id (``rk4-weight``).
    file : str
        Path relative to the repository root (``numerics/integrators.py``).
    original, replacement : str
        Exact text and what it becomes; ``original`` must occur exactly once (in ``within``'s region).
    description : str
        What the bug is, in words.
    expect : tuple of str
        Claim globs (as ``attnflow check --claim``) expected to notice the bug.
    within : str, optional
        A unique anchor (``def sa_velocity_serial(``): the search region runs from it to the next
        top-level ``def`` or decorator.
    quick : bool
        Part of the quick subset (run by CI).
    """

    id: str
    file: str
    original: str
    replacement: str
    description: str
    expect: tuple[str, ...]
    within: str = ""
    quick: bool = False

    def __post_init__(self):
        if not _ID.match(self.id):
            raise ValueError(f"id: {self.id!r} must be kebab-case (lower case, digits, '-')")
        if self.original == self.replacement:
            raise ValueError(f"replacement: mutant {self.id!r} replaces its text by itself")
        if not self.expect:
            raise ValueError(f"expect: mutant {self.id!r} names no claim glob expected to notice it")
        object.__setattr__(self, "expect", tuple(self.expect))

    @property
    def regenerates(self) -> bool:
        """True for mutants of the generator or a declaration: the kernels are regenerated in the copy."""
        return self.file.startswith(("symbolic/codegen/", "symbolic/models/"))


def _m(id, file, original, replacement, description, expect, within="", quick=False) -> Mutant:
    return Mutant(id, file, original, replacement, description, tuple(expect), within, quick)


_GEN = "numerics/_generated/"
_TPL = "symbolic/codegen/backends/numba/"
_DECL = "symbolic/models/builtin/"

#: The catalogue, grouped by the part of the pipeline it breaks.
CATALOGUE: tuple[Mutant, ...] = (
    # ---------------------------------------------------------------- generated kernels
    _m("sa-serial-projection", _GEN + "sa.py",
       "                out[i, k] = -XA*x[i, k] + acc[k]", "                out[i, k] = acc[k]",
       "SA serial kernel: tangent projection P_x dropped", ["energy.dissipation.sa", "energy.monotone.sa", "cluster.*", "equiangular.*"],
       within="def sa_velocity_serial(", quick=True),
    _m("sa-serial-no-online-max", _GEN + "sa.py",
       "            if l0 > m0:", "            if False:",
       "SA serial kernel: the online maximum (running shift) of row 0 of each block is never updated",
       ["kernel.large_beta"], within="def sa_velocity_serial("),
    _m("sa-serial-logz", _GEN + "sa.py",
       "            logz[i] = m + math.log(z)", "            logz[i] = math.log(z)",
       "SA serial kernel: log-partition returned without its shift", ["energy.*", "kernel.*"],
       within="def sa_velocity_serial("),
    _m("qkv-swap-qk", _GEN + "qkv.py",
       "                    s += qx[i, k] * kx[j, k]", "                    s += kx[i, k] * qx[j, k]",
       "Q/K/V serial kernel: query and key swapped (score <K x_i, Q x_j>)", ["kernel.qkv_general"],
       within="def qkv_velocity_serial("),
    _m("usa-normalisation", _GEN + "usa.py",
       "            f = math.exp(m)/n", "            f = math.exp(m)/(n - 1)",
       "USA serial kernel: mean normalisation 1/n -> 1/(n-1)", ["energy.dissipation.usa", "equiangular.*"],
       within="def usa_velocity_serial("),
    _m("kuramoto-sign", _GEN + "kuramoto.py",
       "        v = -math.sin(dl)", "        v = math.sin(dl)",
       "Kuramoto row kernel: sign of the coupling flipped (repulsive)", ["kernel.circle", "cluster.stationary", "noise.*"],
       within="def _kuramoto_row("),
    _m("causal-alibi-decay-sign", _GEN + "causal_alibi.py",
       "        p = math.exp(-g*lam/N)", "        p = math.exp(g*lam/N)",
       "causal ALiBi kernel: position decay grows with distance", ["kernel.circle", "retrieval.particles"],
       within="def _causal_alibi_row("),
    _m("multihead-shared-normalisation", _GEN + "multihead.py",
       "        f = math.exp(m)/n", "        f = math.exp(m)/(n + 1)",
       "multi-head serial kernel: shared mean normalisation 1/n -> 1/(n+1)", ["multihead.*"],
       within="def multihead_shared_velocity_serial("),
    _m("periln-unit-speed", _GEN + "periln.py",
       "            cA = 1.0/math.sqrt(AA)", "            cA = 1.0/AA",
       "Peri-LN serial kernel: divides by |A|^2 instead of |A|", ["normalization.*"],
       within="def periln_velocity_serial("),
    _m("sqrt-clock", _GEN + "sqrt.py",
       "            _c0 = 1.0/math.sqrt(t + 1.0)", "            _c0 = 1.0/(t + 1.0)",
       "sqrt-scaled serial kernel: factor 1/sqrt(1+t) -> 1/(1+t)", ["normalization.*"],
       within="def sqrt_velocity_serial("),
    # ---------------------------------------------------------------- the generator (kernels regenerated)
    _m("template-online-max-rescale", _TPL + "templates/blocks/online_max.tmpl",
       "    z@r *= r\n", "",
       "generator: the online-max block forgets to rescale the running sum z", ["energy.dissipation.*", "equiangular.*"],
       quick=True),
    _m("template-normalise-factor", _TPL + "templates/blocks/normalize.tmpl",
       "    acc[k] *= f", "    acc[k] *= f * f",
       "generator: normalisation block applies the row factor twice", ["energy.dissipation.*", "equiangular.*"]),
    _m("printer-reciprocal", _TPL + "printer.py",
       '            return f"1.0/{self._atom(b)}"', '            return f"1.0*{self._atom(b)}"',
       "generator: numba printer prints 1/b as b", ["energy.*", "equiangular.*", "normalization.*"]),
    # ---------------------------------------------------------------- model declarations (kernels regenerated)
    _m("decl-sa-half-beta", _DECL + "sa.py",
       "    weight=sp.exp(beta * s),", "    weight=sp.exp(beta * s / 2),",
       "SA declaration: score scaled by beta/2", ["energy.dissipation.sa", "equiangular.*", "model.sa.*"]),
    _m("decl-usa-softmax", _DECL + "usa.py",
       '    weight=sp.exp(beta * s),\n    normalization="mean",', '    weight=sp.exp(beta * s),\n    normalization="softmax",',
       "USA declaration: mean normalisation replaced by softmax", ["energy.dissipation.usa", "equiangular.*", "model.usa.*"]),
    _m("decl-qkv-value-transposed", _DECL + "qkv.py",
       '    value="V",', '    value="K",',
       "Q/K/V declaration: value matrix replaced by the key matrix", ["kernel.qkv_general", "energy.dissipation.qkv_symmetric",
                                                                       "model.qkv.*"]),
    _m("decl-sa-energy-factor", _DECL + "sa.py",
       "    energy=sp.exp(beta * s) / beta,", "    energy=sp.exp(beta * s) / (2 * beta),",
       "SA declaration: pair energy halved (energy factor 1/(2 beta) -> 1/(4 beta))", ["energy.dissipation.sa", "model.sa.*"]),
    # ---------------------------------------------------------------- integrators
    _m("rk4-weight", "numerics/integrators.py",
       "    return retract(x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4), manifold)",
       "    return retract(x + (h / 5.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4), manifold)",
       "RK4: weight 1/6 -> 1/5", ["integrator.rk4_order", "retrieval.particles"], quick=True),
    _m("rk4-stage", "numerics/integrators.py",
       "    k3 = f(t + 0.5 * h, x + (0.5 * h) * k2)", "    k3 = f(t + 0.5 * h, x + (0.5 * h) * k1)",
       "RK4: third stage evaluated at the second stage's point", ["integrator.rk4_order"]),
    _m("euler-no-retraction", "numerics/integrators.py",
       "    return retract(x + h * f(t, x), manifold)", "    return x + h * f(t, x)",
       "explicit Euler step without the retraction onto the sphere", ["integrator.first_order", "interpolation.*"]),
    _m("lie-euler-speed", "numerics/integrators.py",
       "    y = np.cos(angle) * x + (h * np.sinc(angle / np.pi)) * v",
       "    y = np.cos(angle) * x + (0.5 * h * np.sinc(angle / np.pi)) * v",
       "Lie-Euler geodesic step: tangent component halved (moves at half speed)", ["integrator.*", "interpolation.*"]),
    # ---------------------------------------------------------------- closed forms
    _m("uniform-energy-factor", "symbolic/energy/_uniform.py",
       "        * sp.besseli(dim / sp.Integer(2) - 1, b) / (2 * b)", "        * sp.besseli(dim / sp.Integer(2) - 1, b) / b",
       "uniform-measure energy closed form: factor 1/(2 beta) -> 1/beta", ["energy.bounds"], quick=True),
    _m("equiangular-stated-rho-dot", "symbolic/equiangular.py",
       "    core = 2 * sp.exp(beta_ * rho_) * (1 - rho_) * ((n_ - 1) * rho_ + 1)",
       "    core = 2 * sp.exp(beta_ * rho_) * (1 - rho_) * ((n_ - 1) * rho_ + 2)",
       "stated equiangular ODE: (n-1)rho + 1 -> (n-1)rho + 2", ["equiangular.*"], quick=True),
    _m("equiangular-closed-form-beta0", "symbolic/equiangular.py",
       "    return (k * sp.exp(2 * t_) - 1) / (k * sp.exp(2 * t_) + n_ - 1)",
       "    return (k * sp.exp(2 * t_) - 1) / (k * sp.exp(2 * t_) + n_)",
       "stated beta = 0 closed form: denominator K e^{2t} + n - 1 -> K e^{2t} + n", ["equiangular.closed_form.beta0"]),
    _m("equiangular-hitting-sign", "symbolic/equiangular.py",
       "        - sp.Ei(beta_ * (1 - s_))\n", "        + sp.Ei(beta_ * (1 - s_))\n",
       "stated hitting-time antiderivative: sign of the Ei(beta(1-s)) term", ["equiangular.hitting_time"]),
    _m("oracle-projection", "symbolic/_clustering_gram.py",
       "        return v - self.inner(x, v) * x", "        return v",
       "SymPy oracle (equiangular span): tangent projection dropped", ["equiangular.*"]),
    _m("long-context-stated", "symbolic/long_context.py",
       "    return ((r - 1) ** 2 * rho_ + (2 * (r - 1) + n_) * a) / ((r - 1) ** 2 + (2 * (r - 1) + n_) * a)",
       "    return ((r - 1) ** 2 * rho_ + (2 * (r - 1) + n_) * a) / ((r - 1) ** 2 + (2 * r + n_) * a)",
       "stated finite-n long-context overlap: 2(r-1) -> 2r in the denominator", ["long_context.finite_n"]),
    _m("retrieval-graphon", "symbolic/retrieval.py",
       "    return lam_ * sp.exp(-lam_ * (x - xp)) / (1 - sp.exp(-lam_ * x))",
       "    return lam_ * sp.exp(-lam_ * (x - xp)) / (1 - sp.exp(-lam_ * xp))",
       "symbolic ALiBi graphon: normaliser evaluated at sigma' instead of sigma", ["retrieval.graphon.normalised"]),
    _m("retrieval-position-weight", "numerics/retrieval/_closed.py",
       "    return lam * np.exp(lam * (s - 1.0)) / (-np.expm1(-lam))",
       "    return lam * np.exp(lam * (s - 1.0)) / (-np.expm1(-2.0 * lam))",
       "retrieval closed form: position weight p(s) wrongly normalised", ["retrieval.*"]),
    _m("retrieval-fourier-rates", "numerics/retrieval/_closed.py",
       "    return n * n * special.iv(n, beta)", "    return n * special.iv(n, beta)",
       "retrieval closed form: Fourier rates a_n = n^2 I_n(beta) -> n I_n(beta)", ["retrieval.*"]),
    _m("meanfield-weights", "numerics/meanfield.py",
       "            z[i] += w[j] * e\n", "            z[i] += e\n",
       "weighted (mean-field) attention: softmax normaliser ignores the quadrature weights", ["chaos.*", "meanfield.*"]),
    _m("interpolation-gate-bias", "numerics/interpolation/_experiments.py",
       "        U, b = z[None, :], [-math.cos(R)]", "        U, b = z[None, :], [-math.cos(0.5 * R)]",
       "corrected gate of the interpolation construction: bias at half the radius", ["interpolation.*"]),
    _m("interpolation-separate-isotropic", "numerics/interpolation/_construct.py",
       "        G *= (2.0, 4.0, 8.0)[k % 3] / np.linalg.norm(G, 2)",
       "        G = (2.0, 4.0, 8.0)[k % 3] * np.eye(d)",
       "separating layer for equal barycentres made isotropic (B = c I commutes with the rotation)",
       ["interpolation.general_targets.same_barycentre"]),
    _m("interpolation-peel-printed-sign", "numerics/interpolation/_general.py",
       "run_gate(tau, w[:, None], w[None, :], [-a]", "run_gate(tau, w[:, None], -w[None, :], [a]",
       "peel gate of the general-target construction with the printed (wrong) sign",
       ["interpolation.general_targets.*"]),
    _m("meanfield-projection-half", "numerics/meanfield.py",
       "            out[i, k] -= p * x[i, k]", "            out[i, k] -= 0.5 * p * x[i, k]",
       "weighted (mean-field) attention: tangent projection removes half the normal component",
       ["meanfield.necessity.density_stationary", "chaos.*", "meanfield.*"]),
    # ---------------------------------------------------------------- Wasserstein
    _m("wasserstein-dirac-weights", "numerics/wasserstein.py",
       "        cost = float(w @ _cost(pts, z, p, metric)[:, 0])", "        cost = float(np.mean(_cost(pts, z, p, metric)[:, 0]))",
       "W_p to a Dirac mass ignores the weights", ["wasserstein.dirac"]),
    _m("wasserstein-assignment-mean", "numerics/wasserstein.py",
       "        cost = float(C[rows, cols].sum() / n)", "        cost = float(C[rows, cols].sum() / (n + 1))",
       "assignment solver divides the cost by n + 1", ["wasserstein.*", "interpolation.*", "lowtemp.*"], quick=True),
    _m("wasserstein-geodesic", "numerics/wasserstein.py",
       "        return 2.0 * np.arctan2(cdist(x, y, \"euclidean\"), cdist(x, -y, \"euclidean\"))",
       "        return np.arctan2(cdist(x, y, \"euclidean\"), cdist(x, -y, \"euclidean\"))",
       "geodesic distance halved", ["wasserstein.*", "interpolation.*"]),
    # ---------------------------------------------------------------- noise models
    _m("noise-kuramoto-strength", "numerics/noise/_kuramoto.py",
       "    noise = np.sqrt(2.0 / kappa) if np.isfinite(kappa) else 0.0",
       "    noise = np.sqrt(1.0 / kappa) if np.isfinite(kappa) else 0.0",
       "noisy Kuramoto: noise strength sqrt(2/kappa) -> sqrt(1/kappa)", ["noise.kuramoto_threshold"]),
    _m("noise-sphere-usa-mean", "numerics/noise/_sphere.py",
       "    return (np.exp(logits - shift) @ x) * (np.exp(shift) / x.shape[0])",
       "    return (np.exp(logits - shift) @ x) * np.exp(shift)",
       "noisy sphere drift (NumPy backend): USA without its 1/n", ["noise.*"]),
    _m("noise-relu-dkappa", "numerics/noise/_kernel.py",
       "        dk1 = 1.0 / (2.0 * d)", "        dk1 = 1.0 / (2.0 * d * d)",
       "ReLU noise constants: kappa'(1) = 1/(2d) -> 1/(2d^2) (the paper's misprint)", ["noise.*"]),
    _m("noise-common-sqrt-h", "numerics/noise/_common_noise.py",
       "    return _ln(y + np.sqrt(h) * g)", "    return _ln(y + h * g)",
       "common-noise layer: noise increment h instead of sqrt(h)", ["noise.layer", "noise.sync_energy*"]),
)

#: The quick subset (run by CI): cheap claims, one mutant per part of the pipeline.
QUICK: tuple[str, ...] = tuple(m.id for m in CATALOGUE if m.quick)

#: Claims that check an external fact (a theorem of probability, or a printed statement that is false:
#: the negative controls, which must keep finding their counterexample) rather than attnflow's code, and
#: explorations (``expect="explore"``, no pass/fail): no mutant of the package is expected to change
#: their outcome.  ``attnflow mutate`` lists every other claim that killed no mutant.
EXTERNAL_FACTS: dict[str, str] = {
    "cluster.wendel": "Wendel's theorem: P(n iid uniform points lie in a hemisphere) (Monte Carlo vs the formula)",
    "energy.monotone.general_qkv": "negative control: general Q, K, V is not a gradient flow (a counterexample exists)",
    "energy.monotone.discrete_step": "negative control: the discrete layer is not monotone for large steps",
    "multihead.per_head": "negative control: per-head energies are not monotone",
    "multihead.total.per_head_softmax": "negative control: per-head softmax is not a gradient flow",
    "spectral.polarization": "negative control: the paper's printed stability criteria (refuted by attnflow)",
    "interpolation.gate_sign.printed": "negative control: the gate lemma as printed (refuted)",
    "interpolation.mass_concentration.linear": "negative control: the printed W2 <= C eta bound (refuted)",
    "noise.sync_energy.odd_collapse": "negative control: an odd random field does not collapse the tokens",
    "metastability.escape": "exploration (expect 'explore'): measures escape times, asserts no bound",
    "localization.circle_mass": "exploration (expect 'explore'): compares with the paper's 0.5742, asserts no bound",
    "lowtemp.concentration": "exploration (expect 'explore'): fitted exponent reported, no bound",
}


def catalogue(profile: str = "full", ids=None) -> list[Mutant]:
    """The mutants of ``profile`` (``"quick"``: :data:`QUICK`; ``"full"``: all), or those named in ``ids``."""
    if profile not in ("quick", "full"):
        raise ValueError(f"profile: expected 'quick' or 'full', got {profile!r}")
    if ids:
        by_id = {m.id: m for m in CATALOGUE}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise ValueError(f"--mutant: unknown id(s) {', '.join(unknown)}; list them with `attnflow mutate --list`")
        return [by_id[i] for i in ids]
    if profile == "quick":
        return [m for m in CATALOGUE if m.quick]
    return list(CATALOGUE)


def declaration_mutants(name: str, file: str, *, score: str = "    weight=sp.exp(beta * s),",
                        normalization: str | None = None, value: str | None = None,
                        energy: str | None = None) -> list[Mutant]:
    """Automatic mutants of one model declaration, targeted at the generic claims ``model.<name>.*``.

    Each argument is the exact line of the declaration to mutate (``None`` skips that mutant):
    ``score`` (beta -> beta/2 in the pair weight), ``normalization`` (softmax <-> mean), ``value``
    (the value matrix replaced by its transpose's neighbour, the key), ``energy`` (pair energy factor
    halved).  The projection-dropped mutant needs the generated kernel and is named
    ``<name>-projection``.
    """
    glob = (f"model.{name}.*",)
    out = []
    if score:
        out.append(_m(f"{name}-auto-half-beta", file, score, score.replace("beta * s", "beta * s / 2"),
                      f"{name} declaration: score scaled by beta/2", glob))
    if normalization:
        swap = normalization.replace('"softmax"', '"@"').replace('"mean"', '"softmax"').replace('"@"', '"mean"')
        out.append(_m(f"{name}-auto-normalisation", file, normalization, swap,
                      f"{name} declaration: softmax <-> mean normalisation", glob))
    if value:
        out.append(_m(f"{name}-auto-value", file, value, value.replace('"V"', '"K"'),
                      f"{name} declaration: value matrix replaced by the key matrix", glob))
    if energy:
        out.append(_m(f"{name}-auto-energy", file, energy, energy.replace("/ beta", "/ (2 * beta)"),
                      f"{name} declaration: pair energy factor halved", glob))
    out.append(_m(f"{name}-auto-projection", _GEN + f"{name}.py",
                  "out[i, k] = -XA*x[i, k] + acc[k]", "out[i, k] = acc[k]",
                  f"{name} kernel: tangent projection dropped", glob, within=f"def {name}_velocity_serial("))
    return out
