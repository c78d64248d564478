"""Shared pytest configuration: Hypothesis profile switch and the opt-in ``slow`` marker.

``ATTNFLOW_PROFILE=quick|ci|thorough pytest`` selects the Hypothesis profile (default ``ci``);
``pytest --runslow`` also runs tests marked ``@pytest.mark.slow``; ``pytest --update-golden`` rewrites
golden files (the generated kernels) instead of failing on a difference.  The run is parallel
(pytest-xdist, ``-n auto --dist loadfile`` in pyproject.toml: one worker process per core, at most 4);
``pytest -n 0`` runs everything in one process.
"""

import matplotlib
import pytest

matplotlib.use("Agg")

from attnflow.properties.profiles import load_profile, profile_from_env  # noqa: E402

load_profile(profile_from_env())


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite golden files (numerics/_generated) instead of comparing")


@pytest.fixture
def update_golden(request) -> bool:
    """True with ``pytest --update-golden`` (or ``ATTNFLOW_UPDATE_GOLDEN=1``)."""
    import os

    return bool(request.config.getoption("--update-golden")) or os.environ.get("ATTNFLOW_UPDATE_GOLDEN") == "1"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    """``-n auto`` (the default, pyproject.toml): one worker per core, at most 4 (every worker compiles and
    holds its own numba kernels; more workers than that mostly repeat the compilation)."""
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(4, cores))


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: opt in with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
