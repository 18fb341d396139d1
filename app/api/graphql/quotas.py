"""GraphQL types of quotas (spec section 9): the limits, the usage held against them,
and the two together for one organisation, user or service. The same documents as
the REST shim's ``/tenant/quota/...``, read and set through app.tenancy.quota_settings."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.derive import input_type, object_type
from app.api.graphql.enums import described_enum
from app.models.quota import QuotaLevel, QuotaLimits
from app.tenancy import quota_settings
from app.tenancy.quota import QuotaReport, Subject

described_enum(
    QuotaLevel,
    graphql_name_from="value",
    description="Whose use a quota bounds: an organisation, one of its users, one service.",
    values={
        QuotaLevel.ORGANIZATION: "Every cluster of the organisation.",
        QuotaLevel.USER: "The clusters of one user of the organisation.",
        QuotaLevel.SERVICE: "One user's cluster of one service name.",
    },
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
    clusters: int = strawberry.field(description="Clusters not deleted.")
    cpu: str = strawberry.field(description='CPU: the sum of replicas x cpuLimit ("1500m").')
    memory: str = strawberry.field(description='Memory: the sum of replicas x memLimit ("8Gi").')
    disk: str = strawberry.field(description='Disk: the sum of replicas x diskSize ("30Gi").')
    gpu: int = strawberry.field(description="GPUs: the sum of replicas x gpuCount.")


@strawberry.type(description="A quota and what is held against it.")
class Quota:
    level: QuotaLevel = strawberry.field(description="Whose use it bounds.")
    tenant_org_id: str = strawberry.field(description="The organisation.")
    user: str | None = strawberry.field(description="The user; null for an organisation's.")
    service_name: str | None = strawberry.field(
        description="The service name; null unless a service's."
    )
    quota: QuotaLimitsType = strawberry.field(
        description="The limits (the operator's default when none is set)"
    )
    current_usage: QuotaUsageType = strawberry.field(
        description="What the clusters it bounds hold now."
    )
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


QuotaOrg = Annotated[str, strawberry.argument(description="The organisation (tenant_org_id).")]
QuotaUser = Annotated[
    str | None,
    strawberry.argument(
        description="The user, for a user's or a service's quota; unset: the organisation's."
    ),
]
QuotaService = Annotated[
    str | None,
    strawberry.argument(
        description="The service name, for one service's quota (needs user; BAD_USER_INPUT "
        "without)."
    ),
]


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
