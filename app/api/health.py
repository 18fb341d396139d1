"""``GET /readyz``: whether the server is ready, and which kind of Kubernetes it drives.

Public (no token), like ``/openapi.json``, so a load balancer or a kubelet can probe it.
Ready means the runtime is open: uvicorn finishes the lifespan (migrations, the
Kubernetes connection, resumed work) before it accepts a connection, and stops
accepting before it closes the runtime, so a server that answers at all is ready.
``kubernetes`` says plainly whether clusters are really run (``kubeconfig``,
``incluster``) or only emulated (``sandbox``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.runtime import Runtime


async def readyz(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    return JSONResponse({"status": "ready", "kubernetes": runtime.kube_target.mode.value})


routes = [Route("/readyz", readyz, methods=["GET"])]
