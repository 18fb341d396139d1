"""How the api shows each error (app/api/error_codes.py): the HTTP status, the GraphQL
code and the audit log's outcome text, which clients and audit readers depend on."""

from __future__ import annotations

import asyncio

import pytest

from app.api.error_codes import (
    PayloadTooLarge,
    QueryTooExpensive,
    RateLimited,
    audit_outcome,
    error_code,
)
from app.tenancy.errors import (
    ClusterChanged,
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


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (DomainError("x"), 400, "BAD_REQUEST"),
        (InvalidInput("x"), 400, "BAD_USER_INPUT"),
        (Undersized("x"), 400, "CLUSTER_UNDERSIZED"),
        (NotFound("x"), 404, "NOT_FOUND"),
        (Conflict("x"), 409, "CONFLICT"),
        (ClusterChanged("x"), 409, "CONFLICT"),
        (QuotaExceeded("x"), 403, "QUOTA_EXCEEDED"),
        (Unauthenticated("x"), 401, "UNAUTHENTICATED"),
        (Forbidden("x"), 403, "FORBIDDEN"),
        (TooManySubscriptions("x"), 429, "TOO_MANY_SUBSCRIPTIONS"),
        (SubscriberTooSlow("x"), 503, "SUBSCRIBER_TOO_SLOW"),
        (RateLimited(0.2), 429, "RATE_LIMITED"),
        (PayloadTooLarge("x"), 413, "PAYLOAD_TOO_LARGE"),
        (QueryTooExpensive("x"), 400, "QUERY_TOO_EXPENSIVE"),
    ],
)
def test_every_error_has_its_status_code_and_audit_outcome(
    error: DomainError, status: int, code: str
) -> None:
    shown = error_code(error)
    assert (shown.status, shown.code) == (status, code)
    assert audit_outcome(error) == f"error {status} {code}"


def test_a_new_error_is_shown_as_its_nearest_known_ancestor() -> None:
    class NamespaceTaken(Conflict):
        pass

    assert error_code(NamespaceTaken("x")).code == "CONFLICT"


@pytest.mark.parametrize("error", [RuntimeError("boom"), asyncio.CancelledError()])
def test_anything_else_is_audited_as_the_masked_500(error: BaseException) -> None:
    assert audit_outcome(error) == "error 500"


def test_rate_limited_says_whole_seconds_to_wait() -> None:
    assert RateLimited(0.2).retry_after == 1
    assert RateLimited(2.01).message == "rate limit exceeded; retry after 3 s"
    assert RateLimited(5, "rate limit exceeded; slow down").message == (
        "rate limit exceeded; slow down"
    )
