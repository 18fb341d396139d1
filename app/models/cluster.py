"""The model family of a tenant's cluster, as in full-stack-fastapi-template's
``ItemBase -> ItemCreate / ItemUpdate -> Item (table) -> ItemPublic``:

- ``ClusterSpec``: the sizing fields (replicas ... gitlab_url) and the Elasticsearch
  version, their defaults, rules;
- ``TenantKey`` / ``Placement``: whose cluster it is, and its namespace;
- ``ClusterShape``: a whole cluster, as Kubernetes is to make it;
- ``ClusterCreate``: a create request (null means the default; the namespace is
  generated when not given); ``ClusterUpdate``: an update request, derived;
- ``ClusterDetails``: the spec's DeploymentStatus.details, derived;
- the records and tables build on these (app.models.records, app.store.tables).

Field order is the specification's: it is the order the fields are listed in when a
request names an unknown field, and the order of ``details``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Strict,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from app.models.fields import (
    MAX_DIMENSION,
    MAX_QUANTITY_LENGTH,
    MAX_URL_LENGTH,
    OPTIONAL_NAME_SCHEMA,
    Dimension,
    GpuCount,
    IndexLimit,
    Namespace,
    OptionalHttpUrl,
    OptionalVersion,
    Quantity,
    Replicas,
    TenantName,
    VectorCount,
    empty_is_none,
)
from app.models.names import (
    MAX_NAME_LENGTH,
    RESERVED_SCHEMA,
    ReservedNamespaces,
    check_namespace,
    default_namespace,
)
from app.models.quantity import parse_quantity
from app.models.rules import FIXED, Described, Kind, RuleViolation, typed
from app.models.versions import MAX_VERSION_LENGTH, VersionCatalog, check_version

_NAME_COLUMN = sa.String(MAX_NAME_LENGTH)


# How the three names are spelt (each a DNS-1123 label, as it goes into the namespace).
_NAMED = f"lowercase a-z, 0-9 and '-', at most {MAX_NAME_LENGTH} characters"


class TenantKey(SQLModel):
    """Whose cluster it is: one live cluster per organisation, user and service."""

    tenant_org_id: TenantName = Field(
        index=True, sa_type=_NAME_COLUMN, description=f"Tenant organisation id ({_NAMED})"
    )
    user: TenantName = Field(
        sa_type=_NAME_COLUMN, description=f"User id within the organisation ({_NAMED})"
    )
    service_name: TenantName = Field(
        sa_type=_NAME_COLUMN, description=f"The user's service the cluster is for ({_NAMED})"
    )


class Placement(TenantKey):
    """Whose cluster it is and where it lives."""

    namespace: Namespace = Field(sa_type=_NAME_COLUMN, description="Kubernetes namespace")


# Each limit is at least its request.
_REQUEST_OF = {"cpu_limit": "cpu_request", "mem_limit": "mem_request"}


# Validation context keys (see validate_create and validate_update).
_POLICY = "namespace_policy"
_DISK_NOW = "disk_size_now"
_VERSIONS = "versions"  # the VersionCatalog: what may be chosen
_VERSION_NOW = "version_now"  # an update's: the version the cluster has


class ClusterSpec(SQLModel):
    """How big a cluster is and what it holds: the sizing fields of the specification."""

    # Defaults are checked too: a request of "4" CPUs is over the default limit of "2".
    model_config = ConfigDict(validate_default=True)  # type: ignore[assignment]

    replicas: Replicas = Field(default=1, description="Elasticsearch nodes")
    cpu_request: Quantity = Field(
        default="500m", max_length=MAX_QUANTITY_LENGTH, description="CPU request per node"
    )
    cpu_limit: Quantity = Field(
        default="2",
        max_length=MAX_QUANTITY_LENGTH,
        description="CPU limit per node (at least cpu_request)",
    )
    mem_request: Quantity = Field(
        default="1Gi", max_length=MAX_QUANTITY_LENGTH, description="Memory request per node"
    )
    mem_limit: Quantity = Field(
        default="2Gi",
        max_length=MAX_QUANTITY_LENGTH,
        description="Memory limit per node (at least mem_request)",
    )
    disk_size: Quantity = Field(
        default="10Gi",
        max_length=MAX_QUANTITY_LENGTH,
        description="Disk per node; an update can only grow it",
    )
    gpu_count: GpuCount = Field(default=0, description="GPUs per node")
    dimension: Annotated[Dimension, FIXED] = Field(
        default=128,
        description=f"Vector dimension (1 to {MAX_DIMENSION}): sizes the cluster's memory; "
        "given to its pods as ESS_VECTOR_DIMENSION",
    )
    vector_count: Annotated[VectorCount, FIXED] = Field(
        default=10000,
        sa_type=sa.BigInteger,
        description="Number of vectors the cluster is to hold: sizes its memory; given to "
        "its pods as ESS_VECTOR_COUNT",
    )
    index_limit: IndexLimit = Field(
        default=0,
        description="Index limit, given to the cluster's pods as ESS_INDEX_LIMIT (the "
        "control plane does not enforce it)",
    )
    gitlab_url: Annotated[OptionalHttpUrl, FIXED] = Field(
        default=None,
        sa_type=sa.String(MAX_URL_LENGTH),
        description="http(s) URL of the GitLab project holding the cluster's configuration",
    )
    version: OptionalVersion = Field(
        default=None,
        sa_type=sa.String(MAX_VERSION_LENGTH),
        description="Elasticsearch version, one of those offered (GET /versions); "
        "a create without one takes the platform's default. An update that changes it "
        "upgrades the cluster, one pod at a time: only forward, at most one major "
        "version, and nothing else in the same update",
    )

    @field_validator(*_REQUEST_OF)
    @classmethod
    def _request_within_limit(cls, limit: str, info: ValidationInfo) -> str:
        limit_field = info.field_name or ""
        request_field = _REQUEST_OF[limit_field]
        request = info.data.get(request_field)  # absent when it was invalid itself
        if request is not None and parse_quantity(request) > parse_quantity(limit):
            raise RuleViolation(
                f'{request_field} ("{request}") must not exceed {limit_field} ("{limit}")'
            )
        return limit

    @field_validator("disk_size")
    @classmethod
    def _disk_only_grows(cls, size: str, info: ValidationInfo) -> str:
        now = (info.context or {}).get(_DISK_NOW)
        if now is not None and parse_quantity(size) < parse_quantity(now):
            raise RuleViolation(
                f'disk_size can only grow: the cluster has "{now}", "{size}" would shrink it'
            )
        return size

    @field_validator("version")
    @classmethod
    def _version_offered(cls, version: str | None, info: ValidationInfo) -> str | None:
        context = info.context or {}
        catalog = context.get(_VERSIONS)
        if not isinstance(catalog, VersionCatalog):
            return version  # a projection of what was recorded, checked then
        now = context.get(_VERSION_NOW)
        if version is None:
            return now or catalog.default
        return check_version(version, catalog=catalog, current=now)


class ClusterShape(ClusterSpec, Placement):
    """A whole cluster as Kubernetes is to make it: the manifests' one input, and what
    a checked create request is."""

    model_config = ConfigDict(frozen=True)  # type: ignore[assignment]


@dataclass(frozen=True, kw_only=True)
class NamespacePolicy:
    """Validation context of a create request: the namespaces no cluster may use, and
    whether a custom namespace must start with ``{tenant_org_id}-`` (callers bound to an
    organisation; only the platform admin may choose freely)."""

    reserved: ReservedNamespaces
    org_prefixed: bool


def null_means_default(schema: dict[str, Any]) -> None:
    """JSON Schema of a request where null means the default (a create request, a
    sizing dry run): a field with a default also takes null."""
    required = set(schema.get("required", ()))
    for name, field in schema["properties"].items():
        if name in required or {"type": "null"} in field.get("anyOf", ()):
            continue
        told = {key: field.pop(key) for key in ("title", "description", "default") if key in field}
        schema["properties"][name] = {"anyOf": [field, {"type": "null"}], **told}


def null_is_not_given(data: Any, *, fields: Collection[str]) -> Any:
    """Input of such a request with its null fields left out (so they take defaults)."""
    if isinstance(data, Mapping):
        return {k: v for k, v in data.items() if v is not None or k not in fields}
    return data


class ClusterCreate(ClusterSpec, Placement):
    """A create request. Null (or absence) means the default; a request must not exceed
    its limit; fields it does not know are refused (400 naming them). The namespace, when
    not given, is {tenant_org_id}-{user}-{service_name}."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=null_means_default)  # type: ignore[assignment]

    namespace: Annotated[
        Annotated[str, Strict()] | None,
        BeforeValidator(empty_is_none),
        Described({**OPTIONAL_NAME_SCHEMA, "not": RESERVED_SCHEMA}),
        Kind.TEXT,
    ] = Field(  # type: ignore[assignment]
        default=None,
        description="Custom namespace: a DNS-1123 label that is not reserved (default, "
        "kube-*, the platform's namespace, the operator's ESS_RESERVED_NAMESPACES) and "
        "does not exist yet (409); with an organisation's or user's key it must start "
        "with {tenant_org_id}-. Empty or null: {tenant_org_id}-{user}-{service_name}, "
        f"which must then be at most {MAX_NAME_LENGTH} characters",
    )

    @model_validator(mode="before")
    @classmethod
    def _null_is_not_given(cls, data: Any) -> Any:
        return null_is_not_given(data, fields=cls.model_fields)

    @field_validator("namespace")
    @classmethod
    def _place(cls, namespace: str | None, info: ValidationInfo) -> str | None:
        policy = (info.context or {}).get(_POLICY)
        if not isinstance(policy, NamespacePolicy):
            raise TypeError("a create request is checked with validate_create()")
        org, user, service = (info.data.get(field) for field in TenantKey.model_fields)
        if org is None or user is None or service is None:
            return namespace  # a name is wrong: that is the error to report
        if namespace is None:
            return default_namespace(
                tenant_org_id=org, user=user, service_name=service, reserved=policy.reserved
            )
        return check_namespace(
            namespace, reserved=policy.reserved, org_prefix=org if policy.org_prefixed else None
        )


def validate_create(
    payload: Mapping[str, Any], *, policy: NamespacePolicy, versions: VersionCatalog
) -> ClusterCreate:
    """A create request, checked (raises pydantic's ``ValidationError``); its version
    one of ``versions``, their default when it names none."""
    return ClusterCreate.model_validate(
        dict(payload), context={_POLICY: policy, _VERSIONS: versions}
    )


def validate_update(
    wanted: Mapping[str, Any],
    *,
    disk_size_now: str,
    version_now: str | None,
    versions: VersionCatalog,
) -> ClusterSpec:
    """The whole spec an update asks for, checked; the disk may only grow, and the
    version only move forward within ``versions``."""
    context = {_DISK_NOW: disk_size_now, _VERSION_NOW: version_now, _VERSIONS: versions}
    return ClusterSpec.model_validate(dict(wanted), context=context)


# What an update may change: the sizing fields not fixed at creation.
UPDATABLE = tuple(
    name for name, field in ClusterSpec.model_fields.items() if FIXED not in field.metadata
)


def spec_fields(
    names: tuple[str, ...], *, default: Literal["null", "required", "spec"]
) -> dict[str, Any]:
    """``create_model`` definitions of these sizing fields, with their rules and
    descriptions; defaulting to null, required, or with the spec's defaults."""
    definitions: dict[str, Any] = {}
    for name in names:
        field = ClusterSpec.model_fields[name]
        annotation = typed(field)
        if default == "null":
            definitions[name] = (
                annotation | None,
                PydanticField(default=None, description=field.description),
            )
        elif default == "spec":
            definitions[name] = (
                annotation,
                PydanticField(default=field.default, description=field.description),
            )
        else:
            definitions[name] = (annotation, PydanticField(description=field.description))
    return definitions


ClusterUpdate: type[BaseModel] = create_model(
    "ClusterUpdate",
    __doc__="An update request: any of the updatable fields; those left out (or null) keep "
    "their value. An empty one re-applies every object: the way to repair a degraded or "
    "failed cluster. Other fields may only be given as null.",
    # Described as the update takes it: the fields fixed at creation only as null.
    __config__=ConfigDict(json_schema_extra={"additionalProperties": {"type": "null"}}),
    **spec_fields(UPDATABLE, default="null"),
)

# The spec's DeploymentStatus.details: the sizing fields but replicas and version
# (fields of the DeploymentStatus itself) and gitlab_url.
DETAIL_FIELDS = tuple(
    name for name in ClusterSpec.model_fields if name not in ("replicas", "gitlab_url", "version")
)
ClusterDetails: type[BaseModel] = create_model(
    "DeploymentDetails",
    __doc__="Resource settings the cluster runs with.",
    __config__=ConfigDict(extra="forbid"),
    **spec_fields(DETAIL_FIELDS, default="required"),
)
