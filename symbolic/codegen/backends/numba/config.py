"""Settings of the numba backend (in the spirit of SymForce's per-backend config objects)."""

from __future__ import annotations

import dataclasses

__all__ = ["NumbaConfig"]


@dataclasses.dataclass(frozen=True)
class NumbaConfig:
    """How the numba kernels are printed.

    Attributes
    ----------
    rows : int
        Rows per block of the self-attention kernel (each x_j is loaded once per block; 4
        independent dependency chains measured best on the 2-core development machine).
    cse : bool
        Common-subexpression elimination of the printed expressions (``sympy.cse``).
    """

    rows: int = 4
    cse: bool = True
