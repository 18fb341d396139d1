"""A complexity limit for GraphQL documents: the number of fields an operation selects
once every fragment spread is expanded.

The token limit bounds the document's size, but fragments can multiply it (a fragment
spread twice in a fragment spread twice...). This rule counts with the shared,
memoised walk of selections.py, so even such a document is measured cheaply, and
refuses it before anything runs. It needs no data; the row-aware cost (cost.py) is
checked after it, just before execution.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    GraphQLError,
    NamedTypeNode,
    OperationDefinitionNode,
    ValidationContext,
)

from app.api.graphql.selections import SelectionWeight, fragments_of


class _EveryField:
    """Each field counts once: no rows, no types, hence no context."""

    def field(self, node: FieldNode, context: None) -> tuple[int, None]:
        return 1, None

    def fragment(self, type_condition: NamedTypeNode | None, context: None) -> None:
        return None


def complexity_rule(max_fields: int) -> type[ASTValidationRule]:
    class ComplexityLimit(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self._weight = SelectionWeight[None](
                fragments=fragments_of(context.document), weigher=_EveryField(), limit=max_fields
            )

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = self._weight.of(node.selection_set, None)
            if cost > max_fields:
                name = node.name.value if node.name else "anonymous"
                self.report_error(
                    GraphQLError(
                        f"'{name}' selects {cost} fields, more than the limit of {max_fields}",
                        [node],
                    )
                )

    return ComplexityLimit
