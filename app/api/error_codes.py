"""How the api shows an error: the HTTP status and GraphQL ``extensions.code`` of every
domain error, decided here and nowhere else, and the refusals only the api makes.

REST answers with the status, GraphQL with the code, and the audit log names a failed
write by both (``error 404 NOT_FOUND``). A class without a row of its own is shown
as its nearest ancestor with one (``ClusterChanged`` as a ``Conflict``).

Both app/api/rest.py and app/api/graphql import this module, and it imports neither,
so the two front ends stay independent of each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.tenancy.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    QuotaExceeded,
    SubscriberTooSlow,
    TooManySubscriptions,
    Unauthenticated,
    Undersized,
)

# -- refusals only the api makes -------------------------------------------------------


class RateLimited(DomainError):
    """The caller has used its rate-limit budget (app/access/rate_limit.py)."""

    def __init__(self, retry_after: float, message: str | None = None) -> None:
        # Whole seconds, at least one: what Retry-After and extensions.retryAfter carry.
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(message or f"rate limit exceeded; retry after {self.retry_after} s")


class PayloadTooLarge(DomainError):
    """A request body over ESS_MAX_BODY_BYTES."""


class UnsupportedMediaType(DomainError):
    """A request body that is not JSON by its Content-Type. Refused before it is read:
    a browser sends text/plain across sites without asking first, so taking it would
    open a cross-site write path."""


class QueryTooExpensive(DomainError):
    """A GraphQL operation estimated over its budget (app/api/graphql/cost_limit.py).
    Defined here rather than beside the estimate so this table needs no import of the
    GraphQL package."""


# -- the table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorCode:
    status: int  # the REST answer's HTTP status
    code: str  # GraphQL's extensions.code


_SHOWN_AS: dict[type[DomainError], ErrorCode] = {
    DomainError: ErrorCode(400, "BAD_REQUEST"),
    InvalidInput: ErrorCode(400, "BAD_USER_INPUT"),
    Undersized: ErrorCode(400, "CLUSTER_UNDERSIZED"),
    NotFound: ErrorCode(404, "NOT_FOUND"),
    Conflict: ErrorCode(409, "CONFLICT"),
    QuotaExceeded: ErrorCode(403, "QUOTA_EXCEEDED"),
    Unauthenticated: ErrorCode(401, "UNAUTHENTICATED"),
    Forbidden: ErrorCode(403, "FORBIDDEN"),
    TooManySubscriptions: ErrorCode(429, "TOO_MANY_SUBSCRIPTIONS"),
    SubscriberTooSlow: ErrorCode(503, "SUBSCRIBER_TOO_SLOW"),
    RateLimited: ErrorCode(429, "RATE_LIMITED"),
    PayloadTooLarge: ErrorCode(413, "PAYLOAD_TOO_LARGE"),
    UnsupportedMediaType: ErrorCode(415, "UNSUPPORTED_MEDIA_TYPE"),
    QueryTooExpensive: ErrorCode(400, "QUERY_TOO_EXPENSIVE"),
}


def error_code(error: DomainError) -> ErrorCode:
    for cls in type(error).__mro__:
        if cls in _SHOWN_AS:
            return _SHOWN_AS[cls]
    raise AssertionError("DomainError itself has a row")  # pragma: no cover


def audit_outcome(error: BaseException) -> str:
    """How the audit log records a write that ended in ``error``: a domain error with
    its status and code, anything else as the masked 500 the client got."""
    if isinstance(error, DomainError):
        shown = error_code(error)
        return f"error {shown.status} {shown.code}"
    return "error 500"
