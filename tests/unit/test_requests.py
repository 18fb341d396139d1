"""Create-request validation and naming, without any server."""

from __future__ import annotations

import pytest

from app.tenancy.errors import InvalidInput
from app.tenancy.naming import IdSequence, check_name, default_namespace
from app.tenancy.requests import parse_create_request

BASE = {"tenant_org_id": "org-001", "user": "alice", "service_name": "vector-search"}


def test_defaults() -> None:
    request = parse_create_request(BASE)
    assert request.namespace == "org-001-alice-vector-search"
    assert (request.replicas, request.cpu_request, request.cpu_limit) == (1, "500m", "2")
    assert (request.mem_request, request.mem_limit, request.disk_size) == ("1Gi", "2Gi", "10Gi")
    assert (request.gpu_count, request.dimension, request.vector_count, request.index_limit) == (
        0,
        128,
        10000,
        0,
    )
    assert request.gitlab_url is None


def test_explicit_namespace_wins() -> None:
    assert parse_create_request({**BASE, "namespace": "custom-ns"}).namespace == "custom-ns"


def test_required_fields_are_checked_in_the_specs_order() -> None:
    with pytest.raises(InvalidInput, match=r"^tenant_org_id is required for multi-tenancy$"):
        parse_create_request({"replicas": -1})
    with pytest.raises(InvalidInput, match=r"^user is required$"):
        parse_create_request({"tenant_org_id": "o", "replicas": -1})


@pytest.mark.parametrize("name", ["a", "org-001", "a1-b2", "x" * 63])
def test_good_names(name: str) -> None:
    assert check_name("user", name) == name


@pytest.mark.parametrize("name", ["A", "-a", "a-", "a_b", "a.b", "a/b", "é", "x" * 64, "a b"])
def test_bad_names(name: str) -> None:
    with pytest.raises(InvalidInput, match="is not a valid name"):
        check_name("user", name)


def test_overlong_generated_namespace_is_refused_not_truncated() -> None:
    with pytest.raises(InvalidInput, match="generated namespace"):
        default_namespace(tenant_org_id="o" * 30, user="u" * 20, service_name="s" * 20)


def test_id_sequence_is_strictly_increasing() -> None:
    ids = IdSequence()
    drawn = [ids.next() for _ in range(10_000)]
    assert drawn == sorted(set(drawn))
