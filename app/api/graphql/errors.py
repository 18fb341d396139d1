"""GraphQL errors: domain errors keep their message and carry ``extensions.code``;
anything unexpected is masked so no stack trace, SQL or internal detail leaks; and
only the unexpected ones are logged as errors."""

from __future__ import annotations

import logging

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from app.api.error_codes import error_code
from app.tenancy.errors import DomainError

INTERNAL_MESSAGE = "internal server error"
log = logging.getLogger(__name__)


def is_expected(error: GraphQLError) -> bool:
    """A refusal the client caused (bad input, not found, forbidden, an invalid
    document): part of normal operation, not a fault of the server."""
    original = error.original_error
    return original is None or isinstance(original, DomainError | GraphQLError)


def log_errors(errors: list[GraphQLError]) -> None:
    """Expected refusals at INFO in one line each, so anyone sending bad requests
    cannot flood the log with tracebacks; unexpected errors at ERROR with theirs."""
    for error in errors:
        if is_expected(error):
            log.info("GraphQL request refused: %s", error.message)
        else:
            log.error("GraphQL request failed: %s", error.message, exc_info=error.original_error)


class ErrorCodes(MaskErrors):
    def __init__(self) -> None:
        super().__init__(error_message=INTERNAL_MESSAGE)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._one(error) for error in errors]

    def _one(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            error.extensions = {**(error.extensions or {}), "code": error_code(original).code}
            return error
        if original is None:
            # Parse and validation errors: the client's query is wrong; say so as it is.
            return _with_code(error, "GRAPHQL_VALIDATION_FAILED")
        if isinstance(original, GraphQLError):
            # A value the client sent that its type refuses (variable coercion, a
            # scalar's parser): bad input.
            return _with_code(error, "BAD_USER_INPUT")
        masked = self.anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked


def _with_code(error: GraphQLError, default: str) -> GraphQLError:
    """The error with ``extensions.code``, keeping a code it already has."""
    extensions = dict(error.extensions or {})
    extensions.setdefault("code", default)
    error.extensions = extensions
    return error
