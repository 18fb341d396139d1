"""The sandbox cluster's HTTP API, the one way tests read Kubernetes objects and steer
the sandbox (fault injection, readiness hold, request counters under ``/_sandbox/``):
``SandboxAPI`` blocks, for tests whose server runs in another process;
``AsyncSandboxAPI`` awaits, for tests whose sandbox runs in their own event loop."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

STATEFULSET = "elasticsearch"


def namespace_path(name: str) -> str:
    return f"/api/v1/namespaces/{name}"


def statefulset_path(namespace: str, name: str = STATEFULSET) -> str:
    return f"/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"


def secret_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/secrets/{name}"


def readiness_path(namespace: str) -> str:
    return f"/_sandbox/namespaces/{namespace}/readiness"


def decoded_secret(body: dict[str, Any]) -> dict[str, str]:
    data = {k: base64.b64decode(v).decode() for k, v in (body.get("data") or {}).items()}
    return {**data, **(body.get("stringData") or {})}


def _json(response: httpx.Response) -> Any:
    assert response.is_success, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


class SandboxAPI:
    def __init__(self, url: str) -> None:
        self.url = url

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f"{self.url}{path}", timeout=10, **kwargs)

    def status(self, path: str) -> int:
        return self.request("GET", path).status_code

    def get(self, path: str) -> Any:
        """The object (or list) at ``path``; anything but a 2xx fails the test."""
        return _json(self.request("GET", path))

    def namespace(self, name: str) -> dict[str, Any]:
        body: dict[str, Any] = self.get(namespace_path(name))
        return body

    def statefulset(self, namespace: str) -> dict[str, Any]:
        body: dict[str, Any] = self.get(statefulset_path(namespace))
        return body

    def secret(self, namespace: str, name: str) -> dict[str, str]:
        return decoded_secret(self.get(secret_path(namespace, name)))

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        return _json(self.request(method, f"/_sandbox/{path}", **kwargs))

    def inject_fault(self, **fault: Any) -> None:
        """Fail the next ``count`` matching requests (see the sandbox's ``Fault``)."""
        self.control("POST", "faults", json=fault)

    def faults(self) -> list[dict[str, Any]]:
        faults: list[dict[str, Any]] = self.control("GET", "faults")["faults"]
        return faults

    def hold_readiness(self, namespace: str, *, hold: bool = True) -> None:
        _json(self.request("PUT", readiness_path(namespace), json={"hold": hold}))

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.control("GET", "stats")
        return stats

    def reset_stats(self) -> None:
        self.control("DELETE", "stats")


class AsyncSandboxAPI:
    def __init__(self, url: str) -> None:
        self.url = url

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            return await http.request(method, path, **kwargs)

    async def status(self, path: str) -> int:
        return (await self.request("GET", path)).status_code

    async def get(self, path: str) -> Any:
        return _json(await self.request("GET", path))

    async def namespace(self, name: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.get(namespace_path(name))
        return body

    async def statefulset(self, namespace: str) -> dict[str, Any]:
        body: dict[str, Any] = await self.get(statefulset_path(namespace))
        return body

    async def merge_patch(self, path: str, patch: dict[str, Any]) -> Any:
        """Change an object behind the control plane's back, as an operator would."""
        headers = {"Content-Type": "application/merge-patch+json"}
        return _json(await self.request("PATCH", path, content=json.dumps(patch), headers=headers))

    async def delete(self, path: str) -> Any:
        return _json(await self.request("DELETE", path))

    async def secret(self, namespace: str, name: str) -> dict[str, str]:
        return decoded_secret(await self.get(secret_path(namespace, name)))

    async def control(self, method: str, path: str, **kwargs: Any) -> Any:
        return _json(await self.request(method, f"/_sandbox/{path}", **kwargs))

    async def inject_fault(self, **fault: Any) -> None:
        await self.control("POST", "faults", json=fault)

    async def faults(self) -> list[dict[str, Any]]:
        faults: list[dict[str, Any]] = (await self.control("GET", "faults"))["faults"]
        return faults

    async def hold_readiness(self, namespace: str, *, hold: bool = True) -> None:
        _json(await self.request("PUT", readiness_path(namespace), json={"hold": hold}))

    async def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = await self.control("GET", "stats")
        return stats

    async def reset_stats(self) -> None:
        await self.control("DELETE", "stats")

    async def set_readiness(self, namespace: str, *, hold: bool, ready_seconds: float) -> None:
        body = {"hold": hold, "ready_seconds": ready_seconds}
        _json(await self.request("PUT", readiness_path(namespace), json=body))

    async def watch(self, path: str) -> AsyncIterator[dict[str, Any]]:
        """The events of a Kubernetes watch on the collection at ``path``, from now on
        (the objects already there are not repeated)."""
        listed = await self.get(path)
        query = {"watch": "1", "resourceVersion": listed["metadata"]["resourceVersion"]}
        async with (
            httpx.AsyncClient(base_url=self.url, timeout=None) as http,
            http.stream("GET", path, params=query) as stream,
        ):
            async for line in stream.aiter_lines():
                if line.strip():
                    yield json.loads(line)
