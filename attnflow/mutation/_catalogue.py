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

__all__ = ["Mutant", "CATALOGUE", "DECLARATION_CATALOGUE", "EXTERNAL_FACTS", "QUICK", "catalogue", "declaration_mutants"]

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
    _m("kuramoto-shifted-sign", _GEN + "kuramoto.py",
       "                v = ci*ds - dc*si", "                v = dc*si - ci*ds",
       "Kuramoto a-priori-shift kernel: sign of the coupling flipped (repulsive)", ["kernel.circle"],
       within="def _kuramoto_shifted_rows("),
    _m("causal-alibi-shifted-decay-sign", _GEN + "causal_alibi.py",
       "                w = _vexp(_k0*g + _k1*(dc*dc + ds*ds))", "                w = _vexp(-_k0*g + _k1*(dc*dc + ds*ds))",
       "causal ALiBi a-priori-shift kernel: position decay grows with distance", ["kernel.circle", "retrieval.particles"],
       within="def _causal_alibi_shifted_rows("),
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
    _m("qkv-serial-projection", _GEN + "qkv.py",
       "            out[i, k] = -XA*x[i, k] + acc[k]", "            out[i, k] = acc[k]",
       "Q/K/V serial kernel: tangent projection P_x dropped", ["spectral.*", "kernel.qkv_general"],
       within="def qkv_velocity_serial("),
    _m("ngpt-unit-speed", _GEN + "ngpt.py",
       "            _c0 = alpha/math.sqrt(AA)", "            _c0 = alpha/AA",
       "nGPT serial kernel: divides by |A|^2 instead of |A|", ["normalization.ngpt_speed"],
       within="def ngpt_velocity_serial("),
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
    _m("long-context-limit-critical", "symbolic/long_context.py",
       "        return 4 * rho_ / (1 + 3 * rho_)", "        return 2 * rho_ / (1 + rho_)",
       "stated long-context limit at gamma = 1/(1 - rho): 4 rho/(1 + 3 rho) -> 2 rho/(1 + rho)",
       ["long_context.limits"], quick=True),
    _m("variation-first-factor", "symbolic/energy/_proofs.py",
       "        return sp.exp(beta * p.dot(q)) * vp.dot(q)\n", "        return sp.exp(beta * p.dot(q)) * vp.dot(q) / 2\n",
       "stated first-variation integrand: spurious factor 1/2 (the 1/(2 beta) of E not cancelled)",
       ["energy.variation.first"]),
    _m("variation-second-dropped-term", "symbolic/energy/_proofs.py",
       "+ beta * vp.dot(q) * vq.dot(p) + vp.dot(vq))", "+ beta * vp.dot(q) * vq.dot(p))",
       "stated second-variation integrand: the <v(x), v(y)> term dropped", ["energy.variation.second"]),
    _m("spectral-corrected-c", "symbolic/spectral.py",
       "        c_ = math.exp(2 * beta_ * lam_p)", "        c_ = math.exp(beta_ * lam_p)",
       "corrected polarisation criterion: c = e^{2 beta lambda_p} -> e^{beta lambda_p} (measured: survives the "
       "5 quick examples, killed under --profile ci by n = 3, a (1, 2) split, beta = 1, lambda_p = 1.676)",
       ["spectral.polarization.corrected"], within="def corrected_stable("),
    _m("spectral-corrected-branch-sign", "symbolic/spectral.py",
       "    if n_plus != n_minus and min(n_plus, n_minus) == 1 and lam_p > 0:",
       "    if n_plus != n_minus and min(n_plus, n_minus) == 1 and lam_p < 0:",
       "corrected polarisation criterion: the single-token correction applied for lambda_p < 0 instead of > 0",
       ["spectral.polarization.corrected"]),
    _m("retrieval-mode-normaliser", "numerics/retrieval/_closed.py",
       "        k = lam * np.exp(-lam * (sg - s_in)) / (-np.expm1(-lam * sg))",
       "        k = lam * np.exp(-lam * (sg - s_in)) / (-np.expm1(-lam * s_in))",
       "retrieval mode response: graphon normaliser 1 - e^{-lam sigma} evaluated at sigma0",
       ["retrieval.volterra", "retrieval.lambda0_limit"]),
    _m("retrieval-slope-sign-lam0", "numerics/retrieval/_closed.py",
       "            out.append(-P2 * q)", "            out.append(P2 * q)",
       "retrieval profile derivative at lam = 0: sign of S' = -Psi'(Y)/sigma0 dropped", ["retrieval.no_recency_lambda0"]),
    _m("retrieval-score-unwrapped", "numerics/retrieval/_particles.py",
       "    d = np.remainder(delta + np.pi, 2 * np.pi) - np.pi  # in [-pi, pi)", "    d = np.asarray(delta, dtype=float)",
       "wrapped-Gaussian retrieval score: angles not reduced to [-pi, pi) before the truncated image sum",
       ["retrieval.poisson", "retrieval.particles"]),
    _m("meanfield-usa-double-mean", "numerics/meanfield.py",
       "        scale = math.exp(shift) if usa else 1.0 / z[i]", "        scale = math.exp(shift) / n if usa else 1.0 / z[i]",
       "weighted USA field: the mean 1/n applied on top of the quadrature weights (already 1/n)",
       ["meanfield.clustering_rate"]),
    _m("interp-rk4-weight", "numerics/interpolation/_flow.py",
       "    y = x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)", "    y = x + (h / 5.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)",
       "interpolation flow RK4: weight 1/6 -> 1/5 (every layer runs 20% too fast)", ["interpolation.*"]),
    _m("interp-reported-w2-initial", "numerics/interpolation/_construct.py",
       "    w2 = np.array([dirac_w2(final[i], tg[i]) for i in range(N)])",
       "    w2 = np.array([dirac_w2(clouds[i], tg[i]) for i in range(N)])",
       "interpolation construction: reports W2 of the initial clouds instead of the final ones",
       ["interpolation.dirac_targets"]),
    _m("mass-concentration-assignment-sum", "numerics/interpolation/_experiments.py",
       "    w2_assign = math.sqrt(cost[r, c].mean())", "    w2_assign = math.sqrt(cost[r, c].sum())",
       "mass-concentration family: assignment W2 sums the costs instead of averaging them",
       ["interpolation.mass_concentration.*"]),
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
    # ---------------------------------------------------------------- transport (flows, representatives)
    _m("flows-shear-bias-sign", "numerics/flows/_perceptron.py",
       "y @ a + p.c, 0.0)[:, None] * e[None, :]", "y @ a - p.c, 0.0)[:, None] * e[None, :]",
       "perceptron flow, shear piece in closed form: bias enters with the wrong sign", ["flows.perceptron_exact"]),
    _m("flows-aligned-direction", "numerics/flows/_perceptron.py",
       "z = alpha * (y @ e) + p.c", "z = alpha * (y @ e[::-1]) + p.c",
       "perceptron flow, aligned piece: ridge read along the wrong axis (not a gradient)", ["flows.polar_factors"]),
    _m("flows-kink-at-node", "numerics/flows/_construct.py",
       "c=-pk, e=tuple(e)", "c=-float(s[k]), e=tuple(e)",
       "monotone factor: slope change placed at the node instead of its current image", ["flows.kr_rate"]),
    _m("transport-beta", "numerics/transport.py",
       "beta=beta, model=model, dt=dt, steps=_steps(t, dt))", "beta=1.01 * beta, model=model, dt=dt, steps=_steps(t, dt))",
       "flow-map representative: the field driven by mu at 1.01 beta", ["transport.pushforward"]),
    _m("transport-representative-ignores-nu", "numerics/transport.py",
       "pn, yt = flow_map(y, z,", "pn, yt = flow_map(x, z,",
       "representation gap: the representative of nu driven by mu", ["transport.continuity"]),
    _m("transport-field-cost", "numerics/transport.py",
       "    cost = float(np.mean(np.linalg.norm(x - y, axis=1)))",
       "    cost = float(np.mean(np.linalg.norm(x - y, axis=1))) / 2",
       "field gap bound: the pairing cost halved", ["transport.field_lipschitz"]),
    _m("wasserstein-root", "numerics/wasserstein.py",
       "    return max(cost, 0.0) ** (1.0 / p)", "    return max(cost, 0.0) ** (1.0 / (p + 1))",
       "W_p returned as the (p+1)-th root of the cost", ["transport.coupling_bound"]),
    _m("wasserstein-assignment-maximise", "numerics/wasserstein.py",
       "        rows, cols = linear_sum_assignment(C)", "        rows, cols = linear_sum_assignment(C, maximize=True)",
       "assignment solver maximises the transport cost", ["wasserstein.*"]),
    _m("wasserstein-no-root", "numerics/wasserstein.py",
       "    return max(cost, 0.0) ** (1.0 / p)", "    return max(cost, 0.0)",
       "W_p returned as W_p^p (POT's emd2 convention)", ["wasserstein.*"], within="def wasserstein("),
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
    # ------------------------------------------------ localisation constant, multi-head entropy, hardmax chaos
    _m("localization-bound-no-potential", "numerics/localization_bound.py",
       "    return (A + math.exp(-_beta(beta)) * C) / (A + B)", "    return A / (A + B)",
       "localisation splitting bound without the potential's e^{-beta} C term", ["localization.mass_bound"]),
    _m("localization-b-halved", "symbolic/localization.py",
       "B_LIMIT = sp.Rational(3, 4) * sp.exp(-sp.Rational(1, 8))",
       "B_LIMIT = sp.Rational(3, 8) * sp.exp(-sp.Rational(1, 8))",
       "localisation: the in-group constant B halved (the printed constant's form)", ["localization.constant"]),
    _m("hardmax-meanfield-steps", "numerics/hardmax.py",
       "    return s + (1.0 - h) ** k * (x - s)", "    return s + (1.0 - h) ** (k + 1) * (x - s)",
       "hardmax mean-field map: one Euler step too many", ["chaos.hardmax_rate"]),
    _m("multihead-entropy-rate-sign", "symbolic/multihead_entropy.py",
       "    return beta_**2 * c_**2 * p * (1 - p) * (1 - rho_) * rhodot",
       "    return beta_**2 * c_**2 * p * (1 - p) * (1 + rho_) * rhodot",
       "multi-head entropy production: (1 - rho) -> (1 + rho)", ["multihead.entropy.monotone"]),
    _m("multihead-threshold-rho0", "symbolic/multihead_entropy.py",
       "    return sp.log(-c2 / c1) / ((c1 - c2) * rho0_)", "    return sp.log(-c2 / c1) / (c1 - c2)",
       "multi-head critical inverse temperature without the 1/rho_0 factor", ["multihead.threshold.equiangular"]),
)


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
    "flows.kr_w2_rate": "exploration (expect 'explore'): fitted L1, L2, W2 slopes reported, no bound",
    "flows.banana_rate": "exploration (expect 'explore'): fitted L1, L2, W2 slopes reported, no bound",
    "transport.lipschitz_ratio": "exploration (expect 'explore'): sup-gap and Lipschitz ratios reported, no bound",
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


#: Automatic declaration mutants of three built-in models (softmax, mean and Q/K/V declarations),
#: expected to be noticed by the generic claims ``model.<name>.*`` alone.
DECLARATION_CATALOGUE: tuple[Mutant, ...] = (
    *declaration_mutants("sa", _DECL + "sa.py", normalization='    normalization="softmax",',
                         energy="    energy=sp.exp(beta * s) / beta,"),
    *declaration_mutants("usa", _DECL + "usa.py", normalization='    weight=sp.exp(beta * s),\n    normalization="mean",',
                         energy="    energy=sp.exp(beta * s) / beta,"),
    *declaration_mutants("qkv", _DECL + "qkv.py", normalization='    normalization="softmax",', value='    value="V",',
                         energy="    energy=sp.exp(beta * s) / beta,"),
)
CATALOGUE = CATALOGUE + DECLARATION_CATALOGUE

#: The quick subset (run by CI): cheap claims, one mutant per part of the pipeline.
QUICK: tuple[str, ...] = tuple(m.id for m in CATALOGUE if m.quick)
