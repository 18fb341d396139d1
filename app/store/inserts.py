"""New rows written with one Core INSERT per table, past the ORM's unit of work.

For the hot write paths: a create writes five new rows (a batch of creates, five per
create) and changes none of them again in its transaction, and planning a flush
(ordering, identity map, version counter, attribute history) costs several times the
statements themselves. The rows are built with the models' defaults (``new_row``, or
``TenantContainerRow(...)``) and stay transient: nothing is loaded into the session,
nothing is flushed after."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic.fields import FieldInfo
from sqlalchemy.orm import instrumentation
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

M = TypeVar("M", bound=SQLModel)


@cache
def _columns(model: type[SQLModel]) -> tuple[sa.Table, tuple[tuple[str, str, bool], ...]]:
    """The model's table and, per mapped column: the attribute, the column and whether
    it is a generated key (left out while None, for the database to number)."""
    mapper = sa.inspect(model)
    columns = []
    for attribute in mapper.column_attrs:
        column = attribute.columns[0]
        generated = bool(column.primary_key and column.autoincrement in (True, "auto"))
        generated = generated and isinstance(column.type, sa.Integer)
        columns.append((attribute.key, column.key, generated))
    return mapper.local_table, tuple(columns)


@cache
def _defaulted(model: type[SQLModel]) -> tuple[tuple[str, FieldInfo], ...]:
    """The model's fields that have a default (or a default factory)."""
    return tuple(
        (name, field) for name, field in model.model_fields.items() if not field.is_required()
    )


def new_row(model: type[M], **values: Any) -> M:
    """What ``model(**values)`` builds (the same attributes and defaults, the same
    fields set; no validation either way), for a new row: INSERTed by ``insert_rows``,
    or added to a session, whose flush INSERTs every value a new row holds. A table
    model's constructor sets each attribute through pydantic's and the ORM's
    instrumentation (an event and a change recorded per column): some 230 µs for a
    container's 27 columns, and a create builds five rows. Here the values are filled
    in at once, as the ORM fills a row it loads (about 20 µs); a change made
    afterwards is recorded as usual."""
    row = instrumentation.manager_of_class(model).new_instance()
    given = set(values)
    for name, field in _defaulted(model):
        if name not in given:
            values[name] = field.get_default(call_default_factory=True)
    row.__dict__.update(values)
    object.__setattr__(row, "__pydantic_fields_set__", given)
    return row


def row_values(row: SQLModel) -> dict[str, Any]:
    """The values of a new row's columns, keyed by column name. A new row holds them
    all (its model's constructor or ``new_row`` sets every field), read from it
    directly rather than through each attribute's instrumentation."""
    _, columns = _columns(type(row))
    held = vars(row)
    values = {}
    for attribute, column, generated in columns:
        value = held.get(attribute)
        if value is None and generated:
            continue
        values[column] = value
    return values


async def insert_rows(session: AsyncSession, rows: Sequence[SQLModel]) -> None:
    """INSERT ``rows`` in the session's transaction: one statement per table (run for
    each of its rows, in order), the tables in the order their first rows come. So a
    row referenced by a later one goes first, as long as no table's rows refer to a
    table that comes after it."""
    by_table: dict[type[SQLModel], list[dict[str, Any]]] = {}
    for row in rows:
        by_table.setdefault(type(row), []).append(row_values(row))
    for model, values in by_table.items():
        table, _ = _columns(model)
        await session.exec(sa.insert(table), params=values)
