"""The OpenAPI 3.1 description of the REST shim, served at ``GET /openapi.json``:
generated, not written. Request bodies are described by pydantic's JSON Schema of the
models that validate them (app.models, app.tenancy), answers by the models that shape
them (app.api.payloads); the operations are the table below, which a test holds
against the routes the shim serves.

Answers are closed objects (``additionalProperties: false``); the keys ``error`` and
``deleted_at`` are optional because they appear only when set.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from pydantic_core import CoreSchema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.access.audit import DEFAULT_LIMIT as DEFAULT_AUDIT_LIMIT
from app.access.audit import MAX_LIMIT as MAX_AUDIT_LIMIT
from app.access.keys import ApiKeyRequest
from app.api import bill_payloads, payloads
from app.api.health import Liveness, Readiness
from app.api.rest import FLAG_VALUES
from app.api.rest_billing import FORMATS
from app.api.rest_listings import DIRECTIONS
from app.models.billing import PriceChange
from app.models.cluster import ClusterCreate, ClusterUpdate
from app.models.fields import OPTIONAL_NAME_SCHEMA, Namespace, TenantName
from app.models.quota import QuotaLevel, QuotaLimits
from app.models.sizing import Quantization, SizingRequest, VectorSizing
from app.models.usage import UsageReport
from app.tenancy.container_filters import ORDER_NAMES, STATUSES
from app.tenancy.paging import MAX_PAGE

__all__ = ["DOCUMENT", "OPERATIONS", "build_document", "openapi_json", "routes"]

Schema = dict[str, Any]

TITLE = "ES Serverless control plane"
# Every REST answer is JSON.
JSON = "application/json"
REF = "#/components/schemas/{model}"


class Error(BaseModel):
    """Every error, with any 4xx status"""

    model_config = ConfigDict(extra="forbid")

    error: str = Field(min_length=1)


class _Schemas(GenerateJsonSchema):
    """pydantic's JSON Schema without the titles it makes up from field names."""

    def field_title_should_be_set(self, schema: CoreSchema) -> bool:
        return False


def _of(annotation: Any) -> Schema:
    """The JSON Schema of a field type of the models (a parameter's)."""
    return TypeAdapter(annotation).json_schema(schema_generator=_Schemas)


def _flag_pattern() -> str:
    """The flag values in any letter case: ``true`` as ``[Tt][Rr][Uu][Ee]``."""
    spelt = ("".join(f"[{c.upper()}{c}]" if c.isalpha() else c for c in v) for v in FLAG_VALUES)
    return f"^({'|'.join(spelt)})$"


@dataclass(frozen=True, kw_only=True)
class Parameter:
    name: str
    where: Literal["path", "query"]
    schema: Schema
    description: str = ""
    required: bool = False

    def described(self) -> Schema:
        parameter: Schema = {"name": self.name, "in": self.where}
        parameter["required"] = self.required or self.where == "path"
        if self.description:
            parameter["description"] = self.description
        return {**parameter, "schema": self.schema}


def _moment(name: str, description: str) -> Parameter:
    """A query parameter holding an RFC 3339 moment."""
    return Parameter(
        name=name,
        where="query",
        schema={"type": "string", "format": "date-time"},
        description=description,
    )


@dataclass(frozen=True, kw_only=True)
class Operation:
    method: str
    path: str
    operation_id: str
    tag: str
    summary: str
    answer: type[BaseModel] | None  # None: any JSON object
    answer_description: str
    status: int = 200
    many: bool = False  # the answer is a list of ``answer``
    errors: tuple[int, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    body: type[BaseModel] | None = None
    body_required: bool = True
    description: str | None = None
    public: bool = False
    # Other media types the answer may come in (a bill as CSV), with their schemas.
    other_content: tuple[tuple[str, Schema], ...] = ()
    # The answer's media type when it is text rather than JSON (the metrics).
    text_answer: str | None = None
    # Headers of the answer (name, description), e.g. a page's Link.
    answer_headers: tuple[tuple[str, str], ...] = ()


_INCLUDE_DELETED = Parameter(
    name="include_deleted",
    where="query",
    schema={"type": "string", "pattern": _flag_pattern(), "default": "false"},
    description="Also list deleted clusters: true/false (or 1/0, any letter case)",
)
_ORG_FILTER = Parameter(
    name="tenant_org_id",
    where="query",
    schema={"type": "string", **OPTIONAL_NAME_SCHEMA},
    description="The organisation, when the user/service pair exists in several (empty: any)",
)


def _only_org(what: str) -> Parameter:
    """The optional organisation filter of the admin's listings."""
    return Parameter(
        name="tenant_org_id",
        where="query",
        schema={"type": "string"},
        description=f"Only this organisation's {what}",
    )


_LISTING = (
    "Without limit and cursor, the whole list (oldest first unless order/direction say "
    f"otherwise). With either, a page of at most limit (default and most {MAX_PAGE}); when "
    'another page follows, its URL is in Link (rel="next") and its cursor in X-Next-Cursor.'
)
_CURSOR = Parameter(
    name="cursor",
    where="query",
    schema={"type": "string"},
    description="Where the page starts: the X-Next-Cursor of the page before (same order)",
)
_PAGE_PARAMETERS = (
    Parameter(
        name="limit",
        where="query",
        schema={"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
        description=f"A page of at most this many (1 to {MAX_PAGE})",
    ),
    _CURSOR,
)
_PAGED = (
    "Without limit and cursor, the whole list, oldest first. With either, a page of at "
    f"most limit (default and most {MAX_PAGE}); when another page follows, its URL is in "
    'Link (rel="next") and its cursor in X-Next-Cursor.'
)
_LISTING_PARAMETERS = (
    *_PAGE_PARAMETERS,
    Parameter(
        name="status",
        where="query",
        schema={"type": "array", "items": {"type": "string", "enum": list(STATUSES)}},
        description="Only these statuses (repeat the parameter for several)",
    ),
    Parameter(
        name="user", where="query", schema={"type": "string"}, description="Only this user's"
    ),
    Parameter(
        name="service_prefix",
        where="query",
        schema={"type": "string"},
        description="Only service names starting with this",
    ),
    _moment("created_after", "Created at or after this moment (RFC 3339 with a time zone)"),
    _moment("created_before", "Created before this moment (RFC 3339 with a time zone)"),
    Parameter(
        name="has_gpu",
        where="query",
        schema={"type": "string", "pattern": _flag_pattern()},
        description="true: only clusters with GPUs (gpu_count > 0); false: only without",
    ),
    Parameter(
        name="order",
        where="query",
        schema={"type": "string", "enum": list(ORDER_NAMES), "default": "created"},
        description="created (creation time) or name (service name, then user)",
    ),
    Parameter(
        name="direction",
        where="query",
        schema={"type": "string", "enum": list(DIRECTIONS), "default": "asc"},
        description="asc or desc",
    ),
)
_PAGE_HEADERS = (
    ("Link", 'The next page\'s URL, rel="next" (RFC 8288), when one follows'),
    ("X-Next-Cursor", "The next page's cursor, when one follows"),
)


_NAMESPACE = Parameter(
    name="namespace", where="path", schema=_of(Namespace), description="The cluster's namespace"
)
_USER = Parameter(name="user", where="path", schema=_of(TenantName), description="User id")
_SERVICE = Parameter(
    name="service_name", where="path", schema=_of(TenantName), description="Service name"
)
_QUANTIZATION = Parameter(
    name="quantization",
    where="query",
    schema={"type": "string", "enum": ["", *(q.value for q in Quantization)]},
    description="Size for this dense_vector index_options type (empty: the one "
    "Elasticsearch 9.1 gives a new field of the cluster's dimension)",
)
_ANY_TEXT: Schema = {"type": "string", "minLength": 1}
_QUOTA_ORG = Parameter(
    name="tenant_org_id", where="path", schema=_of(TenantName), description="Organisation"
)
_QUOTA_SUBJECTS = (
    (
        QuotaLevel.ORGANIZATION,
        "/tenant/quota/org/{tenant_org_id}",
        "an organisation",
        (_QUOTA_ORG,),
    ),
    (
        QuotaLevel.USER,
        "/tenant/quota/org/{tenant_org_id}/user/{user}",
        "a user of an organisation",
        (_QUOTA_ORG, _USER),
    ),
    (
        QuotaLevel.SERVICE,
        "/tenant/quota/org/{tenant_org_id}/service/{user}/{service_name}",
        "one service",
        (_QUOTA_ORG, _USER, _SERVICE),
    ),
)
_QUOTA_METHODS = (
    (
        "get",
        "get",
        "The quota and current usage of",
        "Readable with the organisation's keys (a user's key: its own user's and services'). "
        "Without a quota of its own, the operator's default (no limit unless configured).",
    ),
    (
        "put",
        "set",
        "Set (replace) the quota of",
        "Admin only. Limits left out or null are no limit; a limit below what is held "
        "blocks only growth. The body may also be the whole document GET answers.",
    ),
    (
        "delete",
        "remove",
        "Remove the quota of",
        "Admin only. The operator's default applies again.",
    ),
)
# Any request: a body over the size limit (413) or over the caller's rate (429).
_ANY = (413, 429)
# Any request that needs a token: none or an invalid one (401), or one that may not do
# this (403: an organisation key outside its organisation or user, a report token
# anywhere but its own report, a non-admin on admin endpoints).
_AUTHENTICATED = (401, 403, *_ANY)
_ACCEPTED = "Accepted: the records are written; the work goes on in the background"

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        method="post",
        path="/clusters",
        operation_id="createCluster",
        tag="clusters",
        summary="Create a cluster (answers as soon as the records exist)",
        body=ClusterCreate,
        status=202,
        answer=payloads.TenantContainer,
        answer_description=f"{_ACCEPTED}; status is pending",
        errors=(*_AUTHENTICATED, 400, 409),
    ),
    Operation(
        method="delete",
        path="/clusters",
        operation_id="deleteClusterByKey",
        tag="clusters",
        summary="Delete a cluster by organisation, user and service name",
        description="The three may also come as a JSON object body when the query string "
        "is empty. The records stay, marked deleted; deleting a deleted cluster answers it "
        "as it is.",
        parameters=(
            Parameter(
                name="tenant_org_id",
                where="query",
                schema=_ANY_TEXT,
                description="Organisation",
                required=True,
            ),
            Parameter(
                name="user", where="query", schema=_ANY_TEXT, description="User id", required=True
            ),
            Parameter(
                name="service_name",
                where="query",
                schema=_ANY_TEXT,
                description="Service name",
                required=True,
            ),
        ),
        status=202,
        answer=payloads.TenantContainer,
        answer_description=_ACCEPTED,
        errors=(*_AUTHENTICATED, 400, 404),
    ),
    Operation(
        method="patch",
        path="/clusters/{namespace}",
        operation_id="updateCluster",
        tag="clusters",
        summary="Change replicas, cpu/memory requests and limits, disk (grow only), gpu "
        "count or index limit; or upgrade the version",
        description="A new version is an upgrade (status upgrading): one of the cluster's "
        "upgrades (GET /clusters/{namespace}/versions), from created, alone in its update. "
        "Its pods restart on the new image one at a time, highest ordinal first; the "
        "DeploymentStatus shows the progress (upgrade) and every pod is an event.",
        parameters=(_NAMESPACE,),
        body=ClusterUpdate,
        body_required=False,
        status=202,
        answer=payloads.TenantContainer,
        answer_description=_ACCEPTED,
        errors=(*_AUTHENTICATED, 400, 404, 409),
    ),
    Operation(
        method="delete",
        path="/clusters/{namespace}",
        operation_id="deleteCluster",
        tag="clusters",
        summary="Delete a cluster by namespace (the records stay, marked deleted)",
        parameters=(_NAMESPACE,),
        status=202,
        answer=payloads.TenantContainer,
        answer_description=_ACCEPTED,
        errors=(*_AUTHENTICATED, 404),
    ),
    Operation(
        method="get",
        path="/clusters/{namespace}/versions",
        operation_id="clusterVersions",
        tag="clusters",
        summary="The Elasticsearch versions a cluster may be upgraded to",
        parameters=(_NAMESPACE,),
        answer=payloads.ClusterUpgrades,
        answer_description="Its version and its upgrades",
        errors=(*_AUTHENTICATED, 404),
    ),
    Operation(
        method="get",
        path="/versions",
        operation_id="listVersions",
        tag="clusters",
        summary="The Elasticsearch versions a cluster may be created with",
        answer=payloads.VersionList,
        answer_description="The versions offered and the default",
        errors=_AUTHENTICATED,
    ),
    Operation(
        method="get",
        path="/clusters/{namespace}/connection",
        operation_id="getClusterConnection",
        tag="clusters",
        summary="Where and as whom to reach the cluster's Elasticsearch (HTTPS), with the "
        "CA certificate that verifies it",
        description="Readable only with an API key of the cluster's organisation "
        "(the platform admin: 403). ca_certificate is null while the cluster's "
        "certificates cannot be read (not made yet, or Kubernetes not answering).",
        parameters=(_NAMESPACE,),
        answer=payloads.ClusterConnection,
        answer_description="The connection details",
        errors=(*_AUTHENTICATED, 404),
    ),
    Operation(
        method="post",
        path="/clusters/{namespace}/credentials/reset",
        operation_id="resetClusterCredentials",
        tag="clusters",
        summary="Give the cluster's elastic user a new password and roll it out",
        description="The credentials Secret is re-applied with the new password and the "
        "pods are rolled onto it (status updating, then created); the connection details "
        "show the new password at once. Allowed when an update is (409 otherwise, also "
        "for a deleting or deleted cluster).",
        parameters=(_NAMESPACE,),
        status=202,
        answer=payloads.TenantContainer,
        answer_description=_ACCEPTED,
        errors=(*_AUTHENTICATED, 404, 409),
    ),
    Operation(
        method="get",
        path="/tenant/containers",
        operation_id="listContainers",
        tag="containers",
        summary="Every tenant container visible to the token",
        description=_LISTING,
        parameters=(_INCLUDE_DELETED, *_LISTING_PARAMETERS),
        answer=payloads.TenantContainer,
        many=True,
        answer_description="The containers (a page of them with limit or cursor)",
        answer_headers=_PAGE_HEADERS,
        errors=(*_AUTHENTICATED, 400),
    ),
    Operation(
        method="get",
        path="/tenant/containers/org/{tenant_org_id}",
        operation_id="listOrgContainers",
        tag="containers",
        summary="One organisation's tenant containers",
        parameters=(
            Parameter(
                name="tenant_org_id",
                where="path",
                schema=_ANY_TEXT,
                description="Organisation (one with no clusters, or no valid name, lists none)",
            ),
            _INCLUDE_DELETED,
            *_LISTING_PARAMETERS,
        ),
        description=_LISTING,
        answer=payloads.TenantContainer,
        many=True,
        answer_description="The containers (a page of them with limit or cursor)",
        answer_headers=_PAGE_HEADERS,
        errors=(*_AUTHENTICATED, 400),
    ),
    Operation(
        method="get",
        path="/tenant/containers/{user}/{service_name}",
        operation_id="getContainer",
        tag="containers",
        summary="One tenant container",
        description="The live one, else (with include_deleted) the newest deleted one. For a "
        'user named "org" the path is taken by the organisation listing.',
        parameters=(_USER, _SERVICE, _ORG_FILTER, _INCLUDE_DELETED),
        answer=payloads.TenantContainer,
        answer_description="The container",
        errors=(*_AUTHENTICATED, 400, 404, 409),
    ),
    Operation(
        method="get",
        path="/tenant/containers/{user}/{service_name}/events",
        operation_id="listContainerEvents",
        tag="containers",
        summary="Every status change of one cluster, oldest first",
        description=_PAGED,
        parameters=(_USER, _SERVICE, _ORG_FILTER, _INCLUDE_DELETED, *_PAGE_PARAMETERS),
        answer=payloads.ClusterEvent,
        many=True,
        answer_description="The events (a page of them with limit or cursor)",
        answer_headers=_PAGE_HEADERS,
        errors=(*_AUTHENTICATED, 400, 404, 409),
    ),
    Operation(
        method="get",
        path="/tenant/containers/{user}/{service_name}/sizing",
        operation_id="getContainerSizing",
        tag="sizing",
        summary="Whether one cluster's nodes can hold its vectors off the JVM heap",
        parameters=(_USER, _SERVICE, _ORG_FILTER, _INCLUDE_DELETED, _QUANTIZATION),
        answer=VectorSizing,
        answer_description="The sizing",
        errors=(*_AUTHENTICATED, 400, 404, 409),
    ),
    Operation(
        method="post",
        path="/sizing",
        operation_id="planSizing",
        tag="sizing",
        summary="Size a planned cluster before creating it (a dry run: nothing is recorded)",
        body=SizingRequest,
        body_required=False,
        answer=VectorSizing,
        answer_description="The sizing",
        errors=(*_AUTHENTICATED, 400),
    ),
    Operation(
        method="get",
        path="/deployments/{namespace}",
        operation_id="getDeployment",
        tag="deployments",
        summary="A cluster's DeploymentStatus",
        parameters=(_NAMESPACE,),
        answer=payloads.DeploymentStatus,
        answer_description="The deployment",
        errors=(*_AUTHENTICATED, 404),
    ),
    Operation(
        method="post",
        path="/deployments/{namespace}/report",
        operation_id="reportDeploymentUsage",
        tag="deployments",
        summary="Report a running cluster's usage",
        description="Authenticated by the deployment's own report token or an admin token. "
        "Samples are kept for ESS_USAGE_RETENTION_HOURS.",
        parameters=(_NAMESPACE,),
        body=UsageReport,
        answer=payloads.DeploymentStatus,
        answer_description="The deployment with the reported usage",
        errors=(*_AUTHENTICATED, 400, 404, 409),
    ),
    Operation(
        method="post",
        path="/api-keys",
        operation_id="createApiKey",
        tag="api-keys",
        summary="Issue an organisation API key (admin only); the secret is shown once",
        body=ApiKeyRequest,
        status=201,
        answer=payloads.ApiKeyCreated,
        answer_description="The key with its secret",
        errors=(*_AUTHENTICATED, 400),
    ),
    Operation(
        method="get",
        path="/api-keys",
        operation_id="listApiKeys",
        tag="api-keys",
        summary="API keys, without secrets (admin only), oldest first",
        description=_PAGED,
        parameters=(_only_org("keys"), *_PAGE_PARAMETERS),
        answer=payloads.ApiKey,
        many=True,
        answer_description="The keys (a page of them with limit or cursor)",
        answer_headers=_PAGE_HEADERS,
        errors=(*_AUTHENTICATED, 400),
    ),
    Operation(
        method="delete",
        path="/api-keys/{id}",
        operation_id="revokeApiKey",
        tag="api-keys",
        summary="Revoke an API key (admin only; revoking twice is not an error)",
        parameters=(Parameter(name="id", where="path", schema=_ANY_TEXT),),
        answer=payloads.ApiKey,
        answer_description="The revoked key",
        errors=(*_AUTHENTICATED, 404),
    ),
    Operation(
        method="get",
        path="/audit",
        operation_id="listAudit",
        tag="audit",
        summary="The audit log, newest first (admin only)",
        parameters=(
            _only_org("entries"),
            Parameter(
                name="limit",
                where="query",
                schema={
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_AUDIT_LIMIT,
                    "default": DEFAULT_AUDIT_LIMIT,
                },
                description=f"At most this many entries (1 to {MAX_AUDIT_LIMIT}): the newest, "
                "or with cursor the next older ones",
            ),
            _CURSOR,
        ),
        description="Always a page: the newest limit entries (100 by default), or with "
        "cursor those older than the page before. When older entries remain, the next "
        'page\'s URL is in Link (rel="next") and its cursor in X-Next-Cursor.',
        answer=payloads.AuditEntry,
        many=True,
        answer_description="The entries",
        answer_headers=_PAGE_HEADERS,
        errors=(*_AUTHENTICATED, 400),
    ),
    *(
        Operation(
            method=method,
            path=path,
            operation_id=f"{verb}{level.title()}Quota",
            tag="quotas",
            summary=f"{summary} {subject}",
            description=description,
            parameters=parameters,
            body=QuotaLimits if method == "put" else None,
            answer=payloads.QUOTA_DOCUMENTS[level],
            answer_description=f"The quota of {subject} and what is held against it",
            errors=(*_AUTHENTICATED, 400, 404),
        )
        for level, path, subject, parameters in _QUOTA_SUBJECTS
        for method, verb, summary, description in _QUOTA_METHODS
    ),
    Operation(
        method="get",
        path="/billing/org/{tenant_org_id}",
        operation_id="getOrgBill",
        tag="billing",
        summary="An organisation's bill for a calendar month or from/to (the current "
        "month by default)",
        description="Billed: what each cluster's record reserves (replicas x cpu_limit, "
        "mem_limit, disk_size, gpu_count) from its recorded create to its recorded delete, "
        "cut at the period's boundaries and at price changes. Money and resource-hours are "
        "decimal strings; each line's cost is rounded half to even to the currency's minor "
        "unit and the total is the sum of the lines. A user-bound key's bill has only its "
        "user's lines. format=csv: text/csv, a header row (container_id, user, "
        "service_name, namespace, cpu_core_hours, memory_gib_hours, disk_gib_hours, "
        "gpu_hours, cost, currency), a row per line, a last row total.",
        parameters=(
            Parameter(
                name="tenant_org_id", where="path", schema=_ANY_TEXT, description="Organisation"
            ),
            Parameter(
                name="period",
                where="query",
                schema={"type": "string", "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])$"},
                description="A calendar month, YYYY-MM (not with from/to)",
            ),
            _moment("from", "Start, RFC 3339 with a time zone (with to; at most a year)"),
            _moment("to", "End (exclusive), RFC 3339 with a time zone (with from)"),
            Parameter(
                name="format",
                where="query",
                schema={"type": "string", "enum": list(FORMATS), "default": "json"},
                description="json, or csv for finance",
            ),
        ),
        answer=bill_payloads.BillShape,
        other_content=(("text/csv", {"type": "string"}),),
        answer_description="The bill",
        errors=(*_AUTHENTICATED, 400, 404),
    ),
    Operation(
        method="get",
        path="/billing/prices",
        operation_id="listPrices",
        tag="billing",
        summary="The price table, oldest first: the settings' prices, then each recorded one",
        answer=bill_payloads.PriceListShape,
        many=True,
        answer_description="The price lists",
        errors=_AUTHENTICATED,
    ),
    Operation(
        method="post",
        path="/billing/prices",
        operation_id="setPrices",
        tag="billing",
        summary="Record a price list from a moment on, never in the past (admin only)",
        description="Prices left out keep those in force at effective_from; a moment that "
        "already has a price list is 409.",
        body=PriceChange,
        status=201,
        answer=bill_payloads.PriceListShape,
        answer_description="The recorded price list",
        errors=(*_AUTHENTICATED, 400, 409),
    ),
    Operation(
        method="get",
        path="/healthz",
        operation_id="getLiveness",
        tag="meta",
        summary="Whether the process answers",
        public=True,
        answer=Liveness,
        answer_description="Alive",
        errors=_ANY,
    ),
    Operation(
        method="get",
        path="/readyz",
        operation_id="getReadiness",
        tag="meta",
        summary="Whether the server can work (database and Kubernetes API answer), and "
        "which kind of Kubernetes it drives",
        description="503 with the same object (status unavailable, and its problems) "
        "while the database or the Kubernetes API does not answer.",
        public=True,
        answer=Readiness,
        answer_description="Ready",
        errors=_ANY,
    ),
    Operation(
        method="get",
        path="/metrics",
        operation_id="getMetrics",
        tag="meta",
        summary="Prometheus metrics of this server process (admin only)",
        description="Request latency, provisioning work and its outcome, Kubernetes API "
        "errors, clusters by status and the work queue's depth, in Prometheus' text format.",
        answer=None,
        text_answer="text/plain",
        answer_description="The metrics",
        errors=_AUTHENTICATED,
    ),
    Operation(
        method="get",
        path="/openapi.json",
        operation_id="getOpenApi",
        tag="meta",
        summary="This document",
        public=True,
        answer=None,
        answer_description="The OpenAPI 3.1 document",
        errors=_ANY,
    ),
)

_TAGS = {
    "clusters": "Create, change and delete clusters",
    "containers": "TenantContainer records",
    "sizing": "Vector-memory sizing: whether a cluster's nodes hold its vectors",
    "deployments": "DeploymentStatus records and usage",
    "api-keys": "Organisation API keys",
    "audit": "The audit log",
    "quotas": "Quotas of organisations, users and services (spec section 9)",
    "billing": "Bills and prices",
    "meta": "This description and the readiness probe",
}
_ERROR_MEANINGS = {
    400: "Bad input: a missing or invalid field, parameter or body",
    401: "No valid bearer token",
    403: "The token may not do this (or a quota would be exceeded)",
    404: "No such cluster, deployment, key, quota or organisation (or not visible to this token)",
    409: "A conflict: duplicate tenant, namespace taken, a user/service pair that exists "
    "in several organisations without tenant_org_id, or an operation the cluster's status "
    "does not allow",
    413: "The request body is too large",
    415: "The request body's Content-Type is not application/json",
    429: "Too many requests; slow down",
}
_ERROR_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with",
            "schema": {"type": "string", "pattern": "^Bearer "},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds until the next request is let through",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def _version() -> str:
    try:
        return metadata.version("es-serverless")
    except metadata.PackageNotFoundError:
        return "0.0.0+unknown"


References = dict[tuple[Any, JsonSchemaMode], Schema]


def _component_schemas() -> tuple[References, Schema]:
    """The JSON Schema of every body (as validated) and answer (as sent): a reference
    per model, and the definitions they refer to."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Error, "serialization")]
    models += [(shape, "serialization") for shape in payloads.SHAPES]
    models += [(op.body, "validation") for op in OPERATIONS if op.body is not None]
    answers = {op.answer for op in OPERATIONS if op.answer is not None} - set(payloads.SHAPES)
    models += [(answer, "serialization") for answer in sorted(answers, key=lambda m: m.__name__)]
    references, definitions = models_json_schema(
        models, ref_template=REF, schema_generator=_Schemas
    )
    schemas: Schema = definitions.get("$defs", {})
    return dict(references), schemas


def _paths(references: References) -> Schema:
    paths: Schema = {}
    for op in OPERATIONS:
        if op.answer is None:
            answer: Schema = {"type": "object"}
        else:
            answer = references[(op.answer, "serialization")]
        if op.many:
            answer = {"type": "array", "items": answer}
        responses: Schema = {
            str(op.status): {
                "description": op.answer_description,
                **(
                    {
                        "headers": {
                            name: {"description": text, "schema": {"type": "string"}}
                            for name, text in op.answer_headers
                        }
                    }
                    if op.answer_headers
                    else {}
                ),
                "content": (
                    {op.text_answer: {"schema": {"type": "string"}}}
                    if op.text_answer
                    else {
                        JSON: {"schema": answer},
                        **{media: {"schema": schema} for media, schema in op.other_content},
                    }
                ),
            }
        }
        # A body of another Content-Type than JSON is refused (415) wherever a body is read.
        codes = {*op.errors, 415} if op.body is not None else set(op.errors)
        for code in sorted(codes):
            responses[str(code)] = {"$ref": f"#/components/responses/Error{code}"}
        operation: Schema = {
            "operationId": op.operation_id,
            "tags": [op.tag],
            "summary": op.summary,
        }
        if op.description:
            operation["description"] = op.description
        if op.public:
            operation["security"] = []
        if op.parameters:
            operation["parameters"] = [parameter.described() for parameter in op.parameters]
        if op.body is not None:
            schema = references[(op.body, "validation")]
            operation["requestBody"] = {
                "required": op.body_required,
                "content": {JSON: {"schema": schema}},
            }
        operation["responses"] = responses
        paths.setdefault(op.path, {})[op.method] = operation
    return paths


def build_document() -> dict[str, Any]:
    """The whole OpenAPI document (a fresh dict on each call)."""
    references, definitions = _component_schemas()
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
        "tags": [{"name": name, "description": text} for name, text in _TAGS.items()],
        "security": [{"bearer": []}],
        "paths": _paths(references),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The admin token, an organisation API key, or (for usage "
                    "reports only) a deployment's report token",
                }
            },
            "schemas": definitions,
            "responses": {
                f"Error{code}": {
                    "description": meaning,
                    **({"headers": _ERROR_HEADERS[code]} if code in _ERROR_HEADERS else {}),
                    "content": {JSON: {"schema": references[(Error, "serialization")]}},
                }
                for code, meaning in _ERROR_MEANINGS.items()
            },
        },
    }


DOCUMENT = build_document()


async def openapi_json(_: Request) -> Response:
    return JSONResponse(DOCUMENT)


routes = [Route("/openapi.json", openapi_json, methods=["GET"])]
