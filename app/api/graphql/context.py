"""The typed per-request GraphQL context: the runtime, the caller and DataLoaders
scoped to what the caller may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry

from app.access.principals import Principal
from app.api.graphql.loaders import Loaders, make_loaders
from app.runtime import Runtime
from app.tenancy.errors import Unauthenticated


@dataclass
class Context:
    runtime: Runtime
    principal: Principal | None
    # graphql-transport-ws's connection_init payload (browsers send the token there).
    connection_params: dict[str, Any] | None = None
    # A WebSocket whose upgrade request carried a token that did not authenticate
    # is refused at connection_init, whatever the payload says.
    token_in_upgrade: bool = False
    _loaders: Loaders | None = field(default=None, repr=False)

    @property
    def caller(self) -> Principal:
        if self.principal is None:
            raise Unauthenticated("missing or invalid bearer token")
        return self.principal

    @property
    def loaders(self) -> Loaders:
        # Built on first use: on a WebSocket the caller is known only after connecting.
        if self._loaders is None:
            self._loaders = make_loaders(
                self.runtime.sessions, self.caller.scope, self.runtime.quota_defaults
            )
        return self._loaders


Info = strawberry.Info[Context, None]
