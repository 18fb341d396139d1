"""The quota endpoints of the REST shim (spec section 9): one document per organisation,
user or service, read by the organisation's keys (a user's key: its own user's and
services'), set and removed by the platform admin only; every change audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.api import payloads
from app.api.rest import audited_request, json_object, principal_of, runtime_of
from app.tenancy import quota_settings
from app.tenancy.quota import QuotaReport, Subject


def _subject(request: Request) -> Subject:
    """The subject the path names."""
    return quota_settings.subject_named(**request.path_params)


def _document(report: QuotaReport) -> JSONResponse:
    subject = report.subject
    keys = {"tenant_org_id": subject.tenant_org_id}
    if subject.user:
        keys["user"] = subject.user
    if subject.service_name:
        keys["service_name"] = subject.service_name
    return JSONResponse(
        payloads.quota_document(
            level=subject.level,
            subject=keys,
            limits=report.limits,
            usage=report.usage.as_shown(),
        )
    )


async def get_quota(request: Request) -> Response:
    runtime, principal = runtime_of(request), principal_of(request)
    subject = _subject(request)
    async with runtime.sessions() as session:
        report = await quota_settings.read_quota(
            session=session,
            scope=principal.scope,
            subject=subject,
            defaults=runtime.quota_defaults,
        )
    return _document(report)


async def set_quota(request: Request) -> Response:
    runtime = runtime_of(request)

    async def replace(subject: Subject) -> QuotaReport:
        return await quota_settings.set_quota(
            sessions=runtime.sessions,
            subject=subject,
            limits=quota_settings.parse_quota(await json_object(request)),
            defaults=runtime.quota_defaults,
        )

    return await _change(request, "setQuota", replace)


async def remove_quota(request: Request) -> Response:
    runtime = runtime_of(request)
    return await _change(
        request,
        "removeQuota",
        lambda subject: quota_settings.remove_quota(
            sessions=runtime.sessions, subject=subject, defaults=runtime.quota_defaults
        ),
    )


async def _change(
    request: Request, action: str, change: Callable[[Subject], Awaitable[QuotaReport]]
) -> Response:
    """A change of the quota the path names: by the platform admin only, audited."""
    principal = principal_of(request)
    async with audited_request(request, action) as note:
        subject = _subject(request)
        note.tenant_org_id, note.target = subject.tenant_org_id, f"quota of {subject}"
        principal.require_admin()
        report = await change(subject)
    return _document(report)


PATHS = (
    "/tenant/quota/org/{tenant_org_id}",
    "/tenant/quota/org/{tenant_org_id}/user/{user}",
    "/tenant/quota/org/{tenant_org_id}/service/{user}/{service_name}",
)
routes = [
    route
    for path in PATHS
    for route in (
        Route(path, get_quota, methods=["GET"]),
        Route(path, set_quota, methods=["PUT"]),
        Route(path, remove_quota, methods=["DELETE"]),
    )
]
