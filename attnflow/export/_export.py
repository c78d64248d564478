"""The entry point :func:`export_kernels`: verify, build, install (private; re-exported by :mod:`attnflow.export`)."""

from __future__ import annotations

import dataclasses
import shlex
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from . import _install
from ._catalogue import KERNELS, resolve_kernels, sync_user_kernels
from ._manifest import build_package
from ._verification import ExportRefused, verify_kernels

__all__ = ["ExportReport", "export_kernels"]


@dataclasses.dataclass
class ExportReport:
    """What :func:`export_kernels` wrote."""

    path: Path
    package: str
    kernels: list[str]
    refused: dict[str, str]
    profile: str
    seed: int
    seconds: float
    manifest: dict


def export_kernels(names: Iterable[str] | None = None, out=None, *, all_kernels: bool = False,
                   force: bool = False, profile: str = "quick", seed: int | None = None,
                   progress: bool | None = None, command_args: str = "", mutation_report=None) -> ExportReport:
    """Verify kernels and write them as the self-contained package ``out`` (layout: :mod:`attnflow.export`).

    Parameters
    ----------
    names : iterable of str, optional
        Kernel names (keys of :data:`KERNELS`) or model names (all of the model's kernels, e.g. a
        user's model registered with ``attnflow.models.load``); every one must verify or nothing is
        written.
    out : path
        The package folder; its last component is the import name.
    all_kernels : bool
        Export every catalogued kernel that verifies; refused ones are listed in the manifest
        (``refused``) and the report.  At least one must verify.
    force : bool
        Replace an existing ``out`` (only an empty folder or an earlier export).
    profile : {"quick", "ci", "thorough"}
        Hypothesis profile for the claims.
    seed : int, optional
        Hypothesis seed (a fresh one is drawn and recorded if omitted).
    progress : bool or None
        tqdm progress bar over the claims on stderr: None (default) automatic
        (:mod:`attnflow._base.progress`), True always, False never.
    command_args : str
        Further options of the recorded reproduce command (``" --models my_models.py"`` when the
        kernels belong to a user's model), inserted after ``attnflow export``.
    mutation_report : path, optional
        A report of ``attnflow mutate --report``; default: the last report ``attnflow mutate`` kept
        (:func:`attnflow.mutation.last_report_path`), if any.  The manifest records, per kernel, the
        mutants its claims killed (``mutants_killed``; ``null`` without a report).

    Returns
    -------
    ExportReport

    Raises
    ------
    ValueError
        Bad arguments (names ``names``, ``out``, ``profile`` or ``seed`` in the message).
    ExportRefused
        A requested kernel (or, with ``all_kernels``, every kernel) is not verified.
    """
    t0 = time.perf_counter()
    names = list(names or [])
    if all_kernels and names:
        raise ValueError("names: give kernel names or all_kernels (--all), not both")
    if not all_kernels and not names:
        raise ValueError("names: name the kernels to export or pass --all (see `attnflow export --list`)")
    from attnflow import mutation

    if mutation_report is not None:
        mutation_path = Path(mutation_report)
        mutation_data = mutation.read_report(mutation_path, option="mutation_report")
    else:
        mutation_path = mutation.last_report_path()
        try:
            mutation_data = mutation.read_report(mutation_path) if mutation_path.is_file() else None
        except ValueError:  # an unreadable last report is not the user's argument: record none
            mutation_data = None
    sync_user_kernels()
    specs = list(KERNELS.values()) if all_kernels else resolve_kernels(names)
    path, package = _install.check_out(out, force)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32):
        raise ValueError(f"seed: expected an integer in [0, 2**32), got {seed!r}")
    if seed is None:
        from attnflow.properties._runner import random_seed

        seed = random_seed()
    seed = int(seed)
    ver = verify_kernels(specs, profile=profile, seed=seed, progress=progress)
    refused = {n: v.reason for n, v in ver.items() if not v.ok}
    if all_kernels:
        specs = [s for s in specs if ver[s.name].ok]
        if not specs:
            raise ExportRefused(refused)
    elif refused:
        raise ExportRefused(refused)

    what = "--all" if all_kernels else " ".join(s.name for s in specs)
    # the command as run: --out as given (not just the package name), --force if given, the seed used
    command = (f"attnflow export{command_args} {what} --out {shlex.quote(str(out))}{' --force' if force else ''} "
               f"--profile {profile} --seed {seed}")
    manifest, texts, arrays = build_package(package, specs, ver, refused, profile, seed, command,
                                            mutation=(mutation_data, mutation_path) if mutation_data else None)

    with _install.staging(path) as tmp:  # removed on any exception, Ctrl-C and SIGTERM included
        _install.write_package(tmp, texts, arrays)
        _install.check_out(out, force)  # re-check: the target may have changed while the claims ran
        _install.install(tmp, path, force)
    return ExportReport(path=path, package=package, kernels=[s.name for s in specs], refused=refused,
                        profile=profile, seed=seed, seconds=time.perf_counter() - t0, manifest=manifest)
