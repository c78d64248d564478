r"""Classical Runge-Kutta 4 with retraction to the unit sphere (pure NumPy), as attnflow integrates.

.. math::

    k_1 = f(t, x),\ k_2 = f(t + \tfrac h2, x + \tfrac h2 k_1),\ k_3 = f(t + \tfrac h2, x + \tfrac h2 k_2),\
    k_4 = f(t + h, x + h k_3),\qquad x_{k+1} = R\bigl(x + \tfrac h6 (k_1 + 2k_2 + 2k_3 + k_4)\bigr),

with :math:`R` the row normalisation :math:`x_i \mapsto x_i/|x_i|` (``sphere=True``; the identity for
angles and the Euclidean Pre-LN / Peri-LN state).  The projected fields leave the sphere invariant,
so the scheme stays fourth order (attnflow: ``numerics/integrators.py``, ``rk4_step``).
References: Hairer, Norsett, Wanner, Solving ODEs I, Table II.1.2; Hairer, Lubich, Wanner, IV.4
(projection methods).

Needs only numpy.  ``velocity_field(name, ...)`` wraps an exported velocity kernel as ``f(t, x)``.
"""

import math

import numpy as np

from ._dispatch import _entry, call

__all__ = ["rk4_sphere", "velocity_field"]


def velocity_field(name, beta, **params):
    """``f(t, x)`` calling the exported kernel ``name`` (serial twin or parallel by size) on a new output.

    ``beta`` and the other scalar arguments of the kernel (e.g. ``lam``, ``alpha``) are fixed here; a
    scalar argument named ``t`` receives the current time.  Kernels that take further arrays computed
    from ``x`` (``qx``, ``kx``, ``vx``, ``mx``) are not wrapped: write ``f`` around :func:`call` yourself.
    Extra outputs (``logz``) are discarded.
    """
    entry = _entry(name)
    args = entry["args"]
    outs = [a for a in args if a["kind"] == "out"]
    if not outs or args[0]["kind"] != "array" or any(a["kind"] == "array" for a in args[1:]):
        raise ValueError(f"name: {name} is not a velocity kernel of x alone "
                         f"({', '.join(a['name'] for a in args)}); call it through call()")
    scalars = {"beta": float(beta), **params}
    missing = [a["name"] for a in args if a["kind"] in ("float", "int", "bool") and a["name"] not in scalars
               and a["name"] != "t"]
    if missing:
        raise ValueError(f"params: {name} needs {', '.join(missing)}")

    def symbols(shape):
        inner = shape.strip("[]")
        return [v.strip() for v in inner.split(",")] if inner else []

    x_symbols = symbols(args[0]["shape"])

    def f(t, x):
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.ndim != len(x_symbols):
            raise ValueError(f"x: {name} takes x of shape {args[0]['shape']}, got {x.shape}")
        sizes = dict(zip(x_symbols, x.shape))
        values, result = [], None
        for a in args:
            if a is args[0]:
                values.append(x)
            elif a["kind"] == "out":
                buf = np.empty(tuple(sizes[v] for v in symbols(a["shape"])), dtype=np.float64)
                result = buf if result is None else result
                values.append(buf)
            elif a["name"] == "t":
                values.append(float(t))
            else:
                values.append({"float": float, "int": int, "bool": bool}[a["kind"]](scalars[a["name"]]))
        call(name, *values)
        return result

    return f


def rk4_sphere(f, x0, t_final, dt, *, save_every=1, sphere=True):
    """Integrate ``dx/dt = f(t, x)`` from ``x0`` over ``[0, t_final]`` by RK4 with step ``dt`` (+ retraction).

    Parameters
    ----------
    f : callable ``f(t, x) -> ndarray`` (e.g. :func:`velocity_field`)
    x0 : array_like, rows on the unit sphere when ``sphere`` (shape ``(n, d)`` or ``(B, n, d)``)
    t_final : float, >= 0 (hit exactly: the last step is shortened)
    dt : float, > 0
    save_every : int, save every ``save_every``-th step (the first and last states always)
    sphere : bool, normalise every row after each step (False: plain RK4, e.g. for angles)

    Returns
    -------
    times : ndarray (k,)
    states : ndarray (k, *x0.shape)
    """
    x = np.array(x0, dtype=np.float64)
    t_final, dt = float(t_final), float(dt)
    if not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt: must be a positive number, got {dt}")
    if not (math.isfinite(t_final) and t_final >= 0):
        raise ValueError(f"t_final: must be a finite number >= 0, got {t_final}")
    if int(save_every) != save_every or save_every < 1:
        raise ValueError(f"save_every: must be a positive integer, got {save_every!r}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x0: contains NaN or inf")
    if sphere and not np.allclose(np.linalg.norm(x, axis=-1), 1.0, atol=1e-10):
        raise ValueError("x0: rows must have unit norm (normalise them, or pass sphere=False)")
    steps = max(1, math.ceil(t_final / dt - 1e-12)) if t_final > 0 else 0
    times, states = [0.0], [x.copy()]
    t = 0.0
    for k in range(1, steps + 1):
        h = min(dt, t_final - t) if k == steps else dt
        k1 = f(t, x)
        k2 = f(t + 0.5 * h, x + (0.5 * h) * k1)
        k3 = f(t + 0.5 * h, x + (0.5 * h) * k2)
        k4 = f(t + h, x + h * k3)
        x = x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        if sphere:
            x = x / np.linalg.norm(x, axis=-1, keepdims=True)
        t = t_final if k == steps else t + h
        if k % save_every == 0 or k == steps:
            times.append(t)
            states.append(x.copy())
    return np.array(times), np.array(states)
