"""``module:attribute`` specs, as users write them for targets and apps (uvicorn's convention),
and a package's names loaded from their modules on first use."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from .errors import describe_error

__all__ = ["SpecError", "import_spec", "lazy_names"]


class SpecError(ValueError):
    """The spec is malformed, its module does not import, or it lacks the attribute."""


def import_spec(spec: str, *, example: str = "mypkg.module:name") -> Any:
    """The object ``spec`` names, importable from the working directory as with uvicorn."""
    module_name, colon, attr = spec.partition(":")
    if not colon or not module_name or not attr:
        raise SpecError(f"{spec!r} is not 'module:attribute' (e.g. {example})")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as error:  # a broken module is a usage problem, reported in one line
        raise SpecError(f"cannot import {module_name!r}: {describe_error(error)}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise SpecError(f"module {module_name!r} has no attribute {attr!r}") from None
    return obj


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A package's ``__getattr__`` (PEP 562): each name of ``homes`` from its module (relative to
    ``package``) on first use, so importing the package pays for none of them."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f".{home}", package), name)

    return __getattr__
