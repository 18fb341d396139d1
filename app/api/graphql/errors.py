"""GraphQL errors: domain errors keep their message and carry ``extensions.code``;
anything unexpected is masked so no stack trace, SQL or internal detail leaks."""

from __future__ import annotations

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from app.tenancy.errors import DomainError

INTERNAL_MESSAGE = "internal server error"


class ErrorCodes(MaskErrors):
    def __init__(self) -> None:
        super().__init__(error_message=INTERNAL_MESSAGE)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._one(error) for error in errors]

    def _one(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            error.extensions = {**(error.extensions or {}), "code": original.code}
            return error
        if original is None:
            # Parse and validation errors: the client's query is wrong; say so as it is.
            error.extensions = {
                **(error.extensions or {}),
                "code": error.extensions.get("code", "GRAPHQL_VALIDATION_FAILED")
                if error.extensions
                else "GRAPHQL_VALIDATION_FAILED",
            }
            return error
        if isinstance(original, GraphQLError):
            return error
        masked = self.anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked
