"""REST endpoints of vector-memory sizing (app.tenancy.sizing): a cluster's sizing,
found as its container is (same path, ``?tenant_org_id=`` and ``?include_deleted=``,
same scope), and the dry run a frontend checks a planned cluster with before creating
it. Answers are ``VectorSizing`` objects (app.models.sizing), in snake_case."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.api.rest import find_container, json_object, principal_of
from app.tenancy.sizing import parse_quantization, size_cluster, size_planned_cluster


async def get_container_sizing(request: Request) -> Response:
    quantization = parse_quantization(request.query_params.get("quantization"))
    container = await find_container(request)
    sizing = size_cluster(cluster=container, quantization=quantization)
    return JSONResponse(sizing.model_dump(mode="json"))


async def plan_sizing(request: Request) -> Response:
    principal_of(request).scope  # noqa: B018 - any caller with a scope (no report token)
    sizing = size_planned_cluster(payload=await json_object(request, empty_ok=True))
    return JSONResponse(sizing.model_dump(mode="json"))


routes = [
    Route("/tenant/containers/{user}/{service_name}/sizing", get_container_sizing, methods=["GET"]),
    Route("/sizing", plan_sizing, methods=["POST"]),
]
