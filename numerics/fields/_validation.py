"""Validation of states and parameters, derived from the model declarations.

Each declared parameter says its shape (dimension names) or range; :func:`check_params` checks a
user's keyword arguments against them (names, presence, shapes, finiteness, bounds, choices) and
returns float64 C-contiguous arrays and floats, raising ``ValueError`` messages that start with the
offending argument's name.  :func:`check_state` checks the state for the model's manifold.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from attnflow._base.validate import real
from attnflow.symbolic.models import Choice, Matrix, Model, Real

__all__ = ["UNIT_NORM_TOL", "check_params", "check_state", "check_dims"]

#: Tolerance on ``| |x_i| - 1 |`` for sphere models (``normalize=True`` skips the check).
UNIT_NORM_TOL = 1e-10


def _array(name: str, value) -> np.ndarray:
    if np.iscomplexobj(value):
        raise ValueError(f"{name}: expected a real array, got complex values (pass the real part explicitly)")
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: not a numeric array ({exc})") from None
    return a


def _shape_text(shape: tuple[str, ...], dims: dict[str, int]) -> str:
    parts = [str(dims[k]) if k in dims else k for k in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _matrix(p: Matrix, value, dims: dict[str, int]) -> np.ndarray:
    a = _array(p.name, value)
    bounds = "".join(f" with {k} >= {v}" + (" heads" if k == "H" else "") for k, v in p.dims.items())
    want = _shape_text(p.shape, dims)
    if a.ndim != len(p.shape):
        raise ValueError(f"{p.name}: expected shape {want}{bounds}, got {a.shape}")
    seen = dict(dims)
    for k, size in zip(p.shape, a.shape):
        if (k in seen and seen[k] != size) or size < p.dims.get(k, 1 if k == "d" else 0):
            raise ValueError(f"{p.name}: expected shape {want}{bounds}, got {a.shape}")
        seen[k] = size
    dims.update(seen)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{p.name}: contains NaN or infinite entries")
    return np.ascontiguousarray(a)


def _unknown_params_message(spec: Model, extra: list[str]) -> str:
    """One line naming every unknown parameter, the model's parameters and the fix."""
    import difflib

    ok = ", ".join(spec.param_names) or "none"
    names = ", ".join(extra)
    msg = f"{names}: not {'a parameter' if len(extra) == 1 else 'parameters'} of model {spec.name!r} (parameters: {ok})"
    if "params" in extra:
        return msg + (f"; model parameters are keyword arguments, not a params= dict: pass each as name=value "
                      f"(e.g. simulate({spec.name!r}, x0, beta=1.0, {spec.param_names[0]}=...))" if spec.param_names else
                      f"; model {spec.name!r} takes no parameters: drop params=")
    close = [m for name in extra for m in difflib.get_close_matches(name, spec.param_names, n=1)]
    if close:
        return msg + f"; did you mean {', '.join(dict.fromkeys(close))}?"
    return msg + ("; drop it" if len(extra) == 1 else "; drop them")


def check_params(spec: Model, params: dict, d: int | None) -> dict[str, Any]:
    """Check names, fill defaults, convert and check values (``d``: the state dimension, if known).

    Matrix dimensions named in the declaration (``d``, ``H``, ``m``, ...) must agree across the
    parameters; ``d`` is taken from the state when given, else from the first matrix that has it.
    """
    allowed = set(spec.param_names)
    extra = sorted(set(params) - allowed)
    if extra:
        raise ValueError(_unknown_params_message(spec, extra))
    missing = [name for name in spec.required if name not in params]
    if missing:
        raise ValueError(f"{missing[0]}: model {spec.name!r} requires parameter(s) {', '.join(spec.required)}")
    dims: dict[str, int] = {} if d is None else {"d": int(d)}
    out: dict[str, Any] = {}
    for p in spec.params:
        value = params.get(p.name, getattr(p, "default", None))
        if isinstance(p, Matrix):
            out[p.name] = _matrix(p, value, dims)
        elif isinstance(p, Real):
            out[p.name] = real(p.name, value, lo=p.lo, lo_strict=p.lo_strict)
        elif isinstance(p, Choice):
            if value not in p.choices:
                raise ValueError(f"{p.name}: expected {' or '.join(repr(c) for c in p.choices)}, got {value!r}")
            out[p.name] = value
        else:  # pragma: no cover - every Param subclass is handled above
            raise AssertionError(p)
    return out


def check_dims(spec: Model, x: np.ndarray, p: dict) -> None:
    """The matrices' ``d`` matches the state (for parameters validated without the state)."""
    if spec.manifold == "angles":
        return
    d = x.shape[-1]
    for m in spec.matrix_params:
        shape = p[m.name].shape
        for k, size in zip(m.shape, shape):
            if k == "d" and size != d:
                want = _shape_text(m.shape, {"d": d})
                raise ValueError(f"{m.name}: expected shape {want} to match x of shape {x.shape}, got {shape}")


def _row_name(where: tuple) -> str:
    """``i`` for one system, ``i of system b`` for a batch."""
    return str(int(where[-1])) if len(where) == 1 else f"{int(where[-1])} of system {int(where[0])}"


def check_state(spec: Model, x, normalize: bool) -> np.ndarray:
    """The state as a C-contiguous float64 array, checked for the model's manifold.

    Sphere and Euclidean models take ``(n, d)`` or ``(B, n, d)`` (B independent systems); circle
    models take ``(n,)`` or ``(P, n)`` (P independent configurations, e.g. prompts of ``causal_alibi``).
    """
    if np.iscomplexobj(x):
        raise ValueError("x: expected real points or angles, got complex values")
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"x: not a numeric array ({exc})") from None
    if spec.manifold == "angles":
        if a.ndim not in (1, 2) or a.shape[-1] < 1 or a.size == 0:
            raise ValueError(f"x: model {spec.name!r} takes angles of shape (n,) or (P, n), got {a.shape}")
    else:
        if a.ndim not in (2, 3) or a.shape[-2] < 1 or a.shape[-1] < 2 or a.size == 0:
            raise ValueError(f"x: model {spec.name!r} takes points of shape (n, d), or (B, n, d) for B independent "
                             f"systems, with n >= 1, d >= 2, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("x: contains NaN or infinite entries")
    if spec.manifold in ("sphere", "euclidean"):
        norms = np.linalg.norm(a, axis=-1)
        if np.any(norms == 0.0):
            where = np.unravel_index(int(np.argmin(norms)), norms.shape)
            raise ValueError(f"x: row {_row_name(where)} is zero; points need a direction")
        if spec.manifold == "sphere":
            if normalize:
                a = a / norms[..., None]
            else:
                err = np.abs(norms - 1.0)
                if np.any(err > UNIT_NORM_TOL):
                    where = np.unravel_index(int(np.argmax(err)), norms.shape)
                    raise ValueError(
                        f"x: row {_row_name(where)} has norm {norms[where]!r}, not 1 within {UNIT_NORM_TOL}; "
                        "normalise the points or pass normalize=True")
    return np.ascontiguousarray(a)
