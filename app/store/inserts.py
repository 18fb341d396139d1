"""New rows written with one Core INSERT per table, past the ORM's unit of work.

For the hot write paths: a create writes five new rows (a batch of creates, five per
create) and changes none of them again in its transaction, and planning a flush
(ordering, identity map, version counter, attribute history) costs several times the
statements themselves. The rows are built as
usual (``TenantContainerRow(...)``: the models' defaults and validation apply) and stay
transient: nothing is loaded into the session, nothing is flushed after."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession


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


def row_values(row: SQLModel) -> dict[str, Any]:
    """The row's column values, keyed by column name."""
    _, columns = _columns(type(row))
    values = {}
    for attribute, column, generated in columns:
        value = getattr(row, attribute)
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
