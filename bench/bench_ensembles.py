"""Benchmark: batched ensembles (``simulate`` on (B, n, d)) vs a batched NumPy step, one small system,
and sweep throughput.

Run by hand (never asserted in tests)::

    .venv/bin/python bench/bench_ensembles.py                    # B = 2048, n = 32, d = 2, 3; 1 vs 2 workers
    .venv/bin/python bench/bench_ensembles.py --steps 20 --no-sweep
    .venv/bin/python bench/bench_ensembles.py --sweep-only --sweep-rounds 3     # sweep throughput only

Part 1, per system-step: for SA and USA, d = 2 and 3, B = 2048 systems of n = 32 tokens,

* attnflow: ``simulate(model, x0, beta, t_final=steps*h, dt=h, method=M, energy=False)`` with
  ``M = "authors"`` (the normalised residual layer, one attention evaluation per step) and ``M = "rk4"``
  (four field evaluations per step): the generated compiled step loop, parallel over systems;
* before: the same run through the Python step loop (``integrators.integrate_fixed`` on the field of
  ``fields.make_field``: one ensemble-kernel call per stage, what ``simulate`` did before the compiled loop);
* NumPy: the authors' batched step (their ``phase-diagrams.py`` in NumPy): ``G = einsum('bid,bjd->bij')``,
  shifted softmax ``exp(beta (G - max_j G))`` normalised over j (SA) or ``exp(beta (G - 1)) / n`` times
  ``e^beta`` folded into the step (USA), ``A = einsum('bij,bjd->bid')``, ``x <- normalise(x + eta A)``;
  for the ``rk4`` rows the same attention in a batched RK4 step (four attentions, tangent projection,
  retraction);
* JAX / PyTorch (only when installed): the same batched steps, ``jax.jit(jax.vmap(step))`` over
  systems (float64) and batched ``torch`` tensor operations (float64, ``torch.get_num_threads()``).

The table gives seconds per system-step, wall and CPU (all threads of the process: the work done,
steadier on a loaded machine), and the ratios peer / attnflow (> 1: attnflow faster);
like with like (one attention per authors' step, four per RK4 step), the same numbers of steps, best
of ``--repeat`` after one warm-up run (compilation excluded).

Part 1b, one system of n = 32, d = 3 (SA, RK4, dt = 0.01): microseconds per step through ``simulate``
(compiled loop) and through the Python loop, and the velocity kernel's serial twin alone (4 calls).

Part 2, sweep throughput: a research-sized sweep (default :data:`SWEEP_SPEC`: SA, n = 32, d = 128,
16 values of beta x 32 seeds, 400 RK4 steps, 32 chunks; ``--sweep-spec FILE`` for another, e.g. the
README's reduced figure (a) spec) run with ``attnflow.sweep(n_workers=1)`` and ``n_workers=2``
(embedded LocalCluster), each in a fresh Python process, 1 and 2 workers alternating for
``--sweep-rounds`` rounds. Two rates: the wall rate (systems over the user's wall time: imports,
cluster start-up and shutdown included) and the steady rate (from the chunk completion times after
each worker's first chunk: throughput without start-up). A sweep of well under a minute of compute
measures process start-up, not throughput.

The machine is shared: the 1-minute load average is printed with every row.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

import numpy as np

import _common  # bench/_common.py (the script's folder is on sys.path)


def load() -> str:
    return _common.load(2)


def numpy_authors_step(x: np.ndarray, beta: float, eta: float, softmax: bool) -> np.ndarray:
    """One batched step x <- normalise(x + eta * attention(x)) as in the authors' script (NumPy)."""
    g = np.einsum("bid,bjd->bij", x, x)
    if softmax:
        g -= g.max(axis=2, keepdims=True)
        g *= beta
        np.exp(g, out=g)
        g /= g.sum(axis=2, keepdims=True)
    else:
        g -= 1.0
        g *= beta
        np.exp(g, out=g)
        g *= np.exp(beta) / x.shape[1]
    y = x + eta * np.einsum("bij,bjd->bid", g, x)
    y /= np.linalg.norm(y, axis=2, keepdims=True)
    return y


def numpy_attention(x: np.ndarray, beta: float, softmax: bool) -> np.ndarray:
    """The batched attention a_i = sum_j A_ij x_j (SA: shifted softmax; USA: e^{beta <x_i,x_j>} / n)."""
    g = np.einsum("bid,bjd->bij", x, x)
    if softmax:
        g -= g.max(axis=2, keepdims=True)
        g *= beta
        np.exp(g, out=g)
        g /= g.sum(axis=2, keepdims=True)
    else:
        g *= beta
        np.exp(g, out=g)
        g /= x.shape[1]
    return np.einsum("bij,bjd->bid", g, x)


def numpy_rk4_step(x: np.ndarray, beta: float, h: float, softmax: bool) -> np.ndarray:
    """One batched RK4 step of x_i' = P_{x_i} a_i followed by the row normalisation (NumPy)."""
    def f(y):
        a = numpy_attention(y, beta, softmax)
        return a - np.sum(y * a, axis=2, keepdims=True) * y

    k1 = f(x)
    k2 = f(x + 0.5 * h * k1)
    k3 = f(x + 0.5 * h * k2)
    k4 = f(x + h * k3)
    y = x + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y / np.linalg.norm(y, axis=2, keepdims=True)


def jax_steps(beta: float, softmax: bool):
    """``(authors_step(x, eta), rk4_step(x, h))`` jitted and vmapped over systems, float64; None without JAX."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)

    def attention(y):
        g = beta * (y @ y.T)
        if softmax:
            w = jax.nn.softmax(g, axis=1)
        else:
            w = jnp.exp(g) / y.shape[0]
        return w @ y

    def field(y):
        a = attention(y)
        return a - jnp.sum(y * a, axis=1, keepdims=True) * y

    def authors(y, eta):
        z = y + eta * attention(y)
        return z / jnp.linalg.norm(z, axis=1, keepdims=True)

    def rk4(y, h):
        k1 = field(y)
        k2 = field(y + 0.5 * h * k1)
        k3 = field(y + 0.5 * h * k2)
        k4 = field(y + h * k3)
        z = y + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        return z / jnp.linalg.norm(z, axis=1, keepdims=True)

    return (jax.jit(jax.vmap(authors, in_axes=(0, None))), jax.jit(jax.vmap(rk4, in_axes=(0, None))))


def torch_steps(beta: float, softmax: bool):
    """``(authors_step(x, eta), rk4_step(x, h))`` on batched float64 torch tensors; None without PyTorch."""
    try:
        import torch
    except ImportError:
        return None

    def attention(y):
        g = beta * torch.bmm(y, y.transpose(1, 2))
        w = torch.softmax(g, dim=2) if softmax else torch.exp(g) / y.shape[1]
        return torch.bmm(w, y)

    def field(y):
        a = attention(y)
        return a - (y * a).sum(dim=2, keepdim=True) * y

    def authors(y, eta):
        z = y + eta * attention(y)
        return z / torch.linalg.norm(z, dim=2, keepdim=True)

    def rk4(y, h):
        k1 = field(y)
        k2 = field(y + 0.5 * h * k1)
        k3 = field(y + 0.5 * h * k2)
        k4 = field(y + h * k3)
        z = y + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        return z / torch.linalg.norm(z, dim=2, keepdim=True)

    return authors, rk4


def best(fn, repeat: int) -> float:
    """Best wall time of ``repeat`` runs after a warm-up (compilation, caches)."""
    return best2(fn, repeat)[0]


def best2(fn, repeat: int) -> tuple[float, float]:
    """``(best wall time, best CPU time of this process, all threads)`` of ``repeat`` runs after a warm-up.

    On a loaded machine the CPU time (the work done) is the steadier measure; the wall time is what a
    user waits for (it shows the use of both cores, or the lack of it)."""
    fn()
    walls, cpus = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus)


def part1(args) -> None:
    from attnflow.numerics import fields, simulate
    from attnflow.numerics.integrators import integrate_fixed
    from attnflow.numerics.simulate import _authors_field

    rng = np.random.default_rng(0)
    print(f"Part 1: B = {args.batch}, n = {args.n}, {args.steps} steps, h = {args.h}, beta = {args.beta}; "
          f"seconds per system-step (best of {args.repeat}); ratios = peer / attnflow")
    print(f"{'model':<5} {'d':>2} {'method':<8} {'time':<4} {'attnflow':>10} {'before':>10} {'numpy':>10} {'jax':>10} "
          f"{'torch':>10} {'before/af':>9} {'numpy/af':>9} {'jax/af':>9} {'torch/af':>9} {'load':>5}")
    for model in ("sa", "usa"):
        softmax = model == "sa"
        jx = jax_steps(args.beta, softmax)
        th = torch_steps(args.beta, softmax)
        for d in (2, 3):
            x0 = rng.standard_normal((args.batch, args.n, d))
            x0 /= np.linalg.norm(x0, axis=2, keepdims=True)
            eta_np = args.h if softmax else args.h / max(np.sqrt(args.beta) * np.exp(args.beta - 0.5), 1.0)
            spec = fields.model_spec(model)
            for method in ("authors", "rk4"):
                # the authors' USA step is h / scale: the same number of steps needs t_final = steps * h / scale
                dt = args.h
                t_final = args.steps * (eta_np if method == "authors" else args.h)

                def run_af():
                    return simulate(model, x0, beta=args.beta, t_final=t_final, dt=dt, method=method, energy=False,
                                    save_every=args.steps)

                if method == "authors":
                    f, step = _authors_field(spec, model, args.beta, dt, {})
                else:
                    f, step = fields.make_field(model, beta=args.beta), dt

                def run_before():
                    return integrate_fixed(f, x0, t_final, step, method=method, save_every=args.steps)

                def run_np():
                    x = x0.copy()
                    for _ in range(args.steps):
                        if method == "authors":
                            x = numpy_authors_step(x, args.beta, eta_np, softmax)
                        else:
                            x = numpy_rk4_step(x, args.beta, args.h, softmax)
                    return x

                per = args.batch * args.steps
                runs = {"attnflow": run_af, "before": run_before, "numpy": run_np}
                if jx is not None:
                    import jax.numpy as jnp

                    fn_j = jx[0] if method == "authors" else jx[1]
                    hh = eta_np if method == "authors" else args.h

                    def run_jax():
                        x = jnp.asarray(x0)
                        for _ in range(args.steps):
                            x = fn_j(x, hh)
                        return x.block_until_ready()

                    runs["jax"] = run_jax
                if th is not None:
                    import torch

                    fn_t = th[0] if method == "authors" else th[1]
                    hh_t = eta_np if method == "authors" else args.h

                    def run_torch():
                        with torch.no_grad():
                            x = torch.from_numpy(x0.copy())
                            for _ in range(args.steps):
                                x = fn_t(x, hh_t)
                        return x

                    runs["torch"] = run_torch
                res = {k: tuple(v / per for v in best2(fn, args.repeat)) for k, fn in runs.items()}
                for kind, col in (("wall", 0), ("cpu", 1)):
                    af = res["attnflow"][col]
                    cells = " ".join(f"{res[k][col]:10.3e}" if k in res else f"{'-':>10}"
                                     for k in ("attnflow", "before", "numpy", "jax", "torch"))
                    ratios = " ".join(f"{res[k][col] / af:9.2f}" if k in res else f"{'-':>9}"
                                      for k in ("before", "numpy", "jax", "torch"))
                    print(f"{model:<5} {d:>2} {method:<8} {kind:<4} {cells} {ratios} {load():>5}", flush=True)


def part1b(args) -> None:
    from attnflow.numerics import fields, simulate
    from attnflow.numerics._generated import sa as sa_kernels
    from attnflow.numerics.integrators import integrate_fixed

    x0 = np.random.default_rng(1).standard_normal((32, 3))
    x0 /= np.linalg.norm(x0, axis=1, keepdims=True)
    steps = 1000
    f = fields.make_field("sa", beta=args.beta)
    out, logz = np.empty_like(x0), np.empty(32)

    def kernel4():
        for _ in range(4 * steps):
            sa_kernels.sa_velocity_serial(x0, args.beta, out, logz)

    rows = {
        "simulate (compiled loop)": lambda: simulate("sa", x0, beta=args.beta, t_final=steps * 0.01, dt=0.01,
                                                     energy=False, save_every=steps),
        "Python loop (before)": lambda: integrate_fixed(f, x0, steps * 0.01, 0.01, save_every=steps),
        "4 serial-twin calls": kernel4,
    }
    print(f"\nPart 1b: one system, SA, n = 32, d = 3, RK4: microseconds per step (best of {args.repeat}; "
          "wall and CPU time of this process)")
    for name, fn in rows.items():
        wall = best(fn, args.repeat) / steps * 1e6
        fn()
        c0 = time.process_time()
        fn()
        cpu = (time.process_time() - c0) / steps * 1e6
        print(f"{name:<26} wall {wall:8.1f}  cpu {cpu:8.1f}  load {load()}", flush=True)


_SWEEP_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from attnflow.sweeps import sweep
spec, out, workers = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
t_import = time.perf_counter() - t0
done = []
res = sweep(spec, out, n_workers=workers, progress=False, on_chunk=lambda k: done.append(time.perf_counter() - t0))
wall = time.perf_counter() - t0
print(json.dumps({"import": t_import, "done": done, "wall": wall, "chunks": res.chunks}))
"""

#: Part 2's default spec: research-sized rows (d = 128, the middle panel of figure (a) of arXiv
#: 2512.01868): 16 values of beta x 32 seeds = 512 systems of 32 tokens, 400 RK4 steps each, in 32
#: chunks of 16 systems (about half a minute of compute on one core).
SWEEP_SPEC = {"model": "sa", "n": 32, "d": 128, "beta": {"start": 0.5, "stop": 8.0, "num": 16},
              "seeds": 32, "seed_block": 16, "t": {"stop": 20.0, "num": 41}, "dt": 0.05,
              "observables": ["pair_fraction"], "delta": 1e-3}


def steady_rate(done: list[float], per_chunk: float, workers: int) -> float:
    """Systems per second from the chunk completion times, start-up excluded: the chunks completed
    after the first ``workers`` ones (each worker's first chunk carries its start-up) over the time
    from the ``workers``-th completion to the last (equal chunks assumed, as in :data:`SWEEP_SPEC`)."""
    t = sorted(done)
    k = workers
    if len(t) <= k or t[-1] <= t[k - 1]:
        return float("nan")
    return (len(t) - k) * per_chunk / (t[-1] - t[k - 1])


def part2(args) -> None:
    import json
    import resource
    import subprocess
    import sys

    from attnflow.sweeps import load_spec

    spec_src = args.sweep_spec if args.sweep_spec else dict(SWEEP_SPEC)
    spec = load_spec(spec_src)
    if args.sweep_spec:
        import tomllib

        with open(args.sweep_spec, "rb") as fh:
            spec_json = tomllib.load(fh)["sweep"]
    else:
        spec_json = spec_src
    systems = spec.n_chunks // len(spec.seed_blocks) * len(spec.seeds)
    per_chunk = systems / spec.n_chunks
    print(f"\nPart 2: sweep of {systems} systems in {spec.n_chunks} chunks "
          f"({args.sweep_spec or 'SA, n = 32, d = 128, 16 betas x 32 seeds, 400 RK4 steps'}), embedded LocalCluster;"
          " each run a fresh Python process. wall: the user's wall time (imports, cluster start-up and shutdown"
          " included); first: seconds to the first chunk written; steady: systems/s from the chunk completion"
          " times after each worker's first chunk (start-up excluded); cpu: CPU seconds of the whole process"
          " tree (the same for 1 and 2 workers: no work is duplicated; on a loaded machine the wall"
          " speed-up is bounded by the cores the other processes leave); 1 and 2 workers back to back")
    print(f"{'round':>5} {'workers':>7} {'wall s':>8} {'import':>7} {'first':>7} {'last':>7} {'wall sys/s':>10} "
          f"{'steady sys/s':>12} {'cpu s':>7} {'load':>6}")
    base = tempfile.mkdtemp(prefix="bench_sweep_")
    try:
        walls: dict[int, list[float]] = {1: [], 2: []}
        steady: dict[int, list[float]] = {1: [], 2: []}
        for rnd in range(args.sweep_rounds):
            for workers in (1, 2):
                out = os.path.join(base, f"r{rnd}w{workers}.zarr")
                t0 = time.perf_counter()
                r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                proc = subprocess.run([sys.executable, "-c", _SWEEP_CHILD, json.dumps(spec_json), out, str(workers)],
                                      check=True, capture_output=True, text=True)
                wall = time.perf_counter() - t0
                r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
                rec = json.loads(proc.stdout.strip().splitlines()[-1])
                rate = steady_rate(rec["done"], per_chunk, workers)
                walls[workers].append(systems / wall)
                steady[workers].append(rate)
                print(f"{rnd:>5} {workers:>7} {wall:8.2f} {rec['import']:7.2f} {min(rec['done']):7.2f} "
                      f"{max(rec['done']):7.2f} {systems / wall:10.1f} {rate:12.1f} {cpu:7.1f} {load():>6}", flush=True)
        print("speed-up 2 workers / 1 (best of each): wall {:.2f}, steady {:.2f}; per round (wall, steady): {}".format(
            max(walls[2]) / max(walls[1]), max(steady[2]) / max(steady[1]),
            ", ".join(f"({b / a:.2f}, {d / c:.2f})" for a, b, c, d in zip(walls[1], walls[2], steady[1], steady[2]))))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=2048)
    p.add_argument("--n", type=int, default=32)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--h", type=float, default=0.02)
    p.add_argument("--beta", type=float, default=2.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--sweep-spec", default=None, metavar="SPEC.toml",
                   help="Part 2's sweep (default: SWEEP_SPEC, d = 128 rows; e.g. "
                        "examples/sweeps/phase_diagram_2512.01868_reduced.toml)")
    p.add_argument("--sweep-rounds", type=int, default=2)
    p.add_argument("--no-sweep", action="store_true")
    p.add_argument("--no-ensemble", action="store_true")
    p.add_argument("--sweep-only", action="store_true", help="Part 2 only")
    args = p.parse_args()
    print(f"cores: {os.cpu_count()}; 1-minute load at start: {load()} (a shared machine: numbers are indicative)")
    if not args.no_ensemble and not args.sweep_only:
        part1(args)
    if not args.sweep_only:
        part1b(args)
    if not args.no_sweep:
        part2(args)


if __name__ == "__main__":
    main()
