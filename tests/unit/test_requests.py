"""Create-request validation and naming, without any server."""

from __future__ import annotations

from typing import Any

import pytest

from app.tenancy.errors import InvalidInput
from app.tenancy.naming import IdSequence, ReservedNamespaces, check_name, default_namespace
from app.tenancy.requests import ClusterRequest
from app.tenancy.requests import parse_create_request as parse_with

BASE = {"tenant_org_id": "org-001", "user": "alice", "service_name": "vector-search"}
RESERVED = ReservedNamespaces.of(platform_namespace="es-serverless", extra=["monitoring", "team-*"])


def parse_create_request(payload: dict[str, Any], *, org_prefixed: bool = False) -> ClusterRequest:
    return parse_with(payload, reserved=RESERVED, org_prefixed=org_prefixed)


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


@pytest.mark.parametrize("blank", ["", " ", "   ", "\t", "\n", " \t\r\n "])
@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("tenant_org_id", "tenant_org_id is required for multi-tenancy"),
        ("user", "user is required"),
        ("service_name", "service_name is required"),
    ],
)
def test_a_blank_required_field_is_missing_not_a_bad_name(
    field: str, message: str, blank: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_create_request({**BASE, field: blank})
    assert raised.value.message == message


@pytest.mark.parametrize("name", ["a", "org-001", "a1-b2", "x" * 63])
def test_good_names(name: str) -> None:
    assert check_name("user", name) == name


@pytest.mark.parametrize("name", ["A", "-a", "a-", "a_b", "a.b", "a/b", "é", "x" * 64, "a b"])
def test_bad_names(name: str) -> None:
    with pytest.raises(InvalidInput, match="is not a valid name"):
        check_name("user", name)


def test_overlong_generated_namespace_is_refused_not_truncated() -> None:
    with pytest.raises(InvalidInput, match="generated namespace"):
        default_namespace(
            tenant_org_id="o" * 30, user="u" * 20, service_name="s" * 20, reserved=RESERVED
        )


@pytest.mark.parametrize(
    "namespace",
    ["default", "kube-system", "kube-x", "es-serverless", "monitoring", "team-a", "team-b-c"],
)
def test_reserved_namespaces_are_refused_for_everyone(namespace: str) -> None:
    for org_prefixed in (False, True):
        with pytest.raises(InvalidInput, match="is reserved for Kubernetes or the platform"):
            parse_create_request({**BASE, "namespace": namespace}, org_prefixed=org_prefixed)


@pytest.mark.parametrize("namespace", ["kube", "defaults", "es-serverless-x", "monitoring-1", "team"])
def test_near_misses_of_reserved_names_are_free(namespace: str) -> None:
    assert parse_create_request({**BASE, "namespace": namespace}).namespace == namespace


def test_a_generated_namespace_can_be_reserved_too() -> None:
    # organisation "kube", user "node", service "lease": Kubernetes' own kube-node-lease
    with pytest.raises(InvalidInput, match='generated namespace "kube-node-lease" is reserved'):
        parse_create_request({"tenant_org_id": "kube", "user": "node", "service_name": "lease"})


def test_an_organisations_key_names_namespaces_after_its_organisation() -> None:
    own = parse_create_request({**BASE, "namespace": "org-001-custom"}, org_prefixed=True)
    assert own.namespace == "org-001-custom"
    for foreign in ("victim-ns", "org-002-dave-search", "org-001", "org-0011-x"):
        with pytest.raises(InvalidInput, match='must start with "org-001-"'):
            parse_create_request({**BASE, "namespace": foreign}, org_prefixed=True)
    # the platform admin may choose any name that is not reserved
    assert parse_create_request({**BASE, "namespace": "victim-ns"}).namespace == "victim-ns"


def test_reserved_patterns() -> None:
    reserved = ReservedNamespaces.of(platform_namespace="platform", extra=["a-*", "exact"])
    for name in ("default", "kube-system", "kube-x", "platform", "a-1", "exact"):
        assert name in reserved
    for name in ("kube", "a", "exact-1", "platforms", "defaul", "b-a-1"):
        assert name not in reserved


def test_id_sequence_is_strictly_increasing() -> None:
    ids = IdSequence()
    drawn = [ids.next() for _ in range(10_000)]
    assert drawn == sorted(set(drawn))
