"""A create's audit line is written with its records, in the same transaction: one "ok"
line per recorded cluster, and a create refused at the INSERT (a duplicate, found by the
unique index) leaves no "ok" line behind, only its refusal, about the request (the
namespace it would have had was never recorded)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.factories import cluster_body


async def _creates_audited(admin: httpx.AsyncClient) -> list[tuple[Any, ...]]:
    entries = (await admin.get("/audit")).json()
    return sorted(
        (e["action"], e["tenant_org_id"], e["target"], e["outcome"])
        for e in entries
        if e["action"] == "createCluster"
    )


async def test_a_create_has_one_ok_line_and_a_refused_duplicate_only_its_refusal(
    admin_client: httpx.AsyncClient,
) -> None:
    body = cluster_body("org-audit", "ann", "search")
    assert (await admin_client.post("/clusters", json=body)).status_code == 202
    created = await admin_client.post(
        "/graphql",
        json={
            "query": "mutation($i: CreateClusterInput!) { createCluster(input: $i) { namespace } }",
            "variables": {"i": {"tenantOrgId": "org-audit", "user": "ann", "serviceName": "logs"}},
        },
    )
    assert "errors" not in created.json(), created.text
    # The same tenant in a namespace nobody holds: past the namespace check, refused by
    # the unique index at the INSERT, with its rows (the audit line's too) rolled back.
    duplicate = await admin_client.post(
        "/clusters", json={**body, "namespace": "org-audit-elsewhere"}
    )
    assert duplicate.status_code == 409, duplicate.text
    assert "already exists" in duplicate.json()["error"]

    assert await _creates_audited(admin_client) == [
        ("createCluster", "org-audit", "/clusters", "error 409 CONFLICT"),
        ("createCluster", "org-audit", "org-audit-ann-logs", "ok"),
        ("createCluster", "org-audit", "org-audit-ann-search", "ok"),
    ]
