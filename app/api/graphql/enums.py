"""Enums of the domain as GraphQL enums, registered once before any type uses them,
each value described (a code generator shows the description beside the constant)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Literal, TypeVar

import strawberry

from app.models.status import ClusterStatus

E = TypeVar("E", bound=enum.Enum)


def described_enum(
    cls: type[E],
    *,
    description: str,
    values: Mapping[E, str],
    graphql_name_from: Literal["key", "value"] = "key",
) -> type[E]:
    """``strawberry.enum(cls)`` with a description on every value. The domain's enums
    live below the api layer and stay plain Python enums, so their values' descriptions
    are given here; one left out fails at import, not silently in the schema."""
    missing = [member.name for member in cls if member not in values]
    if missing:
        raise ValueError(f"{cls.__name__}: no description for {', '.join(missing)}")
    strawberry.enum(cls, description=description, graphql_name_from=graphql_name_from)
    for value in cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = values[cls(value.value)]
    return cls


described_enum(
    ClusterStatus,
    # The values as GraphQL names too, so a status reads "created" here as in REST.
    graphql_name_from="value",
    description="Where a cluster is in its life; failed and degraded come with an error. "
    "Every change is recorded as a ClusterEvent.",
    values={
        ClusterStatus.PENDING: "Recorded; provisioning has not started yet.",
        ClusterStatus.CREATING: "Its Kubernetes objects are being applied; waiting for "
        "every node to be ready.",
        ClusterStatus.CREATED: "Running: every node ready with the spec asked for.",
        ClusterStatus.FAILED: "Provisioning, an update or a deletion did not finish (see "
        "error); an update (which re-applies every object) or a delete moves it on.",
        ClusterStatus.UPDATING: "A change is being applied; created again once the new "
        "spec is ready.",
        ClusterStatus.UPGRADING: "A new Elasticsearch version is rolled out, one node at "
        "a time, highest ordinal first (progress: DeploymentStatus.upgrade); created "
        "again once every node runs it.",
        ClusterStatus.DEGRADED: "Was created, but the reconciler found its objects "
        "drifted or unready (see error); created again once healed or updated.",
        ClusterStatus.DELETING: "Its namespace is being removed.",
        ClusterStatus.DELETED: "Gone from Kubernetes; its records stay (includeDeleted "
        "lists it).",
    },
)

__all__ = ["ClusterStatus", "described_enum"]
