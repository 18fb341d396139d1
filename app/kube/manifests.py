"""Pure builders for the Kubernetes objects of one tenant's Elasticsearch cluster.

Every function returns plain, JSON-ready dicts (no Kubernetes client objects, no I/O),
freshly built on each call so callers may mutate them. The objects follow what an
Elasticsearch operator (ECK) creates: a labelled Namespace, a headless Service for
discovery and transport, a ClusterIP Service for clients and a StatefulSet whose
volumeClaimTemplate gives every node its own PersistentVolumeClaim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.kube.quantity import parse_quantity

__all__ = [
    "CLIENT_SERVICE_NAME",
    "DATA_PATH",
    "HEADLESS_SERVICE_NAME",
    "HTTP_PORT",
    "MANAGED_BY",
    "STATEFULSET_NAME",
    "SYSCTL_IMAGE",
    "TRANSPORT_PORT",
    "ClusterShape",
    "client_service_manifest",
    "cluster_manifests",
    "headless_service_manifest",
    "jvm_heap",
    "namespace_manifest",
    "statefulset_manifest",
    "tenant_labels",
]

STATEFULSET_NAME = "elasticsearch"
HEADLESS_SERVICE_NAME = "elasticsearch-headless"
CLIENT_SERVICE_NAME = "elasticsearch"
DATA_PATH = "/usr/share/elasticsearch/data"
MANAGED_BY = "es-serverless"
HTTP_PORT = 9200
TRANSPORT_PORT = 9300
SYSCTL_IMAGE = "busybox:1.36"

_CONTAINER_NAME = "elasticsearch"
_DATA_VOLUME = "data"
_ANNOTATION_PREFIX = "es-serverless.io/"
_MAX_MAP_COUNT = 262144  # Elasticsearch's bootstrap check refuses to start below this

_MIB = 1024**2
_HEAP_MIN_MIB = 256
_HEAP_MAX_MIB = 31 * 1024  # stay below the JVM's compressed-oops threshold (~32 GiB)

Manifest = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class ClusterShape:
    """Everything the manifests need to know about one tenant's cluster."""

    namespace: str
    tenant_org_id: str
    user: str
    service_name: str
    replicas: int
    cpu_request: str
    cpu_limit: str
    mem_request: str
    mem_limit: str
    disk_size: str
    gpu_count: int
    dimension: int
    vector_count: int
    index_limit: int
    gitlab_url: str | None


# --- labels and metadata -------------------------------------------------------------


def tenant_labels(shape: ClusterShape) -> dict[str, str]:
    """The tenant labels of spec section 3, put on every object of the cluster."""
    return {
        "es-cluster": "true",
        "tenant-org-id": shape.tenant_org_id,
        "user": shape.user,
        "service-name": shape.service_name,
    }


def _managed_by() -> dict[str, str]:
    return {"app.kubernetes.io/managed-by": MANAGED_BY}


def _selector_labels(shape: ClusterShape) -> dict[str, str]:
    """The labels that pick this cluster's pods (immutable once the StatefulSet exists)."""
    return {
        "app.kubernetes.io/name": "elasticsearch",
        "app.kubernetes.io/instance": shape.service_name,
    }


def _workload_labels(shape: ClusterShape) -> dict[str, str]:
    return {**_selector_labels(shape), **tenant_labels(shape), **_managed_by()}


def _metadata(shape: ClusterShape, name: str) -> Manifest:
    return {"name": name, "namespace": shape.namespace, "labels": _workload_labels(shape)}


# --- Namespace and Services ----------------------------------------------------------


def namespace_manifest(shape: ClusterShape) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": shape.namespace, "labels": {**tenant_labels(shape), **_managed_by()}},
    }


def _service_port(name: str, port: int) -> Manifest:
    return {"name": name, "port": port, "targetPort": name, "protocol": "TCP"}


def headless_service_manifest(shape: ClusterShape) -> Manifest:
    """Headless Service giving every pod a stable DNS name, used for discovery."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(shape, HEADLESS_SERVICE_NAME),
        "spec": {
            "clusterIP": "None",  # the string "None": that is what makes a Service headless
            # Nodes must find each other before they are ready, or the cluster never forms.
            "publishNotReadyAddresses": True,
            "selector": _selector_labels(shape),
            "ports": [
                _service_port("http", HTTP_PORT),
                _service_port("transport", TRANSPORT_PORT),
            ],
        },
    }


def client_service_manifest(shape: ClusterShape) -> Manifest:
    """ClusterIP Service on the HTTP port, balancing clients over the ready nodes."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(shape, CLIENT_SERVICE_NAME),
        "spec": {
            "type": "ClusterIP",
            "selector": _selector_labels(shape),
            "ports": [_service_port("http", HTTP_PORT)],
        },
    }


# --- StatefulSet ---------------------------------------------------------------------


def jvm_heap(mem_limit: str) -> str:
    """JVM heap size (for ``-Xms``/``-Xmx``) for a container with this memory limit.

    Elastic's guidance: half of the memory for the heap (the rest is for the file-system
    cache and off-heap structures), below the compressed-oops threshold. Floored to whole
    MiB, capped at 31 GiB and at least 256 MiB. Written as ``<n>g`` when it is a whole
    number of GiB of at least 2 GiB, otherwise as ``<n>m`` (``1024m``, ``1536m``, ``4g``).
    """
    mib = int(parse_quantity(mem_limit) / 2 // _MIB)
    mib = max(_HEAP_MIN_MIB, min(mib, _HEAP_MAX_MIB))
    if mib >= 2 * 1024 and mib % 1024 == 0:
        return f"{mib // 1024}g"
    return f"{mib}m"


def _initial_master_nodes(replicas: int) -> str:
    if replicas < 1:
        raise ValueError(f"an Elasticsearch cluster needs at least 1 replica, got {replicas}")
    return ",".join(f"{STATEFULSET_NAME}-{ordinal}" for ordinal in range(replicas))


def _env(name: str, value: str) -> Manifest:
    return {"name": name, "value": value}


def _tenant_settings(shape: ClusterShape) -> list[tuple[str, str | None, str]]:
    """``(env var, pod annotation or None, value)`` for the tenant's own settings."""
    settings: list[tuple[str, str | None, str]] = [
        ("ESS_TENANT_ORG_ID", None, shape.tenant_org_id),
        ("ESS_USER", None, shape.user),
        ("ESS_SERVICE_NAME", None, shape.service_name),
        ("ESS_VECTOR_DIMENSION", "dimension", str(shape.dimension)),
        ("ESS_VECTOR_COUNT", "vector-count", str(shape.vector_count)),
        ("ESS_INDEX_LIMIT", "index-limit", str(shape.index_limit)),
    ]
    if shape.gitlab_url:
        settings.append(("ESS_GITLAB_URL", "gitlab-url", shape.gitlab_url))
    return settings


def _pod_annotations(shape: ClusterShape) -> dict[str, str]:
    return {
        _ANNOTATION_PREFIX + key: value
        for _, key, value in _tenant_settings(shape)
        if key is not None
    }


def _elasticsearch_env(shape: ClusterShape) -> list[Manifest]:
    heap = jvm_heap(shape.mem_limit)
    return [
        {"name": "node.name", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        _env("cluster.name", shape.service_name),
        _env("discovery.seed_hosts", HEADLESS_SERVICE_NAME),
        # Node names are the pod names, so the masters are known in advance. Elasticsearch
        # only uses this list to bootstrap a brand-new cluster and ignores it afterwards.
        _env("cluster.initial_master_nodes", _initial_master_nodes(shape.replicas)),
        _env("network.host", "0.0.0.0"),
        _env("ES_JAVA_OPTS", f"-Xms{heap} -Xmx{heap}"),
        # Security is off for now, which also lets the readiness probe use plain HTTP.
        # A later issue turns it on (TLS + credentials); the probe must change with it.
        _env("xpack.security.enabled", "false"),
        _env("bootstrap.memory_lock", "false"),
        *(_env(name, value) for name, _, value in _tenant_settings(shape)),
    ]


def _quantity(text: str) -> str:
    """Return ``text`` unchanged after checking it is a valid quantity (fail early)."""
    parse_quantity(text)
    return text


def _resources(shape: ClusterShape) -> Manifest:
    limits = {"cpu": _quantity(shape.cpu_limit), "memory": _quantity(shape.mem_limit)}
    if shape.gpu_count > 0:
        limits["nvidia.com/gpu"] = str(shape.gpu_count)  # extended resources: limits only
    return {
        "requests": {"cpu": _quantity(shape.cpu_request), "memory": _quantity(shape.mem_request)},
        "limits": limits,
    }


def _elasticsearch_container(shape: ClusterShape, image: str) -> Manifest:
    return {
        "name": _CONTAINER_NAME,
        "image": image,
        "env": _elasticsearch_env(shape),
        "resources": _resources(shape),
        "ports": [
            {"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"},
            {"name": "transport", "containerPort": TRANSPORT_PORT, "protocol": "TCP"},
        ],
        "readinessProbe": {
            "httpGet": {"path": "/_cluster/health?local=true", "port": HTTP_PORT},
            "initialDelaySeconds": 10,
            "periodSeconds": 5,
            "failureThreshold": 3,
        },
        "volumeMounts": [{"name": _DATA_VOLUME, "mountPath": DATA_PATH}],
    }


def _sysctl_init_container() -> Manifest:
    # Elasticsearch refuses to start unless vm.max_map_count >= 262144 (mmapfs needs many
    # memory maps). It is a node-wide kernel setting that an unprivileged container cannot
    # change, so - as Elastic documents for ECK - a privileged init container sets it
    # before Elasticsearch starts. Small resources keep it admissible under a namespace
    # ResourceQuota without changing the pod's effective requests.
    return {
        "name": "sysctl",
        "image": SYSCTL_IMAGE,
        "command": ["sysctl", "-w", f"vm.max_map_count={_MAX_MAP_COUNT}"],
        "securityContext": {"privileged": True, "runAsUser": 0},
        "resources": {
            "requests": {"cpu": "10m", "memory": "16Mi"},
            "limits": {"cpu": "100m", "memory": "32Mi"},
        },
    }


def _data_claim_template(shape: ClusterShape) -> Manifest:
    return {
        "metadata": {
            "name": _DATA_VOLUME,
            "labels": {**_selector_labels(shape), **tenant_labels(shape)},
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": _quantity(shape.disk_size)}},
        },
    }


def statefulset_manifest(shape: ClusterShape, *, image: str) -> Manifest:
    """The StatefulSet running the Elasticsearch nodes (every node is master and data).

    Raises ``InvalidQuantity`` for a malformed CPU, memory or disk quantity and
    ``ValueError`` for fewer than one replica.
    """
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _metadata(shape, STATEFULSET_NAME),
        "spec": {
            "serviceName": HEADLESS_SERVICE_NAME,
            "replicas": shape.replicas,
            # All master-eligible nodes must be up together to bootstrap the cluster; the
            # default OrderedReady would start each pod only once the previous one is Ready.
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": _selector_labels(shape)},
            "template": {
                "metadata": {
                    "labels": _workload_labels(shape),
                    "annotations": _pod_annotations(shape),
                },
                "spec": {
                    "terminationGracePeriodSeconds": 120,
                    "securityContext": {"fsGroup": 1000},  # the elasticsearch group owns data
                    "initContainers": [_sysctl_init_container()],
                    "containers": [_elasticsearch_container(shape, image)],
                },
            },
            "volumeClaimTemplates": [_data_claim_template(shape)],
        },
    }


def cluster_manifests(shape: ClusterShape, *, image: str) -> list[Manifest]:
    """All objects of one tenant cluster, in the order they must be applied."""
    return [
        namespace_manifest(shape),
        headless_service_manifest(shape),
        client_service_manifest(shape),
        statefulset_manifest(shape, image=image),
    ]
