"""Which namespaces exist, kept in memory the way a Kubernetes controller's informer
keeps it: one LIST, then a WATCH from the list's resourceVersion, resumed where it
stopped for as long as the control plane runs, and listed again when the API server no
longer has the history to resume from (410 Expired).

What it is for: a create refuses at once a namespace that already exists. Asking the
API server on every create (a GET per create) cost about a fifth of the CPU of
accepting one; the informer answers from memory. The answer is advisory either way:
the worker looks again, authoritatively, before it touches a namespace
(``claim_namespace``). So the informer's lag of a few milliseconds changes only where
a namespace made outside the platform in that instant is refused: by the worker (the
cluster fails, saying so) instead of by the create. A refusal itself is never stale:
when the informer has a namespace, the API server is asked whether it still exists
(refusals are rare, and a namespace deleted a moment ago must not refuse a create).

While the informer is not in step (before its first list, or after its stream broke
and until it has listed again), ``exists`` asks the API server, as every create did
before.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp

from app.kube.client import KubeClient, RetryPolicy, error_of_answer
from app.kube.errors import KubeError, from_connection_error
from app.kube.namespaces import namespace_exists

log = logging.getLogger(__name__)

# How long one WATCH request lasts before the API server ends it and it is resumed
# (client-go picks 5 to 10 minutes), and how much longer than that the stream may stay
# silent before the connection counts as dead.
WATCH_SECONDS = 300
SILENCE_MARGIN_SECONDS = 60
CONNECT_SECONDS = 10.0


# What a broken stream or an unexpected answer raises: listed again after a pause.
_BROKEN = (KubeError, aiohttp.ClientError, OSError, TimeoutError, ValueError, KeyError)


class _Expired(Exception):
    """The API server no longer has the history to resume from: list again."""


class NamespaceInformer:
    def __init__(
        self,
        kube: KubeClient,
        *,
        retry: RetryPolicy | None = None,
        watch_seconds: int = WATCH_SECONDS,
    ) -> None:
        self._kube = kube
        self._retry = retry or RetryPolicy()
        self._watch_seconds = watch_seconds
        self._names: set[str] = set()
        self._resource_version = ""
        self._in_step = False
        self.lists = 0  # how many times it listed: once at the start, then once per resync

    @property
    def in_step(self) -> bool:
        """Whether the names are the API server's, give or take the stream's lag."""
        return self._in_step

    def seen(self, name: str) -> bool | None:
        """Whether the namespace ``name`` exists as far as the informer has seen; None
        while it is not in step."""
        return (name in self._names) if self._in_step else None

    async def exists(self, name: str, *, timeout: float) -> bool | None:
        """Whether the namespace exists, for a create answering its caller (see the
        module docstring): None when the API server could not say in time."""
        if self.seen(name) is False:
            return False
        return await namespace_exists(self._kube, name=name, timeout=timeout)

    async def run_forever(self) -> None:
        """List and watch until cancelled; after a failure, out of step until a new
        list succeeds, retried with backoff."""
        failures = 0
        try:
            while True:
                try:
                    await self._list()
                    failures = 0
                    while True:
                        await self._watch()  # until the API server ends the request
                except _Expired:
                    log.info("namespace watch expired at %s; listing again", self._resource_version)
                    self._in_step = False
                except _BROKEN as exc:
                    self._in_step = False
                    pause = self._retry.delay(failures)
                    failures += 1
                    log.warning("namespace watch failed (%s); listing again in %.1fs", exc, pause)
                    await asyncio.sleep(pause)
        finally:
            self._in_step = False  # stopped: nothing keeps the names up to date any more

    async def _list(self) -> None:
        # An answer without a body fails as a malformed one does (KeyError): listed again.
        listed = await self._kube.call_json(self._kube.core.list_namespace) or {}
        self._names = {item["metadata"]["name"] for item in listed.get("items") or ()}
        self._resource_version = listed["metadata"]["resourceVersion"]
        self._in_step = True
        self.lists += 1

    async def _watch(self) -> None:
        """One WATCH request from the last resourceVersion seen, applied event by event."""
        try:
            response: aiohttp.ClientResponse = await self._kube.core.list_namespace(
                watch=True,
                resource_version=self._resource_version,
                allow_watch_bookmarks=True,
                timeout_seconds=self._watch_seconds,
                _preload_content=False,
                _request_timeout=(CONNECT_SECONDS, self._watch_seconds + SILENCE_MARGIN_SECONDS),
            )  # type: ignore[assignment]  # the raw answer, not a V1NamespaceList
            try:
                if not 200 <= response.status <= 299:
                    raise error_of_answer(response, await response.read())
                while line := await response.content.readline():
                    if line.strip():
                        self._apply(json.loads(line))
            finally:
                response.release()
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise from_connection_error(exc, server=self._kube.server) from exc

    def _apply(self, event: dict[str, Any]) -> None:
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise _Expired()
            raise KubeError(f"namespace watch: {obj.get('message') or obj}", status=obj.get("code"))
        meta = obj["metadata"]
        if kind in ("ADDED", "MODIFIED"):
            self._names.add(meta["name"])
        elif kind == "DELETED":
            self._names.discard(meta["name"])
        self._resource_version = meta["resourceVersion"]  # BOOKMARK: only this
