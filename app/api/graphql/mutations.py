"""GraphQL mutations: the same flows as the REST shim, with the same validation,
scoped to the caller and audited."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from app.access import keys
from app.access.audit import audited
from app.access.keys import ApiKeyRequest
from app.access.reports import report_scope
from app.api.error_codes import audit_outcome
from app.api.graphql import quotas
from app.api.graphql.context import Info
from app.api.graphql.quotas import Quota, QuotaInput, QuotaOrg, QuotaService, QuotaUser
from app.api.graphql.types import (
    ApiKey,
    CreateClusterInput,
    DeploymentStatus,
    IssuedApiKey,
    TenantContainer,
    UpdateClusterInput,
)
from app.models.usage import Usage
from app.tenancy import flows, quota_settings


def _key_argument(name: str) -> Any:
    return strawberry.argument(description=ApiKeyRequest.model_fields[name].description)


def _audited(info: Info, action: str, **context: Any) -> Any:
    return audited(
        sessions=info.context.runtime.sessions,
        principal=info.context.principal,
        action=action,
        outcome_of=audit_outcome,
        **context,
    )


Namespace = Annotated[
    str, strawberry.argument(description="The cluster's Kubernetes namespace.")
]


def _reported(name: str) -> Any:
    what = Usage.model_fields[name].description
    return strawberry.argument(description=f"{what}, from 0; unset: keeps its last value.")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Record a cluster and start provisioning it; answers at once with "
        "status pending. Validation errors carry extensions.code BAD_USER_INPUT, "
        "duplicates and namespace collisions CONFLICT, a quota exceeded QUOTA_EXCEEDED, "
        "a cluster too small for its vectors under an enforcing quota CLUSTER_UNDERSIZED."
    )
    async def create_cluster(
        self,
        info: Info,
        input: Annotated[
            CreateClusterInput, strawberry.argument(description="The cluster asked for.")
        ],
    ) -> TenantContainer:
        runtime = info.context.runtime
        async with _audited(info, "createCluster", tenant_org_id=input.tenant_org_id) as note:
            row = await flows.create_cluster(
                sessions=runtime.sessions,
                ids=runtime.ids,
                worker=runtime.worker,
                clock=runtime.clock,
                namespaces=runtime.namespaces,
                reserved=runtime.reserved_namespaces,
                scope=info.context.caller.scope,
                payload=input.as_payload(),
                quotas=runtime.quota_defaults,
                versions=runtime.settings.es_catalog,
                audit_row=note.success_row,
            )
            note.target = row.namespace
        return TenantContainer.from_row(row)

    @strawberry.mutation(
        description="Change a running (or failed, or degraded) cluster: status updating, "
        "then created once the StatefulSet reports the new spec ready. Disk can only grow. "
        "With no changes it re-applies every object (repair). A new version is an upgrade "
        "(status upgrading; one of availableVersions(namespace), from created, with no "
        "other change): the pods restart on it one at a time, highest ordinal first."
    )
    async def update_cluster(
        self,
        info: Info,
        namespace: Namespace,
        input: Annotated[
            UpdateClusterInput,
            strawberry.argument(description="The changes; an empty input repairs."),
        ],
    ) -> TenantContainer:
        runtime = info.context.runtime
        async with _audited(info, "updateCluster", target=namespace) as note:
            row = await flows.update_cluster(
                sessions=runtime.sessions,
                worker=runtime.worker,
                clock=runtime.clock,
                scope=info.context.caller.scope,
                namespace=namespace,
                payload=input.as_payload(),
                quotas=runtime.quota_defaults,
                versions=runtime.settings.es_catalog,
            )
            note.tenant_org_id = row.tenant_org_id
        return TenantContainer.from_row(row)

    @strawberry.mutation(
        description="Give a cluster's `elastic` user a new password: the credentials "
        "Secret is re-applied and the pods roll onto it (status updating, then created); "
        "`credentials` shows the new password at once. Allowed when an update is."
    )
    async def reset_cluster_credentials(self, info: Info, namespace: Namespace) -> TenantContainer:
        runtime = info.context.runtime
        async with _audited(info, "resetClusterCredentials", target=namespace) as note:
            row = await flows.reset_credentials(
                sessions=runtime.sessions,
                worker=runtime.worker,
                clock=runtime.clock,
                scope=info.context.caller.scope,
                namespace=namespace,
            )
            note.tenant_org_id = row.tenant_org_id
        return TenantContainer.from_row(row)

    @strawberry.mutation(
        description="Delete a cluster by namespace, or by tenantOrgId, user and serviceName: "
        "status deleting, then deleted once its namespace is gone (a namespace without the "
        "cluster's ownership mark stays; only the cluster's objects in it are removed). "
        "The records stay. Deleting twice is not an error."
    )
    async def delete_cluster(
        self,
        info: Info,
        namespace: Annotated[
            str | None,
            strawberry.argument(
                description="The cluster's namespace; or leave it out and name the cluster."
            ),
        ] = None,
        tenant_org_id: Annotated[
            str | None, strawberry.argument(description="The cluster's organisation.")
        ] = None,
        user: Annotated[str | None, strawberry.argument(description="The cluster's user.")] = None,
        service_name: Annotated[
            str | None, strawberry.argument(description="The cluster's service name.")
        ] = None,
    ) -> TenantContainer:
        runtime = info.context.runtime
        async with _audited(info, "deleteCluster", target=namespace or "") as note:
            row = await flows.delete_cluster(
                sessions=runtime.sessions,
                worker=runtime.worker,
                clock=runtime.clock,
                scope=info.context.caller.scope,
                namespace=namespace,
                tenant_org_id=tenant_org_id,
                user=user,
                service_name=service_name,
            )
            note.tenant_org_id, note.target = row.tenant_org_id, row.namespace
        return TenantContainer.from_row(row)

    @strawberry.mutation(
        description="A running cluster reports its usage (cpu in cores, memory and disk "
        "in bytes, qps); fields left out keep their last value. Takes the deployment's "
        "report token (or the admin's)."
    )
    async def report_deployment_status(
        self,
        info: Info,
        namespace: Annotated[
            str, strawberry.argument(description="The reporting deployment's namespace.")
        ],
        cpu_usage: Annotated[float | None, _reported("cpu_usage")] = None,
        memory_usage: Annotated[float | None, _reported("memory_usage")] = None,
        disk_usage: Annotated[float | None, _reported("disk_usage")] = None,
        qps: Annotated[float | None, _reported("qps")] = None,
    ) -> DeploymentStatus:
        runtime = info.context.runtime
        report = {
            "cpu_usage": cpu_usage,
            "memory_usage": memory_usage,
            "disk_usage": disk_usage,
            "qps": qps,
        }
        async with _audited(info, "reportDeploymentStatus", target=namespace) as note:
            scope = await report_scope(
                sessions=runtime.sessions,
                principal=info.context.caller,
                namespace=namespace,
            )
            row = await flows.report_usage(
                sessions=runtime.sessions,
                scope=scope,
                namespace=namespace,
                payload={k: v for k, v in report.items() if v is not None},
                retention=runtime.usage_retention,
            )
            note.tenant_org_id = row.tenant_org_id
        return DeploymentStatus.from_row(row)

    @strawberry.mutation(
        description="Set (replace) the quota of an organisation, of a user of it (with "
        "user) or of one service (with user and serviceName); admin only. Unset limits "
        "are no limit; a limit below what is held blocks only growth."
    )
    async def set_quota(
        self,
        info: Info,
        tenant_org_id: QuotaOrg,
        quota: Annotated[
            QuotaInput, strawberry.argument(description="The limits; they replace all.")
        ],
        user: QuotaUser = None,
        service_name: QuotaService = None,
    ) -> Quota:
        runtime = info.context.runtime
        async with _audited(info, "setQuota", tenant_org_id=tenant_org_id) as note:
            subject = quotas.subject_of(tenant_org_id, user, service_name)
            note.target = f"quota of {subject}"
            info.context.caller.require_admin()
            report = await quota_settings.set_quota(
                sessions=runtime.sessions,
                subject=subject,
                limits=quota_settings.parse_quota(quota.as_payload()),
                defaults=runtime.quota_defaults,
            )
        return Quota.of(report)

    @strawberry.mutation(
        description="Remove a quota (admin only): the operator's default applies again."
    )
    async def remove_quota(
        self,
        info: Info,
        tenant_org_id: QuotaOrg,
        user: QuotaUser = None,
        service_name: QuotaService = None,
    ) -> Quota:
        runtime = info.context.runtime
        async with _audited(info, "removeQuota", tenant_org_id=tenant_org_id) as note:
            subject = quotas.subject_of(tenant_org_id, user, service_name)
            note.target = f"quota of {subject}"
            info.context.caller.require_admin()
            report = await quota_settings.remove_quota(
                sessions=runtime.sessions, subject=subject, defaults=runtime.quota_defaults
            )
        return Quota.of(report)

    @strawberry.mutation(
        description="Create an organisation API key (admin only); bound to a user when "
        "given. The secret is in the answer and never again."
    )
    async def create_api_key(
        self,
        info: Info,
        tenant_org_id: Annotated[str, _key_argument("tenant_org_id")],
        name: Annotated[str, _key_argument("name")],
        user: Annotated[str | None, _key_argument("user")] = None,
    ) -> IssuedApiKey:
        async with _audited(info, "createApiKey", tenant_org_id=tenant_org_id) as note:
            info.context.caller.require_admin()
            issued = await keys.create_api_key(
                sessions=info.context.runtime.sessions,
                tenant_org_id=tenant_org_id,
                user=user,
                name=name,
            )
            note.target = f"api-key {issued.row.id}"
        return IssuedApiKey(key=ApiKey.from_row(issued.row), secret=issued.token)

    @strawberry.mutation(description="Revoke an API key (admin only); revoking twice is fine.")
    async def revoke_api_key(
        self,
        info: Info,
        id: Annotated[str, strawberry.argument(description="The key's id (ApiKey.id).")],
    ) -> ApiKey:
        async with _audited(info, "revokeApiKey", target=f"api-key {id}") as note:
            info.context.caller.require_admin()
            row = await keys.revoke_api_key(sessions=info.context.runtime.sessions, key_id=id)
            note.tenant_org_id = row.tenant_org_id
        return ApiKey.from_row(row)
