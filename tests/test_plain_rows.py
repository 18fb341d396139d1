"""Listings read plain rows (app.store.reads): the same values, under the same
attribute names, as the ORM's rows, also where an attribute's column is named
otherwise (``version`` is the Elasticsearch version, column ``es_version``; the
record's counter ``row_version`` is the column ``version``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlmodel import col, select

from app.runtime import Runtime, open_runtime
from app.settings import KubeMode, Settings
from app.store.reads import plain_pairs, plain_rows
from app.store.tables import DeploymentStatusRow, TenantContainerRow
from app.tenancy import commands
from tests.support.databases import database_url_for
from tests.support.factories import cluster_request


async def _create(runtime: Runtime, count: int) -> None:
    for n in range(count):
        await commands.create_cluster(
            sessions=runtime.sessions, ids=runtime.ids, request=cluster_request("org", "u", f"s{n}")
        )


async def test_plain_rows_are_the_orm_rows_values_by_attribute(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, kube_mode=KubeMode.SANDBOX, database_url=database_url_for(tmp_path))
    async with open_runtime(settings) as runtime:
        await _create(runtime, 3)
        for table in (TenantContainerRow, DeploymentStatusRow):
            async with runtime.sessions() as session:
                statement = select(table).order_by(table.id)
                orm = (await session.exec(statement)).all()
                plain = await plain_rows(session, statement, table)
            assert len(plain) == len(orm) == 3
            attributes = set(table.model_fields)
            for row, record in zip(plain, orm, strict=True):
                assert set(row._fields) == attributes
                assert row._asdict() == {name: getattr(record, name) for name in attributes}
                assert {n: type(v) for n, v in row._asdict().items()} == {
                    name: type(getattr(record, name)) for name in attributes
                }
            if table is DeploymentStatusRow:
                # The same sizing in every row, converted once, but no row's object is
                # another's: changing one changes no other.
                first, second = plain[0].details, plain[1].details
                assert first == second and first is not second
        assert {row.version for row in plain} == {settings.es_default_version}


async def test_plain_pairs_split_a_join_into_each_tables_rows(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, kube_mode=KubeMode.SANDBOX, database_url=database_url_for(tmp_path))
    async with open_runtime(settings) as runtime:
        await _create(runtime, 2)
        async with runtime.sessions() as session:
            # The first container without its deployment: the join finds none.
            first = (await session.exec(select(TenantContainerRow.id).order_by("id"))).first()
            gone = delete(DeploymentStatusRow).where(col(DeploymentStatusRow.container_id) == first)
            await session.exec(gone)  # type: ignore[call-overload]
            await session.commit()
        joined = select(TenantContainerRow, DeploymentStatusRow).outerjoin(
            DeploymentStatusRow, col(DeploymentStatusRow.container_id) == col(TenantContainerRow.id)
        )
        async with runtime.sessions() as session:
            pairs = await plain_pairs(
                session, joined.order_by(TenantContainerRow.id), TenantContainerRow, DeploymentStatusRow
            )
            containers = await plain_rows(
                session, select(TenantContainerRow).order_by(TenantContainerRow.id), TenantContainerRow
            )
            deployments = await plain_rows(session, select(DeploymentStatusRow), DeploymentStatusRow)
            with pytest.raises(ValueError, match="in turn"):
                await plain_pairs(
                    session,
                    select(DeploymentStatusRow, TenantContainerRow),
                    TenantContainerRow,
                    DeploymentStatusRow,
                )
    assert [container for container, _ in pairs] == list(containers)
    assert pairs[0][1] is None
    [kept] = [d for d in deployments if d.container_id == pairs[1][0].id]
    assert pairs[1][1] == kept and pairs[1][1]._fields == kept._fields
