"""The columns an organisation's listing reads for a document (app.api.graphql.reading):
known for every field of a listed container and of its deployment, every column when a
field's are not, and an object built of some columns holds UNREAD, which no field can
show, in every field whose columns were not read. (That each field answers as with
every column read: tests/e2e/test_graphql_fast_path.py.)"""

from __future__ import annotations

from collections import namedtuple
from types import SimpleNamespace
from typing import Any

import pytest
from graphql import (
    GraphQLBoolean,
    GraphQLError,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLString,
    parse,
)

from app.api.graphql import reading
from app.api.graphql.reading import (
    ALL_COLUMNS,
    READS,
    TABLES,
    UNREAD,
    Reading,
    field_reads,
    row_builder,
)
from app.api.graphql.schema import schema
from app.api.graphql.types import DeploymentStatus, TenantContainer
from app.models.sizing import SizedCluster
from app.store.tables import DeploymentStatusRow, TenantContainerRow

GRAPHQL = schema._schema

# The fields whose columns are not declared, on purpose: they read every column.
EVERY_COLUMN: set[tuple[str, str]] = set()


def _reading(text: str) -> Reading:
    return reading._read_by(GRAPHQL, parse(text))


def _strawberry_fields(type_name: str) -> list[Any]:
    cls = {"TenantContainer": TenantContainer, "DeploymentStatus": DeploymentStatus}[type_name]
    return [f for f in cls.__strawberry_definition__.fields if f.graphql_name != "__private"]


@pytest.mark.parametrize("type_name", list(TABLES))
def test_every_field_of_the_listed_types_has_known_columns(type_name: str) -> None:
    graphql_type = GRAPHQL.get_type(type_name)
    assert isinstance(graphql_type, GraphQLObjectType)
    columns = {prop.key for prop in TABLES[type_name].__mapper__.column_attrs}
    strawberry_fields = {f.name: f for f in _strawberry_fields(type_name)}
    for graphql_name, field_def in graphql_type.fields.items():
        definition = field_def.extensions["strawberry-definition"]
        assert definition.python_name in strawberry_fields
        reads = field_reads(type_name, definition)
        if (type_name, definition.python_name) in EVERY_COLUMN:
            assert reads is None
        else:
            assert reads, f"{type_name}.{graphql_name}: its columns are not known"
            assert reads <= columns
    # Nothing declared for a field the type does not have.
    python_names = {f.python_name for f in _strawberry_fields(type_name)}
    assert set(READS[type_name]) <= python_names


TREE = """
query($id: String!) { organization(id: $id) {
  containers { id serviceName status cpu memory disk
    deployment { status replicas qps details { diskSize } } }
  users { name containers { serviceName status } } } }
"""


def test_the_frontends_tree_reads_only_its_columns() -> None:
    found = _reading(TREE)
    assert found.containers == {
        "id", "service_name", "status", "cpu_request", "cpu_limit", "mem_request",
        "mem_limit", "disk_size",
    }  # fmt: skip
    assert found.deployments == {"status", "replicas", "qps", "details"}


def test_fragments_aliases_and_skipped_fields_count() -> None:
    found = _reading(
        """
        fragment C on TenantContainer { n: namespace deployment { ...D } }
        fragment D on DeploymentStatus { upgrade { phase } }
        query($s: Boolean!) { organization(id: "o") { containers { ...C
          ... on TenantContainer @skip(if: $s) { error } } } }
        """
    )
    assert found.containers == {"namespace", "id", "error"}
    assert found.deployments == {"upgrade"}


def test_a_field_of_unknown_columns_reads_every_column_of_its_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    declared = {name: dict(reads) for name, reads in READS.items()}
    del declared["TenantContainer"]["cpu"]  # computed: no column of its name
    monkeypatch.setattr(reading, "READS", declared)
    found = _reading('{ organization(id: "o") { containers { id cpu } } }')
    assert found.containers is None
    assert found.deployments == frozenset()  # no deployment field selected
    assert _reading('{ organization(id: "o") { id } }') == Reading(frozenset(), frozenset())


def test_sizing_reads_what_sizing_a_cluster_reads() -> None:
    sized = {name for name, value in vars(SizedCluster).items() if isinstance(value, property)}
    assert READS["TenantContainer"]["sizing"] == sized
    found = _reading('{ organization(id: "o") { containers { id sizing { verdict } } } }')
    assert found.containers == {"id", "replicas", "mem_limit", "dimension", "vector_count"}


def test_a_row_of_some_columns_builds_an_object_of_unread_fields() -> None:
    full = {prop.key: None for prop in TenantContainerRow.__mapper__.column_attrs}
    Some = namedtuple("Some", ["id", "status", "cpu_request", "mem_request", "mem_limit"])
    built = row_builder(TenantContainer, Some)(Some("c1", "created", "1", "2Gi", "8Gi"))
    assert built.id == "c1" and built.status == "created"
    assert built.memory == "2Gi/8Gi"
    assert built.cpu is UNREAD  # cpu_limit was not read
    assert built.namespace is UNREAD and built.created_at is UNREAD
    # A row of every column: the plain builder, nothing unread.
    Every = namedtuple("Every", list(full))
    whole = row_builder(TenantContainer, Every)(
        Every(**{**full, "cpu_request": "1", "cpu_limit": "2"})
    )
    assert whole.cpu == "1/2" and whole.namespace is None


def test_a_deployment_without_its_details_holds_them_unread() -> None:
    Some = namedtuple("Some", ["id", "container_id", "replicas"])
    built = DeploymentStatus.from_row(Some("d1", "c1", 3))  # type: ignore[arg-type]
    assert built.replicas == 3
    assert built.details is UNREAD and built.upgrade is UNREAD and built.status is UNREAD


def test_unread_is_never_shown_as_a_value() -> None:
    for scalar in (GraphQLString, GraphQLID, GraphQLInt, GraphQLFloat, GraphQLBoolean):
        with pytest.raises((GraphQLError, TypeError)):
            scalar.serialize(UNREAD)
    for custom in ("DateTime", "Long", "ClusterStatus"):
        serialize = GRAPHQL.get_type(custom).serialize  # type: ignore[union-attr]
        with pytest.raises((GraphQLError, TypeError, AttributeError, ValueError)):
            serialize(UNREAD)
    with pytest.raises(TypeError):
        bool(UNREAD)
    with pytest.raises(AttributeError):
        UNREAD.disk_size  # type: ignore[attr-defined]  # noqa: B018
    assert Reading(None, None) == ALL_COLUMNS


def test_the_deployments_table_is_the_rows_of_deployment_status() -> None:
    assert TABLES["DeploymentStatus"] is DeploymentStatusRow


def test_past_so_many_distinct_readings_a_new_one_reads_every_column(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each set of columns makes a row type and builders kept for good: documents
    selecting ever other fields must not grow them without bound."""
    monkeypatch.setattr(reading, "_distinct", {ALL_COLUMNS})
    monkeypatch.setattr(reading, "_readings", {})
    monkeypatch.setattr(reading, "MAX_DISTINCT_READINGS", 3)
    fields = ["namespace", "error", "version", "user"]

    def read(field: str) -> Reading:
        document = parse(f'{{ organization(id: "o") {{ containers {{ {field} }} }} }}')
        [operation] = document.definitions
        info = SimpleNamespace(operation=operation, fragments={}, schema=GRAPHQL)
        return reading.reading_of(info)  # type: ignore[arg-type]

    found = [read(field) for field in fields]
    assert [r.containers for r in found[:2]] == [{"namespace"}, {"error"}]
    assert found[2] == found[3] == ALL_COLUMNS
    assert read("namespace").containers == {"namespace"}  # one already seen still is
