"""The REST-compatible shim: the specification's endpoints with its exact JSON shapes.
Every error body is ``{"error": "..."}``."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.api import payloads
from app.runtime import Runtime
from app.tenancy import create_flow, service
from app.tenancy.errors import DomainError, InvalidInput

MAX_BODY_BYTES = 1 << 20


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_object(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise InvalidInput(f"request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        parsed = json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise InvalidInput("request body must be a JSON object")
    return parsed


async def create_cluster(request: Request) -> Response:
    runtime = runtime_of(request)
    container = await create_flow.create_cluster(
        sessions=runtime.sessions,
        ids=runtime.ids,
        provisioner=runtime.provisioner,
        payload=await _json_object(request),
    )
    return JSONResponse(payloads.tenant_container(container), status_code=202)


async def list_containers(request: Request) -> Response:
    async with runtime_of(request).sessions() as session:
        rows = await service.list_containers(session=session)
    return JSONResponse([payloads.tenant_container(row) for row in rows])


async def list_org_containers(request: Request) -> Response:
    async with runtime_of(request).sessions() as session:
        rows = await service.list_org_containers(
            session=session, tenant_org_id=request.path_params["tenant_org_id"]
        )
    return JSONResponse([payloads.tenant_container(row) for row in rows])


async def get_container(request: Request) -> Response:
    async with runtime_of(request).sessions() as session:
        row = await service.find_container(
            session=session,
            user=request.path_params["user"],
            service_name=request.path_params["service_name"],
            tenant_org_id=request.query_params.get("tenant_org_id") or None,
        )
    return JSONResponse(payloads.tenant_container(row))


async def get_deployment(request: Request) -> Response:
    async with runtime_of(request).sessions() as session:
        row = await service.get_deployment(
            session=session, namespace=request.path_params["namespace"]
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
    Route("/tenant/containers", list_containers, methods=["GET"]),
    Route("/tenant/containers/org/{tenant_org_id}", list_org_containers, methods=["GET"]),
    Route("/tenant/containers/{user}/{service_name}", get_container, methods=["GET"]),
    Route("/deployments/{namespace}", get_deployment, methods=["GET"]),
]

exception_handlers = {
    DomainError: domain_error,
    HTTPException: http_error,
    Exception: internal_error,
}
