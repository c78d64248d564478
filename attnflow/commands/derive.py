"""``attnflow derive``: regenerate ``derivations/`` (and the generated kernels) from ``symbolic/``.

With ``--models FILE --out DIR`` it derives the models of a user's file instead: for each model the
file defines, ``DIR/<name>.md`` (its derivation document,
:func:`attnflow.symbolic.models.model_document`) and ``DIR/<name>.py`` (its generated kernel
module, the numba backend's :func:`~attnflow.symbolic.codegen.backends.numba.render_model`).
Loading the file runs it (it is the user's own Python code).  The output is byte-identical from
run to run as long as no proof step runs out of its time budget (``--step-budget``, ``--budget``);
a step that does is named in the document, whose status then comes from the next route (explicit
sizes, then the 50-digit numerical check).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from attnflow.commands._common import add_quiet_argument, progress_of, reproduce_line


def register(sub) -> None:
    p = sub.add_parser(
        "derive",
        help="regenerate the derivation documents and generated kernels",
        description=(
            "Re-run every SymPy derivation and proof, and write derivations/*.md, "
            "derivations/index.json and the generated numba kernels. With --check nothing is "
            "written: exit 1 listing the files that differ from what the code generates."
        ),
    )
    p.add_argument("--check", action="store_true", help="compare with the files on disk; write nothing")
    p.add_argument(
        "--root",
        type=Path,
        default=None,
        help="repository root to write into (default: the source checkout attnflow runs from)",
    )
    add_quiet_argument(p)
    # --models FILE is the option every command shares (attnflow.commands._models, added by the CLI):
    # with --out, derive those models instead of the built-in documents
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="with --models: write DIR/<model>.md (derivation) and DIR/<model>.py (kernel module)")
    p.add_argument("--force", action="store_true", help="with --out: overwrite existing files")
    p.add_argument("--step-budget", type=float, default=None, metavar="SECONDS",
                   help="with --models: time budget of one rewrite step of every proof (default 60)")
    p.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                   help="with --models: time budget of all rewrite steps of one proof (default 180)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from attnflow.symbolic import documents

    models = getattr(args, "models", None)
    if models:
        return _run_models(args, models)
    if args.out is not None:
        raise ValueError("--out: only with --models FILE (the built-in documents go to derivations/; use --root)")

    root = args.root if args.root is not None else documents.repository_root()
    if root is None:
        raise ValueError(
            "--root: attnflow is not running from a source checkout; pass --root DIR "
            "(the folder that holds derivations/)"
        )
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"--root: {root} is not a directory")
    if not args.check:  # writes go to root/...: refuse an unwritable root before deriving anything
        import tempfile

        try:
            os.rmdir(tempfile.mkdtemp(dir=root, prefix=".attnflow-probe-"))
        except OSError as exc:
            raise ValueError(f"--root: cannot write into {root} ({exc.strerror}); choose a writable checkout") from None
    t0 = time.perf_counter()
    files = documents.generated_files(progress=progress_of(args))
    elapsed = time.perf_counter() - t0
    results = documents.all_results()
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    if args.check:
        stale = documents.check_files(root, files)
        if stale:
            print("derivations are out of date; run `attnflow derive` and commit:", file=sys.stderr)
            for rel in stale:
                print(f"  {rel}", file=sys.stderr)
            return 1
        print(f"{len(files)} generated files are current ({len(results)} results: {summary}; {elapsed:.1f} s)")
        _report_findings(results)
        return 0
    changed = documents.write_files(root, files)
    for rel in changed:
        print(f"wrote {rel}")
    print(f"{len(files)} files, {len(changed)} changed ({len(results)} results: {summary}; {elapsed:.1f} s)")
    _report_findings(results)
    return 0


def _report_findings(results) -> None:
    controls = [r.id for r in results if r.expect == "fails" and r.status == "refuted"]
    findings = [r.id for r in results if r.is_finding]
    if controls:
        print("refuted as expected (negative controls): " + ", ".join(controls))
    if findings:
        print("FINDINGS (stated formulas that did not survive, see the documents): " + ", ".join(findings))


def _run_models(args: argparse.Namespace, paths: list) -> int:
    """``attnflow derive --models FILE --out DIR``: a document and a kernel module per model."""
    from attnflow._base.io import atomic_write_text
    from attnflow.symbolic.codegen.backends.numba import render_model
    from attnflow.symbolic.models import DeriveConfig, derive_model, load, model_document
    from attnflow.symbolic.proof import BUDGET, STEP_BUDGET

    if args.out is None:
        raise ValueError("--out: required with --models (the folder that receives <model>.md and <model>.py)")
    if args.check:
        raise ValueError("--check: not with --models (compare the written files yourself, e.g. with diff)")
    from attnflow._base.io import check_output_dir

    out = check_output_dir(args.out, option="--out")  # the folder is created below; its parent must exist
    step_budget = STEP_BUDGET if args.step_budget is None else args.step_budget
    budget = BUDGET if args.budget is None else args.budget
    for name, value in (("--step-budget", step_budget), ("--budget", budget)):
        if not value > 0:
            raise ValueError(f"{name}: a positive number of seconds, got {value}")
    decls = []
    for path in paths:
        try:
            found = load(path)  # loading a file twice returns its registered models
        except ValueError as exc:
            raise ValueError(f"--models: {exc}") from None
        decls.extend(d for d in found if all(d is not e for e in decls))
    targets = {d.name: (out / f"{d.name}.md", out / f"{d.name}.py") for d in decls}
    existing = [str(p) for pair in targets.values() for p in pair if p.exists()]
    if existing and not args.force:
        raise ValueError("--out: refusing to overwrite " + ", ".join(existing) + "; pass --force to replace them")
    config = DeriveConfig(step_budget=step_budget, budget=budget)
    from attnflow._base.progress import progress_bar

    out.mkdir(exist_ok=True)
    args.step_budget, args.budget = step_budget, budget  # the budgets used (defaults made explicit)
    print("reproduce: " + reproduce_line("derive", args, ["out", "force", "step_budget", "budget"]))
    for decl in progress_bar(progress_of(args), decls, desc="deriving", unit="model"):
        t0 = time.perf_counter()
        results = derive_model(decl, config=config)
        doc = model_document(decl, config=config, results=results)
        kernel = render_model(decl)
        md, py = targets[decl.name]
        atomic_write_text(md, doc, force=args.force)
        atomic_write_text(py, kernel, force=args.force)
        statuses = ", ".join(f"{r.id}: {r.status}" for r in results)
        print(f"wrote {md} and {py} ({statuses}; {time.perf_counter() - t0:.1f} s)")
    return 0
