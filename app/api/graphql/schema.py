"""The GraphQL schema, its protective limits, and its published SDL
(``schema/schema.graphql``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLInputObjectType
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from app.api.graphql.billing import DECIMAL_SCALAR, BillingMutation, BillingQuery
from app.api.graphql.complexity import complexity_rule
from app.api.graphql.cost_limit import CostBudget, QueryCostLimit
from app.api.graphql.documents import DocumentCache, RememberedDocuments
from app.api.graphql.errors import ErrorCodes, log_errors
from app.api.graphql.fast_execution import FastExecutor
from app.api.graphql.mutations import Mutation
from app.api.graphql.queries import Query
from app.api.graphql.subscriptions import Subscription
from app.api.graphql.types import DATETIME_SCALAR, LONG_SCALAR, Long


def _is_one_of(type_: Any, _: Any) -> bool | None:
    """``__Type.isOneOf`` as the GraphQL specification words it: whether an input object
    is a OneOf input object, null for every other kind of type. (Strawberry's own
    resolver fails on list and non-null wrappers, answering a plain introspection query
    with an internal error.)"""
    if not isinstance(type_, GraphQLInputObjectType):
        return None
    definition = type_.extensions.get("strawberry-definition")
    return bool(definition.is_one_of) if definition is not None else type_.is_one_of


class Schema(strawberry.Schema):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._schema.type_map["__Type"].fields["isOneOf"].resolve = _is_one_of  # type: ignore[attr-defined]

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        # One result for one request (HTTP): a subscription would run as a query and
        # fail on its stream (a masked internal error), so it is refused as a bad
        # request. Subscriptions run over WebSockets, through stream() or subscribe().
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed - {OperationType.SUBSCRIPTION},
            operation_extensions,
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Strawberry logs every error with its traceback at ERROR, refusals included.
        log_errors(errors)


QUERY_DESCRIPTION = (
    "Reads, through the caller's scope: an organisation's API key sees its organisation (a "
    "key bound to a user, that user's clusters), the platform admin everything. Another "
    "organisation's single object is null and its rows are left out of lists, as if they "
    "did not exist; admin-only fields answer FORBIDDEN to others."
)
MUTATION_DESCRIPTION = (
    "Writes: the REST shim's flows with the same validation and error texts, each recorded "
    "in the audit log. Errors carry extensions.code (BAD_USER_INPUT, NOT_FOUND, CONFLICT, "
    "FORBIDDEN, QUOTA_EXCEEDED, ...), as REST's statuses."
)


def _root(name: str, parts: tuple[type, ...], description: str) -> type:
    """One root type from the parts the packages declare, described (strawberry's
    merge_types gives the merged type none)."""
    merged = merge_types(name, parts)
    merged.__strawberry_definition__.description = description  # type: ignore[attr-defined]
    return merged


def make_schema(
    *,
    max_depth: int,
    max_aliases: int,
    max_tokens: int,
    max_fields: int,
    introspection: bool,
    cost: CostBudget | None = None,
    fast_execution: bool = True,
) -> strawberry.Schema:
    """Depth, alias, token and complexity (expanded field count) limits stop expensive
    documents before they run (query batching is not enabled at all), and so does,
    with a ``cost`` budget, the cost estimated from the rows the lists will return;
    unexpected errors are masked. A query text parsed and validated once is not
    parsed or validated again (app.api.graphql.documents: nothing but the text and
    these limits decides either). Queries run on the fast executor
    (app.api.graphql.fast_execution) unless ``fast_execution`` is off: the standard
    one, against which it is tested."""
    # Factories, so every request gets fresh extension instances.
    extensions: list[Any] = [
        ErrorCodes,
        # One cache per schema: its limits are part of what validation decided.
        RememberedDocuments.factory(DocumentCache()),
        lambda: QueryDepthLimiter(max_depth=max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=max_aliases),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: AddValidationRules([complexity_rule(max_fields)]),
    ]
    if cost is not None:
        extensions.append(lambda: QueryCostLimit(cost))
    if not introspection:
        extensions.append(DisableIntrospection)
    return Schema(
        query=_root("Query", (Query, BillingQuery), QUERY_DESCRIPTION),
        mutation=_root("Mutation", (Mutation, BillingMutation), MUTATION_DESCRIPTION),
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(
            scalar_map={Long: LONG_SCALAR, datetime: DATETIME_SCALAR, Decimal: DECIMAL_SCALAR}
        ),
        execution_context_class=FastExecutor if fast_execution else None,
    )


# The default document limits (the settings'), for schemas made alike in process.
DEFAULT_LIMITS: dict[str, Any] = {
    "max_depth": 10,
    "max_aliases": 30,
    "max_tokens": 5000,
    "max_fields": 1000,
    "introspection": True,
}
# The schema with default document limits: what the SDL is printed from, and what
# in-process measurements of resolution use (without the cost check's counting).
schema = make_schema(**DEFAULT_LIMITS)


def sdl() -> str:
    return schema.as_str() + "\n"


def write_sdl(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sdl(), encoding="utf-8")
