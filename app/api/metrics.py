"""``GET /metrics``: the Prometheus metrics of this process (app/telemetry.py), with the
clusters by status read from the database, the work queue's depth and the namespace
informer's state as scraped. For the platform admin's token (a scrape config carries it
as a bearer token): the counts span every tenant."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.api.rest import principal_of, runtime_of
from app.models.status import ClusterStatus
from app.telemetry import CLUSTERS, NAMESPACE_INFORMER, REGISTRY, WORK_QUEUE
from app.tenancy import queries


async def metrics(request: Request) -> Response:
    principal_of(request).require_admin()
    runtime = runtime_of(request)
    async with runtime.sessions() as session:
        counts = await queries.clusters_by_status(session=session)
    for status in ClusterStatus:
        CLUSTERS.labels(status.value).set(counts.get(status, 0))
    WORK_QUEUE.set(runtime.worker.queued())
    NAMESPACE_INFORMER.set(1 if runtime.namespaces.in_step else 0)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


routes = [Route("/metrics", metrics, methods=["GET"])]
