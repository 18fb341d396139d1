"""How a field of a model is read from a row of it.

A row is a table's ORM row or a plain row of the same columns (app.store.reads). A
column is read by its name; a computed field (``cpu`` of a cluster, say) has no
column: its property's function computes it from the row's columns, which works on
either kind of row."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from pydantic import BaseModel

Reader = Callable[[Any], Any]


def reader(model: type[BaseModel], name: str) -> Reader:
    computed = model.model_computed_fields.get(name)
    if computed is not None and computed.wrapped_property.fget is not None:
        function: Reader = computed.wrapped_property.fget
        return function
    return attrgetter(name)
