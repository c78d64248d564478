r"""Figures of the lost-in-the-middle retrieval profile of causal ALiBi attention (private)."""

from __future__ import annotations

import numpy as np

from ._style import FONT, figure, style_axes

__all__ = ["retrieval_profile", "retrieval_sweep", "SWEEP_TIMES", "SWEEP_BETAS"]

#: Times of :func:`retrieval_sweep` (``attnflow profile --sweep``).
SWEEP_TIMES = (0.25, 0.5, 1.0, 1.5, 2.0, 5.0)
#: The range of :math:`\beta` of the :math:`t_{crit}(\beta)` panel.
SWEEP_BETAS = (0.1, 4.8)

_SIGMA = r"position of the fact $\sigma_0$ (fraction of the prompt)"


def _params(beta, lam, M, t=None):
    s = rf"$\beta = {beta:g}$, $\lambda = {lam:g}$, $M = {M:g}$"
    return s + (rf", $t = {t:g}$" if t is not None else "")


def retrieval_profile(*, beta: float, lam: float, t: float, M: float, modes: int = 20, particles=None):
    r"""The retrieval profile :math:`\mathcal S_t(\sigma_0)` with its minimum and certificate, and particles.

    The closed form (``modes`` Fourier modes with weights :math:`\omega_n = e^{-\pi^2 n^2/(2M^2)}` and
    rates :math:`a_n = n^2 I_n(\beta)`; the full expression is in ``derivations/retrieval.md``)
    (:func:`attnflow.numerics.retrieval.profile`), the interior minimum
    (:func:`~attnflow.numerics.retrieval.argmin`), the interval-arithmetic bracket of the minimum
    (:func:`~attnflow.numerics.retrieval.certify_ushape`) and the recency level
    :math:`\mathcal S_t(1)`; with ``particles``, the Monte Carlo estimates from simulated causal
    ALiBi prompts with :math:`\pm 2` standard errors.

    Parameters
    ----------
    beta, lam, t, M : float
        Inverse temperature, ALiBi slope, time (depth), vocabulary size.
    modes : int
        Fourier modes of the closed form.
    particles : dict, optional
        ``{"sigma0": array, "S": array, "se": array}`` and optionally ``"estimate"`` (a
        :class:`attnflow.numerics.retrieval.ParticleEstimate`, for N, prompts and phases in the
        legend) and ``"seed"``; what ``attnflow profile --particles`` computes.

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    arXiv:2605.09213 (the U-shape theorem); ``derivations/retrieval.md``.
    """
    from attnflow.numerics import retrieval as R

    s = np.linspace(0.002, 1.0, 800)
    S = R.profile(s, beta=beta, lam=lam, t=t, M=M, modes=modes)
    am = R.argmin(beta=beta, lam=lam, t=t, M=M, modes=modes)
    cert = R.certify_ushape(beta=beta, lam=lam, t=t, M=M, modes=modes)
    fig = figure((7.0, 4.6))
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(s, S, color="C0", lw=2, label=rf"closed form $\mathcal{{S}}_t(\sigma_0)$ ({modes} modes)")
    if am.interior:
        ax.plot([am.sigma0], [am.value], "o", color="C3", ms=7, label=rf"minimum $\sigma_0^* = {am.sigma0:.3f}$")
    ax.axhline(float(S[-1]), color="0.5", lw=0.9, ls=":", label=r"recency level $\mathcal{S}_t(1)$")
    lo_v = float(np.min(S))
    top = am.value + 6.0 * (float(S[-1]) - am.value) if am.interior else min(float(np.max(S)), 3.0 * float(S[-1]))
    pad = 0.05 * max(top - lo_v, 1e-12)
    ax.set_xlim(0, 1)
    ax.set_ylim(lo_v - pad, top + pad)
    if cert.bracket is not None:
        ax.axvspan(*cert.bracket, color="C3", alpha=0.12, lw=0, label="certified bracket of the minimum")
    title = f"retrieval profile, causal ALiBi: {_params(beta, lam, M, t)}\nU-shape: {cert.verdict}"
    if particles is not None:
        r = particles.get("estimate")
        what = (rf"particles $N = {r.N}$, {r.prompts}$\times${r.phases} prompts" if r is not None else "particles")
        seed = particles.get("seed", getattr(r, "seed", None))
        what += f", seed {seed}" if seed is not None else ""
        sig, val, se = (np.asarray(particles[k], dtype=np.float64) for k in ("sigma0", "S", "se"))
        ax.errorbar(sig, val, yerr=2 * se, fmt="s", color="C2", ms=5, capsize=3, zorder=6,
                    label=what + r" ($\pm 2$ se)")
        y0, y1 = ax.get_ylim()
        lo_p, hi_p = float(np.min(val - 2 * se)), float(np.max(val + 2 * se))
        pad = 0.05 * (max(y1, hi_p) - min(y0, lo_p))
        ax.set_ylim(min(y0, lo_p - pad), max(y1, hi_p + pad))
        if r is not None:
            title += rf"; $N = {r.N}$" + (f", seed {seed}" if seed is not None else "")
    style_axes(ax, xlabel=_SIGMA, ylabel=r"retrieval score $\mathcal{S}_t(\sigma_0)$", title=title)
    return fig


def retrieval_sweep(*, beta: float, lam: float, M: float, modes: int = 20, times=SWEEP_TIMES, betas=SWEEP_BETAS,
                    progress: bool | None = None):
    r"""The profile at several times (each relative to its minimum) and the recency threshold :math:`t_{crit}(\beta)`.

    Left: :math:`\mathcal S_t(\sigma_0) / \min_{\sigma_0} \mathcal S_t - 1` for each ``t`` in ``times``
    (circle: interior minimum; square: minimum at :math:`\sigma_0 = 1`, no recency).  Right:
    :math:`t_{crit}(\beta)` (:func:`attnflow.numerics.retrieval.t_crit`: recency iff
    :math:`t < t_{crit}`) and the time up to which the smallness condition of the theorem holds.

    Parameters
    ----------
    beta, lam, M : float
    modes : int
    times : sequence of float
    betas : (float, float)
        Range of :math:`\beta` on the right.
    progress : bool or None
        A bar over the :math:`\beta` grid (None: automatic, :mod:`attnflow._base.progress`).

    Returns
    -------
    matplotlib.figure.Figure

    References
    ----------
    arXiv:2605.09213; ``derivations/retrieval.md``.
    """
    from attnflow.numerics import retrieval as R

    from ._trajectory import _cmap

    s = np.linspace(0.003, 1.0, 800)
    fig = figure((13.5, 5.0))
    gs = fig.add_gridspec(1, 2, width_ratios=[1.25, 1])
    ax, bx = fig.add_subplot(gs[0]), fig.add_subplot(gs[1])
    cmap = _cmap("viridis")
    tc = R.t_crit(beta=beta, lam=lam, M=M, modes=modes)
    ymax = 0.0
    for i, t in enumerate(times):
        S = R.profile(s, beta=beta, lam=lam, t=t, M=M, modes=modes)
        am = R.argmin(beta=beta, lam=lam, t=t, M=M, modes=modes)
        col = cmap(i / max(1, len(times) - 1) * 0.9)
        smin, vmin = (am.sigma0, am.value) if am.interior else (1.0, float(S[-1]))
        rel = S / vmin - 1.0
        ax.plot(s, rel, color=col, lw=2, label=f"$t = {t:g}$" + ("" if am.interior else " (no recency)"))
        ax.plot([smin], [0.0], "o" if am.interior else "s", color=col, ms=7, mec="k", mew=0.6, clip_on=False, zorder=5)
        ymax = max(ymax, float(np.max(rel[s > 0.05])))
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.05, min(ymax, 1.5) * 1.05)
    style_axes(ax, xlabel=_SIGMA, ylabel=r"$\mathcal{S}_t(\sigma_0)\,/\,\min_{\sigma_0}\mathcal{S}_t - 1$",
               title=f"time sweep, {_params(beta, lam, M)}, $t_{{crit}} = {tc:.3f}$\n"
                     r"each curve relative to its minimum (circle: interior minimum, square: at $\sigma_0 = 1$)",
               legend_loc="upper center")
    bs = np.linspace(betas[0], betas[1], 200)
    from attnflow._base.progress import progress_bar

    tcs = np.array([R.t_crit(beta=b, lam=lam, M=M, modes=modes)
                    for b in progress_bar(progress, bs, desc="t_crit(beta)", unit="beta")])
    tbs = np.array([R.smallness_condition(beta=b, lam=lam, t=0.0).t_bound for b in bs])
    bx.semilogy(bs, tcs, color="C0", lw=2, label=r"$t_{crit}(\beta)$: recency iff $t < t_{crit}$")
    bx.semilogy(bs, tbs, color="C1", lw=2, ls="--", label="smallness condition holds below")
    bx.fill_between(bs, tbs, tcs, color="C0", alpha=0.12, label="recency beyond the theorem")
    bx.axvline(beta, color="0.5", lw=0.9, ls=":", label=rf"this run, $\beta = {beta:g}$")
    bx.set_xlim(bs[0], bs[-1])
    style_axes(bx, xlabel=r"inverse temperature $\beta$", ylabel=r"time (depth) $t$ (model units)",
               title=rf"recency threshold, $\lambda = {lam:g}$, $M = {M:g}$")
    fig.suptitle("retrieval profile of causal ALiBi attention (lost in the middle)", fontsize=FONT["title"] + 1)
    return fig
