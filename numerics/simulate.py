r"""``simulate``: integrate one of the attention particle systems and return a :class:`Trajectory`.

The model's velocity field comes from :mod:`attnflow.numerics.fields` (``make_field``; validated
once on ``x0`` through ``velocity``), the time stepping from :mod:`attnflow.numerics.integrators`.

Default method: ``rk4`` (fixed step) when ``dt`` is given, ``adaptive`` (Dormand–Prince 5(4)) when
``rtol`` is given; see the module docstring of :mod:`attnflow.numerics.integrators` for why.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from attnflow.numerics.integrators import (
    COMPILED_METHODS,
    FIXED_METHODS,
    METHODS,
    check_t_eval,
    integrate_adaptive,
    integrate_compiled,
    integrate_fixed,
)
from attnflow.numerics.trajectory import Trajectory

__all__ = ["simulate", "default_method", "authors_step_scale"]


def default_method(dt: float | None, rtol: float | None) -> str:
    r"""The method :func:`simulate` uses when none is named.

    .. math::

        \text{method} = \begin{cases} \texttt{rk4} & dt \text{ given} \\ \texttt{adaptive} & rtol \text{ given}\end{cases}

    Fixed-step RK4 is fourth order on these analytic fields, matches the literature's scripts
    (2605.09213: RK4, dt = 0.0025), and gives equally spaced saved times and reproducible cost;
    asking for a tolerance means asking for error control, hence the Dormand–Prince pair.

    Raises
    ------
    ValueError
        If both or neither of ``dt`` and ``rtol`` are given.

    References
    ----------
    Hairer–Nørsett–Wanner I, §II.1, §II.4–5; arXiv:2605.09213 (RK4 for causal ALiBi).
    """
    if dt is not None and rtol is not None:
        raise ValueError(
            "dt: give either dt= (fixed step, default method rk4) or rtol= (adaptive), not both; "
            "to set the adaptive first step pass method='adaptive' explicitly"
        )
    if dt is None and rtol is None:
        raise ValueError("dt: give dt= (fixed-step RK4, e.g. dt=0.01) or rtol= (adaptive, e.g. rtol=1e-8)")
    return "rk4" if dt is not None else "adaptive"


def _check_beta(beta) -> float:
    if isinstance(beta, (bool, str, bytes)):
        raise ValueError(f"beta: must be a real number, got {beta!r}")
    try:
        b = float(beta)
    except (TypeError, ValueError):
        raise ValueError(f"beta: must be a real number, got {beta!r}") from None
    if not math.isfinite(b):
        raise ValueError(f"beta: must be finite, got {beta!r}")
    return b


def simulate(
    model: str,
    x0,
    *,
    beta: float,
    t_final: float,
    dt: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    method: str | None = None,
    save_every: int = 1,
    seed: int | None = None,
    progress: bool | None = None,
    normalize: bool = False,
    t_eval=None,
    energy: bool | None = None,
    **params: Any,
) -> Trajectory:
    r"""Integrate the particle system ``model`` from ``x0`` over :math:`[0, T]`.

    Solves

    .. math::

        \dot x = F_{\text{model},\beta}(t, x),\qquad x(0) = x_0,\qquad t\in[0, T],

    with :math:`F` the velocity of :func:`attnflow.numerics.velocity` (e.g. for ``"sa"``
    :math:`\dot x_i = P_{x_i}(Z_i^{-1}\sum_j e^{\beta\langle x_i,x_j\rangle}x_j)`), and records the
    interaction energy of each saved state when asked (``energy``), the model has one and its
    hypotheses hold (else ``Trajectory.energy`` is None and ``Trajectory.energy_note`` says why: e.g.
    β = 0, general Q, K, V, an energy beyond float64 at β ≳ 700).

    **Compiled loop.** The fixed-step methods ``euler``, ``authors`` and ``rk4`` of the self-attention
    models (``sa``, ``usa``, ... and user declarations of that form) run their whole step loop in one
    generated numba function (``_<kernel>_integrate_fixed``: the velocity kernel's serial twin per
    stage, preallocated stage buffers, saved states written in the loop; a batch parallel over
    systems), with the arguments checked once per call; the result is that of the Python loop of
    :func:`attnflow.numerics.integrators.integrate_fixed` to rounding.  ``progress=True``, the other
    methods and models, and systems of ``n >= 256`` tokens (parallel kernels) use the Python loop.

    **Ensembles.** ``x0`` of shape ``(B, n, d)`` (sphere and Euclidean models) or ``(B, n)`` (circle
    models) holds B independent systems, integrated together: one kernel call per integrator stage
    covers all of them (the generated ensemble kernel, parallel over systems), and
    ``Trajectory.states`` has shape ``(len(times), B, n, d)`` / ``(len(times), B, n)``.  For the
    circle models this is the existing ``(P, n)`` convention (``causal_alibi``: P prompts, each an
    independent system).  Fixed-step methods give each system bit for bit the result of running it
    alone; the adaptive method shares one step sequence whose error is controlled per system.

    Parameters
    ----------
    model : str
        A key of ``attnflow.numerics.fields.MODELS`` (``sa``, ``usa``, ``qkv``, ``kuramoto``,
        ``causal_alibi``, ``multihead``, ``preln``, ``periln``, ``ngpt``, ``sqrt``).
    x0 : array_like
        Initial state: ``(n, d)`` unit rows for sphere models, angles ``(n,)`` for the circle
        models, ``(n, d)`` for the euclidean ``preln`` / ``periln`` state :math:`x_i=r_i\theta_i`;
        with a leading axis B (``(B, n, d)``, ``(B, n)``) a batch of B independent systems.
        Never modified.
    beta : float
        Inverse temperature (negative allowed where the model allows it).
    t_final : float
        Final time :math:`T \ge 0`; hit exactly.
    dt : float, optional
        Fixed step (> 0). For ``method="adaptive"`` it is the first trial step.
    rtol, atol : float, optional
        Tolerances of the adaptive method (``atol`` defaults to ``rtol * 1e-3``).
    method : {"euler", "rk4", "lie_euler", "adaptive", "authors"}, optional
        Default: ``"rk4"`` if ``dt`` is given, ``"adaptive"`` if ``rtol`` is (see
        :func:`default_method`).  ``"authors"`` is the layer of the papers' scripts,
        ``x ← normalise(x + h a)`` with the unprojected attention ``a`` (first order, a different
        clock: :func:`attnflow.numerics.integrators.authors_step`), with the step of the
        unnormalised exponential models (``usa``, shared ``multihead``) divided by
        :math:`\max(\sqrt\beta e^{\beta-1/2}, 1)` as in their ``phase-diagrams.py``; sphere models
        whose output map is the tangent projection only.
    save_every : int
        Save every ``save_every``-th (accepted) step; the initial and final states are always saved.
    t_eval : array_like, optional
        Save exactly these times (strictly increasing, within ``[0, t_final]``) instead: fixed-step
        methods shorten the step before each one to land on it, the adaptive method evaluates its
        dense output there (order 4).  Excludes ``save_every``.
    energy : bool, optional
        Record the energy of every saved state (array ``(len(times),)``, or ``(len(times), B)`` for a
        batch).  Default: True for one system (today's behaviour), False for a batch.
    seed : int, optional
        Seeds the draw of missing random matrices: for ``qkv`` without ``Q``, ``K``, ``V`` and for
        ``multihead`` without ``M`` (then ``heads=H`` is required), see
        :func:`attnflow.numerics.initial.random_matrices`. Recorded in ``Trajectory.params``.
    progress : bool or None
        A tqdm progress bar on stderr: None (default) automatic -- on a terminal, after 2 s
        (:mod:`attnflow._base.progress`); True always; False never.
    normalize : bool
        Sphere models: normalise the rows of ``x0`` instead of rejecting non-unit rows.
    **params
        Model parameters (``lam`` for ``causal_alibi``, ``Q``/``K``/``V``, ``M``, ...).

    Returns
    -------
    Trajectory

    Raises
    ------
    ValueError
        Unknown model or method, dt <= 0, t_final < 0, non-finite or wrongly shaped x0, rows off the
        sphere, dt/rtol conflicts, bad parameters (message names the argument).

    References
    ----------
    arXiv:2312.10794 and 2512.01868 (SA/USA), 2605.09213 (causal ALiBi), 2510.22026 (normalisation
    schemes); derivations/energy.md.
    """
    from attnflow.numerics import fields

    spec = fields.model_spec(model)  # a registered name or a declaration; ValueError with close matches
    model = spec.name if fields.MODELS.get(spec.name) is spec else spec  # what the field API is called with
    beta = _check_beta(beta)
    if method is None:
        method = default_method(dt, rtol)
    elif method not in METHODS:
        raise ValueError(f"method: unknown method {method!r}; use one of {', '.join(METHODS)}")
    elif method in FIXED_METHODS:
        if dt is None:
            raise ValueError(f"dt: method={method!r} is fixed-step and needs dt= (e.g. 0.01)")
        if rtol is not None or atol is not None:
            raise ValueError(
                f"rtol: method={method!r} is fixed-step and takes no tolerance; drop rtol/atol or use method='adaptive'"
            )
    elif rtol is None:
        raise ValueError("rtol: method='adaptive' needs rtol= (e.g. 1e-8)")
    if dt is not None:
        if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating, np.integer)):
            raise ValueError(f"dt: must be a number > 0, got {dt!r}")
        if not math.isfinite(float(dt)) or dt <= 0:
            raise ValueError(f"dt: must be a finite step > 0, got {dt}")
    if isinstance(t_final, bool) or not isinstance(t_final, (int, float, np.floating, np.integer)):
        raise ValueError(f"t_final: must be a number >= 0, got {t_final!r}")
    if not math.isfinite(float(t_final)) or t_final < 0:
        raise ValueError(f"t_final: must be finite and >= 0, got {t_final}")
    if isinstance(save_every, bool) or not isinstance(save_every, (int, np.integer)) or save_every < 1:
        raise ValueError(f"save_every: must be a positive integer, got {save_every!r}")

    if np.iscomplexobj(x0):
        raise ValueError("x0: expected real points or angles, got complex values (pass the real part explicitly)")
    try:
        x0 = np.array(x0, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("x0: must be a numeric array") from None
    if not np.all(np.isfinite(x0)):
        raise ValueError("x0: contains NaN or inf; pass finite initial states")
    manifold = spec.manifold
    batch = x0.ndim == (2 if manifold == "angles" else 3)
    if energy is None:
        energy = not batch
    elif not isinstance(energy, (bool, np.bool_)):
        raise ValueError(f"energy: must be True or False, got {energy!r}")
    if manifold == "sphere" and x0.ndim in (2, 3) and normalize:
        norms = np.linalg.norm(x0, axis=-1, keepdims=True)
        if np.any(norms == 0):
            raise ValueError("x0: a zero row cannot be normalised onto the sphere")
        x0 = x0 / norms

    params = dict(params)
    _fill_random_matrices(spec, x0, seed, params)
    t_eval = check_t_eval(t_eval, float(t_final))
    if t_eval is not None and save_every != 1:
        raise ValueError("save_every: t_eval already says which times to save; drop save_every")
    # validates model parameters, shapes and (sphere) unit norms once, with clear messages
    fields.velocity(x0, model=model, beta=beta, t=0.0, **params)
    step = None if dt is None else float(dt)
    if method == "authors":
        f, step = _authors_field(spec, model, beta, step, params)
    else:
        f = fields.make_field(model, beta=beta, **params)

    t0 = time.perf_counter()
    if method == "adaptive":
        res = integrate_adaptive(
            f, x0, float(t_final), rtol=rtol, atol=atol, manifold=manifold, save_every=save_every,
            h0=dt, progress=progress, t_eval=t_eval, batch=batch,
        )
    elif (run := _compiled_loop(f, method, manifold, x0, progress)) is not None:
        res = integrate_compiled(run, x0, float(t_final), step, method=method, manifold=manifold,
                                 save_every=save_every, t_eval=t_eval)
    else:
        res = integrate_fixed(
            f, x0, float(t_final), step, method=method, manifold=manifold, save_every=save_every,
            progress=progress, t_eval=t_eval,
        )
    wall = time.perf_counter() - t0
    energies, energy_note = _energies(spec, model, beta, params, res.states, energy, batch)
    if seed is not None:
        params["seed"] = seed
    return Trajectory(
        times=res.times,
        states=res.states,
        energy=energies,
        energy_note=energy_note,
        model=spec.name,
        beta=beta,
        params=params,
        method=method,
        manifold=manifold,
        nfev=res.nfev,
        steps=res.steps,
        rejected=res.rejected,
        dt=step,
        rtol=None if rtol is None else float(rtol),
        wall_time=wall,
    )


def _compiled_loop(f, method: str, manifold: str, x0: np.ndarray, progress: bool):
    """The generated compiled step loop of the field ``f`` for this run, or None (then the Python loop of
    :func:`integrate_fixed` runs): Euler, the authors' step and RK4 of the self-attention templates
    (sphere and Euclidean), one system below the parallel size or a batch of them, no progress bar
    (the compiled loop cannot update one)."""
    if method not in COMPILED_METHODS or progress or manifold == "angles":
        return None
    compiled = getattr(f, "compiled", None)
    return None if compiled is None else compiled(x0.shape)


def _energies(spec, model, beta, params, states, wanted: bool, batch: bool):
    """``(energy array or None, note)`` for the saved ``states`` (``(k,)``, or ``(k, B)`` for a batch)."""
    from attnflow.numerics import fields

    if not wanted:
        return None, "energy not computed (energy=False" + (", the default for a batch)" if batch else ")")
    if not spec.has_energy:
        return None, f"model {spec.name!r} has no interaction energy"
    first = states[0][0] if batch else states[0]
    try:  # defined only under hypotheses (beta != 0, Q^T K = V = V^T, symmetric M_h)
        fields.energy(first, model=model, beta=beta, **params)
    except ValueError as exc:
        return None, f"energy not defined here: {exc}"
    except OverflowError:  # e^{beta} beyond float64 (beta >~ 700)
        return None, f"energy overflows float64 at beta={beta:g}"
    if batch:
        return np.array([[fields.energy(x, model=model, beta=beta, **params) for x in s] for s in states]), ""
    return np.array([fields.energy(s, model=model, beta=beta, **params) for s in states]), ""


def authors_step_scale(spec, beta: float) -> float:
    r"""The factor by which ``method="authors"`` divides the step: :math:`\max(\sqrt\beta e^{\beta-1/2}, 1)`
    for the unnormalised exponential models (mean normalisation, weight :math:`e^{\beta s}`: ``usa``,
    shared ``multihead``), 1 otherwise.

    .. math:: \eta = h / \max(\sqrt\beta\,e^{\beta-1/2}, 1)

    The authors' ``phase-diagrams.py`` (repository borjanG/2023-transformers-rotf, class
    ``simu_xform``) does this without softmax "so that we don't take more than 0.1 radian moves";
    the clock advances by :math:`\eta` per step.

    References
    ----------
    arXiv:2312.10794 (the experiments of the phase diagrams).
    """
    import sympy as sp

    from attnflow.symbolic.models import beta as beta_symbol
    from attnflow.symbolic.models import s as score

    modes = set(spec.normalization_modes().values())
    if modes != {"mean"} or sp.simplify(spec.weight - sp.exp(beta_symbol * score)) != 0 or beta <= 0:
        return 1.0
    return max(math.sqrt(beta) * math.exp(min(beta - 0.5, 700.0)), 1.0)


def _authors_field(spec, model, beta, dt, params):
    """The unprojected attention field of ``spec`` and the authors' step (see :func:`authors_step_scale`)."""
    import dataclasses

    from attnflow.numerics import fields
    from attnflow.numerics.fields._dispatch import has_dissipation
    from attnflow.symbolic.models import SphereModel
    from attnflow.symbolic.models import _symbols as S

    if not isinstance(spec, SphereModel) or spec.manifold != "sphere" or not has_dissipation(spec):
        raise ValueError(f"method: 'authors' is the normalised residual layer x <- normalise(x + h a) of sphere "
                         f"models whose field is the tangent projection of the attention a; model {spec.name!r} "
                         "is not one (use 'euler' or 'rk4')")
    raw = _RAW.get(id(spec))
    if raw is None or raw[0] is not spec:
        decl = dataclasses.replace(spec, name=f"{spec.name}_attention", output=S.A, energy=None, claims=(),
                                   energy_condition=None, description=f"unprojected attention of {spec.name}")
        raw = _RAW[id(spec)] = (spec, decl)
    return fields.make_field(raw[1], beta=beta, **params), dt / authors_step_scale(spec, beta)


_RAW: dict[int, tuple] = {}


def _fill_random_matrices(spec, x0, seed, params) -> None:
    """Draw the missing matrix parameters of a model that declares ``draw_params`` from ``seed``
    (``qkv``: Q, K, V; ``multihead``: M, with ``heads=H``), in place, shared by every system of a
    batch.  The options ``heads`` and ``symmetric`` are consumed."""
    if seed is None or spec.manifold == "angles" or x0.ndim not in (2, 3) or getattr(spec, "draw_params", None) is None:
        return
    required = [m.name for m in spec.matrix_params if m.required]
    if any(name in params for name in required):
        return
    options = {k: params.pop(k) for k in ("heads", "symmetric") if k in params}
    if "symmetric" in options:
        options["symmetric"] = bool(options["symmetric"])
    params.update(spec.draw_params(x0.shape[-1], seed, **options))
