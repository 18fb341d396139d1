"""The fields each kind declares, and a walk over an object that follows them.

The single source is the Kubernetes OpenAPI definitions as the generated models of
``kubernetes_asyncio`` carry them (``openapi_types`` and ``attribute_map`` of, say,
``V1PodSpec``): every served kind names its definition in ``resources.py``. The walk
serves two jobs of the apiserver's decoder: finding fields no definition declares
(``fieldValidation``, see ``fieldvalidation.py``) and calling the per-definition
defaulting functions (``defaults.py``) wherever a definition occurs in an object.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from kubernetes_asyncio.client import models

Obj = dict[str, Any]
# Called for every object of a definition met by the walk: (definition, object, path).
Visitor = Callable[[str, Obj, str], None]

_LIST = re.compile(r"^list\[(.+)\]$")
_MAP = re.compile(r"^dict\(str, (.+)\)$")


@functools.cache
def declared_fields(definition: str) -> dict[str, str] | None:
    """JSON field name -> type of the definition's fields; None for an unknown definition."""
    model = getattr(models, definition, None)
    if model is None or not hasattr(model, "openapi_types"):
        return None
    return {model.attribute_map[attr]: kind for attr, kind in model.openapi_types.items()}


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def walk(
    definition: str,
    value: Any,
    *,
    path: str = "",
    unknown: Callable[[str], None] | None = None,
    prune: bool = False,
    visit: Visitor | None = None,
) -> None:
    """Follow ``value`` as an instance of ``definition`` (a type string of the models:
    "V1Pod", "list[V1Container]", "dict(str, str)", "int", "object", ...).

    ``unknown(path)`` hears of each field its definition does not declare, in document
    order as the apiserver's decoder reports them; ``prune`` drops those fields;
    ``visit`` is called for each object of a known definition, children first, as the
    generated defaulters run."""
    if isinstance(value, list):
        match = _LIST.match(definition)
        if match:
            for index, item in enumerate(value):
                walk(match.group(1), item, path=f"{path}[{index}]",
                     unknown=unknown, prune=prune, visit=visit)  # fmt: skip
        return
    if not isinstance(value, dict):
        return
    match = _MAP.match(definition)
    if match:
        for key, item in value.items():
            walk(match.group(1), item, path=f"{path}[{key}]",
                 unknown=unknown, prune=prune, visit=visit)  # fmt: skip
        return
    fields = declared_fields(definition)
    if fields is None:
        return  # "object", "str" holding a map...: free-form, as RawExtension is
    strangers = []
    for key, item in value.items():
        kind = fields.get(key)
        if kind is None:
            strangers.append(key)
            if unknown is not None:
                unknown(_child(path, key))
        else:
            walk(kind, item, path=_child(path, key), unknown=unknown, prune=prune, visit=visit)
    if prune:
        for key in strangers:
            del value[key]
    if visit is not None:
        visit(definition, value, path)
