"""Mutation testing of the verification itself: can ``attnflow check`` notice realistic bugs?

Each mutant of the catalogue (:mod:`attnflow.mutation._catalogue`) is applied, one at a time, to a
private copy of the package source (:mod:`attnflow.mutation._sandbox`: never the user's tree; the
copy is what the subprocess imports, its numba cache stays in the copy), the claims expected to
notice it run there (``attnflow check --claim ...``, :mod:`attnflow.mutation._run`), and the report
(:mod:`attnflow.mutation._report`) gives the kill rate, the survivors and, per claim, the mutants it
killed.  CLI: ``attnflow mutate``.
"""

from attnflow.mutation._catalogue import CATALOGUE, EXTERNAL_FACTS, QUICK, Mutant, catalogue, declaration_mutants
from attnflow.mutation._report import (
    format_table,
    kernel_mutants,
    kill_rate,
    last_report_path,
    read_report,
    report_dict,
    report_summary,
    save_last_report,
    write_report,
)
from attnflow.mutation._run import Baseline, MutantRun, expand_globs, run_mutants
from attnflow.mutation._sandbox import CatalogueDrift, apply_mutant, check_mutant, copy_path, make_copy, package_dirs

__all__ = [
    "CATALOGUE", "EXTERNAL_FACTS", "QUICK", "Mutant", "catalogue", "declaration_mutants",
    "format_table", "kill_rate", "report_dict", "write_report", "last_report_path", "save_last_report", "read_report",
    "kernel_mutants", "report_summary",
    "Baseline", "MutantRun", "expand_globs", "run_mutants",
    "CatalogueDrift", "apply_mutant", "check_mutant", "copy_path", "make_copy", "package_dirs",
]
