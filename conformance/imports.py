"""``module:attribute`` specs, as users write them for targets and apps (uvicorn's convention)."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from .errors import describe_error

__all__ = ["SpecError", "import_spec"]


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
