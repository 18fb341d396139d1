"""The Prometheus metrics of the control plane, one set per process: request latency,
how long provisioning work takes and how it ends, Kubernetes API errors; and, read when
scraped (app/api/metrics.py), clusters by status, the work queue's depth and whether the
namespace informer is in step.

Labels stay few and bounded (a route's first path segment, never an id), so a scrape
stays small however many tenants there are.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()

REQUEST_SECONDS = Histogram(
    "ess_http_request_seconds",
    "HTTP requests by method, first path segment and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
WORK_SECONDS = Histogram(
    "ess_cluster_work_seconds",
    "Provisioning work on one cluster (create, update, delete) and how it ended",
    ["operation", "outcome"],
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800),
    registry=REGISTRY,
)
KUBE_ERRORS = Counter(
    "ess_kubernetes_api_errors_total",
    "Kubernetes API calls that failed, by HTTP status (0: no answer)",
    ["status"],
    registry=REGISTRY,
)
CLUSTERS = Gauge(
    "ess_clusters",
    "Clusters by status (read from the database when scraped)",
    ["status"],
    registry=REGISTRY,
)
WORK_QUEUE = Gauge(
    "ess_work_queue_depth",
    "Clusters this process has work for (working or waiting for a slot)",
    registry=REGISTRY,
)
NAMESPACE_INFORMER = Gauge(
    "ess_namespace_informer_in_step",
    "1 while the namespace informer's watch is in step (creates answered from it), "
    "0 while every create asks the API server",
    registry=REGISTRY,
)


def route_of(path: str) -> str:
    """A path's first segment: "/clusters/org-1-a-b" -> "/clusters"."""
    first = path.lstrip("/").split("/", 1)[0]
    return f"/{first}"
