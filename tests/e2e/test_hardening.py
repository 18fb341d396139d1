"""Hardening: secure defaults, request limits, GraphQL limits, security headers.

In process, except what only the command line or uvicorn itself does (refusing a
configuration at start, timing out stalled request headers): those start
``es-serverless`` in a subprocess."""

from __future__ import annotations

import json
import logging
import socket
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from app.settings import AuthMode
from tests.conftest import MakeApp
from tests.support.database import execute
from tests.support.inprocess import InProcessServer, create_and_wait, graphql
from tests.support.servers import ServerProcess, server_env


async def test_without_an_admin_token_one_is_generated_privately(
    make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = await make_app(admin_token=None)
    token_file = app.settings.data_dir / "admin-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token = token_file.read_text().strip()
    assert len(token) >= 32
    assert str(token_file) in caplog.text  # the log says where to read it
    assert token not in caplog.text
    async with app.client(token=token) as admin:
        assert (await admin.get("/tenant/containers")).status_code == 200
    async with app.client(token=None) as anonymous:
        assert (await anonymous.get("/tenant/containers")).status_code == 401


def test_short_placeholder_secrets_are_refused(tmp_path: Path) -> None:
    env = server_env(tmp_path, ESS_ADMIN_TOKEN="changeme")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "at least 16 characters" in result.stderr


def test_an_unusable_rate_limit_storage_stops_the_start(tmp_path: Path) -> None:
    env = server_env(tmp_path, ESS_RATE_LIMIT_STORAGE="bogus://")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--port", "1"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "rate limit storage 'bogus://'" in result.stderr


def test_auth_disabled_is_refused_off_loopback(tmp_path: Path) -> None:
    env = server_env(tmp_path, ESS_AUTH="disabled")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--host", "0.0.0.0", "--port", "1"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "ESS_AUTH=disabled" in result.stderr


async def test_auth_disabled_lets_everyone_in_as_admin(make_app: MakeApp) -> None:
    app = await make_app(auth=AuthMode.DISABLED)
    async with app.client(token=None) as anyone:
        assert (await anyone.get("/api-keys")).status_code == 200


async def test_rate_limit_answers_429_with_retry_after(make_app: MakeApp) -> None:
    app = await make_app(rate_limit_per_minute=5)
    async with app.client() as admin:
        codes = [(await admin.get("/tenant/containers")).status_code for _ in range(8)]
        assert codes[:5] == [200] * 5
        assert 429 in codes[5:]
        limited = await admin.get("/tenant/containers")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert set(limited.json()) == {"error"}
    # The limit is per caller: someone else is not slowed down by this one.
    async with app.client(token="ess_x_y") as other:
        assert (await other.get("/tenant/containers")).status_code == 401


async def test_oversized_bodies_are_413(admin_client: httpx.AsyncClient) -> None:
    big = b'{"tenant_org_id": "' + b"x" * (2 << 20) + b'"}'
    response = await admin_client.post(
        "/clusters", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert set(response.json()) == {"error"}

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"padding": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    streamed = await admin_client.post(
        "/clusters", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


def test_refusals_carry_security_headers_and_refused_writes_are_audited(
    make_server: Callable[..., ServerProcess],
) -> None:
    server = make_server(ESS_RATE_LIMIT_PER_MINUTE="10")
    anonymous = httpx.Client(base_url=server.url, timeout=30)
    with server.client() as admin, anonymous:
        unauthenticated = anonymous.post("/clusters", json={})
        assert unauthenticated.status_code == 401
        assert unauthenticated.json() == {"error": "missing or invalid bearer token"}
        assert unauthenticated.headers["www-authenticate"] == 'Bearer realm="es-serverless"'
        on_graphql = anonymous.post("/graphql", json={"query": "{ __typename }"})
        assert on_graphql.json() == {
            "errors": [
                {
                    "message": "missing or invalid bearer token",
                    "extensions": {"code": "UNAUTHENTICATED"},
                }
            ]
        }
        too_large = admin.patch("/clusters/x", content=b"{}" + b" " * (2 << 20))
        assert too_large.status_code == 413
        # Spend the rest of the address's budget (the server's start-up probe took some).
        reads = [anonymous.get("/tenant/containers").status_code for _ in range(9)]
        assert set(reads) == {401, 429} and reads[-1] == 429
        limited = anonymous.delete("/clusters/x")
        assert limited.status_code == 429
        assert limited.json() == {"error": "rate limit exceeded; slow down"}
        for refusal in (unauthenticated, on_graphql, too_large, limited):
            assert refusal.headers["x-content-type-options"] == "nosniff"
            assert refusal.headers["cache-control"] == "no-store"
        # A refusal is audited after it is answered: wait for the last ones.
        for _ in range(9):
            entries = admin.get("/audit").json()
            if len(entries) >= 4:
                break
            time.sleep(0.2)
    # (In any order: each is written after its answer, and the writes may overtake.)
    assert sorted((e["actor"], e["action"], e["outcome"]) for e in entries) == [
        ("admin", "PATCH /clusters/x", "refused 413"),
        ("anonymous", "DELETE /clusters/x", "refused 429"),
        ("anonymous", "POST /clusters", "refused 401"),
        ("anonymous", "POST /graphql", "refused 401"),
    ]


async def test_graphiql_page_is_public_and_carries_security_headers(
    app_server: InProcessServer,
) -> None:
    async with app_server.client(token=None) as anonymous:
        page = await anonymous.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"


async def test_json_answers_carry_security_headers(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.get("/tenant/containers")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


async def test_graphql_depth_limit(make_app: MakeApp) -> None:
    # The schema has no cycles, so the default limit (10) is out of reach of any real
    # query; a server with a small limit shows it is enforced.
    app = await make_app(graphql_max_depth=3)
    async with app.client() as admin:
        shallow = await graphql(admin, '{ organization(id: "x") { users { name } } }')
        assert "errors" not in shallow
        deep = await graphql(
            admin, '{ organization(id: "x") { users { containers { deployment { id } } } } }'
        )
        assert "exceeds maximum operation depth of 3" in deep["errors"][0]["message"]
        # Introspection (what GraphiQL sends) is not counted.
        introspection = await graphql(
            admin, "{ __schema { types { fields { type { ofType { ofType { name } } } } } } }"
        )
        assert "errors" not in introspection


async def test_graphql_alias_limit(admin_client: httpx.AsyncClient) -> None:
    many = "{ " + " ".join(f'a{n}: organization(id: "x") {{ id }}' for n in range(31)) + " }"
    body = await graphql(admin_client, many)
    assert body["errors"]
    assert "aliases" in body["errors"][0]["message"]
    few = "{ " + " ".join(f'a{n}: organization(id: "x") {{ id }}' for n in range(5)) + " }"
    assert "errors" not in await graphql(admin_client, few)


async def test_graphql_token_limit(admin_client: httpx.AsyncClient) -> None:
    huge = '{ organization(id: "x") { ' + "id " * 6000 + "} }"
    body = await graphql(admin_client, huge)
    assert body["errors"]
    assert "token" in body["errors"][0]["message"].lower()


async def test_introspection_can_be_switched_off(make_app: MakeApp) -> None:
    app = await make_app(graphql_introspection=False)
    async with app.client() as admin:
        body = await graphql(admin, "{ __schema { types { name } } }")
        assert body["errors"]
        assert "introspection" in body["errors"][0]["message"].lower()
        assert "errors" not in await graphql(admin, '{ organization(id: "x") { id } }')


@pytest.mark.parametrize("path", ["/clusters", "/api-keys"])
async def test_wrong_content_is_a_clear_4xx_not_a_500(
    admin_client: httpx.AsyncClient, path: str
) -> None:
    for content_type, status in (("application/json", 400), ("application/octet-stream", 415)):
        response = await admin_client.post(
            path, content=b"\x00\x01binary", headers={"Content-Type": content_type}
        )
        assert response.status_code == status
        assert set(response.json()) == {"error"}


async def test_graphql_complexity_limit_catches_fragment_bombs(
    admin_client: httpx.AsyncClient,
) -> None:
    # Each fragment spreads the previous one twice: 2**12 fields from a dozen lines.
    fragments = ["fragment F0 on Organization { id }"]
    fragments += [
        f"fragment F{n} on Organization {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, 13)
    ]
    bomb = '{ organization(id: "x") { ...F12 } } ' + " ".join(fragments)
    body = await graphql(admin_client, bomb)
    assert "more than the limit of 1000" in body["errors"][0]["message"]
    small = '{ organization(id: "x") { ...F3 } } ' + " ".join(fragments[:4])
    assert "errors" not in await graphql(admin_client, small)


async def test_graphiqls_own_introspection_query_fits_every_limit(
    admin_client: httpx.AsyncClient,
) -> None:
    from graphql import get_introspection_query

    body = await graphql(admin_client, get_introspection_query(descriptions=True))
    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_unexpected_errors_are_masked(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await create_and_wait(admin_client, "masked", "u", "s")
    # Break the database under the running server: every read of deployments now
    # fails inside SQLAlchemy with a message full of SQL.
    await execute(
        app_server.settings.database_url_resolved,
        "ALTER TABLE deployment_statuses RENAME TO hidden_statuses",
    )
    rest = await admin_client.get("/deployments/masked-u-s")
    assert rest.status_code == 500
    assert rest.json() == {"error": "internal server error"}
    assert rest.headers["x-content-type-options"] == "nosniff"
    body = await graphql(admin_client, '{ deploymentStatus(namespace: "masked-u-s") { id } }')
    assert body["errors"] == [
        {
            "message": "internal server error",
            "locations": body["errors"][0]["locations"],
            "path": ["deploymentStatus"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
    ]
    assert "hidden" not in rest.text + json.dumps(body)
    assert "deployment_statuses" not in rest.text + json.dumps(body)
    # The unexpected failure is in the log with its traceback, for the operator.
    failed = [r for r in caplog.records if r.getMessage().startswith("GraphQL request failed")]
    assert failed and all(r.levelno == logging.ERROR and r.exc_info for r in failed)
    rest_failed = [
        r for r in caplog.records if r.getMessage() == "GET /deployments/masked-u-s failed"
    ]
    assert rest_failed and rest_failed[0].exc_info


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        '{"query": "{ __typename }", "variables": {"v": ' + DEEP + "}}",
    ],
    ids=["body", "variables"],
)
async def test_deeply_nested_json_on_graphql_is_400_like_rest(
    admin_client: httpx.AsyncClient, body: str
) -> None:
    response = await admin_client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"message": "request body is nested too deeply", "extensions": {"code": "BAD_REQUEST"}}
        ]
    }
    shallower = "[" * 3000 + "]" * 3000  # still past the parser's limit, and fits a URL
    query = await admin_client.get(
        "/graphql", params={"query": "{ __typename }", "variables": shallower}
    )
    assert query.status_code == 400
    assert query.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    rest = await admin_client.post(
        "/clusters", content=DEEP, headers={"Content-Type": "application/json"}
    )
    assert rest.json() == {"error": "request body is nested too deeply"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Unable to parse request body as JSON"),
        (b"", "Unable to parse request body as JSON"),
        (b'"{ __typename }"', "a JSON object was expected, not a string"),
        (b"42", "a JSON object was expected, not a number"),
        (b"null", "a JSON object was expected, not null"),
        (b"true", "a JSON object was expected, not a boolean"),
        # Batching (a list of operations) is not offered.
        (b'[{"query": "{ __typename }"}, {"query": "{ __typename }"}]', "Batching is not enabled"),
        (b"[]", "Batching is not enabled"),
        (b'{"query": 5}', "The GraphQL operation's `query` must be a string or null, if provided."),
        (b'{"variables": {}}', "No GraphQL query found in the request"),
    ],
)
async def test_unparsable_graphql_bodies_get_json_errors(
    admin_client: httpx.AsyncClient, body: bytes, message: str
) -> None:
    response = await admin_client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}


async def test_a_subscription_over_plain_http_is_a_bad_request(
    admin_client: httpx.AsyncClient,
) -> None:
    """One HTTP answer cannot carry a stream: refused, not run as a query that fails
    on its stream (a masked internal error)."""
    subscription = 'subscription { clusterEvents(tenantOrgId: "o") { namespace } }'
    post = await admin_client.post("/graphql", json={"query": subscription})
    get = await admin_client.get("/graphql", params={"query": subscription})
    for response, method in ((post, "POST"), (get, "GET")):
        assert response.status_code == 400
        assert response.json() == {
            "errors": [
                {
                    "message": f"subscriptions are not allowed when using {method}",
                    "extensions": {"code": "BAD_REQUEST"},
                }
            ]
        }


async def test_graphql_get_variables_must_be_an_object(admin_client: httpx.AsyncClient) -> None:
    for variables, message in (("5", "a JSON object was expected, not a number"), ("{x", "Unable to parse request body as JSON")):
        response = await admin_client.get(
            "/graphql", params={"query": "{ __typename }", "variables": variables}
        )
        assert response.status_code == 400
        assert response.json()["errors"] == [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/graphql", None],
)
async def test_a_graphql_body_that_is_not_json_by_its_type_is_415(
    admin_client: httpx.AsyncClient, org: str, content_type: str | None
) -> None:
    mutation = f'mutation {{ createCluster(input: {{tenantOrgId: "{org}", user: "u", serviceName: "s"}}) {{ id }} }}'
    headers = {"Content-Type": content_type} if content_type else {}
    response = await admin_client.post(
        "/graphql", content=json.dumps({"query": mutation}), headers=headers
    )
    assert response.status_code == 415
    message = (
        f"the request body must be JSON (Content-Type: application/json), not {content_type}"
        if content_type
        else "the request body must be JSON: Content-Type: application/json"
    )
    assert response.json() == {"errors": [{"message": message, "extensions": {"code": "UNSUPPORTED_MEDIA_TYPE"}}]}
    assert (await admin_client.get(f"/tenant/containers/org/{org}")).json() == []


async def test_variable_coercion_errors_are_bad_user_input(
    admin_client: httpx.AsyncClient,
) -> None:
    body = await graphql(
        admin_client, "query($n: Int!) { auditLog(limit: $n) { id } }", {"n": "not a number"}
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "Int cannot represent" in body["errors"][0]["message"]
    literal = await graphql(
        admin_client, '{ tenantContainer(user: "a", serviceName: "b", tenantOrgId: 5) { id } }'
    )
    assert literal["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_expected_refusals_are_logged_at_info_without_traceback(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for _ in range(3):
        body = await graphql(admin_client, 'mutation { deleteCluster(namespace: "nope-x") { id } }')
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    key = (await admin_client.post("/api-keys", json={"tenant_org_id": "logs", "name": "k"})).json()
    async with app_server.client(token=key["secret"]) as org_client:
        forbidden = await graphql(org_client, "{ apiKeys { id } }")
        assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = [
        (r.name, r.levelname)
        for r in caplog.records
        if r.getMessage() == 'GraphQL request refused: no cluster in namespace "nope-x"'
    ]
    assert refused == [("app.api.graphql.errors", "INFO")] * 3
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_stalled_request_headers_are_timed_out(make_server: Callable[..., ServerProcess]) -> None:
    server = make_server(ESS_HTTP_HEADER_TIMEOUT_SECONDS="1")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as stalled:
        stalled.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n")  # never finished
        answer = _read_until_closed(stalled)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as silent:
        assert _read_until_closed(silent).startswith(b"HTTP/1.1 408")
    # A kept-alive connection: the first request is answered, a stalled second one is not
    # held either.
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as kept:
        kept.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
        assert kept.recv(100).startswith(b"HTTP/1.1 200 OK")
        kept.sendall(b"GET /openapi.json HTTP/1.1\r\nHo")
        assert b"HTTP/1.1 408" in _read_until_closed(kept)
    assert httpx.get(f"{server.url}/openapi.json").status_code == 200  # still serving


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (the socket's own
    timeout fails the test if it never does)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


async def test_a_405_says_what_the_path_allows(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.put("/clusters")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, POST"
    assert response.json() == {"error": "method PUT is not allowed on /clusters"}
    response = await admin_client.post("/tenant/quota/org/org-1")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, HEAD, PUT"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_a_body_that_is_not_json_by_its_type_is_415(
    admin_client: httpx.AsyncClient, org: str, content_type: str
) -> None:
    body = f'{{"tenant_org_id": "{org}", "user": "u", "service_name": "s"}}'
    response = await admin_client.post(
        "/clusters", content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == 415
    assert response.json() == {
        "error": "the request body must be JSON (Content-Type: application/json), "
        f"not {content_type}"
    }
    assert (await admin_client.get(f"/tenant/containers/org/{org}")).json() == []
    # JSON by any spelling of its type goes through.
    response = await admin_client.post(
        "/clusters", content=body, headers={"Content-Type": "Application/JSON; charset=utf-8"}
    )
    assert response.status_code == 202, response.text


async def test_a_nul_character_in_the_path_or_query_is_refused_not_a_500(
    admin_client: httpx.AsyncClient,
) -> None:
    # PostgreSQL refuses NUL in any text: the lookup must never be tried.
    for url in (
        "/tenant/containers/alice/search?tenant_org_id=o%00x",
        "/tenant/containers/al%00ice/search?tenant_org_id=o",
        "/tenant/containers?service_prefix=a%00",
    ):
        response = await admin_client.get(url)
        assert response.status_code == 400, (url, response.text)
        assert response.json() == {
            "error": "the request path or query contains a NUL character (%00)"
        }
