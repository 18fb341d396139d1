"""A blank (empty or whitespace-only) tenant_org_id, user or service_name is missing,
with the specification's message, over REST and GraphQL, for the admin and for an
organisation's key alike; and nothing is recorded. In process."""

from __future__ import annotations

import httpx
import pytest

from tests.support.inprocess import InProcessServer, graphql

MESSAGES = {
    "tenant_org_id": "tenant_org_id is required for multi-tenancy",
    "user": "user is required",
    "service_name": "service_name is required",
}
GRAPHQL_NAMES = {"tenant_org_id": "tenantOrgId", "user": "user", "service_name": "serviceName"}
CREATE = "mutation($input: CreateClusterInput!) { createCluster(input: $input) { id } }"
BLANKS = ["", " ", "\t", " \n "]


async def _org_key(admin: httpx.AsyncClient, org: str) -> str:
    response = await admin.post("/api-keys", json={"tenant_org_id": org, "name": "k"})
    assert response.status_code == 201, response.text
    return str(response.json()["secret"])


@pytest.mark.parametrize("blank", BLANKS, ids=repr)
@pytest.mark.parametrize("field", ["user", "service_name"])
async def test_a_blank_name_is_missing_over_rest_and_graphql(
    app_server: InProcessServer, admin_client: httpx.AsyncClient, org: str, field: str, blank: str
) -> None:
    body = {"tenant_org_id": org, "user": "alice", "service_name": "svc", field: blank}
    key = await _org_key(admin_client, org)
    async with app_server.client(token=key) as org_client:
        for http in (admin_client, org_client):
            response = await http.post("/clusters", json=body)
            assert (response.status_code, response.json()) == (400, {"error": MESSAGES[field]})
            answer = await graphql(
                http, CREATE, {"input": {GRAPHQL_NAMES[k]: v for k, v in body.items()}}
            )
            [error] = answer["errors"]
            assert (error["message"], error["extensions"]["code"]) == (
                MESSAGES[field],
                "BAD_USER_INPUT",
            )
    listed = await admin_client.get(
        f"/tenant/containers/org/{org}", params={"include_deleted": "true"}
    )
    assert listed.json() == []


@pytest.mark.parametrize("blank", BLANKS, ids=repr)
async def test_a_blank_organisation_is_missing(admin_client: httpx.AsyncClient, blank: str) -> None:
    body = {"tenant_org_id": blank, "user": "alice", "service_name": "svc"}
    response = await admin_client.post("/clusters", json=body)
    assert (response.status_code, response.json()) == (400, {"error": MESSAGES["tenant_org_id"]})
