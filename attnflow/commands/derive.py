"""``attnflow derive``: regenerate ``derivations/`` (and the generated kernels) from ``symbolic/``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


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
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from attnflow.symbolic import documents

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
    files = documents.generated_files(progress=not args.quiet and sys.stderr.isatty())
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
        print("FINDINGS (theory-note formulas that did not survive, see the documents): " + ", ".join(findings))
