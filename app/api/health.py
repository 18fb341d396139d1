"""``GET /readyz``: whether the server is ready, and which kind of Kubernetes it drives.

Public (no token), like ``/openapi.json``, so a load balancer or a kubelet can probe it.
Ready means the runtime is open: uvicorn finishes the lifespan (migrations, the
Kubernetes connection, resumed work) before it accepts a connection, and stops
accepting before it closes the runtime, so a server that answers at all is ready.
``kubernetes`` says plainly whether clusters are really run (``kubeconfig``,
``incluster``) or only emulated (``sandbox``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.runtime import Runtime


class Readiness(BaseModel):
    """The answer of ``GET /readyz`` (also what the OpenAPI document describes)."""

    status: Literal["ready"] = "ready"
    kubernetes: Literal["sandbox", "kubeconfig", "incluster"] = Field(
        description="sandbox: the built-in emulated cluster (nothing really runs); "
        "kubeconfig or incluster: a real cluster"
    )


async def readyz(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    answer = Readiness(kubernetes=runtime.kube_target.mode.value)  # type: ignore[arg-type]
    return JSONResponse(answer.model_dump())


routes = [Route("/readyz", readyz, methods=["GET"])]
