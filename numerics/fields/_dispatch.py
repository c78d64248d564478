"""Calling the generated kernels: one declaration -> its generated module -> a field ``f(t, x)``.

Everything here is derived from the model's declaration and its kernel plan
(:func:`attnflow.symbolic.codegen.kernel_plan`): which module and function to call, which
matrices to precompute (queries, keys, values, heads), which parameters to pass, whether the
kernel also returns log partition functions.  Every kernel call goes through
:func:`attnflow.numerics._kernel_hooks.call`, so observers (``attnflow export``) see it.

Kernel choice per call, on the problem size:

* fewer than :data:`PARALLEL_MIN_PAIRS` (i, j) pairs: the serial twin ``<kernel>_serial`` (same
  body, no thread pool).  On the shared 2-core machine 2000 SA calls at n = 6 took 0.04-4 s through
  the parallel kernel and 0.005-0.01 s with one thread: a parallel region waits for every worker
  to be scheduled.
* self-attention with an exponential weight and d >= :data:`BLAS_MIN_DIM`: the blocked BLAS path
  ``<kernel>_blocked`` (BLAS scores and weighted sums on blocks of :data:`BLOCK_ROWS` rows,
  memory O(n d + rows n) per worker), run on ``numba.get_num_threads()`` Python threads over
  disjoint row ranges with BLAS itself single-threaded during the call (nested BLAS threads
  oversubscribe the cores).  Measured faster than the fused kernel at every tested size, 1.3x
  (d = 3) to 3x (d = 64) at n = 1024..16384 (``bench/bench_kernels.py``).
  When the declaration's logit is affine in the score (``symbolic.codegen.apriori_shift``: SA, USA,
  the normalisation schemes, users' models of that form) and ``beta >= 0``, the fast variant
  ``<kernel>_velocity_shifted`` runs instead: the row shift is known in advance (Cauchy-Schwarz;
  the self logit for unit tokens), so the weights come from one vectorised numba pass (no row
  maximum, no separate subtract / exp / sum passes); rows whose weight sum underflows fall back to
  the blocked path.  :data:`SHIFTED_PATH` = False disables it.  For d in
  :data:`attnflow.symbolic.codegen.backends.numba._generate.LANES_DIMS` (d = 2..8: three BLAS passes
  at inner dimension d are slower than the exponentials) the rows-in-lanes kernel
  ``_<kernel>_velocity_lanes_d<d>`` runs instead (:data:`LANES_PATH`): no rows x n buffer, one loop over j
  per block of :data:`LANES_ROWS` rows with the rows in the SIMD lanes, on the same Python threads over
  row ranges cut at multiples of :data:`LANES_ROWS`; every row is computed by the same operations
  whatever the cut, so the result does not depend on the thread count.
  From n >= :data:`LANES_SYMMETRIC_MIN_N` (and :data:`LANES_SYMMETRIC_PATH`) its symmetric variant
  ``_<kernel>_velocity_lanes_symmetric`` (template ``sphere_lanes_symmetric.py.tmpl``) is tried first:
  one shift for all rows, m = b + |a| max_j |x_j|^2, makes the weights symmetric, so each unordered pair
  {i, j} needs one score and one exponential, added as w_ij x_j to row i and w_ij x_i to row j (tiles of
  64 rows x 64 columns: pass 1 rows in the lanes, weights into an L1 tile buffer; pass 2 columns in the
  lanes).  It refuses before any work (and the per-row kernel runs) when the bound z_i >= w_ii of some
  row falls below the underflow limit.  The row panels are cut into :data:`LANES_SYMMETRIC_GROUPS` groups
  of equal work run on the pool, each adding into its own (d + 1) x n sums, added in group order: the
  same bits for any thread count.  Measured (``bench/bench_lanes_symmetric.py``, 2 threads, wall time,
  load 4, best of 5, symmetric / per-row): d = 3: 0.85x (n = 256), 1.10x (512), 1.33x (1024), 1.40x
  (2048); d = 8: 1.23x (512), 1.33x (1024); d = 2: 1.11x (512); one core, CPU time, d = 3: 1.45-1.49x at
  n = 4096 and 16384.
  From d >= :data:`SYMMETRIC_MIN_DIM` and n >= :data:`SYMMETRIC_MIN_N` its symmetric variant
  ``_<kernel>_velocity_symmetric`` (template ``sphere_symmetric.py.tmpl``) is tried first: one shift
  for all rows, m = b + |a| max_j |x_j|^2, makes the weights symmetric, so each tile of
  :data:`SYMMETRIC_TILE` scores and weights is computed once for i <= j and serves both rows i and
  j (3d instead of 4d flops and half the exponentials per pair).  It refuses before any work (and the
  per-row path runs) when the bound z_i >= w_ii of some row falls below the underflow limit (tokens of
  very different norms); unit tokens with beta >= 0 never refuse.  The rows are cut into
  :data:`SYMMETRIC_GROUPS` groups of equal work, run on the pool, each writing its own storage, summed
  in group order: the result is the same bits for any thread count.  Measured on the shared 2-core
  machine (load 9-14, so ratios only, the two paths interleaved in one process, best of 5):
  symmetric / per-row shifted, one thread, CPU time: n = 4096: 1.14x (d = 3), 1.17x (8), 1.17x (12),
  1.19x (16), 1.21x (64); n = 2048: 1.11x (16), 1.18x (64); n = 1024: 0.78x (16), 1.08x (64); n = 512:
  0.66-0.88x (every d).  Two threads, wall time: n = 4096: 1.27x (d = 16), 1.40x (64); n = 16384:
  1.39x (16), 1.98x (64) (the per-row path's rows x n buffer leaves the L2 cache at large n).
  Tiles 256 x 512 were the best of 128 x 1024, 256 x 1024 and 512 x 512 at d = 16 and 64.  Small d
  gains too from n = 4096 on (d = 3 / 8: 1.26x / 1.36x at n = 16384, one thread; 1.26x / 1.44x two
  threads) but not at n = 2048 (0.94x / 0.97x); d < 12 is left to the small-d kernels (the per-row path
  here): lower :data:`SYMMETRIC_MIN_DIM` where they are slower.  ``bench/run.py`` prints both paths
  (columns ``shifted`` and ``after``).
* Q/K/V and multi-head models (templates ``sphere_keyed``, ``sphere_heads``) without read-out or
  perceptron, from :data:`KEYED_BLAS_MIN_PAIRS` pairs on (``H n^2`` for H heads) and with
  :data:`KEYED_BLAS_PATH` set: ``<kernel>_velocity_blas`` on blocks of :data:`KEYED_ROWS` rows and
  column tiles of 256 (BLAS scores ``Qx_blk Kx_tile^T``, one vectorised numba weights pass, BLAS
  weighted values, all heads of a block in one driver call).  Where the logit is affine in the score
  (``symbolic.codegen.apriori_shift``) the row shift is the Cauchy-Schwarz bound
  m_hi = b + |a| |q_i| max_j |k_hj| per head, known before the row is seen, so no row-maximum pass and
  no rescaling between column tiles; a row whose weight sum falls below the underflow threshold is
  recomputed with its exact row maximum.  The shift only scales numerator and denominator of the
  normalised average alike (the row factor carries e^m), so it changes nothing but the range of the
  weights.  Run on Python threads over row ranges cut at multiples of :data:`KEYED_ROWS`
  (``_run_keyed``: the same bits for any thread count); queries, keys and values (or the heads' rows
  ``M_h x_j``) are computed once per call here.  Measured: see :data:`KEYED_BLAS_PATH`.
* otherwise the fused parallel kernel.

Keyed models with queries only (``interp``, ``interp_attention``: keys and values are the tokens),
``beta >= 0`` and at least :data:`PARALLEL_MIN_PAIRS` pairs run ``<kernel>_velocity_shifted``
(template ``sphere_query_shifted``: the Cauchy-Schwarz shift |beta| |q_i| max_j |x_j|, the same BLAS /
vectorised-weights / BLAS structure, rows whose weight sum underflows recomputed with their row
maximum), on the threads of the blocked path.

Circle models with ``beta >= 0`` whose pair term is an exponential of a logit affine in the score
(kuramoto, kuramoto_rescaled, causal_alibi: :func:`attnflow.symbolic.codegen.circle_shifted`) run
``<kernel>_velocity_shifted`` / ``<kernel>_velocity_batched_shifted`` (the a-priori shift in the plane
embedding u = (cos, sin), one vectorised pass per row; a causal prompt computes only its lower
triangle; rows whose weight sum underflows are recomputed by the exact row), else the exact kernels;
the serial twin below :data:`PARALLEL_MIN_PAIRS` pairs in both cases.

A batch ``(B, n, d)`` of independent systems (sphere and Euclidean models) is one call of the
ensemble kernel ``<kernel>_velocity_ensemble`` (a loop over systems around the serial twin: each
system is computed exactly as alone), parallel over systems from :data:`PARALLEL_MIN_PAIRS` pairs
``B n^2`` on; a system that is itself that large (``n^2 >= PARALLEL_MIN_PAIRS``) is run one after the
other through the one-system path above.  Circle models take ``(P, n)`` through their batched
kernel ``<kernel>_velocity_batched``.
"""

from __future__ import annotations

import importlib
import math
import threading
from collections.abc import Callable

import numba
import numpy as np
import sympy as sp

from attnflow.numerics._kernel_hooks import call, notify
from attnflow.numerics._threads import blas_single_thread, thread_pool
from attnflow.symbolic.codegen._plan import KernelPlan, kernel_plan
from attnflow.symbolic.codegen.backends.numba._generate import (LANES_DIMS, UNDERFLOW_Z, lanes_name, lanes_symmetric_name,
                                                          stepper_names, symmetric_name)
from attnflow.symbolic.models import AA, AH, HH, TANGENT, XH, CircleModel, H, Model
from attnflow.symbolic.models import n as n_symbol
from attnflow.symbolic.models._pairs import output_coefficients

__all__ = ["PARALLEL_MIN_PAIRS", "BLAS_MIN_DIM", "BLOCK_ROWS", "SHIFTED_PATH", "SYMMETRIC_MIN_DIM",
           "SYMMETRIC_MIN_N", "SYMMETRIC_GROUPS", "SYMMETRIC_TILE", "KEYED_BLAS_PATH", "KEYED_BLAS_MIN_PAIRS", "KEYED_ROWS",
           "KEYED_WIDE_N", "LANES_PATH", "LANES_ROWS", "LANES_SYMMETRIC_PATH", "LANES_SYMMETRIC_MIN_N",
           "LANES_SYMMETRIC_GROUPS", "bind", "builder", "Field",
           "energy_rows", "divides_by_norm", "has_dissipation"]

#: Kernels run their serial twin below this many (i, j) pairs per call (n < 256 for one
#: configuration; P n^2 for P batched prompts, H n^2 for H heads).  Measured (SA, d = 3, load 3):
#: serial 3 / 29 / 440 us per call at n = 16 / 64 / 256, parallel (2 threads) 46-340 / 18-22 /
#: 225-240 us; under load 6 the parallel n = 64 call took 230-750 us.
PARALLEL_MIN_PAIRS = 256 * 256

#: Self-attention uses the blocked BLAS path from this dimension on, when n^2 >= PARALLEL_MIN_PAIRS;
#: set it above any d to disable the BLAS path.
BLAS_MIN_DIM = 2

#: Use the a-priori-shift variant of the BLAS path where the declaration has one and beta >= 0.
SHIFTED_PATH = True

#: Run the Q/K/V and multi-head models' BLAS path (``<kernel>_velocity_blas``) where they have one and
#: the call has at least :data:`KEYED_BLAS_MIN_PAIRS` pairs.  Measured (``bench/run.py --only-keyed``,
#: n = 4096, d = 16, 2 threads, load 12-13, pairs/s = n^2 / time): qkv 3.5e7 fused -> 1.9e8 (SA 2.1e8
#: in the same run), multihead H = 2 shared / per head 2.3e7 -> 1.0e8 / 9.4e7, a user's sigmoid Q/K/V
#: model 1.9e7 -> 1.7e8 (three runs at load 12-15: qkv 0.47-1.44x SA per pair, multihead 0.30-0.56x
#: per n^2, i.e. per head-pair about SA's speed); 1.2-38x faster than the fused kernel at every tested
#: size from n = 256 (d = 2..64) under that load.  With the a-priori shift and column tiles
#: (``bench/bench_keyed.py``: the previous module imported by path, same process, best of 5, 2 threads,
#: load 2.5-4): n = 16384, d = 16: multihead 1.47-1.54x the row-maximum version (0.41-0.42x SA per n^2),
#: qkv 1.11-1.23x (0.77-0.83x SA); n = 4096: multihead 1.06-1.18x (0.40-0.44x SA), qkv 1.07-1.19x.
KEYED_BLAS_PATH = True

#: The Q/K/V / multi-head BLAS path runs from this many pairs per call on (``H n^2`` with H heads).
#: Measured (qkv, d = 3, load 14): serial twin 9 / 32 / 118 / 272 us at n = 32 / 64 / 128 / 200, the
#: BLAS path through the thread split 33 / 44 / 79 / 141 us (d = 16, n = 128: 165 vs 91 us).
KEYED_BLAS_MIN_PAIRS = 100 * 100

#: Rows per block of the Q/K/V / multi-head BLAS path from :data:`KEYED_WIDE_N` tokens on (below: half
#: of it, so that small calls still give every thread blocks).  The unit of work: the thread cuts fall on
#: multiples of it, and it depends on n only, so every row is computed by the same block whatever the
#: thread count.  Each head's tile of scores is rows x 256 columns (256 or 512 KiB, in the L2 cache).
#: Measured (multihead H = 2, d = 16, one thread, load 2.4-2.7, best of 3-7, column tiles 128 / 256 / 512):
#: 256 rows 1.04-1.07x 128 rows at n = 4096 and 1.05x at n = 16384; 64 rows 0.73-0.97x.
KEYED_ROWS = 256
KEYED_WIDE_N = 2048


def _keyed_rows(n: int, heads: int) -> int:
    return KEYED_ROWS if n >= KEYED_WIDE_N else KEYED_ROWS // 2


def _on_block_ranges(run, n: int, rows: int) -> None:
    """``run(a, b)`` over row ranges ``[a, b)`` covering ``0..n``, at most ``numba.get_num_threads()`` of
    them, on the pool, cut at multiples of ``rows``: every row belongs to the same block of ``rows`` rows
    whatever the thread count, so kernels that work block by block give the same bits on any number
    of threads."""
    blocks = -(-n // rows)
    workers = max(1, min(numba.get_num_threads(), blocks))
    if workers == 1:
        run(0, n)
        return
    cuts = [min(n, (blocks * w // workers) * rows) for w in range(workers + 1)]
    for fut in [thread_pool().submit(run, a, b) for a, b in zip(cuts[:-1], cuts[1:])]:
        fut.result()


def _run_keyed(fn, x: np.ndarray, head: tuple, outs: tuple, rows: int) -> None:
    """The Q/K/V / multi-head BLAS path over all rows of ``x`` on ``numba.get_num_threads()`` Python threads,
    the row ranges cut at multiples of ``rows`` (:func:`_on_block_ranges`; BLAS single-threaded inside)."""
    with blas_single_thread():
        _on_block_ranges(lambda a, b: call(fn, x, *head, *outs, a, b, rows), x.shape[0], rows)


#: Use the rows-in-lanes kernel (a-priori shift, d in ``LANES_DIMS``) instead of the BLAS path where the
#: shifted path would run (measurements: ``LANES_DIMS``, bench/bench_lanes.py, bench/run.py).
LANES_PATH = True

#: Rows per block of the rows-in-lanes kernel (a multiple of the vector width; the thread cuts fall on
#: multiples of it).
LANES_ROWS = 64

#: Use the symmetric rows-in-lanes kernels (``_<kernel>_velocity_lanes_symmetric``, template
#: ``sphere_lanes_symmetric.py.tmpl``: one common shift, one exponential per unordered pair) where the
#: rows-in-lanes kernel would run and n >= :data:`LANES_SYMMETRIC_MIN_N`; the per-row kernel remains the
#: fallback (a common shift too loose for some row) and the path below that size.
LANES_SYMMETRIC_PATH = True

#: The symmetric rows-in-lanes path runs from this many tokens on (measurements: the module docstring).
LANES_SYMMETRIC_MIN_N = 512

#: Groups of row panels of the symmetric rows-in-lanes path, each with its own (d + 1) x n sums, added in
#: group order: a constant, not the thread count, so the bits do not depend on it; more groups than
#: threads let the pool balance the work when a core is taken by another process.
LANES_SYMMETRIC_GROUPS = 4

#: Rows per block of the BLAS path (fewer when n > 16384: one rows x n buffer stays <= 16 MB).
BLOCK_ROWS = 128
_BLOCK_BYTES = 16 * 2**20


class Bound:
    """A declaration bound to its generated module."""

    def __init__(self, decl: Model):
        self.decl = decl
        self.plan: KernelPlan = kernel_plan(decl)
        self.module = _module(decl, self.plan)

    def function(self, name: str):
        return getattr(self.module, name)

    def pick(self, kernel, pairs: int):
        """The parallel kernel, or its serial twin below :data:`PARALLEL_MIN_PAIRS` pairs."""
        if kernel.twin is None:
            return self.function(kernel.name)
        return _choose((self.function(kernel.name), self.function(kernel.twin)), pairs)


def _module(decl: Model, plan: KernelPlan):
    """The checked-in generated module of a built-in declaration, else one generated and cached now."""
    from attnflow.symbolic.codegen import generated_models

    if any(d is decl for d in generated_models()):
        try:
            return importlib.import_module(plan.module)
        except ModuleNotFoundError:
            raise ValueError(f"model: {decl.name!r} has no generated kernel module ({plan.module}); "
                             "run `attnflow derive` after adding a built-in model") from None
    from attnflow.numerics.fields._compile import load_kernel_module

    return load_kernel_module(decl)


_BOUND: dict[int, tuple[Model, Bound]] = {}
_BOUND_LOCK = threading.Lock()


def bind(decl: Model) -> Bound:
    with _BOUND_LOCK:
        hit = _BOUND.get(id(decl))
        if hit is None or hit[0] is not decl:
            hit = (decl, Bound(decl))
            _BOUND[id(decl)] = hit
        return hit[1]


def _choose(kernels: tuple, pairs: int):
    """``(parallel, serial)`` -> the one to run for ``pairs`` (i, j) pairs (see the module docstring)."""
    return kernels[0] if pairs >= PARALLEL_MIN_PAIRS else kernels[1]


def _block_rows(n: int) -> int:
    return max(16, min(BLOCK_ROWS, _BLOCK_BYTES // (8 * n)))


#: Bytes of the fast path's rows x n buffer per unit of d / 8 (at least 2 MB): a buffer that stays in
#: the caches between the score product, the weights pass and the weighted sums, and enough rows to
#: amortise re-reading x (n x d) per block at large d.  Measured at n = 16384 (2 threads, load 3-4):
#: d = 3 rows 16 / 32 / 64 / 128 gave 6.7 / 6.2 / 5.5 / 4.5e8 pairs/s, d = 64 1.3 / 1.5 / 1.6 / 1.8e8.
_SHIFTED_BYTES_PER_D8 = 2 * 2**20


def _shifted_rows(n: int, d: int) -> int:
    return max(16, min(BLOCK_ROWS, _SHIFTED_BYTES_PER_D8 * max(1, d // 8) // (8 * n)))


#: The symmetric variant of the a-priori-shift path (``_<kernel>_velocity_symmetric``, template
#: ``sphere_symmetric.py.tmpl``) runs instead of ``<kernel>_velocity_shifted`` from this dimension on
#: (where the shifted path would run and the declaration has it); set it above any d to disable it.
SYMMETRIC_MIN_DIM = 12

#: ... and from this many tokens on (below, its Python loop over tiles and the whole diagonal blocks
#: cost more than the halved work saves).
SYMMETRIC_MIN_N = 2048

#: Groups of rows of the symmetric path (a constant, not the thread count: the order of the sums, hence
#: every bit of the result, does not depend on how many threads run the groups).
SYMMETRIC_GROUPS = 2

#: Tile of the symmetric path, rows x columns (1 MiB of weights: stays in the 2 MiB L2 between the
#: score product, the weights pass and the two weighted sums).
SYMMETRIC_TILE = (256, 512)


def _run_jobs(jobs: list) -> None:
    """Run the zero-argument callables ``jobs`` on the blocked-path pool (one thread: one after the other)."""
    if numba.get_num_threads() == 1 or len(jobs) == 1:
        for job in jobs:
            job()
        return
    for fut in [thread_pool().submit(job) for job in jobs]:
        fut.result()


def _run_symmetric(fn, x: np.ndarray, head: tuple, outs: tuple) -> bool:
    """The symmetric path on the whole of ``x``; False when its common shift is too loose (nothing written)."""
    with blas_single_thread():
        return call(fn, x, *head, *outs, SYMMETRIC_GROUPS, *SYMMETRIC_TILE, _run_jobs)


def _run_blocked(fn, x: np.ndarray, head: tuple, outs: tuple, rows: int | None = None) -> None:
    n = x.shape[0]
    rows = rows or _block_rows(n)
    workers = max(1, min(numba.get_num_threads(), n // rows))
    with blas_single_thread():
        if workers == 1:
            call(fn, x, *head, *outs, 0, n, rows)
            return
        cuts = [n * w // workers for w in range(workers + 1)]
        futures = [thread_pool().submit(call, fn, x, *head, *outs, a, b, rows) for a, b in zip(cuts[:-1], cuts[1:])]
        for fut in futures:
            fut.result()


def _run_lanes(lanes, blocked, x: np.ndarray, head: tuple, outs: tuple) -> None:
    """The rows-in-lanes kernel over all rows of ``x`` on ``numba.get_num_threads()`` Python threads
    (row ranges cut at multiples of :data:`LANES_ROWS`, :func:`_on_block_ranges`); rows whose weight sum
    underflows (z_i < the kernel's threshold, left unwritten there) are recomputed by the blocked path
    ``blocked``, one row each (the row maximum as shift)."""
    n = x.shape[0]
    nrm = np.sqrt(np.einsum("ij,ij->i", x, x))
    xmax = float(nrm.max()) if n else 0.0
    zrow = np.empty(n)
    _on_block_ranges(lambda a, b: lanes(x, *head, *outs, nrm, xmax, zrow, a, b, LANES_ROWS), n, LANES_ROWS)
    low = np.flatnonzero(~(zrow >= UNDERFLOW_Z))
    if low.size:
        with blas_single_thread():
            for i in low:
                blocked(x, *head, *outs, int(i), int(i) + 1, 1)


def _run_lanes_symmetric(fn, x: np.ndarray, head: tuple, outs: tuple) -> bool:
    """The symmetric rows-in-lanes path on the whole of ``x``; False when it does not apply (another d, or
    the common shift is too loose for some row: nothing written)."""
    return call(fn, x, *head, *outs, LANES_SYMMETRIC_GROUPS, _run_jobs)


def _reals(decl: Model, p: dict) -> tuple:
    return tuple(p[r.name] for r in decl.real_params)


def _variant(decl: Model, p: dict) -> str | None:
    return p.get("normalization") if isinstance(decl.normalization, dict) else None


class Field:
    """The field ``f(t, x)`` of one declaration at fixed parameters, resolved once.

    Construction looks up the kernels (parallel, serial twin, blocked path), precomputes the
    transposed matrices and the constant arguments; a call only picks the kernel by problem size
    and runs it (the per-call cost of a small system is that of the kernel, not of the dispatch).
    """

    def __init__(self, decl: Model, beta: float, p: dict):
        b = bind(decl)
        plan = b.plan
        variant = _variant(decl, p)
        self.beta = beta
        self.reals = _reals(decl, p)
        self.timed = decl.time_dependent
        self.logz = plan.logz
        self.circle = isinstance(decl, CircleModel)
        if self.circle:
            one, many = plan.get("velocity", variant), plan.get("velocity_batched", variant)
            self.kernels = (b.function(one.name), b.function(one.twin))
            self.batched = (b.function(many.name), b.function(many.twin))
            self.pair_divisor = 2 if "causal" in decl.normalization_modes().values() else 1
            fast, fast_many = plan.get("velocity_shifted_circle", variant), plan.get("velocity_batched_shifted_circle", variant)
            if SHIFTED_PATH and fast is not None and beta >= 0:  # the a-priori shift holds for beta >= 0
                self.kernels = (b.function(fast.name), b.function(fast.twin))
                self.batched = (b.function(fast_many.name), b.function(fast_many.twin))
            return
        kern = plan.get("velocity", variant)
        self.kernels = (b.function(kern.name), b.function(kern.twin))
        ens = plan.get("velocity_ensemble", variant)
        self.ensemble = None if ens is None else (b.function(ens.name), b.function(ens.twin))
        self.template = kern.template
        self.euclidean = decl.manifold == "euclidean"
        blocked = plan.get("velocity_blocked", variant)
        self.blocked = None if blocked is None else b.function(blocked.name)
        shifted = plan.get("velocity_shifted", variant)
        self.shifted = None if shifted is None else b.function(shifted.name)
        self.symmetric = None if shifted is None else getattr(
            b.module, symmetric_name(shifted.name[: -len("_velocity_shifted")]), None)
        self.lanes_symmetric = None if shifted is None else getattr(
            b.module, lanes_symmetric_name(kern.name[: -len("_velocity")]), None)
        self.lanes = {} if shifted is None else {
            d: fn for d in LANES_DIMS
            if (fn := getattr(b.module, f"{lanes_name(kern.name[: -len('_velocity')])}_d{d}", None)) is not None}
        self.velocity_twin = self.kernels[1]
        blas = plan.get("velocity_blas", variant)
        self.blas = None if blas is None else b.function(blas.name)
        self.steppers = None
        if self.template == "sphere_self":  # the compiled fixed-step loops (template stepper.py.tmpl)
            names = stepper_names(kern.name[: -len("_velocity")])
            fns = tuple(getattr(b.module, names[k], None) for k in ("one", "ensemble", "ensemble_serial"))
            self.steppers = None if any(f is None for f in fns) else fns
        if self.template == "sphere_heads":
            self.MT = np.ascontiguousarray(np.transpose(p[decl.heads], (0, 2, 1)))
        elif self.template == "sphere_keyed":
            self.QT, self.KT, self.VT = (None if f is None else np.ascontiguousarray(p[f].T)
                                         for f in (decl.query, decl.key, decl.value))
            mats = [] if decl.readout is None else [p[decl.readout]]
            if decl.perceptron is not None:
                mats += [p[decl.perceptron.W], p[decl.perceptron.U], p[decl.perceptron.b]]
            self.mats = tuple(mats)
            self.attend = decl.readout is None or bool(np.any(p[decl.readout] != 0.0))
            query = plan.get("velocity_shifted", variant)  # queries only (interp): sphere_query_shifted
            self.query_shifted = (b.function(query.name) if query is not None and query.template == "sphere_query_shifted"
                                  and SHIFTED_PATH and beta >= 0 else None)

    def __call__(self, t, x):
        return self.run(t, x)[0]

    def path(self):
        """The BLAS-path function of a large self-attention call: the a-priori-shift variant where the
        declaration has one, ``beta >= 0`` and :data:`SHIFTED_PATH` is set, else the blocked path."""
        if SHIFTED_PATH and self.shifted is not None and self.beta >= 0:
            return self.shifted
        return self.blocked
    def compiled(self, shape: tuple):
        """The compiled fixed-step loop for states of ``shape`` (``(n, d)`` or ``(B, n, d)``) as the ``run``
        callable of :func:`attnflow.numerics.integrators.integrate_compiled`, or None where there is
        none (models other than self-attention, circle models) or where one system is large enough
        for the parallel / BLAS one-system path (``n^2 >= PARALLEL_MIN_PAIRS``).

        A batch runs the systems on numba's threads (``_<kernel>_integrate_fixed_ensemble``) when it has
        at least two systems and :data:`PARALLEL_MIN_PAIRS` pair evaluations in all (one thread pool
        start per run, not per stage) and numba may use more than one thread, else the serial twin
        (a sweep's chunk runs single-threaded: no thread pool to load).  One system runs as a batch of one
        through the serial twin, so the per-system loop is compiled for one array layout only (a cold
        numba cache builds one specialisation less: measured 5-8 s per model under load).
        """
        if self.circle or self.steppers is None or len(shape) not in (2, 3):
            return None
        n = shape[-2]
        if n * n >= PARALLEL_MIN_PAIRS:
            return None
        _, ens, ens_serial = self.steppers
        args = (self.beta, *self.reals)
        twin = self.velocity_twin

        def run(x, t0, dt, t_final, n_steps, save_every, grid, save, code, states):
            notify(twin)
            if x.ndim == 2:  # a batch of one: one compiled specialisation of the loop less to build
                x, states = x[None], states[:, None]
            B = x.shape[0]
            failed = np.zeros(B, dtype=np.int64)
            parallel = B >= 2 and B * n * n * max(1, n_steps) >= PARALLEL_MIN_PAIRS and numba.get_num_threads() > 1
            fn = ens if parallel else ens_serial
            call(fn, x, t0, dt, t_final, n_steps, save_every, grid, save, code, *args, states, failed)
            bad = failed[failed > 0]
            return int(bad.min()) if bad.size else 0

        return run

    def run(self, t, x: np.ndarray):
        """``(velocity, logz)``; ``logz`` (row log partition functions) is None unless the model's
        kernel writes it (softmax models with an energy)."""
        extra = (*self.reals, t) if self.timed else self.reals
        if self.circle:
            out = np.empty_like(x)
            n = x.shape[-1]
            pairs = x.size * n // self.pair_divisor
            call(_choose(self.kernels if x.ndim == 1 else self.batched, pairs), x, self.beta, *extra, out)
            return out, None
        if self.euclidean:
            x = np.ascontiguousarray(x / np.linalg.norm(x, axis=-1, keepdims=True))
        if x.ndim == 3:
            return self._run_ensemble(x, extra)
        return self._run_one(x, extra)

    def _run_one(self, x: np.ndarray, extra: tuple):
        """One system ``x`` (n, d) (directions already taken for Euclidean models)."""
        n, d = x.shape
        out = np.empty_like(x)
        logz = np.empty(n) if self.logz else None
        outs = (out, logz) if self.logz else (out,)
        template = self.template
        if template == "sphere_self":
            if (n * n >= PARALLEL_MIN_PAIRS and self.blocked is not None and d in self.lanes and LANES_PATH
                    and self.path() is self.shifted):
                notify(self.shifted)
                head = (self.beta, *extra)
                if not (LANES_SYMMETRIC_PATH and self.lanes_symmetric is not None and n >= LANES_SYMMETRIC_MIN_N
                        and _run_lanes_symmetric(self.lanes_symmetric, x, head, outs)):
                    _run_lanes(self.lanes[d], self.blocked, x, head, outs)
            elif n * n >= PARALLEL_MIN_PAIRS and self.blocked is not None and d >= BLAS_MIN_DIM:
                fn = self.path()
                head = (self.beta, *extra)
                if not (fn is self.shifted and self.symmetric is not None and d >= SYMMETRIC_MIN_DIM
                        and n >= SYMMETRIC_MIN_N and _run_symmetric(self.symmetric, x, head, outs)):
                    _run_blocked(fn, x, head, outs, _shifted_rows(n, d) if fn is self.shifted else None)
            else:
                call(_choose(self.kernels, n * n), x, self.beta, *extra, *outs)
        elif template == "sphere_heads":
            heads = self.MT.shape[0]
            if self._keyed_blas(heads * n * n):
                with blas_single_thread():  # n d^2 flops: waking BLAS threads costs more (ms under load)
                    mx = np.ascontiguousarray(x @ self.MT)
                    _run_keyed(self.blas, x, (mx, self.beta, *extra), outs, _keyed_rows(n, heads))
            else:
                call(_choose(self.kernels, heads * n * n), x, np.ascontiguousarray(x @ self.MT), self.beta,
                     *extra, *outs)
        else:
            if self.query_shifted is not None and self.attend and n * n >= PARALLEL_MIN_PAIRS:
                with blas_single_thread():  # n d^2 flops: waking BLAS threads costs more (ms under load)
                    qx, kx, vx = self._qkv_rows(x)
                _run_blocked(self.query_shifted, x, (qx, kx, vx, self.beta, *self.mats, *extra), outs,
                             _shifted_rows(n, d))
            elif self.attend and self._keyed_blas(n * n):
                with blas_single_thread():  # n d^2 flops: waking BLAS threads costs more (ms under load)
                    qx, kx, vx = self._qkv_rows(x)
                    _run_keyed(self.blas, x, (qx, kx, vx, self.beta, *self.mats, *extra), outs, _keyed_rows(n, 1))
            else:
                qx, kx, vx = self._qkv_rows(x)
                call(_choose(self.kernels, n * n if self.attend else n), x, qx, kx, vx, self.beta, *self.mats,
                     *extra, *outs)
        return out, logz

    def _qkv_rows(self, x: np.ndarray) -> tuple:
        """The query, key and value rows ``(Q x_j, K x_j, V x_j)`` (``x`` itself where there is no matrix)."""
        return tuple(x if MT is None else np.ascontiguousarray(x @ MT) for MT in (self.QT, self.KT, self.VT))

    def _keyed_blas(self, pairs: int) -> bool:
        """True if a Q/K/V or multi-head call of ``pairs`` pairs runs ``<kernel>_velocity_blas``."""
        return KEYED_BLAS_PATH and self.blas is not None and pairs >= KEYED_BLAS_MIN_PAIRS

    def _run_ensemble(self, x: np.ndarray, extra: tuple):
        """B independent systems ``x`` (B, n, d): one call of the ensemble kernel (parallel over systems,
        each system serial) while one system is below :data:`PARALLEL_MIN_PAIRS` pairs; larger systems
        run one after the other through the one-system path (parallel or blocked within each)."""
        B, n, d = x.shape
        out = np.empty_like(x)
        logz = np.empty((B, n)) if self.logz else None
        if self.ensemble is None or n * n >= PARALLEL_MIN_PAIRS:
            for b in range(B):
                v, lz = self._run_one(np.ascontiguousarray(x[b]), extra)
                out[b] = v
                if logz is not None:
                    logz[b] = lz
            return out, logz
        outs = (out, logz) if self.logz else (out,)
        template = self.template
        pairs = B * n * n
        if template == "sphere_self":
            call(_choose(self.ensemble, pairs), x, self.beta, *extra, *outs)
        elif template == "sphere_heads":
            mx = np.ascontiguousarray(x[:, None] @ self.MT[None])  # mx[b, h, j] = M_h x_j of system b
            call(_choose(self.ensemble, self.MT.shape[0] * pairs), x, mx, self.beta, *extra, *outs)
        else:
            qx = x if self.QT is None else np.ascontiguousarray(x @ self.QT)
            kx = x if self.KT is None else np.ascontiguousarray(x @ self.KT)
            vx = x if self.VT is None else np.ascontiguousarray(x @ self.VT)
            call(_choose(self.ensemble, pairs if self.attend else B * n), x, qx, kx, vx, self.beta, *self.mats,
                 *extra, *outs)
        return out, logz


def builder(decl: Model, beta: float, p: dict) -> Field:
    """The field ``f(t, x)`` of ``decl`` with validated parameters ``p`` (no per-call checks)."""
    return Field(decl, beta, p)


def energy_rows(decl: Model, beta: float, p: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""The energy kernel's row outputs ``(m, z)`` for every score matrix, concatenated: for a pair
    energy of exponential form :math:`F = c_e e^{L_e}`, :math:`\sum_j e^{L_e(s_{ij})} = e^{m_i} z_i`;
    otherwise :math:`m_i = 0` and :math:`z_i = \sum_j F(s_{ij})`."""
    b = bind(decl)
    kern = b.plan.get("energy_rows")
    reals = _reals(decl, p)
    n = x.shape[-1] if isinstance(decl, CircleModel) else x.shape[0]
    if isinstance(decl, CircleModel):
        mats = [None]
    elif decl.heads is not None:
        mats = list(p[decl.heads])
    elif decl.energy_score is not None:
        mats = [p[decl.energy_score]]
    else:
        mats = [None]
    ms, zs = [], []
    for M in mats:
        m = np.empty(n)
        z = np.empty(n)
        if isinstance(decl, CircleModel):
            call(b.pick(kern, n * n), x, beta, *reals, m, z)
        else:
            kx = x if M is None else np.ascontiguousarray(x @ M.T)
            call(b.pick(kern, n * n), x, kx, beta, *reals, m, z)
        ms.append(m)
        zs.append(z)
    return np.concatenate(ms), np.concatenate(zs)


def energy_scale(decl: Model, beta: float, p: dict) -> float | None:
    """The prefactor ``ce`` of the pair energy ``F = ce exp(L_e)`` at these parameters (None when the
    pair energy is not of exponential form and the kernel sums ``F`` itself)."""
    b = bind(decl)
    kern = b.plan.get("energy_scale")
    return None if kern is None else b.function(kern.name)(beta, *_reals(decl, p))


_SCALES: dict[type, Callable[[int], float]] = {}


def energy_convention(decl: Model, n: int) -> float:
    r"""The constant c of :math:`E = c\sum_{i,j}F(s_{ij})` for ``n`` tokens (1/2 sphere, 1/(2n^2) circle)."""
    fn = _SCALES.get(type(decl))
    if fn is None:
        fn = _SCALES[type(decl)] = sp.lambdify(n_symbol, decl.energy_scale, "math")
    return float(fn(n))


_DIVIDES: dict[int, tuple[Model, bool]] = {}


def divides_by_norm(decl: Model) -> bool:
    """True if the output map divides by :math:`|A_i|` (undefined where the attention vanishes)."""
    hit = _DIVIDES.get(id(decl))
    if hit is None or hit[0] is not decl:
        value = False
        if not isinstance(decl, CircleModel):
            for c in output_coefficients(decl).values():
                if c.has(AA) and not c.subs(AA, 0).is_finite:
                    value = True
        hit = (decl, value)
        _DIVIDES[id(decl)] = hit
    return hit[1]


def has_dissipation(decl: Model) -> bool:
    """True if the output map is the tangent projection of the attention (the gradient-flow form)."""
    if isinstance(decl, CircleModel):
        return True
    tangent = TANGENT if decl.perceptron is not None else TANGENT.subs({H: 0, XH: 0, HH: 0, AH: 0})
    return sp.expand(decl.output - tangent) == 0 and decl.readout is None and decl.perceptron is None


def signed_exp(log_value: float, sign: float, beta: float) -> float:
    try:
        return math.copysign(math.exp(log_value), sign)
    except OverflowError:
        raise OverflowError(
            f"beta: the energy e^{log_value:.1f} exceeds the float64 range at beta={beta} "
            "(finite up to about |beta| = 700 - 2 log n)") from None
