"""Which columns an organisation's container listing reads for a document.

An organisation tree of 1,000 clusters read every column of its containers and of
their deployments (49), and converted every one, though the frontend's tree shows
about 16: fetching and converting the others was a third of the request. The fields
a document selects on ``TenantContainer`` and ``DeploymentStatus`` are known once the
document is (every selection on those types, in the operation and in every fragment,
``@skip``/``@include`` not evaluated: at worst a column is read that is not shown),
and ``READS`` says what each field reads. The listing then reads those columns only.

Nothing can silently come out wrong for a column not read: a field whose reads are
not known (not declared here, not a column of the same name) makes the document read
every column of that table; an object built from a row without some columns holds
``UNREAD`` in each field that needs one of them, which no serializer accepts and which
has no attributes, so reading such a field is an error, never a value. Tests check
that every field of both types has known columns (tests/unit/test_graphql_reading.py)
and that each, alone, and generated org trees give the same answer read this way as
the standard executor reading every column (tests/e2e/test_graphql_fast_path.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLResolveInfo,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    is_abstract_type,
    visit,
)
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField
from strawberry.types.private import is_private

from app.api.graphql.derive import builder
from app.store.tables import DeploymentStatusRow, TenantContainerRow

__all__ = ["ALL_COLUMNS", "READS", "UNREAD", "Reading", "reading_of", "row_builder"]

T = TypeVar("T")


class Unread:
    """The value of a field whose columns were not read: no serializer takes it (as a
    string neither: graphql-core's serializes objects of other modules by ``str``), it
    has no attributes, and it is neither true nor false."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNREAD"

    def __str__(self) -> str:
        raise TypeError("a field whose columns were not read")

    def __bool__(self) -> bool:
        raise TypeError("a field whose columns were not read")


UNREAD = Unread()

# The table each type's objects are built from (by the GraphQL type's name).
TABLES: Mapping[str, type[Any]] = {
    "TenantContainer": TenantContainerRow,
    "DeploymentStatus": DeploymentStatusRow,
}

# What a field reads from its object's row (by its Python name), where that is not
# simply the column of its name: computed fields and fields with a resolver (which
# read their object's attributes). A field neither here nor a column's makes the
# document read every column.
READS: Mapping[str, Mapping[str, frozenset[str]]] = {
    "TenantContainer": {
        "cpu": frozenset({"cpu_request", "cpu_limit"}),
        "memory": frozenset({"mem_request", "mem_limit"}),
        "disk": frozenset({"disk_size"}),
        "cursor": frozenset({"created_at", "id"}),  # Position.of
        "deployment": frozenset({"id"}),
        "credentials": frozenset({"id", "tenant_org_id", "namespace"}),
        "connection": frozenset({"id", "tenant_org_id", "namespace"}),
        "events": frozenset({"id"}),
        "events_connection": frozenset({"id"}),
        # VectorSizing.of_cluster: what app.models.sizing.SizedCluster reads.
        "sizing": frozenset({"replicas", "mem_limit", "dimension", "vector_count"}),
    },
    "DeploymentStatus": {
        "usage_history": frozenset({"id"}),
        "usage_history_connection": frozenset({"id"}),
    },
}


@dataclass(frozen=True)
class Reading:
    """The columns (attribute names) of the containers and of the deployments a
    document's org listings read; None: every column."""

    containers: frozenset[str] | None
    deployments: frozenset[str] | None


ALL_COLUMNS = Reading(None, None)


def _attributes(table: type[Any]) -> frozenset[str]:
    return frozenset(prop.key for prop in sa.inspect(table).column_attrs)


_TABLE_ATTRIBUTES = {name: _attributes(table) for name, table in TABLES.items()}


def _definition(extensions: Mapping[str, Any] | None) -> StrawberryField | None:
    found = (extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return found if isinstance(found, StrawberryField) else None


def field_reads(type_name: str, field: StrawberryField) -> frozenset[str] | None:
    """The columns the field ``field`` of the type ``type_name`` reads; None: unknown."""
    declared = READS.get(type_name, {}).get(field.python_name)
    if declared is not None:
        return declared
    is_data = field.base_resolver is None and not is_private(field.type)
    if is_data and field.python_name in _TABLE_ATTRIBUTES[type_name]:
        return frozenset({field.python_name})
    return None


def _read_by(schema: GraphQLSchema, document: DocumentNode) -> Reading:
    wanted: dict[str, set[str] | None] = {name: set() for name in TABLES}
    type_info = TypeInfo(schema)

    class Fields(Visitor):
        def enter_field(self, node: FieldNode, *_args: Any) -> None:
            parent = type_info.get_parent_type()
            if parent is None:
                return
            if is_abstract_type(parent):
                for name in TABLES:  # an interface or union: any field, every column
                    kind = schema.get_type(name)
                    possible = schema.get_possible_types(parent)  # type: ignore[arg-type]
                    if kind in possible:
                        wanted[name] = None
                return
            name = get_named_type(parent).name
            if name not in TABLES or node.name.value == "__typename":
                return
            columns = wanted[name]
            if columns is None:
                return
            field_def = type_info.get_field_def()
            definition = _definition(field_def.extensions) if field_def is not None else None
            reads = field_reads(name, definition) if definition is not None else None
            if reads is None:
                wanted[name] = None
            else:
                columns.update(reads)

    visit(document, TypeInfoVisitor(type_info, Fields()))
    containers, deployments = (wanted[name] for name in TABLES)
    return Reading(
        frozenset(containers) if containers is not None else None,
        frozenset(deployments) if deployments is not None else None,
    )


# Per operation (kept alive beside its reading, so that its id is not reused); the
# documents are remembered per text (app.api.graphql.documents), so a frontend's few
# queries are walked once. Bounded: cleared when full.
_readings: dict[int, tuple[Any, Reading]] = {}
MAX_READINGS = 256
# Each set of columns read makes a row type and its builders (app.store.reads, derive),
# kept for good: past this many distinct readings, a new one reads every column, so
# that documents selecting ever other fields cannot grow those without bound.
_distinct: set[Reading] = {ALL_COLUMNS}
MAX_DISTINCT_READINGS = 64


def reading_of(info: GraphQLResolveInfo) -> Reading:
    """What the org listings of the document being executed read."""
    operation = info.operation
    found = _readings.get(id(operation))
    if found is not None and found[0] is operation:
        return found[1]
    document = DocumentNode(definitions=(operation, *info.fragments.values()))
    reading = _read_by(info.schema, document)
    if reading not in _distinct:
        if len(_distinct) >= MAX_DISTINCT_READINGS:
            reading = ALL_COLUMNS
        else:
            _distinct.add(reading)
    if len(_readings) >= MAX_READINGS:
        _readings.clear()
    _readings[id(operation)] = (operation, reading)
    return reading


def row_builder(cls: type[T], row_type: type[Any], given: tuple[str, ...] = ()) -> Callable[..., T]:
    """``derive.builder(cls, *given)`` for rows of ``row_type``: when those have only
    some of the table's columns (a named tuple of them, app.store.reads), each data
    field that needs another holds ``UNREAD``."""
    key = (cls, row_type, given)
    found = _row_builders.get(key)
    if found is None:
        found = _row_builders[key] = _row_builder(cls, row_type, given)
    return found


_row_builders: dict[tuple[type[Any], type[Any], tuple[str, ...]], Callable[..., Any]] = {}


def _row_builder(cls: type[T], row_type: type[Any], given: tuple[str, ...]) -> Callable[..., T]:
    type_name = cls.__strawberry_definition__.name  # type: ignore[attr-defined]
    columns = frozenset(getattr(row_type, "_fields", ()))
    if not hasattr(row_type, "_fields") or _TABLE_ATTRIBUTES[type_name] <= columns:
        return builder(cls, *given)
    unread = []
    for field in _data_fields(cls):
        reads = field_reads(type_name, field)
        if field.python_name not in given and (reads is None or not reads <= columns):
            unread.append((field.python_name, UNREAD))
    return builder(cls, *given, fixed=tuple(unread))


def _data_fields(cls: type[Any]) -> Iterable[StrawberryField]:
    for field in cls.__strawberry_definition__.fields:
        if field.base_resolver is None and not is_private(field.type):
            yield field
