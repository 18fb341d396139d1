"""Reading and setting quotas: the spec's section 9 document (a quota and the usage held
against it), for the subjects a caller may see; only the platform admin sets them
(checked by the api, which knows the caller)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.names import check_name
from app.models.quota import QuotaLevel, QuotaLimits
from app.store.db import SessionFactory, session_scope
from app.store.tables import QuotaRow, utcnow
from app.tenancy.errors import Forbidden, InvalidInput, NotFound
from app.tenancy.quota import QuotaDefaults, QuotaReport, Subject, guard, limits_of, usage_of
from app.tenancy.scope import Scope
from app.tenancy.validation import QUOTA_ORDER, invalid_input, rule_checks


def subject_named(*, tenant_org_id: str, user: str = "", service_name: str = "") -> Subject:
    """The subject these names give ("" for none), each checked like a create request's
    name: an organisation; a user of it; or a service, which needs its user."""
    with rule_checks():
        check_name("tenant_org_id", tenant_org_id)
        if user:
            check_name("user", user)
        if service_name:
            check_name("service_name", service_name)
    if service_name and not user:
        raise InvalidInput("a service's quota needs its user too")
    if service_name:
        return Subject.service(tenant_org_id, user, service_name)
    if user:
        return Subject.of_user(tenant_org_id, user)
    return Subject.organization(tenant_org_id)


def parse_quota(payload: Mapping[str, Any]) -> QuotaLimits:
    """A quota as PUT sends it: the ``quota`` object itself, or the whole document GET
    answers (its ``quota``; ``current_usage`` is read-only and ignored, the subject
    is the path's). Every limit left out or null is no limit."""
    if isinstance(payload.get("quota"), Mapping):
        payload = payload["quota"]
    try:
        return QuotaLimits.model_validate(dict(payload))
    except ValidationError as exc:
        raise invalid_input(
            exc, model=QuotaLimits, order=QUOTA_ORDER, takes="a quota takes"
        ) from None


def _require_readable(scope: Scope, subject: Subject) -> None:
    """An organisation's keys read its quotas; a user's key its own user's and services'.
    Another organisation's, or another user's, are not found, as everywhere."""
    if not scope.covers_org(subject.tenant_org_id):
        raise NotFound(f"no quota for {subject}")
    if scope.user is None:
        return
    if subject.level is QuotaLevel.ORGANIZATION:
        raise Forbidden("a user's key reads only its own user's and services' quotas")
    if subject.user != scope.user:
        raise NotFound(f"no quota for {subject}")


async def read_quota(
    *, session: AsyncSession, scope: Scope, subject: Subject, defaults: QuotaDefaults
) -> QuotaReport:
    _require_readable(scope, subject)
    return await _report(session, subject, defaults)


async def _report(session: AsyncSession, subject: Subject, defaults: QuotaDefaults) -> QuotaReport:
    limits, is_default = (await limits_of(session, [subject], defaults))[subject]
    usage = (await usage_of(session, [subject]))[subject]
    return QuotaReport(subject=subject, limits=limits, usage=usage, is_default=is_default)


async def set_quota(
    *, sessions: SessionFactory, subject: Subject, limits: QuotaLimits, defaults: QuotaDefaults
) -> QuotaReport:
    """Set (replace) a subject's quota. Limits below what is held are allowed: they
    block growth only. Under the organisation's guard, so a check running meanwhile
    sees either the old quota or the new one, never a mix."""
    async with session_scope(sessions) as session:
        await guard(session, tenant_org_id=subject.tenant_org_id)
        row = await _stored(session, subject)
        if row is None:
            row = QuotaRow(
                tenant_org_id=subject.tenant_org_id,
                level=subject.level,
                user=subject.user,
                service_name=subject.service_name,
                updated_at=utcnow(),
            )
        for field in QuotaLimits.model_fields:
            setattr(row, field, getattr(limits, field))
        row.updated_at = utcnow()
        session.add(row)
        await session.flush()
        return await _report(session, subject, defaults)


async def remove_quota(
    *, sessions: SessionFactory, subject: Subject, defaults: QuotaDefaults
) -> QuotaReport:
    """Remove a subject's own quota: the operator's default applies again."""
    async with session_scope(sessions) as session:
        await guard(session, tenant_org_id=subject.tenant_org_id)
        row = await _stored(session, subject)
        if row is not None:
            await session.delete(row)
            await session.flush()
        return await _report(session, subject, defaults)


async def _stored(session: AsyncSession, subject: Subject) -> QuotaRow | None:
    rows = await session.exec(
        select(QuotaRow).where(
            QuotaRow.tenant_org_id == subject.tenant_org_id,
            QuotaRow.level == subject.level,
            QuotaRow.user == subject.user,
            QuotaRow.service_name == subject.service_name,
        )
    )
    return rows.first()


async def user_reports(
    *, session: AsyncSession, tenant_org_id: str, users: Iterable[str], defaults: QuotaDefaults
) -> dict[str, QuotaReport]:
    """The user quotas of several users of one organisation, in two queries."""
    subjects = {user: Subject.of_user(tenant_org_id, user) for user in users}
    limits = await limits_of(session, subjects.values(), defaults)
    held = await usage_of(session, subjects.values())
    return {
        user: QuotaReport(
            subject=subject,
            limits=limits[subject][0],
            usage=held[subject],
            is_default=limits[subject][1],
        )
        for user, subject in subjects.items()
    }
