"""The REST shim's JSON shapes: exactly the specification's TenantContainer and
DeploymentStatus objects (plus ``error`` and ``deleted_at`` when set), and the event,
usage, API-key and audit objects.

Each shape is a pydantic model whose keys are the contract, in the contract's order;
their types, rules and descriptions come from the model family (app.models) or the
table they are read from, so the OpenAPI document (app.api.openapi) describes exactly
what is sent. A row is never sent as it is: it is projected onto its shape.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import operator
from collections.abc import Callable
from datetime import UTC, datetime
from types import UnionType
from typing import Annotated, Any, NamedTuple, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema, create_model
from pydantic import Field as PydanticField

from app.models.cluster import ClusterDetails
from app.models.quota import QuotaLevel, QuotaLimits
from app.models.readers import reader
from app.models.records import ClusterRecord, DeploymentRecord
from app.models.rules import typed
from app.models.versions import UpgradeProgress, VersionCatalog
from app.store.tables import ApiKeyRow, AuditEntryRow, ClusterEventRow, UsageSampleRow
from app.tenancy.connection import ConnectionDetails


def rfc3339(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC with a ``Z``, to the second, like the spec's examples.
    SQLite hands timestamps back without a zone; they were written in UTC."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        if moment.utcoffset():
            moment = moment.astimezone(UTC)
        moment = moment.replace(tzinfo=None)
    # isoformat, not strftime: a listing formats thousands, and strftime cost more
    # than the rest of a listed row.
    return moment.isoformat(timespec="seconds") + "Z"


TIMESTAMP_SCHEMA: dict[str, Any] = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
    "description": "RFC 3339, UTC, to the second",
}
Timestamp = Annotated[
    datetime,
    PlainSerializer(rfc3339, return_type=str),
    WithJsonSchema(TIMESTAMP_SCHEMA, mode="serialization"),
]


class Shape(BaseModel):
    """A REST object: closed (no other keys); the optional keys appear only when set."""

    model_config = ConfigDict(extra="forbid")


def _key(source: type[BaseModel], attribute: str, *, rules: bool) -> tuple[Any, str | None]:
    """The type and description of ``source``'s field (or computed field) ``attribute``,
    with the field's rules (``rules``) or without (a table's column widths are no rule
    of what it holds)."""
    if attribute in source.model_computed_fields:
        computed = source.model_computed_fields[attribute]
        return computed.return_type, computed.description
    field = source.model_fields[attribute]
    if field.annotation == datetime:
        return Timestamp, field.description
    if field.annotation == datetime | None:
        return Timestamp | None, field.description
    return typed(field) if rules else field.annotation, field.description


def _shape(
    name: str,
    source: type[BaseModel],
    keys: tuple[str, ...],
    *,
    doc: str,
    when_set: tuple[str, ...] = (),
    renamed: dict[str, str] | None = None,
    types: dict[str, Any] | None = None,
    rules: bool = True,
) -> type[Shape]:
    """A shape with ``keys`` in this order, each ``source``'s field of that name (or of
    the name ``renamed`` gives), then the ``when_set`` keys, left out unless set."""
    renamed, types = renamed or {}, types or {}
    definitions: dict[str, Any] = {}
    for key in (*keys, *when_set):
        attribute = renamed.get(key, key)
        annotation, description = _key(source, attribute, rules=rules)
        annotation = types.get(key, annotation)
        alias = key if attribute != key else None
        if key in when_set:
            definitions[attribute] = (
                annotation | None,
                PydanticField(
                    default=None,
                    description=f"{description}; present only then" if description else None,
                    exclude_if=lambda value: not value,
                    serialization_alias=alias,
                ),
            )
        else:
            definitions[attribute] = (
                annotation,
                PydanticField(description=description, serialization_alias=alias),
            )
    shape = create_model(name, __base__=Shape, __doc__=doc, **definitions)
    _sources[shape] = source
    return shape


def _sent(shape: type[Shape], row: object, **extra: Any) -> dict[str, Any]:
    """``row`` as ``shape`` sends it: what pydantic's ``model_dump(mode="json",
    by_alias=True)`` of the shape would give (a test holds the two together), built
    directly, since a listing of thousands of rows spent most of its time in pydantic
    (the row's values were checked when recorded). ``row`` is a table's row or a plain
    row of the same columns (``app.store.reads``): computed keys are computed from
    its columns either way."""
    sent: dict[str, Any] = {}
    for name, attribute, read, convert, when_set in _keys(shape):
        value = extra[attribute] if extra and attribute in extra else read(row)
        if value is None:
            if not when_set:
                sent[name] = None
        elif not when_set or value:
            sent[name] = value if convert is None else convert(value)
    return sent


@functools.cache
def _sender(shape: type[Shape]) -> Callable[[Any], dict[str, Any]]:
    """``_sent`` of one shape without extras, as a function generated once (the way
    ``dataclasses`` generates ``__init__``): one dict display reading each key straight
    from the row, then the keys sent only when set. A listing of thousands of rows is
    mostly this; the loop over ``_keys`` costs about three times as much per row."""
    keys = _keys(shape)
    when_set = [key for key in keys if key.when_set]
    if keys[len(keys) - len(when_set) :] != tuple(when_set) or not all(
        key.attribute.isidentifier() for key in keys
    ):
        return functools.partial(_sent, shape)  # not a shape _shape makes: the loop
    scope: dict[str, Any] = {}

    def value_of(index: int, key: _Key) -> str:
        scope[f"read{index}"], scope[f"convert{index}"] = key.read, key.convert
        read = f"row.{key.attribute}" if isinstance(key.read, operator.attrgetter) else None
        return read or f"read{index}(row)"

    lines = ["def send(row):", "    sent = {"]
    for index, key in enumerate(keys[: len(keys) - len(when_set)]):
        value = value_of(index, key)
        if key.convert is not None:
            value = f"convert{index}(value) if (value := {value}) is not None else None"
        lines.append(f"        {key.name!r}: {value},")
    lines.append("    }")
    for index, key in enumerate(keys[len(keys) - len(when_set) :], len(keys) - len(when_set)):
        lines.append(f"    value = {value_of(index, key)}")
        converted = "value" if key.convert is None else f"convert{index}(value)"
        lines.append(f"    if value:\n        sent[{key.name!r}] = {converted}")
    lines.append("    return sent")
    exec("\n".join(lines), scope)
    send: Callable[[Any], dict[str, Any]] = scope["send"]
    return send


class _Key(NamedTuple):
    """How one key of a shape is sent (a tuple: unpacked once per key of every row)."""

    name: str  # in the JSON
    attribute: str  # of the row
    read: Callable[[Any], Any]  # the value, from a row
    convert: Callable[[Any], Any] | None  # to its JSON value; None: as it is
    when_set: bool  # left out when empty


def _plain_type(annotation: Any) -> Any:
    """``datetime`` for ``Timestamp | None`` and the like."""
    if get_origin(annotation) is Annotated:
        return _plain_type(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        kept = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _plain_type(kept[0]) if len(kept) == 1 else annotation
    return annotation


def _converter(annotation: Any) -> Callable[[Any], Any] | None:
    plain = _plain_type(annotation)
    if plain is datetime:
        return rfc3339
    if isinstance(plain, type) and issubclass(plain, enum.Enum):
        # The plain attribute: ``.value`` is a descriptor, several times slower.
        return operator.attrgetter("_value_")
    if isinstance(plain, type) and issubclass(plain, BaseModel):
        # An object recorded as JSON: read back into its model and sent as it sends it.
        model = plain
        return lambda value: model.model_construct(**value).model_dump(mode="json")
    return None


# The model each shape's keys are read from.
_sources: dict[type[Shape], type[BaseModel]] = {}


@functools.cache
def _keys(shape: type[Shape]) -> tuple[_Key, ...]:
    source = _sources[shape]
    return tuple(
        _Key(
            name=field.serialization_alias or name,
            attribute=name,
            read=reader(source, name),
            convert=_converter(field.annotation),
            when_set=field.exclude_if is not None,
        )
        for name, field in shape.model_fields.items()
    )


TenantContainer = _shape(
    "TenantContainer",
    ClusterRecord,
    ("id", "tenant_org_id", "user", "service_name", "namespace", "replicas", "cpu", "memory",
     "disk", "gpu_count", "dimension", "vector_count", "status", "created_at", "sync_time",
     "version"),
    when_set=("error", "deleted_at"),
    doc="The specification's TenantContainer record (and the cluster's version)",
)  # fmt: skip
DeploymentStatus = _shape(
    "DeploymentStatus",
    DeploymentRecord,
    ("id", "tenant_org_id", "namespace", "user", "service_name", "status", "cpu_usage",
     "memory_usage", "disk_usage", "qps", "gpu_count", "dimension", "vector_count", "replicas",
     "created_at", "updated_at", "details", "version"),
    when_set=("error", "deleted_at", "upgrade"),
    types={"details": ClusterDetails, "upgrade": UpgradeProgress},
    doc="The specification's DeploymentStatus record (and the cluster's version, and an "
    "upgrade's progress while one is under way)",
)  # fmt: skip
ClusterEvent = _shape(
    "ClusterEvent",
    ClusterEventRow,
    ("at", "from", "to", "reason"),
    renamed={"from": "from_status", "to": "to_status"},
    rules=False,
    doc="One status change; from is null for the first",
)
UsageSample = _shape(
    "UsageSample",
    UsageSampleRow,
    ("at", "cpu_usage", "memory_usage", "disk_usage", "qps"),
    rules=False,
    doc="One usage report as kept in the history (GraphQL DeploymentStatus.usageHistory)",
)
_API_KEY = ("id", "tenant_org_id", "user", "name", "created_at", "last_used_at", "revoked_at")
ApiKey = _shape("ApiKey", ApiKeyRow, _API_KEY, rules=False, doc="An API key, without its secret")
ApiKeyCreated = create_model(
    "ApiKeyCreated",
    __base__=ApiKey,
    __doc__="A new API key with its secret",
    secret=(str, PydanticField(description="The bearer token; shown this once, never again")),
)
_sources[ApiKeyCreated] = ApiKeyRow
AuditEntry = _shape(
    "AuditEntry",
    AuditEntryRow,
    ("id", "at", "actor", "tenant_org_id", "action", "target", "outcome"),
    rules=False,
    doc="Who did what to which tenant's resources, and how it ended",
)
Quota = _shape(
    "Quota",
    QuotaLimits,
    ("max_clusters", "max_cpu", "max_memory", "max_disk", "max_gpu"),
    when_set=("enforce_sizing",),
    doc="The specification's quota object; null is no limit",
)


class QuotaUsage(Shape):
    """What the clusters not deleted hold (each per node times replicas), as
    Kubernetes quantities"""

    clusters: int = PydanticField(description="Clusters not deleted")
    cpu: str = PydanticField(description="CPU cores (cpu_limit)")
    memory: str = PydanticField(description="Memory (mem_limit)")
    disk: str = PydanticField(description="Disk (disk_size)")
    gpu: int = PydanticField(description="GPUs")


def _quota_document(name: str, doc: str, *keys: str) -> type[Shape]:
    subject: dict[str, Any] = {key: (str, PydanticField(description=_SUBJECT[key])) for key in keys}
    return create_model(
        name,
        __base__=Shape,
        __doc__=doc,
        **subject,
        quota=(Quota, PydanticField(description="The limits (the operator's when none is set)")),
        current_usage=(QuotaUsage, PydanticField(description="What is held against them")),
    )


class ClusterConnection(Shape):
    """Where and as whom to reach a cluster's Elasticsearch (inside the Kubernetes
    cluster network), and the CA certificate that verifies it"""

    endpoint: str = PydanticField(description="An https:// URL (the client Service)")
    username: str = PydanticField(description="Elasticsearch's built-in superuser")
    password: str = PydanticField(description="Its password (new after every reset)")
    ca_certificate: str | None = PydanticField(
        description="PEM of the cluster's own CA, which signed its HTTPS certificate; null "
        "while the certificates cannot be read"
    )


_SUBJECT = {"tenant_org_id": "Organisation", "user": "User id", "service_name": "Service name"}
QUOTA_DOCUMENTS: dict[QuotaLevel, type[Shape]] = {
    QuotaLevel.ORGANIZATION: _quota_document(
        "OrganizationQuota", "The specification's section 9 document", "tenant_org_id"
    ),
    QuotaLevel.USER: _quota_document(
        "UserQuota", "A user's quota inside an organisation", "tenant_org_id", "user"
    ),
    QuotaLevel.SERVICE: _quota_document(
        "ServiceQuota", "One service's quota", "tenant_org_id", "user", "service_name"
    ),
}
class VersionList(Shape):
    """The Elasticsearch versions a cluster may be created with"""

    versions: list[str] = PydanticField(description="Every version offered, oldest first")
    default: str = PydanticField(description="The version a create without one gets")


class ClusterUpgrades(Shape):
    """The versions one cluster may be upgraded to"""

    namespace: str = PydanticField(description="The cluster's namespace")
    version: str = PydanticField(description="The version it runs (or is upgrading to)")
    upgrades: list[str] = PydanticField(
        description="Versions an update may set, oldest first: later ones of its major, and "
        "of the next major once it runs the newest minor of its own offered"
    )


# Every shape the REST shim sends, for its description.
SHAPES: tuple[type[BaseModel], ...] = (
    TenantContainer,
    DeploymentStatus,
    ClusterDetails,
    UpgradeProgress,
    VersionList,
    ClusterUpgrades,
    ClusterEvent,
    UsageSample,
    ApiKey,
    ApiKeyCreated,
    AuditEntry,
    Quota,
    QuotaUsage,
    *QUOTA_DOCUMENTS.values(),
    ClusterConnection,
)


def version_list(catalog: VersionCatalog) -> dict[str, Any]:
    return {"versions": list(catalog.available), "default": catalog.default}


def cluster_upgrades(row: ClusterRecord, upgrades: tuple[str, ...]) -> dict[str, Any]:
    return {"namespace": row.namespace, "version": row.version, "upgrades": list(upgrades)}


def tenant_container(row: ClusterRecord) -> dict[str, Any]:
    return _sender(TenantContainer)(row)


def cluster_connection(details: ConnectionDetails) -> dict[str, Any]:
    return ClusterConnection(**dataclasses.asdict(details)).model_dump(mode="json")


def deployment_status(row: DeploymentRecord) -> dict[str, Any]:
    return _sender(DeploymentStatus)(row)


def cluster_event(row: ClusterEventRow) -> dict[str, Any]:
    return _sender(ClusterEvent)(row)


def usage_sample(row: UsageSampleRow) -> dict[str, Any]:
    return _sender(UsageSample)(row)


def api_key(row: ApiKeyRow, *, secret: str | None = None) -> dict[str, Any]:
    return _sender(ApiKey)(row) if secret is None else _sent(ApiKeyCreated, row, secret=secret)


def audit_entry(row: AuditEntryRow) -> dict[str, Any]:
    return _sender(AuditEntry)(row)


def quota_document(
    *, level: QuotaLevel, subject: dict[str, str], limits: QuotaLimits, usage: dict[str, Any]
) -> dict[str, Any]:
    """A quota as the section 9 document of its level: the subject's keys, ``quota``
    and ``current_usage``."""
    shape = QUOTA_DOCUMENTS[level]
    document = shape.model_construct(
        None,
        **subject,
        quota=Quota.model_construct(**limits.model_dump()),
        current_usage=QuotaUsage.model_construct(**usage),
    )
    return document.model_dump(mode="json", by_alias=True)
