"""Refusing an operation whose estimated cost (cost.py) is over the budget, before it
runs, with a message that says the estimate, the budget and how to ask for less.

A schema extension's ``on_execute`` runs after parsing and validation (so the field
count has already stopped fragment bombs) and before execution, with the document,
the variables and the request's context at hand. Strawberry skips execution when it
finds ``execution_context.result`` already set; a subscription is refused by raising,
which strawberry answers with an error instead of subscribing.

The estimate is made first with every organisation listing as large as the maximum:
most operations fit even so and cost no database work. Only those that do not are
estimated again with the caller's counted rows (one statement).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from graphql import (
    ExecutionResult,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from app.api.error_codes import QueryTooExpensive
from app.api.graphql.context import Context
from app.api.graphql.cost import Estimate, estimate
from app.api.graphql.listing_sizes import CountedSizes, UpperBounds

HOW_TO_ASK_FOR_LESS = (
    "Ask for less: page the lists (containers(first: N), then after: the last "
    "container's cursor; usageHistory(last: N); auditLog(limit: N)), or select fewer "
    "fields and aliases."
)


@dataclass(frozen=True)
class CostBudget:
    max_cost: int  # what an operation may cost
    max_rows: int  # the most rows a list counts at


class QueryCostLimit(SchemaExtension):
    def __init__(self, budget: CostBudget) -> None:
        self._max_cost = budget.max_cost
        self._max_rows = budget.max_rows

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        operation = (
            get_operation_ast(execution.graphql_document, execution.operation_name)
            if execution.graphql_document is not None
            else None
        )
        if operation is not None:
            found = await self._estimate(operation)
            if found.cost > self._max_cost:
                refusal = QueryTooExpensive(self._message(operation, found))
                error = GraphQLError(
                    refusal.message,
                    [operation],
                    original_error=refusal,
                    extensions={"cost": found.cost, "budget": self._max_cost},
                )
                if operation.operation is OperationType.SUBSCRIPTION:
                    raise error
                execution.result = ExecutionResult(data=None, errors=[error])
        yield

    async def _estimate(self, operation: OperationDefinitionNode) -> Estimate:
        execution = self.execution_context
        assert execution.graphql_document is not None
        bounds = UpperBounds()

        def with_sizes(sizes: UpperBounds | CountedSizes) -> Estimate:
            return estimate(
                schema=execution.schema._schema,
                document=execution.graphql_document,  # type: ignore[arg-type]
                operation=operation,
                variables=execution.variables,
                sizes=sizes,
                max_rows=self._max_rows,
            )

        bound = with_sizes(bounds)
        if bound.cost <= self._max_cost or not bounds.orgs:
            return bound
        context: Context = execution.context
        if context.principal is None:  # sees nothing (and execution will refuse it)
            counted = CountedSizes({})
        else:
            counted = await CountedSizes.of(
                sessions=context.runtime.sessions, scope=context.principal.scope, bounds=bounds
            )
        return with_sizes(counted)

    def _message(self, operation: OperationDefinitionNode, found: Estimate) -> str:
        largest = (
            f"; the largest list is {found.largest_list} at {found.largest_rows} rows"
            if found.largest_list
            else ""
        )
        return (
            f"this {operation.operation.value} would cost about {found.cost}, more than the "
            f"budget of {self._max_cost} (every field counts once per row of each list "
            f"above it{largest}). {HOW_TO_ASK_FOR_LESS}"
        )
