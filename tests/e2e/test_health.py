"""The readiness probe (``GET /readyz``, no token) and the start-up log say which kind
of Kubernetes the server drives: the built-in sandbox (emulated) or a real one."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.conftest import ServerProcess, StandaloneSandbox
from tests.support.inprocess import InProcessServer

SANDBOX_WARNING = "WARNING app.runtime: Kubernetes target: the built-in SANDBOX cluster"


def test_readyz_answers_without_a_token_and_names_the_sandbox(server: ServerProcess) -> None:
    response = httpx.get(f"{server.url}/readyz", timeout=10)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "kubernetes": "sandbox"}
    # Public means this one path: the API next to it still wants a token.
    assert httpx.get(f"{server.url}/tenant/containers", timeout=10).status_code == 401
    warning = next(line for line in server.log().splitlines() if SANDBOX_WARNING in line)
    assert "emulated; no real workloads run" in warning
    assert str(server.kubeconfig) in warning


def test_readyz_on_a_configured_cluster_says_kubeconfig(
    standalone_sandbox: StandaloneSandbox, make_server: Callable[..., ServerProcess]
) -> None:
    server = make_server(ESS_KUBE_MODE="kubeconfig", KUBECONFIG=str(standalone_sandbox.kubeconfig))
    response = httpx.get(f"{server.url}/readyz", timeout=10)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "kubernetes": "kubeconfig"}
    assert "SANDBOX" not in server.log()


async def test_healthz_is_alive_and_readyz_says_when_kubernetes_does_not_answer(
    app_server: InProcessServer,
) -> None:
    async with app_server.client(token=None) as anonymous:
        alive = await anonymous.get("/healthz")
        assert (alive.status_code, alive.json()) == (200, {"status": "alive"})
        ready = await anonymous.get("/readyz")
        assert (ready.status_code, ready.json()) == (
            200,
            {"status": "ready", "kubernetes": "sandbox"},
        )

        await app_server.sandbox.inject_fault(method="GET", resource="namespaces", status=503)
        unready = await anonymous.get("/readyz")
        assert unready.status_code == 503
        body = unready.json()
        assert (body["status"], body["kubernetes"]) == ("unavailable", "sandbox")
        [problem] = body["problems"]
        assert problem.startswith("kubernetes API at http://127.0.0.1:")
        # The process itself is fine: nothing should restart it.
        assert (await anonymous.get("/healthz")).status_code == 200
