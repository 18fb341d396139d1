"""Parsed and validated documents, remembered per query text.

A frontend sends the same few query texts again and again; parsing and validating
one (every validation rule walking the whole document) cost about 2 ms per request
for the org tree. Both depend on nothing but the text and the schema with its limits
(the token limit is a parse option, the depth, alias, field-count and introspection
limits are validation rules, all fixed when the schema is made), never on the
variables, the caller or the data. So a document parsed from a text is kept, and
marked valid once it passed the same rules; the next request with the same text
reuses it. The row-aware cost estimate (cost_limit.py) depends on the variables and
the data and runs for every request, as before.

Only valid documents are ever reused without validation: a refused document is
validated again each time (its errors, which error handling may change, are never
shared between requests). The memory is bounded: at most ``MAX_DOCUMENTS`` texts, the
least recently used dropped first, and only texts of up to ``MAX_TEXT`` characters
(a larger one is parsed and validated every time, as before).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

__all__ = ["MAX_DOCUMENTS", "MAX_TEXT", "DocumentCache", "RememberedDocuments"]

MAX_DOCUMENTS = 128
MAX_TEXT = 10_000


@dataclass
class _Remembered:
    document: DocumentNode
    valid: bool = False


class DocumentCache:
    """The documents of one schema (its limits fixed), by text and parse options."""

    def __init__(self, max_documents: int = MAX_DOCUMENTS, max_text: int = MAX_TEXT) -> None:
        self._max_documents = max_documents
        self._max_text = max_text
        self._documents: OrderedDict[tuple[Any, ...], _Remembered] = OrderedDict()

    def __len__(self) -> int:
        return len(self._documents)

    def key(self, query: str | None, parse_options: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The key of ``query`` parsed with ``parse_options``; None: not remembered."""
        if not isinstance(query, str) or len(query) > self._max_text:
            return None
        return (query, *sorted(parse_options.items()))

    def get(self, key: tuple[Any, ...]) -> _Remembered | None:
        found = self._documents.get(key)
        if found is not None:
            self._documents.move_to_end(key)
        return found

    def put(self, key: tuple[Any, ...], document: DocumentNode) -> None:
        self._documents[key] = _Remembered(document)
        self._documents.move_to_end(key)
        while len(self._documents) > self._max_documents:
            self._documents.popitem(last=False)

    def is_valid(self, key: tuple[Any, ...], document: DocumentNode) -> bool:
        found = self._documents.get(key)
        return found is not None and found.document is document and found.valid

    def mark_valid(self, key: tuple[Any, ...], document: DocumentNode) -> None:
        found = self._documents.get(key)
        if found is not None and found.document is document:
            found.valid = True


class RememberedDocuments(SchemaExtension):
    """Reuses a remembered document in place of parsing, and skips validating one that
    passed validation before. Parsing and validation themselves stay strawberry's:
    only their successful results are remembered."""

    def __init__(self, cache: DocumentCache) -> None:
        self._cache = cache
        self._key: tuple[Any, ...] | None = None

    @classmethod
    def factory(cls, cache: DocumentCache) -> Callable[[], RememberedDocuments]:
        return lambda: cls(cache)

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        self._key = self._cache.key(execution.query, execution.parse_options)
        if self._key is not None and execution.graphql_document is None:
            found = self._cache.get(self._key)
            if found is not None:
                execution.graphql_document = found.document  # strawberry then parses not
        yield
        document = execution.graphql_document
        if self._key is not None and document is not None and self._cache.get(self._key) is None:
            self._cache.put(self._key, document)

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        key = self._key
        if key is not None and document is not None and self._cache.is_valid(key, document):
            execution.pre_execution_errors = []  # strawberry then validates not
            yield
            return
        yield
        # Validated now (strawberry runs the rules when no errors are set yet).
        if key is not None and document is not None and execution.pre_execution_errors == []:
            self._cache.mark_valid(key, document)
