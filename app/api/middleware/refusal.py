"""Answering a request the middlewares refuse: the error shape its endpoint speaks
(GraphQL's ``errors`` at /graphql, ``{"error": ...}`` elsewhere), the status and code
from app/api/error_codes.py, and an audit line when the refused request was a write.
Also what the middlewares share of the ASGI scope: the runtime and the caller."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Scope, Send

from app.access import audit
from app.access.principals import Principal
from app.api.error_codes import RateLimited, error_code
from app.runtime import Runtime
from app.tenancy.errors import DomainError, Unauthenticated

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def runtime_in(scope: Scope) -> Runtime:
    runtime: Runtime = scope["app"].state.runtime
    return runtime


def principal_in(scope: Scope) -> Principal | None:
    """The caller authentication.Authenticate found (request.state.principal)."""
    principal: Principal | None = scope.get("state", {}).get("principal")
    return principal


async def refuse(scope: Scope, send: Send, error: DomainError) -> None:
    shown = error_code(error)
    if scope["type"] == "websocket":
        # Before the handshake: the close code carries the status (4429).
        await send({"type": "websocket.close", "code": 4000 + shown.status})
        return
    method, path = scope.get("method", "GET"), scope["path"]
    body: dict[str, Any]
    if path == "/graphql":
        body = {"errors": [{"message": error.message, "extensions": {"code": shown.code}}]}
    else:
        body = {"error": error.message}
    extra: list[tuple[bytes, bytes]] = []
    if isinstance(error, Unauthenticated):
        extra.append((b"www-authenticate", b'Bearer realm="es-serverless"'))
    if isinstance(error, RateLimited):
        extra.append((b"retry-after", str(error.retry_after).encode()))
    await send_json(send, shown.status, body, extra)
    if method in WRITE_METHODS:
        principal = principal_in(scope)
        await audit.record(
            sessions=runtime_in(scope).sessions,
            principal=principal,
            action=f"{method} {path}",
            tenant_org_id=principal.tenant_org_id if principal else None,
            target=path,
            outcome=f"refused {shown.status}",
        )


async def send_json(
    send: Send, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]]
) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
