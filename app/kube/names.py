"""The names of the Kubernetes objects of one tenant cluster.

The manifest builders (``app.kube.manifests``, which re-exports them) give these names
to the objects; other modules find the objects again by them, or build on them (the
transport certificates name the headless Service) without importing the builders.
"""

from __future__ import annotations

__all__ = [
    "CLIENT_SERVICE_NAME",
    "CLUSTER_OBJECTS",
    "CONFIG_NAME",
    "CREDENTIALS_SECRET_NAME",
    "DISRUPTION_BUDGET_NAME",
    "HEADLESS_SERVICE_NAME",
    "LIMIT_RANGE_NAME",
    "NETWORK_POLICY_NAME",
    "QUOTA_NAME",
    "REPORTER_SECRET_NAME",
    "STATEFULSET_NAME",
    "TLS_SECRET_NAME",
]

STATEFULSET_NAME = "elasticsearch"
HEADLESS_SERVICE_NAME = "elasticsearch-headless"
CLIENT_SERVICE_NAME = "elasticsearch"
CREDENTIALS_SECRET_NAME = "elasticsearch-credentials"
REPORTER_SECRET_NAME = "es-serverless-reporter"
TLS_SECRET_NAME = "elasticsearch-transport-tls"
NETWORK_POLICY_NAME = "elasticsearch"
QUOTA_NAME = "tenant-quota"
LIMIT_RANGE_NAME = "tenant-limits"
DISRUPTION_BUDGET_NAME = "elasticsearch"
CONFIG_NAME = "elasticsearch-config"
# Every object the control plane creates inside a tenant namespace, (kind, name), in
# the order they are removed when the namespace itself must stay: the workload first.
CLUSTER_OBJECTS = (
    ("StatefulSet", STATEFULSET_NAME),
    ("PodDisruptionBudget", DISRUPTION_BUDGET_NAME),
    ("ConfigMap", CONFIG_NAME),
    ("Service", CLIENT_SERVICE_NAME),
    ("Service", HEADLESS_SERVICE_NAME),
    ("Secret", CREDENTIALS_SECRET_NAME),
    ("Secret", REPORTER_SECRET_NAME),
    ("Secret", TLS_SECRET_NAME),
    ("NetworkPolicy", NETWORK_POLICY_NAME),
    ("ResourceQuota", QUOTA_NAME),
    ("LimitRange", LIMIT_RANGE_NAME),
)
