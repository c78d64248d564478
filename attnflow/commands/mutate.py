"""``attnflow mutate``: apply realistic bugs one at a time to a copy of the source; do the claims notice?"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from attnflow.commands._common import reproduce_line
from attnflow.commands._seeds import add_seed_argument


def register(sub) -> None:
    p = sub.add_parser(
        "mutate",
        help="mutation testing: does `attnflow check` notice realistic one-line bugs?",
        description=(
            "Apply each mutant of the catalogue (attnflow/mutation/_catalogue.py) to a temporary copy of "
            "the package source (never your tree), regenerate the kernels when the generator or a "
            "declaration is mutated, run the claims expected to notice it (attnflow check, quick "
            "profile, in a subprocess importing the copy) and report the kill rate, the survivors and "
            "the mutants each claim killed. Exit 0 iff every mutant is killed and none drifted. "
            "The full catalogue is CPU-heavy (minutes per mutant); --profile quick is the CI subset. "
            "The report is also kept as the last report ($ATTNFLOW_MUTATION_REPORT, default "
            "~/.cache/attnflow/mutate-last.json): attnflow export records from it the mutants each "
            "exported kernel's claims killed."
        ),
    )
    p.add_argument("--profile", choices=["quick", "full"], default="quick",
                   help="quick: the CI subset of the catalogue (default); full: every mutant")
    p.add_argument("--mutant", nargs="+", action="extend", metavar="ID", default=[],
                   help="only these mutants (ids from --list); repeatable")
    p.add_argument("--list", action="store_true", help="list the mutants (id, file, expected claims) and exit")
    p.add_argument("--report", metavar="PATH", default=None, help="also write the JSON report to PATH (.json)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --report file")
    p.add_argument("--all-claims", action="store_true",
                   help="run every claim for every mutant (full attribution; slow)")
    p.add_argument("--confirm-survivors", action="store_true",
                   help="re-run each survivor against every claim before calling it a survivor")
    p.add_argument("--root", metavar="DIR", default=None,
                   help="source checkout to copy (default: the checkout attnflow runs from)")
    add_seed_argument(p, "the claims")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress (default: one line per mutant on stderr as it starts and ends, and a "
                        "progress bar of mutants when stderr is a terminal)")
    p.set_defaults(func=run)


def _log(line: str) -> None:
    """One progress line on stderr, above the tqdm bar when one is shown."""
    from tqdm.auto import tqdm

    tqdm.write(line, file=sys.stderr)
    sys.stderr.flush()


def _default_root() -> Path:
    import attnflow

    root = Path(attnflow.__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        raise ValueError(f"--root: attnflow does not run from a source checkout ({root}); pass --root DIR")
    return root


def run(args: argparse.Namespace) -> int:
    from attnflow import mutation

    mutants = mutation.catalogue(args.profile, args.mutant or None)
    if args.list:
        w = max(len(m.id) for m in mutants)
        for m in mutants:
            print(f"{m.id.ljust(w)}  {'quick' if m.quick else 'full '}  {m.file}  -> {', '.join(m.expect)}")
        return 0
    if args.report is not None:
        from attnflow._base.io import check_output_path

        check_output_path(args.report, option="--report", force=args.force, suffixes=(".json",))
    root = Path(args.root) if args.root else _default_root()
    log = (lambda s: None) if args.quiet else _log
    try:
        runs, baseline = mutation.run_mutants(mutants, root, seed=args.seed, all_claims=args.all_claims,
                                              confirm_survivors=args.confirm_survivors, log=log,
                                              progress=False if args.quiet else None)
    except mutation.CatalogueDrift as exc:
        print(f"attnflow mutate: {exc}", file=sys.stderr)
        return 2
    report = mutation.report_dict(runs, baseline, args.profile, args.seed)
    print(mutation.format_table(report))
    print("reproduce: " + reproduce_line("mutate", args, ["profile", "mutant", "seed", "all_claims", "confirm_survivors",
                                                          "root"]))
    if args.report is not None:
        print(f"wrote {mutation.write_report(args.report, report, force=args.force)}")
    try:  # the last report: `attnflow export` records from it the mutants each kernel's claims killed
        print(f"kept as the last report for `attnflow export`: {mutation.save_last_report(report)}")
    except OSError as exc:
        print(f"attnflow mutate: could not keep the last report ({exc}); set ATTNFLOW_MUTATION_REPORT", file=sys.stderr)
    ok = report["survived"] == 0 and report["errors"] == 0
    return 0 if ok else 1
