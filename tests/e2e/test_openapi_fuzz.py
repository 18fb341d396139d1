"""Fuzzing the REST shim from its own OpenAPI document (schemathesis + hypothesis),
against the real server.

The schema is loaded from the server's ``/openapi.json``. Every operation gets valid
(positive) and invalid (negative) requests, derandomized so a run is reproducible, and
every response must hold to these properties:

* never a 5xx;
* every non-2xx body is exactly ``{"error": "<non-empty string>"}``;
* the status code is documented and the body matches the documented schema
  (schemathesis' status_code, content_type and response_schema conformance);
* invalid input is refused (schemathesis' negative_data_rejection): the document is no
  looser than the server.

After the fuzz (in the same test) nothing is half-written: every container row has its
deployment, in the same status, and every status is a known one.

Writes stay inside the fuzz's own organisation where the request names one (creates,
API keys); the cluster paths are steered half of the time to the fuzz's own clusters
so updates, reports and deletes reach real records. Run alone with ``pytest -k fuzz``.
"""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from app.settings import Settings
from tests.support.servers import ServerProcess

# Per operation and generation mode; bounded for CI (the whole run takes well under a minute).
MAX_EXAMPLES = 25
# A 429 is documented and fine, but a run made of 429s tests nothing: wait and resend.
MAX_RATE_LIMIT_WAIT = 10.0
KNOWN_STATUSES = {
    "pending", "creating", "created", "failed", "updating", "upgrading", "degraded", "deleting",
    "deleted",
}  # fmt: skip
NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


# GETs first, so the fuzz's own clusters are still there for reads, updates and
# reports before the deletes reach them.
METHOD_ORDER = {"get": 0, "post": 1, "patch": 2, "delete": 3}


@dataclass
class Fuzz:
    """The run's state: the server, the fuzz's own organisation and records."""

    server: ServerProcess
    http: httpx.Client
    org: str
    clusters: list[tuple[str, str, str]] = field(default_factory=list)  # user, service, ns
    key_ids: list[str] = field(default_factory=list)
    requests: int = 0  # every request sent with the admin token (the rate-limited caller)
    rate_limited: int = 0
    started: float = field(default_factory=time.monotonic)

    def call(self, case: Case) -> Any:
        """Send ``case`` as the administrator, resending after a 429 (Retry-After)."""
        while True:
            self.requests += 1
            response = case.call(base_url=self.server.url, headers=self.server.headers, timeout=30)
            if response.status_code != 429:
                return response
            self.rate_limited += 1
            headers = {name.lower(): values for name, values in response.headers.items()}
            _wait_after_429((headers.get("retry-after") or ["1"])[0])

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        while True:
            self.requests += 1
            response = self.http.request(method, path, **kwargs)
            if response.status_code != 429:
                return response
            self.rate_limited += 1
            _wait_after_429(response.headers.get("retry-after", "1"))

    def hand_back_rate_budget(self) -> None:
        """The admin token's rate limit is shared with every other test of the session
        server: wait until the bucket has refilled what the fuzz took beyond its refill,
        so later tests do not start on an empty one. (No wait when the server's limit
        is high enough for the fuzz: ESS_RATE_LIMIT_PER_MINUTE in its environment.)"""
        default = Settings.model_fields["rate_limit_per_minute"].default
        limit = int(self.server.env.get("ESS_RATE_LIMIT_PER_MINUTE", default))
        per_second = limit / 60
        owed = self.requests - per_second * (time.monotonic() - self.started)
        if owed > 0:
            time.sleep(min(owed, limit) / per_second)


def _wait_after_429(retry_after: str) -> None:
    try:
        wait = float(retry_after)
    except ValueError:
        wait = 1.0
    time.sleep(min(max(wait, 0.1), MAX_RATE_LIMIT_WAIT))


def _server_used_later(request: pytest.FixtureRequest) -> bool:
    """Whether a test after this module's shares the session server (and its limit)."""
    items = request.session.items
    ours = [i for i, item in enumerate(items) if getattr(item, "module", None) is request.module]
    return any("server" in getattr(item, "fixturenames", ()) for item in items[max(ours) + 1 :])


@pytest.fixture(scope="module")
def fuzz(server: ServerProcess, request: pytest.FixtureRequest) -> Iterator[Fuzz]:
    org = f"fuzz-t{os.getpid()}"
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=30) as http:
        state = Fuzz(server=server, http=http, org=org)
        for user, service in (("alice", "search"), ("bob", "images"), ("carol", "vectors")):
            body = {"tenant_org_id": org, "user": user, "service_name": service}
            response = state.request("POST", "/clusters", json=body)
            assert response.status_code == 202, response.text
            state.clusters.append((user, service, response.json()["namespace"]))
        response = state.request("POST", "/api-keys", json={"tenant_org_id": org, "name": "fuzz"})
        if response.status_code == 201:
            state.key_ids.append(response.json()["id"])
        yield state
        _delete_what_the_fuzz_created(state)
        if _server_used_later(request):
            state.hand_back_rate_budget()


@pytest.fixture(scope="module")
def api_schema(fuzz: Fuzz) -> Any:
    config = schemathesis.Config()
    config.projects.default.generation.update(
        # Unknown query parameters are ignored, as is usual, not refused: not a negative case.
        allow_extra_parameters=False,
        # Every request carries the admin token (server.headers); none is made up.
        with_security_parameters=False,
    )
    return schemathesis.openapi.from_url(
        f"{fuzz.server.url}/openapi.json", config=config, headers=fuzz.server.headers, timeout=30
    )


def _own_targets(operation: Any, fuzz: Fuzz) -> list[dict[str, Any]]:
    """Fixed parts that point a request at the fuzz's own records."""
    names = {parameter.name for parameter in operation.path_parameters}
    targets: list[dict[str, Any]] = []
    if names == {"namespace"}:
        targets = [{"path_parameters": {"namespace": ns}} for _, _, ns in fuzz.clusters]
    elif names == {"user", "service_name"}:
        targets = [
            {"path_parameters": {"user": user, "service_name": service}}
            for user, service, _ in fuzz.clusters
        ]
    elif names == {"tenant_org_id"}:
        targets = [{"path_parameters": {"tenant_org_id": fuzz.org}}]
    elif names == {"id"}:
        targets = [{"path_parameters": {"id": key_id}} for key_id in fuzz.key_ids]
    elif operation.method == "delete" and operation.path == "/clusters":
        targets = [
            {"query": {"tenant_org_id": fuzz.org, "user": user, "service_name": service}}
            for user, service, _ in fuzz.clusters
        ]
    return targets


def _strategy(operation: Any, mode: GenerationMode, fuzz: Fuzz) -> Any:
    strategies = [operation.as_strategy(generation_mode=mode)]
    # With every parameter fixed a negative case has nothing left to break.
    has_more = bool(operation.query) or bool(operation.body)
    if mode is GenerationMode.POSITIVE or has_more:
        strategies += [
            operation.as_strategy(generation_mode=mode, **target)
            for target in _own_targets(operation, fuzz)
        ]
    return st.one_of(strategies)


def _steer(case: Case, fuzz: Fuzz) -> None:
    """Keep writes that name an organisation inside the fuzz's own, and clusters small.
    Only valid values are replaced (by valid ones), so a negative case stays negative;
    schemathesis re-checks an edited case before sending it."""
    if case.operation.method not in ("post", "patch") or not isinstance(case.body, dict):
        return
    org = case.body.get("tenant_org_id")
    if isinstance(org, str) and NAME.fullmatch(org) and len(org) <= 63:
        case.body["tenant_org_id"] = fuzz.org
    replicas = case.body.get("replicas")
    if type(replicas) is int and 1 <= replicas <= 1000:
        case.body["replicas"] = 1 + replicas % 3


def _error_body_problem(response: Any) -> str | None:
    if 200 <= response.status_code < 300:
        return None
    try:
        body = response.json()
    except ValueError:
        return f"a {response.status_code} whose body is not JSON: {response.content[:200]!r}"
    if (
        not isinstance(body, dict)
        or set(body) != {"error"}
        or not isinstance(body["error"], str)
        or not body["error"].strip()
    ):
        return f'a {response.status_code} whose body is not {{"error": "..."}}: {body!r}'
    return None


def _served(operation: Any, fuzz: Fuzz) -> bool:
    """False for an operation the server does not route (yet): Starlette's 404/405."""
    path = re.sub(r"\{[^}]+\}", "fuzz-probe", operation.path)
    response = fuzz.request(operation.method.upper(), path, content=b"{}")
    if response.status_code not in (404, 405):
        return True
    error = response.json().get("error", "")
    return not error.startswith(("no such endpoint", "method "))


def _run(operation: Any, mode: GenerationMode, fuzz: Fuzz) -> None:
    def check(case: Case) -> None:
        _steer(case, fuzz)
        response = fuzz.call(case)
        problem = _error_body_problem(response)
        if problem is not None:
            raise AssertionError(f"{problem}\nReproduce with: {case.as_curl_command()}")
        case.validate_response(response, checks=CHECKS, headers=fuzz.server.headers)

    fuzz_one: Callable[[], None] = settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )(given(case=_strategy(operation, mode, fuzz))(check))
    try:
        fuzz_one()
    except Unsatisfiable:
        # Nothing in the operation can be made invalid (say, one free-form string).
        assert mode is GenerationMode.NEGATIVE, operation.label


def _operations(api_schema: Any) -> list[Any]:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    return sorted(operations, key=lambda op: (METHOD_ORDER.get(op.method, 9), op.path))


@pytest.mark.slow
def test_fuzz_every_operation(api_schema: Any, fuzz: Fuzz) -> None:
    failures: list[str] = []
    unserved: list[str] = []
    operations = _operations(api_schema)
    assert len(operations) >= 10, [op.label for op in operations]
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for operation in operations:
            if not _served(operation, fuzz):
                unserved.append(operation.label)
                continue
            try:
                _run(operation, mode, fuzz)
            except (Exception, BaseExceptionGroup) as exc:  # report every operation's failure
                failures.append(f"--- {operation.label} ({mode.value}) ---\n{exc}")
    if unserved:
        warnings.warn(
            f"documented but not served (yet): {sorted(set(unserved))}", UserWarning, stacklevel=1
        )
    assert not failures, "\n\n".join(failures)
    # What the fuzz sent left nothing half-written (checked here, after the fuzz itself,
    # not by a test that only means something when run after this one).
    _assert_nothing_half_written(fuzz)


# Bodies a generator does not make but an attacker does, each of which once made a
# 500: (method, path, body, status); {ns} is a created cluster of an organisation of
# the test's own.
DEEP = b"[" * 5000  # json.loads: RecursionError
HUGE_EXPONENT = "1e" + "1" * 5000  # int() of more than 4300 digits: ValueError
HUGE_INTEGER = b"1" + b"0" * 400  # beyond the float range: OverflowError
LONE_SURROGATE = '"\\ud800"'  # JSON text of a lone UTF-16 surrogate: no UTF-8 encoding


def _create(org: str, **fields: Any) -> bytes:
    body = {"tenant_org_id": org, "user": "eve", "service_name": "hostile", **fields}
    return json.dumps(body).encode()


def _with_surrogate(field_name: str, org: str, prefix: str = "") -> bytes:
    body = {"tenant_org_id": org, "user": "eve", "service_name": "hostile", field_name: "@"}
    surrogate = json.dumps(prefix)[:-1] + LONE_SURROGATE[1:]
    return json.dumps(body).replace('"@"', surrogate).encode()


HOSTILE: list[tuple[str, str, Callable[[str], bytes], int]] = [
    ("POST", "/clusters", lambda org: b"", 400),
    ("POST", "/clusters", lambda org: b"\xff\xfe", 400),
    ("POST", "/clusters", lambda org: b"[1, 2]", 400),
    ("POST", "/clusters", lambda org: b" " * (2 << 20), 413),
    ("POST", "/clusters", lambda org: _create(org, replicas=1e400), 400),
    ("POST", "/clusters", lambda org: DEEP, 400),
    ("PATCH", "/clusters/{ns}", lambda org: DEEP, 400),
    ("POST", "/deployments/{ns}/report", lambda org: DEEP, 400),
    ("POST", "/clusters", lambda org: _with_surrogate("tenant_org_id", org), 400),
    ("POST", "/clusters", lambda org: _with_surrogate("cpu_request", org), 400),
    ("POST", "/clusters", lambda org: _with_surrogate("gitlab_url", org, "http://"), 400),
    ("POST", "/deployments/{ns}/report", lambda org: b'{"\\ud800": 1}', 400),
    ("POST", "/clusters", lambda org: _create(org, cpu_limit=HUGE_EXPONENT), 400),
    ("PATCH", "/clusters/{ns}", lambda org: json.dumps({"disk_size": HUGE_EXPONENT}).encode(), 400),
    ("POST", "/deployments/{ns}/report", lambda org: b'{"qps": NaN}', 400),
    ("POST", "/deployments/{ns}/report", lambda org: b'{"qps": ' + HUGE_INTEGER + b"}", 400),
]  # fmt: skip


@pytest.fixture(scope="module")
def hostile_target(fuzz: Fuzz) -> str:
    """A created cluster (updatable, reportable) of an organisation of its own."""
    org = f"{fuzz.org}-hostile"
    body = {"tenant_org_id": org, "user": "mallory", "service_name": "target"}
    response = fuzz.request("POST", "/clusters", json=body)
    assert response.status_code == 202, response.text
    namespace = str(response.json()["namespace"])
    deadline = time.monotonic() + 30
    while fuzz.request("GET", f"/deployments/{namespace}").json()["status"] != "created":
        assert time.monotonic() < deadline, f"{namespace} was not created in time"
        time.sleep(0.2)
    return namespace


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        pytest.param(method, path, body, status, id=f"{method} {path} #{number}")
        for number, (method, path, body, status) in enumerate(HOSTILE)
    ],
)
def test_fuzz_hostile_bodies_are_refused_cleanly(
    fuzz: Fuzz,
    hostile_target: str,
    method: str,
    path: str,
    body: Callable[[str], bytes],
    status: int,
) -> None:
    url = fuzz.server.url + path.format(ns=hostile_target)
    fuzz.requests += 1
    # A fresh connection: after a 500 the server closes the one it answered on.
    response = httpx.request(
        method,
        url,
        content=body(f"{fuzz.org}-hostile"),
        headers={**fuzz.server.headers, "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == status, response.text
    assert _error_body_problem(response) is None, response.text


HOSTILE_QUERIES = [
    ("/tenant/containers?include_deleted=%FF", 400),
    ("/tenant/containers/u/s?tenant_org_id=%ED%A0%80", 404),
    ("/deployments/%ED%A0%80", 404),
    ("/audit?limit=0", 400),
    ("/audit?limit=%C2%B2", 400),  # "²".isdigit(), but int("²") raises
]


@pytest.mark.parametrize(("path", "status"), HOSTILE_QUERIES, ids=[p for p, _ in HOSTILE_QUERIES])
def test_fuzz_hostile_queries_are_refused_cleanly(fuzz: Fuzz, path: str, status: int) -> None:
    fuzz.requests += 1
    response = httpx.get(fuzz.server.url + path, headers=fuzz.server.headers, timeout=30)
    assert response.status_code == status, response.text
    assert _error_body_problem(response) is None, response.text


def _id_number(record_id: str) -> str:
    return record_id.rsplit("_", 1)[1]


def _namespace_problem(namespace: str, rows: list[dict[str, Any]], fuzz: Fuzz) -> str | None:
    for row in rows:
        if row["status"] not in KNOWN_STATUSES:
            return f"unknown status {row['status']!r}: {row}"
    response = fuzz.request("GET", f"/deployments/{namespace}")
    if response.status_code != 200:
        return f"no deployment for {namespace} ({response.status_code} {response.text})"
    deployment = response.json()
    # The deployment shown is the live cluster's, else the newest deleted one's.
    live = [row for row in rows if "deleted_at" not in row]
    candidates = live or rows
    matching = [row for row in candidates if _id_number(row["id"]) == _id_number(deployment["id"])]
    if not matching:
        return f"deployment {deployment['id']} matches no container in {namespace}: {rows}"
    container = matching[0]
    shared = ("tenant_org_id", "user", "service_name", "namespace", "status", "replicas",
              "gpu_count", "dimension", "vector_count")  # fmt: skip
    differing = {key for key in shared if container[key] != deployment[key]}
    if ("deleted_at" in container) != ("deleted_at" in deployment):
        differing.add("deleted_at")
    if differing:
        return f"{namespace}: container and deployment differ in {sorted(differing)}"
    return None


def _assert_nothing_half_written(fuzz: Fuzz) -> None:
    """Every container row has its deployment, in the same status, and every status is
    a known one."""
    deadline = time.monotonic() + 30
    while True:
        response = fuzz.request("GET", "/tenant/containers", params={"include_deleted": "true"})
        assert response.status_code == 200, response.text
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        for row in response.json():
            by_namespace.setdefault(row["namespace"], []).append(row)
        assert any(
            row["tenant_org_id"] == fuzz.org for rows in by_namespace.values() for row in rows
        )
        problems = [
            problem
            for namespace, rows in sorted(by_namespace.items())
            if (problem := _namespace_problem(namespace, rows, fuzz)) is not None
        ]
        # Provisioning goes on in the background between the two reads: look again.
        if not problems or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert not problems, "\n".join(problems)


def _delete_what_the_fuzz_created(fuzz: Fuzz) -> None:
    """Leave the shared server lighter for the tests after this module."""
    response = fuzz.request("GET", "/tenant/containers", params={"include_deleted": "true"})
    for row in response.json():
        if row["tenant_org_id"].startswith(fuzz.org) and "deleted_at" not in row:
            fuzz.request("DELETE", f"/clusters/{row['namespace']}")
