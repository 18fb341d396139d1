"""Copies of stored objects, cheaper than ``copy.deepcopy``.

The store hands out copies (a caller may change what it gets) and keeps copies (a
caller may change what it gave), so every read and write copies an object. Stored
objects are JSON documents: dicts, lists and immutable scalars, which need none of
``deepcopy``'s machinery (the memo of shared and cyclic references, ``__deepcopy__``
and ``__reduce__`` look-ups); under a burst of clusters its cost was the sandbox's
largest. Anything else still goes through ``deepcopy``.
"""

from __future__ import annotations

import copy
from typing import Any, TypeVar

T = TypeVar("T")
_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


def clone(value: T) -> T:
    """A deep copy of a JSON value (``deepcopy`` for anything that is not JSON)."""
    return _clone(value)  # type: ignore[no-any-return]


def _clone(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {key: _clone(item) for key, item in value.items()}
    if kind is list:
        return [_clone(item) for item in value]
    if kind in _IMMUTABLE:
        return value
    return copy.deepcopy(value)
