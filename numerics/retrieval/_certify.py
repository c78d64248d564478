"""Interval-arithmetic certification of the U-shape of the retrieval profile (private).

Reduction used (derived here, checked in tests against the float derivative):
with y = Y(sigma0) = log((e^lam - 1)/(e^{lam sigma0} - 1)), a decreasing bijection (0, 1] -> [0, inf),

    S_t(sigma0) = p(sigma0) Psi(y),    Psi(y) = sum_n w_n psi_{c_n}(y) = sum_k A_k y^k,
    A_k = m_k / (k! (k+1)!),           m_k = sum_{n>=1} w_n c_n^{k+1},  c_n = a_n t,
    S_t'(sigma0) = lam p(sigma0) E(y),  E(y) = Psi(y) - (1 + G(y)) Psi'(y),  G(y) = e^y/(e^lam - 1).

So sign(S_t') = sign(E(Y(sigma0))), and S_t'' = -lam p q E'(y) at a zero of E (q > 0), i.e.
S_t'' > 0 there iff E'(y) < 0, with E'(y) = (1 - G) Psi' - (1 + G) Psi''.

Rigour:
* I_n(beta) is summed from its series in mpmath.iv with a geometric remainder bound;
* the modes n > N are bounded by a_n <= n^2 (beta/2)^n/n! exp(beta^2/(4(n+1))) (from
  (n+k)! >= n! (n+1)^k), which enters every moment m_k as an interval [0, t T c_tail^k];
* the power series of Psi, Psi', Psi'' are truncated at K terms with a geometric remainder bound
  (m_k <= C^k m_0);
* for y >= Y_max the sign E < 0 follows from the Jensen bound Psi'/Psi >= cbar/(1 + sqrt(1 + cbar y)),
  cbar = m_1/m_0 (moments are log-convex, so m_{k+1}/m_k >= cbar, and 1/(K+2) is convex), together
  with G(y) cbar/(1 + sqrt(1 + cbar y)) > 1 at Y_max and its monotonicity for y >= 1/2;
* on [0, Y_max] an adaptive partition gives, on every piece, either a strict sign of E or a strict
  sign of E' (monotone piece, endpoint signs certified), so the number of zeros of E is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mpmath import iv

__all__ = ["Certificate", "certify"]

_PREC = 96  # bits for mpmath.iv


@dataclass(frozen=True, repr=False)
class Certificate:
    """Outcome of :func:`attnflow.numerics.retrieval.certify_ushape`.

    ``verdict`` is "certified", "not U-shaped" or "inconclusive"; ``reason`` explains it.
    ``primacy``/``recency``/``unique_minimum`` are True/False when proved either way, None when
    undecided.  ``bracket`` is a sigma0-interval certified to contain the unique minimum.
    """

    verdict: str
    reason: str
    primacy: bool | None = None
    recency: bool | None = None
    unique_minimum: bool | None = None
    critical_points: int | None = None
    bracket: tuple[float, float] | None = None
    slope_at_1: tuple[float, float] | None = None     #: enclosure of E(0) (sign of S_t'(1^-))
    y_max: float | None = None                        #: E < 0 proved analytically for y >= y_max
    sigma_tail: float | None = None                   #: i.e. S_t' < 0 for sigma0 <= sigma_tail
    pieces: int = 0
    mode_tail_bound: float | None = None              #: bound on sum_{n>modes} w_n a_n
    params: dict = field(default_factory=dict)

    def __str__(self) -> str:
        s = f"{self.verdict}: {self.reason}"
        if self.bracket is not None:
            s += f"; minimum in sigma0 in [{self.bracket[0]:.10g}, {self.bracket[1]:.10g}]"
        return s

    # -- notebook display --
    def _params_text(self) -> str:
        return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.params.items())

    def __repr__(self) -> str:
        where = (f", minimum in [{self.bracket[0]:.6g}, {self.bracket[1]:.6g}]" if self.bracket is not None else "")
        params = self._params_text()
        return f"Certificate({self.verdict!r}{where}" + (f", {params}" if params else "") + ")"

    def _latex(self) -> str:
        if self.verdict == "certified" and self.bracket is not None:
            return (r"\mathcal S_t' < 0 \text{ on } (0, \sigma_0^*),\quad \mathcal S_t' > 0 \text{ on } (\sigma_0^*, 1),"
                    rf"\quad \sigma_0^* \in [{self.bracket[0]:.6g}, {self.bracket[1]:.6g}]")
        if self.recency is False:
            return r"\mathcal S_t'(1^-) < 0 \quad (\text{no recency})"
        return r"\text{U-shape of } \mathcal S_t \text{ " + self.verdict + "}"

    def _repr_latex_(self) -> str:
        """The certified statement as display math (the U-shape with the bracket of the minimum)."""
        return f"$$ {self._latex()} $$"

    def _repr_html_(self) -> str:
        """A short table: verdict, the certified statement, reason, bracket, parameters."""
        from attnflow._base.display import html_table, math_html

        def tri(v):
            return None if v is None else ("proved" if v else "disproved")

        return html_table([("verdict", self.verdict), ("statement", math_html(self._latex())), ("reason", self.reason),
                           ("primacy", tri(self.primacy)), ("recency", tri(self.recency)),
                           ("unique minimum", tri(self.unique_minimum)),
                           ("interval pieces", self.pieces or None), ("parameters", self._params_text())],
                          "Certificate of the U-shape (interval arithmetic)", raw=("statement",))


# --------------------------------------------------------------------------------------------
# rigorous ingredients


def _iv_besseli(n: int, beta) -> "iv.mpf":
    """I_n(beta) enclosure from sum_k (beta/2)^{2k+n}/(k!(k+n)!) with geometric remainder."""
    b2 = iv.mpf(beta) / 2
    z = b2 * b2
    K = 30 + int(2 * float(beta))
    term = b2**n / iv.mpf(math.factorial(n))
    total = iv.mpf(0)
    for k in range(K):
        total += term
        term = term * z / ((k + 1) * (k + 1 + n))
    # remaining terms: ratio <= z/((K+1)(K+n+1)) = r
    r = z / ((K + 1) * (K + n + 1))
    if r.b >= 1:  # pragma: no cover - K grows with beta
        raise ArithmeticError("Bessel series remainder not controlled")
    total += iv.mpf([0, (term / (1 - r)).b])
    return total


def _mode_tail(beta: float, N: int):
    """(T, Bmax): sum_{n>N} a_n <= T and max_{n>N} a_n <= Bmax, or None if not controlled."""
    q = iv.mpf(N + 2) * iv.mpf(beta) / (2 * (N + 1) ** 2)
    if q.b >= 0.9:
        return None
    m = N + 1
    B = iv.mpf(m) ** 2 * (iv.mpf(beta) / 2) ** m / iv.mpf(math.factorial(m)) * iv.exp(
        iv.mpf(beta) ** 2 / (4 * (m + 1))
    )
    T = B / (1 - q)
    return T, B


def _series_eval(coef, y, m0_hi, C, K, shift):
    """Enclosure of sum_k m_{k+shift} y^k / (k! (k+1+shift)!) for interval y >= 0.

    coef[k] holds m_k/(k!(k+1)!)-style normalised coefficients for this derivative order.
    """
    acc = iv.mpf(0)
    for k in range(K - 1, -1, -1):
        acc = acc * y + coef[k]
    # remainder: sum_{k>=K} m_0 C^{k+shift} y^k/(k!(k+1+shift)!)
    yb = iv.mpf(y.b)
    Cy = iv.mpf(C) * yb
    rho = Cy / ((K + 1) * (K + 2 + shift))
    if rho.b >= 0.5:
        raise ArithmeticError("series remainder not controlled; increase K")
    lead = iv.mpf(m0_hi) * iv.mpf(C) ** shift * Cy**K / (iv.mpf(math.factorial(K)) * iv.mpf(math.factorial(K + 1 + shift)))
    return acc + iv.mpf([0, (lead / (1 - rho)).b])


class _Profile:
    """Rigorous enclosures of E(y) and E'(y) for one parameter set."""

    def __init__(self, beta, lam, t, M, modes):
        self.lam = lam
        a = [iv.mpf(n * n) * _iv_besseli(n, beta) for n in range(1, modes + 1)]
        w = [iv.exp(-(iv.pi**2) * n * n / (2 * iv.mpf(M) ** 2)) for n in range(1, modes + 1)]
        tail = _mode_tail(beta, modes)
        if tail is None:
            raise _Undecided(f"mode tail bound not controlled for beta={beta} with modes={modes}; increase modes")
        T, B = tail
        self.tail_T = float(T.b)
        tt = iv.mpf(t)
        c = [ai * tt for ai in a]
        self.c_tail = B * tt
        # C >= every c_n (upper ends of the enclosures, kept as mpf: no rounding down)
        self.C = max([ci.b for ci in c] + [self.c_tail.b])
        self.wc = [wi * ci for wi, ci in zip(w, c)]
        self.c = c
        self.t = tt
        self.T = T
        # moments m_k, k = 0..Kmax+2, computed lazily up to a K fixed by y_max
        self.m0 = self._moment(0)
        self.m1 = self._moment(1)
        self.em1 = iv.exp(iv.mpf(lam)) - 1

    def _moment(self, k):
        s = iv.mpf(0)
        for wc, c in zip(self.wc, self.c):
            s += wc * c**k
        # tail modes: sum_{n>N} w_n c_n^{k+1} <= c_tail^k t T
        return s + iv.mpf([0, (self.c_tail**k * self.t * self.T).b])

    def prepare(self, y_max: float):
        Cf = float(self.C)
        K = int(3 * math.sqrt(Cf * y_max)) + 30
        while Cf * y_max / ((K + 1) * (K + 2)) >= 0.25:
            K += 10
        self.K = K
        m = [self._moment(k) for k in range(K + 3)]
        fac = [iv.mpf(math.factorial(k)) for k in range(K + 5)]
        # Psi = sum m_k y^k/(k!(k+1)!); Psi' = sum m_{k+1} y^k/(k!(k+2)!); Psi'' = sum m_{k+2} y^k/(k!(k+3)!)
        self.coef = [
            [m[k + j] / (fac[k] * fac[k + 1 + j]) for k in range(K)] for j in range(3)
        ]
        self.m0_hi = self.m0.b

    def psi(self, y, j):
        return _series_eval(self.coef[j], y, self.m0_hi, self.C, self.K, j)

    def E(self, y):
        G = iv.exp(y) / self.em1
        return self.psi(y, 0) - (1 + G) * self.psi(y, 1)

    def dE(self, y):
        G = iv.exp(y) / self.em1
        return (1 - G) * self.psi(y, 1) - (1 + G) * self.psi(y, 2)


class _Undecided(Exception):
    pass


def _sign(x) -> int:
    if x.a > 0:
        return 1
    if x.b < 0:
        return -1
    return 0


def _logexpm1(x: float) -> float:
    return x + math.log1p(-math.exp(-x)) if x > 1 else math.log(math.expm1(x))


def _y_to_sigma(y: float, lam: float) -> float:
    # e^{lam s} - 1 = (e^lam - 1) e^{-y}
    return math.log1p(math.exp(_logexpm1(lam) - y)) / lam


def _no_recency(changes, pieces, base) -> Certificate:
    if changes is None:
        extra = "the number of zeros of S_t' in (0, 1) was not resolved"
    elif changes == 0:
        extra = "S_t' < 0 on all of (0, 1) (certified): the profile decreases to its minimum at sigma0 = 1"
    elif changes == 2:
        extra = ("S_t' has exactly 2 zeros in (0, 1) (certified): an interior local minimum followed by a "
                 "local maximum, the profile then decreases into sigma0 = 1")
    else:
        extra = f"S_t' has exactly {changes} zeros in (0, 1) (certified)"
    return Certificate("not U-shaped", "no recency: S_t'(1^-) < 0 (certified); " + extra, recency=False,
                       unique_minimum=False if changes == 0 else None, critical_points=changes, pieces=pieces, **base)


def certify(*, beta, lam, t, M, modes, max_pieces=4000) -> Certificate:
    params = dict(beta=beta, lam=lam, t=t, M=M, modes=modes)
    if t == 0 or beta == 0:
        return Certificate("not U-shaped", "S_t is identically 0 (t = 0 or beta = 0: all a_n t = 0)",
                           primacy=False, recency=False, params=params)
    if lam == 0:
        return Certificate(
            "not U-shaped",
            "lam = 0: S_t'(sigma0) = -Psi'(log 1/sigma0)/sigma0 < 0 on (0, 1] (Psi' has positive "
            "coefficients), so there is no recency and no interior minimum",
            primacy=True, recency=False, unique_minimum=False, critical_points=0, params=params)
    old_prec = iv.prec
    iv.prec = _PREC
    try:
        return _certify_body(beta, lam, t, M, modes, max_pieces, params)
    finally:
        iv.prec = old_prec


def _certify_body(beta, lam, t, M, modes, max_pieces, params) -> Certificate:
    try:
        P = _Profile(beta, lam, t, M, modes)
    except _Undecided as exc:
        return Certificate("inconclusive", str(exc), params=params)
    # ---- tail y >= y_max: E < 0 from the Jensen bound
    cbar = P.m1 / P.m0
    cb = float(cbar.a)
    y = 1.0
    for _ in range(60):
        y_new = max(0.5, _logexpm1(lam) + math.log((1 + math.sqrt(1 + cb * y)) / cb))
        if abs(y_new - y) < 1e-9:
            break
        y = y_new
    y_max = max(0.5, y + 0.5)

    def tail_ok(ym):
        Y = iv.mpf(ym)
        val = iv.exp(Y) / P.em1 * cbar / (1 + iv.sqrt(1 + cbar * Y))
        return val.a > 1

    tries = 0
    while not tail_ok(y_max):
        y_max += 1.0
        tries += 1
        if tries > 50:
            return Certificate("inconclusive", "could not place the analytic tail bound", params=params)
    P.prepare(y_max)
    sigma_tail = _y_to_sigma(y_max, lam)
    # ---- recency: sign of E(0)  (S_t'(1^-) = lam p(1) E(0))
    E0 = P.E(iv.mpf(0))
    s0 = _sign(E0)
    base = dict(primacy=True, y_max=y_max, sigma_tail=sigma_tail,
                slope_at_1=(float(E0.a), float(E0.b)), mode_tail_bound=P.tail_T, params=params)
    if s0 == 0:
        return Certificate("inconclusive", "the sign of S_t'(1^-) is not decided by the enclosure "
                           f"[{float(E0.a):.3g}, {float(E0.b):.3g}] (t is too close to the recency threshold, "
                           f"or the bound {P.tail_T:.2g} on the discarded modes n > {modes} is too wide)", **base)
    # ---- adaptive partition of [0, y_max]
    n0 = 64
    stack = [(y_max * (i + 1) / n0, y_max * i / n0) for i in range(n0)]  # popped in increasing y
    stack.reverse()
    segments = []  # (y0, y1, sign or ('mono', sign_left, sign_right))
    pieces = 0
    while stack:
        hi, lo = stack.pop()
        pieces += 1
        if pieces > max_pieces:
            if s0 < 0:
                return _no_recency(None, pieces, base)
            return Certificate("inconclusive", f"partition exceeded {max_pieces} pieces", recency=True,
                               pieces=pieces, **base)
        Y = iv.mpf([lo, hi])
        sg = _sign(P.E(Y))
        if sg != 0:
            segments.append((lo, hi, sg, sg))
            continue
        d = _sign(P.dE(Y))
        if d != 0:
            sl = _sign(P.E(iv.mpf(lo)))
            sr = _sign(P.E(iv.mpf(hi)))
            if sl != 0 and sr != 0:
                segments.append((lo, hi, sl, sr))
                continue
        if hi - lo < 1e-13 * max(1.0, y_max):
            if s0 < 0:
                return _no_recency(None, pieces, base)
            return Certificate(
                "inconclusive",
                f"could not separate a zero of S_t' near sigma0 = {_y_to_sigma(lo, lam):.6g} (enclosure width "
                f"limited by the bound {P.tail_T:.2g} on the discarded modes n > {modes}; try more modes)",
                recency=True, pieces=pieces, **base)
        mid = 0.5 * (lo + hi)
        stack.append((hi, mid))
        stack.append((mid, lo))
    # count sign changes in increasing y
    signs = []
    brackets = []
    for lo, hi, sl, sr in segments:
        if not signs or signs[-1] != sl:
            if signs:  # change exactly at a piece boundary cannot happen: boundary signs are strict
                brackets.append((lo, lo))
            signs.append(sl)
        if sr != sl:
            brackets.append((lo, hi))
            signs.append(sr)
    changes = len(signs) - 1
    if signs[-1] != -1 or signs[0] != s0:  # pragma: no cover - contradicts the tail bound / E(0)
        return Certificate("inconclusive", "internal inconsistency of the enclosures", pieces=pieces, **base)
    if s0 < 0:
        return _no_recency(changes, pieces, base)
    if changes == 1:
        ylo, yhi = brackets[0]
        # float conversion of the y-bracket, widened outwards by 1e-12 relative
        br = (_y_to_sigma(yhi, lam) * (1 - 1e-12), min(1.0, _y_to_sigma(ylo, lam) * (1 + 1e-12)))
        return Certificate(
            "certified",
            "primacy (S_t -> inf as sigma0 -> 0), recency (S_t'(1^-) > 0) and exactly one zero of S_t' "
            "in (0, 1), where S_t'' > 0",
            recency=True, unique_minimum=True, critical_points=1, bracket=br, pieces=pieces, **base)
    return Certificate(
        "not U-shaped",
        f"S_t' has exactly {changes} zeros in (0, 1) (certified): {(changes + 1) // 2} local minima, "
        "the profile is not unimodal",
        recency=True, unique_minimum=False, critical_points=changes, pieces=pieces, **base)
