"""Quota enforcement with several control-plane replicas: two server processes sharing
one PostgreSQL database (the guard row's lock must hold across processes, where no
in-process lock could)."""

from __future__ import annotations

from tests.support.http import all_at_once
from tests.support.servers import ServerProcess


def test_two_servers_on_postgresql_never_exceed_max_clusters(
    postgres_replicas: list[ServerProcess], org: str
) -> None:
    servers = postgres_replicas
    with servers[0].client() as admin:
        response = admin.put(f"/tenant/quota/org/{org}", json={"max_clusters": 5, "max_cpu": "9"})
        assert response.status_code == 200, response.text
    body = {"tenant_org_id": org, "cpu_request": "1", "cpu_limit": "1"}
    calls = [
        ("POST", "/clusters", {**body, "user": f"user{n % 3}", "service_name": f"svc{n}"})
        for n in range(20)
    ]
    answers = all_at_once(servers, calls)
    assert sorted(a.status_code for a in answers) == [202] * 5 + [403] * 15, [
        a.text for a in answers
    ]
    with servers[1].client() as admin:
        usage = admin.get(f"/tenant/quota/org/{org}").json()["current_usage"]
        assert (usage["clusters"], usage["cpu"]) == (5, "5")
        # A second wave, now bound by cpu (9 - 5 = 4 cores left) rather than clusters.
        assert admin.put(f"/tenant/quota/org/{org}", json={"max_cpu": "9"}).status_code == 200
    wave = [
        ("POST", "/clusters", {**body, "user": "late", "service_name": f"late{n}"})
        for n in range(10)
    ]
    answers = all_at_once(servers, wave)
    assert sorted(a.status_code for a in answers) == [202] * 4 + [403] * 6, [
        a.text for a in answers
    ]
    refusals = {a.json()["error"] for a in answers if a.status_code == 403}
    assert refusals == {f"quota exceeded for organization {org}: cpu would be 10 > 9"}
