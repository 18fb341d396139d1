"""GraphQL types of quotas (spec section 9): the limits, the usage held against them,
and the two together for one organisation, user or service. The same documents as
the REST shim's ``/tenant/quota/...``, read and set through app.tenancy.quota_settings."""

from __future__ import annotations

from typing import Any

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.derive import input_type, object_type
from app.models.quota import QuotaLevel, QuotaLimits
from app.tenancy import quota_settings
from app.tenancy.quota import QuotaReport, Subject

strawberry.enum(
    QuotaLevel,
    graphql_name_from="value",
    description="Whose use a quota bounds: an organisation, one of its users, one service.",
)


@object_type(QuotaLimits, description="The limits of a quota; null is no limit.")
class QuotaLimitsType:
    pass


@strawberry.type(
    name="QuotaUsage",
    description="What the clusters not deleted hold (each per node times replicas), as "
    "Kubernetes quantities.",
)
class QuotaUsageType:
    clusters: int
    cpu: str
    memory: str
    disk: str
    gpu: int


@strawberry.type(description="A quota and what is held against it.")
class Quota:
    level: QuotaLevel
    tenant_org_id: str
    user: str | None
    service_name: str | None
    quota: QuotaLimitsType = strawberry.field(
        description="The limits (the operator's default when none is set)"
    )
    current_usage: QuotaUsageType
    is_default: bool = strawberry.field(
        description="No quota of its own was set: the operator's default applies"
    )

    @classmethod
    def of(cls, report: QuotaReport) -> Quota:
        subject = report.subject
        return cls(
            level=subject.level,
            tenant_org_id=subject.tenant_org_id,
            user=subject.user or None,
            service_name=subject.service_name or None,
            quota=QuotaLimitsType(**report.limits.model_dump()),
            current_usage=QuotaUsageType(
                clusters=report.usage.clusters,
                cpu=str(report.usage.shown("cpu")),
                memory=str(report.usage.shown("memory")),
                disk=str(report.usage.shown("disk")),
                gpu=report.usage.gpu,
            ),
            is_default=report.is_default,
        )


@input_type(QuotaLimits, description="A quota's limits; unset or null is no limit.")
class QuotaInput:
    def as_payload(self) -> dict[str, Any]:
        return {name: value for name, value in vars(self).items() if value is not None}


def subject_of(tenant_org_id: str, user: str | None, service_name: str | None) -> Subject:
    """The subject named by GraphQL arguments: a service needs its user."""
    return quota_settings.subject_named(
        tenant_org_id=tenant_org_id, user=user or "", service_name=service_name or ""
    )


async def read(info: Info, subject: Subject) -> Quota:
    runtime = info.context.runtime
    async with runtime.sessions() as session:
        report = await quota_settings.read_quota(
            session=session,
            scope=info.context.caller.scope,
            subject=subject,
            defaults=runtime.quota_defaults,
        )
    return Quota.of(report)
