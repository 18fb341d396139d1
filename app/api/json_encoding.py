"""JSON encoding of large answers (an organisation tree, a container listing) with
orjson, giving what ``json.dumps`` gives.

``json.dumps`` of an org tree of 1,000 clusters took as long as building it; orjson
takes a tenth of that. Its output differs from ``json.dumps``'s in a few places, and
wherever it might, the answer is encoded by ``json.dumps`` as before:

* numbers below 1e-4 in magnitude: orjson writes 0.00001 and 1e-6 where Python writes
  1e-05 and 1e-06 (found by a pattern over the output, which may also match inside a
  string: that string's answer is then simply encoded the slow way);
* anything orjson refuses: integers beyond 64 bits, keys that are not strings,
  subclasses of str, int, dict or list, dataclasses, dates and other objects JSON has
  no form for (``json.dumps`` encodes the former as it always did, and refuses the
  others as it always did), nesting deeper than 254 levels, lone surrogates;
* for GraphQL, any character outside ASCII, and DEL: ``json.dumps`` escapes them
  (``\\u00e9``, ``\\u007f``).

Whitespace is the only difference left: the GraphQL answer loses the blanks after
``,`` and ``:`` that ``json.dumps`` puts there (the REST shim's JSON never had them).
Not a number or an infinity never reaches these answers (GraphQL's Float refuses them,
the usage the REST shim lists is validated finite), where orjson would write null.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from starlette.responses import JSONResponse

__all__ = ["FastJSONResponse", "graphql_json", "rest_json"]

# Where orjson's output may differ from json.dumps's: a number below 1e-4 in magnitude.
# Two patterns, not one with an alternative: each is found by a fast scan for its first
# characters, the alternative by trying every position (ten times as long).
_MAY_DIFFER = (re.compile(rb"0\.0000"), re.compile(rb"e-[0-9](?![0-9])"))
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _refuse(value: Any) -> Any:
    raise TypeError  # json.dumps then gives its own answer, or its own error


def _orjson(value: Any) -> bytes | None:
    """orjson's encoding of ``value`` when it is json.dumps's but for whitespace and
    escapes, else None."""
    try:
        encoded = orjson.dumps(value, default=_refuse, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is one
        return None
    return None if any(pattern.search(encoded) for pattern in _MAY_DIFFER) else encoded


def graphql_json(value: Any) -> str:
    """What ``json.dumps(value)`` means, as strawberry's view encodes an answer:
    non-ASCII characters escaped."""
    encoded = _orjson(value)
    # json.dumps escapes DEL too, whereas orjson writes it as it is.
    if encoded is None or not encoded.isascii() or b"\x7f" in encoded:
        return json.dumps(value)
    return encoded.decode("ascii")


def rest_json(value: Any) -> bytes:
    """What starlette's ``JSONResponse`` renders: compact, UTF-8, no NaN."""
    encoded = _orjson(value)
    if encoded is None:
        # starlette's own rendering, word for word
        compact = json.dumps(
            value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
        )
        return compact.encode("utf-8")
    return encoded


class FastJSONResponse(JSONResponse):
    """A ``JSONResponse`` rendered through ``rest_json``."""

    def render(self, content: Any) -> bytes:
        return rest_json(content)
