r"""Velocity fields, energies and dissipation of the particle models (public API).

Every model is a declaration of :mod:`attnflow.symbolic.models` (built in, or a user's own
registered through :mod:`attnflow.models`); :data:`MODELS` is the live registry, shared by this API
and the CLI.  The fields are evaluated by the kernels generated from the declarations
(``attnflow.numerics._generated.<model>``, written by ``attnflow derive``): O(n d) memory,
parallel over tokens, shifted exponentials (online maximum), so large or negative ``beta`` never
overflows an intermediate.  How a call picks its kernel is described in
:mod:`attnflow.numerics.fields._dispatch`.

State conventions
-----------------
* ``"sphere"`` models take ``x`` of shape ``(n, d)`` with unit rows (checked to 1e-10 unless
  ``normalize=True``), or ``(B, n, d)`` for B independent systems (one kernel call for all of
  them: the ensemble kernel ``<model>_velocity_ensemble``, parallel over systems);
* ``"euclidean"`` models (Pre-LN, Peri-LN) take ``x = r theta`` of shape ``(n, d)`` or
  ``(B, n, d)``, rows nonzero;
* ``"angles"`` models take angles of shape ``(n,)``, or ``(P, n)`` for P independent prompts
  (batched kernel, parallel over prompts).

Energy range: :func:`energy` and :func:`dissipation` are computed from row log-sum-exps and are
finite whenever the true value is below the float64 maximum (about ``|beta| <= 700 - 2 log n``);
the unnormalised fields (``usa``, ``kuramoto``, shared ``multihead``, ``causal_alibi``) are of
size ``e^{|beta|}`` and overflow only when their true value does (``|beta|`` above about 700).

References
----------
arXiv 2312.10794 (SA, energy), 2512.01868 (USA), 2605.09213 (causal ALiBi), 2510.22026
(normalisation), 2605.04279 (multi-head), 2411.04551 (attention + perceptron, model ``interp``);
derivations/energy.md (the energies and dissipation identities).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from attnflow._base.validate import real
from attnflow.numerics.fields import _dispatch
from attnflow.numerics.fields._dispatch import BLAS_MIN_DIM, BLOCK_ROWS, PARALLEL_MIN_PAIRS
from attnflow.numerics.fields._registry import MODELS, ModelSpec, model_spec, self_attention_kind, time_scale
from attnflow.numerics.fields._validation import UNIT_NORM_TOL, check_dims, check_params, check_state

__all__ = ["ModelSpec", "MODELS", "velocity", "make_field", "energy", "dissipation", "UNIT_NORM_TOL",
           "PARALLEL_MIN_PAIRS", "BLAS_MIN_DIM", "BLOCK_ROWS", "model_spec", "self_attention_kind", "time_scale"]


def _prepare(model, beta, x, params, normalize: bool = False):
    spec = model_spec(model)
    b = real("beta", beta)
    a = check_state(spec, x, normalize)
    p = check_params(spec, params, None if spec.manifold == "angles" else a.shape[-1])
    check_dims(spec, a, p)
    return spec, b, a, p


def velocity(x, *, model="sa", beta, t: float = 0.0, normalize: bool = False, **params) -> np.ndarray:
    r"""The velocity :math:`\dot x` of ``model`` at the state ``x`` (same shape as ``x``).

    For the default model (SA, arXiv 2312.10794)

    .. math::
        \dot x_i = P_{x_i}\Big(Z_i^{-1}\sum_{j} e^{\beta\langle x_i,x_j\rangle} x_j\Big),\qquad
        Z_i = \sum_k e^{\beta\langle x_i,x_k\rangle},\qquad P_x y = y - \langle x,y\rangle x;

    the other models are listed in :data:`MODELS` (``MODELS[name].description``).  Pre-LN and
    Peri-LN act on :math:`x=r\theta` with :math:`\dot x_i=A_i` and :math:`\dot x_i=A_i/\|A_i\|`
    (derived in :func:`attnflow.symbolic.models.normalisation_checks`).

    Parameters
    ----------
    x : array_like
        State: ``(n, d)`` points or ``(B, n, d)`` for B independent systems, or angles ``(n,)`` /
        ``(P, n)`` (P independent configurations) for angle models.
    model : str or Model
        A key of :data:`MODELS`, or a declaration.
    beta : float
        Inverse temperature (any finite real; negative values are legal).
    t : float
        Time (used by time-dependent models such as ``sqrt``).
    normalize : bool
        Sphere models: project the rows of ``x`` onto the sphere instead of rejecting
        rows whose norm differs from 1 by more than :data:`UNIT_NORM_TOL`.
    **params
        The model's declared parameters (``MODELS[name].params``), e.g. ``Q, K, V`` for ``qkv``;
        ``M, normalization`` for ``multihead``; ``lam``; ``alpha``; ``V, B, W, U, b`` for ``interp``.

    Returns
    -------
    numpy.ndarray
        The velocity, float64, with the shape of ``x``.

    Raises
    ------
    ValueError
        Naming the argument: unknown model (with close matches), missing or unknown parameters,
        bad shapes, non-finite values, points off the sphere, a vanishing attention output for an
        output map that divides by :math:`|A_i|` (Peri-LN, nGPT).

    References
    ----------
    arXiv 2312.10794 (SA), 2512.01868 (USA), 2605.09213 (causal ALiBi), 2510.22026 (normalisation
    schemes), 2411.04551 (eq. (1.1)-(1.2), ``interp``).
    """
    spec = model_spec(model)
    tt = real("t", t)
    if spec.time_dependent and spec.t_min is not None and tt <= spec.t_min:
        raise ValueError(f"t: must be > {spec.t_min} (the output map of model {spec.name!r} is defined for "
                         f"t > {spec.t_min}), got {tt}")
    spec, b, a, p = _prepare(spec, beta, x, params, normalize)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        v = _dispatch.builder(spec, b, p)(tt, a)
    if not np.all(np.isfinite(v)):
        if _dispatch.divides_by_norm(spec):
            raise ValueError(f"x: the attention output A_i vanishes for some token; the {spec.name} field "
                             "divides by |A_i| and is undefined there")
        raise ValueError(f"beta: the {spec.name} field overflows float64 at beta={b} (true value too large)")
    return v


def make_field(model, *, beta, **params) -> Callable[[float, np.ndarray], np.ndarray]:
    r"""A fast field ``f(t, x)`` for integrators: parameters validated once, no per-call checks.

    ``f(t, x)`` returns the same value as ``velocity(x, model=model, beta=beta, t=t, **params)``
    for a valid C-contiguous float64 ``x``; for angle models a 2-D ``x`` of shape ``(P, n)`` is
    P independent prompts (batched kernel, parallel over prompts).

    .. math:: f(t, x) = \dot x \quad\text{(see :func:`velocity`)}

    Parameters
    ----------
    model : str or Model
        A key of :data:`MODELS`, or a declaration.
    beta : float
        Inverse temperature.
    **params
        Model parameters; matrix sizes are checked against ``x`` only by the caller
        (``f`` does not validate).

    Returns
    -------
    callable
        ``f(t: float, x: ndarray) -> ndarray``.
    """
    spec = model_spec(model)
    b = real("beta", beta)
    p = check_params(spec, params, None)
    return _dispatch.builder(spec, b, p)


def _energy_inputs(model, beta, x, params, what: str):
    spec = model_spec(model)
    b = real("beta", beta)
    if not spec.has_energy:
        have = ", ".join(k for k, s in MODELS.items() if s.has_energy)
        raise ValueError(f"model: {spec.name!r} has no {what} (models with one: {have})")
    spec, b, a, p = _prepare(spec, b, x, params)
    if spec.manifold == "angles" and a.ndim != 1:
        raise ValueError(f"x: {what} takes one configuration of shape (n,), got {a.shape}")
    if spec.manifold != "angles" and a.ndim != 2:
        raise ValueError(f"x: {what} takes one system of shape (n, d), got {a.shape}; evaluate a batch system by system")
    spec.check_energy(p, what)
    return spec, b, a, p


def energy(x, *, model="sa", beta, **params) -> float:
    r"""The interaction energy of the particles, :math:`E = c\sum_{i,j}F(s_{ij})`.

    With the declared pair energy :math:`F` (``MODELS[name].energy``), :math:`c = \tfrac12` on the
    sphere and :math:`c = \tfrac1{2n^2}` on the circle:

    .. math::
        E = \frac{1}{2\beta}\sum_{i,j=1}^n e^{\beta\langle x_i, x_j\rangle}\ (\texttt{sa}, \texttt{usa}),\quad
        \frac{1}{2\beta}\sum_{i,j} e^{\beta\langle x_i, V x_j\rangle}\ (\texttt{qkv},\ Q^\top K = V = V^\top),\quad
        \sum_h \frac{1}{2\beta}\sum_{i,j} e^{\beta\langle x_i, M_h x_j\rangle}\ (\texttt{multihead}),

    and :math:`E = \frac{1}{2\beta n^2}\sum_{i,j} e^{\beta\cos(\theta_i-\theta_j)}` (``kuramoto``,
    for which :math:`\dot\theta = n\nabla E`).  Computed from fused row log-sum-exps (no n x n
    array); finite whenever the true value is below the float64 maximum.

    Parameters
    ----------
    x : array_like
        State (see :func:`velocity`); unit rows required for sphere models.
    model : str or Model
        A model with a declared energy (``MODELS[m].has_energy``).
    beta : float
        Inverse temperature (the prefactor of the pair energy must be finite and nonzero there,
        e.g. ``beta != 0`` for :math:`F = e^{\beta s}/\beta`).
    **params
        Model parameters; the model's energy hypothesis is checked (``qkv``: Q^T K = V = V^T,
        ``multihead``: shared normalisation and symmetric M_h).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Bad input, a model without energy, or parameters outside the energy's hypotheses.
    OverflowError
        If the energy itself exceeds the float64 range (|beta| above about 700).

    References
    ----------
    arXiv 2312.10794, 2512.01868; derivations/energy.md.
    """
    spec, b, a, p = _energy_inputs(model, beta, x, params, "energy")
    n = a.shape[0]
    scale = _dispatch.energy_convention(spec, n)
    try:
        ce = _dispatch.energy_scale(spec, b, p)
    except ZeroDivisionError:
        ce = math.inf
    if ce is not None and (not math.isfinite(float(ce)) or ce == 0.0):
        raise ValueError(f"beta: the pair energy {spec.energy} of model {spec.name!r} needs a finite, nonzero "
                         f"prefactor; beta={b} gives {ce} (for F = e^(beta s)/beta: beta != 0)")
    m, z = _dispatch.energy_rows(spec, b, p, a)
    if ce is None:  # the pair energy is summed directly (not of exponential form)
        total = scale * float(np.sum(z))
        if not math.isfinite(total):
            raise OverflowError(f"beta: the energy of model {spec.name!r} exceeds the float64 range at beta={b}")
        return total
    ce = float(ce)
    with np.errstate(divide="ignore"):
        log_total = _logsumexp(m + np.log(z))
    return _dispatch.signed_exp(log_total + math.log(abs(ce) * scale), ce, b)


def _logsumexp(v: np.ndarray) -> float:
    mx = float(np.max(v))
    return mx + math.log(float(np.sum(np.exp(v - mx))))


def dissipation(x, *, model, beta, **params) -> float:
    r"""The right side of the dissipation identity :math:`\frac{d}{dt}E = \mathcal D(x)`.

    For a gradient flow (:math:`F' = w`, output the tangent projection) with energy scale
    :math:`c` (see :func:`energy`):

    .. math::
        \mathcal D = 2c\sum_i N_i\,|\dot x_i|^2,\qquad N_i = Z_i = \sum_k w(s_{ik})\ (\text{softmax}),\quad
        N_i = n\ (\text{mean}),

    i.e. :math:`\sum_i Z_i\|\dot x_i\|^2` (``sa``; ``qkv`` with :math:`Q^\top K = V`),
    :math:`n\sum_i\|\dot x_i\|^2` (``usa``, shared ``multihead``) and
    :math:`\frac1n\sum_i\dot\theta_i^2` (``kuramoto``).  Per-head multi-head has no such identity
    (ValueError).

    Parameters
    ----------
    x, model, beta, **params
        As for :func:`energy`.

    Returns
    -------
    float

    References
    ----------
    arXiv 2312.10794, 2512.01868; derivations/energy.md.
    """
    spec, b, a, p = _energy_inputs(model, beta, x, params, "dissipation")
    if not _dispatch.has_dissipation(spec):
        raise ValueError(f"model: {spec.name!r} has no dissipation identity (its output map is not the tangent "
                         "projection of the attention)")
    mode = spec.normalization_for(p)
    n = a.shape[-1] if spec.manifold == "angles" else a.shape[0]
    scale = 2.0 * _dispatch.energy_convention(spec, n)
    with np.errstate(over="ignore", invalid="ignore"):
        v, logz = _dispatch.builder(spec, b, p).run(0.0, a)
    sq = np.sum(v * v, axis=-1) if v.ndim == 2 else v * v
    if mode == "mean":
        return float(scale * n * np.sum(sq))
    if logz is None:
        raise ValueError(f"model: {spec.name!r} has no dissipation identity for normalization {mode!r}")
    with np.errstate(divide="ignore"):
        return float(scale * np.sum(np.exp(logz + np.log(sq))))
