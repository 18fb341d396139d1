"""Pure builders for the Kubernetes objects of one tenant's Elasticsearch cluster.

Every function returns plain, JSON-ready dicts (no Kubernetes client objects, no I/O),
freshly built on each call so callers may mutate them. The objects follow what an
Elasticsearch operator (ECK) creates: a labelled Namespace, Secrets for the credentials
and the transport certificates, a NetworkPolicy fencing the cluster in, a headless
Service for discovery and transport, a ClusterIP Service for clients and a StatefulSet
whose volumeClaimTemplate gives every node its own PersistentVolumeClaim.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from app.kube.names import (
    CLIENT_SERVICE_NAME,
    CLUSTER_OBJECTS,
    CONFIG_NAME,
    CREDENTIALS_SECRET_NAME,
    DISRUPTION_BUDGET_NAME,
    HEADLESS_SERVICE_NAME,
    NETWORK_POLICY_NAME,
    REPORTER_SECRET_NAME,
    STATEFULSET_NAME,
    TLS_SECRET_NAME,
)
from app.kube.quantity import parse_quantity
from app.kube.tls import (
    CA_FILE,
    CERT_FILE,
    HTTP_CA_FILE,
    HTTP_CERT_FILE,
    HTTP_KEY_FILE,
    KEY_FILE,
    TlsBundle,
)
from app.models.cluster import ClusterShape  # everything the manifests need to know
from app.models.heap import jvm_heap  # the sizing subtracts the same heap

__all__ = [
    "CERTS_PATH",
    "CLIENT_SERVICE_NAME",
    "CLUSTER_OBJECTS",
    "CONFIG_FILE",
    "CONFIG_NAME",
    "CONFIG_PATH",
    "CREDENTIALS_GENERATION_ANNOTATION",
    "CREDENTIALS_SECRET_NAME",
    "DATA_PATH",
    "DATA_VOLUME",
    "DISRUPTION_BUDGET_NAME",
    "ELASTICSEARCH_CONTAINER",
    "ELASTIC_USERNAME",
    "HEADLESS_SERVICE_NAME",
    "HOST_TOPOLOGY_KEY",
    "HTTP_PORT",
    "MANAGED_BY",
    "NETWORK_POLICY_NAME",
    "OWNER_ANNOTATION",
    "REPORTER_SECRET_NAME",
    "STATEFULSET_NAME",
    "SYSCTL_IMAGE",
    "TLS_SECRET_NAME",
    "TRANSPORT_PORT",
    "UNKNOWN_ZONE",
    "ZONE_TOPOLOGY_KEY",
    "ClusterSecrets",
    "ClusterShape",
    "claim_labels",
    "client_endpoint",
    "client_service_manifest",
    "cluster_manifests",
    "config_manifest",
    "credentials_secret_manifest",
    "disruption_budget_manifest",
    "elasticsearch_resources",
    "elasticsearch_settings",
    "headless_service_manifest",
    "jvm_heap",
    "namespace_manifest",
    "needs_disruption_budget",
    "network_policy_manifest",
    "owned_labels",
    "owned_metadata",
    "reporter_secret_manifest",
    "statefulset_manifest",
    "tenant_labels",
    "transport_tls_secret_manifest",
]

ELASTIC_USERNAME = "elastic"  # Elasticsearch's built-in superuser
DATA_PATH = "/usr/share/elasticsearch/data"
# Inside the config directory, so elasticsearch.yml settings can name files relative to it.
CERTS_PATH = "/usr/share/elasticsearch/config/certs"  # within CONFIG_PATH
MANAGED_BY = "es-serverless"
HTTP_PORT = 9200
TRANSPORT_PORT = 9300
SYSCTL_IMAGE = "busybox:1.36"
# The ownership mark: set on every Namespace the control plane creates, naming the
# cluster (TenantContainer id) it was created for. Only a namespace carrying the
# cluster's own mark is ever replaced or deleted for it.
OWNER_ANNOTATION = "es-serverless.io/cluster-id"

ELASTICSEARCH_CONTAINER = "elasticsearch"
DATA_VOLUME = "data"  # also the prefix of every claim: data-elasticsearch-<ordinal>
_CERTS_VOLUME = "transport-certs"
_CONFIG_VOLUME = "config"
CONFIG_PATH = "/usr/share/elasticsearch/config"
CONFIG_FILE = "elasticsearch.yml"
_CERTS_DIR = "certs"  # CERTS_PATH relative to the config directory
# local=true: the node answers from its own cluster state, without asking the master.
_HEALTH_PATH = "/_cluster/health?local=true"
_ANNOTATION_PREFIX = "es-serverless.io/"
_MAX_MAP_COUNT = 262144  # Elasticsearch's bootstrap check refuses to start below this
# Where Kubernetes exposes a node's host name and zone (well-known labels); the zone is
# also the annotation the control plane puts on each pod (app.kube.zones), "unknown"
# for a pod on a node without one.
HOST_TOPOLOGY_KEY = "kubernetes.io/hostname"
ZONE_TOPOLOGY_KEY = "topology.kubernetes.io/zone"
UNKNOWN_ZONE = "unknown"

Manifest = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class ClusterSecrets:
    """The generated secrets of one tenant's cluster.

    Generate them once per cluster and keep them: every apply replaces the Secrets with
    these values, and the readiness probe authenticates with the one the pods see.
    Left out of ``repr`` so that logging a value or a traceback never shows them.
    """

    elastic_password: str = field(repr=False)  # the built-in `elastic` superuser's password
    report_token: str = field(repr=False)  # the deployment's usage-report token
    # How many times the credentials were reset: which password the pods must start with.
    credentials_generation: int = 0

    def __post_init__(self) -> None:
        # An empty ELASTIC_PASSWORD leaves `elastic` without a password: the probe could
        # never authenticate and the cluster would never become ready.
        if not self.elastic_password or not self.report_token:
            raise ValueError("elastic_password and report_token must not be empty")


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


def owned_labels(shape: ClusterShape) -> dict[str, str]:
    """The labels on the Namespace and on every object of the cluster (the workload's
    carry more): what tells the cluster's own objects apart from others."""
    return {**tenant_labels(shape), **_managed_by()}


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


def owned_metadata(shape: ClusterShape, name: str) -> Manifest:
    """Metadata of objects that belong to the tenant but are not part of the workload."""
    return {"name": name, "namespace": shape.namespace, "labels": owned_labels(shape)}


# --- Namespace and Services ----------------------------------------------------------


def namespace_manifest(shape: ClusterShape, *, cluster_id: str) -> Manifest:
    """The tenant's Namespace, carrying the ownership mark of ``cluster_id``."""
    if not cluster_id:
        raise ValueError("cluster_id must not be empty: it is the namespace's ownership mark")
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": shape.namespace,
            "labels": owned_labels(shape),
            "annotations": {OWNER_ANNOTATION: cluster_id},
        },
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


def client_endpoint(namespace: str) -> str:
    """The URL clients inside the Kubernetes cluster reach Elasticsearch at: the client
    Service, over HTTPS (its name is among the HTTP certificate's)."""
    return f"https://{CLIENT_SERVICE_NAME}.{namespace}.svc:{HTTP_PORT}"


# --- Secrets -------------------------------------------------------------------------


def _opaque_secret(shape: ClusterShape, name: str, data: dict[str, str]) -> Manifest:
    # stringData rather than data: the API server does the base64 encoding, and the
    # builders stay readable. It is write-only: a read returns the encoded `data`.
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": owned_metadata(shape, name),
        "type": "Opaque",
        "stringData": data,
    }


def credentials_secret_manifest(shape: ClusterShape, *, secrets: ClusterSecrets) -> Manifest:
    """The `elastic` superuser's credentials: the nodes read the password from it."""
    return _opaque_secret(
        shape,
        CREDENTIALS_SECRET_NAME,
        {"username": ELASTIC_USERNAME, "password": secrets.elastic_password},
    )


def reporter_secret_manifest(
    shape: ClusterShape, *, secrets: ClusterSecrets, report_url: str
) -> Manifest:
    """What the cluster's usage reporter needs to call the control plane.

    ``report_url`` is the control plane's ``POST /deployments/{namespace}/report`` URL.
    """
    return _opaque_secret(
        shape, REPORTER_SECRET_NAME, {"token": secrets.report_token, "url": report_url}
    )


def transport_tls_secret_manifest(shape: ClusterShape, *, tls: TlsBundle) -> Manifest:
    """The transport certificates, under the key names of a ``kubernetes.io/tls`` Secret
    plus ``ca.crt`` (the layout cert-manager writes), so tools that know it can read them.

    Create it once per cluster and never replace it: see ``cluster_manifests``.
    """
    return _opaque_secret(shape, TLS_SECRET_NAME, tls.secret_data())


# --- NetworkPolicy -------------------------------------------------------------------


def _tcp_ports(*ports: int) -> list[Manifest]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def network_policy_manifest(shape: ClusterShape, *, platform_namespace: str) -> Manifest:
    """Admit only this namespace's pods and the control plane to Elasticsearch.

    Selecting the pods with an Ingress policy denies every other source, so other
    tenants' namespaces cannot reach the cluster. Egress is left open: the nodes talk
    to each other and the usage reporter calls the control plane.
    """
    if not platform_namespace:
        raise ValueError("platform_namespace must not be empty")
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": owned_metadata(shape, NETWORK_POLICY_NAME),
        "spec": {
            "podSelector": {"matchLabels": _selector_labels(shape)},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    # An empty podSelector without a namespaceSelector means "every pod
                    # of this namespace": the other nodes (transport) and the tenant's
                    # own workloads and reporter (HTTP).
                    "from": [{"podSelector": {}}],
                    "ports": _tcp_ports(HTTP_PORT, TRANSPORT_PORT),
                },
                {
                    # The control plane, by the label the API server itself sets on every
                    # namespace to its name (other labels could be set by anyone who can
                    # edit a namespace, this one cannot be changed).
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": platform_namespace}
                            }
                        }
                    ],
                    "ports": _tcp_ports(HTTP_PORT),
                },
            ],
        },
    }


# --- StatefulSet ---------------------------------------------------------------------


def _initial_master_nodes(replicas: int) -> list[str]:
    if replicas < 1:
        raise ValueError(f"an Elasticsearch cluster needs at least 1 replica, got {replicas}")
    return [f"{STATEFULSET_NAME}-{ordinal}" for ordinal in range(replicas)]


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


CREDENTIALS_GENERATION_ANNOTATION = _ANNOTATION_PREFIX + "credentials-generation"


def _pod_annotations(shape: ClusterShape, credentials_generation: int) -> dict[str, str]:
    annotations = {
        _ANNOTATION_PREFIX + key: value
        for _, key, value in _tenant_settings(shape)
        if key is not None
    }
    if credentials_generation:
        # A reset changes the template, so the StatefulSet rolls every pod, one at a
        # time, onto the new ELASTIC_PASSWORD (an environment variable is read only when
        # a container starts). Left out before the first reset: no template changes.
        annotations[CREDENTIALS_GENERATION_ANNOTATION] = str(credentials_generation)
    return annotations


def elasticsearch_settings(
    shape: ClusterShape, *, bootstrap: bool, zones: bool = False
) -> dict[str, Any]:
    """The node settings, as elasticsearch.yml holds them. Nothing here depends on the
    cluster's size but ``cluster.initial_master_nodes``, and that only while
    ``bootstrap``: Elasticsearch needs the list to form a brand-new cluster, ignores it
    afterwards and recommends removing it once the cluster has formed. ``zones``: the
    Kubernetes nodes carry zones, so every node gets its zone as an attribute and
    shard copies are kept in different zones (see app.kube.zones)."""
    settings: dict[str, Any] = {
        "cluster.name": shape.service_name,
        "node.name": "${NODE_NAME}",  # the pod's name, from the environment
        "network.host": "0.0.0.0",
        "discovery.seed_hosts": HEADLESS_SERVICE_NAME,
        "xpack.security.enabled": True,
        # With security on, Elasticsearch >= 8 refuses to form a multi-node cluster
        # without transport TLS. `certificate` mode checks that a peer's certificate is
        # signed by this cluster's own CA, not its host name (the nodes share one cert).
        "xpack.security.transport.ssl.enabled": True,
        "xpack.security.transport.ssl.verification_mode": "certificate",
        "xpack.security.transport.ssl.key": f"{_CERTS_DIR}/{KEY_FILE}",
        "xpack.security.transport.ssl.certificate": f"{_CERTS_DIR}/{CERT_FILE}",
        "xpack.security.transport.ssl.certificate_authorities": f"{_CERTS_DIR}/{CA_FILE}",
        # HTTPS for clients, with a certificate of the same CA for both Services' names:
        # tenants verify the cluster with the CA their connection details carry.
        "xpack.security.http.ssl.enabled": True,
        "xpack.security.http.ssl.key": f"{_CERTS_DIR}/{HTTP_KEY_FILE}",
        "xpack.security.http.ssl.certificate": f"{_CERTS_DIR}/{HTTP_CERT_FILE}",
        "xpack.security.http.ssl.certificate_authorities": f"{_CERTS_DIR}/{HTTP_CA_FILE}",
        "bootstrap.memory_lock": False,
    }
    if zones:
        # ZONE: the pod's zone annotation, which the init container waits for.
        settings["node.attr.zone"] = "${ZONE}"
        settings["cluster.routing.allocation.awareness.attributes"] = "zone"
    if bootstrap:
        # Node names are the pod names, so the masters are known in advance.
        settings["cluster.initial_master_nodes"] = _initial_master_nodes(shape.replicas)
    return settings


def config_manifest(shape: ClusterShape, *, bootstrap: bool, zones: bool = False) -> Manifest:
    """The ConfigMap holding the nodes' elasticsearch.yml (one setting a line, each
    value in JSON, which YAML reads as it is). The pods mount it by name, so a change of
    its content (the bootstrap list going, say) changes no pod template and restarts no
    pod: a node reads it when it next starts."""
    lines = [
        f"{key}: {json.dumps(value)}"
        for key, value in elasticsearch_settings(shape, bootstrap=bootstrap, zones=zones).items()
    ]
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(shape, CONFIG_NAME),
        "data": {CONFIG_FILE: "\n".join(lines) + "\n"},
    }


def _elasticsearch_env(shape: ClusterShape) -> list[Manifest]:
    heap = jvm_heap(shape.mem_limit)
    return [
        {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        # The zone the control plane copies from the pod's node (app.kube.zones); read
        # when the container starts, after wait-for-zone saw it. Empty without zones,
        # and then unused: elasticsearch.yml names it only when zones are known.
        {"name": "ZONE", "valueFrom": {"fieldRef": {"fieldPath": _ZONE_FIELD}}},
        # The heap follows mem_limit, which is part of the template anyway.
        _env("ES_JAVA_OPTS", f"-Xms{heap} -Xmx{heap}"),
        # The official image sets the `elastic` user's password from this on first start.
        {
            "name": "ELASTIC_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": CREDENTIALS_SECRET_NAME, "key": "password"}},
        },
        *(_env(name, value) for name, _, value in _tenant_settings(shape)),
    ]


def _quantity(text: str) -> str:
    """Return ``text`` unchanged after checking it is a valid quantity (fail early)."""
    parse_quantity(text)
    return text


def elasticsearch_resources(shape: ClusterShape) -> Manifest:
    """The Elasticsearch container's requests and limits (also what drift is checked
    against)."""
    limits = {"cpu": _quantity(shape.cpu_limit), "memory": _quantity(shape.mem_limit)}
    if shape.gpu_count > 0:
        limits["nvidia.com/gpu"] = str(shape.gpu_count)  # extended resources: limits only
    return {
        "requests": {"cpu": _quantity(shape.cpu_request), "memory": _quantity(shape.mem_request)},
        "limits": limits,
    }


def _elasticsearch_container(shape: ClusterShape, image: str) -> Manifest:
    return {
        "name": ELASTICSEARCH_CONTAINER,
        "image": image,
        "env": _elasticsearch_env(shape),
        "resources": elasticsearch_resources(shape),
        "ports": [
            {"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"},
            {"name": "transport", "containerPort": TRANSPORT_PORT, "protocol": "TCP"},
        ],
        "readinessProbe": {
            "exec": {"command": _readiness_command()},
            "initialDelaySeconds": 10,
            "periodSeconds": 5,
            "failureThreshold": 3,
        },
        "volumeMounts": [
            {"name": DATA_VOLUME, "mountPath": DATA_PATH},
            {"name": _CERTS_VOLUME, "mountPath": CERTS_PATH, "readOnly": True},
            # The one file, over the image's own (the rest of its config directory stays).
            {
                "name": _CONFIG_VOLUME,
                "mountPath": f"{CONFIG_PATH}/{CONFIG_FILE}",
                "subPath": CONFIG_FILE,
                "readOnly": True,
            },
        ],
    }


def _readiness_command() -> list[str]:
    # An httpGet probe cannot send credentials, and with security on every request needs
    # them, so - like ECK - the probe runs curl inside the container (the image has bash
    # and curl). The password comes from the container's own ELASTIC_PASSWORD; bash, not
    # Kubernetes, expands it, so it never appears in the pod spec. HTTPS, verified with
    # the cluster's CA (the HTTP certificate covers 127.0.0.1): with HTTP TLS on, the
    # node refuses plain HTTP.
    script = (
        "curl -s -o /dev/null -w '%{http_code}' "
        f"--cacert '{CERTS_PATH}/{HTTP_CA_FILE}' "
        '-u "elastic:${ELASTIC_PASSWORD}" '
        f"'https://127.0.0.1:{HTTP_PORT}{_HEALTH_PATH}' | grep -q 200"
    )
    return ["bash", "-c", script]


_ZONE_FIELD = f"metadata.annotations['{ZONE_TOPOLOGY_KEY}']"
_POD_INFO_VOLUME = "pod-info"
_POD_INFO_PATH = "/mnt/pod-info"
_INIT_CONFIG_PATH = "/mnt/elastic-config"


def _wait_for_zone_init_container(shape: ClusterShape, image: str) -> Manifest:
    """Holds Elasticsearch back until the pod carries its zone annotation, but only
    while elasticsearch.yml asks for a zone (ECK's wait for its downward node labels).
    It reads the ConfigMap and the pod's annotations (a downward API volume, which the
    kubelet keeps up to date) as they are when the pod starts, so whether zones are
    known is no part of the template."""
    script = (
        f"if grep -q '^node.attr.zone:' {_INIT_CONFIG_PATH}/{CONFIG_FILE}; then "
        f"echo 'waiting for the {ZONE_TOPOLOGY_KEY} annotation'; "
        f"until grep -q '^{ZONE_TOPOLOGY_KEY}=' {_POD_INFO_PATH}/annotations; "
        "do sleep 2; done; fi"
    )
    return {
        "name": "wait-for-zone",
        "image": image,  # the Elasticsearch image has bash and grep
        "command": ["bash", "-c", script],
        "resources": _init_resources(shape),
        "volumeMounts": [
            {"name": _CONFIG_VOLUME, "mountPath": _INIT_CONFIG_PATH, "readOnly": True},
            {"name": _POD_INFO_VOLUME, "mountPath": _POD_INFO_PATH, "readOnly": True},
        ],
    }


def _smaller(first: str, second: str) -> str:
    return first if parse_quantity(first) <= parse_quantity(second) else second


def _init_resources(shape: ClusterShape) -> Manifest:
    # A pod counts max(sum of its containers, its largest init container) against a
    # ResourceQuota: never more than the Elasticsearch container's own values, so the
    # init container adds nothing to what the namespace quota must hold.
    return {
        "requests": {
            "cpu": _smaller("10m", shape.cpu_request),
            "memory": _smaller("16Mi", shape.mem_request),
        },
        "limits": {
            "cpu": _smaller("100m", shape.cpu_limit),
            "memory": _smaller("32Mi", shape.mem_limit),
        },
    }


def _sysctl_init_container(shape: ClusterShape) -> Manifest:
    # Elasticsearch refuses to start unless vm.max_map_count >= 262144 (mmapfs needs many
    # memory maps). It is a node-wide kernel setting that an unprivileged container cannot
    # change, so - as Elastic documents for ECK - a privileged init container sets it
    # before Elasticsearch starts. It states requests and limits (a namespace quota on
    # cpu and memory refuses containers that do not), small ones: see _init_resources.
    return {
        "name": "sysctl",
        "image": SYSCTL_IMAGE,
        "command": ["sysctl", "-w", f"vm.max_map_count={_MAX_MAP_COUNT}"],
        "securityContext": {"privileged": True, "runAsUser": 0},
        "resources": _init_resources(shape),
    }


def claim_labels(shape: ClusterShape) -> dict[str, str]:
    """The labels of the StatefulSet's PersistentVolumeClaims: the claim template's
    (the StatefulSet controller adds its selector's, which are among them)."""
    return {**_selector_labels(shape), **tenant_labels(shape)}


def _data_claim_template(shape: ClusterShape) -> Manifest:
    return {
        "metadata": {"name": DATA_VOLUME, "labels": claim_labels(shape)},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": _quantity(shape.disk_size)}},
        },
    }


def statefulset_manifest(
    shape: ClusterShape, *, image: str, credentials_generation: int = 0
) -> Manifest:
    """The StatefulSet running the Elasticsearch nodes (every node is master and data).
    ``credentials_generation`` is the cluster's (``ClusterSecrets``): its pods restart
    when it changes.

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
            # A new template (an upgrade's image) replaces one pod at a time, highest
            # ordinal first, each once the one before is ready again: Elasticsearch's
            # rolling upgrade. (Also the default; written out because it is relied on.)
            "updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 1, "partition": 0},
            },
            "selector": {"matchLabels": _selector_labels(shape)},
            "template": {
                "metadata": {
                    "labels": _workload_labels(shape),
                    "annotations": _pod_annotations(shape, credentials_generation),
                },
                "spec": {
                    "terminationGracePeriodSeconds": 120,
                    "securityContext": {"fsGroup": 1000},  # the elasticsearch group owns data
                    **_placement(shape),
                    "initContainers": [
                        _sysctl_init_container(shape),
                        _wait_for_zone_init_container(shape, image),
                    ],
                    "containers": [_elasticsearch_container(shape, image)],
                    "volumes": [
                        {"name": _CERTS_VOLUME, "secret": {"secretName": TLS_SECRET_NAME}},
                        {"name": _CONFIG_VOLUME, "configMap": {"name": CONFIG_NAME}},
                        {
                            "name": _POD_INFO_VOLUME,
                            "downwardAPI": {
                                "items": [
                                    {
                                        "path": "annotations",
                                        "fieldRef": {"fieldPath": "metadata.annotations"},
                                    }
                                ]
                            },
                        },
                    ],
                },
            },
            "volumeClaimTemplates": [_data_claim_template(shape)],
        },
    }




def _placement(shape: ClusterShape) -> Manifest:
    """Spread the cluster's nodes: preferably one per Kubernetes node (so one node's
    loss takes one Elasticsearch node, not the quorum) and evenly over zones when the
    nodes carry zones. Preferences only: a small or zoneless cluster still schedules."""
    own_pods = {"matchLabels": _selector_labels(shape)}
    return {
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "labelSelector": own_pods,
                            "topologyKey": HOST_TOPOLOGY_KEY,
                        },
                    }
                ]
            }
        },
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": ZONE_TOPOLOGY_KEY,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": own_pods,
            }
        ],
    }


def disruption_budget_manifest(shape: ClusterShape) -> Manifest:
    """At most one of the cluster's nodes away at a time by a voluntary disruption (a
    node drain, an upgrade of the Kubernetes nodes): Elasticsearch keeps its master
    quorum and a copy of every shard. Only for clusters of several nodes
    (``needs_disruption_budget``): a single node has nothing to keep up while it moves,
    and a budget there would only stand in a drain's way."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(shape, DISRUPTION_BUDGET_NAME),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": _selector_labels(shape)}},
    }


def needs_disruption_budget(shape: ClusterShape) -> bool:
    return shape.replicas > 1


def cluster_manifests(
    shape: ClusterShape,
    *,
    cluster_id: str,
    image: str,
    secrets: ClusterSecrets,
    report_url: str,
    platform_namespace: str,
    bootstrap: bool,
    zones: bool = False,
) -> list[Manifest]:
    """The objects of one tenant cluster that are applied (create or replace), in order.

    The transport TLS Secret (``transport_tls_secret_manifest``) is deliberately not in
    this list: its certificates are generated at random, so replacing it on every apply
    would hand running nodes a new CA they do not trust. The caller creates it once
    (create-only, keeping an existing one) after the namespace and before the
    StatefulSet, whose pods cannot start without it.
    """
    return [
        namespace_manifest(shape, cluster_id=cluster_id),
        credentials_secret_manifest(shape, secrets=secrets),
        reporter_secret_manifest(shape, secrets=secrets, report_url=report_url),
        network_policy_manifest(shape, platform_namespace=platform_namespace),
        headless_service_manifest(shape),
        client_service_manifest(shape),
        *([disruption_budget_manifest(shape)] if needs_disruption_budget(shape) else []),
        config_manifest(shape, bootstrap=bootstrap, zones=zones),
        statefulset_manifest(
            shape, image=image, credentials_generation=secrets.credentials_generation
        ),
    ]
