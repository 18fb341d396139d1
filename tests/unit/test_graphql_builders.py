"""The generated constructors of GraphQL objects (app.api.graphql.derive.builder) make
the same objects as calling the class with ``values``: every field, computed ones
computed, given ones given, defaults as ``__init__`` sets them; a class whose
``__init__`` does more is called."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
import strawberry

from app.api.graphql.derive import builder, values
from app.api.graphql.fast_execution import NOT_LOADED
from app.api.graphql.types import DeploymentDetails, DeploymentStatus, TenantContainer
from app.store.tables import DeploymentStatusRow, TenantContainerRow


def _row(table: type[Any]) -> SimpleNamespace:
    """A plain row of ``table``: each attribute a value of its own."""
    names = [prop.key for prop in sa.inspect(table).column_attrs]
    return SimpleNamespace(**{name: f"{name}-value" for name in names})


def test_a_container_is_made_as_its_init_makes_it() -> None:
    row = _row(TenantContainerRow)
    made = builder(TenantContainer)(row)
    called = TenantContainer(**values(TenantContainer, row))
    assert vars(made) == vars(called)
    assert list(vars(made)) == list(vars(called))  # in the same order, too
    assert made.cpu == "cpu_request-value/cpu_limit-value"  # computed from the row
    assert made.loaded_deployment is NOT_LOADED  # the default, as __init__ sets it


def test_given_fields_are_taken_as_given() -> None:
    row = _row(DeploymentStatusRow)
    details = DeploymentDetails(**{f.name: f.name for f in dataclasses.fields(DeploymentDetails)})
    made = builder(DeploymentStatus, "details", "upgrade")(row, details, None)
    called = DeploymentStatus(**values(DeploymentStatus, row, details=details, upgrade=None))
    assert vars(made) == vars(called)
    assert made.details is details and made.upgrade is None


@strawberry.type
class Checked:
    name: str
    tags: list[str] = dataclasses.field(default_factory=list)
    seen: strawberry.Private[list[str]] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        self.seen.append(self.name)


@strawberry.type
class Tagged:
    name: str
    # Private: no data field, so not read from the source but made by the factory.
    tags: strawberry.Private[list[str]] = dataclasses.field(default_factory=list)


def test_a_default_factory_makes_a_new_value_for_each_object() -> None:
    first, second = (builder(Tagged)(SimpleNamespace(name=n)) for n in ("a", "b"))
    assert (first.name, first.tags, second.tags) == ("a", [], [])
    assert first.tags is not second.tags


def test_a_class_with_post_init_is_called() -> None:
    made = builder(Checked)(SimpleNamespace(name="a", tags=["x"]))
    assert (made.name, made.tags, made.seen) == ("a", ["x"], ["a"])
