"""Benchmark: the compiled step loops before / after the allocation-free small-system kernel
(``_<kernel>_velocity_small_lanes``, template ``sphere_small_lanes.py.tmpl``), in one process, with the
NumPy and JAX batched steps of ``bench_ensembles.py`` as peers.

Run by hand (never asserted in tests)::

    .venv/bin/python bench/bench_small_lanes.py                     # before = git revision ddd98ef
    .venv/bin/python bench/bench_small_lanes.py --before main --steps 20

The "before" modules are rendered by the generator of ``--before`` (``git archive`` of that revision
into a temporary folder, laid out as installed and run in a subprocess: the model's module and, for
the authors' scheme, the module of its unprojected attention ``<model>_attention``), imported here
under other names (a generated module imports only math, numpy and numba).  Both columns call the
generated ``_<kernel>_integrate_fixed_ensemble`` (parallel over systems) with the same arguments
``integrate_compiled`` passes; SA and USA, d = 2 and 3, B systems of n tokens, RK4 (four field
evaluations per step) and the authors' scheme (one; USA on its clock dt / sqrt(beta) e^(beta - 1/2)).

Printed per row: seconds per system-step, CPU time of this process (all threads; the steadier measure
on a shared machine) and wall, best of ``--repeat`` runs alternating before / after / peers, the ratios
and the 1-minute load.  Part 2: one system, SA, n = 32, RK4: microseconds per step (``_sa_integrate_fixed``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, import_path, load  # noqa: E402
from bench_ensembles import jax_steps, numpy_authors_step, numpy_rk4_step  # noqa: E402

_RENDER = """
import dataclasses, sys
from attnflow.symbolic.models import get
from attnflow.symbolic.models import _symbols as S
from attnflow.symbolic.codegen.backends.numba._generate import render_model
spec = get(sys.argv[1])
if sys.argv[2] == "attention":
    spec = dataclasses.replace(spec, name=f"{spec.name}_attention", output=S.A, energy=None, claims=(),
                               energy_condition=None, description=f"unprojected attention of {spec.name}")
sys.stdout.write(render_model(spec))
"""


def before_tree(rev: str, folder: Path) -> Path:
    """The package of revision ``rev`` laid out as installed under ``folder/src``."""
    raw = folder / "raw"
    raw.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(raw)], input=archive, check=True)
    src = folder / "src" / "attnflow"
    import shutil

    shutil.copytree(raw / "attnflow", src)
    for sub in ("symbolic", "numerics", "properties"):
        shutil.copytree(raw / sub, src / sub)
    return folder / "src"


def import_text(text: str, name: str, folder: Path):
    path = folder / f"{name}.py"
    path.write_text(text)
    return import_path(path, name)


def render_before(src: Path, model: str, kind: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(src))
    return subprocess.run([sys.executable, "-c", _RENDER, model, kind], check=True, capture_output=True, text=True,
                          env=env, cwd=str(src)).stdout


def timed(fn):
    """``(CPU time of this process, all threads; wall time)`` of one run of ``fn``."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - c0, time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--before", default="ddd98ef")
    p.add_argument("--batch", type=int, default=2048)
    p.add_argument("--n", type=int, default=32)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--h", type=float, default=0.02)
    p.add_argument("--beta", type=float, default=2.0)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()

    from attnflow.numerics import fields
    from attnflow.numerics.simulate import _authors_field, authors_step_scale

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = before_tree(args.before, tmp)
        print(f"before = {args.before}; cores {os.cpu_count()}; load {load()}; B = {args.batch}, n = {args.n}, "
              f"{args.steps} steps, beta = {args.beta}; seconds per system-step, CPU (wall); ratios = other / after")
        print(f"{'model':<5}{'d':>2} {'method':<8}{'before':>20}{'after':>20}{'numpy':>20}{'jax':>20}"
              f"{'before/af':>10}{'numpy/af':>9}{'jax/af':>8}{'load':>6}")
        for model in ("sa", "usa"):
            softmax = model == "sa"
            spec = fields.model_spec(model)
            jx = jax_steps(args.beta, softmax)
            mods = {}
            for kind in ("model", "attention"):
                mods[kind] = import_text(render_before(src, model, kind), f"before_{model}_{kind}", tmp)
            for d in (2, 3):
                x0 = rng.standard_normal((args.batch, args.n, d))
                x0 /= np.linalg.norm(x0, axis=2, keepdims=True)
                for method in ("authors", "rk4"):
                    if method == "authors":
                        f, dt = _authors_field(spec, model, args.beta, args.h, {})
                        kname = f"{model}_attention"
                        old = mods["attention"]
                        eta = args.h / authors_step_scale(spec, args.beta)
                    else:
                        f, dt = fields.make_field(model, beta=args.beta), args.h
                        kname, old = model, mods["model"]
                        eta = args.h
                    new_ens = f.steppers[1]
                    old_ens = getattr(old, f"_{kname}_integrate_fixed_ensemble")
                    code = 1 if method == "rk4" else 0
                    states = np.empty((2,) + x0.shape)
                    failed = np.zeros(args.batch, np.int64)
                    t_final = args.steps * dt

                    def runner(fn):
                        def run():
                            x = x0.copy()
                            fn(x, 0.0, dt, t_final, args.steps, args.steps, np.empty(0), np.zeros(0, bool), code,
                               args.beta, states, failed)
                            assert not failed.any()
                            return x
                        return run

                    def run_np():
                        x = x0.copy()
                        for _ in range(args.steps):
                            x = (numpy_authors_step(x, args.beta, eta, softmax) if method == "authors"
                                 else numpy_rk4_step(x, args.beta, args.h, softmax))
                        return x

                    runs = {"before": runner(old_ens), "after": runner(new_ens), "numpy": run_np}
                    if jx is not None:
                        import jax.numpy as jnp

                        fj = jx[0] if method == "authors" else jx[1]

                        def run_jax():
                            x = jnp.asarray(x0)
                            for _ in range(args.steps):
                                x = fj(x, eta)
                            return x.block_until_ready()

                        runs["jax"] = run_jax
                    xb, xa = runs["before"](), runs["after"]()
                    assert np.max(np.abs(xb - xa)) <= 1e-12, "before and after differ"
                    per = args.batch * args.steps
                    res = {k: (float("inf"), float("inf")) for k in runs}
                    for k, fn in runs.items():  # warm-up (compilation, caches)
                        fn()
                    for _ in range(args.repeat):  # alternate, best of each
                        for k, fn in runs.items():
                            c, w = timed(fn)
                            res[k] = (min(res[k][0], c / per), min(res[k][1], w / per))
                    cells = "".join(f"{res[k][0]:>10.3e} ({res[k][1]:.2e})" if k in res else f"{'-':>20}"
                                    for k in ("before", "after", "numpy", "jax"))
                    af = res["after"][0]
                    ratios = "".join(f"{res[k][0] / af:>{w}.2f}" if k in res else f"{'-':>{w}}"
                                     for k, w in (("before", 10), ("numpy", 9), ("jax", 8)))
                    print(f"{model:<5}{d:>2} {method:<8}{cells}{ratios}{load():>6}", flush=True)

        # Part 2: one system, SA, n = 32, RK4, microseconds per step
        old_sa = sys.modules["before_sa_model"]
        from attnflow.numerics._generated import sa as new_sa

        x1 = rng.standard_normal((32, 3))
        x1 /= np.linalg.norm(x1, axis=1, keepdims=True)
        steps = 2000
        st = np.empty((2, 32, 3))
        out = {}
        for mod in (old_sa, new_sa):  # compile
            mod._sa_integrate_fixed(x1.copy(), 0.0, 0.01, 0.01, 1, 1, np.empty(0), np.zeros(0, bool), 1, args.beta, st)
        for _ in range(args.repeat):
            for name, mod in (("before", old_sa), ("after", new_sa)):
                xx = x1.copy()
                c0 = time.process_time()
                mod._sa_integrate_fixed(xx, 0.0, 0.01, steps * 0.01, steps, steps, np.empty(0), np.zeros(0, bool), 1,
                                        args.beta, st)
                out[name] = min(out.get(name, 1e9), (time.process_time() - c0) / steps * 1e6)
        print(f"\none system, SA, n = 32, d = 3, RK4: before {out['before']:.2f} us/step, after {out['after']:.2f} "
              f"us/step (CPU, best of {args.repeat}), after/before {out['after'] / out['before']:.2f}, load {load()}")


if __name__ == "__main__":
    main()
