"""A small line-oriented template renderer for the kernel templates (structure only, no math).

Template files hold loop skeletons; every expression in them is printed from SymPy by the
caller and passed in the context.  The syntax, one directive per line:

``${NAME}``
    replaced by ``context[NAME]``; a value that is a list of lines, placed alone on its line, is
    emitted line by line at that line's indentation (an empty list removes the line).
``%block NAME``
    the block file ``blocks/NAME.tmpl``, rendered with the same context and indented to the
    directive's indentation (each block exists once and is shared by every template).
``%block NAME @rows``
    the block rendered once per row of the row block (see ``@r``).
``%if FLAG`` ... ``%endif``
    the enclosed lines only when ``context[FLAG]`` is true (no nesting of the same flag).
``@r``
    a line containing ``@r`` is repeated for each row suffix ``r`` of ``context["ROWS"]`` (strings:
    ``["0", "1", "2", "3"]`` for a block of four rows, ``[""]`` for one row) with ``@r`` replaced
    by ``r``; placeholders written ``${NAME@r}`` are looked up as ``context[NAME](r)``.

Rendering is deterministic and fails loudly on an unknown placeholder or block.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["render", "TEMPLATE_DIR"]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(@\w*)?\}")


def _read(name: str) -> list[str]:
    return (TEMPLATE_DIR / name).read_text().split("\n")


def _value(context: dict, name: str, row: str | None):
    if name not in context:
        raise KeyError(f"template placeholder ${{{name}}} has no value")
    v = context[name]
    if row is not None:
        if not callable(v):
            raise TypeError(f"template placeholder ${{{name}@r}} needs a per-row value")
        v = v(row[1:])
    return v


def _row(line: str, r: str) -> str:
    return line.replace("@r}", f"@{r}}}").replace("@r", r)


def _lines(lines: list[str], context: dict, indent: str = "") -> list[str]:
    out: list[str] = []
    skip: list[bool] = []
    for raw in lines:
        stripped = raw.strip()
        if stripped.startswith("%if "):
            skip.append(not context[stripped[4:].strip()])
            continue
        if stripped == "%endif":
            skip.pop()
            continue
        if any(skip):
            continue
        pad = indent + raw[: len(raw) - len(raw.lstrip())]
        if stripped.startswith("%block "):
            parts = stripped.split()
            block = _read(f"blocks/{parts[1]}.tmpl")
            if block and block[-1] == "":
                block = block[:-1]
            if len(parts) > 2 and parts[2] == "@rows":
                for r in context["ROWS"]:
                    out += _lines([_row(ln, r) for ln in block], context, pad)
            else:
                out += _lines(block, context, pad)
            continue
        if "@r" in raw:
            for r in context["ROWS"]:
                out += _lines([_row(raw, r)], context, indent)
            continue
        whole = _PLACEHOLDER.fullmatch(stripped)
        if whole:
            v = _value(context, whole[1], whole[2])
            if isinstance(v, list):
                out += [pad + ln if ln else "" for ln in v]
                continue
        text = _PLACEHOLDER.sub(lambda mt: str(_value(context, mt[1], mt[2])), raw)
        out.append(indent + text if text else "")
    return out


def render(template: str, context: dict) -> str:
    """Render the template file ``template`` (relative to :data:`TEMPLATE_DIR`) with ``context``."""
    return "\n".join(_lines(_read(template), context))
