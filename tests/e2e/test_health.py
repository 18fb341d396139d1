"""The readiness probe (``GET /readyz``, no token) and the start-up log say which kind
of Kubernetes the server drives: the built-in sandbox (emulated) or a real one."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx

from tests.conftest import ServerProcess, StandaloneSandbox
from tests.support.http import create_and_wait
from tests.support.inprocess import InProcessServer
from tests.support.kubectl import run_kubectl

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
    server = make_server(
        ESS_KUBE_MODE="kubeconfig",
        KUBECONFIG=str(standalone_sandbox.kubeconfig),
        ESS_PUBLIC_URL="http://es-serverless.es-serverless.svc:8080",
    )
    response = httpx.get(f"{server.url}/readyz", timeout=10)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "kubernetes": "kubeconfig"}
    assert "SANDBOX" not in server.log()


def test_a_real_cluster_with_a_loopback_public_url_is_warned_of(
    standalone_sandbox: StandaloneSandbox, make_server: Callable[..., ServerProcess]
) -> None:
    # Unset, the public URL is the address serve listens on: loopback, which a real
    # cluster's pods cannot reach (the stand-alone sandbox stands in for one here).
    server = make_server(ESS_KUBE_MODE="kubeconfig", KUBECONFIG=str(standalone_sandbox.kubeconfig))
    response = httpx.get(f"{server.url}/readyz", timeout=10)
    assert response.status_code == 200, response.text
    [warning] = response.json()["warnings"]
    assert warning.startswith(f"ESS_PUBLIC_URL is {server.url}, a loopback address")
    assert "CONFIGURATION: ESS_PUBLIC_URL is" in server.log()


def test_with_the_sandbox_clusters_report_to_the_address_serve_listens_on(
    client: httpx.Client, server: ServerProcess, org: str
) -> None:
    created = create_and_wait(client, org, "alice", "reports")
    namespace = created["namespace"]
    secret = json.loads(
        run_kubectl(
            server.kubeconfig, "-n", namespace, "get", "secret", "es-serverless-reporter",
            "-o", "json",
        )
    )  # fmt: skip
    url = base64.b64decode(secret["data"]["url"]).decode()
    assert url == f"{server.url}/deployments/{namespace}/report"
    assert "warnings" not in httpx.get(f"{server.url}/readyz", timeout=10).json()


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
