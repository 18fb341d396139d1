"""The REST-compatible shim: the specification's endpoints with its exact JSON shapes,
plus the lifecycle endpoints. Every error body is ``{"error": "..."}``."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.api import payloads
from app.runtime import Runtime
from app.tenancy import flows, queries
from app.tenancy.errors import DomainError, InvalidInput

MAX_BODY_BYTES = 1 << 20


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise InvalidInput(f"{name} must be true or false")
    return value in ("true", "1")


async def _json_object(request: Request, *, empty_ok: bool = False) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise InvalidInput(f"request body is larger than {MAX_BODY_BYTES} bytes")
    if empty_ok and not body.strip():
        return {}
    try:
        parsed = json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise InvalidInput("request body must be a JSON object")
    return parsed


async def create_cluster(request: Request) -> Response:
    runtime = runtime_of(request)
    container = await flows.create_cluster(
        sessions=runtime.sessions,
        ids=runtime.ids,
        worker=runtime.worker,
        payload=await _json_object(request),
    )
    return JSONResponse(payloads.tenant_container(container), status_code=202)


async def update_cluster(request: Request) -> Response:
    runtime = runtime_of(request)
    container = await flows.update_cluster(
        sessions=runtime.sessions,
        worker=runtime.worker,
        namespace=request.path_params["namespace"],
        payload=await _json_object(request, empty_ok=True),
    )
    return JSONResponse(payloads.tenant_container(container), status_code=202)


async def delete_cluster(request: Request) -> Response:
    """DELETE /clusters/{namespace}, or DELETE /clusters with tenant_org_id, user and
    service_name in the query string or a JSON body."""
    runtime = runtime_of(request)
    key: dict[str, Any] = dict(request.query_params)
    if "namespace" not in request.path_params and not key:
        key = await _json_object(request, empty_ok=True)
    container = await flows.delete_cluster(
        sessions=runtime.sessions,
        worker=runtime.worker,
        namespace=request.path_params.get("namespace"),
        tenant_org_id=key.get("tenant_org_id"),
        user=key.get("user"),
        service_name=key.get("service_name"),
    )
    return JSONResponse(payloads.tenant_container(container), status_code=202)


async def list_containers(request: Request) -> Response:
    async with runtime_of(request).sessions() as session:
        rows = await queries.list_containers(
            session=session, include_deleted=_flag(request, "include_deleted")
        )
    return JSONResponse([payloads.tenant_container(row) for row in rows])


async def list_org_containers(request: Request) -> Response:
    async with runtime_of(request).sessions() as session:
        rows = await queries.list_org_containers(
            session=session,
            tenant_org_id=request.path_params["tenant_org_id"],
            include_deleted=_flag(request, "include_deleted"),
        )
    return JSONResponse([payloads.tenant_container(row) for row in rows])


async def _find_container(request: Request) -> Any:
    async with runtime_of(request).sessions() as session:
        return await queries.find_container(
            session=session,
            user=request.path_params["user"],
            service_name=request.path_params["service_name"],
            tenant_org_id=request.query_params.get("tenant_org_id") or None,
            include_deleted=_flag(request, "include_deleted"),
        )


async def get_container(request: Request) -> Response:
    return JSONResponse(payloads.tenant_container(await _find_container(request)))


async def get_container_events(request: Request) -> Response:
    container = await _find_container(request)
    async with runtime_of(request).sessions() as session:
        events = await queries.events_of_containers(session=session, container_ids=[container.id])
    return JSONResponse([payloads.cluster_event(row) for row in events[container.id]])


async def get_deployment(request: Request) -> Response:
    async with runtime_of(request).sessions() as session:
        row = await queries.get_deployment(
            session=session, namespace=request.path_params["namespace"]
        )
    return JSONResponse(payloads.deployment_status(row))


async def report_deployment(request: Request) -> Response:
    runtime = runtime_of(request)
    row = await flows.report_usage(
        sessions=runtime.sessions,
        namespace=request.path_params["namespace"],
        payload=await _json_object(request),
        retention=runtime.usage_retention,
    )
    return JSONResponse(payloads.deployment_status(row))


async def domain_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(exc.http_status, exc.message)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {
        404: f"no such endpoint: {request.method} {request.url.path}",
        405: f"method {request.method} is not allowed on {request.url.path}",
    }
    return error_response(exc.status_code, messages.get(exc.status_code, str(exc.detail)))


async def internal_error(_: Request, exc: Exception) -> Response:
    # Logged by the server; the client gets no stack trace, SQL or internals.
    return error_response(500, "internal server error")


# The org route comes before the {user}/{service_name} route it would otherwise match.
routes = [
    Route("/clusters", create_cluster, methods=["POST"]),
    Route("/clusters", delete_cluster, methods=["DELETE"]),
    Route("/clusters/{namespace}", update_cluster, methods=["PATCH"]),
    Route("/clusters/{namespace}", delete_cluster, methods=["DELETE"]),
    Route("/tenant/containers", list_containers, methods=["GET"]),
    Route("/tenant/containers/org/{tenant_org_id}", list_org_containers, methods=["GET"]),
    Route("/tenant/containers/{user}/{service_name}", get_container, methods=["GET"]),
    Route("/tenant/containers/{user}/{service_name}/events", get_container_events, methods=["GET"]),
    Route("/deployments/{namespace}", get_deployment, methods=["GET"]),
    Route("/deployments/{namespace}/report", report_deployment, methods=["POST"]),
]

exception_handlers = {
    DomainError: domain_error,
    HTTPException: http_error,
    Exception: internal_error,
}
