"""The REST-compatible shim: the specification's endpoints with its exact JSON shapes,
plus the lifecycle, API-key and audit endpoints. Every error body is
``{"error": "..."}``; every write is audited."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from app.access import audit, keys
from app.access.audit import audited
from app.access.principals import Principal
from app.access.reports import report_scope
from app.api import payloads
from app.api.error_codes import audit_outcome, error_code
from app.api.media_types import require_json
from app.api.rest_paging import page_of, paged_response
from app.runtime import Runtime
from app.tenancy import flows, listings, queries
from app.tenancy.connection import connection_details
from app.tenancy.errors import DomainError, InvalidInput, Unauthenticated
from app.tenancy.paging import PageRequest


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def principal_of(request: Request) -> Principal:
    principal: Principal | None = request.state.principal
    if principal is None:  # the middleware lets no anonymous request this far
        raise Unauthenticated("missing or invalid bearer token")
    return principal


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


# What a true/false query parameter may say, in any letter case.
FLAG_VALUES = {"true": True, "1": True, "false": False, "0": False}


def _flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name, "false").lower()
    if value not in FLAG_VALUES:
        raise InvalidInput(f"{name} must be true or false")
    return FLAG_VALUES[value]


async def json_object(request: Request, *, empty_ok: bool = False) -> dict[str, Any]:
    """The request's body, a JSON object; 415 when its Content-Type names another type
    (a request without one is read as JSON)."""
    _require_json(request)
    body = await request.body()
    if empty_ok and not body.strip():
        return {}
    try:
        parsed = json.loads(body) if body.strip() else None
        # A lone surrogate (JSON "\ud800") decodes but is no text: it cannot be stored
        # or echoed back in UTF-8.
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError) as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidInput("request body is nested too deeply") from None
    if not isinstance(parsed, dict):
        raise InvalidInput("request body must be a JSON object")
    return parsed


def _require_json(request: Request) -> None:
    given = request.headers.get("content-type")
    if given is not None:
        require_json(given)


def audited_request(request: Request, action: str, **context: Any) -> Any:
    return audited(
        sessions=runtime_of(request).sessions,
        principal=request.state.principal,
        action=action,
        outcome_of=audit_outcome,
        target=request.url.path,
        **context,
    )


# -- clusters --------------------------------------------------------------------------


async def create_cluster(request: Request) -> Response:
    runtime, principal = runtime_of(request), principal_of(request)
    async with audited_request(request, "createCluster") as note:
        body = await json_object(request)
        if isinstance(body.get("tenant_org_id"), str):  # a refusal is logged under it too
            note.tenant_org_id = body["tenant_org_id"]
        container = await flows.create_cluster(
            sessions=runtime.sessions,
            ids=runtime.ids,
            worker=runtime.worker,
            clock=runtime.clock,
            namespaces=runtime.namespaces,
            reserved=runtime.reserved_namespaces,
            scope=principal.scope,
            payload=body,
            quotas=runtime.quota_defaults,
            versions=runtime.settings.es_catalog,
            audit_row=note.success_row,
        )
        note.target = container.namespace
    return JSONResponse(payloads.tenant_container(container), status_code=202)


async def update_cluster(request: Request) -> Response:
    runtime, principal = runtime_of(request), principal_of(request)
    async with audited_request(request, "updateCluster") as note:
        container = await flows.update_cluster(
            sessions=runtime.sessions,
            worker=runtime.worker,
            clock=runtime.clock,
            scope=principal.scope,
            namespace=request.path_params["namespace"],
            payload=await json_object(request, empty_ok=True),
            quotas=runtime.quota_defaults,
            versions=runtime.settings.es_catalog,
        )
        note.tenant_org_id, note.target = container.tenant_org_id, container.namespace
    return JSONResponse(payloads.tenant_container(container), status_code=202)


async def reset_credentials(request: Request) -> Response:
    runtime, principal = runtime_of(request), principal_of(request)
    async with audited_request(request, "resetClusterCredentials") as note:
        container = await flows.reset_credentials(
            sessions=runtime.sessions,
            worker=runtime.worker,
            clock=runtime.clock,
            scope=principal.scope,
            namespace=request.path_params["namespace"],
        )
        note.tenant_org_id, note.target = container.tenant_org_id, container.namespace
    return JSONResponse(payloads.tenant_container(container), status_code=202)


async def get_connection(request: Request) -> Response:
    """The cluster's connection details, with the CA certificate that verifies it."""
    runtime, principal = runtime_of(request), principal_of(request)
    async with runtime.sessions() as session:
        container = await queries.find_by_namespace(
            session=session, scope=principal.scope, namespace=request.path_params["namespace"]
        )
    principal.require_connection_reader(container.tenant_org_id)
    details = await connection_details(
        kube=runtime.kube, secrets=runtime.secrets, container=container
    )
    return JSONResponse(payloads.cluster_connection(details))


async def delete_cluster(request: Request) -> Response:
    """DELETE /clusters/{namespace}, or DELETE /clusters with tenant_org_id, user and
    service_name in the query string or a JSON body."""
    runtime, principal = runtime_of(request), principal_of(request)
    async with audited_request(request, "deleteCluster") as note:
        key: dict[str, Any] = dict(request.query_params)
        if "namespace" not in request.path_params and not key:
            key = await json_object(request, empty_ok=True)
        for field in ("tenant_org_id", "user", "service_name"):
            if key.get(field) is not None and not isinstance(key[field], str):
                raise InvalidInput(f"{field} must be a string")
        container = await flows.delete_cluster(
            sessions=runtime.sessions,
            worker=runtime.worker,
            clock=runtime.clock,
            scope=principal.scope,
            namespace=request.path_params.get("namespace"),
            tenant_org_id=key.get("tenant_org_id"),
            user=key.get("user"),
            service_name=key.get("service_name"),
        )
        note.tenant_org_id, note.target = container.tenant_org_id, container.namespace
    return JSONResponse(payloads.tenant_container(container), status_code=202)


async def find_container(request: Request) -> Any:
    scope = principal_of(request).scope
    async with runtime_of(request).sessions() as session:
        return await queries.find_container(
            session=session,
            scope=scope,
            user=request.path_params["user"],
            service_name=request.path_params["service_name"],
            tenant_org_id=request.query_params.get("tenant_org_id") or None,
            include_deleted=_flag(request, "include_deleted"),
        )


async def get_container(request: Request) -> Response:
    return JSONResponse(payloads.tenant_container(await find_container(request)))


async def get_container_events(request: Request) -> Response:
    container = await find_container(request)
    page = page_of(request, listings.EVENT_ORDER)
    if page is not None:
        return await _page_of_listing(
            request,
            listing=listings.EVENTS_OF_CONTAINERS,
            page=page,
            parent=(container.id,),
            payload=payloads.cluster_event,
        )
    async with runtime_of(request).sessions() as session:  # the specification's whole list
        events = await queries.events_of_containers(session=session, container_ids=[container.id])
    return JSONResponse([payloads.cluster_event(row) for row in events[container.id]])


async def _page_of_listing(
    request: Request,
    *,
    listing: listings.Listing,
    page: PageRequest,
    payload: Callable[[Any], Any],
    parent: tuple[Any, ...] = (),
) -> Response:
    """A page of ``listing`` below ``parent``, with the next page named in the headers."""
    async with runtime_of(request).sessions() as session:
        found = await listings.read_page(
            session=session,
            listing=listing,
            scope=principal_of(request).scope,
            page=page,
            parent=parent,
        )
    return paged_response(
        request, rows=found.rows, has_next=found.has_next, order=page.order, payload=payload
    )


async def get_deployment(request: Request) -> Response:
    scope = principal_of(request).scope
    async with runtime_of(request).sessions() as session:
        row = await queries.get_deployment(
            session=session, scope=scope, namespace=request.path_params["namespace"]
        )
    return JSONResponse(payloads.deployment_status(row))


async def list_versions(request: Request) -> Response:
    """The Elasticsearch versions a create may choose, and the default."""
    principal_of(request)  # authenticated callers only
    catalog = runtime_of(request).settings.es_catalog
    return JSONResponse(payloads.version_list(catalog))


async def cluster_versions(request: Request) -> Response:
    """The versions a cluster may be upgraded to."""
    runtime = runtime_of(request)
    container, upgrades = await flows.upgrades_of(
        sessions=runtime.sessions,
        scope=principal_of(request).scope,
        namespace=request.path_params["namespace"],
        versions=runtime.settings.es_catalog,
    )
    return JSONResponse(payloads.cluster_upgrades(container, upgrades))


async def report_deployment(request: Request) -> Response:
    runtime, principal = runtime_of(request), principal_of(request)
    namespace = request.path_params["namespace"]
    async with audited_request(request, "reportDeploymentStatus") as note:
        scope = await report_scope(
            sessions=runtime.sessions,
            principal=principal,
            namespace=namespace,
        )
        row = await flows.report_usage(
            sessions=runtime.sessions,
            scope=scope,
            namespace=namespace,
            payload=await json_object(request),
            retention=runtime.usage_retention,
        )
        note.tenant_org_id, note.target = row.tenant_org_id, namespace
    return JSONResponse(payloads.deployment_status(row))


# -- API keys and audit (admin) --------------------------------------------------------


async def create_api_key(request: Request) -> Response:
    principal = principal_of(request)
    async with audited_request(request, "createApiKey") as note:
        principal.require_admin()
        body = await json_object(request)
        for field in ("tenant_org_id", "name"):
            if not isinstance(body.get(field), str) or not body[field]:
                raise InvalidInput(f"{field} is required")
        user = body.get("user")
        if user is not None and not isinstance(user, str):
            raise InvalidInput("user must be a string")
        issued = await keys.create_api_key(
            sessions=runtime_of(request).sessions,
            tenant_org_id=body["tenant_org_id"],
            user=user or None,
            name=body["name"],
        )
        note.tenant_org_id, note.target = issued.row.tenant_org_id, f"api-key {issued.row.id}"
    return JSONResponse(payloads.api_key(issued.row, secret=issued.token), status_code=201)


async def list_api_keys(request: Request) -> Response:
    principal_of(request).require_admin()
    tenant_org_id = request.query_params.get("tenant_org_id") or None
    page = page_of(request, listings.API_KEY_ORDER)
    if page is not None:
        return await _page_of_listing(
            request,
            listing=listings.Listing(listings.Kind.API_KEYS, tenant_org_id=tenant_org_id),
            page=page,
            payload=payloads.api_key,
        )
    async with runtime_of(request).sessions() as session:
        rows = await keys.list_api_keys(session=session, tenant_org_id=tenant_org_id)
    return JSONResponse([payloads.api_key(row) for row in rows])


async def revoke_api_key(request: Request) -> Response:
    principal = principal_of(request)
    async with audited_request(request, "revokeApiKey") as note:
        principal.require_admin()
        row = await keys.revoke_api_key(
            sessions=runtime_of(request).sessions, key_id=request.path_params["key_id"]
        )
        note.tenant_org_id, note.target = row.tenant_org_id, f"api-key {row.id}"
    return JSONResponse(payloads.api_key(row))


async def list_audit(request: Request) -> Response:
    """Newest first. Always a page: ``limit`` (1 to audit.MAX_LIMIT, 100 by default)
    keeps its first meaning, the newest entries, and ``cursor`` continues to older
    ones; the next page is named in the headers when older entries remain."""
    principal_of(request).require_admin()
    page = page_of(
        request, listings.AUDIT_ORDER, most=audit.MAX_LIMIT, default=audit.DEFAULT_LIMIT
    )
    assert page is not None  # a default is given
    return await _page_of_listing(
        request,
        listing=listings.Listing(
            listings.Kind.AUDIT, tenant_org_id=request.query_params.get("tenant_org_id") or None
        ),
        page=page,
        payload=payloads.audit_entry,
    )


# -- errors ----------------------------------------------------------------------------


async def domain_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(error_code(exc).status, exc.message)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    messages = {
        404: f"no such endpoint: {request.method} {request.url.path}",
        405: f"method {request.method} is not allowed on {request.url.path}",
    }
    response = error_response(exc.status_code, messages.get(exc.status_code, str(exc.detail)))
    if exc.status_code == 405:
        # RFC 9110: a 405 lists what the path does allow, over every route it has.
        response.headers["Allow"] = ", ".join(_allowed_methods(request))
    return response


def _allowed_methods(request: Request) -> list[str]:
    allowed: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.matches(request.scope)[0] is not Match.NONE:
            allowed |= route.methods or set()
    return sorted(allowed)


# The org route comes before the {user}/{service_name} route it would otherwise match.
routes = [
    Route("/clusters", create_cluster, methods=["POST"]),
    Route("/clusters", delete_cluster, methods=["DELETE"]),
    Route("/clusters/{namespace}", update_cluster, methods=["PATCH"]),
    Route("/clusters/{namespace}", delete_cluster, methods=["DELETE"]),
    Route("/clusters/{namespace}/versions", cluster_versions, methods=["GET"]),
    Route("/versions", list_versions, methods=["GET"]),
    Route("/clusters/{namespace}/connection", get_connection, methods=["GET"]),
    Route("/clusters/{namespace}/credentials/reset", reset_credentials, methods=["POST"]),
    Route("/tenant/containers/{user}/{service_name}", get_container, methods=["GET"]),
    Route("/tenant/containers/{user}/{service_name}/events", get_container_events, methods=["GET"]),
    Route("/deployments/{namespace}", get_deployment, methods=["GET"]),
    Route("/deployments/{namespace}/report", report_deployment, methods=["POST"]),
    Route("/api-keys", create_api_key, methods=["POST"]),
    Route("/api-keys", list_api_keys, methods=["GET"]),
    Route("/api-keys/{key_id}", revoke_api_key, methods=["DELETE"]),
    Route("/audit", list_audit, methods=["GET"]),
]

exception_handlers = {
    DomainError: domain_error,
    HTTPException: http_error,
}
