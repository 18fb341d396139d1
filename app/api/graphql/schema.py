"""The GraphQL schema and its published SDL (``schema/schema.graphql``)."""

from __future__ import annotations

from pathlib import Path

import strawberry

from app.api.graphql.errors import ErrorCodes
from app.api.graphql.mutations import Mutation
from app.api.graphql.queries import Query

schema = strawberry.Schema(query=Query, mutation=Mutation, extensions=[ErrorCodes])


def sdl() -> str:
    return schema.as_str() + "\n"


def write_sdl(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sdl(), encoding="utf-8")
