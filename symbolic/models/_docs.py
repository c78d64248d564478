"""The README's models table, written by ``attnflow derive`` from the declarations.

:func:`readme_files` returns ``{"README.md": text}``: the README of the source checkout with the
part between the markers ``<!-- models:begin -->`` and ``<!-- models:end -->`` replaced by a table of
every built-in model (name, state, parameters, normalisation, energy, source, equation), so that
``attnflow derive --check`` fails when the README and the declarations disagree.  Without a source
checkout (an installed package) it returns nothing.
"""

from __future__ import annotations

from attnflow.symbolic.models._registry import BUILTIN, get

__all__ = ["models_table", "readme_files", "BEGIN", "END"]

BEGIN = "<!-- models:begin (written by `attnflow derive` from attnflow.symbolic.models; do not edit) -->"
END = "<!-- models:end -->"


def _params(decl) -> str:
    parts = []
    for p in decl.params:
        shape = getattr(p, "shape", None)
        if shape is not None:
            parts.append(f"`{p.name}` {'×'.join(shape)}")
        elif hasattr(p, "choices"):
            parts.append(f"`{p.name}` ∈ {{{', '.join(p.choices)}}} (default {p.default})")
        else:
            parts.append(f"`{p.name}` (default {p.default:g})" if not p.required else f"`{p.name}`")
    return ", ".join(parts) or "—"


def _normalization(decl) -> str:
    modes = decl.normalization_modes()
    if None in modes:
        return modes[None]
    return ", ".join(f"{k}: {v}" for k, v in modes.items())


def models_table() -> str:
    """The Markdown table of the built-in models."""
    rows = ["| model | state | parameters | normalisation | energy | source | equation |",
            "|---|---|---|---|---|---|---|"]
    for name in BUILTIN:
        d = get(name)
        energy = "—" if d.energy is None else ("gradient flow" if d.gradient_flow else "under hypotheses")
        rows.append(f"| `{name}` | {d.manifold} | {_params(d)} | {_normalization(d)} | {energy} | {d.source} "
                    f"| {d.description.replace('|', '&#124;')} |")
    return "\n".join(rows)


def readme_files() -> dict[str, str]:
    """``{"README.md": text}`` with the models table regenerated (empty without a source checkout)."""
    from attnflow.symbolic.documents import repository_root

    root = repository_root()
    if root is None or not (root / "README.md").is_file():
        return {}
    text = (root / "README.md").read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise RuntimeError(f"README.md: the markers {BEGIN!r} and {END!r} around the models table are missing")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return {"README.md": f"{head}{BEGIN}\n{models_table()}\n{END}{tail}"}
