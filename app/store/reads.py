"""Plain rows for read-only listings.

A ``select(SomeTable)`` run through the session's connection rather than the ORM
gives rows of the same columns, converted by the same column types (statuses as the
enum, JSON as objects), without building an ORM object per row: no identity map, no
instrumented attributes, no change tracking. For a listing of thousands of rows that
was most of its cost. Each row comes as a named tuple read by the same attribute
names as the table's rows (where an attribute's column has another name, the
attribute's), and a named tuple's attribute is several times cheaper to read than a
SQLAlchemy ``Row``'s, which a listing reads every one of. They are read-only:
whatever changes a record reads it through the ORM. A join of two tables (an
organisation's containers with their deployments) comes as pairs of such rows.

The rows are taken from the driver as it gives them and converted here, by the very
converters SQLAlchemy would apply (each column type's ``result_processor`` for the
dialect), each raw text converted once per listing: thousands of rows repeat the same
statuses, sizing JSON and empty upgrades, and SQLAlchemy's own row processing cost
more than the query. A converted value is shared between rows only when it cannot be
changed (a string, number, moment, enum member); a JSON object of such values is
copied for each row, anything deeper converted for each row.)"""

from __future__ import annotations

import datetime
import decimal
import enum
import functools
from collections import namedtuple
from collections.abc import Callable, Sequence
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
    [rows] = await _plain(session, statement, (table,))
    return rows


async def plain_pairs(
    session: AsyncSession, statement: Any, first: type[Any], second: type[Any]
) -> list[tuple[Any, Any | None]]:
    """The rows of ``statement``, a ``select`` of ``first``'s columns then ``second``'s
    (an outer join of the two; of each all columns or some, with its primary key), as
    pairs of named tuples of the columns read; the second None where the join found
    none (its primary key is null)."""
    firsts, seconds = await _plain(session, statement, (first, second))
    key = sa.inspect(second).primary_key[0].key
    return [
        (one, other if getattr(other, key) is not None else None)
        for one, other in zip(firsts, seconds, strict=True)
    ]


async def _plain(
    session: AsyncSession, statement: Any, tables: tuple[type[Any], ...]
) -> list[Sequence[Any]]:
    """Each table's part of every row of ``statement`` (a ``select`` of the tables'
    columns, one table after the other), as named tuples."""
    columns = statement.selected_columns
    widths = _widths(columns, tables) if len(tables) > 1 else [len(columns)]
    connection = await session.connection()
    result = await connection.execute(statement)
    keys = tuple(result.keys())
    cursor = result.cursor
    description = cursor.description if cursor is not None else None
    if description is None or not len(description) == len(keys) == len(columns):
        [table] = tables  # not a plain select of columns
        return [[_record_type(table, keys)._make(row) for row in result.all()]]
    dialect = connection.dialect
    processors = [
        column.type.dialect_impl(dialect).result_processor(dialect, described[1])
        for column, described in zip(columns, description, strict=True)
    ]
    raw = cursor.fetchall()
    result.close()
    # Column by column, each converter applied through map() to a whole column:
    # a Python loop and call per value cost more than the query itself.
    values: list[Sequence[Any]] = list(zip(*raw, strict=True)) if raw else [()] * len(keys)
    for index, processor in enumerate(processors):
        if processor is not None:
            values[index] = _converted(processor, values[index])
    # By the columns' own names: a join's result may rename those two tables share.
    names = tuple(getattr(c, "name", key) for c, key in zip(columns, keys, strict=True))
    parts: list[Sequence[Any]] = []
    start = 0
    for table, width in zip(tables, widths, strict=True):
        record_type = _record_type(table, names[start : start + width])
        # A tuple of the record type straight from its values: no Python call per row.
        make = functools.partial(tuple.__new__, record_type)
        parts.append(list(map(make, zip(*values[start : start + width], strict=True))))
        start += width
    return parts


def _widths(columns: Any, tables: tuple[type[Any], ...]) -> list[int]:
    """How many of ``columns`` are each table's: some of the first table's, then some
    of the second's, and so on (each at least its primary key, which tells a missing
    row of an outer join)."""
    listed = list(columns)
    owners = [getattr(column, "table", None) for column in listed]
    widths = []
    start = 0
    for table in tables:
        width = 0
        while start + width < len(owners) and owners[start + width] is table.__table__:
            width += 1
        names = {getattr(column, "name", None) for column in listed[start : start + width]}
        if not {key.name for key in sa.inspect(table).primary_key} <= names:
            raise ValueError("not a select of each table's columns in turn")
        widths.append(width)
        start += width
    if start != len(owners):
        raise ValueError("not a select of each table's columns in turn")
    return widths


# Converted values no row can change: shared between the rows that hold them.
_UNCHANGEABLE = (str, int, float, bool, bytes, decimal.Decimal, datetime.datetime,
                 datetime.date, datetime.time, datetime.timedelta, enum.Enum)  # fmt: skip


def _converted(processor: Callable[[Any], Any], column: Sequence[Any]) -> Sequence[Any]:
    """One column's raw values converted by ``processor``, each distinct text once (a
    listing repeats the same statuses, sizing JSON and empty upgrades thousands of
    times): the result itself when it cannot be changed, a new copy of a flat dict or
    list for each row; anything deeper is converted for each row."""
    # Only text (or null) is remembered: equal strings are the same text, whereas
    # equal numbers may differ (1 and True, Decimal 1.0 and 1.00) and a driver's
    # decoded JSON is no key at all.
    if not set(map(type, column)) <= _TEXT:
        return list(map(processor, column))
    texts = dict.fromkeys(column)
    if len(texts) * 2 > len(column):  # mostly distinct (moments): each row its own
        return list(map(processor, column))
    distinct = {raw: processor(raw) for raw in texts}
    if all(value is None or isinstance(value, _UNCHANGEABLE) for value in distinct.values()):
        return list(map(distinct.__getitem__, column))
    if all(_flat(value) for value in distinct.values()):
        return [_copy(value) for value in map(distinct.__getitem__, column)]
    return list(map(processor, column))


_TEXT = frozenset({str, type(None)})


def _flat(value: Any) -> bool:
    """Unchangeable, or a dict or list of unchangeable values (copied for each row)."""
    if value is None or isinstance(value, _UNCHANGEABLE):
        return True
    return type(value) in (dict, list) and all(
        item is None or isinstance(item, _UNCHANGEABLE)
        for item in (value.values() if type(value) is dict else value)
    )


def _copy(value: Any) -> Any:
    return value.copy() if type(value) in (dict, list) else value
