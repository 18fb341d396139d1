"""HTTP security in front of every endpoint (pure ASGI middleware): request body size
limit, bearer-token authentication, per-caller rate limit, security headers, and an
audit line for every refused write."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.access import audit
from app.access.principals import Principal
from app.access.rate_limit import caller_key
from app.runtime import Runtime

log = logging.getLogger(__name__)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
# GraphiQL is an HTML page that loads its scripts and styles from unpkg.
HTML_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline' https://unpkg.com; "
    b"style-src 'self' 'unsafe-inline' https://unpkg.com; img-src 'self' data:; "
    b"font-src 'self' data: https://unpkg.com; connect-src 'self'; frame-ancestors 'none'; "
    b"base-uri 'none'; form-action 'self'"
)


def _public(method: str, path: str, headers: Headers) -> bool:
    """Requests that need no token: the OpenAPI document, the readiness probe (probes
    carry no token) and the GraphiQL page itself (it holds no data; its queries carry
    the token the user types into it)."""
    if method != "GET":
        return False
    if path in ("/openapi.json", "/readyz"):
        return True
    return path == "/graphql" and "text/html" in headers.get("accept", "")


class BodyTooLarge(Exception):
    pass


class SecurityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        runtime: Runtime = scope["app"].state.runtime
        settings = runtime.settings
        headers = Headers(scope=scope)
        method = scope.get("method", "GET")
        path: str = scope["path"]
        refuse = _Refusal(runtime=runtime, scope=scope, send=send, method=method, path=path)

        principal = await runtime.authenticator.authenticate(headers.get("authorization"))
        scope.setdefault("state", {})["principal"] = principal
        client = scope.get("client")
        caller = caller_key(principal, client[0] if client else None)
        wait = runtime.rate_limiter.retry_after(caller)
        if wait > 0:
            await refuse(429, "rate limit exceeded; slow down", principal, retry_after=wait)
            return
        # WebSockets authenticate in graphql-transport-ws's connection_init when the
        # upgrade request carried no header (browsers cannot set one).
        if principal is None and scope["type"] == "http" and not _public(method, path, headers):
            await refuse(401, "missing or invalid bearer token", principal)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        limit = settings.max_body_bytes
        if int(headers.get("content-length") or 0) > limit:
            await refuse(413, f"request body is larger than {limit} bytes", principal)
            return
        started = _Started(_with_headers(send))
        try:
            await self.app(scope, _limited(receive, limit), started)
        except BodyTooLarge:
            await refuse(413, f"request body is larger than {limit} bytes", principal)
        except Exception:
            # Logged here with its traceback; the client learns nothing of the internals,
            # and the connection stays usable (nothing is re-raised to the server).
            log.exception("%s %s failed", method, path)
            if not started.yes:
                await _send_json(send, 500, {"error": "internal server error"}, [])


@dataclass
class _Refusal:
    runtime: Runtime
    scope: Scope
    send: Send
    method: str
    path: str

    async def __call__(
        self, status: int, message: str, principal: Principal | None, *, retry_after: float = 0
    ) -> None:
        if self.scope["type"] == "websocket":
            await self.send({"type": "websocket.close", "code": 4000 + status})
            return
        if self.path == "/graphql":
            code = {401: "UNAUTHENTICATED", 413: "PAYLOAD_TOO_LARGE", 429: "RATE_LIMITED"}[status]
            body: dict[str, Any] = {"errors": [{"message": message, "extensions": {"code": code}}]}
        else:
            body = {"error": message}
        extra: list[tuple[bytes, bytes]] = []
        if status == 401:
            extra.append((b"www-authenticate", b'Bearer realm="es-serverless"'))
        if retry_after:
            extra.append((b"retry-after", str(math.ceil(retry_after)).encode()))
        await _send_json(self.send, status, body, extra)
        if self.method in WRITE_METHODS:
            await audit.record(
                sessions=self.runtime.sessions,
                principal=principal,
                action=f"{self.method} {self.path}",
                tenant_org_id=principal.tenant_org_id if principal else None,
                target=self.path,
                outcome=f"refused {status}",
            )


async def _send_json(
    send: Send, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]]
) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *SECURITY_HEADERS,
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class _Started:
    """A ``send`` that remembers whether the response has begun."""

    def __init__(self, send: Callable[[Message], Awaitable[None]]) -> None:
        self._send = send
        self.yes = False

    async def __call__(self, message: Message) -> None:
        self.yes = self.yes or message["type"] == "http.response.start"
        await self._send(message)


def _limited(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
        return message

    return wrapped


def _with_headers(send: Send) -> Callable[[Message], Awaitable[None]]:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            headers.extend(SECURITY_HEADERS)
            content_type = dict(headers).get(b"content-type", b"")
            if content_type.startswith(b"text/html"):
                headers.append((b"content-security-policy", HTML_CSP))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped
