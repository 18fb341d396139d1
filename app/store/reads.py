"""Plain rows for read-only listings.

A ``select(SomeTable)`` run through the session's connection rather than the ORM
gives rows of the same columns, converted by the same column types (statuses as the
enum, JSON as objects), without building an ORM object per row: no identity map, no
instrumented attributes, no change tracking. For a listing of thousands of rows that
was most of its cost. Each row comes as a named tuple of the columns, read by the
same attribute names as the table's rows (a named tuple's attribute is several times
cheaper to read than a SQLAlchemy ``Row``'s, and a listing reads every one). They are
read-only: whatever changes a record reads it through the ORM."""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession


@functools.cache
def _record_type(columns: tuple[str, ...]) -> Any:
    return namedtuple("PlainRow", columns)


async def plain_rows(session: AsyncSession, statement: Any) -> Sequence[Any]:
    """The rows of ``statement`` (a ``select`` of one table's columns) as named tuples."""
    connection = await session.connection()
    result = await connection.execute(statement)
    make = _record_type(tuple(result.keys()))._make
    return [make(row) for row in result.all()]
