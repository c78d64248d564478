r"""Multi-head energy claims (arXiv:2605.04279, arXiv:2605.18870; abstracts only).

H heads with symmetric score matrices :math:`M_h`, head energies (particle normalisation)

.. math:: E_h=\frac1{2\beta}\sum_{i,j}e^{\beta\langle x_i,M_hx_j\rangle},\qquad
          g_{ih}=\nabla_{x_i}E_h=\sum_j e^{\beta\langle x_i,M_hx_j\rangle}M_hx_j,\qquad
          Z_{ih}=\sum_j e^{\beta\langle x_i,M_hx_j\rangle},

and two fields: shared normalisation :math:`\dot x_i=P_{x_i}\frac1n\sum_h g_{ih}` (a gradient flow of
:math:`\sum_hE_h`: :math:`\frac{d}{dt}\sum_hE_h=n\sum_i\|\dot x_i\|^2`) and per-head softmax
:math:`\dot x_i=P_{x_i}\sum_h g_{ih}/Z_{ih}`.  Along either field

.. math:: \frac{dE_h}{dt}=\sum_i\langle g_{ih},\dot x_i\rangle .

The counterexample searches evaluate this rate for thousands of random configurations at once
(:func:`head_energy_rates`, plain NumPy), keep the most negative, shrink it (drop tokens and heads
while the rate stays negative) and confirm it independently: a finite difference of the NumPy
energy along the numba kernel field, and an RK4 run in which the energy really decreases.

References
----------
arXiv:2605.04279 and arXiv:2605.18870 (multi-head; abstracts only); the forms are derived in
``derivations/energy.md`` (multihead.total.shared, multihead.per_head).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from attnflow.numerics import single_thread
from attnflow.properties import strategies as afs
from attnflow.properties.claims._energy import (
    DISS_TOL,
    central_first,
    diss_round_off,
    energy_increment,
    particle_energy,
    round_off_slack,
    sphere_curve_delta,
)
from attnflow.properties.registry import Measurement, claim, require

__all__ = ["head_energy_rates", "random_symmetric_heads", "shrink_counterexample"]

SRC = ("arXiv:2605.04279, arXiv:2605.18870 (multi-head attention dynamics; abstracts); forms derived "
       "in derivations/energy.md")


def head_energy_rates(x, M, beta, normalization: str = "shared") -> np.ndarray:
    r"""Rates :math:`\frac{d}{dt}E_h=\sum_i\langle g_{ih},\dot x_i\rangle` of every head energy, batched.

    .. math:: \dot x_i = P_{x_i}\tfrac1n\textstyle\sum_h g_{ih}\ (\texttt{shared}),\qquad
              \dot x_i = P_{x_i}\textstyle\sum_h g_{ih}/Z_{ih}\ (\texttt{per\_head}),

    with :math:`g_{ih}=\sum_je^{\beta\langle x_i,M_hx_j\rangle}M_hx_j` and
    :math:`Z_{ih}=\sum_je^{\beta\langle x_i,M_hx_j\rangle}`.

    Parameters
    ----------
    x : (B, n, d) or (n, d) array
        Configurations (unit rows).
    M : (B, H, d, d) or (H, d, d) array
        Symmetric head matrices (per configuration, or shared by the batch).
    beta : float or (B,) array
    normalization : {"shared", "per_head"}

    Returns
    -------
    ndarray of shape (B, H) (or (H,) for one configuration)

    References
    ----------
    arXiv:2605.04279, arXiv:2605.18870 (multi-head; abstracts only); ``derivations/energy.md``.
    """
    if normalization not in ("shared", "per_head"):
        raise ValueError(f"normalization: expected 'shared' or 'per_head', got {normalization!r}")
    x = np.asarray(x, dtype=float)
    single = x.ndim == 2
    xb = x[None] if single else x
    B = xb.shape[0]
    Mb = np.asarray(M, dtype=float)
    if Mb.ndim == 3:
        Mb = np.broadcast_to(Mb, (B,) + Mb.shape)
    if Mb.ndim != 4 or Mb.shape[0] != B or Mb.shape[2:] != (xb.shape[2],) * 2:
        raise ValueError(f"M: expected shape (H, d, d) or (B, H, d, d) matching x {x.shape}, got {np.shape(M)}")
    b = np.broadcast_to(np.asarray(beta, dtype=float), (B,))[:, None, None, None]
    mx = np.einsum("bhde,bje->bhjd", Mb, xb)  # M_h x_j
    s = b * np.einsum("bid,bhjd->bhij", xb, mx)
    m = s.max(axis=(1, 2, 3), keepdims=True)
    w = np.exp(s - m)  # shifted: g and Z carry a common factor e^{-m} per configuration
    g = w @ mx  # (B, H, n, d)
    if normalization == "shared":
        f = g.sum(axis=1) / xb.shape[1]
        scale = np.exp(2.0 * m[:, 0, 0, 0])  # g and xdot both scaled by e^{-m}
    else:
        f = (g / w.sum(axis=3)[..., None]).sum(axis=1)
        scale = np.exp(m[:, 0, 0, 0])
    xd = f - np.sum(f * xb, axis=2, keepdims=True) * xb
    rates = np.einsum("bhid,bid->bh", g, xd) * scale[:, None]
    return rates[0] if single else rates


def random_symmetric_heads(rng: np.random.Generator, shape: tuple[int, ...], d: int, radius: float = 1.0) -> np.ndarray:
    r"""Symmetric matrices :math:`M=O\operatorname{diag}(\lambda)O^\top`, :math:`O` Haar, :math:`\lambda_k\sim U[-r,r]`.

    Returns an array of shape ``shape + (d, d)``.

    References
    ----------
    arXiv:2605.04279, arXiv:2605.18870 (multi-head; symmetric M_h: the gradient-flow case);
    ``derivations/spectral.md`` (spectra).
    """
    g = rng.standard_normal(shape + (d, d))
    q, r = np.linalg.qr(g)
    q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
    lam = rng.uniform(-radius, radius, shape + (d,))
    out = (q * lam[..., None, :]) @ np.swapaxes(q, -1, -2)
    return 0.5 * (out + np.swapaxes(out, -1, -2))


def shrink_counterexample(x, M, beta, value) -> tuple[np.ndarray, np.ndarray]:
    """Greedily drop tokens (n >= 2) and heads (H >= 1) while ``value(x, M, beta) < 0`` stays true.

    References
    ----------
    Hypothesis-style shrinking of a found counterexample.
    """
    changed = True
    while changed:
        changed = False
        for i in range(x.shape[0]):
            if x.shape[0] > 2:
                y = np.delete(x, i, axis=0)
                if value(y, M, beta) < 0:
                    x, changed = y, True
                    break
        if changed:
            continue
        for h in range(M.shape[0]):
            if M.shape[0] > 1:
                N = np.delete(M, h, axis=0)
                if value(x, N, beta) < 0:
                    M, changed = N, True
                    break
    return x, M


def _total_energy(x, M, beta):
    return sum(particle_energy(x, beta, Mh) for Mh in M)


def _batch_total_energy(x, M, beta):
    """sum_h E_h for a batch (B, n, d), M (B, H, d, d), beta (B,) (beta r <= 5: no shift needed)."""
    s = beta[:, None, None, None] * np.einsum("bid,bhde,bje->bhij", x, M, x)
    return np.exp(s).sum(axis=(1, 2, 3)) / (2.0 * beta)


def _fd_rates(x, M, beta, xdot):
    """4th-order FD of every E_h along normalise(x + h xdot) (accurate increments)."""
    speed = float(np.max(np.linalg.norm(xdot, axis=1)))
    norm = max(float(np.linalg.norm(Mh, 2)) for Mh in M)
    h = 1e-3 / max(1.0, speed * (1.0 + beta * norm))
    return np.array([central_first(lambda t, A=Mh: energy_increment(x, sphere_curve_delta(x, xdot, t), beta, A), h)
                     for Mh in M])


def _fmt_example(x, M, beta):
    eig = [np.round(np.linalg.eigvalsh(Mh), 3).tolist() for Mh in M]
    return f"n={x.shape[0]}, d={x.shape[1]}, H={M.shape[0]}, beta={beta:.6g}, eig(M_h)={eig}, x={np.round(x, 4).tolist()}"


# ------------------------------------------------------------------------------ shared: holds
@st.composite
def _shared_examples(draw):
    x = draw(afs.sphere_points(n=afs.sizes(2, 6), d=afs.sizes(2, 4)))
    d = x.shape[1]
    H = draw(afs.sizes(1, 3))
    spec = st.lists(st.floats(-1.0, 1.0, allow_nan=False), min_size=d, max_size=d)
    M = np.array([draw(afs.symmetric_matrices(spec)) for _ in range(H)])
    return {"x": x, "M": M, "beta": draw(afs.betas(0.05, 4.0)), "T": draw(st.floats(0.5, 4.0, allow_nan=False))}


@claim(
    id="multihead.total.shared",
    title="shared normalisation, symmetric M_h: sum_h E_h non-decreasing, d/dt sum_h E_h = n sum_i |dx_i/dt|^2",
    source=SRC,
    latex=r"\dot x_i=P_{x_i}\tfrac1n\sum_h\sum_je^{\beta\langle x_i,M_hx_j\rangle}M_hx_j,\ M_h=M_h^\top\ \Rightarrow\ "
    r"\frac{d}{dt}\sum_hE_h=n\sum_i\|\dot x_i\|^2\ge0",
    hypotheses=_shared_examples(),
    expect="holds",
    tolerance="identity: |FD d/dt sum E_h - n sum |xdot|^2| <= 1e-9 relative + round-off floor (FD of accurate NumPy energy "
    "increments along the kernel field, as for energy.dissipation.*); monotonicity along RK4 + retraction with "
    "dt L <= 0.05, L = H e^{beta r}(1 + beta r), r = max |eig M_h|: E_{k+1} - E_k >= -64 (1 + |log E_k|) eps E_k "
    "(round-off only, the integrator error cannot flip the sign of dt n sum |xdot|^2)",
    measure="max |FD - D|/D",
    describe=lambda ex: _fmt_example(ex["x"], ex["M"], ex["beta"]),
)
def total_shared(ex):
    from attnflow.numerics import fields, simulate

    x, M, beta = ex["x"], ex["M"], ex["beta"]
    r = max(float(np.max(np.abs(np.linalg.eigvalsh(Mh)))) for Mh in M)
    with single_thread():
        xdot = fields.velocity(x, model="multihead", beta=beta, M=M, normalization="shared")
        D = fields.dissipation(x, model="multihead", beta=beta, M=M, normalization="shared")
        lip = M.shape[0] * math.exp(beta * r) * (1.0 + beta * r)
        t_final = ex["T"] * math.exp(-beta * r)
        dt = t_final / math.ceil(t_final * lip / 0.05)
        traj = simulate("multihead", x, beta=beta, t_final=t_final, dt=dt, M=M, normalization="shared")
    d_np = x.shape[0] * float(np.sum(xdot**2))
    fd = float(np.sum(_fd_rates(x, M, beta, xdot)))
    if d_np == 0.0:
        require(abs(fd) <= 1e-14 * _total_energy(x, M, beta), f"D = 0 but FD = {fd:.3g}")
        rel = 0.0
    else:
        rel = abs(fd - d_np) / d_np
        floor = diss_round_off(xdot, beta, _total_energy(x, M, beta), r)
        require(abs(fd - d_np) <= DISS_TOL * d_np + floor,
                f"FD d/dt sum E_h = {fd:.15g} vs n sum |xdot|^2 = {d_np:.15g} (rel {rel:.2e}, floor {floor / d_np:.1e})")
        require(abs(D - d_np) <= 1e-12 * d_np, f"kernel dissipation {D:.15g} vs n sum |xdot|^2 {d_np:.15g}")
    e = np.asarray(traj.energy, dtype=float)
    de = np.diff(e)
    slack = round_off_slack(e[:-1])
    k = int(np.argmin(de + slack))
    require(np.all(de >= -slack), f"sum E_h decreased by {-de[k]:.3e} at step {k} (dt = {dt:.3g})")
    return Measurement(value=rel, extra={"min (E_{k+1}-E_k)/E_k": float(np.min(de / e[:-1])),
                                         "steps": float(len(de))})


# ------------------------------------------------------------------------------ searches (fail)
@st.composite
def _search_examples(draw, batch, n_max=6, d_max=4):
    return {"n": draw(afs.sizes(2, n_max)), "d": draw(afs.sizes(2, d_max)), "H": draw(afs.sizes(2, 3)),
            "seed": draw(afs.seeds()), "batch": batch}


def _draw_batch(ex, per_config_matrices: bool):
    rng = np.random.default_rng(ex["seed"])
    B, n, d, H = ex["batch"], ex["n"], ex["d"], ex["H"]
    x = rng.standard_normal((B, n, d))
    x /= np.linalg.norm(x, axis=2, keepdims=True)
    beta = rng.uniform(0.1, 5.0, B)
    M = random_symmetric_heads(rng, (B, H) if per_config_matrices else (H,), d)
    if not per_config_matrices:
        M = np.broadcast_to(M, (B, H, d, d))
    return x, M, beta


def _confirm(x, M, beta, normalization, which):
    """Kernel field + FD of NumPy energies + short RK4: returns (fd rate, E(t) - E(0)) for `which` heads."""
    from attnflow.numerics import fields, simulate

    with single_thread():
        xdot = fields.velocity(x, model="multihead", beta=beta, M=M, normalization=normalization)
        fd = _fd_rates(x, M, beta, xdot)[which].sum()
        t_end = 1e-3 / max(1.0, float(np.max(np.linalg.norm(xdot, axis=1))))
        traj = simulate("multihead", x, beta=beta, t_final=t_end, dt=t_end / 4, M=M, normalization=normalization)
    de = sum(energy_increment(x, traj.states[-1] - x, beta, M[h]) for h in np.atleast_1d(np.arange(M.shape[0])[which]))
    return float(fd), float(de)


@claim(
    id="multihead.per_head",
    title="shared normalisation, symmetric M_h: each head energy E_h non-decreasing (negative control: fails)",
    source=SRC + " (radial shadow terms -<x_i,f_ih><x_i,f_ih'>)",
    latex=r"\dot x_i=P_{x_i}\tfrac1n\sum_h g_{ih}\ \Rightarrow\ \frac{d}{dt}E_h\ge0\ \text{for every }h"
    r"\quad(\text{expected false})",
    hypotheses=_search_examples(256),
    expect="fails",
    tolerance="a counterexample needs dE_h/dt < -1e-8 sum_h E_h (batched analytic rate over 256 configurations "
    "with beta ~ U[0.1, 5], spectra in [-1, 1]), confirmed by a 4th-order FD of the NumPy E_h along the kernel "
    "field (relative agreement 1e-6) and by E_h(t) < E_h(0) along a short RK4 run",
    measure="min over configurations of min_h (dE_h/dt)/sum E_h",
    aggregate="min",
    describe=lambda ex: f"n={ex['n']}, d={ex['d']}, H={ex['H']}, seed={ex['seed']}, batch={ex['batch']}",
)
def per_head(ex):
    x, M, beta = _draw_batch(ex, per_config_matrices=False)
    rates = head_energy_rates(x, M, beta, "shared")
    etot = _batch_total_energy(x, M, beta)
    rel = rates.min(axis=1) / etot
    b = int(np.argmin(rel))
    if rel[b] < -1e-8:
        xb, Mb, bb = x[b], np.array(M[b]), float(beta[b])
        h = int(np.argmin(rates[b]))
        fd, de = _confirm(xb, Mb, bb, "shared", h)
        if abs(fd - rates[b, h]) > 1e-6 * abs(rates[b, h]) or de >= 0:
            raise RuntimeError(f"rate {rates[b, h]:.6g} not confirmed: FD {fd:.6g}, E_h(t) - E_h(0) = {de:.3g}")
        frac = float(np.mean(rates.min(axis=1) < -1e-8 * etot))
        require(False, f"head {h}: dE_h/dt = {rates[b, h]:.6g} < 0 (FD {fd:.6g}, RK4 E_h(t)-E_h(0) = {de:.3g}) while "
                f"d/dt sum E_h = {rates[b].sum():.6g} >= 0; {_fmt_example(xb, Mb, bb)}; fraction of the batch "
                f"with some dE_h/dt < 0: {frac:.3f}")
    return Measurement(value=float(rel[b]))


@claim(
    id="multihead.total.per_head_softmax",
    title="per-head softmax, symmetric M_h: sum_h E_h non-decreasing (negative control: fails on rare draws)",
    source=SRC + " (seen decreasing in about 0.4% of random draws)",
    latex=r"\dot x_i=P_{x_i}\sum_h\frac{\sum_je^{\beta\langle x_i,M_hx_j\rangle}M_hx_j}{\sum_ke^{\beta\langle x_i,M_hx_k\rangle}}"
    r"\ \Rightarrow\ \frac{d}{dt}\sum_hE_h\ge0\quad(\text{expected false})",
    hypotheses=_search_examples(2000, n_max=4, d_max=3),
    expect="fails",
    tolerance="a counterexample needs d/dt sum_h E_h < -1e-8 sum_h E_h (batched analytic rate over 2000 "
    "configurations, each with its own M_h (spectra U[-1, 1]) and beta ~ U[0.1, 5]; n <= 4, d <= 3, where "
    "0.5-8% of draws decrease, so a batch finds one with probability > 0.9999; at n = 6, d = 4 only ~0.03% do); "
    "it is shrunk (tokens, heads dropped while the "
    "rate stays negative) and confirmed by a 4th-order FD of the NumPy energies along the kernel field "
    "(relative agreement 1e-6) and by sum E_h(t) < sum E_h(0) along a short RK4 run",
    measure="min over configurations of (d/dt sum E_h)/sum E_h",
    aggregate="min",
    describe=lambda ex: f"n={ex['n']}, d={ex['d']}, H={ex['H']}, seed={ex['seed']}, batch={ex['batch']}",
)
def total_per_head_softmax(ex):
    x, M, beta = _draw_batch(ex, per_config_matrices=True)
    rates = head_energy_rates(x, M, beta, "per_head").sum(axis=1)
    etot = _batch_total_energy(x, M, beta)
    rel = rates / etot
    neg = rel < -1e-8
    frac = float(np.mean(neg))
    if not np.any(neg):
        return Measurement(value=float(rel.min()), extra={"fraction of draws with decrease": frac})
    b = int(np.argmin(rel))

    def value(y, N, bb):
        return float(head_energy_rates(y, N, bb, "per_head").sum()) / _total_energy(y, N, bb) + 1e-8

    xb, Mb = shrink_counterexample(x[b], np.array(M[b]), float(beta[b]), value)
    bb = float(beta[b])
    rate = float(head_energy_rates(xb, Mb, bb, "per_head").sum())
    fd, de = _confirm(xb, Mb, bb, "per_head", slice(None))
    if abs(fd - rate) > 1e-6 * abs(rate) or de >= 0:
        raise RuntimeError(f"rate {rate:.6g} not confirmed: FD {fd:.6g}, sum E_h(t) - sum E_h(0) = {de:.3g}")
    require(False, f"d/dt sum E_h = {rate:.6g} < 0 (rel {rate / _total_energy(xb, Mb, bb):.3g}; FD {fd:.6g}; RK4 "
            f"sum E_h(t) - sum E_h(0) = {de:.3g}); shrunk: {_fmt_example(xb, Mb, bb)}; {int(neg.sum())} of "
            f"{neg.size} draws decreasing ({100 * frac:.2f}%)")
