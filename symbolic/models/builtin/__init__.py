"""The built-in model declarations, one module per model family, registered in this order."""

from attnflow.symbolic.models._registry import _register_builtin
from attnflow.symbolic.models.builtin.causal_alibi import causal_alibi
from attnflow.symbolic.models.builtin.interp import interp, interp_attention
from attnflow.symbolic.models.builtin.kuramoto import kuramoto, kuramoto_rescaled
from attnflow.symbolic.models.builtin.multihead import multihead
from attnflow.symbolic.models.builtin.normalization import ngpt, periln, preln, sqrt
from attnflow.symbolic.models.builtin.qkv import qkv
from attnflow.symbolic.models.builtin.sa import sa
from attnflow.symbolic.models.builtin.usa import usa, usa_rescaled

__all__ = ["AUXILIARY", "sa", "usa", "qkv", "kuramoto", "causal_alibi", "multihead", "preln", "periln", "ngpt", "sqrt", "interp",
           "usa_rescaled", "kuramoto_rescaled"]

for _model in (sa, usa, qkv, kuramoto, causal_alibi, multihead, preln, periln, ngpt, sqrt, interp, usa_rescaled,
               kuramoto_rescaled):
    _register_builtin(_model)
del _model

#: Declarations that get a generated kernel but are not models of the registry (building blocks
#: of the numerics, e.g. the attention average of the interpolation construction).
AUXILIARY = (interp_attention,)
