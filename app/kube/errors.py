"""Kubernetes API failures as one error type carrying the API server's own message."""

from __future__ import annotations

import json

import aiohttp
from kubernetes_asyncio.client.exceptions import ApiException

# Statuses worth retrying: the server was busy or briefly broken, not the request wrong.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


class KubeError(Exception):
    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason

    @property
    def transient(self) -> bool:
        return self.status is None or self.status in TRANSIENT_STATUSES


def from_api_exception(exc: ApiException) -> KubeError:
    """Take the message from the Kubernetes ``Status`` body when there is one."""
    status = int(exc.status) if exc.status else None
    message, reason = str(exc.reason or "").strip(), ""
    try:
        body = json.loads(exc.body) if exc.body else {}
    except (TypeError, ValueError):
        body = {}
    if isinstance(body, dict):
        message = str(body.get("message") or message)
        reason = str(body.get("reason") or "")
    return KubeError(
        f"Kubernetes API error {status}: {message}" if status else message,
        status=status,
        reason=reason,
    )


def from_connection_error(
    exc: aiohttp.ClientError | OSError | TimeoutError, *, server: str
) -> KubeError:
    detail = str(exc) or type(exc).__name__
    return KubeError(f"cannot reach the Kubernetes API server at {server}: {detail}")
