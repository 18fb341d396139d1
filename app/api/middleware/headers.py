"""Security headers on every HTTP answer, the middlewares' refusals and masked 500s
included; a Content-Security-Policy on HTML that brings none of its own (the GraphiQL
page brings its own, app/api/graphiql/page.py), and ``no-store`` on answers that say
nothing about caching (GraphiQL's files say how long they keep)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),

]
NO_STORE = (b"cache-control", b"no-store")
HTML_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), *SECURITY_HEADERS]
                present = dict(headers)
                if b"cache-control" not in present:
                    headers.append(NO_STORE)
                html = present.get(b"content-type", b"").startswith(b"text/html")
                if html and b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", HTML_CSP))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
