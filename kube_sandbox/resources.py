"""The table of resources the sandbox serves.

Everything else (routing, discovery, storage keys, error messages, Table output) is
derived from this table, so serving one more resource is one more ``ResourceType``
line below (plus a strategy in ``strategies.py`` if it needs defaulting or validation).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

# How object names are validated, mirroring the apiserver's per-kind name rules.
NameRule = Literal["dns1123-label", "dns1123-subdomain", "dns1035-label"]

ALL_VERBS: tuple[str, ...] = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)
# Subresources (status, scale) only ever support these three, as on a real server.
SUBRESOURCE_VERBS: tuple[str, ...] = ("get", "patch", "update")


@dataclass(frozen=True)
class ResourceType:
    """One served resource, described the way discovery describes it."""

    group: str  # "" for the legacy core group
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    name_rule: NameRule = "dns1123-subdomain"
    # The apiserver answers DELETE with the deleted object for some kinds and with a
    # Status for others; clients (kubectl, the python client) cope with both, but we
    # answer like the real registry does for each kind.
    returns_deleted_object: bool = False
    # metadata.generation is only maintained for kinds whose controllers report
    # status.observedGeneration.
    tracks_generation: bool = False
    # Field-selector labels beyond metadata.name / metadata.namespace (dotted paths).
    field_labels: tuple[str, ...] = ()
    # How stats and fault injection name it, when its plural alone would be ambiguous.
    stats_name: str | None = None
    # Its OpenAPI definition (see schema.py) when not the usual "V1Kind".
    model: str | None = None

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def api_version(self) -> str:
        """The apiVersion written into objects: "v1" or "apps/v1"."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """The group-qualified resource used in error messages, e.g. "statefulsets.apps"."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """The group-qualified kind used in Invalid messages, e.g. "StatefulSet.apps"."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def storage_key(self) -> str:
        """A stable identity used as the storage bucket, unique across groups."""
        return f"{self.group}/{self.plural}"

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    @property
    def definition(self) -> str:
        """The OpenAPI definition of its objects, e.g. "V1StatefulSet"."""
        return self.model or f"{self.version[:1].upper()}{self.version[1:]}{self.kind}"


RESOURCES: tuple[ResourceType, ...] = (
    ResourceType(
        "", "v1", "Namespace", "namespaces", namespaced=False, short_names=("ns",),
        subresources=("status",), name_rule="dns1123-label", returns_deleted_object=True,
        field_labels=("status.phase",),
    ),
    # Where pods run: the sandbox's one node unless more are created (with their labels,
    # topology.kubernetes.io/zone say); pods are spread over them (strategies.PodStrategy).
    ResourceType(
        "", "v1", "Node", "nodes", namespaced=False, short_names=("no",),
        subresources=("status",), returns_deleted_object=True,
    ),
    ResourceType(
        "", "v1", "Pod", "pods", namespaced=True, short_names=("po",), categories=("all",),
        subresources=("status",), returns_deleted_object=True,
        field_labels=("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                      "spec.serviceAccountName", "status.phase", "status.podIP"),
    ),
    ResourceType(
        "", "v1", "Service", "services", namespaced=True, short_names=("svc",),
        categories=("all",), subresources=("status",), name_rule="dns1035-label",
        returns_deleted_object=True,
    ),
    ResourceType(
        "", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", namespaced=True,
        short_names=("pvc",), subresources=("status",), returns_deleted_object=True,
    ),
    ResourceType(
        "", "v1", "Secret", "secrets", namespaced=True, field_labels=("type",),
    ),
    ResourceType(
        "", "v1", "ConfigMap", "configmaps", namespaced=True, short_names=("cm",),
    ),
    ResourceType(
        "", "v1", "Event", "events", namespaced=True, short_names=("ev",),
        field_labels=("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                      "involvedObject.uid", "involvedObject.apiVersion",
                      "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                      "reportingComponent", "source", "type"),
        model="CoreV1Event",
    ),
    ResourceType(
        "", "v1", "ResourceQuota", "resourcequotas", namespaced=True, short_names=("quota",),
        subresources=("status",), returns_deleted_object=True,
    ),
    ResourceType(
        "", "v1", "LimitRange", "limitranges", namespaced=True, short_names=("limits",),
    ),
    ResourceType(
        "", "v1", "ServiceAccount", "serviceaccounts", namespaced=True, short_names=("sa",),
    ),
    ResourceType(
        "apps", "v1", "StatefulSet", "statefulsets", namespaced=True, short_names=("sts",),
        categories=("all",), subresources=("status", "scale"), tracks_generation=True,
    ),
    # Stored and validated, never run: no controller makes pods of a Deployment here.
    ResourceType(
        "apps", "v1", "Deployment", "deployments", namespaced=True, short_names=("deploy",),
        categories=("all",), subresources=("status", "scale"), tracks_generation=True,
    ),
    ResourceType(
        "apps", "v1", "ControllerRevision", "controllerrevisions", namespaced=True,
    ),
    ResourceType(
        "networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", namespaced=True,
        short_names=("netpol",), tracks_generation=True,
    ),
    ResourceType(
        "policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", namespaced=True,
        short_names=("pdb",), subresources=("status",), tracks_generation=True,
    ),
    # What metrics-server serves (`kubectl top pods`): read-only, made from the pods.
    ResourceType(
        "metrics.k8s.io", "v1beta1", "PodMetrics", "pods", namespaced=True,
        verbs=("get", "list"), stats_name="pods.metrics.k8s.io",
    ),
    # Stored, never enforced: the sandbox authorizes every request.
    ResourceType(
        "rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced=False,
    ),
    ResourceType(
        "rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings",
        namespaced=False,
    ),
)  # fmt: skip


class ResourceTable:
    """Lookups over the served resources."""

    def __init__(self, resources: Iterable[ResourceType] = RESOURCES) -> None:
        self._resources = tuple(resources)
        self._by_path = {(r.group, r.version, r.plural): r for r in self._resources}

    def __iter__(self) -> Iterator[ResourceType]:
        return iter(self._resources)

    def find(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_path.get((group, version, plural))

    def get(self, group: str, plural: str) -> ResourceType:
        """The resource for a group and plural; a KeyError means a programming error."""
        for resource in self._resources:
            if resource.group == group and resource.plural == plural:
                return resource
        raise KeyError(f"{plural}.{group}" if group else plural)

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [r for r in self._resources if r.group == group and r.version == version]

    def groups(self) -> list[str]:
        """Named API groups (not the core group), in table order."""
        seen: dict[str, None] = {}
        for resource in self._resources:
            if resource.group:
                seen.setdefault(resource.group, None)
        return list(seen)

    def versions(self, group: str) -> list[str]:
        seen: dict[str, None] = {}
        for resource in self._resources:
            if resource.group == group:
                seen.setdefault(resource.version, None)
        return list(seen)

    def namespaced(self) -> list[ResourceType]:
        return [r for r in self._resources if r.namespaced]


def _builtin(group: str, plural: str) -> ResourceType:
    return next(r for r in RESOURCES if r.group == group and r.plural == plural)


# The resources the simulated controllers work with directly.
NAMESPACES: ResourceType = _builtin("", "namespaces")
NODES: ResourceType = _builtin("", "nodes")
PODS: ResourceType = _builtin("", "pods")
PVCS: ResourceType = _builtin("", "persistentvolumeclaims")
EVENTS: ResourceType = _builtin("", "events")
RESOURCE_QUOTAS: ResourceType = _builtin("", "resourcequotas")
LIMIT_RANGES: ResourceType = _builtin("", "limitranges")
STATEFULSETS: ResourceType = _builtin("apps", "statefulsets")
CONTROLLER_REVISIONS: ResourceType = _builtin("apps", "controllerrevisions")
DISRUPTION_BUDGETS: ResourceType = _builtin("policy", "poddisruptionbudgets")
POD_METRICS: ResourceType = _builtin("metrics.k8s.io", "pods")
