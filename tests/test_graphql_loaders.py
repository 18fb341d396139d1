"""An organisation tree costs the same number of SQL queries whatever its size: the
DataLoaders batch per level instead of querying per container."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from app.access.principals import Principal
from app.api.graphql.context import Context
from app.api.graphql.schema import schema
from app.runtime import Runtime, open_runtime
from app.settings import KubeMode, Settings
from app.tenancy import commands
from app.tenancy.requests import parse_create_request
from tests.support.databases import database_url_for

TREE = """
query($id: String!) {
  organization(id: $id) {
    containers { id deployment { status details { diskSize } } events { to } }
    users { name containers { deployment { id } } }
  }
}
"""


async def _org_with(runtime: Runtime, org: str, count: int) -> None:
    for n in range(count):
        request = parse_create_request(
            {"tenant_org_id": org, "user": f"u{n % 3}", "service_name": f"s{n}"},
            reserved=runtime.reserved_namespaces,
            org_prefixed=False,
        )
        await commands.create_cluster(sessions=runtime.sessions, ids=runtime.ids, request=request)


async def _queries_for_tree(runtime: Runtime, org: str) -> tuple[int, dict[str, Any]]:
    engine = runtime.sessions.kw["bind"]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        context = Context(runtime=runtime, principal=Principal.admin())
        result = await schema.execute(TREE, variable_values={"id": org}, context_value=context)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert result.errors is None, result.errors
    assert result.data is not None
    return len(statements), result.data


async def test_tree_query_count_does_not_grow_with_the_tree(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, kube_mode=KubeMode.SANDBOX, database_url=database_url_for(tmp_path))
    async with open_runtime(settings) as runtime:
        await _org_with(runtime, "small-org", 2)
        await _org_with(runtime, "large-org", 40)
        small, small_data = await _queries_for_tree(runtime, "small-org")
        large, large_data = await _queries_for_tree(runtime, "large-org")
    assert len(small_data["organization"]["containers"]) == 2
    assert len(large_data["organization"]["containers"]) == 40
    assert small == large
    assert large <= 3  # containers, deployments, events
