"""Shared pytest configuration: Hypothesis profile switch and the opt-in ``slow`` marker.

``ATTNFLOW_PROFILE=quick|ci|thorough pytest`` selects the Hypothesis profile (default ``ci``);
``pytest --runslow`` also runs tests marked ``@pytest.mark.slow``.
"""

import matplotlib
import pytest

matplotlib.use("Agg")

from attnflow.properties.profiles import load_profile, profile_from_env  # noqa: E402

load_profile(profile_from_env())


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: opt in with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
