"""Validation of a create request: from loose input (REST JSON or GraphQL input, both as
a mapping of the spec's snake_case fields) to a checked ``ClusterRequest``.

Checks run in the spec's order, so the first error a user sees is the one the spec
promises (missing tenant_org_id before missing user before missing service_name).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.kube.quantity import InvalidQuantity, parse_quantity
from app.tenancy import naming
from app.tenancy.errors import InvalidInput

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
# Elasticsearch's dense_vector accepts at most this many dimensions.
MAX_DIMENSION = 4096
MAX_REPLICAS = 1000
MAX_URL_LENGTH = 2048
MAX_QUANTITY_LENGTH = 32  # the column width; real quantities are a few characters

REQUIRED_MESSAGES = {
    "tenant_org_id": "tenant_org_id is required for multi-tenancy",
    "user": "user is required",
    "service_name": "service_name is required",
}


@dataclass(frozen=True, kw_only=True)
class ClusterRequest:
    tenant_org_id: str
    user: str
    service_name: str
    namespace: str
    replicas: int = 1
    cpu_request: str = "500m"
    cpu_limit: str = "2"
    mem_request: str = "1Gi"
    mem_limit: str = "2Gi"
    disk_size: str = "10Gi"
    gpu_count: int = 0
    dimension: int = 128
    vector_count: int = 10000
    index_limit: int = 0
    gitlab_url: str | None = None


_DEFAULTS = ClusterRequest(tenant_org_id="", user="", service_name="", namespace="")


def parse_create_request(
    payload: Mapping[str, Any], *, reserved: naming.ReservedNamespaces, org_prefixed: bool
) -> ClusterRequest:
    """``org_prefixed``: a custom namespace must start with ``{tenant_org_id}-`` (the
    caller is bound to an organisation; only the platform admin may choose freely)."""
    tenant_org_id, user, service_name = (_required(payload, field) for field in REQUIRED_MESSAGES)
    _refuse_unknown(payload)
    naming.check_name("tenant_org_id", tenant_org_id)
    naming.check_name("user", user)
    naming.check_name("service_name", service_name)

    ints = {
        "replicas": _integer(payload, "replicas", low=1, high=MAX_REPLICAS),
        "gpu_count": _integer(payload, "gpu_count", low=0, high=INT32_MAX),
        "dimension": _integer(payload, "dimension", low=1, high=MAX_DIMENSION),
        "vector_count": _integer(payload, "vector_count", low=0, high=INT64_MAX),
        "index_limit": _integer(payload, "index_limit", low=0, high=INT32_MAX),
    }
    cpu_request, cpu_limit = _request_limit(payload, "cpu_request", "cpu_limit")
    mem_request, mem_limit = _request_limit(payload, "mem_request", "mem_limit")
    disk_size = _quantity(payload, "disk_size")[0]

    namespace_given = _optional_string(payload, "namespace")
    if namespace_given is not None:
        namespace = naming.check_namespace(
            namespace_given,
            reserved=reserved,
            org_prefix=tenant_org_id if org_prefixed else None,
        )
    else:
        namespace = naming.default_namespace(
            tenant_org_id=tenant_org_id, user=user, service_name=service_name, reserved=reserved
        )

    return ClusterRequest(
        tenant_org_id=tenant_org_id,
        user=user,
        service_name=service_name,
        namespace=namespace,
        cpu_request=cpu_request,
        cpu_limit=cpu_limit,
        mem_request=mem_request,
        mem_limit=mem_limit,
        disk_size=disk_size,
        gitlab_url=_gitlab_url(payload),
        **ints,
    )


# Every field a create request may carry: the fields of ClusterRequest.
CREATE_FIELDS = tuple(field.name for field in dataclasses.fields(ClusterRequest))


def _refuse_unknown(payload: Mapping[str, Any]) -> None:
    """A misspelt field ("Replicas") silently ignored would create something else than
    the client asked for."""
    unknown = sorted(str(key) for key in payload if key not in CREATE_FIELDS)
    if unknown:
        raise InvalidInput(
            f"unknown field(s) {', '.join(unknown)}; a create request takes "
            f"{', '.join(CREATE_FIELDS)}"
        )


def _required(payload: Mapping[str, Any], field: str) -> str:
    value = payload.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput(REQUIRED_MESSAGES[field])
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string")
    return value


def _optional_string(payload: Mapping[str, Any], field: str) -> str | None:
    value = payload.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be a string")
    return value


def _integer(payload: Mapping[str, Any], field: str, *, low: int, high: int) -> int:
    value = payload.get(field)
    if value is None:
        default: int = getattr(_DEFAULTS, field)
        return default
    # bool is an int in Python, but `"replicas": true` is a client bug, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field} must be an integer, got {_json_type(value)}")
    if not low <= value <= high:
        raise InvalidInput(f"{field} must be between {low} and {high}, got {value}")
    return value


def _quantity(payload: Mapping[str, Any], field: str) -> tuple[str, Decimal]:
    value = payload.get(field)
    if value is None:
        value = getattr(_DEFAULTS, field)
    if not isinstance(value, str):
        raise InvalidInput(
            f'{field} must be a Kubernetes quantity string such as "500m", "2" or "10Gi", '
            f"got {_json_type(value)}"
        )
    if len(value) > MAX_QUANTITY_LENGTH:
        raise InvalidInput(f"{field} must be at most {MAX_QUANTITY_LENGTH} characters")
    try:
        amount = parse_quantity(value)
    except InvalidQuantity as exc:
        raise InvalidInput(f"{field}: {exc}") from None
    if amount <= 0:
        raise InvalidInput(f'{field} must be greater than zero, got "{value}"')
    return value, amount


def _request_limit(payload: Mapping[str, Any], request: str, limit: str) -> tuple[str, str]:
    request_text, request_amount = _quantity(payload, request)
    limit_text, limit_amount = _quantity(payload, limit)
    if request_amount > limit_amount:
        raise InvalidInput(f'{request} ("{request_text}") must not exceed {limit} ("{limit_text}")')
    return request_text, limit_text


def _gitlab_url(payload: Mapping[str, Any]) -> str | None:
    url = _optional_string(payload, "gitlab_url")
    if url is None:
        return None
    # Printable ASCII without spaces: it ends up in an env var and an annotation.
    printable = url.isascii() and url.isprintable() and " " not in url
    if len(url) > MAX_URL_LENGTH or not printable or not url.startswith(("https://", "http://")):
        raise InvalidInput(
            f"gitlab_url must be an http(s) URL of at most {MAX_URL_LENGTH} characters"
        )
    return url


def _json_type(value: object) -> str:
    names = {
        bool: "a boolean",
        str: "a string",
        float: "a number",
        list: "a list",
        dict: "an object",
    }
    return names.get(type(value), type(value).__name__)


@dataclass(frozen=True, kw_only=True)
class ClusterUpdate:
    """The full wanted shape after an update (unchanged fields carried over)."""

    replicas: int
    cpu_request: str
    cpu_limit: str
    mem_request: str
    mem_limit: str
    disk_size: str
    gpu_count: int
    index_limit: int


# What an update may change: exactly the fields of ClusterUpdate.
UPDATABLE = tuple(field.name for field in dataclasses.fields(ClusterUpdate))


def parse_update_request(payload: Mapping[str, Any], *, current: ClusterUpdate) -> ClusterUpdate:
    fixed = sorted(key for key in payload if key not in UPDATABLE and payload[key] is not None)
    if fixed:
        raise InvalidInput(
            f"{', '.join(fixed)} cannot be changed on an existing cluster; "
            f"updatable fields: {', '.join(UPDATABLE)}"
        )
    merged = {**vars(current), **{k: v for k, v in payload.items() if v is not None}}
    cpu_request, cpu_limit = _request_limit(merged, "cpu_request", "cpu_limit")
    mem_request, mem_limit = _request_limit(merged, "mem_request", "mem_limit")
    disk_size, disk_amount = _quantity(merged, "disk_size")
    if disk_amount < parse_quantity(current.disk_size):
        raise InvalidInput(
            f'disk_size can only grow: the cluster has "{current.disk_size}", '
            f'"{disk_size}" would shrink it'
        )
    return ClusterUpdate(
        replicas=_integer(merged, "replicas", low=1, high=MAX_REPLICAS),
        cpu_request=cpu_request,
        cpu_limit=cpu_limit,
        mem_request=mem_request,
        mem_limit=mem_limit,
        disk_size=disk_size,
        gpu_count=_integer(merged, "gpu_count", low=0, high=INT32_MAX),
        index_limit=_integer(merged, "index_limit", low=0, high=INT32_MAX),
    )
