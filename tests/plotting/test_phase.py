"""attnflow.plotting: figures with labelled axes, colour bar and title (Agg; no display), built from a
synthetic diagram and from a dataset shaped like a sweep store."""

import json

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from attnflow import plotting  # noqa: E402
from attnflow.numerics.phase import equiangular_boundary  # noqa: E402


def _diagram():
    times = np.linspace(0.0, 10.0, 41)
    betas = np.linspace(0.5, 4.0, 6)
    centres = equiangular_boundary(betas, 16) + 0.3
    p = np.clip((times[None, :] - centres[:, None] + 1.0) / 2.0, 0.0, 1.0)
    return p, times, betas


def _colorbar_axes(fig, main):
    return [ax for ax in fig.axes if ax not in main]


def test_phase_diagram_figure_is_labelled():
    from matplotlib.figure import Figure

    p, times, betas = _diagram()
    fig = plotting.phase_diagram(p, times, betas, n=16, d=8, model="sa")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert "$t$" in ax.get_xlabel() and "units" in ax.get_xlabel() and r"$\beta$" in ax.get_ylabel()
    assert "$n = 16$" in ax.get_title() and "$d = 8$" in ax.get_title()
    (cax,) = _colorbar_axes(fig, [ax])
    assert cax.get_ylabel() == plotting.PAIR_LABEL
    labels = ax.get_legend_handles_labels()[1]
    assert any("equiangular" in s for s in labels) and any("boundary" in s for s in labels)
    # the drawn prediction is the equiangular curve (x = t_beta, y = beta)
    line = next(ln for ln in ax.get_lines() if "equiangular" in ln.get_label())
    np.testing.assert_allclose(line.get_xdata(), equiangular_boundary(betas, 16))
    fig.canvas.draw()  # mathtext renders


def test_sweep_figure_from_a_store_shaped_dataset():
    xr = pytest.importorskip("xarray")
    p, times, betas = _diagram()
    seeds = np.arange(3)
    data = np.broadcast_to(p[None, :, None, :], (2, len(betas), len(seeds), len(times))).copy()
    spec = {"fixed": {"model": "sa", "n": 16}, "delta": 1e-3, "method": "rk4", "params": []}
    ds = xr.Dataset({"pair_fraction": (("d", "beta", "seed", "t"), data)},
                    coords={"d": [8, 128], "beta": betas, "seed": seeds, "t": times},
                    attrs={"sweep_spec": json.dumps(spec)})
    fig = plotting.sweep_figure(ds)
    main = [ax for ax in fig.axes if "$t$" in ax.get_xlabel()]
    assert len(main) == 2
    assert [ax.get_title() for ax in main] == ["SA, $n = 16$, $d = 8$, rk4", "SA, $n = 16$, $d = 128$, rk4"]
    assert all(r"$\beta$" in ax.get_ylabel() for ax in main)
    assert _colorbar_axes(fig, main)[0].get_ylabel() == plotting.PAIR_LABEL
    assert "mean over 3 seeds" in fig._suptitle.get_text()
    # a partial store (chunks not computed yet are NaN): the panels say how many seeds they average
    part = ds.copy(deep=True)
    part["pair_fraction"][1, 1:, 1:, :] = np.nan  # d = 128: seeds 1, 2 missing for every beta but the first
    fig = plotting.sweep_figure(part)
    titles = [ax.get_title() for ax in fig.axes if "$t$" in ax.get_xlabel()]
    assert titles == ["SA, $n = 16$, $d = 8$, rk4", "SA, $n = 16$, $d = 128$, rk4, 1-3 of 3 seeds"]
    assert "seeds computed" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="observable"):
        plotting.sweep_figure(ds, "energy")
    with pytest.raises(ValueError, match="beta"):
        plotting.sweep_figure(ds.isel(beta=[0]))


def test_staircase_and_bad_input():
    t = np.logspace(-1, 3, 50)
    v = np.vstack([np.tanh(t / s) for s in (1.0, 10.0)])
    fig = plotting.staircase(t, v, [1.0, 2.0], ylabel="order parameter")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "order parameter"
    with pytest.raises(ValueError, match="values"):
        plotting.staircase(t, v[:1], [1.0, 2.0], ylabel="r")
    with pytest.raises(ValueError, match="times"):
        plotting.staircase(np.r_[0.0, t[1:]], v, [1.0, 2.0], ylabel="r")
    with pytest.raises(ValueError, match="p"):
        plotting.phase_diagram(np.zeros((2, 3)), [0, 1], [1, 2])


def test_staircase_with_two_panels():
    t = np.logspace(-1, 3, 20)
    r = np.vstack([np.tanh(t), np.tanh(t / 10)])
    fig = plotting.staircase(t, {"order parameter": r, "number of clusters": 5 - 4 * r}, [250.0, 4000.0],
                             title="staircase")
    assert [ax.get_ylabel() for ax in fig.axes] == ["order parameter", "number of clusters"]
    assert all(ax.get_xscale() == "log" for ax in fig.axes)
    assert fig.axes[0].get_legend_handles_labels()[1] == [r"$\beta = 250$", r"$\beta = 4000$"]
