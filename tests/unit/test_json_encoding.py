"""The orjson encoding of large answers gives json.dumps's output: byte for byte but
for the blanks after , and : in GraphQL answers."""

from __future__ import annotations

import enum
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from app.api.json_encoding import FastJSONResponse, graphql_json, rest_json

# What answers hold: text of any kind, integers of any size, floats of any magnitude.
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(min_value=-1e-3, max_value=1e-3, allow_nan=False)
    | st.text()
    | st.sampled_from(["plain", "é", "日本", "\u2028", "\x7f", "\x00\x1f\n\t", "\U0001f600"])
)
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def rendered(render: Any, value: Any) -> bytes | type[Exception]:
    """The bytes, or the kind of error."""
    try:
        return bytes(render(value))
    except Exception as error:
        return type(error)


def starlette(value: Any) -> bytes | type[Exception]:
    return rendered(lambda v: JSONResponse(v).body, value)


@settings(max_examples=400)
@given(documents)
def test_graphql_encoding_is_json_dumps_but_for_whitespace(value: Any) -> None:
    assert graphql_json(value) in (json.dumps(value), compact(value))


@settings(max_examples=400)
@given(documents)
def test_rest_encoding_is_starlettes_byte_for_byte(value: Any) -> None:
    assert rendered(rest_json, value) == starlette(value)


class Level(enum.IntEnum):
    HIGH = 3


class Name(str):
    pass


@pytest.mark.parametrize(
    "value",
    [
        # numbers orjson writes otherwise: 0.00001, 1e-6
        [1e-05, -2.5e-07, 1e-09, 1e-10, 1e16, 5e-324, 0.0001, -0.0],
        {"big": 2**64, "small": -(2**63) - 1},  # beyond orjson's 64 bits
        {"escaped": "é, 日本, \U0001f600 and \u2028"},  # GraphQL escapes them
        {"lone surrogate": "\ud800"},
        {1: "a key that is not a string", None: 2},
        [Name("a str subclass"), Level.HIGH, True, (1, 2)],
        {"id": "tenant_u1_s1e-5_1"},  # looks like a number orjson writes otherwise
        [[[[]]]] * 3,
    ],
)
def test_the_values_orjson_encodes_otherwise_are_encoded_as_before(value: Any) -> None:
    assert graphql_json(value) in (json.dumps(value), compact(value))
    assert json.loads(graphql_json(value)) == json.loads(json.dumps(value))
    assert rendered(rest_json, value) == starlette(value)


def test_deep_nesting_beyond_orjsons_limit() -> None:
    value: Any = []
    for _ in range(300):
        value = [value]
    assert graphql_json(value) == json.dumps(value)
    assert rest_json(value) == starlette(value)


def test_what_json_refuses_is_refused_as_before() -> None:
    with pytest.raises(TypeError):
        graphql_json({"when": object()})
    with pytest.raises(UnicodeEncodeError):
        rest_json({"lone": "\udfff"})  # starlette's UTF-8 has no surrogates


def test_not_a_number_is_the_one_difference_left() -> None:
    # starlette refuses it (allow_nan=False); no answer holds one (see the module).
    with pytest.raises(ValueError):
        JSONResponse({"qps": math.nan})
    assert rest_json({"qps": math.nan}) == b'{"qps":null}'


def test_a_listing_response_is_starlettes() -> None:
    rows = [{"id": f"tenant_u_s{n}_1", "cpu": "1", "replicas": n} for n in range(3)]
    response = FastJSONResponse(rows, headers={"X-Next-Cursor": "c"})
    assert response.body == JSONResponse(rows).body
    assert response.media_type == "application/json"
    assert response.headers["content-length"] == str(len(response.body))
