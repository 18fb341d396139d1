"""Enums of the domain as GraphQL enums, registered once before any type uses them."""

from __future__ import annotations

import strawberry

from app.models.status import ClusterStatus

strawberry.enum(
    ClusterStatus,
    # The values as GraphQL names too, so a status reads "created" here as in REST.
    graphql_name_from="value",
    description="Where a cluster is in its life; failed and degraded come with an error.",
)

__all__ = ["ClusterStatus"]
