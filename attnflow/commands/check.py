"""``attnflow check``: run the registered claims through Hypothesis and report the outcomes."""

from __future__ import annotations

import argparse

from attnflow.commands._common import add_quiet_argument, progress_of, reproduce_line
from attnflow.commands._models import models_flags
from attnflow.commands._seeds import add_seed_argument
from attnflow.properties.profiles import PROFILES


def register(sub) -> None:
    p = sub.add_parser(
        "check",
        help="run the property checks of the claims registry",
        description=(
            "Run every registered claim (or those selected with --claim) through Hypothesis and print "
            "a table: id, expectation, outcome, examples tried, seconds and detail (measurements, fitted "
            "rates, counterexamples with a replay command). Exit 0 iff every outcome matches its "
            "expectation ('holds', 'fails' for negative controls, 'explored')."
        ),
    )
    p.add_argument("--profile", choices=list(PROFILES), default="quick",
                   help="number of examples per claim: quick (default), ci, thorough")
    p.add_argument("--claim", nargs="+", action="extend", metavar="GLOB", default=[],
                   help="only claims whose id matches a shell-style GLOB (a bare prefix selects its family); "
                   "repeatable")
    p.add_argument("--report", metavar="PATH", default=None,
                   help="also write a report: PATH ending in .json (versioned schema, docs/report-schema.md), "
                   ".md or .html (one self-contained page with the statements and figures)")
    p.add_argument("--force", action="store_true", help="overwrite an existing --report file")
    add_seed_argument(p, "the claims")
    p.add_argument("--list", action="store_true", help="list the claims (id, expectation, title) and exit")
    add_quiet_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from attnflow.properties import registry, report

    if args.report is not None:
        from attnflow._base.io import check_output_path

        check_output_path(args.report, option="--report", force=args.force, suffixes=(".json", ".md", ".html"))
        if args.report.lower().endswith(".html"):
            from attnflow.plotting import require

            require("--report")  # the page's mathematics and figures are drawn with matplotlib
    try:
        claims = registry.select_claims(args.claim)
    except ValueError as exc:
        raise ValueError(f"--claim: {exc}") from None
    if args.list:
        width = max((len(c.id) for c in claims), default=2)
        for c in claims:
            print(f"{c.id.ljust(width)}  {c.expect:8s} {c.title}")
        return 0
    seed = args.seed
    flags = models_flags(getattr(args, "models", None))
    runs = registry.run_claims(claims, profile=args.profile, seed=seed, progress=progress_of(args), replay_args=flags)
    command = reproduce_line("check", args, ["claim", "profile"]) + f" --seed {seed}"
    print(report.format_table(runs))
    findings = report.format_findings(runs)
    if findings:
        print("\n" + findings)
    n_ok = sum(r.ok for r in runs)
    total = sum(r.seconds for r in runs)
    ok = n_ok == len(runs)
    print(
        f"\n{n_ok}/{len(runs)} claims match their expectation ({'OK' if ok else 'NOT OK'}); "
        f"profile {args.profile}, seed {seed}, {total:.1f} s.\n"
        f"reproduce: {command}"
    )
    if args.report is not None:
        try:
            renderers = {}
            if args.report.lower().endswith(".html"):
                from attnflow.plotting import report_renderers

                renderers = report_renderers()
            path = report.write_report(args.report, runs, args.profile, seed, command=command, **renderers)
        except ValueError as exc:
            raise ValueError(f"--report: {exc}") from None
        print(f"wrote {path}")
    return 0 if ok else 1

