"""Server-side printing: ``meta.k8s.io/v1`` Table responses for ``kubectl get``.

kubectl asks for ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the
columns the server chooses; these mirror the apiserver's printers for each kind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .meta import age, human_duration, now, parse_timestamp
from .pods import display_status, ready_count
from .resources import ResourceType
from .selectors import label_selector_from_object

Obj = dict[str, Any]
Cell = Callable[[Obj, dt.datetime], Any]

INCLUDE_OBJECT_VALUES = ("None", "Object", "PartialObjectMetadata")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    cell: Cell
    format: str = ""
    priority: int = 0
    description: str = ""

    def definition(self) -> Obj:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


def _field(*path: str, default: Any = "<none>") -> Cell:
    def cell(obj: Obj, _: dt.datetime) -> Any:
        current: Any = obj
        for part in path:
            current = current.get(part) if isinstance(current, dict) else None
        return default if current in (None, "") else current

    return cell


NAME = Column(
    "Name",
    "string",
    lambda o, _: o["metadata"]["name"],
    format="name",
    description="Name must be unique within a namespace.",
)
AGE = Column(
    "Age",
    "string",
    lambda o, moment: age(o, moment),
    description="CreationTimestamp is a timestamp representing the server time when this "
    "object was created.",
)


def _pod_ready(pod: Obj, _: dt.datetime) -> str:
    ready, total = ready_count(pod)
    return f"{ready}/{total}"


def _pod_restarts(pod: Obj, _: dt.datetime) -> int:
    return sum(
        int(s.get("restartCount", 0)) for s in pod.get("status", {}).get("containerStatuses") or []
    )


def _sts_ready(sts: Obj, _: dt.datetime) -> str:
    ready = sts.get("status", {}).get("readyReplicas", 0)
    return f"{ready}/{sts.get('spec', {}).get('replicas', 1)}"


def _containers(what: str) -> Cell:
    def cell(obj: Obj, _: dt.datetime) -> str:
        spec = obj.get("spec", {}).get("template", {}).get("spec", {})
        return ",".join(str(c.get(what, "")) for c in spec.get("containers") or [])

    return cell


def _service_external_ip(svc: Obj, _: dt.datetime) -> str:
    spec = svc.get("spec", {})
    if spec.get("externalIPs"):
        return ",".join(spec["externalIPs"])
    if spec.get("type") == "LoadBalancer":
        ingress = svc.get("status", {}).get("loadBalancer", {}).get("ingress") or []
        return ",".join(i.get("ip") or i.get("hostname", "") for i in ingress) or "<pending>"
    if spec.get("type") == "ExternalName":
        return str(spec.get("externalName", "<none>"))
    return "<none>"


def _service_ports(svc: Obj, _: dt.datetime) -> str:
    ports = []
    for port in svc.get("spec", {}).get("ports") or []:
        node_port = f":{port['nodePort']}" if port.get("nodePort") else ""
        ports.append(f"{port.get('port')}{node_port}/{port.get('protocol', 'TCP')}")
    return ",".join(ports) or "<none>"


def _selector_map(path: tuple[str, ...]) -> Cell:
    def cell(obj: Obj, _: dt.datetime) -> str:
        current: Any = obj
        for part in path:
            current = current.get(part) if isinstance(current, dict) else None
        if not current:
            return "<none>"
        return ",".join(f"{k}={v}" for k, v in sorted(current.items()))

    return cell


_ACCESS_MODES = {
    "ReadWriteOnce": "RWO",
    "ReadOnlyMany": "ROX",
    "ReadWriteMany": "RWX",
    "ReadWriteOncePod": "RWOP",
}


def _access_modes(pvc: Obj, _: dt.datetime) -> str:
    modes = pvc.get("status", {}).get("accessModes") or []
    return ",".join(_ACCESS_MODES.get(m, m) for m in modes)


def _pod_selector(netpol: Obj, _: dt.datetime) -> str:
    selector = label_selector_from_object(netpol.get("spec", {}).get("podSelector"))
    return str(selector) or "<none>"


def _data_count(obj: Obj, _: dt.datetime) -> int:
    return len(obj.get("data") or {}) + len(obj.get("binaryData") or {})


def _quota_column(limits: bool) -> Cell:
    """kubectl's REQUEST / LIMIT of a ResourceQuota: "name: used/hard", sorted, the
    ``limits.*`` resources in LIMIT and all others in REQUEST."""

    def cell(quota: Obj, _: dt.datetime) -> str:
        status = quota.get("status") or {}
        hard, used = status.get("hard") or {}, status.get("used") or {}
        return ", ".join(
            f"{name}: {used.get(name, '0')}/{hard[name]}"
            for name in sorted(hard)
            if (name.split(".", 1)[0] == "limits" and "." in name) == limits
        )

    return cell


def _controller(obj: Obj, _: dt.datetime) -> str:
    """The controlling owner as "statefulset.apps/es" (printControllerRevision)."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            group = str(ref.get("apiVersion", "")).rpartition("/")[0]
            kind = str(ref.get("kind", "")).lower()
            return f"{kind}.{group}/{ref.get('name')}" if group else f"{kind}/{ref.get('name')}"
    return "<none>"


def _since(field: str) -> Cell:
    """translateTimestampSince of an event's time (eventTime when it has no other)."""

    def cell(event: Obj, moment: dt.datetime) -> str:
        value = event.get(field) or event.get("eventTime")
        if not value:
            return "<unknown>"
        return human_duration((moment - parse_timestamp(str(value)[:19] + "Z")).total_seconds())

    return cell


def _event_object(event: Obj, _: dt.datetime) -> str:
    involved = event.get("involvedObject") or {}
    return f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}"


def _event_source(event: Obj, _: dt.datetime) -> str:
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    return f"{component}, {source['host']}" if source.get("host") else component


COLUMNS: dict[str, list[Column]] = {
    "/namespaces": [NAME, Column("Status", "string", _field("status", "phase")), AGE],
    "/pods": [
        NAME,
        Column("Ready", "string", _pod_ready),
        Column("Status", "string", lambda o, _: display_status(o)),
        Column("Restarts", "string", _pod_restarts),
        AGE,
        Column("IP", "string", _field("status", "podIP"), priority=1),
        Column("Node", "string", _field("spec", "nodeName"), priority=1),
    ],
    "/services": [
        NAME,
        Column("Type", "string", _field("spec", "type")),
        Column("Cluster-IP", "string", _field("spec", "clusterIP")),
        Column("External-IP", "string", _service_external_ip),
        Column("Port(s)", "string", _service_ports),
        AGE,
        Column("Selector", "string", _selector_map(("spec", "selector")), priority=1),
    ],
    "/persistentvolumeclaims": [
        NAME,
        Column("Status", "string", _field("status", "phase")),
        Column("Volume", "string", _field("spec", "volumeName", default="")),
        Column("Capacity", "string", _field("status", "capacity", "storage", default="")),
        Column("Access Modes", "string", _access_modes),
        Column("StorageClass", "string", _field("spec", "storageClassName")),
        AGE,
        Column("VolumeMode", "string", _field("spec", "volumeMode"), priority=1),
    ],
    "/secrets": [
        NAME,
        Column("Type", "string", _field("type")),
        Column("Data", "string", _data_count),
        AGE,
    ],
    "/configmaps": [NAME, Column("Data", "string", _data_count), AGE],
    "/events": [
        Column("Last Seen", "string", _since("lastTimestamp")),
        Column("Type", "string", _field("type", default="")),
        Column("Reason", "string", _field("reason", default="")),
        Column("Object", "string", _event_object),
        Column("Subobject", "string", _field("involvedObject", "fieldPath", default=""),
               priority=1),
        Column("Source", "string", _event_source, priority=1),
        Column("Message", "string", _field("message", default="")),
        Column("First Seen", "string", _since("firstTimestamp"), priority=1),
        Column("Count", "string", _field("count", default=""), priority=1),
        Column("Name", "string", lambda o, _: o["metadata"]["name"], priority=1),
    ],
    "/resourcequotas": [
        NAME,
        AGE,
        Column(
            "Request",
            "string",
            _quota_column(limits=False),
            description="Request is a list of resource quota (requests).",
        ),
        Column(
            "Limit",
            "string",
            _quota_column(limits=True),
            description="Limit is a list of resource quota (limits).",
        ),
    ],
    "/limitranges": [
        NAME,
        Column(
            "Created At",
            "date",
            _field("metadata", "creationTimestamp"),
            description="CreationTimestamp is a timestamp representing the server time "
            "when this object was created.",
        ),
    ],
    "apps/statefulsets": [
        NAME,
        Column("Ready", "string", _sts_ready),
        AGE,
        Column("Containers", "string", _containers("name"), priority=1),
        Column("Images", "string", _containers("image"), priority=1),
    ],
    "apps/controllerrevisions": [
        NAME,
        Column("Controller", "string", _controller),
        Column("Revision", "integer", _field("revision", default=0)),
        AGE,
    ],
    "networking.k8s.io/networkpolicies": [
        NAME,
        Column("Pod-Selector", "string", _pod_selector),
        AGE,
    ],
    "policy/poddisruptionbudgets": [
        NAME,
        Column("Min Available", "string", _field("spec", "minAvailable", default="N/A")),
        Column("Max Unavailable", "string", _field("spec", "maxUnavailable", default="N/A")),
        Column("Allowed Disruptions", "integer", _field("status", "disruptionsAllowed", default=0)),
        AGE,
    ],
}
DEFAULT_COLUMNS: list[Column] = [NAME, AGE]


def _row_object(obj: Obj, include_object: str, table_api_version: str) -> Obj | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": table_api_version,
        "metadata": obj.get("metadata", {}),
    }


def to_table(
    resource: ResourceType,
    objects: list[Obj],
    *,
    table_api_version: str = "meta.k8s.io/v1",
    include_object: str = "PartialObjectMetadata",
    list_metadata: Obj | None = None,
    with_headers: bool = True,
) -> Obj:
    columns = COLUMNS.get(resource.storage_key, DEFAULT_COLUMNS)
    moment = now()
    rows = []
    for obj in objects:
        row: Obj = {"cells": [column.cell(obj, moment) for column in columns]}
        row_object = _row_object(obj, include_object, table_api_version)
        if row_object is not None:
            row["object"] = row_object
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": table_api_version,
        "metadata": list_metadata or {},
        "columnDefinitions": [c.definition() for c in columns] if with_headers else [],
        "rows": rows,
    }
