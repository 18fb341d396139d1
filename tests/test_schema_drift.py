"""The published SDL is generated from the code; this fails when they drift apart.
Regenerate with: es-serverless schema --write schema/schema.graphql"""

from __future__ import annotations

import re
from pathlib import Path

from app.api.graphql.schema import sdl

PUBLISHED = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"


def test_published_sdl_matches_the_code() -> None:
    assert PUBLISHED.read_text(encoding="utf-8") == sdl(), (
        "schema/schema.graphql is stale: run `es-serverless schema --write schema/schema.graphql`"
    )


def _signatures(text: str) -> str:
    """The SDL without its descriptions, on one line: each field's signature as one
    string, whether its arguments are described (printed one a line) or not."""
    text = re.sub(r'"""(.|\n)*?"""|"[^"\n]*"', " ", text)
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"\( ", "(", re.sub(r" \)", ")", text))


def test_sdl_has_the_contracted_entry_points() -> None:
    text = _signatures(sdl())
    for fragment in [
        "createCluster(input: CreateClusterInput!): TenantContainer!",
        "organization(id: String!): Organization!",
        "deploymentStatus(namespace: String!): DeploymentStatus",
    ]:
        assert fragment in text
