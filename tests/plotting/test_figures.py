"""attnflow.plotting: the figures of every command (one style: labelled axes, the run in the title, a
legend entry for every curve), checked against values computed here by an independent route."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from attnflow import plotting  # noqa: E402
from attnflow.numerics import random_sphere, simulate  # noqa: E402


@pytest.fixture(scope="module")
def run():
    tr = simulate("sa", random_sphere(12, 3, seed=3), beta=2.0, t_final=4.0, dt=0.05, save_every=4)
    tr.params["start_seed"] = 3
    return tr


@pytest.fixture(scope="module")
def batch():
    xs = random_sphere(5 * 10, 3, seed=4).reshape(5, 10, 3)
    return simulate("sa", xs, beta=3.0, t_final=6.0, dt=0.05, t_eval=np.linspace(0, 6, 13), energy=True)


def _curves_labelled(fig):
    """Every drawn line of every 2-D axes carries a legend label and the axes show a legend."""
    for ax in fig.axes:
        if ax.name == "3d" or ax.get_label() == "<colorbar>":
            continue
        lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1 and ln.get_visible()]
        labelled = [ln for ln in lines if not ln.get_label().startswith("_")]
        # a family of lines (one per token/system) is labelled once
        assert labelled or not lines, f"unlabelled curves in {ax.get_title()!r}"
        if labelled:
            assert ax.get_legend() is not None, ax.get_title()
        assert ax.get_xlabel() or ax.get_ylabel() or not lines


def test_trajectory_figure_names_the_run(run):
    fig = plotting.trajectory_figure(run)
    title = fig._suptitle.get_text()
    for part in ("SA", "$n = 12$", "$d = 3$", r"$\beta = 2$", "seed 3"):
        assert part in title
    ax = fig.axes[0]
    assert "$t$" in ax.get_xlabel() and "E(t)" in ax.get_ylabel()
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), run.energy)
    assert fig.axes[1].name == "3d" and fig.axes[1].get_zlabel()  # labelled 3-D axes
    _curves_labelled(fig)
    with pytest.raises(ValueError, match="traj: .*ensemble_figure"):
        plotting.trajectory_figure(simulate("sa", random_sphere(8, 3).reshape(2, 4, 3), beta=1.0, t_final=0.1, dt=0.05))


def test_inner_product_histogram_counts_every_pair(run):
    fig = plotting.inner_product_histogram(run, bins=20, snapshots=3)
    mesh = fig.axes[0].collections[0]
    dens = np.ma.filled(mesh.get_array(), 0.0).reshape(20, len(run.times))  # (bins, times)
    edges = np.linspace(-1, 1, 21)
    for k in (0, len(run.times) - 1):
        x = run.states[k]
        g = np.array([x[i] @ x[j] for i in range(12) for j in range(i + 1, 12)])  # the 66 pairs, by hand
        want = np.histogram(np.clip(g, -1, 1), bins=edges)[0] / (66 * 0.1)
        np.testing.assert_allclose(dens[:, k], want, rtol=1e-12)
    assert len(fig.axes[2].patches) == 3  # the snapshot histograms
    _curves_labelled(fig)


def test_ensemble_figure_mean_energy_and_cluster_count(batch):
    fig = plotting.ensemble_figure(batch, tol=1e-3)
    e_ax, c_ax = fig.axes[0], fig.axes[1]
    mean = next(ln for ln in e_ax.get_lines() if ln.get_label().startswith("mean"))
    np.testing.assert_allclose(mean.get_ydata(), batch.energy.mean(axis=1), rtol=1e-12)
    counts = np.array([batch.cluster_count(1e-3, index=k) for k in range(len(batch.times))])  # single linkage
    np.testing.assert_allclose(c_ax.get_lines()[0].get_ydata(), counts.mean(axis=1))
    assert "5 systems" in fig._suptitle.get_text() and r"$\beta = 3$" in fig._suptitle.get_text()
    _curves_labelled(fig)
    # a batch run without recorded energies: evaluated on the saved states, the same values
    no_e = simulate("sa", batch.states[0], beta=3.0, t_final=6.0, dt=0.05, t_eval=np.linspace(0, 6, 13))
    assert no_e.energy is None
    fig2 = plotting.ensemble_figure(no_e)
    mean2 = next(ln for ln in fig2.axes[0].get_lines() if ln.get_label().startswith("mean"))
    np.testing.assert_allclose(mean2.get_ydata(), batch.energy.mean(axis=1), rtol=1e-9)


def test_retrieval_profile_with_particles_has_a_legend_for_each_curve():
    from attnflow.numerics import retrieval as R

    s = np.array([0.25, 0.5, 0.75])
    mc = {"sigma0": s, "S": R.profile(s, beta=1, lam=1, t=1.5, M=8, modes=20), "se": np.full(3, 0.05), "seed": 7}
    fig = plotting.retrieval_profile(beta=1, lam=1, t=1.5, M=8, particles=mc)
    ax = fig.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert any(lab.startswith("closed form") for lab in labels) and any("particles" in lab for lab in labels)
    assert any(lab.startswith("minimum") for lab in labels)
    assert r"$\beta = 1$" in ax.get_title() and "$M = 8$" in ax.get_title()
    _curves_labelled(fig)
    fig = plotting.retrieval_sweep(beta=1, lam=1, M=8, times=(0.5, 5.0))
    _curves_labelled(fig)


def test_interpolation_figures(tmp_path):
    from attnflow.numerics.interpolation import construct_dirac_interpolation, draw_instance

    clouds, targets = draw_instance(3, 2, 15, seed=2)
    res = construct_dirac_interpolation(clouds, targets, T=4.0, eps=5e-2, record_stride=10)
    fig = plotting.interpolation_clouds(res, seed=2)
    assert "seed 2" in fig._suptitle.get_text() and all(ax.get_zlabel() for ax in fig.axes)
    fig = plotting.interpolation_w2(res, seed=2)
    _curves_labelled(fig)
    assert "$N = 2$" in fig.axes[0].get_title()


def test_cli_without_matplotlib_says_how_to_install(tmp_path, monkeypatch, capsys):
    import sys

    from attnflow.cli import main

    tr = simulate("sa", random_sphere(4, 3), beta=1.0, t_final=0.1, dt=0.05)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    assert not plotting.available()
    cases = [["simulate", "--n", "4", "--t-final", "0.1", "--plot", str(tmp_path / "s.png")],
             ["profile", "--plot", str(tmp_path / "p.png")],
             ["interpolate", "--n", "5", "--plot", str(tmp_path / "i.png")],
             ["check", "--claim", "no.such.*", "--report", str(tmp_path / "r.html")]]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and 'pip install "attnflow[plot]"' in err and "--" in err, err
    assert not any(tmp_path.iterdir())  # refused before anything was computed or written
    with pytest.raises(ImportError, match=r"attnflow\[plot\]"):
        plotting.trajectory_figure(tr)
