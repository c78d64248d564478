r"""Multi-head helpers of the ``multihead.*`` checks (plain NumPy, independent of the kernels).

Head energies and their rates along the shared-normalisation and per-head-softmax fields (batched,
for the counterexample searches), random symmetric head matrices, greedy shrinking of a found
counterexample, and its independent confirmation: a finite difference of the NumPy energies along the
numba kernel field and a short RK4 run.

.. math:: \frac{dE_h}{dt}=\sum_i\langle g_{ih},\dot x_i\rangle,\qquad
          g_{ih}=\sum_j e^{\beta\langle x_i,M_hx_j\rangle}M_hx_j .

References
----------
arXiv:2605.04279 and arXiv:2605.18870 (multi-head; abstracts only); the forms are derived in
``derivations/energy.md`` (multihead.total.shared, multihead.per_head).
"""

from __future__ import annotations

import numpy as np

from attnflow.numerics import single_thread
from attnflow.properties.claims._energy import central_first, energy_increment, particle_energy, sphere_curve_delta

__all__ = [
    "head_energy_rates",
    "random_symmetric_heads",
    "shrink_counterexample",
    "total_energy",
    "batch_total_energy",
    "fd_rates",
    "draw_batch",
    "confirm",
]


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


def total_energy(x, M, beta):
    return sum(particle_energy(x, beta, Mh) for Mh in M)


def batch_total_energy(x, M, beta):
    """sum_h E_h for a batch (B, n, d), M (B, H, d, d), beta (B,) (beta r <= 5: no shift needed)."""
    s = beta[:, None, None, None] * np.einsum("bid,bhde,bje->bhij", x, M, x)
    return np.exp(s).sum(axis=(1, 2, 3)) / (2.0 * beta)


def fd_rates(x, M, beta, xdot):
    """4th-order FD of every E_h along normalise(x + h xdot) (accurate increments)."""
    speed = float(np.max(np.linalg.norm(xdot, axis=1)))
    norm = max(float(np.linalg.norm(Mh, 2)) for Mh in M)
    h = 1e-3 / max(1.0, speed * (1.0 + beta * norm))
    return np.array([central_first(lambda t, A=Mh: energy_increment(x, sphere_curve_delta(x, xdot, t), beta, A), h)
                     for Mh in M])


def draw_batch(ex, per_config_matrices: bool):
    rng = np.random.default_rng(ex["seed"])
    B, n, d, H = ex["batch"], ex["n"], ex["d"], ex["H"]
    x = rng.standard_normal((B, n, d))
    x /= np.linalg.norm(x, axis=2, keepdims=True)
    beta = rng.uniform(0.1, 5.0, B)
    M = random_symmetric_heads(rng, (B, H) if per_config_matrices else (H,), d)
    if not per_config_matrices:
        M = np.broadcast_to(M, (B, H, d, d))
    return x, M, beta


def confirm(x, M, beta, normalization, which):
    """Kernel field + FD of NumPy energies + short RK4: returns (fd rate, E(t) - E(0)) for `which` heads."""
    from attnflow.numerics import fields, simulate

    with single_thread():
        xdot = fields.velocity(x, model="multihead", beta=beta, M=M, normalization=normalization)
        fd = fd_rates(x, M, beta, xdot)[which].sum()
        t_end = 1e-3 / max(1.0, float(np.max(np.linalg.norm(xdot, axis=1))))
        traj = simulate("multihead", x, beta=beta, t_final=t_end, dt=t_end / 4, M=M, normalization=normalization)
    de = sum(energy_increment(x, traj.states[-1] - x, beta, M[h]) for h in np.atleast_1d(np.arange(M.shape[0])[which]))
    return float(fd), float(de)
