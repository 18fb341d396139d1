"""Domain errors: values a user can act on, each saying what went wrong. How the api
shows them (HTTP status, GraphQL ``extensions.code``) is the api's decision, made in
app/api/error_codes.py."""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """The request itself is wrong: a field's value, type or combination."""


class Undersized(InvalidInput):
    """A cluster too small to hold its vectors off the JVM heap, refused because its
    organisation's quota policy enforces sizing; the message says the memory limit that
    would do."""


class NotFound(DomainError):
    """No such thing, or one the caller may not see (the same words either way)."""


class Conflict(DomainError):
    """The request contradicts what exists: a duplicate, a namespace in use, a status
    that does not allow the operation."""


class ClusterChanged(Conflict):
    """The cluster's record changed after it was read: a concurrent change won the
    compare-and-set. The api answers it as a conflict; the worker and the reconciler
    drop the outcome they were about to record, since the cluster has moved on."""


class QuotaExceeded(DomainError):
    """The organisation has used what it may."""


class Unauthenticated(DomainError):
    """No caller, or one whose credential is no longer valid (a revoked API key)."""


class Forbidden(DomainError):
    """A known caller asking for something its role does not allow."""


class TooManySubscriptions(DomainError):
    """One caller holds as many live subscriptions as it may."""


class SubscriberTooSlow(DomainError):
    """A subscriber that does not read its events fast enough is ended, so a stalled
    client cannot make the server buffer without limit."""
