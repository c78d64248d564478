"""Rate fitting for rate claims: log-linear regression over a trajectory, log-log over sizes.

The implementation lives in :mod:`attnflow.numerics._fit` (numerics never imports properties);
this module re-exports it for the claims and :mod:`attnflow.properties.registry`.
"""

from __future__ import annotations

from attnflow.numerics._fit import fit_exponential_rate, fit_power_law

__all__ = ["fit_exponential_rate", "fit_power_law"]
