r"""A tiny index-free vector algebra for symbolic proofs on the sphere.

Vectors are finite linear combinations of *named* vectors (atoms) with SymPy coefficients;
linear maps act on atoms by name; the inner product of two atoms is a real SymPy symbol
(``<x,y>``) unless a constraint fixes it (``<x,x> = 1`` for a unit vector, ``<x,v> = 0`` for a
tangent vector).  Because nothing refers to coordinates or to the dimension, an identity that
reduces to ``0`` in this algebra holds in every dimension :math:`d` and for every configuration
satisfying the declared constraints.

Conventions
-----------
* ``M(x)`` for a linear map ``M`` is the atom ``Mx``; maps compose by prefixing (``M(N(x)) = MNx``).
* Inner products are canonicalised with adjoints, :math:`\langle L a, R b\rangle =
  \langle a, L^{\top} R b\rangle`, and with the symmetry of the real inner product, so
  ``<Vx,y>`` and ``<x,Vy>`` are the same symbol when ``V`` is declared symmetric, and
  ``<Ax,y>`` equals ``<x,A^T y>`` (a different symbol from ``<x,Ay>``) for a general ``A``.
* :meth:`Space.relate` fixes the value of one inner product of atoms (a constraint).

Example
-------
>>> S = Space()
>>> x = S.vector("x", unit=True)
>>> f = S.vector("f")
>>> p = S.tangent(x, f)                  # P_x f = f - <x,f> x
>>> import sympy as sp
>>> sp.expand(p.dot(f) - p.norm2())       # <P_x f, f> = |P_x f|^2 on the sphere
0

References
----------
Used for the dissipation identities of 2312.10794 (§3, Lemma on the interaction energy) and
2512.01868 (gradient-flow structure); ``derivations/energy.md`` (dissipation identities, first and second
variation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import sympy as sp

__all__ = ["Space", "Vec", "LinearMap"]

Atom = tuple[tuple[str, ...], str]  # (word of map names, outermost first; base vector name)


def _atom_name(atom: Atom) -> str:
    word, base = atom
    return "".join(word) + base


class LinearMap:
    r"""A named linear map :math:`M` acting on the atoms of a :class:`Space`.

    Calling it on a :class:`Vec` applies it linearly: :math:`M(\sum c_k a_k) = \sum c_k\, M a_k`.
    Create it with :meth:`Space.linear_map`.
    """

    def __init__(self, space: "Space", name: str, transpose: str):
        self.space = space
        self.name = name
        self.transpose_name = transpose

    @property
    def symmetric(self) -> bool:
        """True if :math:`M = M^\\top` was declared."""
        return self.transpose_name == self.name

    @property
    def T(self) -> "LinearMap":
        """The transpose :math:`M^\\top` (itself when symmetric)."""
        return self.space._maps[self.transpose_name]

    def __call__(self, v: "Vec") -> "Vec":
        if not isinstance(v, Vec) or v.space is not self.space:
            raise ValueError(f"v: expected a Vec of the same Space as map {self.name!r}")
        out: dict[Atom, sp.Expr] = {}
        for (word, base), c in v.terms.items():
            key = ((self.name,) + word, base)
            out[key] = out.get(key, 0) + c
        return Vec(self.space, out)

    def __repr__(self) -> str:
        return f"LinearMap({self.name!r}, symmetric={self.symmetric})"


class Vec:
    r"""A vector :math:`\sum_k c_k a_k`: SymPy coefficients :math:`c_k` on named atoms :math:`a_k`.

    Supports ``+``, ``-``, multiplication and division by scalars, :meth:`dot` (bilinear
    expansion into the inner-product symbols of the space), :meth:`norm2`, coefficient-wise
    :meth:`diff` and :meth:`applyfunc`.
    """

    def __init__(self, space: "Space", terms: Mapping[Atom, sp.Expr]):
        self.space = space
        self.terms: dict[Atom, sp.Expr] = {a: sp.sympify(c) for a, c in terms.items() if c != 0}

    # arithmetic --------------------------------------------------------------------------
    def _check(self, other: "Vec") -> None:
        if not isinstance(other, Vec) or other.space is not self.space:
            raise ValueError("other: expected a Vec of the same Space")

    def __add__(self, other: "Vec") -> "Vec":
        self._check(other)
        out = dict(self.terms)
        for a, c in other.terms.items():
            out[a] = out.get(a, 0) + c
        return Vec(self.space, out)

    def __neg__(self) -> "Vec":
        return Vec(self.space, {a: -c for a, c in self.terms.items()})

    def __sub__(self, other: "Vec") -> "Vec":
        return self + (-other)

    def __mul__(self, scalar) -> "Vec":
        if isinstance(scalar, Vec):
            raise ValueError("scalar: vectors multiply by scalars only; use .dot for inner products")
        s = sp.sympify(scalar)
        return Vec(self.space, {a: s * c for a, c in self.terms.items()})

    __rmul__ = __mul__

    def __truediv__(self, scalar) -> "Vec":
        return self * (1 / sp.sympify(scalar))

    # algebra ----------------------------------------------------------------------------
    def dot(self, other: "Vec") -> sp.Expr:
        r""":math:`\langle u, v\rangle = \sum_{k,l} c_k d_l \langle a_k, b_l\rangle` (bilinear expansion)."""
        self._check(other)
        total = sp.Integer(0)
        for a, c in self.terms.items():
            for b, e in other.terms.items():
                total += c * e * self.space.inner_atoms(a, b)
        return total

    def norm2(self) -> sp.Expr:
        r""":math:`|v|^2 = \langle v, v\rangle`."""
        return self.dot(self)

    def diff(self, *symbols) -> "Vec":
        """Differentiate every coefficient (the atoms are constant)."""
        return Vec(self.space, {a: sp.diff(c, *symbols) for a, c in self.terms.items()})

    def applyfunc(self, fn: Callable[[sp.Expr], sp.Expr]) -> "Vec":
        """Apply ``fn`` to every coefficient (e.g. ``lambda c: c.subs(s, 0)``)."""
        return Vec(self.space, {a: fn(c) for a, c in self.terms.items()})

    def coefficient(self, v: "Vec") -> sp.Expr:
        """The coefficient of the atom ``v`` (a vector made by :meth:`Space.vector` or a map)."""
        self._check(v)
        if len(v.terms) != 1 or list(v.terms.values())[0] != 1:
            raise ValueError("v: expected a single atom with coefficient 1")
        return self.terms.get(next(iter(v.terms)), sp.Integer(0))

    def is_zero(self) -> bool:
        """True if every coefficient expands to 0."""
        return all(sp.expand(c) == 0 for c in self.terms.values())

    def __repr__(self) -> str:
        if not self.terms:
            return "Vec(0)"
        parts = [f"({c})*{_atom_name(a)}" for a, c in sorted(self.terms.items())]
        return "Vec(" + " + ".join(parts) + ")"


class Space:
    r"""A real inner-product space described only through named vectors and constraints.

    Parameters
    ----------
    real_symbols : bool
        Inner-product symbols are created ``real=True`` (and ``nonnegative=True`` for the
        square :math:`\langle a,a\rangle` of an atom).

    Notes
    -----
    The inner product is symmetric and bilinear; the transpose of a map is its adjoint,
    :math:`\langle M a, b\rangle = \langle a, M^\top b\rangle`.
    """

    def __init__(self, real_symbols: bool = True):
        self._real = real_symbols
        self._maps: dict[str, LinearMap] = {}
        self._bases: set[str] = set()
        self._values: dict[tuple, sp.Expr] = {}
        self._symbols: dict[tuple, sp.Symbol] = {}

    # construction -----------------------------------------------------------------------
    def vector(self, name: str, *, unit: bool = False) -> Vec:
        """A named vector (atom); ``unit=True`` adds the constraint :math:`\\langle x,x\\rangle = 1`."""
        if not name or not isinstance(name, str):
            raise ValueError("name: give a non-empty string")
        if name in self._bases:
            raise ValueError(f"name: vector {name!r} already exists in this space; pick another name")
        self._bases.add(name)
        v = Vec(self, {((), name): 1})
        if unit:
            self.relate(v, v, 1)
        return v

    def vectors(self, names: Sequence[str], *, unit: bool = False) -> list[Vec]:
        """Several atoms at once (see :meth:`vector`)."""
        return [self.vector(n, unit=unit) for n in names]

    def linear_map(self, name: str, *, symmetric: bool = False) -> LinearMap:
        """A named linear map; a general map also creates its transpose ``name + "^T"``."""
        if name in self._maps:
            raise ValueError(f"name: map {name!r} already exists in this space; pick another name")
        if symmetric:
            m = LinearMap(self, name, name)
            self._maps[name] = m
            return m
        tname = name + "^T"
        m = LinearMap(self, name, tname)
        self._maps[name] = m
        self._maps[tname] = LinearMap(self, tname, name)
        return m

    def relate(self, u: Vec, v: Vec, value) -> None:
        r"""Constrain :math:`\langle u, v\rangle` = ``value`` for atoms ``u``, ``v``."""
        for arg, w in (("u", u), ("v", v)):
            if not isinstance(w, Vec) or w.space is not self or len(w.terms) != 1 or list(w.terms.values())[0] != 1:
                raise ValueError(f"{arg}: expected a single atom of this space (coefficient 1)")
        self._values[self._key(next(iter(u.terms)), next(iter(v.terms)))] = sp.sympify(value)

    def orthogonal(self, u: Vec, v: Vec) -> None:
        r"""Constrain :math:`\langle u, v\rangle = 0`."""
        self.relate(u, v, 0)

    def tangent(self, x: Vec, v: Vec) -> Vec:
        r"""Tangent projection :math:`P_x v = v - \langle x, v\rangle x` (``x`` should be a unit vector)."""
        return v - x * x.dot(v)

    # inner products ----------------------------------------------------------------------
    def _adjoint(self, word: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self._maps[m].transpose_name for m in reversed(word))

    def _key(self, a: Atom, b: Atom) -> tuple:
        (wa, ba), (wb, bb) = a, b
        w = self._adjoint(wa) + wb  # <L a, R b> = <a, L^T R b>
        k1 = (ba, w, bb)
        k2 = (bb, self._adjoint(w), ba)
        return min(k1, k2)

    def inner_atoms(self, a: Atom, b: Atom) -> sp.Expr:
        """The inner product of two atoms: a constrained value or a real symbol ``<a,Wb>``."""
        key = self._key(a, b)
        if key in self._values:
            return self._values[key]
        if key not in self._symbols:
            ba, w, bb = key
            name = f"<{ba},{''.join(w)}{bb}>"
            assumptions = {"real": True} if self._real else {}
            if self._real and ba == bb and not w:  # |a|^2
                assumptions["nonnegative"] = True
            self._symbols[key] = sp.Symbol(name, **assumptions)
        return self._symbols[key]

    def latex_names(self) -> dict[sp.Symbol, str]:
        r"""``{symbol: LaTeX}`` for ``sympy.latex(expr, symbol_names=...)``, e.g. ``\langle a, M^{\top}b\rangle``."""
        out = {}
        for (ba, w, bb), sym in self._symbols.items():
            word = "".join(m[:-2] + r"^{\top}" if m.endswith("^T") else m for m in w)
            out[sym] = rf"\langle {ba}, {word}{bb}\rangle"
        return out

    def symbols(self) -> list[sp.Symbol]:
        """Every inner-product symbol created so far, sorted by name."""
        return sorted(self._symbols.values(), key=lambda s: s.name)

    def substitution(
        self,
        vectors: Mapping[str, Sequence],
        maps: Mapping[str, Sequence[Sequence]] | None = None,
    ) -> dict[sp.Symbol, sp.Expr]:
        r"""Values of the inner-product symbols for concrete vectors and matrices.

        Parameters
        ----------
        vectors : mapping
            ``{base name: coordinates}`` (numbers or SymPy expressions).
        maps : mapping, optional
            ``{map name: square matrix}`` for every (non-transposed) map in use; the transpose
            of a general map is taken automatically.

        Returns
        -------
        dict
            ``{symbol: value}`` for :meth:`symbols`; constrained values are checked too and a
            ``ValueError`` names the first violated constraint.
        """
        maps = dict(maps or {})
        mats: dict[str, sp.Matrix] = {}
        for name, m in self._maps.items():
            if name in maps:
                mats[name] = sp.Matrix(maps[name])
        for name, m in self._maps.items():
            if name not in mats and m.transpose_name in mats:
                mats[name] = mats[m.transpose_name].T
        vecs = {k: sp.Matrix(v) for k, v in vectors.items()}

        def realise(base: str, word: tuple[str, ...]) -> sp.Matrix:
            if base not in vecs:
                raise ValueError(f"vectors: no coordinates for vector {base!r}")
            out = vecs[base]
            for m in reversed(word):
                if m not in mats:
                    raise ValueError(f"maps: no matrix for map {m!r}")
                out = mats[m] * out
            return out

        def value(key) -> sp.Expr:
            ba, w, bb = key
            return sp.nsimplify(0) + (realise(ba, ()).T * realise(bb, w))[0, 0]

        for key, val in self._values.items():
            if all(k in vecs for k in (key[0], key[2])):
                got = value(key)
                if sp.simplify(got - val) != 0:
                    raise ValueError(
                        f"vectors: constraint <{key[0]},{''.join(key[1])}{key[2]}> = {val} violated (got {got})"
                    )
        return {s: value(key) for key, s in self._symbols.items()}

