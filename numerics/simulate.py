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

from attnflow.numerics.integrators import FIXED_METHODS, METHODS, integrate_adaptive, integrate_fixed
from attnflow.numerics.trajectory import Trajectory

__all__ = ["simulate", "default_method"]


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
    progress: bool = False,
    normalize: bool = False,
    **params: Any,
) -> Trajectory:
    r"""Integrate the particle system ``model`` from ``x0`` over :math:`[0, T]`.

    Solves

    .. math::

        \dot x = F_{\text{model},\beta}(t, x),\qquad x(0) = x_0,\qquad t\in[0, T],

    with :math:`F` the velocity of :func:`attnflow.numerics.velocity` (e.g. for ``"sa"``
    :math:`\dot x_i = P_{x_i}(Z_i^{-1}\sum_j e^{\beta\langle x_i,x_j\rangle}x_j)`), and records the
    interaction energy of each saved state when the model has one and its hypotheses hold (else
    ``Trajectory.energy`` is None and ``Trajectory.energy_note`` says why: e.g. β = 0, general
    Q, K, V, a batch of angle sequences, an energy beyond float64 at β ≳ 700).

    Parameters
    ----------
    model : str
        A key of ``attnflow.numerics.fields.MODELS`` (``sa``, ``usa``, ``qkv``, ``kuramoto``,
        ``causal_alibi``, ``multihead``, ``preln``, ``periln``, ``ngpt``, ``sqrt``).
    x0 : array_like
        Initial state: ``(n, d)`` unit rows for sphere models, angles ``(n,)`` / ``(P, N)`` for the
        circle models, ``(n, d)`` for the euclidean ``preln`` / ``periln`` state :math:`x_i=r_i\theta_i`.
        Never modified.
    beta : float
        Inverse temperature (negative allowed where the model allows it).
    t_final : float
        Final time :math:`T \ge 0`; hit exactly.
    dt : float, optional
        Fixed step (> 0). For ``method="adaptive"`` it is the first trial step.
    rtol, atol : float, optional
        Tolerances of the adaptive method (``atol`` defaults to ``rtol * 1e-3``).
    method : {"euler", "rk4", "lie_euler", "adaptive"}, optional
        Default: ``"rk4"`` if ``dt`` is given, ``"adaptive"`` if ``rtol`` is (see
        :func:`default_method`).
    save_every : int
        Save every ``save_every``-th (accepted) step; the initial and final states are always saved.
    seed : int, optional
        Seeds the draw of missing random matrices: for ``qkv`` without ``Q``, ``K``, ``V`` and for
        ``multihead`` without ``M`` (then ``heads=H`` is required), see
        :func:`attnflow.numerics.initial.random_matrices`. Recorded in ``Trajectory.params``.
    progress : bool
        Show a tqdm progress bar.
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
    if manifold == "sphere" and x0.ndim == 2 and normalize:
        norms = np.linalg.norm(x0, axis=1, keepdims=True)
        if np.any(norms == 0):
            raise ValueError("x0: a zero row cannot be normalised onto the sphere")
        x0 = x0 / norms

    params = dict(params)
    _fill_random_matrices(spec, x0, seed, params)
    # validates model parameters, shapes and (sphere) unit norms once, with clear messages
    fields.velocity(x0, model=model, beta=beta, t=0.0, **params)
    f = fields.make_field(model, beta=beta, **params)

    t0 = time.perf_counter()
    if method == "adaptive":
        res = integrate_adaptive(
            f, x0, float(t_final), rtol=rtol, atol=atol, manifold=manifold, save_every=save_every,
            h0=dt, progress=progress,
        )
    else:
        res = integrate_fixed(
            f, x0, float(t_final), float(dt), method=method, manifold=manifold, save_every=save_every,
            progress=progress,
        )
    wall = time.perf_counter() - t0
    energy, energy_note = None, ""
    if spec.has_energy:
        try:  # defined only under hypotheses (beta != 0, Q^T K = V = V^T, symmetric M_h, one sequence)
            fields.energy(res.states[0], model=model, beta=beta, **params)
        except ValueError as exc:
            energy_note = f"energy not defined here: {exc}"
        except OverflowError:  # e^{beta} beyond float64 (beta >~ 700)
            energy_note = f"energy overflows float64 at beta={beta:g}"
        else:
            energy = np.array([fields.energy(s, model=model, beta=beta, **params) for s in res.states])
    else:
        energy_note = f"model {spec.name!r} has no interaction energy"
    if seed is not None:
        params["seed"] = seed
    return Trajectory(
        times=res.times,
        states=res.states,
        energy=energy,
        energy_note=energy_note,
        model=spec.name,
        beta=beta,
        params=params,
        method=method,
        manifold=manifold,
        nfev=res.nfev,
        steps=res.steps,
        rejected=res.rejected,
        dt=None if dt is None else float(dt),
        rtol=None if rtol is None else float(rtol),
        wall_time=wall,
    )


def _fill_random_matrices(spec, x0, seed, params) -> None:
    """Draw the missing matrix parameters of a model that declares ``draw_params`` from ``seed``
    (``qkv``: Q, K, V; ``multihead``: M, with ``heads=H``), in place.  The options ``heads`` and
    ``symmetric`` are consumed."""
    if seed is None or x0.ndim != 2 or getattr(spec, "draw_params", None) is None:
        return
    required = [m.name for m in spec.matrix_params if m.required]
    if any(name in params for name in required):
        return
    options = {k: params.pop(k) for k in ("heads", "symmetric") if k in params}
    if "symmetric" in options:
        options["symmetric"] = bool(options["symmetric"])
    params.update(spec.draw_params(x0.shape[1], seed, **options))
