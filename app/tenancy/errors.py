"""Domain errors: values a user can act on, each with the HTTP status and GraphQL code
the api layer shows them with."""

from __future__ import annotations

import math


class DomainError(Exception):
    http_status = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    http_status = 400
    code = "BAD_USER_INPUT"


class NotFound(DomainError):
    http_status = 404
    code = "NOT_FOUND"


class Conflict(DomainError):
    http_status = 409
    code = "CONFLICT"


class ClusterChanged(Conflict):
    """The cluster's record changed after it was read: a concurrent change won the
    compare-and-set. The api answers 409; the worker and the reconciler drop the
    outcome they were about to record, since the cluster has moved on."""


class QuotaExceeded(DomainError):
    http_status = 403
    code = "QUOTA_EXCEEDED"


class Unauthenticated(DomainError):
    http_status = 401
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    http_status = 403
    code = "FORBIDDEN"


class RateLimited(DomainError):
    http_status = 429
    code = "RATE_LIMITED"

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"rate limit exceeded; retry after {self.retry_after} s")


class TooManySubscriptions(DomainError):
    http_status = 429
    code = "TOO_MANY_SUBSCRIPTIONS"


class SubscriberTooSlow(DomainError):
    """A subscriber that does not read its events fast enough is ended, so a stalled
    client cannot make the server buffer without limit."""

    http_status = 503
    code = "SUBSCRIBER_TOO_SLOW"
