r"""The :class:`Trajectory` returned by :func:`attnflow.numerics.simulate`.

A trajectory holds the saved times and states of one run, the interaction energy along it (where the
model has one), the run's metadata, and helpers to read clustering off it:

- :meth:`Trajectory.cluster_count` — number of clusters of the final (or any saved) state, where two
  tokens are linked when :math:`1 - \langle u_i, u_j\rangle \le \mathrm{tol}` (single linkage);
- :meth:`Trajectory.time_to_cluster` — first saved time at which *all* pairs satisfy
  :math:`\langle u_i, u_j\rangle \ge 1 - \mathrm{tol}` (one cluster);
- batches of independent systems (``states`` of shape ``(k, B, n, d)``, or ``(k, B, n)`` for angles):
  both give one value per system (never clustered: NaN), :meth:`Trajectory.system` extracts one;
- :meth:`Trajectory.save_npz` / :meth:`Trajectory.load_npz` — atomic, pickle-free ``.npz`` files;
- :meth:`Trajectory.to_xarray` / :meth:`Trajectory.from_xarray`, :meth:`Trajectory.to_netcdf`,
  :meth:`Trajectory.to_zarr` — labelled data (dims ``time x token x coordinate``, batches
  ``time x system x token x coordinate``, angles without ``coordinate``; needs the ``sweep`` extra).

Every file records the model, method, step or tolerance, seed (when the run drew random matrices)
and the versions of attnflow and its dependencies (``versions``, as in the sweep store).

Here :math:`u_i` is the unit direction of token i: :math:`x_i` on the sphere,
:math:`(\cos\theta_i, \sin\theta_i)` for angles (so :math:`1-\langle u_i,u_j\rangle = 1-\cos(\theta_i-\theta_j)`),
and :math:`x_i/|x_i|` for the euclidean Pre-LN / Peri-LN state :math:`x_i = r_i\theta_i`.
"""

from __future__ import annotations

import html
import json
import math
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from attnflow._base.io import atomic_path, check_output_path
from attnflow._base.versions import versions as _versions

__all__ = ["Trajectory", "unit_directions", "cluster_labels", "min_pairwise_inner"]

_FORMAT = "attnflow-trajectory-1"  # the same tag as numerics._labelled.FORMAT


def unit_directions(x: np.ndarray, manifold: str) -> np.ndarray:
    r"""Unit directions :math:`u_i` of the tokens of one state (shape ``(n, k)``; batch ``(P, N, 2)`` for angles).

    .. math::

        u_i = x_i\ (\text{sphere}),\qquad u_i = (\cos\theta_i, \sin\theta_i)\ (\text{angles}),\qquad
        u_i = x_i/|x_i|\ (\text{euclidean } x_i = r_i\theta_i).

    References
    ----------
    arXiv:2512.01868 (circle embedding, Kuramoto form); arXiv:2510.22026 (x = r θ).
    """
    x = np.asarray(x, dtype=np.float64)
    if manifold == "angles":
        return np.stack([np.cos(x), np.sin(x)], axis=-1)
    if manifold == "sphere":
        return x
    if manifold == "euclidean":
        if x.ndim == 1:
            x = x[:, None]
        return x / np.linalg.norm(x, axis=-1, keepdims=True)
    raise ValueError(f"manifold: unknown manifold {manifold!r}; use sphere, angles or euclidean")


def _check_tol(tol: float) -> float:
    tol = float(tol)
    if not math.isfinite(tol) or not 0 < tol < 2:
        raise ValueError(f"tol: must lie in (0, 2) (a threshold on 1 - <u_i, u_j>), got {tol}")
    return tol


def cluster_labels(u: np.ndarray, tol: float = 1e-3, block: int = 1024) -> np.ndarray:
    r"""Single-linkage cluster labels of unit vectors ``u`` (n, k).

    Tokens i, j are linked when

    .. math::

        1 - \langle u_i, u_j\rangle \le \mathrm{tol}\quad(\Leftrightarrow |u_i - u_j|^2 \le 2\,\mathrm{tol}),

    and clusters are the connected components of that graph (computed in row blocks: no n×n array
    for n > ``block``).

    Returns
    -------
    ndarray of int, shape (n,)
        Labels 0..K-1 in order of first appearance.

    References
    ----------
    arXiv:2512.01868 (the ⟨x_i, x_j⟩ ≥ 0.999 clustering criterion).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    tol = _check_tol(tol)
    n = u.shape[0]
    rows, cols = [], []
    for s in range(0, n, block):
        g = u[s : s + block] @ u.T
        i, j = np.nonzero(g >= 1.0 - tol)
        rows.append(i + s)
        cols.append(j)
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=False)
    # relabel in order of first appearance (deterministic, independent of scipy's numbering)
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first)
    remap = np.empty_like(order)
    remap[order] = np.arange(len(order))
    return remap[labels]


def min_pairwise_inner(u: np.ndarray, block: int = 1024) -> float:
    r""":math:`\min_{i,j}\langle u_i, u_j\rangle` for unit vectors ``u`` (n, k), computed in row blocks.

    .. math::

        m(u) = \min_{i,j} \langle u_i, u_j\rangle,\qquad \text{one cluster at tol} \iff m(u) \ge 1 - \mathrm{tol}.

    References
    ----------
    arXiv:2512.01868 (the ⟨x_i, x_j⟩ ≥ 0.999 clustering criterion).
    """
    n = u.shape[0]
    return float(min(np.min(u[s : s + block] @ u.T) for s in range(0, n, block)))


def _min_inner_per_system(u: np.ndarray, entries: int = 2**22) -> np.ndarray:
    r""":math:`\min_{i,j}\langle u_i, u_j\rangle` of every system of ``u`` (B, n, k), in chunks of systems
    holding at most ``entries`` inner products (large systems: row blocks of :func:`min_pairwise_inner`)."""
    B, n = u.shape[:2]
    if n * n > entries:
        return np.array([min_pairwise_inner(ub) for ub in u])
    step = max(1, entries // (n * n))
    return np.concatenate([np.einsum("bik,bjk->bij", u[a:a + step], u[a:a + step]).min(axis=(1, 2))
                           for a in range(0, B, step)])


@dataclass
class Trajectory:
    r"""Saved states of one simulation run.

    Attributes
    ----------
    times : ndarray (k,)
        Saved times; ``times[0]`` is the start, ``times[-1]`` the final time.
    states : ndarray (k, *x0.shape)
        Saved states; ``states[-1]`` is the final state.  For a batch of B independent systems
        ``(k, B, n, d)`` (sphere, Euclidean) or ``(k, B, n)`` (angles; ``causal_alibi``'s prompts).
    energy : ndarray (k,) or (k, B), or None
        Interaction energy of each saved state (``attnflow.numerics.energy``), None when the model
        has none or it was not asked for (``energy_note`` says which).
    model, beta, params, method, manifold
        What was integrated and how.
    nfev, steps, rejected : int
        Field evaluations, accepted steps, rejected steps (adaptive only).
    dt, rtol : float or None
        Step or tolerance of the run (``method="authors"``: the step actually taken, ``dt`` divided
        by the scripts' factor for the unnormalised models, see
        :func:`attnflow.numerics.simulate.authors_step_scale`).
    wall_time : float
        Seconds spent integrating.
    energy_note : str
        Why ``energy`` is None (no energy, or its hypotheses fail), else empty.

    References
    ----------
    derivations/energy.md (the energies recorded along a trajectory).
    """

    times: np.ndarray
    states: np.ndarray
    energy: np.ndarray | None
    model: str
    beta: float
    params: dict[str, Any] = field(default_factory=dict)
    method: str = ""
    manifold: str = "sphere"
    nfev: int = 0
    steps: int = 0
    rejected: int = 0
    dt: float | None = None
    rtol: float | None = None
    wall_time: float = 0.0
    energy_note: str = ""

    def __post_init__(self):
        self.times = np.asarray(self.times, dtype=np.float64)
        self.states = np.asarray(self.states, dtype=np.float64)
        if self.times.ndim != 1 or self.states.shape[:1] != self.times.shape:
            raise ValueError(
                f"states: need one saved state per time, got times {self.times.shape} and states {self.states.shape}"
            )
        if self.energy is not None:
            self.energy = np.asarray(self.energy, dtype=np.float64)
            want = self.times.shape + ((self.states.shape[1],) if self.batched else ())
            if self.energy.shape != want:
                raise ValueError(f"energy: shape {self.energy.shape} does not match times {self.times.shape}"
                                 + (f" and {self.states.shape[1]} systems" if self.batched else ""))

    def _summary(self) -> list[tuple[str, str]]:
        e = "" if self.energy is None or not len(self.energy) else f"{self.energy[0]:.6g} -> {self.energy[-1]:.6g}"
        return [("model", f"{self.model!r}, beta={self.beta:g}"), ("states", f"{len(self)} x {self.states.shape[1:]}"),
                ("t", f"{self.times[0]:g} .. {self.times[-1]:g}" if len(self) else "-"),
                ("method", f"{self.method!r}, {self.steps} steps, {self.nfev} evaluations"),
                ("energy", e or self.energy_note or "none")]

    def __repr__(self) -> str:
        return "Trajectory(" + ", ".join(f"{k}: {v}" for k, v in self._summary()) + ")"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>{html.escape(v)}</td></tr>"
                       for k, v in self._summary())
        return f"<table><caption>Trajectory</caption>{rows}</table>"

    # ------------------------------------------------------------------ views
    @property
    def final(self) -> np.ndarray:
        """The final state ``states[-1]`` (at ``times[-1]``)."""
        return self.states[-1]

    @property
    def batched(self) -> bool:
        """True for a batch of independent systems: states ``(k, B, n, d)``, or ``(k, P, N)`` angles."""
        return self.states.ndim == (3 if self.manifold == "angles" else 4)

    @property
    def n_systems(self) -> int:
        """B, the number of independent systems (1 for a single system)."""
        return int(self.states.shape[1]) if self.batched else 1

    def system(self, b: int) -> "Trajectory":
        """System ``b`` of a batch as a one-system :class:`Trajectory` (same times and metadata)."""
        if not self.batched:
            raise ValueError("b: this trajectory holds one system; index states directly")
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or not -self.n_systems <= b < self.n_systems:
            raise ValueError(f"b: must be an integer in [0, {self.n_systems}), got {b!r}")
        return Trajectory(
            times=self.times, states=self.states[:, b], energy=None if self.energy is None else self.energy[:, b],
            model=self.model, beta=self.beta, params=dict(self.params), method=self.method, manifold=self.manifold,
            nfev=self.nfev, steps=self.steps, rejected=self.rejected, dt=self.dt, rtol=self.rtol,
            wall_time=self.wall_time, energy_note=self.energy_note)

    def __len__(self) -> int:
        return len(self.times)

    def _state(self, index: int) -> np.ndarray:
        return self.states[index]

    # ------------------------------------------------------------- clustering
    def cluster_count(self, tol: float = 1e-3, *, index: int = -1):
        r"""Number of clusters in the saved state ``index`` (default: the final state).

        Tokens i, j are in the same cluster when they are joined by a chain of pairs with

        .. math::

            1 - \langle u_i, u_j\rangle \le \mathrm{tol}

        (single linkage on the unit directions :math:`u_i`, see :func:`unit_directions`).

        Parameters
        ----------
        tol : float
            Threshold in (0, 2); 1e-3 matches the ⟨x_i, x_j⟩ ≥ 0.999 criterion of 2512.01868.
        index : int
            Which saved state.

        Returns
        -------
        int, or ndarray of int (B,) for a batch of systems.

        References
        ----------
        arXiv:2512.01868 (the ⟨x_i, x_j⟩ ≥ 0.999 clustering criterion).
        """
        u = unit_directions(self._state(index), self.manifold)
        if u.ndim == 3:
            return np.array([int(cluster_labels(ui, tol).max()) + 1 for ui in u])
        return int(cluster_labels(u, tol).max()) + 1

    def time_to_cluster(self, tol: float = 1e-3):
        r"""First saved time at which all tokens form one cluster:

        .. math::

            t^* = \min\{t_k :\ \langle u_i(t_k), u_j(t_k)\rangle \ge 1 - \mathrm{tol}\ \ \forall i, j\}.

        Resolution is the saving grid (``save_every`` or ``t_eval``). "Never within the run" is NaN
        everywhere: for one system a float (NaN if never), for a batch an array (B,) with NaN for
        the systems that never form one cluster (the same convention as
        :func:`attnflow.numerics.observables.time_to_cluster` and the sweeps).

        References
        ----------
        arXiv:2512.01868 (the P(⟨x_i,x_j⟩ ≥ 0.999) phase diagram); arXiv:2312.10794 (high dimension).
        """
        tol = _check_tol(tol)
        if self.batched:
            out = np.full(self.states.shape[1], np.nan)
            todo = np.arange(self.states.shape[1])
            for k, t in enumerate(self.times):
                if todo.size == 0:
                    break
                u = unit_directions(self.states[k, todo], self.manifold)
                done = _min_inner_per_system(u) >= 1 - tol
                out[todo[done]] = t
                todo = todo[~done]
            return out
        for k, t in enumerate(self.times):
            if min_pairwise_inner(unit_directions(self.states[k], self.manifold)) >= 1 - tol:
                return float(t)
        return float("nan")

    # --------------------------------------------------------- labelled data
    def to_xarray(self):
        """The trajectory as an ``xarray.Dataset`` (needs the ``sweep`` extra: ``pip install 'attnflow[sweep]'``).

        Data variables: ``states`` with dims ``(time, token, coordinate)`` -- for a batch
        ``(time, system, token, coordinate)``, for circle models (angles) without ``coordinate`` --,
        ``energy`` (``(time,)`` / ``(time, system)``) when recorded, and ``param__<name>`` for each
        array parameter (``Q``, ``K``, ``V``, ``M``, ...).  Attributes: ``model``, ``beta``, ``method``,
        ``manifold``, ``dt`` / ``rtol`` (when set), ``seed`` (when known), ``param__<name>`` for scalar
        parameters, the run counters, ``trajectory_format`` and ``versions`` (JSON: Python, attnflow,
        numpy, numba, scipy, sympy, ...; the attribute of the sweep store).

        Returns
        -------
        xarray.Dataset
        """
        from attnflow.numerics._labelled import to_dataset

        return to_dataset(self)

    @classmethod
    def from_xarray(cls, ds) -> "Trajectory":
        """Rebuild a trajectory from :meth:`to_xarray`'s dataset (e.g. ``xarray.open_dataset(path)``)."""
        from attnflow.numerics._labelled import from_dataset

        return from_dataset(ds, cls)

    def to_netcdf(self, path, *, force: bool = False) -> Path:
        """Write :meth:`to_xarray` to ``path`` as netCDF3 (xarray's scipy engine), atomically.

        An existing ``path`` is refused (``FileExistsError``) unless ``force=True``.  Read it back with
        ``Trajectory.from_xarray(xarray.open_dataset(path))``.
        """
        from attnflow.numerics._labelled import write_netcdf

        return write_netcdf(self, path, force=force)

    def to_zarr(self, path, *, force: bool = False) -> Path:
        """Write :meth:`to_xarray` to the zarr store ``path`` (built aside, renamed into place).

        An existing store is replaced only with ``force=True``; a folder that is not a zarr store is
        never replaced.  Read it back with ``Trajectory.from_xarray(xarray.open_zarr(path))``.
        """
        from attnflow.numerics._labelled import write_zarr

        return write_zarr(self, path, force=force)

    # -------------------------------------------------------------------- I/O
    def save_npz(self, path, *, force: bool = False) -> Path:
        """Write the trajectory to ``path`` as a pickle-free ``.npz``, atomically.

        The file is written to a temporary file in the same folder and moved into place, so a reader
        never sees a partial file. An existing ``path`` is refused (``FileExistsError``) unless
        ``force=True``. Parameters are stored as plain arrays (``param__<name>``); ``None``-valued
        parameters are dropped.  The file also records ``versions`` (JSON text of the versions of
        Python, attnflow, numpy, numba, scipy, sympy, ...) and the seed when the run drew its random
        matrices from one (``param__seed``; :meth:`load_npz` returns it in ``params["seed"]``).

        Returns
        -------
        pathlib.Path
            The path written.
        """
        path = check_output_path(path, option="path", force=force)
        arrays: dict[str, np.ndarray] = {
            "format": np.array(_FORMAT),
            "times": self.times,
            "states": self.states,
            "model": np.array(self.model),
            "beta": np.array(float(self.beta)),
            "method": np.array(self.method),
            "manifold": np.array(self.manifold),
            "nfev": np.array(int(self.nfev)),
            "steps": np.array(int(self.steps)),
            "rejected": np.array(int(self.rejected)),
            "dt": np.array(np.nan if self.dt is None else float(self.dt)),
            "rtol": np.array(np.nan if self.rtol is None else float(self.rtol)),
            "wall_time": np.array(float(self.wall_time)),
            "energy_note": np.array(self.energy_note),
            "versions": np.array(json.dumps(_versions(), sort_keys=True)),
        }
        if self.energy is not None:
            arrays["energy"] = self.energy
        for name, value in sorted(self.params.items()):
            if value is None:
                continue
            arr = np.asarray(value)
            if arr.dtype == object:
                raise ValueError(f"params: {name!r} is not storable as a plain array")
            arrays[f"param__{name}"] = arr
        # without force the final move is a no-clobber link: fails if path appeared meanwhile
        with atomic_path(path, force=force) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        return path

    @classmethod
    def load_npz(cls, path) -> "Trajectory":
        """Read a file written by :meth:`save_npz` (``np.load(..., allow_pickle=False)``)."""
        path = Path(path)
        try:
            return cls._load_npz(path)
        except (OSError, EOFError, KeyError, IndexError, TypeError, zipfile.BadZipFile) as exc:
            raise ValueError(f"path: {path} cannot be read as an attnflow trajectory file "
                             f"({type(exc).__name__}: {exc})") from None
        except ValueError as exc:
            if str(exc).startswith("path:"):
                raise
            raise ValueError(f"path: {path} is not an attnflow trajectory file ({exc})") from None

    @classmethod
    def _load_npz(cls, path: Path) -> "Trajectory":
        with np.load(path, allow_pickle=False) as z:
            if "format" not in z.files or str(z["format"]) != _FORMAT:
                raise ValueError(f"path: {path} is not an attnflow trajectory file")
            missing = [k for k in ("times", "states", "model", "beta", "method", "manifold", "nfev", "steps",
                                   "rejected", "dt", "rtol", "wall_time") if k not in z.files]
            if missing:
                raise ValueError(f"path: {path} is an incomplete trajectory file (missing {', '.join(missing)})")

            def scalar(key):
                return z[key].item()

            params = {}
            for key in z.files:
                if key.startswith("param__"):
                    arr = z[key]
                    params[key[len("param__") :]] = arr.item() if arr.ndim == 0 else arr
            dt, rtol = scalar("dt"), scalar("rtol")
            return cls(
                times=z["times"],
                states=z["states"],
                energy=z["energy"] if "energy" in z.files else None,
                model=str(z["model"]),
                beta=scalar("beta"),
                params=params,
                method=str(z["method"]),
                manifold=str(z["manifold"]),
                nfev=int(scalar("nfev")),
                steps=int(scalar("steps")),
                rejected=int(scalar("rejected")),
                dt=None if math.isnan(dt) else dt,
                rtol=None if math.isnan(rtol) else rtol,
                wall_time=scalar("wall_time"),
                energy_note=str(z["energy_note"]) if "energy_note" in z.files else "",
            )
