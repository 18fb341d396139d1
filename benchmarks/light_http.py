"""A light HTTP/1.1 client for load generation: one keep-alive connection, a request
written as bytes and its answer read by its Content-Length, nothing else.

The load generator shares the machine with the server it measures. httpx, with its
connection pool, models and decoding, took about 4.4 ms of CPU per create at 16
clients on a 2-core machine, nearly as much as the server's own 5.5 ms: the
measurement was then of the client as much as of the server. Load generators are
usually written in C or Go (wrk, hey, k6) for that reason; this one does what they
do, in a few lines of asyncio, for the requests the benchmark sends (JSON in, a JSON
answer with a Content-Length out, as uvicorn and starlette always give it)."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit


class LightClient:
    """One connection to ``url``'s host, requests sent one after another on it."""

    def __init__(self, url: str, *, token: str) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._headers = (
            f"Host: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
        )
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> LightClient:
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        """The answer's status and body."""
        assert self._reader is not None and self._writer is not None, "not connected"
        payload = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\n{self._headers}Content-Length: {len(payload)}\r\n\r\n"
        self._writer.write(head.encode() + payload)
        status_and_headers = await self._reader.readuntil(b"\r\n\r\n")
        lines = status_and_headers.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
            elif name.strip().lower() == "transfer-encoding":
                raise ValueError(f"a {value.strip()} answer: this client reads Content-Length")
        if length is None:
            raise ValueError("an answer without Content-Length")
        return status, await self._reader.readexactly(length)
