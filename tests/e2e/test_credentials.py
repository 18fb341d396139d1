"""Credentials are checked on every operation, over HTTP and WebSockets alike: revoked
keys stop working on sockets opened before, report tokens are verified (forged ones
are 401 everywhere), rate-limit buckets belong to verified identities, and
subscriptions per caller are bounded."""

from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.support.http import create_accepted, wait_for_status
from tests.support.kubectl import kubectl_path, run_kubectl
from tests.support.servers import ServerProcess
from tests.support.waiting import wait_until
from tests.support.websocket import bearer, close_code_at_init, codes, socket, succeeded, ws_url

SUBSCRIBE = """subscription($org: String!) {
  clusterEvents(tenantOrgId: $org) { namespace serviceName event { to } }
}"""
CREATE = """mutation($org: String!, $service: String!) {
  createCluster(input: {tenantOrgId: $org, user: "alice", serviceName: $service}) { namespace }
}"""
DELETE = "mutation($ns: String!) { deleteCluster(namespace: $ns) { status } }"
REPORT = "mutation($ns: String!) { reportDeploymentStatus(namespace: $ns, qps: 3) { qps } }"
INTROSPECTION = "{ __schema { queryType { name } } }"


def api_key(admin: httpx.Client, org: str, name: str = "k") -> dict[str, Any]:
    response = admin.post("/api-keys", json={"tenant_org_id": org, "name": name})
    assert response.status_code == 201, response.text
    key: dict[str, Any] = response.json()
    return key


def report_token(server: ServerProcess, namespace: str) -> str:
    """The deployment's token, from its Secret (there as soon as provisioning applied
    it; waiting here costs the control plane no requests)."""
    kubectl_path()

    def applied() -> bool:
        found = subprocess.run(
            [kubectl_path(), "--kubeconfig", str(server.kubeconfig), "-n", namespace, "get",
             "secret", "es-serverless-reporter", "--ignore-not-found", "-o", "name"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        return bool(found.stdout.strip())

    wait_until(applied, what="the reporter Secret")
    encoded = run_kubectl(
        server.kubeconfig, "-n", namespace, "get", "secret", "es-serverless-reporter",
        "-o", "jsonpath={.data.token}",
    )  # fmt: skip
    return base64.b64decode(encoded).decode()


# -- revoked keys on open sockets ---------------------------------------------------------


def test_a_revoked_key_is_refused_on_a_socket_opened_before(
    server: ServerProcess, client: httpx.Client, org: str
) -> None:
    key = api_key(client, org)
    with socket(server, key["secret"]) as ws:
        ws.start("events", SUBSCRIBE, {"org": org})
        assert succeeded(ws.run("before", CREATE, {"org": org, "service": "before"}))

        assert client.delete(f"/api-keys/{key['id']}").status_code == 200
        assert (
            httpx.get(f"{server.url}/tenant/containers", headers=bearer(key["secret"])).status_code
            == 401
        )
        create = ws.run("after", CREATE, {"org": org, "service": "after"})
        assert create["type"] == "error"
        assert codes(create) == ["UNAUTHENTICATED"]
        delete = ws.run("delete", DELETE, {"ns": f"{org}-alice-before"})
        assert codes(delete) == ["UNAUTHENTICATED"]
        assert codes(ws.run("read", "{ tenantContainers { id } }")) == ["UNAUTHENTICATED"]

        # The running subscription ends within a few seconds, saying why.
        ended = ws.until_end("events", timeout=5)
        assert ended[-1]["type"] == "complete"
        assert codes(ended[-2]) == ["UNAUTHENTICATED"]

    rows = client.get(f"/tenant/containers/org/{org}", params={"include_deleted": "true"}).json()
    assert [row["service_name"] for row in rows] == ["before"]
    assert rows[0]["status"] not in ("deleting", "deleted")
    audit = client.get("/audit", params={"tenant_org_id": org}).json()
    assert [e["action"] for e in audit if e["actor"] == f"key:{key['id']}"] == ["createCluster"]


# -- report tokens --------------------------------------------------------------------------


@pytest.fixture
def reporter(server: ServerProcess, client: httpx.Client, org: str) -> dict[str, str]:
    """A deployment with its genuine report token, and another one's namespace."""
    for service in ("own", "other"):
        create_accepted(client, org, "rita", service)
    wait_for_status(client, user="rita", service_name="own", tenant_org_id=org, wanted={"created"})
    namespace = f"{org}-rita-own"
    return {
        "namespace": namespace,
        "other": f"{org}-rita-other",
        "token": report_token(server, namespace),
    }


FORGERIES: dict[str, Callable[[str], str]] = {
    "bare prefix": lambda genuine: "essr_x",
    "another mac": lambda genuine: (
        genuine[:-6] + ("AAAAAA" if genuine[-6:] != "AAAAAA" else "BBBBBB")
    ),
    "unknown deployment": lambda genuine: (
        "essr_"
        + base64.urlsafe_b64encode(b"deploy_nowhere_1").decode().rstrip("=")
        + "."
        + genuine.rsplit(".", 1)[1]
    ),
    "no mac": lambda genuine: genuine.rsplit(".", 1)[0],
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_forged_report_tokens_are_401_everywhere(
    server: ServerProcess, reporter: dict[str, str], forgery: str
) -> None:
    token = FORGERIES[forgery](reporter["token"])
    assert token != reporter["token"]
    with httpx.Client(base_url=server.url, headers=bearer(token), timeout=30) as forged:
        assert forged.get("/tenant/containers").status_code == 401
        report = forged.post(f"/deployments/{reporter['namespace']}/report", json={"qps": 1})
        assert report.status_code == 401
        assert report.json() == {"error": "missing or invalid bearer token"}
        introspection = forged.post("/graphql", json={"query": INTROSPECTION})
        assert introspection.status_code == 401
        assert introspection.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert close_code_at_init(server, token, in_header=True) == 4401
    assert close_code_at_init(server, token, in_header=False) == 4401


def test_a_genuine_report_token_reports_only_its_own_deployment(
    server: ServerProcess, reporter: dict[str, str]
) -> None:
    token, namespace = reporter["token"], reporter["namespace"]
    # Self-describing: it names its deployment, so it is checked without the database.
    named, mac = token.removeprefix("essr_").split(".")
    assert (
        base64.urlsafe_b64decode(named + "=" * (-len(named) % 4))
        .decode()
        .startswith(f"deploy_{namespace}_")
    )
    assert len(mac) == 43
    with httpx.Client(base_url=server.url, headers=bearer(token), timeout=30) as http:
        own = http.post(f"/deployments/{namespace}/report", json={"qps": 7})
        assert own.status_code == 200
        assert own.json()["qps"] == 7.0
        assert (
            http.post(f"/deployments/{reporter['other']}/report", json={"qps": 7}).status_code
            == 404
        )
        assert http.get("/tenant/containers").status_code == 403  # verified, but may not read
    # Over a WebSocket it may do what it may do over HTTP, and no more.
    with socket(server, token) as ws:
        reported = ws.run("report", REPORT, {"ns": namespace})
        assert succeeded(reported), reported
        assert codes(ws.run("foreign", REPORT, {"ns": reporter["other"]})) == ["NOT_FOUND"]
        assert codes(ws.run("read", "{ tenantContainers { id } }")) == ["FORBIDDEN"]
        ws.start("events", SUBSCRIBE, {"org": "anything"})
        assert codes(ws.wait("events")) == ["FORBIDDEN"]


def test_the_legacy_graphql_ws_protocol_is_refused(server: ServerProcess) -> None:
    with (
        connect(ws_url(server), subprotocols=["graphql-ws"]) as ws,  # type: ignore[list-item]
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406


# -- rate limits per identity ---------------------------------------------------------------


def test_rate_limit_buckets_belong_to_verified_identities(
    make_server: Callable[..., ServerProcess],
) -> None:
    limit = 20
    server = make_server(ESS_RATE_LIMIT_PER_MINUTE=str(limit))
    with server.client() as admin:
        created = admin.post(
            "/clusters", json={"tenant_org_id": "rl", "user": "u", "service_name": "s"}
        )
        assert created.status_code == 202
        key = api_key(admin, "rl")["secret"]
        genuine = report_token(server, "rl-u-s")

        # Made-up report tokens (each one different) all draw from their sender's
        # address bucket: they run dry, and nobody else's does.
        bogus = [
            httpx.get(
                f"{server.url}/tenant/containers", headers=bearer(f"essr_bogus{n}")
            ).status_code
            for n in range(limit + 5)
        ]
        assert set(bogus) == {401, 429}
        assert bogus[-1] == 429
        report = httpx.post(
            f"{server.url}/deployments/rl-u-s/report", json={"qps": 1}, headers=bearer(genuine)
        )
        assert report.status_code == 200
        assert httpx.get(f"{server.url}/tenant/containers", headers=bearer(key)).status_code == 200

        # WebSocket operations draw from the same bucket as the caller's HTTP requests.
        with socket(server, key, in_header=True) as ws:
            answers = [ws.run(f"q{n}", "{ __typename }") for n in range(limit + 5)]
        passed = [succeeded(a) for a in answers]
        assert 0 < sum(passed) <= limit - 2  # the GET and the upgrade took two tokens
        assert passed == sorted(passed, reverse=True)  # once dry, it stays dry for now
        refused = answers[-1]
        assert refused["type"] == "error"
        assert codes(refused) == ["RATE_LIMITED"]
        assert refused["payload"][0]["extensions"]["retryAfter"] >= 1
        assert "retry after" in refused["payload"][0]["message"]
        # Another caller is not slowed down by this one.
        assert admin.get("/tenant/containers").status_code == 200


# -- subscriptions per caller -----------------------------------------------------------------


def test_subscriptions_per_caller_are_bounded_across_sockets(
    make_server: Callable[..., ServerProcess],
) -> None:
    server = make_server(ESS_GRAPHQL_MAX_SUBSCRIPTIONS_PER_CALLER="2")
    with server.client() as admin:
        key_a, key_b = api_key(admin, "sa")["secret"], api_key(admin, "sb")["secret"]

        def create(org: str, service: str) -> None:
            body = {"tenant_org_id": org, "user": "u", "service_name": service}
            assert admin.post("/clusters", json=body).status_code == 202

        with (
            socket(server, key_a) as first,
            socket(server, key_a) as second,
            socket(server, key_b) as other,
        ):
            first.start("1", SUBSCRIBE, {"org": "sa"})
            first.start("2", SUBSCRIBE, {"org": "sa"})
            other.start("b", SUBSCRIBE, {"org": "sb"})
            time.sleep(0.5)  # let the server register them
            create("sa", "one")
            for op_id in ("1", "2"):
                assert first.wait(op_id)["payload"]["data"]["clusterEvents"]["serviceName"] == "one"

            # A third one of the same key, on another socket, is refused.
            second.start("3", SUBSCRIBE, {"org": "sa"})
            refused = second.until_end("3", timeout=10)
            assert codes(refused[0]) == ["TOO_MANY_SUBSCRIPTIONS"]
            assert "at most 2" in refused[0]["payload"]["errors"][0]["message"]

            # Another key is not affected.
            create("sb", "two")
            assert other.wait("b")["payload"]["data"]["clusterEvents"]["serviceName"] == "two"

            # Ending one makes room for another.
            first.stop("1")
            time.sleep(0.5)
            second.start("4", SUBSCRIBE, {"org": "sa"})
            time.sleep(0.5)
            create("sa", "three")
            seen = {second.wait("4")["payload"]["data"]["clusterEvents"]["serviceName"]}
            while "three" not in seen:  # "one" may still be on its way to created
                seen.add(second.wait("4")["payload"]["data"]["clusterEvents"]["serviceName"])
