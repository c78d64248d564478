r"""The sweep specification: a ``[sweep]`` TOML table (or the same dict), validated up front.

A key given a scalar is fixed; a key given a list (or a range table) is a **dimension** of the
result, in the order the keys appear in the spec. ``seeds`` is always a dimension (``seed``), and
the saved times ``t`` are always the last one. Every error is one line naming the key
(``sweep.beta.num: ...``) and is raised before anything is computed. The text is read with
``tomllib`` only; nothing in it is ever evaluated.
"""

from __future__ import annotations

import itertools
import json
import math
import numbers
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SweepSpec", "load_spec", "OBSERVABLES", "KEYS", "FORMAT"]

#: Store format tag written into the store's attributes.
FORMAT = "attnflow-sweep-1"

#: Observables a sweep can record: name -> (has a time axis, one-line description).
OBSERVABLES: dict[str, tuple[bool, str]] = {
    "pair_fraction": (True, "fraction of pairs i < j with <x_i, x_j> >= 1 - delta"),
    "gram_mean": (True, "mean of <x_i, x_j> over pairs i < j"),
    "gram_min": (True, "min of <x_i, x_j> over pairs i < j"),
    "cluster_count": (True, "clusters under single linkage at <x_i, x_j> >= 1 - delta"),
    "cluster_rank": (True, "rank of the Gram matrix thresholded at > 1 - rank_eps (the authors' count)"),
    "time_to_cluster": (False, "first saved time with all pairs >= 1 - delta (NaN: never)"),
    "energy": (True, "interaction energy of the model"),
    "order_parameter": (True, "|1/n sum_j exp(i theta_j)| (circle models)"),
}

#: Keys of the ``[sweep]`` table and what they take.
KEYS: dict[str, str] = {
    "model": "model name or list of names",
    "n": "number of tokens (int >= 2) or list",
    "d": "dimension (int >= 2) or list; not for circle models",
    "beta": "number, list, or {start, stop, num}",
    "params": "table of model parameters: name = value or list",
    "seeds": "number of seeds N (seeds 0..N-1) or a list of seeds",
    "seed_block": "seeds per chunk (default min(16, number of seeds))",
    "t": "saved times: {stop, num[, start]} (linspace) or a list",
    "dt": "fixed step > 0; every saved time is a multiple of it",
    "method": "fixed-step scheme or list: rk4 (default), euler, lie_euler, authors",
    "observables": "list of observables",
    "delta": "clustering threshold on 1 - <x_i, x_j> (default 1e-3)",
    "rank_eps": "threshold of cluster_rank (default 1e-4)",
    "start": "initial state: random (iid uniform on the sphere / circle)",
}

_FIXED_METHODS = ("rk4", "euler", "lie_euler", "authors")
_RESERVED_DIMS = ("model", "n", "d", "beta", "seed", "t", "seed_block", "method")
#: Most steps one system of a chunk may take (the authors' scheme divides the step of usa by
#: sqrt(beta) e^{beta - 1/2}; beyond this a sweep would not finish on any machine).
_MAX_STEPS = 5_000_000
#: Relative slack for "t is a multiple of dt" (the integrators' own grid slack is 1e-9 of a step).
_GRID_SLACK = 1e-9


def _err(key: str, msg: str) -> ValueError:
    return ValueError(f"sweep.{key}: {msg}")


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _int(key: str, v, minimum: int) -> int:
    if not _is_int(v):
        raise _err(key, f"must be an integer >= {minimum}, got {v!r}")
    if v < minimum:
        raise _err(key, f"must be an integer >= {minimum}, got {v}")
    return int(v)


def _real(key: str, v, *, positive: bool = False, lo: float | None = None, hi: float | None = None) -> float:
    if not _is_real(v):
        raise _err(key, f"must be a number, got {v!r}")
    x = float(v)
    if not math.isfinite(x):
        raise _err(key, f"must be finite, got {v!r}")
    if positive and x <= 0:
        raise _err(key, f"must be > 0, got {v!r}")
    if lo is not None and hi is not None and not lo < x < hi:
        raise _err(key, f"must lie in ({lo:g}, {hi:g}), got {v!r}")
    return x


def _list(key: str, v) -> list | None:
    """``v`` as a non-empty list, None for a scalar."""
    if isinstance(v, (list, tuple)):
        if len(v) == 0:
            raise _err(key, "empty list: the grid would have no points; give at least one value")
        return list(v)
    return None


def _linspace(key: str, table: Mapping, *, default_start: float | None = None) -> list[float]:
    allowed = {"start", "stop", "num"}
    for k in table:
        if k not in allowed:
            raise _err(f"{key}.{k}", f"unknown key; a range takes {', '.join(sorted(allowed))}")
    if "start" not in table and default_start is None:
        raise _err(f"{key}.start", "missing; a range needs start, stop and num")
    for k in ("stop", "num"):
        if k not in table:
            raise _err(f"{key}.{k}", "missing; a range needs start, stop and num")
    start = _real(f"{key}.start", table.get("start", default_start))
    stop = _real(f"{key}.stop", table["stop"])
    num = _int(f"{key}.num", table["num"], 1)
    return [float(v) for v in np.linspace(start, stop, num)]


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: the grid, the saved times and how to integrate and observe.

    Attributes
    ----------
    dims : tuple of (name, values)
        The grid dimensions in spec order (``seed`` among them; ``t`` is not).
    fixed : dict
        The single-valued keys (``model``, ``n``, ``d``, ``beta``, model parameters).
    times : tuple of float
        Saved times (dimension ``t``, last).
    """

    dims: tuple[tuple[str, tuple], ...]
    fixed: dict[str, Any]
    param_names: tuple[str, ...]
    times: tuple[float, ...]
    dt: float
    method: str | None  # None when ``method`` is a dimension (a list in the spec)
    observables: tuple[str, ...]
    delta: float
    rank_eps: float
    seed_block: int
    start: str
    source: dict = field(default_factory=dict, compare=False)

    # ------------------------------------------------------------------ views
    @property
    def dim_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.dims)

    @property
    def seeds(self) -> tuple[int, ...]:
        return dict(self.dims)["seed"]

    @property
    def cell_dims(self) -> tuple[tuple[str, tuple], ...]:
        """The grid dimensions without ``seed`` (one chunk per cell and seed block)."""
        return tuple((name, vals) for name, vals in self.dims if name != "seed")

    @property
    def seed_blocks(self) -> list[tuple[int, int]]:
        """``(start, stop)`` index ranges of the seed blocks along ``seed``."""
        s = len(self.seeds)
        return [(a, min(a + self.seed_block, s)) for a in range(0, s, self.seed_block)]

    def cells(self) -> Iterator[tuple[tuple[int, ...], dict[str, Any]]]:
        """``(indices along cell_dims, values of every key)`` for each grid cell."""
        cd = self.cell_dims
        for idx in itertools.product(*(range(len(v)) for _, v in cd)):
            values = dict(self.fixed)
            for (name, vals), i in zip(cd, idx):
                values[name] = vals[i]
            yield idx, values

    @property
    def n_chunks(self) -> int:
        return math.prod(len(v) for _, v in self.cell_dims) * len(self.seed_blocks)

    def canonical(self) -> dict:
        """The JSON-able normal form compared on resume (two specs describing the same grid agree)."""
        return {
            "format": FORMAT,
            "dims": [[name, list(vals)] for name, vals in self.dims],
            "fixed": dict(self.fixed),
            "params": list(self.param_names),
            "t": list(self.times),
            "dt": self.dt,
            "method": self.method,
            "observables": list(self.observables),
            "delta": self.delta,
            "rank_eps": self.rank_eps,
            "seed_block": self.seed_block,
            "start": self.start,
        }

    def canonical_json(self) -> str:
        return json.dumps(self.canonical(), sort_keys=True)


# ---------------------------------------------------------------------- loading
def _read(spec) -> dict:
    if isinstance(spec, Mapping):
        raw = dict(spec)
    elif isinstance(spec, (str, Path)):
        path = Path(spec)
        if not path.is_file():
            raise ValueError(f"spec: file {path} not found (give a TOML file with a [sweep] table)")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"spec: {path} is not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise ValueError(f"spec: {path} is not UTF-8 text") from None
    else:
        raise ValueError(f"spec: expected a dict or the path of a TOML file, got {type(spec).__name__}")
    if "sweep" in raw:
        extra = [k for k in raw if k != "sweep"]
        if extra:
            raise ValueError(f"{extra[0]}: unknown table; a spec has one [sweep] table")
        table = raw["sweep"]
        if not isinstance(table, Mapping):
            raise ValueError("sweep: must be a table of keys")
        return dict(table)
    return raw


def load_spec(spec) -> SweepSpec:
    """Validate a sweep spec (dict, ``SweepSpec`` or TOML path) into a :class:`SweepSpec`.

    Raises
    ------
    ValueError
        One line naming the key: unknown keys, models, parameters or observables, empty grids,
        negative or zero sizes, a horizon shorter than one step, saved times off the step grid,
        parameter values the model rejects.
    """
    if isinstance(spec, SweepSpec):
        return spec
    raw = _read(spec)
    for key in raw:
        if key not in KEYS:
            raise ValueError(f"sweep.{key}: unknown key; known keys: {', '.join(KEYS)}")
    for key in ("model", "n", "seeds", "t", "dt", "observables"):
        if key not in raw:
            raise _err(key, f"missing; give {KEYS[key]}")

    from attnflow.numerics.fields import MODELS

    dims: list[tuple[str, tuple]] = []
    fixed: dict[str, Any] = {}

    def put(name: str, values: list | None, scalar=None, key: str | None = None):
        if values is None:
            fixed[name] = scalar
        else:
            if len(set(map(repr, values))) != len(values):
                raise _err(key or name, "repeated values; each grid value must appear once")
            dims.append((name, tuple(values)))

    # --- models first: d and params depend on them
    mv = raw["model"]
    models = _list("model", mv) or [mv]
    for m in models:
        if not isinstance(m, str):
            raise _err("model", f"must be a model name, got {m!r}")
        if m not in MODELS:
            raise _err("model", f"unknown model {m!r}; known: {', '.join(MODELS)}")
        spec_m = MODELS[m]
        if spec_m.required:
            raise _err("model", f"{m!r} needs matrix parameters ({', '.join(spec_m.required)}), which sweeps do not draw; "
                                "sweep a model without required matrices")
    manifolds = {MODELS[m].manifold for m in models}
    if "angles" in manifolds and len(manifolds) > 1:
        raise _err("model", "mixes circle models (angles) with sphere/euclidean models; sweep them separately")
    circle = manifolds == {"angles"}

    params_raw = raw.get("params", {})
    if not isinstance(params_raw, Mapping):
        raise _err("params", "must be a table: [sweep.params] name = value or list")
    for name in params_raw:
        if name in _RESERVED_DIMS:
            raise _err(f"params.{name}", f"a model parameter may not be called {name!r} (a reserved dimension name)")
        for m in models:
            if name not in MODELS[m].param_names:
                known = ", ".join(MODELS[m].param_names) or "none"
                raise _err(f"params.{name}", f"unknown parameter of model {m!r} (its parameters: {known})")

    method_raw = raw.get("method", "rk4")
    method_list = _list("method", method_raw)
    for m in method_list or [method_raw]:
        if m not in _FIXED_METHODS:
            raise _err("method", f"unknown or unsupported scheme {m!r}; use one of {', '.join(_FIXED_METHODS)} "
                                 "(fixed steps land exactly on the saved times)")
        if m in ("lie_euler", "authors") and circle:
            raise _err("method", f"{m} is a sphere scheme; use rk4 or euler for circle models")
    method = None if method_list is not None else method_raw

    for key in raw:
        value = raw[key]
        if key == "model":
            put("model", _list("model", value), models[0])
        elif key == "n":
            vals = _list("n", value)
            conv = [_int("n", v, 2) for v in (vals or [value])]
            put("n", conv if vals is not None else None, conv[0])
        elif key == "d":
            if circle:
                raise _err("d", "circle models take angles (no dimension); drop d")
            vals = _list("d", value)
            conv = [_int("d", v, 2) for v in (vals or [value])]
            put("d", conv if vals is not None else None, conv[0])
        elif key == "beta":
            if isinstance(value, Mapping):
                put("beta", _linspace("beta", value))
            else:
                vals = _list("beta", value)
                conv = [_real("beta", v) for v in (vals or [value])]
                put("beta", conv if vals is not None else None, conv[0])
        elif key == "params":
            for name, pv in params_raw.items():
                vals = _list(f"params.{name}", pv)
                conv = []
                for v in vals or [pv]:
                    if isinstance(v, str):
                        conv.append(v)
                    elif _is_real(v):
                        conv.append(_real(f"params.{name}", v))
                    else:
                        raise _err(f"params.{name}", f"must be a number or a word, got {v!r}")
                put(name, conv if vals is not None else None, conv[0], key=f"params.{name}")
        elif key == "method" and method_list is not None:
            put("method", method_list)
        elif key == "seeds":
            if _is_int(value):
                seeds = list(range(_int("seeds", value, 1)))
            else:
                vals = _list("seeds", value)
                if vals is None:
                    raise _err("seeds", f"must be a count N >= 1 (seeds 0..N-1) or a list of seeds, got {value!r}")
                seeds = [_int("seeds", v, 0) for v in vals]
            put("seed", seeds, key="seeds")
    if "d" not in raw and not circle:
        raise _err("d", "missing; sphere and euclidean models need the dimension d (int >= 2 or a list)")
    if "beta" not in raw:
        raise _err("beta", f"missing; give {KEYS['beta']}")

    dt = _real("dt", raw["dt"], positive=True)
    tv = raw["t"]
    if isinstance(tv, Mapping):
        times = _linspace("t", tv, default_start=0.0)
        tkey = "t.stop"
    else:
        vals = _list("t", tv)
        if vals is None:
            raise _err("t", "must be {stop, num[, start]} or a list of saved times")
        times = [_real("t", v) for v in vals]
        tkey = "t"
    if any(t < 0 for t in times):
        raise _err(tkey if tkey == "t" else "t.start", f"saved times must be >= 0, got {min(times)}")
    if any(b <= a for a, b in zip(times, times[1:])):
        raise _err("t", "saved times must be strictly increasing (and num = 1 for a single time)")
    if times[-1] < dt * (1 - _GRID_SLACK):
        raise _err(tkey, f"horizon {times[-1]:g} is shorter than one step dt = {dt:g}")
    for t in times:
        k = t / dt
        if abs(k - round(k)) > _GRID_SLACK * max(1.0, k):
            raise _err("t", f"saved time {t:g} is not a multiple of dt = {dt:g} (t / dt = {k:.12g}); "
                            "choose dt dividing every saved time")


    obs = raw["observables"]
    obs_list = _list("observables", obs)
    if obs_list is None:
        raise _err("observables", f"must be a list of names from {', '.join(OBSERVABLES)}")
    for o in obs_list:
        if o not in OBSERVABLES:
            raise _err("observables", f"unknown observable {o!r}; known: {', '.join(OBSERVABLES)}")
    if len(set(obs_list)) != len(obs_list):
        raise _err("observables", "repeated observable")
    if "order_parameter" in obs_list and not circle:
        raise _err("observables", "order_parameter is defined for circle models (angles) only")
    if "energy" in obs_list:
        for m in models:
            if not MODELS[m].has_energy:
                raise _err("observables", f"energy: model {m!r} has no interaction energy")

    delta = _real("delta", raw.get("delta", 1e-3), lo=0.0, hi=2.0)
    rank_eps = _real("rank_eps", raw.get("rank_eps", 1e-4), lo=0.0, hi=2.0)
    start = raw.get("start", "random")
    if start != "random":
        raise _err("start", f"unknown start {start!r}; sweeps start from iid uniform tokens: start = \"random\"")
    n_seeds = len(dict(dims)["seed"])
    seed_block = _int("seed_block", raw["seed_block"], 1) if "seed_block" in raw else min(16, n_seeds)

    out = SweepSpec(
        dims=tuple(dims), fixed=fixed, param_names=tuple(params_raw), times=tuple(times), dt=dt, method=method,
        observables=tuple(obs_list), delta=delta, rank_eps=rank_eps, seed_block=seed_block, start=start,
        source=json.loads(json.dumps(raw, default=str)),
    )
    _preflight(out)
    return out


def _preflight(spec: SweepSpec) -> None:
    """Evaluate each (model, parameters, beta) once on a tiny state: the model's own validation
    (parameter ranges, choices, energy hypotheses) reports here, before any run, naming the key."""
    from attnflow.numerics import fields

    names = ["model", "beta", *spec.param_names]
    seen = set()
    for _, cell in spec.cells():
        combo = tuple(cell[k] for k in names)
        if combo in seen:
            continue
        seen.add(combo)
        model, beta = cell["model"], cell["beta"]
        params = {k: cell[k] for k in spec.param_names}
        manifold = fields.MODELS[model].manifold
        x = np.array([0.0, 1.0, 2.0]) if manifold == "angles" else np.eye(3)[:, :3]
        try:
            fields.velocity(x, model=model, beta=beta, **params)
        except ValueError as exc:
            key = str(exc).split(":", 1)[0]
            where = f"params.{key}" if key in spec.param_names else ("beta" if key == "beta" else "model")
            raise _err(where, f"model {model!r} rejects it: {exc}") from None
        for method in (dict(spec.dims).get("method") or (spec.method,)):
            if method == "authors":
                _preflight_authors(spec, model, beta, params)
        if "energy" in spec.observables:
            try:
                fields.energy(x, model=model, beta=beta, **params)
            except (ValueError, OverflowError) as exc:
                raise _err("observables", f"energy is not defined for model {model!r} at beta = {beta:g}: {exc}") from None


def _preflight_authors(spec: SweepSpec, model: str, beta: float, params: dict) -> None:
    """The authors' scheme: the model must be a sphere model whose field is the tangent projection of
    its attention, and the (possibly divided) step must leave a feasible number of steps."""
    from attnflow.numerics import fields, simulate
    from attnflow.numerics.simulate import authors_step_scale

    scale = authors_step_scale(fields.model_spec(model), beta)
    x = np.eye(3)[None]
    try:  # one step
        simulate(model, x, beta=beta, t_final=spec.dt / scale, dt=spec.dt, method="authors", energy=False, **params)
    except ValueError as exc:
        raise _err("method", f"authors: {exc}") from None
    steps = spec.times[-1] / spec.dt * scale
    if steps > _MAX_STEPS:
        raise _err("method", f"authors: model {model!r} at beta = {beta:g} divides the step by {scale:.4g} "
                             f"(as the authors' script does), {steps:.3g} steps to t = {spec.times[-1]:g} "
                             f"(limit {_MAX_STEPS:g}); lower beta.stop or t.stop, or use rk4")
