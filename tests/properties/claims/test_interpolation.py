"""The ``interpolation.*`` claims (properties/claims/interpolation.py) run under the quick profile with
fixed seeds and reach the outcome their expectation asks for (arXiv:2411.04551).
"""

from __future__ import annotations

import math

import pytest

from attnflow.properties.registry import get_claim, run_claim


IDS = [
    "interpolation.dirac_targets",
    "interpolation.cluster_time",
    "interpolation.gate_sign.printed",
    "interpolation.gate_sign.corrected",
    "interpolation.mass_concentration.sqrt",
    "interpolation.mass_concentration.linear",
    "interpolation.general_targets.reached",
    "interpolation.general_targets.switches",
    "interpolation.general_targets.same_barycentre",
]


@pytest.mark.parametrize("claim_id", IDS)
def test_claim_matches_its_expectation(claim_id):
    run = run_claim(get_claim(claim_id), profile="quick", seed=12345)
    assert run.ok, run.to_dict()
    expect = {"holds": "holds", "fails": "fails", "explore": "explored"}[get_claim(claim_id).expect]
    assert run.outcome == expect
    if expect == "fails":
        assert run.counterexample  # a negative control must exhibit its counterexample
    else:
        assert run.measurement is not None and run.measurement["n"] >= 1


def test_expectations_are_the_ones_of_claims_md():
    assert get_claim("interpolation.gate_sign.printed").expect == "fails"
    assert get_claim("interpolation.gate_sign.corrected").expect == "holds"
    assert get_claim("interpolation.mass_concentration.linear").expect == "fails"
    assert get_claim("interpolation.mass_concentration.sqrt").expect == "holds"
    assert "same-barycentre" in get_claim("interpolation.dirac_targets").title


def test_dirac_targets_check_rejects_a_missed_target():
    """The check is not vacuous: a target that the construction was not asked to reach is caught."""
    import numpy as np

    from attnflow.numerics.interpolation import draw_instance
    from attnflow.properties.claims.interpolation import dirac_targets
    from attnflow.properties.registry import Violation

    clouds, targets = draw_instance(3, 2, 8, seed=3)
    ex = {"d": 3, "N": 2, "n": 8, "seed": 3, "clouds": clouds, "targets": targets}
    m = dirac_targets.check(ex)
    assert m.value <= 1.0 and m.extra["switches / (d N)"] <= 1.0
    # independent value: W2 of the input clouds to their targets is far above eps
    w0 = max(math.sqrt(np.mean(np.sum((c - t) ** 2, axis=1))) for c, t in zip(clouds, targets))
    assert w0 > 0.1
    with pytest.raises(Violation):
        from attnflow.properties.claims import interpolation as mod

        old = mod.SWITCH_CONSTANT
        mod.SWITCH_CONSTANT = 0.0  # no switch allowed: must be reported as a violation
        try:
            dirac_targets.check(ex)
        finally:
            mod.SWITCH_CONSTANT = old


def test_general_targets_check_can_fail(monkeypatch):
    """A schedule that is not the one that produced the final clouds (its last layer dropped) and a
    schedule without its route legs (targets missed) are both violations."""
    import dataclasses

    import numpy as np

    from attnflow.numerics.interpolation import Schedule, draw_general_instance, flow
    from attnflow.properties.claims import interpolation as mod
    from attnflow.properties.registry import Violation

    clouds, atoms, weights = draw_general_instance(3, 2, 8, 2, seed=5)
    ex = {"d": 3, "N": 2, "n": 8, "M": 2, "seed": 5, "clouds": clouds, "atoms": atoms, "weights": weights}
    res = mod.construct_general_interpolation(clouds, atoms, weights, T=mod.GENERAL_T, eps=mod.GENERAL_EPS, seed=5,
                                              hole=-np.eye(3)[0])
    dropped = dataclasses.replace(res, schedule=Schedule(res.schedule.layers[:-1]), steps=res.steps[:-1])
    keep = [k for k, lay in enumerate(res.schedule.layers) if not lay.label.startswith("route")]
    sch = Schedule(tuple(res.schedule.layers[k] for k in keep))
    steps = [res.steps[k] for k in keep]
    unsteered = dataclasses.replace(res, schedule=sch, steps=steps, final=flow(clouds, sch, dt=None, steps=steps))
    for bad, match in ((dropped, "shared schedule"), (unsteered, "exceed eps")):
        monkeypatch.setattr(mod, "construct_general_interpolation", lambda *a, _r=bad, **k: _r)
        with pytest.raises(Violation, match=match):
            mod.general_targets_reached.check(ex)
