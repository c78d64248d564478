"""The bad-input corpus: one row per kind of hostile input, across the API and every CLI command.

Each :class:`Case` holds a call (taking a scratch folder) and what a robust attnflow must do:

- ``Err(pattern)``: raise ``ValueError`` (API) or exit 2 with a message on stderr (CLI) whose text
  matches ``pattern`` -- the argument / option it names (and, where stated, the fix);
- ``Val(check, why)``: return a value for which ``check(value)`` is true; expected values come from
  an independent route (mpmath at 50 digits, the geometry of the regular simplex, a NumPy
  reference), never from the code under test.

:func:`classify` runs one case and sorts the outcome into ``clean`` (as required), ``handled`` (a
``ValueError`` / exit 2 whose message does not name the argument, or a refusal where a value was
due), ``traceback`` (any other exception), ``silent`` (a wrong value or exit 0 where an error was
due) or ``hang`` (past the time limit).  ``python -m tests.robustness._corpus`` prints the counts.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import signal
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

OUTCOMES = ("clean", "handled", "traceback", "silent", "hang")


@dataclass(frozen=True)
class Err:
    pattern: str


@dataclass(frozen=True)
class Val:
    check: Callable
    why: str = ""


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[Path], object]
    expect: Err | Val
    cli: bool = False
    xfail: str = ""


class _Hang(BaseException):
    pass


class CliResult:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    def __repr__(self):
        return f"CliResult(rc={self.rc}, out={self.out[-300:]!r}, err={self.err[-300:]!r})"


def cli(*argv):
    """``attnflow.cli.main(argv)`` in-process with captured stdout/stderr (argparse exits included)."""
    from attnflow.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 2
    return CliResult(rc, out.getvalue(), err.getvalue())


def classify(case: Case, tmp: Path, timeout: float = 10.0) -> tuple[str, str]:
    """Run ``case`` in ``tmp``; return ``(outcome, detail)``."""
    def on_alarm(signum, frame):
        raise _Hang()

    import resource

    old = signal.signal(signal.SIGALRM, on_alarm)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = 8 * 2**30  # an unguarded allocation fails fast instead of eating a shared machine's RAM
    if soft == resource.RLIM_INFINITY or soft > cap:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = case.call(tmp)
    except _Hang:
        return "hang", f"no answer within {timeout} s"
    except ValueError as exc:
        msg = str(exc)
        if isinstance(case.expect, Err):
            return ("clean" if re.search(case.expect.pattern, msg) else "handled"), msg[:300]
        return "handled", msg[:300]
    except BaseException as exc:  # noqa: BLE001 - classifying every escape is the point
        return "traceback", f"{type(exc).__name__}: {str(exc)[:300]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    if isinstance(value, CliResult):
        if isinstance(case.expect, Err):
            if value.rc == 0:
                return "silent", repr(value)
            if "Traceback" in value.err:
                return "traceback", repr(value)
            return ("clean" if value.rc == 2 and re.search(case.expect.pattern, value.err) else "handled"), repr(value)
        ok = case.expect.check(value)
        return ("clean" if ok else "silent"), repr(value)
    if isinstance(case.expect, Err):
        return "silent", f"returned {value!r:.300}"
    try:
        ok = bool(case.expect.check(value))
    except Exception as exc:  # noqa: BLE001
        return "silent", f"check failed on {value!r:.200}: {exc}"
    return ("clean" if ok else "silent"), f"{value!r:.300}"


# ------------------------------------------------------------------------------------------------
# independent references (mpmath, 50 digits)


def _mp():
    import mpmath

    mpmath.mp.dps = 50
    return mpmath


def mp_profile(s, *, beta, lam, t, M, modes=20):
    """S_t(s) = p(s) sum_n w_n phi_1(t a_n, Y(s)) evaluated in mpmath from its definition
    (arXiv 2605.09213; derivations/retrieval.md): a_n = n^2 I_n(beta), w_n = exp(-pi^2 n^2/(2M^2)),
    Y = log((e^lam - 1)/(e^{lam s} - 1)), p = lam e^{lam s}/(e^lam - 1),
    phi_1(c, y) = sqrt(c/y) I_1(2 sqrt(c y))."""
    mp = _mp()
    s, lam, beta, t, M = (mp.mpf(v) for v in (s, lam, beta, t, M))
    Y = mp.log(mp.expm1(lam) / mp.expm1(lam * s))
    p = lam * mp.exp(lam * s) / mp.expm1(lam)
    tot = mp.mpf(0)
    for n in range(1, modes + 1):
        c = t * n * n * mp.besseli(n, beta)
        w = mp.exp(-mp.pi**2 * n * n / (2 * M * M))
        tot += w * mp.sqrt(c / Y) * mp.besseli(1, 2 * mp.sqrt(c * Y))
    return p * tot


def mp_t_crit(*, beta, lam, M, modes=20):
    """t_crit = 2(1 - e^-lam) sum w_n a_n / sum w_n a_n^2 in mpmath."""
    mp = _mp()
    num = den = mp.mpf(0)
    for n in range(1, modes + 1):
        a = n * n * mp.besseli(n, beta)
        w = mp.exp(-mp.pi**2 * n * n / (2 * mp.mpf(M) ** 2))
        num += w * a
        den += w * a * a
    return 2 * (1 - mp.exp(-lam)) * num / den


def mp_hitting_F(s, n, beta):
    """The antiderivative F of 1/rho_dot (SA) in mpmath (arXiv 2512.01868; derivations/equiangular.md)."""
    mp = _mp()
    m = n - 1
    s, beta = mp.mpf(s), mp.mpf(beta)
    return (-m * mp.log1p(-s) + m * mp.log1p(m * s) - mp.ei(beta * (1 - s))
            + mp.exp(beta * n / m) * mp.ei(-beta * (1 + m * s) / m)) / (2 * n)


def close(ref, rel=1e-8):
    """v agrees with the mpmath value ref to rel; beyond float64 the honest inf / 0.0."""
    def check(v):
        v = float(np.asarray(v).ravel()[0]) if np.ndim(v) else float(v)
        r = float(ref)  # mpmath -> float: inf beyond the largest float64, 0.0 below the smallest
        if math.isinf(r) or r == 0.0:
            return v == r
        return math.isfinite(v) and abs(v - r) <= rel * abs(r)
    return check


def simplex_ok(n, d):
    """n unit vectors in R^d with all inner products -1/(n-1) (the regular simplex)."""
    def check(x):
        x = np.asarray(x)
        g = x @ x.T
        off = g[~np.eye(n, dtype=bool)]
        return x.shape == (n, d) and np.allclose(np.diag(g), 1, atol=1e-12) and np.allclose(off, -1 / (n - 1), atol=1e-12)
    return check


def finite(v):
    return bool(np.all(np.isfinite(np.asarray(v, dtype=float))))


# ------------------------------------------------------------------------------------------------
# API helpers


def _x(n=4, d=3, seed=0):
    from attnflow.numerics import random_sphere

    return random_sphere(n, d, seed)


def _sim(**kw):
    from attnflow.numerics import simulate

    args = dict(model="sa", x0=_x(), beta=1.0, t_final=0.1, dt=0.05)
    args.update(kw)
    return simulate(args.pop("model"), args.pop("x0"), **args)


def _R():
    from attnflow.numerics import retrieval

    return retrieval


def _prof(**kw):
    args = dict(beta=1.0, lam=1.0, t=1.5, M=8.0)
    args.update(kw)
    s = args.pop("s", np.array([0.5]))
    return _R().profile(s, **args)


def _eq():
    from attnflow.properties.claims import _equiangular

    return _equiangular


def _traj(tmp):
    return _sim()


def _write(tmp, name, data: bytes):
    p = tmp / name
    p.write_bytes(data)
    return p


def _npz_missing_keys(tmp):
    p = tmp / "partial.npz"
    np.savez(p, format=np.array("attnflow-trajectory-1"), times=np.zeros(2))
    return p


def _npz_truncated(tmp):
    p = tmp / "t.npz"
    _traj(tmp).save_npz(p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return p


def _load(p):
    from attnflow.numerics import Trajectory

    return Trajectory.load_npz(p)


def _fake_export(tmp, extra: bool):
    """A folder whose manifest.json claims to be an attnflow export, optionally with a user file."""
    from attnflow.export._manifest import GENERATOR

    out = tmp / "pkg"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"generator": GENERATOR, "files": [], "kernels": []}))
    if extra:
        (out / "thesis.tex").write_text("years of work")
    return out


def _ro_dir():
    """A folder nobody can create files in, even root (procfs)."""
    return Path("/proc")


# ------------------------------------------------------------------------------------------------
# the API corpus

X = None  # placeholder so the table reads as data


def api_cases() -> list[Case]:
    R = _R
    c = []
    add = lambda id, call, expect, xfail="": c.append(Case(id, call, expect, xfail=xfail))  # noqa: E731

    # simulate
    add("simulate/x0-complex", lambda t: _sim(x0=_x() + 1e-3j), Err(r"^x0?:"))
    add("simulate/x0-complex-list", lambda t: _sim(x0=[[1 + 1j, 0, 0], [0, 1, 0]]), Err(r"^x0?:"))
    add("simulate/x0-nan", lambda t: _sim(x0=np.full((3, 3), np.nan)), Err(r"^x0?:"))
    add("simulate/x0-1d", lambda t: _sim(x0=np.array([1.0, 0, 0])), Err(r"^x0?:"))
    add("simulate/x0-strings", lambda t: _sim(x0=[["a", "b"]]), Err(r"^x0?:"))
    add("simulate/x0-empty", lambda t: _sim(x0=np.zeros((0, 3))), Err(r"^x0?:"))
    add("simulate/x0-off-sphere", lambda t: _sim(x0=2 * _x()), Err(r"^x0?:.*norm"))
    add("simulate/dt-zero", lambda t: _sim(dt=0.0), Err(r"^dt:"))
    add("simulate/dt-negative", lambda t: _sim(dt=-0.1), Err(r"^dt:"))
    add("simulate/dt-nan", lambda t: _sim(dt=float("nan")), Err(r"^dt:"))
    add("simulate/dt-bool", lambda t: _sim(dt=True), Err(r"^dt:"))
    add("simulate/dt-tiny", lambda t: _sim(dt=1e-300), Err(r"^dt:"))
    add("simulate/grid-too-big", lambda t: _sim(t_final=1e7, dt=1e-3), Err(r"^(t_final|dt|save_every).*(GiB|memory)"))
    add("simulate/t_final-negative", lambda t: _sim(t_final=-1.0), Err(r"^t_final:"))
    add("simulate/t_final-inf", lambda t: _sim(t_final=float("inf")), Err(r"^t_final:"))
    add("simulate/t_final-string", lambda t: _sim(t_final="5"), Err(r"^t_final:"))
    add("simulate/save_every-zero", lambda t: _sim(save_every=0), Err(r"^save_every:"))
    add("simulate/save_every-float", lambda t: _sim(save_every=1.5), Err(r"^save_every:"))
    add("simulate/beta-nan", lambda t: _sim(beta=float("nan")), Err(r"^beta:"))
    add("simulate/beta-string", lambda t: _sim(beta="1"), Err(r"^beta:"))
    add("simulate/beta-complex", lambda t: _sim(beta=1 + 1j), Err(r"^beta:"))
    add("simulate/beta-bool", lambda t: _sim(beta=True), Err(r"^beta:"))
    add("simulate/model-unknown", lambda t: _sim(model="nope"), Err(r"model"))
    add("simulate/method-unknown", lambda t: _sim(method="rk5"), Err(r"^method:"))
    add("simulate/dt-and-rtol", lambda t: _sim(rtol=1e-6), Err(r"^dt:"))
    add("simulate/rtol-negative", lambda t: _sim(dt=None, rtol=-1.0), Err(r"^rtol:"))
    add("simulate/rtol-nan", lambda t: _sim(dt=None, rtol=float("nan")), Err(r"^rtol:"))
    add("simulate/atol-negative", lambda t: _sim(dt=None, rtol=1e-6, atol=-1.0), Err(r"^atol:"))
    add("simulate/alibi-lam-negative",
        lambda t: _sim(model="causal_alibi", x0=np.linspace(0, 1, 5), lam=-1.0), Err(r"^lam:"))
    add("simulate/qkv-Q-complex",
        lambda t: _sim(model="qkv", Q=np.eye(3) * (1 + 1j), K=np.eye(3), V=np.eye(3)), Err(r"^Q:"))
    add("simulate/qkv-Q-shape", lambda t: _sim(model="qkv", Q=np.eye(2), K=np.eye(3), V=np.eye(3)), Err(r"^Q:"))
    add("simulate/unknown-param", lambda t: _sim(foo=1.0), Err(r"^foo:"))
    add("simulate/seed-negative", lambda t: _sim(model="qkv", seed=-1), Err(r"^seed:"))
    add("simulate/angles-complex",
        lambda t: _sim(model="kuramoto", x0=np.linspace(0, 1, 5) + 1j), Err(r"^x0?:"))

    # initial states
    from attnflow.numerics import equiangular, random_angles, random_sphere

    add("random_sphere/n-zero", lambda t: random_sphere(0, 3), Err(r"^n:"))
    add("random_sphere/d-one", lambda t: random_sphere(3, 1), Err(r"^d:"))
    add("random_sphere/n-float", lambda t: random_sphere(2.5, 3), Err(r"^n:"))
    add("random_sphere/seed-negative", lambda t: random_sphere(3, 3, seed=-1), Err(r"^seed:"))
    add("random_sphere/n-huge", lambda t: random_sphere(10**12, 3), Err(r"^n:.*GiB"))
    add("random_angles/n-zero", lambda t: random_angles(0), Err(r"^n:"))
    add("random_angles/bad-tuple", lambda t: random_angles((2,)), Err(r"^n:"))
    add("random_angles/huge", lambda t: random_angles((10**6, 10**7)), Err(r"^n.*GiB"))
    for n in (50, 99, 104, 108):
        add(f"equiangular/simplex-n{n}", lambda t, n=n: equiangular(n, n - 1, -1 / (n - 1)),
            Val(simplex_ok(n, n - 1), "regular simplex: n unit vectors, inner products -1/(n-1), in R^(n-1)"))
    add("equiangular/rho-above-1", lambda t: equiangular(3, 3, 2.0), Err(r"^rho:"))
    add("equiangular/rho-nan", lambda t: equiangular(3, 3, float("nan")), Err(r"^rho:"))
    add("equiangular/rho-complex", lambda t: equiangular(3, 3, 0.1j), Err(r"^rho:"))
    add("equiangular/rho-string", lambda t: equiangular(3, 3, "0.1"), Err(r"^rho:"))
    add("equiangular/d-too-small", lambda t: equiangular(3, 2, 0.1), Err(r"^d:"))
    add("equiangular/below-simplex", lambda t: equiangular(3, 3, -0.6), Err(r"^rho:"))

    # fields
    from attnflow.numerics import energy, velocity

    add("velocity/x-complex", lambda t: velocity(_x() + 1j, model="sa", beta=1.0), Err(r"^x:"))
    add("velocity/x-complex-list", lambda t: velocity([[1j, 0, 0]], model="sa", beta=1.0), Err(r"^x:"))
    add("velocity/beta-nan", lambda t: velocity(_x(), model="sa", beta=float("nan")), Err(r"^beta:"))
    add("velocity/beta-complex", lambda t: velocity(_x(), model="sa", beta=1j), Err(r"^beta:"))
    add("velocity/model-unknown", lambda t: velocity(_x(), model="nope", beta=1.0), Err(r"model"))
    add("velocity/Q-complex",
        lambda t: velocity(_x(), model="qkv", beta=1.0, Q=np.eye(3) + 1j, K=np.eye(3), V=np.eye(3)), Err(r"^Q:"))
    add("velocity/V-complex",
        lambda t: velocity(_x(), model="qkv", beta=1.0, Q=np.eye(3), K=np.eye(3), V=np.eye(3) + 0j * 1 + 1e-9j),
        Err(r"^V:"))
    add("velocity/Q-wrong-shape",
        lambda t: velocity(_x(), model="qkv", beta=1.0, Q=np.eye(4), K=np.eye(3), V=np.eye(3)), Err(r"^Q:"))
    add("velocity/x-1d", lambda t: velocity(np.ones(3), model="sa", beta=1.0), Err(r"^x:"))
    add("velocity/x-inf", lambda t: velocity(np.full((2, 3), np.inf), model="sa", beta=1.0), Err(r"^x:"))
    add("velocity/multihead-no-M", lambda t: velocity(_x(), model="multihead", beta=1.0), Err(r"^M:"))
    add("energy/x-complex", lambda t: energy(_x() + 1j, model="sa", beta=1.0), Err(r"^x:"))

    # distances
    from attnflow.numerics import cost_matrix, sliced_wasserstein, wasserstein, wasserstein_circle

    add("wasserstein/x-complex", lambda t: wasserstein(_x() + 1j * _x(), _x()), Err(r"^x:"))
    add("wasserstein/y-complex", lambda t: wasserstein(_x(), _x() + 1j), Err(r"^y:"))
    add("wasserstein/p-zero", lambda t: wasserstein(_x(), _x(), p=0), Err(r"^p:"))
    add("wasserstein/p-nan", lambda t: wasserstein(_x(), _x(), p=float("nan")), Err(r"^p:"))
    add("wasserstein/p-complex", lambda t: wasserstein(_x(), _x(), p=2j), Err(r"^p:"))
    add("wasserstein/metric", lambda t: wasserstein(_x(), _x(), metric="manhattan"), Err(r"^metric:"))
    add("wasserstein/a-negative", lambda t: wasserstein(_x(), _x(), a=[-1, 1, 0.5, 0.5]), Err(r"^a:"))
    add("wasserstein/a-complex", lambda t: wasserstein(_x(), _x(), a=np.full(4, 0.25 + 0j)), Err(r"^a:"))
    add("wasserstein/x-nan", lambda t: wasserstein(np.full((3, 3), np.nan), _x()), Err(r"^x:"))
    add("wasserstein/dim-mismatch", lambda t: wasserstein(_x(d=3), _x(d=4)), Err(r"^y:"))
    add("wasserstein_circle/complex", lambda t: wasserstein_circle(np.ones(3) + 1j, np.ones(3)), Err(r"^theta:"))
    add("sliced_wasserstein/complex", lambda t: sliced_wasserstein(_x() + 1j, _x()), Err(r"^x:"))
    add("sliced_wasserstein/n_projections", lambda t: sliced_wasserstein(_x(), _x(), n_projections=0),
        Err(r"^n_projections:"))
    add("cost_matrix/complex", lambda t: cost_matrix(_x() + 1j, _x()), Err(r"^x:"))

    # retrieval (closed form; references from mpmath)
    add("profile/beta50-lam1e3", lambda t: _prof(beta=50, lam=1e3, s=np.array([0.1, 0.5, 0.9])),
        Val(lambda v: all(close(mp_profile(s, beta=50, lam=1e3, t=1.5, M=8), 1e-6)(v[i])
                          for i, s in enumerate((0.1, 0.5, 0.9))),
            "mpmath evaluation of the series at 50 digits (here beyond float64: inf)"))
    add("profile/beta3-lam300", lambda t: _prof(beta=3, lam=300, s=np.array([0.2, 0.7, 0.95])),
        Val(lambda v: all(close(mp_profile(s, beta=3, lam=300, t=1.5, M=8), 1e-7)(v[i])
                          for i, s in enumerate((0.2, 0.7, 0.95))), "mpmath, finite tiny values"))
    add("profile/beta1-lam1e3-0.9", lambda t: _prof(beta=1, lam=1e3, s=np.array([0.9])),
        Val(close(mp_profile(0.9, beta=1, lam=1e3, t=1.5, M=8), 1e-7), "4.43e-35 from mpmath"))
    add("profile/lam1e3-near-1", lambda t: _prof(beta=1, lam=1e3, s=np.array([0.999])),
        Val(close(mp_profile(0.999, beta=1, lam=1e3, t=1.5, M=8), 1e-7), "mpmath"))
    add("t_crit/beta400", lambda t: R().t_crit(beta=400, lam=1, M=8),
        Val(close(mp_t_crit(beta=400, lam=1, M=8), 1e-7), "6.6e-174 from mpmath"))
    add("t_crit/beta800", lambda t: R().t_crit(beta=800, lam=1, M=8),
        Val(lambda v: v == 0.0 and float(mp_t_crit(beta=800, lam=1, M=8)) == 0.0,
            "1e-348 underflows float64: honest 0.0, not NaN"))
    add("t_crit/beta1e5", lambda t: R().t_crit(beta=1e5, lam=1, M=8), Val(lambda v: v == 0.0, "underflow: 0.0"))
    add("argmin/t-1e-200", lambda t: R().argmin(beta=1, lam=1, t=1e-200, M=8),
        Val(lambda a: a.interior, "t < t_crit: recency, and the U-shape certificate holds, so a minimum is interior"))
    add("argmin/beta50-lam1e3", lambda t: R().argmin(beta=50, lam=1e3, t=1.5, M=8),
        Val(lambda a: math.isfinite(a.sigma0) and (a.value is None or not math.isnan(a.value)), "no NaN"))
    add("certify/beta50-lam1e3", lambda t: R().certify_ushape(beta=50, lam=1e3, t=1.5, M=8),
        Val(lambda c: isinstance(c.verdict, str), "a verdict, no traceback"))
    add("profile/sigma0-complex", lambda t: _prof(s=np.array([0.5 + 0.1j])), Err(r"^sigma0:"))
    add("profile/sigma0-negative", lambda t: _prof(s=np.array([-0.1])), Err(r"^sigma0:"))
    add("profile/sigma0-above-1", lambda t: _prof(s=np.array([1.5])), Err(r"^sigma0:"))
    add("profile/beta-nan", lambda t: _prof(beta=float("nan")), Err(r"^beta:"))
    add("profile/beta-complex", lambda t: _prof(beta=1j), Err(r"^beta:"))
    add("profile/lam-negative", lambda t: _prof(lam=-1.0), Err(r"^lam:"))
    add("profile/M-zero", lambda t: _prof(M=0.0), Err(r"^M:"))
    add("profile/t-negative", lambda t: _prof(t=-1.0), Err(r"^t:"))
    add("profile/modes-zero", lambda t: _prof(modes=0), Err(r"^modes:"))
    add("profile/modes-float", lambda t: _prof(modes=2.5), Err(r"^modes:"))
    add("t_crit/beta-zero", lambda t: R().t_crit(beta=0.0, lam=1, M=8), Err(r"^beta:"))
    add("smallness/t-nan", lambda t: R().smallness_condition(beta=1, lam=1, t=float("nan")), Err(r"^t:"))
    add("soft_accuracy/N-zero", lambda t: R().soft_accuracy(0.5, beta=1, lam=1, t=1, M=8, N=0), Err(r"^N:"))
    add("profile_derivative/order", lambda t: R().profile_derivative(0.5, beta=1, lam=1, t=1, M=8, order=7),
        Err(r"^order:"))
    add("mode_weights/M-zero", lambda t: R().mode_weights(0.0), Err(r"^M:"))
    add("fourier_rates/beta-nan", lambda t: R().fourier_rates(float("nan")), Err(r"^beta:"))

    # equiangular helpers (references from mpmath / limits)
    add("rho_dot_usa/beta2000", lambda t: _eq().rho_dot_usa(0.5, 4, 2000.0),
        Val(lambda v: v == math.inf, "e^{1000} beyond float64: honest inf"))
    add("rho_dot_sa/beta-minus2000", lambda t: _eq().rho_dot_sa(0.5, 4, -2000.0),
        Val(lambda v: abs(v - 2 * 0.5 * 2.5 / 3) < 1e-12, "limit 2(1-rho)((n-1)rho+1)/(n-1)"))
    add("hitting_F/beta800", lambda t: _eq().hitting_F(0.5, 4, 800.0),
        Val(close(mp_hitting_F(0.5, 4, 800.0), 1e-9), "mpmath Ei"))
    add("hitting_F/beta2000", lambda t: _eq().hitting_F(0.1, 4, 2000.0),
        Val(lambda v: not math.isnan(v) and (math.isinf(v) or abs(v - float(mp_hitting_F(0.1, 4, 2000.0))) < 1e-9 * abs(v)),
            "beyond float64: honest inf, never NaN"))
    add("bound_constants/beta2000", lambda t: _eq().bound_constants(4, 2000.0, 0.5),
        Val(lambda v: v[1] == 0.0, "q/(e^{2000}+n-1) underflows: 0.0"))

    # trajectories on disk
    add("load_npz/not-npz", lambda t: _load(_write(t, "a.npz", b"hello")), Err(r"^path:"))
    add("load_npz/missing-keys", lambda t: _load(_npz_missing_keys(t)), Err(r"^path:"))
    add("load_npz/truncated", lambda t: _load(_npz_truncated(t)), Err(r"^path:"))
    add("load_npz/missing-file", lambda t: _load(t / "nope.npz"), Err(r"^path:"))
    add("load_npz/directory", lambda t: _load(t), Err(r"^path:"))
    add("save_npz/directory", lambda t: _traj(t).save_npz(t), Err(r"^path:"))
    add("save_npz/missing-parent", lambda t: _traj(t).save_npz(t / "no" / "x.npz"), Err(r"^path:"))
    add("save_npz/exists", lambda t: _traj(t).save_npz(_write(t, "x.npz", b"")), Err(r"^path:.*force"))
    add("save_npz/readonly", lambda t: _traj(t).save_npz(_ro_dir() / "x.npz"), Err(r"^path:"))
    add("cluster_count/tol-nan", lambda t: _traj(t).cluster_count(float("nan")), Err(r"^tol:"))
    add("cluster_count/tol-negative", lambda t: _traj(t).cluster_count(-1.0), Err(r"^tol:"))

    # symbolic
    def get_result(v):
        from attnflow.symbolic.documents import get_result as g

        return g(v)

    def prove_zero(v):
        from attnflow.symbolic.proof import prove_zero as p

        return p(v)

    add("get_result/None", lambda t: get_result(None), Err(r"^result_id:"))
    add("get_result/int", lambda t: get_result(3), Err(r"^result_id:"))
    add("get_result/unknown", lambda t: get_result("no.such.result"), Err(r"^result_id:"))
    add("prove_zero/string", lambda t: prove_zero("__import__('os').getcwd()"), Err(r"^expr"))

    # interpolation
    from attnflow.numerics.interpolation import construct_dirac_interpolation, draw_instance

    add("draw_instance/targets-infeasible", lambda t: draw_instance(3, 100, 2), Err(r"^N:"))
    add("interpolation/N-one", lambda t: construct_dirac_interpolation(*draw_instance(3, 1, 5)), Err(r"^clouds:.*N >= 2"))
    add("draw_instance/seed-negative", lambda t: draw_instance(3, 3, 5, seed=-1), Err(r"^seed:"))
    add("draw_instance/n-zero", lambda t: draw_instance(3, 3, 0), Err(r"^n:"))
    add("draw_instance/d-float", lambda t: draw_instance(3.5, 3, 5), Err(r"^d:"))
    add("draw_instance/n-huge", lambda t: draw_instance(3, 2, 10**11), Err(r"^n:.*GiB"))

    def _construct(**kw):
        clouds, targets = draw_instance(3, 2, 4, seed=0)
        clouds = kw.pop("clouds", clouds)
        return construct_dirac_interpolation(clouds, targets, **kw)

    add("interpolation/eps-zero", lambda t: _construct(eps=0.0), Err(r"^eps:"))
    add("interpolation/T-negative", lambda t: _construct(T=-1.0), Err(r"^T:"))
    add("interpolation/beta-nan", lambda t: _construct(beta=float("nan")), Err(r"^beta:"))
    add("interpolation/dt-zero", lambda t: _construct(dt=0.0), Err(r"^dt:"))
    add("interpolation/clouds-complex", lambda t: _construct(clouds=[np.ones((4, 3)) * 1j, np.ones((4, 3))]),
        Err(r"^clouds"))

    # stochastic dynamics
    from attnflow.numerics import brownian_increments, kappa_relu, order_parameter

    add("brownian/n_steps-huge", lambda t: brownian_increments(10**12, (3,), 0.1), Err(r"^n_steps:.*GiB"))
    add("brownian/n_steps-negative", lambda t: brownian_increments(-1, (3,), 0.1), Err(r"^n_steps:"))
    add("brownian/dt-zero", lambda t: brownian_increments(3, (3,), 0.0), Err(r"^dt:"))
    add("order_parameter/complex", lambda t: order_parameter(np.ones(3) + 1j), Err(r"^theta:"))
    add("kappa_relu/rho-2", lambda t: kappa_relu(2.0, 3, 1.0, 1.0), Err(r"^rho:"))

    from attnflow.numerics import euler_maruyama_sphere, kappa_kernel, noisy_kuramoto, random_matrices
    from attnflow.numerics import meanfield as MF

    add("euler_maruyama_sphere/grid-too-big",
        lambda t: euler_maruyama_sphere(_x(), None, kappa=0.1, dt=1e-3, t_final=1e7, seed=0), Err(r"^t_final:.*GiB"))
    add("euler_maruyama_sphere/x0-complex",
        lambda t: euler_maruyama_sphere(_x() + 1j, None, kappa=0.1, dt=1e-2, t_final=0.1, seed=0), Err(r"^x0:"))
    add("noisy_kuramoto/grid-too-big",
        lambda t: noisy_kuramoto(np.zeros(5), kappa=1.0, dt=1e-3, t_final=1e7, seed=0), Err(r"^t_final:.*GiB"))
    add("noisy_kuramoto/theta0-complex",
        lambda t: noisy_kuramoto(np.zeros(5) + 1j, kappa=1.0, dt=1e-2, t_final=0.1, seed=0), Err(r"^theta0:"))
    add("kappa_kernel/rho-complex", lambda t: kappa_kernel(0.5 + 1j, 3, 1.0, 1.0), Err(r"^rho:"))
    add("random_matrices/d-huge", lambda t: random_matrices(10**6, seed=0), Err(r"^d:.*GiB"))
    add("sliced_wasserstein/projections-huge", lambda t: sliced_wasserstein(_x(), _x(), n_projections=10**12),
        Err(r"^n_projections:.*GiB"))
    add("weighted_velocity/w-complex",
        lambda t: MF.weighted_velocity(_x(), np.full(4, 0.25) + 1j, beta=1.0, model="sa"), Err(r"^w:"))
    add("weighted_velocity/x-complex",
        lambda t: MF.weighted_velocity(_x() + 1j, np.full(4, 0.25), beta=1.0, model="sa"), Err(r"^x0?:"))

    # integrators
    def _integrate(**kw):
        from attnflow.numerics import integrate

        f = lambda tt, x: np.zeros_like(x)  # noqa: E731
        args = dict(t_final=1.0, dt=0.1, method="rk4")
        args.update(kw)
        return integrate(f, _x(), **args)

    add("integrate/grid-too-big", lambda t: _integrate(t_final=1e7, dt=1e-3), Err(r"^(t_final|dt|save_every).*GiB"))
    add("integrate/dt-tiny", lambda t: _integrate(dt=1e-300), Err(r"^dt:"))
    add("integrate/x0-complex", lambda t: _integrate(x0=None) if False else __import__("attnflow.numerics", fromlist=["integrate"]).integrate(
        lambda tt, x: np.zeros_like(x), _x() + 1j, t_final=1.0, dt=0.1, method="rk4"), Err(r"^x0:"))

    # observables
    from attnflow.numerics import observables as O

    add("pair_fraction/complex", lambda t: O.pair_fraction(_x() + 1j), Err(r"^x:"))
    add("pair_fraction/delta-nan", lambda t: O.pair_fraction(_x(), float("nan")), Err(r"^delta:"))
    add("gram/complex", lambda t: O.gram(_x() + 1j), Err(r"^x:"))

    # localization
    from attnflow.numerics import localization as L

    add("circle_objective/complex", lambda t: L.circle_objective(np.ones(3) + 1j, 1.0), Err(r"^theta:"))
    add("circle_objective/beta-nan", lambda t: L.circle_objective(np.ones(3), float("nan")), Err(r"^beta:"))
    add("merge_atoms/tol-negative", lambda t: L.merge_atoms(np.ones(3), tol=-1.0), Err(r"^tol:"))

    # export API
    from attnflow import export as E

    add("export/unknown-kernel", lambda t: E.export_kernels(["nope"], t / "pkg"), Err(r"^names:"))
    add("export/out-missing-parent", lambda t: E.export_kernels(["sa_velocity"], t / "a" / "pkg"), Err(r"^out:"))
    add("export/out-is-file", lambda t: E.export_kernels(["sa_velocity"], _write(t, "pkg", b"x"), force=True),
        Err(r"^out:"))
    add("export/seed-negative", lambda t: E.export_kernels(["sa_velocity"], t / "pkg", seed=-1), Err(r"^seed:"))
    add("export/profile-unknown", lambda t: E.export_kernels(["sa_velocity"], t / "pkg", profile="huge"),
        Err(r"^profile:"))
    add("export/out-readonly", lambda t: E.export_kernels(["sa_velocity"], _ro_dir() / "pkg"), Err(r"^out:"))
    add("export/force-foreign-files", lambda t: E.export_kernels(["sa_velocity"], _fake_export(t, True), force=True),
        Err(r"^out:.*thesis\.tex"))
    return c


# ------------------------------------------------------------------------------------------------
# the CLI corpus


_SPEC = b'[sweep]\nmodel = "sa"\nn = 4\nd = 3\nbeta = 1.0\nseeds = 2\nt = { stop = 0.1, num = 2 }\ndt = 0.05\nobservables = ["pair_fraction"]\n'


def cli_cases() -> list[Case]:
    c = []

    def add(id, argv, expect, xfail=""):
        def call(t, argv=argv):
            args = [a(t) if callable(a) else a for a in argv]
            return cli(*args)
        c.append(Case(id, call, expect, cli=True, xfail=xfail))

    S = ("simulate", "--t-final", "0.05", "--n", "4")
    for opt, val in [("--n", "0"), ("--n", "-5"), ("--n", "abc"), ("--d", "1"), ("--beta", "nan"),
                     ("--beta", "inf"), ("--beta", "1e400"), ("--t-final", "-1"), ("--t-final", "inf"),
                     ("--dt", "0"), ("--dt", "-0.1"), ("--dt", "nan"), ("--dt", "1e-300"), ("--rtol", "-1"),
                     ("--rtol", "nan"), ("--save-every", "0"), ("--save-every", "-3"), ("--seed", "-1"),
                     ("--tol", "0"), ("--tol", "nan"), ("--rho", "2")]:
        extra = ("--start", "equiangular", "--d", "4") if opt == "--rho" else ()
        add(f"cli/simulate{opt}={val}", S + extra + (opt, val), Err(re.escape(opt)))
    add("cli/simulate--n-huge", ("simulate", "--n", "1000000000"), Err(r"--n.*GiB"))
    add("cli/simulate-grid-too-big", ("simulate", "--t-final", "1e7", "--dt", "1e-3"),
        Err(r"--t-final.*--dt.*--save-every|GiB.*--t-final"))
    add("cli/simulate--model", S + ("--model", "nope"), Err(r"--model"))
    add("cli/simulate--save-missing-dir", S + ("--save", lambda t: t / "no" / "x.npz"), Err(r"--save"))
    add("cli/simulate--save-is-dir", S + ("--save", lambda t: t), Err(r"--save.*directory"))
    add("cli/simulate--save-dir-named-like-file", S + ("--save", lambda t: (t / "x.npz").mkdir() or t / "x.npz"),
        Err(r"--save.*directory"))
    add("cli/simulate--save-exists", S + ("--save", lambda t: _write(t, "x.npz", b"")), Err(r"--save.*--force"))
    add("cli/simulate--save-readonly", S + ("--save", _ro_dir() / "x.npz"), Err(r"--save"))
    add("cli/simulate--save-suffix", S + ("--save", lambda t: t / "x.txt"), Err(r"--save.*\.npz"))
    add("cli/simulate--plot-is-dir", S + ("--plot", lambda t: t), Err(r"--plot"))
    add("cli/simulate--plot-missing-dir", S + ("--plot", lambda t: t / "no" / "x.png"), Err(r"--plot"))
    add("cli/simulate--plot-readonly", S + ("--plot", _ro_dir() / "x.png"), Err(r"--plot"))
    add("cli/simulate--plot-suffix", S + ("--plot", lambda t: t / "x.npz"), Err(r"--plot.*\.png"))
    add("cli/simulate--param-unknown", S + ("--param", "foo=1"), Err(r"foo|--param"))
    add("cli/simulate--param-syntax", S + ("--param", "=1"), Err(r"--param"))
    add("cli/simulate--param-nan", S + ("--model", "ngpt", "--param", "alpha=nan"), Err(r"alpha|--param"))
    add("cli/simulate--lam", ("simulate", "--model", "causal_alibi", "--t-final", "0.05", "--lam", "-1"), Err(r"lam"))
    add("cli/simulate--qkv-seed-negative", S + ("--model", "qkv", "--qkv-seed", "-1"), Err(r"--qkv-seed"))
    add("cli/simulate--heads-zero", S + ("--model", "multihead", "--qkv-seed", "1", "--heads", "0"), Err(r"--heads"))
    add("cli/simulate--start-equiangular-d", S + ("--start", "equiangular", "--d", "3", "--n", "6"), Err(r"--d"))
    add("cli/simulate--method-adaptive-no-rtol", S + ("--method", "adaptive"), Err(r"--rtol"))
    add("cli/simulate--method-rk4-rtol", S + ("--method", "rk4", "--rtol", "1e-6"), Err(r"--rtol"))
    add("cli/simulate--qkv-seed-for-sa", S + ("--qkv-seed", "1"), Err(r"--qkv-seed"))

    C = ("check", "--claim", "retrieval.graphon.normalised", "--quiet")
    add("cli/check--report-suffix", C + ("--report", lambda t: t / "r.txt"), Err(r"--report.*\.json"))
    add("cli/check--report-missing-dir", C + ("--report", lambda t: t / "no" / "r.json"), Err(r"--report"))
    add("cli/check--report-is-dir", C + ("--report", lambda t: (t / "r.json").mkdir() or t / "r.json"),
        Err(r"--report.*directory"))
    add("cli/check--report-readonly", C + ("--report", _ro_dir() / "r.json"), Err(r"--report"))
    add("cli/check--report-exists", C + ("--report", lambda t: _write(t, "r.json", b"{}")), Err(r"--report.*--force"))
    add("cli/check--claim-unknown", ("check", "--claim", "no_such_claim*", "--quiet"), Err(r"--claim"))
    add("cli/check--seed-negative", ("check", "--seed", "-1"), Err(r"--seed"))
    add("cli/check--seed-text", ("check", "--seed", "abc"), Err(r"--seed"))
    add("cli/check--seed-2**32", ("check", "--seed", str(2**32)), Err(r"--seed"))
    add("cli/check--profile", ("check", "--profile", "huge"), Err(r"--profile"))

    I = ("interpolate", "--n", "4", "--N", "2")
    add("cli/interpolate-infeasible-targets", ("interpolate", "--N", "100", "--n", "2"), Err(r"--N"))
    add("cli/interpolate--N-one", ("interpolate", "--N", "1"), Err(r"--N"))
    add("cli/interpolate--seed-negative", ("interpolate", "--seed", "-1"), Err(r"--seed"))
    for opt, val in [("--d", "2"), ("--n", "0"), ("--N", "0"), ("--eps", "0"), ("--eps", "nan"), ("--T", "-1"),
                     ("--T", "nan"), ("--beta", "nan"), ("--beta", "inf")]:
        add(f"cli/interpolate{opt}={val}", I + (opt, val), Err(re.escape(opt)))
    add("cli/interpolate--n-huge", ("interpolate", "--n", "100000000000"), Err(r"--n.*GiB"))
    add("cli/interpolate--plot-missing-dir", I + ("--plot", lambda t: t / "no" / "x.png"), Err(r"--plot"))
    add("cli/interpolate--plot-is-dir", I + ("--plot", lambda t: (t / "x.png").mkdir() or t / "x.png"),
        Err(r"--plot.*directory"))
    add("cli/interpolate--plot-readonly", I + ("--plot", _ro_dir() / "x.png"), Err(r"--plot"))
    add("cli/interpolate--plot-exists", I + ("--plot", lambda t: _write(t, "x.png", b"")), Err(r"--plot.*--force"))

    P = ("profile",)
    add("cli/profile-beta50-lam1000", P + ("--beta", "50", "--lam", "1000"),
        Val(lambda r: r.rc == 0 and not re.search(r"\bnan\b", r.out),
            "exit 0, no NaN (S_t(1e-3) is beyond float64 there: an honest inf)"))
    add("cli/profile-beta800", P + ("--beta", "800"),
        Val(lambda r: r.rc == 0 and not re.search(r"\bnan\b", r.out), "no NaN in the report"))
    add("cli/profile-beta1-lam1000", P + ("--lam", "1000"),
        Val(lambda r: r.rc == 0 and not re.search(r"\bnan\b", r.out), "no NaN in the report"))
    add("cli/profile-t-1e-200", P + ("--t", "1e-200"),
        Val(lambda r: r.rc == 0 and "minimum         : interior" in r.out, "interior minimum (recency)"))
    for opt, val in [("--beta", "0"), ("--beta", "nan"), ("--beta", "-1"), ("--lam", "-1"), ("--lam", "nan"),
                     ("--M", "0"), ("--M", "inf"), ("--t", "-1"), ("--t", "nan"), ("--modes", "0"),
                     ("--modes", "100000000000")]:
        add(f"cli/profile{opt}={val}", P + (opt, val), Err(re.escape(opt)))
    add("cli/profile--particles-1", P + ("--particles", "1"), Err(r"--particles"))
    add("cli/profile--prompts-1", P + ("--particles", "3", "--prompts", "1"), Err(r"--prompts"))
    add("cli/profile--dt-0", P + ("--particles", "3", "--dt", "0"), Err(r"--dt"))
    add("cli/profile--seed-negative", P + ("--particles", "3", "--seed", "-1"), Err(r"--seed"))
    add("cli/profile--particles-huge", P + ("--particles", "1000000000", "--prompts", "1000000"), Err(r"--particles|--prompts"))
    add("cli/profile--plot-suffix", P + ("--plot", lambda t: t / "x.txt"), Err(r"--plot.*\.png"))
    add("cli/profile--plot-missing-dir", P + ("--plot", lambda t: t / "no" / "x.png"), Err(r"--plot"))
    add("cli/profile--plot-is-dir", P + ("--plot", lambda t: (t / "x.png").mkdir() or t / "x.png"),
        Err(r"--plot.*directory"))
    add("cli/profile--plot-readonly", P + ("--plot", _ro_dir() / "x.png"), Err(r"--plot"))
    add("cli/profile--plot-exists", P + ("--plot", lambda t: _write(t, "x.png", b"")), Err(r"--plot.*--force"))
    add("cli/profile--sweep-missing-dir", P + ("--sweep", "--plot", lambda t: t / "no" / "x.png"), Err(r"--plot"))

    X = ("export", "sa_velocity", "--quiet")
    add("cli/export-unknown-kernel", ("export", "nope", "--out", lambda t: t / "pkg"), Err(r"NAME"))
    add("cli/export-no-names", ("export", "--out", lambda t: t / "pkg"), Err(r"NAME"))
    add("cli/export-no-out", X, Err(r"--out"))
    add("cli/export--out-not-identifier", X + ("--out", lambda t: t / "123bad"), Err(r"--out"))
    add("cli/export--out-missing-parent", X + ("--out", lambda t: t / "no" / "pkg"), Err(r"--out"))
    add("cli/export--out-is-file", X + ("--out", lambda t: _write(t, "pkg", b"x"), "--force"), Err(r"--out"))
    add("cli/export--out-foreign-dir", X + ("--out", lambda t: (t / "pkg").mkdir() or _write(t / "pkg", "a", b"x").parent,
                                             "--force"), Err(r"--out"))
    add("cli/export--force-foreign-files", X + ("--out", lambda t: _fake_export(t, True), "--force"),
        Err(r"--out.*thesis\.tex"))
    add("cli/export--out-readonly", X + ("--out", _ro_dir() / "pkg"), Err(r"--out"))
    add("cli/export--out-shadows", X + ("--out", lambda t: t / "numpy"), Err(r"--out"))
    add("cli/export--all-and-names", ("export", "sa_velocity", "--all", "--out", lambda t: t / "pkg"), Err(r"NAME"))
    add("cli/export--seed-negative", X + ("--out", lambda t: t / "pkg", "--seed", "-1"), Err(r"--seed"))
    add("cli/export--profile", X + ("--out", lambda t: t / "pkg", "--profile", "huge"), Err(r"--profile"))

    add("cli/derive--root-missing", ("derive", "--root", lambda t: t / "no"), Err(r"--root"))
    add("cli/derive--root-file", ("derive", "--root", lambda t: _write(t, "f", b"")), Err(r"--root"))
    add("cli/derive--root-readonly", ("derive", "--root", "/proc"), Err(r"--root"))
    add("cli/derive--bad-flag", ("derive", "--chek"), Err(r"--chek"))

    add("cli/sweep-missing-spec", ("sweep", lambda t: t / "no.toml", "--out", lambda t: t / "s.zarr"), Err(r"spec"))
    add("cli/sweep-bad-toml", ("sweep", lambda t: _write(t, "s.toml", b"[sweep\nmodel="), "--out", lambda t: t / "s.zarr"),
        Err(r"spec"))
    add("cli/sweep-unknown-key", ("sweep", lambda t: _write(t, "s.toml", b'[sweep]\nmodel="sa"\nfoo=1\n'),
                                  "--out", lambda t: t / "s.zarr"), Err(r"foo"))
    add("cli/sweep--workers-zero", ("sweep", lambda t: _write(t, "s.toml", _SPEC), "--out",
                                    lambda t: t / "s.zarr", "--workers", "0"), Err(r"--workers"))
    add("cli/sweep--out-is-file", ("sweep", lambda t: _write(t, "s.toml", _SPEC), "--out",
                                   lambda t: _write(t, "s.zarr", b"")), Err(r"--out|out"))
    add("cli/sweep-beta-nan", ("sweep", lambda t: _write(t, "s.toml", _SPEC.replace(b'beta = 1.0', b'beta = nan')), "--out",
                               lambda t: t / "s.zarr"), Err(r"beta"))
    add("cli/unknown-command", ("simulat",), Err(r"simulat"))
    return c


def all_cases() -> list[Case]:
    return api_cases() + cli_cases()


def main() -> None:  # pragma: no cover - the report of the corpus, run by hand
    import sys
    import tempfile

    import resource

    # a shared machine: an unguarded allocation must fail fast, not eat the RAM
    limit = int(float(os.environ.get("CORPUS_MAX_AS", 8 * 2**30)))
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    counts = {k: 0 for k in OUTCOMES}
    rows = []
    only = sys.argv[1:]
    for case in all_cases():
        if only and not any(o in case.id for o in only):
            continue
        with tempfile.TemporaryDirectory() as d:
            outcome, detail = classify(case, Path(d), timeout=float(os.environ.get("CORPUS_TIMEOUT", "10")))
        counts[outcome] += 1
        rows.append((case.id, outcome, detail))
        print(f"{outcome:9s} {case.id:45s} {detail[:160]!r}", flush=True)
    print("\ncounts:", ", ".join(f"{k} {v}" for k, v in counts.items()), f"(total {sum(counts.values())})")


if __name__ == "__main__":  # pragma: no cover
    main()
