"""The REST container listings (``GET /tenant/containers`` and
``/tenant/containers/org/{org}``): the specification's full JSON list, or, with
``limit`` or ``cursor``, a page of it with the next page's cursor in a ``Link: <...>;
rel="next"`` header (RFC 8288) and ``X-Next-Cursor``; filtered and ordered by query
parameters, with the GraphQL connections' semantics and limits."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.api import payloads
from app.api.rest import FLAG_VALUES, principal_of, runtime_of
from app.api.rest_paging import page_of, paged_response
from app.tenancy.billing import parse_instant
from app.tenancy.container_filters import ContainerFilter, container_order
from app.tenancy.container_filters import list_containers as list_filtered
from app.tenancy.errors import InvalidInput

DIRECTIONS = ("asc", "desc")


def _flag(request: Request, name: str) -> bool | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if value.lower() not in FLAG_VALUES:
        raise InvalidInput(f"{name} must be true or false")
    return FLAG_VALUES[value.lower()]


def _instant(request: Request, name: str) -> datetime | None:
    value = request.query_params.get(name)
    return None if value is None else parse_instant(name, value)


def filter_of(request: Request) -> ContainerFilter:
    params = request.query_params
    return ContainerFilter.of(
        include_deleted=bool(_flag(request, "include_deleted")),
        statuses=params.getlist("status"),
        user=params.get("user") or None,
        service_prefix=params.get("service_prefix"),
        created_after=_instant(request, "created_after"),
        created_before=_instant(request, "created_before"),
        has_gpu=_flag(request, "has_gpu"),
    )


async def _listing(request: Request, *, tenant_org_id: str | None) -> Response:
    filter = filter_of(request)
    direction = request.query_params.get("direction", "asc")
    if direction not in DIRECTIONS:
        raise InvalidInput(f"direction must be asc or desc, not {direction}")
    order = container_order(request.query_params.get("order")).reversed_if(direction == "desc")
    page = page_of(request, order)
    async with runtime_of(request).sessions() as session:
        found = await list_filtered(
            session=session,
            scope=principal_of(request).scope,
            filter=filter,
            order=order,
            tenant_org_id=tenant_org_id,
            page=page,
        )
    return paged_response(
        request,
        rows=found.rows,
        has_next=found.has_next,
        order=order,
        payload=payloads.tenant_container,
    )


async def list_containers(request: Request) -> Response:
    return await _listing(request, tenant_org_id=None)


async def list_org_containers(request: Request) -> Response:
    return await _listing(request, tenant_org_id=request.path_params["tenant_org_id"])


routes = [
    Route("/tenant/containers", list_containers, methods=["GET"]),
    Route("/tenant/containers/org/{tenant_org_id}", list_org_containers, methods=["GET"]),
]
