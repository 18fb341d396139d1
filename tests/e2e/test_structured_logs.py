"""ESS_LOG_FORMAT=json on a real server (uvicorn in its own process): every line of its
output is one JSON object, and the request id a create is answered with is on the
request's own lines (uvicorn's access line included) and on every line of the
background provisioning it started, with the cluster's namespace. Work resumed after a
restart belongs to no request: it logs under an id of its own."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.factories import cluster_body
from tests.support.http import wait_for_status
from tests.support.servers import ServerProcess

WORKER = "app.tenancy.provisioning"


def log_lines(server: ServerProcess) -> list[dict[str, Any]]:
    """Every line the server wrote, each parsed as JSON (a line that is not fails)."""
    lines = []
    for text in server.log().splitlines():
        line = json.loads(text)
        assert {"time", "level", "logger", "message"} <= set(line), text
        lines.append(line)
    return lines


def create(http: httpx.Client, org: str, service: str, **headers: str) -> httpx.Response:
    response = http.post("/clusters", json=cluster_body(org, "alice", service), headers=headers)
    assert response.status_code == 202, response.text
    return response


def settled(http: httpx.Client, org: str, service: str) -> dict[str, Any]:
    return wait_for_status(
        http, user="alice", service_name=service, tenant_org_id=org, wanted={"created"}
    )


def test_a_creates_request_id_follows_it_into_provisioning(
    make_server: Callable[..., ServerProcess], org: str
) -> None:
    server = make_server(ESS_LOG_FORMAT="json")
    with server.client() as http:
        response = create(http, org, "traced")
        request_id = response.headers["x-request-id"]
        namespace = settled(http, org, "traced")["namespace"]
        # A caller's own id is kept; one that could forge log lines is replaced.
        chosen = create(http, org, "chosen", **{"X-Request-ID": "trace-4bf92f3577b34da6"})
        forged = create(http, org, "forged", **{"X-Request-ID": 'x" level="CRITICAL'})
        settled(http, org, "chosen")
    assert chosen.headers["x-request-id"] == "trace-4bf92f3577b34da6"
    assert forged.headers["x-request-id"] not in ('x" level="CRITICAL', request_id)
    assert len(request_id) == 32

    lines = log_lines(server)
    mine = [line for line in lines if line.get("request_id") == request_id]
    (access,) = [line for line in mine if line["logger"] == "uvicorn.access"]
    assert (access["method"], access["path"], access["status"]) == ("POST", "/clusters", 202)
    work = [line for line in mine if line["logger"] == WORKER]
    assert [line["message"].split(" of cluster ")[0] for line in work] == ["create", "create"]
    assert ": done in " in work[-1]["message"]
    assert all(line["namespace"] == namespace for line in work)
    # No other request's work under this id.
    assert {line.get("namespace") for line in mine} <= {None, namespace}
    chosen_work = [
        line
        for line in lines
        if line.get("request_id") == "trace-4bf92f3577b34da6" and line["logger"] == WORKER
    ]
    assert chosen_work and all(line["namespace"] != namespace for line in chosen_work)


def test_work_resumed_after_a_restart_logs_under_an_id_of_its_own(
    make_server: Callable[..., ServerProcess], org: str
) -> None:
    server = make_server(ESS_LOG_FORMAT="json")
    server.sandbox.hold_readiness(f"{org}-alice-resumed")
    with server.client() as http:
        request_id = create(http, org, "resumed").headers["x-request-id"]
        wait_for_status(
            http, user="alice", service_name="resumed", tenant_org_id=org, wanted={"creating"}
        )
    server.restart()  # a new process and log file; a new sandbox, not held
    with server.client() as http:
        namespace = settled(http, org, "resumed")["namespace"]
    work = [
        line
        for line in log_lines(server)
        if line["logger"] == WORKER and line.get("namespace") == namespace
    ]
    assert [line["message"].split(" of cluster ")[0] for line in work] == ["create", "create"]
    (resumed_id,) = {line["request_id"] for line in work}
    assert resumed_id != request_id
