"""The schema documents itself for code generators: every type, field, argument, input
value and enum value has a description, read from the introspection a client sees;
and the names it publishes keep their promises (ClusterCredentials, not a Relay-looking
ClusterConnection, with the old field still answering, deprecated)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from graphql import get_introspection_query

from app.api.graphql.schema import schema

BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


@pytest.fixture(scope="module")
def types() -> dict[str, dict[str, Any]]:
    result = schema.execute_sync(
        get_introspection_query(descriptions=True, input_value_deprecation=True)
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return {t["name"]: t for t in result.data["__schema"]["types"]}


def _described(types: dict[str, dict[str, Any]]) -> Iterator[tuple[str, str, str | None]]:
    """(kind, coordinate, description) of everything the schema declares itself."""
    for name, t in types.items():
        if name.startswith("__") or name in BUILT_IN_SCALARS:
            continue
        yield "type", name, t["description"]
        for field in t["fields"] or ():
            yield "field", f"{name}.{field['name']}", field["description"]
            for argument in field["args"]:
                coordinate = f"{name}.{field['name']}({argument['name']}:)"
                yield "argument", coordinate, argument["description"]
        for value in t["inputFields"] or ():
            yield "input value", f"{name}.{value['name']}", value["description"]
        for value in t["enumValues"] or ():
            yield "enum value", f"{name}.{value['name']}", value["description"]


def _words(text: str) -> list[str]:
    """camelCase, snake_case and prose alike as lower-case words."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return re.findall(r"[a-z0-9]+", spaced.lower())


def test_everything_has_a_description(types: dict[str, dict[str, Any]]) -> None:
    described = list(_described(types))
    missing = [f"{kind} {where}" for kind, where, text in described if not (text or "").strip()]
    assert not missing, "no description: " + ", ".join(missing)
    # The walk reaches every kind of element (including deprecated fields).
    kinds = {kind for kind, _, _ in described}
    assert kinds == {"type", "field", "argument", "input value", "enum value"}
    assert ("field", "TenantContainer.connection") in {(k, w) for k, w, _ in described}
    for root in ("Query", "Mutation", "Subscription"):
        assert types[root]["description"]


def test_descriptions_say_more_than_the_name(types: dict[str, dict[str, Any]]) -> None:
    echoes = []
    for kind, where, text in _described(types):
        name = re.sub(r"\(.*", "", where).rsplit(".", 1)[-1]
        if where.endswith(":)"):
            name = where[where.index("(") + 1 : -2]
        if _words(text or "") == _words(name):
            echoes.append(f"{kind} {where}: {text!r}")
    assert not echoes, "descriptions that only repeat the name: " + ", ".join(echoes)


@pytest.mark.parametrize("field", ["tenantOrgId", "user", "serviceName"])
def test_required_create_fields_are_nullable_and_say_so(
    types: dict[str, dict[str, Any]], field: str
) -> None:
    (value,) = [v for v in types["CreateClusterInput"]["inputFields"] if v["name"] == field]
    # Nullable: a missing name gets the specification's error text from the server.
    assert value["type"] == {"kind": "SCALAR", "name": "String", "ofType": None}
    assert "required" in value["description"]
    assert "specification's error" in value["description"]
    assert "BAD_USER_INPUT" in value["description"]


def test_cluster_credentials_replace_the_relay_looking_name(
    types: dict[str, dict[str, Any]],
) -> None:
    assert "ClusterConnection" not in types
    fields = {f["name"]: f for f in types["TenantContainer"]["fields"]}
    new, old = fields["credentials"], fields["connection"]
    for field in (new, old):
        assert field["type"] == {
            "kind": "NON_NULL",
            "name": None,
            "ofType": {"kind": "OBJECT", "name": "ClusterCredentials", "ofType": None},
        }
    assert not new["isDeprecated"]
    assert old["isDeprecated"] and "Use credentials" in old["deprecationReason"]
    assert new["description"] == old["description"]
    assert {f["name"] for f in types["ClusterCredentials"]["fields"]} == {
        "endpoint",
        "username",
        "password",
        "caCertificate",
    }
