"""A kubernetes-asyncio ApiClient with the control plane's calling discipline:
transient failures (5xx, 429, timeouts, refused connections) are retried with
exponential backoff and full jitter under a deadline; permanent ones (4xx) surface at
once with the API server's message; and calls in flight are bounded, so a burst of
work never floods the API server."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from kubernetes_asyncio.client import (
    ApiClient,
    AppsV1Api,
    CoreV1Api,
    CustomObjectsApi,
    NetworkingV1Api,
    PolicyV1Api,
)
from kubernetes_asyncio.client.exceptions import ApiException

from app.kube.errors import KubeError, from_api_exception, from_connection_error
from app.telemetry import KUBE_ERRORS

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    deadline: float = 60.0  # seconds one call may spend retrying
    first_delay: float = 0.1
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        # Full jitter: spreads retries of many clusters instead of synchronising them.
        return random.uniform(0, min(self.max_delay, self.first_delay * 2**attempt))


class KubeClient:
    def __init__(self, api: ApiClient, *, retry: RetryPolicy, max_in_flight: int) -> None:
        self.api = api
        self.core = CoreV1Api(api)
        self.apps = AppsV1Api(api)
        self.networking = NetworkingV1Api(api)
        self.policy = PolicyV1Api(api)
        self.custom = CustomObjectsApi(api)  # the metrics API
        self._retry = retry
        self._in_flight = asyncio.Semaphore(max_in_flight)

    @property
    def server(self) -> str:
        return str(self.api.configuration.host)

    async def call(self, method: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
        """The answer as kubernetes-asyncio's model objects."""
        return await self._retrying(self._once, method, **kwargs)

    async def call_json(
        self, method: Callable[..., Awaitable[Any]], **kwargs: Any
    ) -> dict[str, Any] | None:
        """The answer as the API server's JSON (None when it has no body), with the same
        retries and errors as ``call``. For the hot paths: building model objects from
        every answer (a date parsed per timestamp, an object per nested field) costs far
        more than the call, and most answers are only checked for success or read for a
        few fields."""
        answer: dict[str, Any] | None = await self._retrying(self._once_json, method, **kwargs)
        return answer

    async def _retrying(
        self,
        once: Callable[..., Awaitable[Any]],
        method: Callable[..., Awaitable[Any]],
        **kwargs: Any,
    ) -> Any:
        deadline = time.monotonic() + self._retry.deadline
        attempt = 0
        while True:
            try:
                return await once(method, **kwargs)
            except KubeError as exc:
                pause = self._retry.delay(attempt)
                if not exc.transient or time.monotonic() + pause > deadline:
                    raise
                log.info("transient Kubernetes error, retrying in %.2fs: %s", pause, exc)
                await asyncio.sleep(pause)
                attempt += 1

    async def call_once(
        self, method: Callable[..., Awaitable[Any]], *, timeout: float, **kwargs: Any
    ) -> Any:
        """One attempt, no retries, bounded by ``timeout`` (waiting for a slot included):
        for a caller that answers a user and must not wait out the retry deadline."""
        return await self._one_attempt(self._once, method, timeout=timeout, **kwargs)

    async def call_once_json(
        self, method: Callable[..., Awaitable[Any]], *, timeout: float, **kwargs: Any
    ) -> dict[str, Any] | None:
        """``call_once`` with the answer as the API server's JSON (see ``call_json``)."""
        answer: dict[str, Any] | None = await self._one_attempt(
            self._once_json, method, timeout=timeout, **kwargs
        )
        return answer

    async def _one_attempt(
        self,
        once: Callable[..., Awaitable[Any]],
        method: Callable[..., Awaitable[Any]],
        *,
        timeout: float,
        **kwargs: Any,
    ) -> Any:
        try:
            async with asyncio.timeout(timeout):
                return await once(method, **kwargs)
        except TimeoutError as exc:
            raise from_connection_error(exc, server=self.server) from exc

    async def _once(self, method: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
        async with self._in_flight:
            try:
                return await method(**kwargs)
            except ApiException as exc:
                KUBE_ERRORS.labels(str(exc.status or 0)).inc()
                raise from_api_exception(exc) from exc
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                KUBE_ERRORS.labels("0").inc()
                raise from_connection_error(exc, server=self.server) from exc

    async def _once_json(
        self, method: Callable[..., Awaitable[Any]], **kwargs: Any
    ) -> dict[str, Any] | None:
        async with self._in_flight:
            try:
                response = await method(**kwargs, _preload_content=False)
                try:
                    data = await response.read()
                finally:
                    response.release()
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                KUBE_ERRORS.labels("0").inc()
                raise from_connection_error(exc, server=self.server) from exc
        if not 200 <= response.status <= 299:
            KUBE_ERRORS.labels(str(response.status)).inc()
            raise error_of_answer(response, data)
        if not data:
            return None
        parsed: dict[str, Any] = json.loads(data)
        return parsed

    async def close(self) -> None:
        await self.api.close()


def error_of_answer(response: aiohttp.ClientResponse, body: bytes) -> KubeError:
    """The error of an answer read without kubernetes-asyncio's preloading: what it
    raises with its content preloaded, mapped alike."""
    error = ApiException(status=response.status, reason=response.reason)
    error.body = body  # from_api_exception reads the Status in it
    return from_api_exception(error)
