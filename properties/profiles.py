"""Hypothesis settings profiles, registered once and chosen by one switch.

``quick``
    a handful of examples per claim; the whole registry in under 2 minutes on 2 cores.
``ci``
    the default for the test-suite; under 10 minutes on 2 cores.
``thorough``
    opt-in long runs (many examples, long horizons).

Choose with ``attnflow check --profile NAME``, or for pytest with the environment variable
``ATTNFLOW_PROFILE`` (default ``ci``).  All profiles use ``deadline=None`` (numba kernels may
compile inside an example).  ``quick`` and ``ci`` are derandomized, so a test run draws the same
examples every time (CI cannot flake on a lucky draw); ``thorough`` explores with fresh randomness.
``attnflow check`` ignores this and seeds every claim explicitly (``--seed``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["PROFILES", "register_profiles", "load_profile", "profile_from_env"]

#: Profile name -> default ``max_examples`` for a claim (claims may scale this by a cost factor).
PROFILES: dict[str, int] = {"quick": 5, "ci": 20, "thorough": 200}

_SUPPRESS = (HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much)
_registered = False


def register_profiles() -> None:
    """Register the three attnflow profiles with Hypothesis (idempotent)."""
    global _registered
    if _registered:
        return
    for name, n in PROFILES.items():
        settings.register_profile(
            f"attnflow-{name}",
            max_examples=n,
            deadline=None,
            derandomize=name != "thorough",
            suppress_health_check=_SUPPRESS,
            print_blob=True,
        )
    _registered = True


def load_profile(name: str) -> None:
    """Make ``name`` (``quick``, ``ci`` or ``thorough``) the active Hypothesis profile."""
    if name not in PROFILES:
        raise ValueError(f"profile: unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    register_profiles()
    settings.load_profile(f"attnflow-{name}")


def profile_from_env(default: str = "ci") -> str:
    """The profile named by ``ATTNFLOW_PROFILE`` (or ``default``)."""
    return os.environ.get("ATTNFLOW_PROFILE", default)
