"""Plain rows for read-only listings.

A ``select(SomeTable)`` run through the session's connection rather than the ORM
gives rows of the same columns, converted by the same column types (statuses as the
enum, JSON as objects), without building an ORM object per row: no identity map, no
instrumented attributes, no change tracking. For a listing of thousands of rows that
was most of its cost. Each row comes as a named tuple read by the same attribute
names as the table's rows (where an attribute's column has another name, the
attribute's), and a named tuple's attribute is several times cheaper to read than a
SQLAlchemy ``Row``'s, which a listing reads every one of. They are read-only:
whatever changes a record reads it through the ORM."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession


def _attribute_names(table: type[Any]) -> dict[str, str]:
    """The table's attribute name of each of its columns, by the column's name."""
    mapper = sa.inspect(table)
    return {prop.columns[0].key: prop.key for prop in mapper.column_attrs}


_record_types: dict[tuple[type[Any], tuple[str, ...]], Any] = {}


def _record_type(table: type[Any], columns: tuple[str, ...]) -> Any:
    found = _record_types.get((table, columns))
    if found is None:
        names = _attribute_names(table)
        fields = [names.get(column, column) for column in columns]
        found = _record_types[table, columns] = namedtuple("PlainRow", fields)  # type: ignore[misc]
    return found


async def plain_rows(session: AsyncSession, statement: Any, table: type[Any]) -> Sequence[Any]:
    """The rows of ``statement`` (a ``select`` of ``table``'s columns) as named tuples."""
    connection = await session.connection()
    result = await connection.execute(statement)
    make = _record_type(table, tuple(result.keys()))._make
    return [make(row) for row in result.all()]
