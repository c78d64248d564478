"""``attnflow export``: write verified numba kernels as a self-contained Python package."""

from __future__ import annotations

import argparse
import sys

from attnflow.commands._common import add_quiet_argument, progress_of
from attnflow.commands._models import models_flags
from attnflow.commands._seeds import add_seed_argument
from attnflow.properties.profiles import PROFILES

# API argument names -> command-line spelling, for error messages
_ARG_NAMES = {"out:": "--out:", "names:": "NAME:", "profile:": "--profile:", "seed:": "--seed:",
              "mutation_report:": "--mutation-report:"}


def register(sub) -> None:
    p = sub.add_parser(
        "export",
        help="export verified numba kernels as a standalone package",
        description=(
            "Run the claims that exercise the named kernels, and if every one comes out as expected "
            "(and at least one actually calls the kernel) write DIR as a Python package named after DIR's "
            "last component: the generated kernel sources (numpy + numba only), manifest.json (versions, "
            "signatures, LaTeX and hash of the source expressions, claim outcomes), stored inputs and "
            "reference outputs, selftest() / `python -m NAME selftest`, and a README. Kernels without "
            "claims are refused. Exit 0 on success, 1 when refused, 2 on bad arguments."
        ),
    )
    p.add_argument("names", nargs="*", metavar="NAME",
                   help="kernel names, or model names standing for all their kernels (see --list)")
    p.add_argument("--all", action="store_true", dest="all_kernels",
                   help="export every kernel that verifies (refused ones are reported and recorded)")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="package folder to write; its last component is the import name (e.g. build/attnflow_kernels)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing DIR (only an empty folder or an earlier export)")
    p.add_argument("--profile", choices=list(PROFILES), default="quick",
                   help="Hypothesis profile for the claims: quick (default), ci, thorough")
    add_seed_argument(p, "the claims run before exporting (recorded in the manifest)")
    p.add_argument("--mutation-report", metavar="PATH", default=None,
                   help="report of `attnflow mutate --report PATH` whose kills the manifest records per kernel "
                        "(mutants_killed); default: the last report attnflow mutate kept, if any")
    p.add_argument("--list", action="store_true", help="list the kernels, the models using them and their claims")
    add_quiet_argument(p)
    p.set_defaults(func=run)


def _cli_message(exc: ValueError) -> str:
    msg = str(exc)
    for api, cli in _ARG_NAMES.items():
        if msg.startswith(api):
            return cli + msg[len(api):]
    return msg


def run(args: argparse.Namespace) -> int:
    from attnflow import export

    if args.list:
        rows = export.kernel_table()
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            claims = ", ".join(r["claims"]) if r["claims"] else "none registered (globs: " + ", ".join(r["claim_globs"]) + ")"
            print(f"{r['name'].ljust(width)}  models: {', '.join(r['models'])}")
            print(f"{''.ljust(width)}  claims: {claims}")
            print(f"{''.ljust(width)}  {r['status']}")
        return 0
    try:
        report = export.export_kernels(
            args.names, args.out, all_kernels=args.all_kernels, force=args.force, profile=args.profile,
            seed=args.seed, progress=progress_of(args),
            command_args=models_flags(getattr(args, "models", None)), mutation_report=args.mutation_report)
    except ValueError as exc:
        raise ValueError(_cli_message(exc)) from None
    except export.ExportRefused as exc:
        print(f"attnflow export: {exc}", file=sys.stderr)
        print("nothing was written", file=sys.stderr)
        return 1
    for name, why in report.refused.items():
        print(f"skipped {name}: {why}", file=sys.stderr)
    n_claims = len({c["id"] for k in report.manifest["kernels"] for c in k["claims"]})
    print(f"wrote {report.path} (package {report.package}): {len(report.kernels)} kernel(s) "
          f"[{', '.join(report.kernels)}], {n_claims} claim(s) run under profile {report.profile}, "
          f"seed {report.seed}, {report.seconds:.1f} s")
    print(f"check it with: python -m {report.package} selftest   (from {report.path.parent})")
    print(f"reproduce: {report.manifest['command']}")
    return 0
