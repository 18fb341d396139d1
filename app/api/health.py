"""The probes: ``GET /healthz`` (the process answers) and ``GET /readyz`` (it can do its
work: the database and the Kubernetes API answer), and which kind of Kubernetes it
drives.

Public (no token), like ``/openapi.json``, so a load balancer or a kubelet can probe
them. ``/readyz`` is 503 with the problems named while the database or the Kubernetes
API does not answer within a few seconds, so a load balancer sends requests elsewhere
(the process itself is fine: ``/healthz`` stays 200, and nothing restarts it).
``kubernetes`` says plainly whether clusters are really run (``kubeconfig``,
``incluster``) or only emulated (``sandbox``).
"""

from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.kube.errors import KubeError
from app.runtime import Runtime

# How long a probe waits for each dependency: well within a kubelet's probe timeout.
CHECK_SECONDS = 3.0


class Liveness(BaseModel):
    """The answer of ``GET /healthz``."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["alive"] = "alive"


class Readiness(BaseModel):
    """The answer of ``GET /readyz``: 200 ready, 503 unavailable with its problems."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ready", "unavailable"] = "ready"
    kubernetes: Literal["sandbox", "kubeconfig", "incluster"] = Field(
        description="sandbox: the built-in emulated cluster (nothing really runs); "
        "kubeconfig or incluster: a real cluster"
    )
    problems: list[str] | None = Field(
        default=None, description="What does not answer; present only when unavailable"
    )
    warnings: list[str] | None = Field(
        default=None,
        description="Configuration that cannot work as meant (a public URL tenant clusters "
        "cannot reach); present only when there is some",
    )


async def healthz(_: Request) -> Response:
    return JSONResponse(Liveness().model_dump())


async def readyz(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    problems = [
        problem
        for problem in await asyncio.gather(_database(runtime), _kubernetes(runtime))
        if problem is not None
    ]
    answer = Readiness(
        status="unavailable" if problems else "ready",
        kubernetes=runtime.kube_target.mode.value,  # type: ignore[arg-type]
        problems=problems or None,
        warnings=list(runtime.warnings) or None,
    )
    return JSONResponse(answer.model_dump(exclude_none=True), status_code=503 if problems else 200)


async def _database(runtime: Runtime) -> str | None:
    try:
        async with asyncio.timeout(CHECK_SECONDS), runtime.sessions() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    except Exception as exc:  # any failure to answer is the answer
        return f"database: {type(exc).__name__}: {exc}"[:300]
    return None


async def _kubernetes(runtime: Runtime) -> str | None:
    kube = runtime.kube
    try:
        await kube.call_once(kube.core.list_namespace, timeout=CHECK_SECONDS, limit=1)
    except KubeError as exc:
        return f"kubernetes API at {kube.server}: {exc}"[:300]
    return None


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
]
