"""A symbolic result: statement, derivation steps, source and (lazily computed) proof."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import html
from collections.abc import Callable

import sympy as sp

from attnflow.symbolic.proof import Proof

__all__ = ["Result", "Step", "latex", "expr_hash"]


def latex(expr) -> str:
    """Deterministic LaTeX for an expression (fixed printer settings)."""
    if isinstance(expr, str):
        return expr
    return sp.latex(expr, order="lex", ln_notation=False, mul_symbol=None)


def expr_hash(expr) -> str:
    """A stable content hash of a SymPy expression (sha256 of its ``srepr``, 16 hex digits)."""
    return hashlib.sha256(sp.srepr(expr).encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class Step:
    """One displayed step of a derivation: explanatory text and (optionally) a LaTeX equation."""

    text: str
    equation: str = ""


@dataclasses.dataclass(eq=False, repr=False)
class Result:
    """One derived result.

    Parameters
    ----------
    id : str
        Dotted id; the id of the claim it supports where one fits (``energy.dissipation.sa``).
    title : str
        Short human title.
    topic : str
        Name of the derivations document the result appears in (``energy``, ``equiangular``...).
    statement : str
        The statement in LaTeX (display math, no ``$``).
    source : str
        Citation: arXiv id and label (theorem, section, equation), or the result named in words.
    prover : callable
        ``() -> Proof``; called at most once, lazily (see :attr:`proof`).
    steps : tuple of Step
        Derivation steps shown in the document.
    notes : str
        Markdown shown after the proof status (findings, caveats).
    expect : str
        ``"holds"`` (default) or ``"fails"`` for a would-be statement recorded as a negative
        control: its ``refuted`` status is then the expected outcome, not a finding.
    """

    id: str
    title: str
    topic: str
    statement: str
    source: str
    prover: Callable[[], Proof]
    steps: tuple[Step, ...] = ()
    notes: str = ""
    expect: str = "holds"

    def __post_init__(self) -> None:
        if self.expect not in ("holds", "fails"):
            raise ValueError(f"expect: must be 'holds' or 'fails', got {self.expect!r}")

    @functools.cached_property
    def proof(self) -> Proof:
        """The proof, computed on first access and cached."""
        p = self.prover()
        if not isinstance(p, Proof):
            raise TypeError(f"prover of {self.id} returned {type(p).__name__}, expected Proof")
        return p

    @property
    def status(self) -> str:
        return self.proof.status

    # -- notebook display (never runs the prover: the status shows once the proof was computed) --

    def _status_text(self) -> str:
        proof = self.__dict__.get("proof")
        if proof is None:
            return "proof not computed yet (r.proof)"
        return proof.status + (" (expected: negative control)" if self.expect == "fails" else "")

    def __repr__(self) -> str:
        return f"Result({self.id!r}, {self.title!r}, topic={self.topic!r}, {self._status_text()})"

    def _repr_latex_(self) -> str:
        """The statement as display math (Jupyter's ``text/latex``)."""
        return f"$$ {self.statement} $$"

    def _repr_html_(self) -> str:
        """A short table: id, title, statement (typeset by the notebook's MathJax), status, source."""
        rows = [("result", f"<code>{html.escape(self.id)}</code> &mdash; {html.escape(self.title)}"),
                ("statement", f"\\[ {html.escape(self.statement)} \\]"),
                ("status", html.escape(self._status_text())),
                ("source", html.escape(self.source))]
        body = "".join(f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>{v}</td></tr>"
                       for k, v in rows)
        return f"<table>{body}</table>"

    @property
    def is_finding(self) -> bool:
        """True when the outcome contradicts the expectation (a refuted claim expected to hold,
        or a negative control that was not refuted)."""
        return (self.status == "refuted") != (self.expect == "fails")
