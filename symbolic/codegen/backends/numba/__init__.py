"""The numba backend: printer, config, templates and the renderer of one model's kernel module."""

from attnflow.symbolic.codegen.backends.numba._generate import render_model, source_expr
from attnflow.symbolic.codegen.backends.numba.config import NumbaConfig

__all__ = ["render_model", "source_expr", "NumbaConfig"]
