"""The generated OpenAPI document against the code it describes: every route the REST
shim serves is documented and nothing else is, and the request schemas agree with the
models that validate requests (no server needed; the fuzz test checks the rest)."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
from starlette.routing import Route

from app.api.openapi import DOCUMENT, OPERATIONS
from app.server import create_app
from app.settings import Settings
from app.tenancy.errors import InvalidInput
from app.tenancy.naming import ReservedNamespaces
from app.tenancy.requests import parse_create_request
from app.tenancy.sizing import size_planned_cluster
from app.tenancy.usage import parse_usage_report

RESERVED = ReservedNamespaces.of(platform_namespace="es-serverless")


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_every_served_route_is_documented_and_nothing_else() -> None:
    # The app's own routes (its lifespan is not run): every REST module's, whatever
    # they are, and GraphQL's with GraphiQL's files, which this document does not describe.
    app = create_app(Settings())
    served = {
        (method.lower(), _shape(route.path))
        for route in app.routes
        if isinstance(route, Route)
        and route.path != "/graphql"
        and not route.path.startswith("/graphiql/")
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {
        (method, _shape(path)) for path, item in DOCUMENT["paths"].items() for method in item
    }
    assert documented == served
    assert len({op.operation_id for op in OPERATIONS}) == len(OPERATIONS)


def _body_schema(path: str, method: str) -> dict[str, Any]:
    content = DOCUMENT["paths"][path][method]["requestBody"]["content"]
    schema = dict(content["application/json"]["schema"])
    return {**schema, "components": DOCUMENT["components"]}


def _valid(schema: dict[str, Any], body: dict[str, Any]) -> bool:
    return bool(jsonschema_rs.validator_for(schema).is_valid(body))


NAMES = {"tenant_org_id": "org-1", "user": "alice", "service_name": "search"}


@pytest.mark.parametrize(
    "body",
    [
        NAMES,
        {**NAMES, "replicas": None, "gitlab_url": "", "namespace": ""},
        {**NAMES, "replicas": 3, "cpu_request": "1", "cpu_limit": "4", "vector_count": 2**40},
        {**NAMES, "namespace": "org-1-x", "gitlab_url": "https://gitlab.example/x"},
    ],
)
def test_what_the_create_model_accepts_the_document_allows(body: dict[str, Any]) -> None:
    parse_create_request(body, reserved=RESERVED, org_prefixed=False)
    assert _valid(_body_schema("/clusters", "post"), body)


@pytest.mark.parametrize(
    "body",
    [
        {"user": "alice", "service_name": "search"},
        {**NAMES, "user": "Alice"},
        {**NAMES, "Replicas": 2},
        {**NAMES, "replicas": 0},
        {**NAMES, "replicas": "2"},
        {**NAMES, "cpu_request": "-1"},
        {**NAMES, "namespace": "kube-system"},
        {**NAMES, "gitlab_url": "ftp://x"},
    ],
)
def test_what_the_document_refuses_the_create_model_refuses(body: dict[str, Any]) -> None:
    assert not _valid(_body_schema("/clusters", "post"), body)
    with pytest.raises(InvalidInput):
        parse_create_request(body, reserved=RESERVED, org_prefixed=False)


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"qps": 1}, True),
        ({"qps": None, "cpu_usage": 0.5}, True),
        ({}, False),
        ({"qps": None}, False),
        ({"qps": -1}, False),
        ({"qps": "1"}, False),
        ({"qps": 1, "other": 2}, False),
    ],
)
def test_the_usage_report_schema_and_model_agree(body: dict[str, Any], valid: bool) -> None:
    assert _valid(_body_schema("/deployments/{namespace}/report", "post"), body) is valid
    if valid:
        parse_usage_report(body)
    else:
        with pytest.raises(InvalidInput):
            parse_usage_report(body)


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({}, True),
        ({"replicas": None, "mem_limit": None, "quantization": None}, True),
        ({"replicas": 3, "mem_limit": "8Gi", "dimension": 768, "vector_count": 2**40}, True),
        ({"quantization": "int4_hnsw", "dimension": 512}, True),
        ({"quantization": "int2"}, False),
        ({"replicas": 0}, False),
        ({"mem_limit": "2GB"}, False),
        ({"vector_count": -1}, False),
        ({"cpu_limit": "2"}, False),
    ],
)
def test_the_sizing_dry_run_schema_and_model_agree(body: dict[str, Any], valid: bool) -> None:
    assert _valid(_body_schema("/sizing", "post"), body) is valid
    if valid:
        size_planned_cluster(payload=body)
    else:
        with pytest.raises(InvalidInput):
            size_planned_cluster(payload=body)


@pytest.mark.parametrize(
    ("path", "most"),
    [
        ("/tenant/containers", 100),
        ("/tenant/containers/org/{tenant_org_id}", 100),
        ("/tenant/containers/{user}/{service_name}/events", 100),
        ("/api-keys", 100),
        ("/audit", 1000),
    ],
)
def test_the_paged_listings_document_limit_cursor_and_the_next_page(path: str, most: int) -> None:
    operation = DOCUMENT["paths"][path]["get"]
    parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    assert parameters["limit"]["schema"]["maximum"] == most
    assert parameters["limit"]["schema"]["minimum"] == 1
    assert parameters["cursor"]["schema"] == {"type": "string"}
    headers = operation["responses"]["200"]["headers"]
    assert {"Link", "X-Next-Cursor"} <= set(headers)
    assert "400" in operation["responses"]
