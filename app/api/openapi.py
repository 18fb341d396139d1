"""The OpenAPI 3.1 description of the REST shim, served at ``GET /openapi.json``.

The document is a plain dict built once, at import, from the same constants the
validation code enforces (name rules, ranges, updatable fields, statuses), so the two
cannot drift apart silently. Shapes that are a contract (TenantContainer,
DeploymentStatus, events, errors, ...) say ``additionalProperties: false``; the keys
``error`` and ``deleted_at`` are optional because they appear only when set.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.access.audit import MAX_LIMIT as MAX_AUDIT_LIMIT
from app.access.keys import MAX_KEY_NAME
from app.models.cluster import ClusterCreate
from app.models.fields import MAX_URL_LENGTH
from app.models.names import BUILT_IN_RESERVED, MAX_NAME_LENGTH
from app.store.tables import ClusterStatus
from app.tenancy.requests import (
    INT32_MAX,
    INT64_MAX,
    MAX_DIMENSION,
    MAX_REPLICAS,
    REQUIRED_MESSAGES,
    UPDATABLE,
)
from app.tenancy.shapes import DETAIL_FIELDS
from app.tenancy.usage import MAX_REPORTED, USAGE_FIELDS

__all__ = ["DOCUMENT", "build_document", "openapi_json", "routes"]

Schema = dict[str, Any]

TITLE = "ES Serverless control plane"
# Every REST answer is JSON.
JSON = "application/json"
# A DNS-1123 label, as app.tenancy.naming checks it.
_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
NAME_PATTERN = f"^{_LABEL}$"
# A Kubernetes quantity, as app.kube.quantity parses it (no sign but an optional "+").
_QUANTITY = r"\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)([numkMGTPE]|[KMGTPE]i|[eE][+-]?[0-9]+)?"
QUANTITY_PATTERN = f"^{_QUANTITY}$"
# include_deleted and friends: true/false/1/0, any letter case.
FLAG_PATTERN = "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)$"


def _version() -> str:
    try:
        return metadata.version("es-serverless")
    except metadata.PackageNotFoundError:
        return "0.0.0+unknown"


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    """``schema`` or JSON null (null means "not given": the default or no change)."""
    nullable = dict(schema)
    kind = nullable["type"]
    nullable["type"] = [*kind, "null"] if isinstance(kind, list) else [kind, "null"]
    return nullable


def _name(description: str) -> Schema:
    return {
        "type": "string",
        "pattern": NAME_PATTERN,
        "minLength": 1,
        "maxLength": MAX_NAME_LENGTH,
        "description": description,
    }


def _integer(low: int, high: int, description: str, *, int64: bool = False) -> Schema:
    return {
        "type": "integer",
        "format": "int64" if int64 else "int32",
        "minimum": low,
        "maximum": high,
        "description": description,
    }


def _quantity(description: str) -> Schema:
    return {
        "type": "string",
        "pattern": QUANTITY_PATTERN,
        "description": f"{description}: a Kubernetes quantity greater than zero "
        '(e.g. "500m", "2", "1Gi", "10Gi", "1e3")',
    }


def _timestamp(description: str) -> Schema:
    return {
        "type": "string",
        "format": "date-time",
        "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
        "description": f"{description} (RFC 3339, UTC, to the second)",
    }


def _object(properties: dict[str, Schema], *, optional: tuple[str, ...] = ()) -> Schema:
    """A closed object: every property required except ``optional`` ones."""
    return {
        "type": "object",
        "properties": properties,
        "required": [key for key in properties if key not in optional],
        "additionalProperties": False,
    }


def _defaults() -> dict[str, Any]:
    return {
        name: field.default
        for name, field in ClusterCreate.model_fields.items()
        if not field.is_required()
    }


STATUS = {
    "type": "string",
    "enum": [status.value for status in ClusterStatus],
    "description": "pending -> creating -> created; created -> updating -> created; "
    "any -> deleting -> deleted; failed (with error) when provisioning fails; degraded "
    "(with error) when the cluster lost readiness",
}

_ERROR_WHEN_SET: Schema = {
    "type": "string",
    "minLength": 1,
    "description": "Why the cluster is failed or degraded; present only then",
}


def _resource_fields() -> dict[str, Schema]:
    """The create request's sizing fields (also the update request's, without dimension
    and vector_count)."""
    return {
        "replicas": _integer(1, MAX_REPLICAS, "Elasticsearch nodes"),
        "cpu_request": _quantity("CPU request per node"),
        "cpu_limit": _quantity("CPU limit per node (at least cpu_request)"),
        "mem_request": _quantity("Memory request per node"),
        "mem_limit": _quantity("Memory limit per node (at least mem_request)"),
        "disk_size": _quantity("Disk per node"),
        "gpu_count": _integer(0, INT32_MAX, "GPUs per node"),
        "dimension": _integer(1, MAX_DIMENSION, "Vector dimension"),
        "vector_count": _integer(0, INT64_MAX, "Number of vectors", int64=True),
        "index_limit": _integer(0, INT32_MAX, "Index limit"),
    }


def _create_request() -> Schema:
    defaults = _defaults()
    properties: dict[str, Schema] = {
        "tenant_org_id": _name("Tenant organisation id"),
        "user": _name("User id"),
        "service_name": _name("Service name"),
    }
    for field, schema in _resource_fields().items():
        properties[field] = _nullable({**schema, "default": defaults[field]})
    properties["gitlab_url"] = {
        "type": ["string", "null"],
        "maxLength": MAX_URL_LENGTH,
        "pattern": r"^(https?://[\s\S]*)?$",
        "description": "http(s) URL of the GitLab project holding the cluster's "
        "configuration; empty or null: none",
    }
    properties["namespace"] = {
        "type": ["string", "null"],
        "maxLength": MAX_NAME_LENGTH,
        "pattern": f"^({_LABEL})?$",
        # The reserved names that hold whatever the settings say; the platform's own
        # namespace and the operator's list are refused too, as the description says.
        "not": {
            "anyOf": [
                {"enum": [p for p in BUILT_IN_RESERVED if not p.endswith("*")]},
                *(
                    {"type": "string", "pattern": f"^{p.removesuffix('*')}"}
                    for p in BUILT_IN_RESERVED
                    if p.endswith("*")
                ),
            ]
        },
        "description": "Custom namespace: a DNS-1123 label that is not reserved (default, "
        "kube-*, the platform's namespace, the operator's ESS_RESERVED_NAMESPACES) and "
        "does not exist yet (409); with an organisation's or user's key it must start "
        "with {tenant_org_id}-. Empty or null: {tenant_org_id}-{user}-{service_name}, "
        f"which must then be at most {MAX_NAME_LENGTH} characters",
    }
    return {
        "type": "object",
        "description": "Null for an optional field means its default. request must not "
        "exceed limit. Unknown fields are refused (400 naming them).",
        "properties": properties,
        "additionalProperties": False,
        "required": list(REQUIRED_MESSAGES),
    }


def _update_request() -> Schema:
    fields = _resource_fields()
    properties = {field: _nullable(fields[field]) for field in UPDATABLE}
    properties["disk_size"]["description"] += "; it can only grow"
    return {
        "type": "object",
        "description": "Any of the updatable fields; those left out (or null) keep their "
        "value. An empty body (or {}) re-applies every object: the way to repair a degraded "
        "or failed cluster. Other fields may only be given as null.",
        "properties": properties,
        "additionalProperties": {"type": "null"},
    }


def _usage_report() -> Schema:
    number: Schema = {"type": "number", "minimum": 0, "maximum": MAX_REPORTED}
    units = {
        "cpu_usage": "cores",
        "memory_usage": "bytes",
        "disk_usage": "bytes",
        "qps": "queries per second",
    }
    return {
        "type": "object",
        "description": f"Any of the usage fields (numbers from 0 to {MAX_REPORTED:.0e}; "
        "-0.0 is stored as 0); those left out or null keep their last reported value. "
        "At least one must be given.",
        "properties": {
            field: {**_nullable(number), "description": units[field]} for field in USAGE_FIELDS
        },
        "additionalProperties": False,
        "anyOf": [
            {"required": [field], "properties": {field: {"type": "number"}}}
            for field in USAGE_FIELDS
        ],
    }


def _api_key_fields() -> dict[str, Schema]:
    return {
        "id": {"type": "string", "minLength": 1},
        "tenant_org_id": _name("Organisation"),
        "user": _nullable(_name("User, or null: every user of the organisation")),
        "name": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_NAME},
        "created_at": _timestamp("Created"),
        "last_used_at": _nullable(_timestamp("Last used (to the minute)")),
        "revoked_at": _nullable(_timestamp("Revoked")),
    }


def _schemas() -> dict[str, Schema]:
    cpu_memory = f"^{_QUANTITY}/{_QUANTITY}$"
    fields = _resource_fields()
    details = {
        field: {k: v for k, v in fields[field].items() if k != "description"}
        for field in DETAIL_FIELDS
    }
    usage = {"type": "number", "minimum": 0}
    return {
        "Error": {
            **_object({"error": {"type": "string", "minLength": 1}}),
            "description": "Every error, with any 4xx status",
        },
        "TenantContainer": {
            **_object(
                {
                    "id": {"type": "string", "minLength": 1},
                    "tenant_org_id": _name("Tenant organisation id"),
                    "user": _name("User id"),
                    "service_name": _name("Service name"),
                    "namespace": _name("Kubernetes namespace"),
                    "replicas": fields["replicas"],
                    "cpu": {
                        "type": "string",
                        "pattern": cpu_memory,
                        "description": "request/limit",
                    },
                    "memory": {
                        "type": "string",
                        "pattern": cpu_memory,
                        "description": "request/limit",
                    },
                    "disk": {"type": "string", "pattern": QUANTITY_PATTERN},
                    "gpu_count": fields["gpu_count"],
                    "dimension": fields["dimension"],
                    "vector_count": fields["vector_count"],
                    "status": STATUS,
                    "created_at": _timestamp("When the cluster was asked for"),
                    "sync_time": _nullable(_timestamp("When it last became created")),
                    "error": _ERROR_WHEN_SET,
                    "deleted_at": _timestamp("When it was deleted; present only then"),
                },
                optional=("error", "deleted_at"),
            ),
            "description": "The specification's TenantContainer record",
        },
        "DeploymentDetails": _object(details),
        "DeploymentStatus": {
            **_object(
                {
                    "id": {"type": "string", "minLength": 1},
                    "tenant_org_id": _name("Tenant organisation id"),
                    "namespace": _name("Kubernetes namespace"),
                    "user": _name("User id"),
                    "service_name": _name("Service name"),
                    "status": STATUS,
                    "cpu_usage": {**usage, "description": "cores, last reported"},
                    "memory_usage": {**usage, "description": "bytes, last reported"},
                    "disk_usage": {**usage, "description": "bytes, last reported"},
                    "qps": {**usage, "description": "queries per second, last reported"},
                    "gpu_count": fields["gpu_count"],
                    "dimension": fields["dimension"],
                    "vector_count": fields["vector_count"],
                    "replicas": fields["replicas"],
                    "created_at": _timestamp("When the cluster was asked for"),
                    "updated_at": _timestamp("Last change"),
                    "details": _ref("DeploymentDetails"),
                    "error": _ERROR_WHEN_SET,
                    "deleted_at": _timestamp("When it was deleted; present only then"),
                },
                optional=("error", "deleted_at"),
            ),
            "description": "The specification's DeploymentStatus record",
        },
        "ClusterEvent": {
            **_object(
                {
                    "at": _timestamp("When"),
                    "from": {**STATUS, "type": ["string", "null"], "enum": [*STATUS["enum"], None]},
                    "to": STATUS,
                    "reason": {"type": "string"},
                }
            ),
            "description": "One status change; from is null for the first",
        },
        "UsageSample": {
            **_object(
                {
                    "at": _timestamp("When it was reported"),
                    **{field: usage for field in USAGE_FIELDS},
                }
            ),
            "description": "One usage report as kept in the history (GraphQL "
            "DeploymentStatus.usageHistory)",
        },
        "CreateClusterRequest": _create_request(),
        "UpdateClusterRequest": _update_request(),
        "UsageReport": _usage_report(),
        "CreateApiKeyRequest": {
            "type": "object",
            "properties": {
                "tenant_org_id": _name("The organisation the key acts in"),
                "user": {
                    "type": ["string", "null"],
                    "pattern": f"^({_LABEL})?$",
                    "maxLength": MAX_NAME_LENGTH,
                    "description": "The one user the key acts for; absent, empty or null: "
                    "every user of the organisation",
                },
                "name": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_KEY_NAME,
                    "description": "What the key is for (surrounding blanks are dropped)",
                },
            },
            "required": ["tenant_org_id", "name"],
        },
        "ApiKey": {
            **_object(_api_key_fields()),
            "description": "An API key, without its secret",
        },
        "ApiKeyCreated": {
            **_object(
                {
                    **_api_key_fields(),
                    "secret": {
                        "type": "string",
                        "minLength": 1,
                        "description": "The bearer token; shown this once, never again",
                    },
                }
            ),
            "description": "A new API key with its secret",
        },
        "AuditEntry": {
            **_object(
                {
                    "id": {"type": "integer"},
                    "at": _timestamp("When"),
                    "actor": {
                        "type": "string",
                        "description": '"admin", "key:<id>", "reporter:<deployment id>" '
                        'or "anonymous"',
                    },
                    "tenant_org_id": {"type": ["string", "null"]},
                    "action": {"type": "string"},
                    "target": {"type": "string"},
                    "outcome": {
                        "type": "string",
                        "description": '"ok" or "error <status> <code>"',
                    },
                }
            ),
            "description": "Who did what to which tenant's resources, and how it ended",
        },
    }


_ERROR_MEANINGS = {
    "400": "Bad input: a missing or invalid field, parameter or body",
    "401": "No valid bearer token",
    "403": "The token may not do this (or a quota would be exceeded)",
    "404": "No such cluster, deployment or key (or not visible to this token)",
    "409": "A conflict: duplicate tenant, namespace taken, a user/service pair that exists "
    "in several organisations without tenant_org_id, or an operation the cluster's status "
    "does not allow",
    "413": "The request body is too large",
    "429": "Too many requests; slow down",
}


_ERROR_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with",
            "schema": {"type": "string", "pattern": "^Bearer "},
        }
    },
    "429": {
        "Retry-After": {
            "description": "Seconds until the next request is let through",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): {"$ref": f"#/components/responses/Error{code}"} for code in sorted(codes)}


def _ok(status: int, description: str, schema: Schema) -> dict[str, Any]:
    return {str(status): {"description": description, "content": {JSON: {"schema": schema}}}}


def _list_of(name: str) -> Schema:
    return {"type": "array", "items": _ref(name)}


def _path(name: str, schema: Schema) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: Schema, description: str, *, required: bool = False) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def _body(name: str, *, required: bool = True) -> Schema:
    return {"required": required, "content": {JSON: {"schema": _ref(name)}}}


_INCLUDE_DELETED = _query(
    "include_deleted",
    {"type": "string", "pattern": FLAG_PATTERN, "default": "false"},
    "Also list deleted clusters: true/false (or 1/0, any letter case)",
)
_ORG_FILTER = _query(
    "tenant_org_id",
    {"type": "string", "pattern": f"^({_LABEL})?$", "maxLength": MAX_NAME_LENGTH},
    "The organisation, when the user/service pair exists in several (empty: any)",
)
_NAMESPACE = _path("namespace", _name("The cluster's namespace"))
_USER = _path("user", _name("User id"))
_SERVICE = _path("service_name", _name("Service name"))
# Any request: a body over the size limit (413) or over the caller's rate (429).
_ANY = (413, 429)
# Any request that needs a token: none or an invalid one (401), or one that may not do
# this (403: an organisation key outside its organisation or user, a report token
# anywhere but its own report, a non-admin on admin endpoints).
_AUTHENTICATED = (401, 403, *_ANY)


def _paths() -> dict[str, Any]:
    container = _ref("TenantContainer")
    accepted = "Accepted: the records are written; the work goes on in the background"
    return {
        "/clusters": {
            "post": {
                "operationId": "createCluster",
                "tags": ["clusters"],
                "summary": "Create a cluster (answers as soon as the records exist)",
                "requestBody": _body("CreateClusterRequest"),
                "responses": {
                    **_ok(202, f"{accepted}; status is pending", container),
                    **_errors(*_AUTHENTICATED, 400, 409),
                },
            },
            "delete": {
                "operationId": "deleteClusterByKey",
                "tags": ["clusters"],
                "summary": "Delete a cluster by organisation, user and service name",
                "description": "The three may also come as a JSON object body when the query "
                "string is empty. The records stay, marked deleted; deleting a deleted "
                "cluster answers it as it is.",
                "parameters": [
                    _query(
                        "tenant_org_id",
                        {"type": "string", "minLength": 1},
                        "Organisation",
                        required=True,
                    ),
                    _query("user", {"type": "string", "minLength": 1}, "User id", required=True),
                    _query(
                        "service_name",
                        {"type": "string", "minLength": 1},
                        "Service name",
                        required=True,
                    ),
                ],
                "responses": {
                    **_ok(202, accepted, container),
                    **_errors(*_AUTHENTICATED, 400, 404),
                },
            },
        },
        "/clusters/{namespace}": {
            "parameters": [_NAMESPACE],
            "patch": {
                "operationId": "updateCluster",
                "tags": ["clusters"],
                "summary": "Change replicas, cpu/memory requests and limits, disk (grow only), "
                "gpu count or index limit",
                "requestBody": _body("UpdateClusterRequest", required=False),
                "responses": {
                    **_ok(202, accepted, container),
                    **_errors(*_AUTHENTICATED, 400, 404, 409),
                },
            },
            "delete": {
                "operationId": "deleteCluster",
                "tags": ["clusters"],
                "summary": "Delete a cluster by namespace (the records stay, marked deleted)",
                "responses": {
                    **_ok(202, accepted, container),
                    **_errors(*_AUTHENTICATED, 404),
                },
            },
        },
        "/tenant/containers": {
            "get": {
                "operationId": "listContainers",
                "tags": ["containers"],
                "summary": "Every tenant container visible to the token",
                "parameters": [_INCLUDE_DELETED],
                "responses": {
                    **_ok(200, "The containers", _list_of("TenantContainer")),
                    **_errors(*_AUTHENTICATED, 400),
                },
            }
        },
        "/tenant/containers/org/{tenant_org_id}": {
            "get": {
                "operationId": "listOrgContainers",
                "tags": ["containers"],
                "summary": "One organisation's tenant containers",
                "parameters": [
                    _path(
                        "tenant_org_id",
                        {
                            "type": "string",
                            "minLength": 1,
                            "description": "Organisation (one with no clusters, or no valid "
                            "name, lists none)",
                        },
                    ),
                    _INCLUDE_DELETED,
                ],
                "responses": {
                    **_ok(200, "The containers", _list_of("TenantContainer")),
                    **_errors(*_AUTHENTICATED, 400),
                },
            }
        },
        "/tenant/containers/{user}/{service_name}": {
            "get": {
                "operationId": "getContainer",
                "tags": ["containers"],
                "summary": "One tenant container",
                "description": "The live one, else (with include_deleted) the newest deleted "
                'one. For a user named "org" the path is taken by the organisation listing.',
                "parameters": [_USER, _SERVICE, _ORG_FILTER, _INCLUDE_DELETED],
                "responses": {
                    **_ok(200, "The container", container),
                    **_errors(*_AUTHENTICATED, 400, 404, 409),
                },
            }
        },
        "/tenant/containers/{user}/{service_name}/events": {
            "get": {
                "operationId": "listContainerEvents",
                "tags": ["containers"],
                "summary": "Every status change of one cluster, oldest first",
                "parameters": [_USER, _SERVICE, _ORG_FILTER, _INCLUDE_DELETED],
                "responses": {
                    **_ok(200, "The events", _list_of("ClusterEvent")),
                    **_errors(*_AUTHENTICATED, 400, 404, 409),
                },
            }
        },
        "/deployments/{namespace}": {
            "get": {
                "operationId": "getDeployment",
                "tags": ["deployments"],
                "summary": "A cluster's DeploymentStatus",
                "parameters": [_NAMESPACE],
                "responses": {
                    **_ok(200, "The deployment", _ref("DeploymentStatus")),
                    **_errors(*_AUTHENTICATED, 404),
                },
            }
        },
        "/deployments/{namespace}/report": {
            "post": {
                "operationId": "reportDeploymentUsage",
                "tags": ["deployments"],
                "summary": "Report a running cluster's usage",
                "description": "Authenticated by the deployment's own report token or an "
                "admin token. Samples are kept for ESS_USAGE_RETENTION_HOURS.",
                "parameters": [_NAMESPACE],
                "requestBody": _body("UsageReport"),
                "responses": {
                    **_ok(200, "The deployment with the reported usage", _ref("DeploymentStatus")),
                    **_errors(*_AUTHENTICATED, 400, 404, 409),
                },
            }
        },
        "/api-keys": {
            "post": {
                "operationId": "createApiKey",
                "tags": ["api-keys"],
                "summary": "Issue an organisation API key (admin only); the secret is shown once",
                "requestBody": _body("CreateApiKeyRequest"),
                "responses": {
                    **_ok(201, "The key with its secret", _ref("ApiKeyCreated")),
                    **_errors(*_AUTHENTICATED, 400),
                },
            },
            "get": {
                "operationId": "listApiKeys",
                "tags": ["api-keys"],
                "summary": "API keys, without secrets (admin only)",
                "parameters": [
                    _query("tenant_org_id", {"type": "string"}, "Only this organisation's keys")
                ],
                "responses": {
                    **_ok(200, "The keys", _list_of("ApiKey")),
                    **_errors(*_AUTHENTICATED),
                },
            },
        },
        "/api-keys/{id}": {
            "delete": {
                "operationId": "revokeApiKey",
                "tags": ["api-keys"],
                "summary": "Revoke an API key (admin only; revoking twice is not an error)",
                "parameters": [_path("id", {"type": "string", "minLength": 1})],
                "responses": {
                    **_ok(200, "The revoked key", _ref("ApiKey")),
                    **_errors(*_AUTHENTICATED, 404),
                },
            }
        },
        "/audit": {
            "get": {
                "operationId": "listAudit",
                "tags": ["audit"],
                "summary": "The audit log, newest first (admin only)",
                "parameters": [
                    _query("tenant_org_id", {"type": "string"}, "Only this organisation's entries"),
                    _query(
                        "limit",
                        {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_AUDIT_LIMIT,
                            "default": 100,
                        },
                        "At most this many entries",
                    ),
                ],
                "responses": {
                    **_ok(200, "The entries", _list_of("AuditEntry")),
                    **_errors(*_AUTHENTICATED, 400),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "tags": ["meta"],
                "summary": "This document",
                "security": [],
                "responses": {
                    **_ok(200, "The OpenAPI 3.1 document", {"type": "object"}),
                    **_errors(*_ANY),
                },
            }
        },
    }


def build_document() -> dict[str, Any]:
    """The whole OpenAPI document (a fresh dict on each call)."""
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": TITLE,
            "version": _version(),
            "description": "The REST-compatible shim of the ES Serverless control plane: "
            "one Elasticsearch cluster per organisation, user and service on Kubernetes. "
            'Every error is {"error": "..."}. The full API (with subscriptions) is '
            "GraphQL at /graphql.",
        },
        "tags": [
            {"name": "clusters", "description": "Create, change and delete clusters"},
            {"name": "containers", "description": "TenantContainer records"},
            {"name": "deployments", "description": "DeploymentStatus records and usage"},
            {"name": "api-keys", "description": "Organisation API keys"},
            {"name": "audit", "description": "The audit log"},
            {"name": "meta", "description": "This description"},
        ],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The admin token, an organisation API key, or (for usage "
                    "reports only) a deployment's report token",
                }
            },
            "schemas": _schemas(),
            "responses": {
                f"Error{code}": {
                    "description": meaning,
                    **({"headers": _ERROR_HEADERS[code]} if code in _ERROR_HEADERS else {}),
                    "content": {JSON: {"schema": _ref("Error")}},
                }
                for code, meaning in _ERROR_MEANINGS.items()
            },
        },
    }


DOCUMENT = build_document()


async def openapi_json(_: Request) -> Response:
    return JSONResponse(DOCUMENT)


routes = [Route("/openapi.json", openapi_json, methods=["GET"])]
