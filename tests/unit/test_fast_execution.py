"""The fast executor's fallbacks: every value its fast path does not expect is completed
the standard way, so the answer (data, errors, their paths and locations) is the
standard executor's. A small schema of its own whose attributes misbehave in every
way an attribute can: null for a non-null field, a value the serializer refuses, an
exception as the value, a property that raises, an awaitable, an unknown enum value,
objects nested in attributes and in lists, and a resolver of its own."""

from __future__ import annotations

import asyncio
import enum
import json
from collections.abc import Generator
from typing import Any

import pytest
import strawberry
from strawberry.http import process_result

from app.api.graphql.fast_execution import FastExecutor


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Shade(enum.Enum):
    """Not the schema's enum, with a member of the same name and value."""

    RED = "red"


@strawberry.type
class Part:
    label: str
    size: int | None

    @strawberry.field
    async def remote(self) -> str:
        # Async, and null (an error) when the label is: fails below an attribute.
        await asyncio.sleep(0)
        return self.label


@strawberry.type
class Item:
    name: str
    count: int
    maybe: int | None
    colour: Colour
    shade: Colour | None
    part: Part | None
    needed_part: Part
    parts: list[Part]
    ratio: float
    flag: bool | None
    ident: strawberry.ID

    @strawberry.field
    def doubled(self) -> int:
        return self.count * 2


class Source:
    """What the resolvers read: plain attributes, overridden per case."""

    def __init__(self, **overrides: Any) -> None:
        values: dict[str, Any] = {
            "name": "ok",
            "count": 1,
            "maybe": None,
            "colour": Colour.RED,
            "shade": None,
            "part": PartSource(),
            "needed_part": PartSource(),
            "parts": [PartSource(), PartSource(size=None)],
            "ratio": 0.5,
            "flag": True,
            "ident": "i-1",
        }
        values.update(overrides)
        for key, value in values.items():
            setattr(self, key, value)


class PartSource:
    def __init__(self, label: Any = "p", size: Any = 3) -> None:
        self.label = label
        self.size = size


class OtherPartSource:
    label = "other"
    size = None


class Raising:
    """An attribute whose reading raises (a property)."""

    def __get__(self, instance: Any, owner: Any) -> Any:
        raise RuntimeError("the attribute broke")


class RaisingSource(Source):
    maybe = Raising()  # type: ignore[assignment]


class RaisingNameSource(Source):
    name = Raising()  # type: ignore[assignment]


class RaisingPartSource(Source):
    part = Raising()  # type: ignore[assignment]


class RaisingNeededPartSource(Source):
    needed_part = Raising()  # type: ignore[assignment]


class Later:
    """An awaitable (not a coroutine, so one never awaited is no warning)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        yield from asyncio.sleep(0).__await__()
        return self.value


def _cases() -> dict[str, Any]:
    return {
        "fine": Source(),
        "null name": Source(name=None),
        "null count": Source(count=None),
        "count beyond Int": Source(count=2**40),
        "count a string": Source(count="many"),
        "maybe refused": Source(maybe="x"),
        "maybe an exception": Source(maybe=ValueError("as a value")),
        "maybe raises": RaisingSource(),
        "name raises": RaisingNameSource(),
        "maybe awaitable": Source(maybe=Later(7)),
        "name awaitable null": Source(name=Later(None)),
        "colour unknown": Source(colour="green"),
        "shade unknown": Source(shade="green"),
        "part null": Source(part=None),
        "needed part null": Source(needed_part=None),
        "part broken": Source(part=PartSource(label=None)),
        "needed part broken": Source(needed_part=PartSource(label=None)),
        "part awaitable": Source(part=Later(PartSource())),
        "part an exception": Source(part=ValueError("as a value")),
        "needed part an exception": Source(needed_part=ValueError("as a value")),
        "part raises": RaisingPartSource(),
        "needed part raises": RaisingNeededPartSource(),
        "part of another class": Source(part=OtherPartSource()),
        "parts with a null": Source(parts=[PartSource(), None]),
        "parts broken": Source(parts=[PartSource(size="big"), PartSource(label=None)]),
        "parts not a list": Source(parts=7),
        "ratio an int": Source(ratio=3),
        "ratio infinite": Source(ratio=float("inf")),
        "ratio not a number": Source(ratio=float("nan")),
        "ratio a string": Source(ratio="2.5"),
        "ratio a bool": Source(ratio=True),
        "flag an int": Source(flag=0),
        "flag a string": Source(flag="yes"),
        "ident a number": Source(ident=7),
        "ident a bool": Source(ident=False),
        "count a bool": Source(count=True),
        "count a float": Source(count=2.0),
        "count below Int": Source(count=-(2**31) - 1),
        "name a number": Source(name=12),
        "colour its value": Source(colour="red"),
        "colour another enum's": Source(colour=Shade.RED),
    }


def _schema(fast: bool) -> strawberry.Schema:
    @strawberry.type
    class Query:
        @strawberry.field
        def items(self) -> list[Item | None]:
            return list(_cases().values())  # type: ignore[arg-type]

        @strawberry.field
        def strict_items(self) -> list[Item]:
            return [Source(), Source(count=None), Source()]  # type: ignore[list-item]

        @strawberry.field
        def first(self) -> Item:
            return Source(needed_part=PartSource(label=None))  # type: ignore[return-value]

    return strawberry.Schema(query=Query, execution_context_class=FastExecutor if fast else None)


QUERIES = [
    "{ items { name count maybe colour shade doubled } }",
    "{ items { __typename a: name b: name ... on Item { count } ...F } } "
    "fragment F on Item { maybe part { label size } }",
    "{ items { neededPart { label size __typename } parts { label size } } }",
    "{ items { name part { remote } } }",
    "{ items { name neededPart { remote size } parts { remote } } }",
    "{ items { part { label } } strictItems { name count } }",
    "{ first { name neededPart { label } } items { name } }",
    "query($s: Boolean!) { items { name @skip(if: $s) count @include(if: $s) parts { size } } }",
    "{ items { ratio flag ident count name colour } }",
    "query($s: Boolean!) { items { name @include(if: $s) } strictItems { ratio ident count } }",
]


def _answer(schema: strawberry.Schema, query: str) -> str:
    result = asyncio.run(schema.execute(query, variable_values={"s": False}))
    return json.dumps(process_result(result))


@pytest.mark.parametrize("query", QUERIES)
def test_fallbacks_answer_as_the_standard_executor(query: str) -> None:
    fast = _answer(_schema(fast=True), query)
    standard = _answer(_schema(fast=False), query)
    assert fast == standard
    assert json.loads(fast).get("errors")  # every query meets some misbehaving value


def test_the_fine_item_is_served_whole() -> None:
    body = json.loads(
        _answer(_schema(fast=True), "{ items { name count maybe colour shade doubled } }")
    )
    assert body["data"]["items"][0] == {
        "name": "ok",
        "count": 1,
        "maybe": None,
        "colour": "RED",
        "shade": None,
        "doubled": 2,
    }


def test_objects_of_a_class_met_before_go_straight_into_their_plan() -> None:
    """Only the first object of a class (and every value the fast path does not
    expect) takes the general code; the others are answered by their plan inline."""
    general: list[Any] = []

    class Counting(FastExecutor):
        def _object_value(self, step: Any, parent_type: Any, path: Any, value: Any) -> Any:
            general.append(value)
            return super()._object_value(step, parent_type, path, value)

    schema = _schema(fast=True)
    schema.execution_context_class = Counting
    body = json.loads(_answer(schema, "{ items { part { label } } }"))
    parts = [item["part"] for item in body["data"]["items"] if item and item["part"]]
    assert len(parts) > 20
    assert sum(isinstance(value, PartSource) for value in general) == 1
    assert any(isinstance(value, OtherPartSource) for value in general)
