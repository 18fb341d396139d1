"""The GraphQL schema and its published SDL (``schema/schema.graphql``)."""

from __future__ import annotations

from pathlib import Path

import strawberry
from strawberry.schema.config import StrawberryConfig

from app.api.graphql.errors import ErrorCodes
from app.api.graphql.mutations import Mutation
from app.api.graphql.queries import Query
from app.api.graphql.subscriptions import Subscription
from app.api.graphql.types import LONG_SCALAR, Long

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[ErrorCodes],
    config=StrawberryConfig(scalar_map={Long: LONG_SCALAR}),
)


def sdl() -> str:
    return schema.as_str() + "\n"


def write_sdl(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sdl(), encoding="utf-8")
