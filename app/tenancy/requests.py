"""Validation of create and update requests: from loose input (REST JSON or GraphQL
input, both as a mapping of the spec's snake_case fields) to checked models of the
cluster family (app.models.cluster), the errors worded by app.tenancy.validation.

Checks run in the spec's order, so the first error a user sees is the one the spec
promises (missing tenant_org_id before missing user before missing service_name).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from app.models.cluster import (
    UPDATABLE,
    ClusterCreate,
    ClusterShape,
    ClusterSpec,
    NamespacePolicy,
    validate_create,
    validate_update,
)
from app.models.fields import INT32_MAX, INT64_MAX, MAX_DIMENSION, MAX_REPLICAS
from app.models.names import ReservedNamespaces
from app.models.versions import DEFAULT_CATALOG, VersionCatalog
from app.tenancy.errors import InvalidInput
from app.tenancy.validation import (
    CREATE_ORDER,
    REQUIRED_MESSAGES,
    UPDATE_ORDER,
    invalid_input,
)

__all__ = [
    "INT32_MAX",
    "INT64_MAX",
    "MAX_DIMENSION",
    "MAX_REPLICAS",
    "REQUIRED_MESSAGES",
    "UPDATABLE",
    "ClusterRequest",
    "parse_create_request",
    "parse_update_request",
]

# A checked create request: the whole cluster, its namespace settled.
ClusterRequest = ClusterShape


def parse_create_request(
    payload: Mapping[str, Any],
    *,
    reserved: ReservedNamespaces,
    org_prefixed: bool,
    versions: VersionCatalog = DEFAULT_CATALOG,
) -> ClusterRequest:
    """``org_prefixed``: a custom namespace must start with ``{tenant_org_id}-`` (the
    caller is bound to an organisation; only the platform admin may choose freely).
    ``versions``: the Elasticsearch versions offered (the settings' catalogue)."""
    policy = NamespacePolicy(reserved=reserved, org_prefixed=org_prefixed)
    try:
        request = validate_create(payload, policy=policy, versions=versions)
    except ValidationError as exc:
        raise invalid_input(exc, model=ClusterCreate, order=CREATE_ORDER) from None
    return ClusterShape.model_construct(**request.model_dump())


def parse_update_request(
    payload: Mapping[str, Any],
    *,
    current: ClusterSpec,
    versions: VersionCatalog = DEFAULT_CATALOG,
) -> ClusterSpec:
    """The full wanted spec after an update: the given fields over ``current``; a new
    version only one ``versions`` allows as an upgrade from the current one."""
    fixed = sorted(key for key in payload if key not in UPDATABLE and payload[key] is not None)
    if fixed:
        raise InvalidInput(
            f"{', '.join(fixed)} cannot be changed on an existing cluster; "
            f"updatable fields: {', '.join(UPDATABLE)}"
        )
    given = {key: value for key, value in payload.items() if value is not None}
    merged = {**{name: getattr(current, name) for name in ClusterSpec.model_fields}, **given}
    try:
        return validate_update(
            merged,
            disk_size_now=current.disk_size,
            version_now=current.version,
            versions=versions,
        )
    except ValidationError as exc:
        raise invalid_input(exc, model=ClusterSpec, order=UPDATE_ORDER) from None
