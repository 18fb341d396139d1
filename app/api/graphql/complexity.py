"""A complexity limit for GraphQL documents: the number of fields an operation selects
once every fragment spread is expanded.

The token limit bounds the document's size, but fragments can multiply it: a fragment
spread twice in a fragment spread twice... selects 2**n fields from a few lines. This
rule counts with each fragment's cost computed once, so even such a document is
measured cheaply, and refuses it before anything runs.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
)


def complexity_rule(max_fields: int) -> type[ASTValidationRule]:
    class ComplexityLimit(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self._fragments = {
                d.name.value: d
                for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            self._costs: dict[str, int] = {}

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = self._selection_cost(node.selection_set, frozenset())
            if cost > max_fields:
                name = node.name.value if node.name else "anonymous"
                self.report_error(
                    GraphQLError(
                        f"'{name}' selects {cost} fields, more than the limit of {max_fields}",
                        [node],
                    )
                )

        def _selection_cost(
            self, selection_set: SelectionSetNode | None, seen: frozenset[str]
        ) -> int:
            if selection_set is None:
                return 0
            total = 0
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    total += 1 + self._selection_cost(selection.selection_set, seen)
                elif isinstance(selection, InlineFragmentNode):
                    total += self._selection_cost(selection.selection_set, seen)
                elif isinstance(selection, FragmentSpreadNode):
                    total += self._fragment_cost(selection.name.value, seen)
                if total > max_fields:  # no need to count the rest of a bomb
                    return total
            return total

        def _fragment_cost(self, name: str, seen: frozenset[str]) -> int:
            if name in self._costs:
                return self._costs[name]
            fragment = self._fragments.get(name)
            if fragment is None or name in seen:  # unknown or cyclic: other rules report it
                return 0
            cost = self._selection_cost(fragment.selection_set, seen | {name})
            self._costs[name] = cost
            return cost

    return ComplexityLimit
