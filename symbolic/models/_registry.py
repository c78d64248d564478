"""The model registry: every declared model by name, built-in or the user's own.

:func:`register` adds a declaration (a model name is unique; ``replace=True`` swaps one of the
user's), :func:`get` looks one up with a helpful error, :data:`MODELS` is a read-only live view,
and :func:`load` imports a user's Python file of declarations and registers the models it defines.

Loading a models file runs it: it is the user's own Python code, imported the way pytest imports a
``conftest.py``.  Never load a file you would not run.  No text is ever parsed as an expression.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from attnflow.symbolic.models._declaration import Model

__all__ = ["register", "unregister", "get", "names", "load", "origin", "MODELS", "BUILTIN"]

_REGISTRY: dict[str, Model] = {}
_LOCK = threading.Lock()
_ORIGIN: dict[str, str] = {}  # model name -> the models file it was loaded from

#: Read-only live view ``{name: declaration}`` of every registered model, in registration order.
MODELS: Mapping[str, Model] = MappingProxyType(_REGISTRY)

#: Names of the built-in models (filled when :mod:`attnflow.symbolic.models.builtin` is imported).
BUILTIN: list[str] = []


def register(model: Model, *, replace: bool = False) -> Model:
    """Add ``model`` to the registry and return it.

    Raises ``ValueError`` if the name is taken (pass ``replace=True`` to replace a model that is
    not built in) or ``model`` is not a declaration.
    """
    if not isinstance(model, Model):
        raise ValueError(f"model: expected a model declaration (SphereModel, CircleModel, ...), got {type(model).__name__}")
    with _LOCK:
        old = _REGISTRY.get(model.name)
        if old is not None and old is not model:
            if model.name in BUILTIN:
                raise ValueError(f"name: {model.name!r} is a built-in model; choose another name")
            if not replace:
                raise ValueError(f"name: a model {model.name!r} is already registered; pass replace=True to replace it")
        _REGISTRY[model.name] = model
        _ORIGIN.pop(model.name, None)  # load() records the file after registering
    return model


def _register_builtin(model: Model) -> Model:
    register(model)
    if model.name not in BUILTIN:
        BUILTIN.append(model.name)
    return model


def unregister(name: str) -> None:
    """Remove the user's model ``name`` from the registry (built-in models stay)."""
    if name in BUILTIN:
        raise ValueError(f"name: {name!r} is a built-in model and cannot be removed")
    with _LOCK:
        if _REGISTRY.pop(name, None) is None:
            raise ValueError(f"name: no registered model {name!r}")


def get(name) -> Model:
    """The declaration registered as ``name``; ``ValueError`` naming close matches otherwise."""
    if isinstance(name, Model):
        return name
    model = _REGISTRY.get(name) if isinstance(name, str) else None
    if model is None:
        close = difflib.get_close_matches(str(name).lower(), list(_REGISTRY), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"model: unknown model {name!r}{hint} (known: {', '.join(_REGISTRY)})")
    return model


def names() -> list[str]:
    """Registered model names, in registration order."""
    return list(_REGISTRY)


def load(path, *, replace: bool = False) -> list[Model]:
    """Import the Python file ``path`` and register every model declaration it defines.

    The file is executed as a module (it is the user's own code, like a pytest ``conftest.py``);
    its module-level :class:`Model` objects are registered in definition order and returned.
    Loading the same unchanged file again returns the models registered by the first load
    without running the file again.
    ``replace=True`` lets it replace models of the same name loaded before.

    Raises
    ------
    ValueError
        If ``path`` is not an existing ``.py`` file, defines no model, or a name clashes.
    """
    p = Path(path)
    if p.suffix != ".py" or not p.is_file():
        raise ValueError(f"path: expected an existing Python file (*.py) of model declarations, got {str(path)!r}")
    digest = hashlib.sha256(str(p.resolve()).encode()).hexdigest()[:12]
    modname = f"attnflow_user_models_{p.stem}_{digest}"
    content = hashlib.sha256(p.read_bytes()).hexdigest()
    loaded = sys.modules.get(modname)
    if loaded is not None and getattr(loaded, "__attnflow_content__", None) == content:
        # the same unchanged file again: return its models (still registered) without running it twice
        found = [v for v in vars(loaded).values() if isinstance(v, Model)]
        if all(_REGISTRY.get(m.name) is m for m in found):
            return found
    spec = importlib.util.spec_from_file_location(modname, p)
    module = importlib.util.module_from_spec(spec)
    module.__attnflow_content__ = content
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(modname, None)
        raise
    found = list({id(v): v for v in vars(module).values() if isinstance(v, Model)}.values())  # once per object
    if not found:
        raise ValueError(f"path: {str(path)!r} defines no model declaration (SphereModel(...), CircleModel(...))")
    names_in_file = [m.name for m in found]
    twice = sorted({n for n in names_in_file if names_in_file.count(n) > 1})
    if twice:
        raise ValueError(f"name: {str(path)!r} declares two different models named {twice[0]!r}")
    for model in found:  # every clash is reported before any model of the file is registered
        old = _REGISTRY.get(model.name)
        if old is not None and old is not model and (model.name in BUILTIN or not replace):
            why = "is a built-in model; choose another name" if model.name in BUILTIN else \
                "is already registered; pass replace=True to replace it"
            raise ValueError(f"name: the model {model.name!r} declared in {str(path)!r} {why}")
    out = [register(model, replace=replace) if _REGISTRY.get(model.name) is not model else model for model in found]
    for model in out:
        _ORIGIN[model.name] = str(p.resolve())
    return out


def origin(name: str) -> str | None:
    """The absolute path of the models file that declared ``name`` (:func:`load`), or None.

    Other processes (e.g. the Dask workers of a sweep) load that file to know the model.
    """
    model = _REGISTRY.get(name)
    path = _ORIGIN.get(name)
    return path if model is not None and name not in BUILTIN else None
