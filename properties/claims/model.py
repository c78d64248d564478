r"""Generic claims for every model, built in or the user's own: ``model.<name>.<family>``.

The claims are generated from each declaration of the model registry (also for models registered
after the claims were first loaded, e.g. by ``attnflow.models.load("my_models.py")`` or
``attnflow check --models my_models.py``; see :func:`attnflow.properties.registry.model_claims`).
A family is registered only where it applies (:func:`attnflow.properties.claims._model.applicable_families`):

``kernel`` (every model)
    the public field :func:`attnflow.numerics.velocity` (the generated kernel, and for sphere and
    Euclidean models its ensemble form on a batch of two systems) equals the SymPy field
    :func:`attnflow.symbolic.models.velocity_matrix` evaluated in mpmath (50 digits) at ``n = 3``
    tokens (4 angles), ``d = 3``, random parameters and :math:`|\beta| \le 4`; and stays finite at
    the :math:`\pm\beta` whose largest logit is 500 in absolute value (:math:`|\beta| = 500` for
    :math:`e^{\beta s}`, 250 for the time-rescaled :math:`e^{\beta(s-1)}`: ``_model.logit_scale``;
    1000 when every normalisation is a softmax, where it also still equals the oracle: only a
    shifted exponential survives there).
``reference`` (models with a NumPy reference: every built-in model, and a user's model whose reference
    is registered with :func:`attnflow.models.reference`)
    the public field equals the model's *defining equation* evaluated independently of the declaration
    (:mod:`attnflow.numerics._reference`: full n x n logit matrix, shifted exponential, normalisation,
    value map, projection, written from the papers' equations) at ``n = 5``, ``d = 3``, random parameters
    and :math:`0.5 \le |\beta| \le 4`.  The other families compare a declaration's kernel, energy and
    SymPy oracle with each other, so a wrong declaration (softmax written as mean, the key matrix as the
    value, a score scaled by 1/2) changes all of them consistently and only this claim notices it.  A
    user's model without a registered reference has no statement outside its declaration: such
    declaration errors cannot be detected for it (``attnflow mutate`` measures this).
``dissipation`` (a declared energy and the tangent-projection output, sphere or non-causal circle)
    the 4th-order finite difference of :func:`attnflow.numerics.energy` along the field equals the
    dissipation form :func:`attnflow.numerics.dissipation`,
    :math:`\frac{d}{dt}E = 2c\sum_i N_i|\dot x_i|^2` (:math:`E = c\sum_{i,j}F(s_{ij})`,
    :math:`c=\frac12` on the sphere: :math:`n\sum_i|\dot x_i|^2` for ``mean``,
    :math:`\sum_i Z_i|\dot x_i|^2` for ``softmax``); it holds iff :math:`F' = w`, so a declared
    energy that is not the model's Lyapunov function makes this claim fail with a shrunk
    counterexample.  Parameters are drawn in the energy's hypothesis (:math:`Q^\top K = V = V^\top`,
    symmetric heads, the normalisation choices it admits).
``monotone`` (where ``dissipation`` applies)
    the energy is non-decreasing along RK4 + retraction trajectories with :math:`dt\,L = 0.05`
    (:math:`L` the field's Lipschitz scale from the declared weight), 400 steps.
``stationary`` (sphere models whose weight depends on :math:`\langle x_i,x_j\rangle` only and whose
    output is a multiple of :math:`P_{x_i}A_i`; non-causal circle models)
    antipodal pairs and regular simplices (regular polygons on the circle) are equilibria:
    :math:`A_i \parallel x_i` by symmetry, so :math:`\dot x_i = 0`.
``order`` (every model with a smooth field: not the perceptron's ReLU)
    RK4 (the package's integrator on the kernel field) converges at order 4: the log-log slope of the
    error at :math:`T = 8/L` (times 4, up to 7 times, while fewer than three errors exceed the
    reference's accuracy; :math:`L` is an upper scale) over :math:`T/h \in \{4, 8, 16, 32\}`, against SciPy's DOP853
    (rtol :math:`10^{-13}`) on the SymPy field evaluated in NumPy, is :math:`4 \pm 0.6`.
``cluster`` (expect ``explore``; sphere and Euclidean models, :math:`d \ge 3`)
    the fraction of random starts (n = 8) whose tokens are in one cluster at the horizon
    :math:`T = 200/L`.

The kernel and order checks use ``n = 3`` tokens (4 angles) in ``d = 3``: one explicit SymPy field per
model and normalisation choice, evaluated by substituting the float64 inputs exactly as 50-digit
Floats (SymPy then evaluates the sums in mpmath arithmetic).

Circle models get no ``cluster`` (d = 2; the clustering theorems are for :math:`d \ge 3`); Euclidean
models (Pre-LN, Peri-LN, ``x = r\theta``) get no ``stationary`` and no ``dissipation`` (their
output is not the tangent projection and has no declared energy); causal models get neither
``stationary`` nor ``dissipation`` (token 1 is fixed, the interaction is not symmetric).

References
----------
arXiv 2312.10794 (the attention flow, energy, stationary configurations, clustering for d >= 3);
arXiv 2512.01868 (USA); derivations/energy.md (energy convention and dissipation identities);
Hairer, Norsett, Wanner, *Solving ODEs I*, II.1 (RK4, order 4).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from attnflow.numerics import single_thread
from attnflow.properties import strategies as afs
from attnflow.properties.claims import _model as M
from attnflow.properties.claims._energy import central_first, round_off_slack
from attnflow.properties.registry import Claim, Measurement, Violation, model_claims, require
from attnflow.symbolic.models import AA, Choice, CircleModel, get

EPS = float(np.finfo(float).eps)
#: Sizes of the kernel check (one lambdified oracle per model and normalisation choice).
KERNEL_N, KERNEL_D, KERNEL_N_ANGLES = 3, 3, 4
#: Relative tolerance of kernel vs oracle (scale: max(1, max|oracle|, max|w| for unnormalised weights)).
KERNEL_RTOL = 1e-10
ORDER_STEPS = (4, 8, 16, 32)
ORDER_TOL = 0.6


def _source(decl) -> str:
    return f"{decl.source or 'declaration ' + decl.name}; arXiv 2312.10794 (the attention flow); derivations/energy.md"


def _choices(decl) -> list:
    c = decl.param("normalization")
    return list(c.choices) if isinstance(c, Choice) else [None]


def _describe(name):
    def describe(ex):
        return f"model={name}, " + ", ".join(f"{k}={(round(v, 6) if isinstance(v, float) else v)}" for k, v in ex.items())
    return describe


def _velocity(name, x, beta, params, t=0.0):
    from attnflow.numerics import velocity

    with single_thread():
        return velocity(x, model=name, beta=beta, t=t, **params)


def _t0(decl) -> float:
    return 0.7 if decl.time_dependent else 0.0


# ----------------------------------------------------------------------------------------- kernel


def _kernel_check(name):
    def check(ex):
        decl = get(name)
        rng = np.random.default_rng(ex["seed"])
        d = KERNEL_D
        p = M.draw_params(decl, d, rng, choice=ex["choice"])
        x = M.state(decl, rng, KERNEL_N_ANGLES if isinstance(decl, CircleModel) else KERNEL_N, d)
        t, b = _t0(decl), ex["beta"]
        v = _velocity(name, x, b, p, t)
        o = M.oracle_velocity(decl, x, b, p, t)
        mode = decl.normalization_for(p)
        w, _ = M.weight_values(decl, b, p, np.linspace(-1.0, 1.0, 41))
        scale = max(1.0, float(np.max(np.abs(o))), 0.0 if mode == "softmax" else float(np.max(np.abs(w))))
        err = float(np.max(np.abs(v - o)))
        require(err <= KERNEL_RTOL * scale, f"{name}: |kernel - SymPy field| = {err:.3e} > {KERNEL_RTOL:g} x {scale:.3g} "
                f"at beta={b:.6g}")
        if not isinstance(decl, CircleModel):
            # the ensemble kernel: one call on a batch (x, y) of independent systems, each system against the oracle
            y = M.state(decl, rng, KERNEL_N, d)
            vb = _velocity(name, np.stack([x, y]), b, p, t)
            for k, (xk, vk) in enumerate(zip((x, y), vb)):
                ok = M.oracle_velocity(decl, xk, b, p, t)
                errk = float(np.max(np.abs(vk - ok)))
                require(errk <= KERNEL_RTOL * max(scale, float(np.max(np.abs(ok)))),
                        f"{name}: batch of 2 systems, system {k}: |kernel - SymPy field| = {errk:.3e} at beta={b:.6g}")
        # large beta: the shifted evaluation must stay finite (and exact for a softmax)
        softmax = all(m == "softmax" for m in decl.normalization_modes().values())
        big = ex["sign"] * (1000.0 if softmax else 500.0) / M.logit_scale(decl, p)  # every |logit| <= 500 (1000)
        try:
            vb = _velocity(name, x, big, p, t)
        except ValueError as exc:
            raise Violation(f"{name}: the field is not finite at beta={big:g}: {exc}") from None
        require(bool(np.all(np.isfinite(vb))), f"{name}: non-finite velocity at beta={big:g}")
        err_big = 0.0
        if softmax:
            ob = M.oracle_velocity(decl, x, big, p, t)
            err_big = float(np.max(np.abs(vb - ob)))
            tol_big = 1e-12 * (1.0 + abs(big)) * max(1.0, float(np.max(np.abs(ob))))
            require(err_big <= tol_big, f"{name}: at beta={big:g} |kernel - SymPy field| = {err_big:.3e} > {tol_big:.1e}")
        return Measurement(value=err / scale, extra={"|v| at large beta": float(np.max(np.abs(vb))),
                                                    "err at large beta (softmax)": err_big})

    return check


def _kernel_claim(decl) -> Claim:
    name = decl.name
    return Claim(
        id=f"model.{name}.kernel",
        title=f"{name}: generated kernel = SymPy field (mpmath, n={KERNEL_N}), finite at |logit| = 500 (1000 for softmax)",
        source=_source(decl),
        latex=r"\max|v_{\mathrm{kernel}}-v_{\mathrm{SymPy}}|\le 10^{-10}\,\max(1,|v|,\max|w|),\quad "
              r"v_{\mathrm{kernel}}(\beta=\pm500)\ \text{finite}",
        hypotheses=st.fixed_dictionaries({
            "seed": afs.seeds(), "beta": st.floats(-4.0, 4.0, allow_nan=False),
            "sign": st.sampled_from([1.0, -1.0]), "choice": st.sampled_from(_choices(decl))}),
        check=_kernel_check(name),
        expect="holds",
        tolerance=f"{KERNEL_RTOL:g} x max(1, max|oracle|, max|w(s)| for unnormalised weights): the kernel (online "
                  "maximum, CSE) and the 50-digit oracle differ by rounding of O(n d) terms of that size, "
                  "|beta| ulps through the logits (measured <= ~1e-14); at |beta| = 1000 (softmax) "
                  "1e-12 (1 + |beta|) max(1, |v|) (a logit rounded differently moves e^{beta s} by |beta| ulps); "
                  "unnormalised fields at |beta| = 500 are only required finite (the projection cancels terms of "
                  "size e^500, the result is ill-conditioned)",
        measure="max |kernel - SymPy| / scale",
        describe=_describe(name),
    )


# -------------------------------------------------------------------------------------- reference
#: Sizes of the reference check (tokens, dimension) and its relative tolerance.  The check also runs
#: ``REFERENCE_N_LARGE`` tokens, where the dispatch takes the large-n fast paths (BLAS tiles, rows in
#: SIMD lanes, the a-priori shift: n^2 >= PARALLEL_MIN_PAIRS).
REFERENCE_N, REFERENCE_D = 5, 3
REFERENCE_N_LARGE = 256
REFERENCE_RTOL = 1e-10


def _reference_check(name):
    def check(ex):
        from attnflow.numerics._reference import velocity_ref

        decl = get(name)
        rng = np.random.default_rng(ex["seed"])
        p = M.draw_params(decl, REFERENCE_D, rng, choice=ex["choice"])
        t, b = _t0(decl), ex["sign"] * ex["beta"]
        mode = decl.normalization_for(p)
        w, _ = M.weight_values(decl, b, p, np.linspace(-1.0, 1.0, 41))
        worst = 0.0
        for n in (REFERENCE_N, REFERENCE_N_LARGE):
            x = M.state(decl, rng, n, REFERENCE_D)
            v = _velocity(name, x, b, p, t)
            r = np.asarray(velocity_ref(x, name, b, t, **p), dtype=float)
            scale = max(1.0, float(np.max(np.abs(r))), 0.0 if mode == "softmax" else float(np.max(np.abs(w))))
            err = float(np.max(np.abs(v - r)))
            require(err <= REFERENCE_RTOL * scale,
                    f"{name}: |kernel - NumPy reference of the model's equation| = {err:.3e} > {REFERENCE_RTOL:g} x "
                    f"{scale:.3g} at n={n}, beta={b:.6g}, normalisation {mode}")
            worst = max(worst, err / scale)
        return Measurement(value=worst)

    return check


def _reference_claim(decl) -> Claim:
    name = decl.name
    return Claim(
        id=f"model.{name}.reference",
        title=f"{name}: generated kernel = the model's equation re-encoded in plain NumPy (numerics._reference, "
              f"independent of the declaration), n={REFERENCE_N} and {REFERENCE_N_LARGE}, d={REFERENCE_D}",
        source=_source(decl),
        latex=r"\max|v_{\mathrm{kernel}}-v_{\mathrm{NumPy}}|\le 10^{-10}\,\max(1,|v|,\max|w|)",
        hypotheses=st.fixed_dictionaries({
            "seed": afs.seeds(), "beta": st.floats(0.5, 4.0, allow_nan=False),
            "sign": st.sampled_from([1.0, -1.0]), "choice": st.sampled_from(_choices(decl))}),
        check=_reference_check(name),
        expect="holds",
        tolerance=f"{REFERENCE_RTOL:g} x max(1, max|reference|, max|w(s)| for unnormalised weights): two float64 "
                  "evaluations of one field (online maximum and CSE vs full n x n matrices with a row shift) differ "
                  "by rounding of O(n d) terms of that size; |beta| >= 0.5 so that a wrong temperature shows",
        measure="max |kernel - reference| / scale",
        describe=_describe(name),
    )


# ------------------------------------------------------------------------------------ dissipation


def _curve(decl, x, v, h):
    if isinstance(decl, CircleModel):
        return x + h * v
    y = x + h * v
    return y / np.linalg.norm(y, axis=1, keepdims=True)


def _dissipation_check(name):
    def check(ex):
        from attnflow.numerics import dissipation, energy

        decl = get(name)
        rng = np.random.default_rng(ex["seed"])
        p = M.draw_params(decl, ex["d"], rng, gradient=True, choice=ex["choice"])
        x = M.state(decl, rng, ex["n"], ex["d"])
        b = ex["beta"]
        v = _velocity(name, x, b, p)
        with single_thread():
            D = dissipation(x, model=name, beta=b, **p)
            E = energy(x, model=name, beta=b, **p)
        speed = float(np.max(np.abs(v)))
        if speed == 0.0:
            return 0.0
        kappa = speed * (1.0 + M.step_scale(decl, b, p))  # inverse length of E along the curve
        h = 1e-2 / kappa

        def e_at(hh):
            with single_thread():
                return energy(_curve(decl, x, v, hh), model=name, beta=b, **p)

        fd = central_first(e_at, h)
        floor = 1e-8 * abs(E) * kappa + 1e3 * EPS * abs(E) / h
        err = abs(fd - D)
        require(err <= 1e-6 * abs(D) + floor,
                f"{name}: finite-difference dE/dt = {fd:.12g} but the dissipation form gives {D:.12g} "
                f"(|diff| {err:.3e} > 1e-6 |D| + floor {floor:.1e}; E = {E:.6g}): the declared energy's F' is not "
                "the weight w (not a Lyapunov function of this field)")
        return Measurement(value=err / max(abs(D), floor), extra={"D/(E kappa)": abs(D) / (abs(E) * kappa)})

    return check


def _dissipation_claim(decl) -> Claim:
    name = decl.name
    grad = M.gradient_choices(decl)
    return Claim(
        id=f"model.{name}.dissipation",
        title=f"{name}: d/dt of the declared energy = dissipation form 2c sum_i N_i |dx_i/dt|^2 (finite differences)",
        source=_source(decl),
        latex=r"\frac{d}{dt}\,c\sum_{i,j}F(s_{ij})=2c\sum_i N_i\|\dot x_i\|^2\quad(F'=w)",
        hypotheses=st.fixed_dictionaries({
            "seed": afs.seeds(), "beta": st.floats(0.1, 5.0, allow_nan=False),
            "n": st.integers(2, 6), "d": st.integers(2, 4), "choice": st.sampled_from(grad)}),
        check=_dissipation_check(name),
        expect="holds",
        tolerance="|FD - D| <= 1e-6 |D| + 1e-8 |E| kappa + 1e3 eps |E| / h, kappa = max|xdot| (1 + L), h = 1e-2/kappa: "
                  "the 4th-order difference has truncation (h kappa)^4/30 |E| kappa ~ 3e-10 |E| kappa and round-off "
                  "~ 3 eps |E| / h; a wrong energy is off by O(|D|)",
        measure="max |FD dE/dt - D| / max(|D|, floor)",
        describe=_describe(name),
    )


# ------------------------------------------------------------------------------------- monotone


def _monotone_check(name):
    def check(ex):
        from attnflow.numerics import simulate

        decl = get(name)
        rng = np.random.default_rng(ex["seed"])
        p = M.draw_params(decl, ex["d"], rng, gradient=True, choice=ex["choice"])
        x = M.state(decl, rng, ex["n"], ex["d"])
        b = ex["beta"]
        dt = 0.05 / M.step_scale(decl, b, p)
        steps = 400
        with single_thread():
            traj = simulate(name, x, beta=b, t_final=steps * dt, dt=dt, method="rk4", **p)
        if traj.energy is None:
            raise RuntimeError(f"{name}: no energy along the trajectory: {traj.energy_note}")
        e = np.asarray(traj.energy, dtype=float)
        de = np.diff(e)
        slack = round_off_slack(e[:-1])
        k = int(np.argmin(de + slack))
        require(bool(np.all(de >= -slack)), f"{name}: E decreased by {-de[k]:.3e} (> round-off {slack[k]:.1e}) at step "
                f"{k} (dt = {dt:.3g})")
        return Measurement(value=float(np.min(de / np.maximum(np.abs(e[:-1]), 1e-300))),
                           extra={"E(T)/E(0) - 1": float(e[-1] / e[0] - 1.0) if e[0] != 0 else 0.0})

    return check


def _monotone_claim(decl) -> Claim:
    name = decl.name
    return Claim(
        id=f"model.{name}.monotone",
        title=f"{name}: the declared energy is non-decreasing along RK4 trajectories (dt L = 0.05, 400 steps)",
        source=_source(decl),
        latex=r"t\mapsto c\sum_{i,j}F(s_{ij}(t))\ \text{non-decreasing}",
        hypotheses=st.fixed_dictionaries({
            "seed": afs.seeds(), "beta": st.floats(0.1, 4.0, allow_nan=False),
            "n": st.integers(2, 6), "d": st.integers(2, 4), "choice": st.sampled_from(M.gradient_choices(decl))}),
        check=_monotone_check(name),
        expect="holds",
        tolerance="each step E_{k+1} - E_k >= -64 (1 + |log E_k|) eps |E_k| (round-off of the energy); the RK4 local "
                  "error is a relative O((dt L)^4) = 6e-6 of the increment dt D >= 0 and cannot flip its sign",
        measure="min_k (E_{k+1} - E_k)/|E_k|",
        aggregate="min",
        examples=0.6,
        describe=_describe(name),
    )


# ----------------------------------------------------------------------------------- stationary


def _configuration(decl, ex):
    rng = np.random.default_rng(ex["seed"])
    if isinstance(decl, CircleModel):
        n = 2 if ex["kind"] == "antipodal" else ex["n"]
        return rng.uniform(-np.pi, np.pi) + 2 * np.pi * np.arange(n) / n
    d = ex["d"]
    if ex["kind"] == "antipodal":
        u = rng.standard_normal(d)
        u /= np.linalg.norm(u)
        return np.stack([u, -u])
    return afs.regular_simplex(min(ex["n"], d + 1), d, rng)


def _stationary_check(name):
    def check(ex):
        decl = get(name)
        rng = np.random.default_rng(ex["seed"] + 1)
        x = _configuration(decl, ex)
        p = M.draw_params(decl, 2 if isinstance(decl, CircleModel) else x.shape[1], rng)
        b = ex["beta"]
        v = _velocity(name, x, b, p, _t0(decl))
        if isinstance(decl, CircleModel):
            u = np.stack([np.cos(x), np.sin(x)], axis=1)
        else:
            u = x
        s = u @ u.T
        w, _ = M.weight_values(decl, b, p, s)
        norm = w.sum(axis=1) if decl.normalization_for(p) == "softmax" else np.full(len(u), float(len(u)))
        scale = float(np.max(np.abs(w).sum(axis=1) / np.abs(norm)))
        a = (w @ u) / norm[:, None]
        if decl.manifold != "angles" and decl.output.has(AA):  # the output divides by |A_i|
            scale /= float(np.min(np.linalg.norm(a, axis=1)))
        tol = 1e-12 * (1.0 + abs(b)) * max(1.0, scale)
        err = float(np.max(np.abs(v)))
        require(err <= tol, f"{name}: |dx/dt| = {err:.3e} > {tol:.1e} at the {ex['kind']} configuration "
                f"(n={len(x)}, beta={b:.6g})")
        return Measurement(value=err / tol, extra={"max |dx/dt|": err})

    return check


def _stationary_claim(decl) -> Claim:
    name = decl.name
    circle = isinstance(decl, CircleModel)
    return Claim(
        id=f"model.{name}.stationary",
        title=f"{name}: antipodal pairs and regular {'polygons' if circle else 'simplices'} are equilibria",
        source=_source(decl),
        latex=r"\langle x_i,x_j\rangle=-\tfrac1{n-1}\ (i\ne j)\ \Rightarrow\ \dot x_i=P_{x_i}A_i=0",
        hypotheses=st.fixed_dictionaries({
            "seed": afs.seeds(), "kind": st.sampled_from(["antipodal", "simplex"]),
            "n": st.integers(3, 6), "d": st.integers(2, 5),
            "beta": st.floats(0.1, 8.0, allow_nan=False).flatmap(lambda v: st.sampled_from([v, -v]))}),
        check=_stationary_check(name),
        expect="holds",
        tolerance="|dx_i/dt| <= 1e-12 (1 + |beta|) max(1, max_i sum_j |w_ij| / |N_i|) (/ min|A_i| when the output "
                  "divides by |A_i|): the rounding of the sums of that size, |beta| ulps through the logits",
        measure="max |dx/dt| / tol",
        describe=_describe(name),
    )


# ---------------------------------------------------------------------------------------- order


def _order_check(name):
    def check(ex):
        from scipy.integrate import solve_ivp

        from attnflow.numerics import make_field
        from attnflow.numerics.integrators import integrate_fixed

        decl = get(name)
        rng = np.random.default_rng(ex["seed"])
        circle = isinstance(decl, CircleModel)
        p = M.draw_params(decl, KERNEL_D, rng, choice=ex["choice"])
        x = M.state(decl, rng, KERNEL_N_ANGLES if circle else KERNEL_N, KERNEL_D)
        b = ex["beta"]
        T = 8.0 / M.step_scale(decl, b, p)
        t0 = _t0(decl)

        def rhs(t, y):
            return M.oracle_velocity(decl, y.reshape(x.shape), b, p, t, precise=False).ravel()

        f = make_field(name, beta=b, **p)
        floor = 1e-11 * max(1.0, float(np.max(np.abs(x))))
        for attempt in range(8):  # L is an upper scale: lengthen T while the errors sit at the reference's accuracy
            ref = solve_ivp(rhs, (t0, t0 + T), x.ravel(), method="DOP853", rtol=1e-13, atol=1e-15)
            if not ref.success:
                raise RuntimeError(f"reference integration failed: {ref.message}")
            x_ref = ref.y[:, -1].reshape(x.shape)
            errs = []
            with single_thread():
                for k in ORDER_STEPS:
                    res = integrate_fixed(f, x, T, T / k, method="rk4", manifold=decl.manifold, t0=t0)
                    errs.append(float(np.max(np.abs(res.states[-1] - x_ref))))
            errs = np.array(errs)
            if int(np.sum(errs > floor)) >= 3 or attempt == 7:
                break
            T *= 4.0
        use = errs > floor
        require(int(use.sum()) >= 3, f"{name}: RK4 errors {errs.tolist()} fall below the reference accuracy {floor:.0e} "
                f"(T = {T:.3g}): RK4 converges faster than order 4, or the kernel field and the SymPy field agree "
                "only to round-off at every step size (a field that does not move)")
        hs = T / np.array(ORDER_STEPS, dtype=float)
        slope = float(np.polyfit(np.log(hs[use]), np.log(errs[use]), 1)[0])
        require(abs(slope - 4.0) <= ORDER_TOL, f"{name}: RK4 error slope {slope:.3f} (errors {np.round(errs, 16).tolist()} "
                f"at h = T/{list(ORDER_STEPS)}, T = {T:.3g}) is not 4 +- {ORDER_TOL}")
        return Measurement(value=abs(slope - 4.0), fitted=slope, theory=4.0,
                           extra={"error at h = T/32": float(errs[-1])})

    return check


def _order_claim(decl) -> Claim:
    name = decl.name
    return Claim(
        id=f"model.{name}.order",
        title=f"{name}: RK4 on the kernel field converges at order 4 (vs DOP853 on the SymPy field)",
        source=_source(decl) + "; Hairer-Norsett-Wanner, Solving ODEs I, II.1",
        latex=r"\|x^{h}_{\mathrm{RK4}}(T)-x(T)\|=O(h^4)",
        hypotheses=st.fixed_dictionaries({
            "seed": afs.seeds(), "beta": st.floats(0.2, 3.0, allow_nan=False),
            "choice": st.sampled_from(_choices(decl))}),
        check=_order_check(name),
        expect="holds",
        tolerance=f"fitted log-log slope within {ORDER_TOL} of 4 over h = T/{{4, 8, 16, 32}}, T = 8/L (h L <= 2 with L an "
                  "upper Lipschitz scale: the asymptotic regime, where the next term changes the slope by O(h L)); "
                  "errors below 1e-11 (the reference's accuracy at rtol 1e-13) are left out of the fit, and at least "
                  "three must remain (T is lengthened x4, at most 7 times, until they do)",
        measure="|slope - 4|",
        examples=0.4,
        describe=_describe(name),
    )


# -------------------------------------------------------------------------------------- cluster


def _cluster_check(name):
    def check(ex):
        from attnflow.numerics import simulate

        decl = get(name)
        rng = np.random.default_rng(ex["seed"])
        d, b, n = ex["d"], ex["beta"], 8
        p = M.draw_params(decl, d, rng)
        L = M.step_scale(decl, b, p)
        dt, steps = 0.2 / L, 1000
        one = 0
        for _ in range(ex["starts"]):
            x = M.state(decl, rng, n, d)
            with single_thread():
                traj = simulate(name, x, beta=b, t_final=steps * dt, dt=dt, method="rk4", save_every=steps, **p)
            one += int(traj.cluster_count(1e-3) == 1)
        frac = one / ex["starts"]
        return Measurement(value=frac, extra={f"fraction in one cluster [d={d}]": frac, "horizon T": steps * dt})

    return check


def _cluster_claim(decl) -> Claim:
    name = decl.name
    return Claim(
        id=f"model.{name}.cluster",
        title=f"{name}: fraction of random starts (n = 8) in one cluster at T = 200/L, d >= 3",
        source=_source(decl) + "; arXiv 2312.10794 (clustering for d >= 3)",
        latex=r"\Pr\big[\max_{i,j}(1-\langle x_i(T),x_j(T)\rangle)\le10^{-3}\big]",
        hypotheses=st.fixed_dictionaries({
            "seed": afs.seeds(), "beta": st.floats(0.5, 4.0, allow_nan=False), "d": st.integers(3, 4),
            "starts": st.just(3)}),
        check=_cluster_check(name),
        expect="explore",
        tolerance="measurement only (the horizon is finite; metastable states may outlive it)",
        measure="fraction in one cluster",
        aggregate="min",
        examples=0.4,
        describe=_describe(name),
    )


_BUILDERS = {"kernel": _kernel_claim, "reference": _reference_claim, "dissipation": _dissipation_claim, "monotone": _monotone_claim,
             "stationary": _stationary_claim, "order": _order_claim, "cluster": _cluster_claim}


@model_claims
def model_family_claims(decl) -> list[Claim]:
    """The claims ``model.<name>.<family>`` of one declaration (the families that apply to it)."""
    fams = M.applicable_families(decl)
    return [_BUILDERS[f](decl) for f in M.FAMILIES if f in fams]
