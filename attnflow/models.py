"""Declare your own attention model (public API).

A model is one declaration -- :class:`SphereModel` (tokens on the unit sphere),
:class:`CircleModel` (angles) or :class:`EuclideanModel` (the normalisation schemes' ``x = r theta``)
-- written in SymPy with the symbols below: the score ``s``, the inverse temperature ``beta``,
and in output maps the attention output ``A``, the token ``X`` and their inner products.
:func:`register` adds a declaration to the registry shared by the Python API and the CLI;
:func:`load` imports a Python file of declarations and registers the models it defines.

Loading a models file **runs it**: it is your own Python code, imported the way pytest imports a
``conftest.py``.  Never load a file you would not run.  No text is ever parsed as an expression.

Example (sigmoid attention, arXiv 2409.04431)::

    import sympy as sp
    from attnflow.models import SphereModel, s, beta

    b = sp.Symbol("b", real=True)
    sigmoid = SphereModel(
        name="sigmoid",
        weight=1 / (1 + sp.exp(-(beta * s + b))),
        normalization="mean",
        energy=sp.log(1 + sp.exp(beta * s + b)) / beta,
        params={b: 0.0},
        source="arXiv 2409.04431",
    )

:func:`derive_model` derives a declaration's field, energy and dissipation identity with an honest
proof status, :func:`model_document` renders them as Markdown (``attnflow derive --models FILE --out DIR``).

The built-in models are declared the same way in :mod:`attnflow.symbolic.models.builtin`.  Every
``attnflow`` command takes ``--models my_models.py`` (the same loading); every registered model gets
the generic claims ``model.<name>.<family>`` of :mod:`attnflow.properties.claims.model` (its kernel
against the SymPy field, the declared energy's dissipation identity and monotonicity, stationary
configurations, RK4's order, clustering) and can be exported (``attnflow export NAME``).

Those claims compare the declaration's own kernel, energy and SymPy field with each other: a
declaration that says something other than you meant (``"mean"`` for ``"softmax"``, the key matrix
as the value) passes them.  :func:`reference` registers an independent NumPy evaluation of your
model's defining equation; the claim ``model.<name>.reference`` then checks the generated kernel
against it (the built-in models have theirs in :mod:`attnflow.numerics._reference`).
"""

from attnflow.symbolic.models import (
    AA,
    AH,
    HH,
    MODELS,
    TANGENT,
    XA,
    XH,
    A,
    Choice,
    CircleModel,
    DeriveConfig,
    EuclideanModel,
    H,
    Matrix,
    Model,
    N,
    Perceptron,
    Real,
    SphereModel,
    X,
    beta,
    derive_model,
    g,
    get,
    load,
    model_document,
    names,
    register,
    s,
    t,
    u,
    unregister,
)

__all__ = [
    "Model", "SphereModel", "CircleModel", "EuclideanModel", "Perceptron", "Matrix", "Real", "Choice",
    "TANGENT", "s", "beta", "t", "g", "N", "u", "A", "H", "X", "XA", "XH", "AA", "HH", "AH",
    "register", "unregister", "get", "names", "load", "MODELS",
    "derive_model", "model_document", "DeriveConfig", "reference",
]


def reference(name: str, velocity) -> None:
    r"""Register an independent NumPy evaluation of model ``name``'s defining equation.

    ``velocity(x, beta, t=0.0, **params)`` must return the field with the conventions of
    :func:`attnflow.numerics.velocity` (``x``: ``(n, d)`` tokens or ``(n,)`` angles), written from the
    model's equation (e.g. the shifted softmax of the score, the value map, the projection
    :math:`P_x v = v - \langle x, v\rangle x`), not from the declaration.  The generic claim
    ``model.<name>.reference`` compares the generated kernel with it (the model's claims are regenerated
    at the next :func:`attnflow.properties.registry.all_claims`).  A later :func:`unregister` does not remove it.

    Raises
    ------
    ValueError
        if ``name`` is not a string, is a built-in model (its reference is attnflow's), or ``velocity``
        is not callable.
    """
    from attnflow.numerics import _reference
    from attnflow.symbolic.models import BUILTIN

    if not isinstance(name, str) or not name:
        raise ValueError(f"name: expected the model's name (a non-empty str), got {name!r}")
    if name in BUILTIN:
        raise ValueError(f"name: {name!r} is a built-in model; its reference is attnflow's (numerics/_reference.py)")
    if not callable(velocity):
        raise ValueError(f"velocity: expected a callable velocity(x, beta, t=0.0, **params), got {type(velocity).__name__}")
    _reference.reference(name, velocity=velocity)
    from attnflow.properties.registry import forget_model_claims

    forget_model_claims(name)
