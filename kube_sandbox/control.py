"""The test-control API under /_sandbox/ (not part of Kubernetes).

Each route is a thin JSON wrapper over a method of ``SandboxControls`` (implemented by
``SandboxCluster``), so tests can use either entrance and get the same behaviour.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from aiohttp import web


class SandboxControls(Protocol):
    def inject_fault(self, **spec: Any) -> dict[str, Any]: ...
    def clear_faults(self) -> None: ...
    def faults(self) -> list[dict[str, Any]]: ...
    def stats(self) -> dict[str, Any]: ...
    def reset_stats(self) -> None: ...
    def hold_readiness(
        self, namespace: str, hold: bool = True, ready_seconds: float | None = None
    ) -> dict[str, Any]: ...
    def readiness(self, namespace: str) -> dict[str, Any]: ...
    def compact(self) -> int: ...


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def control_routes(controls: SandboxControls) -> list[web.RouteDef]:
    async def add_fault(request: web.Request) -> web.Response:
        try:
            fault = controls.inject_fault(**await _json_body(request))
        except (ValueError, TypeError) as exc:
            return _error(str(exc))
        return web.json_response(fault, status=201)

    async def list_faults(request: web.Request) -> web.Response:
        return web.json_response({"faults": controls.faults()})

    async def clear_faults(request: web.Request) -> web.Response:
        controls.clear_faults()
        return web.json_response({"faults": []})

    async def get_stats(request: web.Request) -> web.Response:
        return web.json_response(controls.stats())

    async def reset_stats(request: web.Request) -> web.Response:
        controls.reset_stats()
        return web.json_response(controls.stats())

    async def put_readiness(request: web.Request) -> web.Response:
        try:
            body = await _json_body(request)
            unknown = set(body) - {"hold", "ready_seconds"}
            if unknown:
                raise ValueError(f"unknown fields: {sorted(unknown)}")
            hold = body.get("hold", True)
            seconds = body.get("ready_seconds")
            if not isinstance(hold, bool):
                raise ValueError("hold must be true or false")
            if seconds is not None and (
                isinstance(seconds, bool) or not isinstance(seconds, int | float)
            ):
                raise ValueError("ready_seconds must be a number")
            result = controls.hold_readiness(request.match_info["namespace"], hold, seconds)
        except ValueError as exc:
            return _error(str(exc))
        return web.json_response(result)

    async def get_readiness(request: web.Request) -> web.Response:
        return web.json_response(controls.readiness(request.match_info["namespace"]))

    async def compact(request: web.Request) -> web.Response:
        return web.json_response({"compactedRevision": controls.compact()})

    return [
        web.post("/_sandbox/faults", add_fault),
        web.get("/_sandbox/faults", list_faults),
        web.delete("/_sandbox/faults", clear_faults),
        web.get("/_sandbox/stats", get_stats),
        web.delete("/_sandbox/stats", reset_stats),
        web.put("/_sandbox/namespaces/{namespace}/readiness", put_readiness),
        web.get("/_sandbox/namespaces/{namespace}/readiness", get_readiness),
        web.post("/_sandbox/compact", compact),
    ]
