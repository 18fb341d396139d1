"""Weighing an operation's selections with every fragment spread expanded: the one walk
both GraphQL size limits share (the field count in complexity.py, the row-aware cost
in cost.py); and whether a field selects a given subfield (``selects``: what a list's
resolver loads ahead for its items).

Fragments can multiply a document: a fragment spread twice in a fragment spread
twice... selects 2**n fields from a few lines. Each fragment is therefore weighed once
per context it is spread in and remembered, so even such a document is measured in
time proportional to its length, and the walk stops as soon as the weight passes the
limit it is checked against.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Generic, Protocol, TypeVar

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLResolveInfo,
    InlineFragmentNode,
    NamedTypeNode,
    SelectionSetNode,
)

C = TypeVar("C", bound=Hashable)


class Weigher(Protocol[C]):
    """What a field weighs: a field costs 1 plus its selections once per row it yields."""

    def field(self, node: FieldNode, context: C) -> tuple[int, C]:
        """How many times the field's selections are resolved (its rows: 1 unless it
        is a list), and the context they are weighed in."""
        ...

    def fragment(self, type_condition: NamedTypeNode | None, context: C) -> C:
        """The context inside a fragment with this type condition."""
        ...


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


class SelectionWeight(Generic[C]):
    """Weighs selection sets of one document, each fragment once per context."""

    def __init__(
        self,
        *,
        fragments: Mapping[str, FragmentDefinitionNode],
        weigher: Weigher[C],
        limit: int | None = None,
    ) -> None:
        self._fragments = fragments
        self._weigher = weigher
        self._limit = limit
        self._memo: dict[tuple[str, C], int] = {}

    def of(self, selection_set: SelectionSetNode | None, context: C) -> int:
        return self._selections(selection_set, context, frozenset())

    def _over(self, total: int) -> bool:
        return self._limit is not None and total > self._limit

    def _selections(
        self, selection_set: SelectionSetNode | None, context: C, seen: frozenset[str]
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                rows, inner = self._weigher.field(selection, context)
                total += 1
                if rows and selection.selection_set is not None:
                    total += rows * self._selections(selection.selection_set, inner, seen)
            elif isinstance(selection, InlineFragmentNode):
                inner = self._weigher.fragment(selection.type_condition, context)
                total += self._selections(selection.selection_set, inner, seen)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value, context, seen)
            if self._over(total):  # no need to weigh the rest of a bomb
                return total
        return total

    def _fragment(self, name: str, context: C, seen: frozenset[str]) -> int:
        key = (name, context)
        if key in self._memo:
            return self._memo[key]
        fragment = self._fragments.get(name)
        if fragment is None or name in seen:  # unknown or cyclic: validation reports it
            return 0
        inner = self._weigher.fragment(fragment.type_condition, context)
        weight = self._selections(fragment.selection_set, inner, seen | {name})
        self._memo[key] = weight
        return weight


def selects(info: GraphQLResolveInfo, name: str) -> bool:
    """Whether the field being resolved selects the field ``name`` of its items directly
    (in any fragment; ``@skip``/``@include`` not evaluated, so at worst a field is
    thought selected that is not)."""
    return bool(selected(info.field_nodes, info.fragments, name))


def selected(
    field_nodes: Sequence[FieldNode], fragments: Mapping[str, FragmentDefinitionNode], name: str
) -> list[FieldNode]:
    """The fields named ``name`` that ``field_nodes`` select directly, in any fragment
    (``@skip``/``@include`` not evaluated). Each fragment is looked into once: the walk
    is never longer than the document."""
    found: list[FieldNode] = []
    seen: set[str] = set()
    pending = [node.selection_set for node in field_nodes]
    while pending:
        selection_set = pending.pop()
        for selection in selection_set.selections if selection_set is not None else ():
            if isinstance(selection, FieldNode):
                if selection.name.value == name:
                    found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                pending.append(fragment.selection_set if fragment is not None else None)
    return found
