"""What an operation will cost, estimated before it runs: every field counts once per
row of each list above it (fragments expanded with the shared walk of selections.py).

A list counts at
- the page size asked for (``first``, ``last``, ``limit``) when that is smaller (a
  connection's edges at its ``first``: 100 when unset, never more), else
- for the organisation listings (clusters, users, a user's clusters, a cluster's
  events) the rows the caller's data holds, counted before execution (listing_sizes.py),
- for introspection the schema's own sizes,
- and never more than the configured maximum of rows (also what a list counts at
  when nothing better is known: API keys).

Rows below a list are means over its parents (200 clusters with 1,000 events in all
count 5 events each, so a whole tree is estimated at what it returns); a single
object's lists count at the largest parent's rows (``tenantContainer { events }``
may name the cluster with the most events).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    NamedTypeNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    TypeMetaFieldDef,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.type.definition import GraphQLEnumType

from app.api.graphql.selections import SelectionWeight, fragments_of
from app.tenancy.paging import MAX_PAGE


@dataclass(frozen=True)
class ListSize:
    """The rows of one list, per parent object."""

    mean: int  # averaged (rounded up) over every parent: exact in total when all are listed
    most: int  # of the largest parent: what a single parent may hold

    @classmethod
    def exactly(cls, rows: int) -> ListSize:
        return cls(mean=rows, most=rows)

    @classmethod
    def spread(cls, *, rows: int, parents: int, most: int) -> ListSize:
        return cls(mean=-(-rows // parents) if parents else 0, most=most)


class Listing(enum.Enum):
    CLUSTERS = "clusters"
    USERS = "users"
    CLUSTERS_OF_A_USER = "clusters of a user"
    EVENTS_OF_A_CLUSTER = "events of a cluster"


class ListingSizes(Protocol):
    def size(self, listing: Listing, *, org: str | None, include_deleted: bool) -> ListSize | None:
        """The rows of ``listing`` in ``org`` (the caller's whole scope when None);
        None when unknown (counted at the maximum)."""
        ...


# Lists whose rows come from an organisation's data.
LISTINGS: Mapping[tuple[str, str], Listing] = {
    ("Query", "tenantContainers"): Listing.CLUSTERS,
    ("Organization", "containers"): Listing.CLUSTERS,
    ("Organization", "users"): Listing.USERS,
    ("OrganizationUser", "containers"): Listing.CLUSTERS_OF_A_USER,
    ("TenantContainer", "events"): Listing.EVENTS_OF_A_CLUSTER,
    ("Query", "tenantContainersConnection"): Listing.CLUSTERS,
    ("Organization", "containersConnection"): Listing.CLUSTERS,
    ("Organization", "usersConnection"): Listing.USERS,
    ("OrganizationUser", "containersConnection"): Listing.CLUSTERS_OF_A_USER,
    ("TenantContainer", "eventsConnection"): Listing.EVENTS_OF_A_CLUSTER,
    # A bill has at most a line per cluster the organisation ever had, deleted ones
    # included, and at most as many users and service names.
    ("Bill", "lines"): Listing.CLUSTERS,
    ("Bill", "byUser"): Listing.USERS,
    ("Bill", "byService"): Listing.CLUSTERS,
}
# Lists that hold deleted clusters' rows whatever includeDeleted says.
WITH_DELETED = frozenset({("Bill", "lines"), ("Bill", "byUser"), ("Bill", "byService")})
# Arguments naming the organisation whose rows lie below a field.
ORG_ARGUMENTS: Mapping[tuple[str, str], str] = {
    ("Query", "organization"): "id",
    ("Query", "tenantContainers"): "tenantOrgId",
    ("Query", "tenantContainersConnection"): "tenantOrgId",
    ("Query", "tenantContainer"): "tenantOrgId",
}
PAGE_ARGUMENTS = ("first", "last", "limit")
# A connection's page when no `first` is given, and its largest (app.tenancy.paging).
CONNECTION_PAGE = MAX_PAGE


@dataclass(frozen=True)
class Estimate:
    cost: int
    largest_list: str | None = None  # e.g. "Organization.containers"
    largest_rows: int = 0


def estimate(
    *,
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    sizes: ListingSizes,
    max_rows: int,
) -> Estimate:
    """The operation's cost. Weighed in full (no early stop), so that a refusal can say
    what the operation would cost and every organisation it reads is asked for; the
    field-count rule has already bounded the expanded document."""
    root = schema.get_root_type(operation.operation)
    if root is None:  # the operation type does not exist: validation refused it
        return Estimate(cost=0)
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), dict(variables or {})
    )
    weigher = _RowWeigher(
        schema=schema,
        # Variables that do not coerce fail the operation anyway; until then, a field
        # using one counts as if it had no arguments.
        variables=coerced if isinstance(coerced, VariableValues) else None,
        sizes=sizes,
        max_rows=max_rows,
    )
    weight = SelectionWeight[_Frame](fragments=fragments_of(document), weigher=weigher)
    cost = weight.of(operation.selection_set, _Frame(type_name=root.name))
    return Estimate(cost=cost, largest_list=weigher.largest_list, largest_rows=weigher.largest_rows)


@dataclass(frozen=True)
class _Frame:
    """Where a selection set is weighed: its type, the organisation its rows belong to
    (None: the caller's whole scope), whether deleted clusters are listed, and whether
    a list lies above it."""

    type_name: str
    org: str | None = None
    include_deleted: bool = False
    in_list: bool = False
    page_rows: int | None = None  # in a connection: the rows of its edges


class _RowWeigher:
    def __init__(
        self,
        *,
        schema: GraphQLSchema,
        variables: VariableValues | None,
        sizes: ListingSizes,
        max_rows: int,
    ) -> None:
        self._schema = schema
        self._variables = variables
        self._sizes = sizes
        self._max_rows = max_rows
        self._introspection = introspection_sizes(schema)
        self.largest_list: str | None = None
        self.largest_rows = 0

    def fragment(self, type_condition: NamedTypeNode | None, context: _Frame) -> _Frame:
        if type_condition is None:
            return context
        return replace(context, type_name=type_condition.name.value)

    def field(self, node: FieldNode, context: _Frame) -> tuple[int, _Frame]:
        parent = self._schema.get_type(context.type_name)
        definition = self._definition(parent, node.name.value)
        if definition is None:  # __typename, or unknown (validation refused it)
            return 1, context
        arguments = self._arguments(definition, node)
        named, is_list = _unwrap(definition.type)
        key = (context.type_name, node.name.value)
        org_argument = ORG_ARGUMENTS.get(key)
        inner = _Frame(
            type_name=named.name,
            org=arguments.get(org_argument) if org_argument else context.org,
            include_deleted=key in WITH_DELETED
            or bool(arguments.get("includeDeleted", context.include_deleted)),
            in_list=context.in_list or is_list,
        )
        if _is_connection(named):
            # The connection is one object; its edges are the list, at its page size.
            page = arguments.get("first")
            if not isinstance(page, int) or isinstance(page, bool):
                page = CONNECTION_PAGE
            arguments = {**arguments, "first": min(page, CONNECTION_PAGE)}
            rows = self._rows(key, below=inner, single=not context.in_list, arguments=arguments)
            self._note(key, rows)
            return 1, replace(inner, page_rows=rows)
        if not is_list:
            return 1, replace(inner, page_rows=None)
        if context.page_rows is not None and node.name.value == "edges":
            rows = context.page_rows
        else:
            rows = self._rows(key, below=inner, single=not context.in_list, arguments=arguments)
        inner = replace(inner, page_rows=None)
        self._note(key, rows)
        return rows, inner

    def _note(self, key: tuple[str, str], rows: int) -> None:
        if rows > self.largest_rows:
            self.largest_list, self.largest_rows = ".".join(key), rows

    def _rows(
        self, key: tuple[str, str], *, below: _Frame, single: bool, arguments: dict[str, Any]
    ) -> int:
        """The rows of the list field ``key`` whose items are weighed in ``below``; a
        ``single`` parent may be the largest one, a listed one is counted at the mean."""
        size: ListSize | None
        if (listing := LISTINGS.get(key)) is not None:
            size = self._sizes.size(listing, org=below.org, include_deleted=below.include_deleted)
        else:
            size = self._introspection.get(key)
        rows = self._max_rows
        if size is not None:
            rows = min(rows, size.most if single else size.mean)
        for name in PAGE_ARGUMENTS:
            asked = arguments.get(name)
            if isinstance(asked, int) and not isinstance(asked, bool):
                rows = min(rows, max(asked, 0))
        return rows

    def _definition(self, parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
        if parent is self._schema.query_type:
            if name == "__schema":
                return SchemaMetaFieldDef
            if name == "__type":
                return TypeMetaFieldDef
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return parent.fields.get(name)
        return None

    def _arguments(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
        if not definition.args:
            return {}
        try:
            return get_argument_values(definition, node, self._variables)
        except GraphQLError:  # e.g. a missing variable: execution will say so
            return {}


def _is_connection(named: GraphQLNamedType) -> bool:
    return isinstance(named, GraphQLObjectType) and {"edges", "pageInfo"} <= set(named.fields)


def _unwrap(type_: Any) -> tuple[GraphQLNamedType, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


_INTROSPECTION: WeakKeyDictionary[GraphQLSchema, dict[tuple[str, str], ListSize]] = (
    WeakKeyDictionary()
)


def introspection_sizes(schema: GraphQLSchema) -> dict[tuple[str, str], ListSize]:
    """The lists of introspection, sized from the schema itself (GraphiQL's
    introspection query must fit the budget, and it does: its answer is small)."""
    if schema not in _INTROSPECTION:
        _INTROSPECTION[schema] = _introspection_sizes(schema)
    return _INTROSPECTION[schema]


def _introspection_sizes(schema: GraphQLSchema) -> dict[tuple[str, str], ListSize]:
    types = list(schema.type_map.values())
    fields = [
        f
        for t in types
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType)
        for f in t.fields.values()
    ]

    def per(counts: list[int]) -> ListSize:
        return ListSize.spread(rows=sum(counts), parents=len(counts), most=max(counts, default=0))

    def fields_of(t: GraphQLNamedType) -> int:
        return len(t.fields) if isinstance(t, GraphQLObjectType | GraphQLInterfaceType) else 0

    def possible(t: GraphQLNamedType) -> int:
        if isinstance(t, GraphQLUnionType | GraphQLInterfaceType):
            return len(schema.get_possible_types(t))
        return 0

    return {
        ("__Schema", "types"): ListSize.exactly(len(types)),
        ("__Schema", "directives"): ListSize.exactly(len(schema.directives)),
        ("__Type", "fields"): per([fields_of(t) for t in types]),
        ("__Type", "inputFields"): per(
            [len(t.fields) if isinstance(t, GraphQLInputObjectType) else 0 for t in types]
        ),
        ("__Type", "enumValues"): per(
            [len(t.values) if isinstance(t, GraphQLEnumType) else 0 for t in types]
        ),
        ("__Type", "interfaces"): per(
            [
                len(t.interfaces) if isinstance(t, GraphQLObjectType | GraphQLInterfaceType) else 0
                for t in types
            ]
        ),
        ("__Type", "possibleTypes"): per([possible(t) for t in types]),
        ("__Field", "args"): per([len(f.args) for f in fields]),
        ("__Directive", "args"): per([len(d.args) for d in schema.directives]),
        ("__Directive", "locations"): per([len(d.locations) for d in schema.directives]),
    }
