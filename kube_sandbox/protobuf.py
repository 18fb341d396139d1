"""Just enough of the Kubernetes protobuf encoding to read what kubectl sends.

kubectl's typed clients (``kubectl create namespace|configmap|secret``) send request
bodies as ``application/vnd.kubernetes.protobuf`` and do not fall back to JSON. The
body is the ``k8s\\x00`` magic followed by a ``runtime.Unknown`` envelope whose ``raw``
field holds the object's message. This module decodes the wire format for the few
kinds listed in ``_SCHEMAS`` into the same dicts the JSON path produces; other kinds
are answered with 415 so the client can be switched to JSON.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError
from .meta import timestamp

MAGIC = b"k8s\x00"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # string, bytes, int, bool, message, map, time
    repeated: bool = False
    message: dict[int, Field] = field(default_factory=dict)
    map_values: str = "string"  # "string" or "bytes" (base64 in JSON, as Go encodes []byte)


_TIME = "time"
_OWNER_REFERENCE = {
    5: Field("apiVersion", "string"),
    1: Field("kind", "string"),
    3: Field("name", "string"),
    4: Field("uid", "string"),
    6: Field("controller", "bool"),
    7: Field("blockOwnerDeletion", "bool"),
}
_OBJECT_META = {
    1: Field("name", "string"),
    2: Field("generateName", "string"),
    3: Field("namespace", "string"),
    5: Field("uid", "string"),
    6: Field("resourceVersion", "string"),
    7: Field("generation", "int"),
    8: Field("creationTimestamp", _TIME),
    10: Field("deletionGracePeriodSeconds", "int"),
    11: Field("labels", "map"),
    12: Field("annotations", "map"),
    13: Field("ownerReferences", "message", repeated=True, message=_OWNER_REFERENCE),
    14: Field("finalizers", "string", repeated=True),
}
_METADATA = Field("metadata", "message", message=_OBJECT_META)
_SCHEMAS: dict[tuple[str, str], dict[int, Field]] = {
    ("v1", "Namespace"): {
        1: _METADATA,
        2: Field("spec", "message", message={1: Field("finalizers", "string", repeated=True)}),
        3: Field("status", "message", message={1: Field("phase", "string")}),
    },
    ("v1", "ConfigMap"): {
        1: _METADATA,
        2: Field("data", "map"),
        3: Field("binaryData", "map", map_values="bytes"),
        4: Field("immutable", "bool"),
    },
    ("v1", "Secret"): {
        1: _METADATA,
        2: Field("data", "map", map_values="bytes"),
        3: Field("type", "string"),
        4: Field("stringData", "map"),
        5: Field("immutable", "bool"),
    },
}
_ENVELOPE = {
    1: Field(
        "typeMeta",
        "message",
        message={1: Field("apiVersion", "string"), 2: Field("kind", "string")},
    ),
    2: Field("raw", "bytes"),
}


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._position = 0

    def done(self) -> bool:
        return self._position >= len(self._data)

    def varint(self) -> int:
        result = shift = 0
        while True:
            if self._position >= len(self._data):
                raise ValueError("truncated varint")
            byte = self._data[self._position]
            self._position += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7

    def take(self, size: int) -> bytes:
        if self._position + size > len(self._data):
            raise ValueError("truncated field")
        chunk = self._data[self._position : self._position + size]
        self._position += size
        return chunk


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, raw value) for every field in a message."""
    reader = _Reader(data)
    fields = []
    while not reader.done():
        key = reader.varint()
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value: Any = reader.varint()
        elif wire_type == 1:
            value = reader.take(8)
        elif wire_type == 2:
            value = reader.take(reader.varint())
        elif wire_type == 5:
            value = reader.take(4)
        else:
            raise ValueError(f"unsupported protobuf wire type {wire_type}")
        fields.append((number, wire_type, value))
    return fields


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _decode_value(spec: Field, value: Any) -> Any:
    if spec.kind == "string":
        return bytes(value).decode("utf-8")
    if spec.kind == "bytes":
        return bytes(value)
    if spec.kind == "int":
        return _signed(value)
    if spec.kind == "bool":
        return bool(value)
    if spec.kind == _TIME:
        parts = decode_message(bytes(value), {1: Field("seconds", "int")})
        return timestamp(dt.datetime.fromtimestamp(parts.get("seconds", 0), dt.UTC))
    return decode_message(bytes(value), spec.message)


def decode_message(data: bytes, schema: dict[int, Field]) -> dict[str, Any]:
    """Decode a message; fields missing from the schema are skipped, as proto3 does."""
    result: dict[str, Any] = {}
    for number, _, value in _fields(data):
        spec = schema.get(number)
        if spec is None:
            continue
        if spec.kind == "map":
            entry = decode_message(
                bytes(value), {1: Field("key", "string"), 2: Field("value", spec.map_values)}
            )
            item = entry.get("value", b"" if spec.map_values == "bytes" else "")
            if isinstance(item, bytes):
                item = base64.b64encode(item).decode()
            result.setdefault(spec.name, {})[entry.get("key", "")] = item
        elif spec.repeated:
            result.setdefault(spec.name, []).append(_decode_value(spec, value))
        else:
            decoded = _decode_value(spec, value)
            # Go's protobuf marshals empty scalars that its JSON encoding omits
            # (omitempty); drop them so both encodings yield the same object.
            if decoded not in ("", 0, False, b""):
                result[spec.name] = decoded
    return result


def decode_object(body: bytes) -> dict[str, Any]:
    """A Kubernetes protobuf body as the JSON-shaped dict it represents."""
    if not body.startswith(MAGIC):
        raise ApiError(400, "protobuf body without the k8s\\x00 prefix")
    try:
        envelope = decode_message(body[len(MAGIC) :], _ENVELOPE)
        type_meta = envelope.get("typeMeta", {})
        api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
        schema = _SCHEMAS.get((api_version, kind))
        if schema is None:
            raise ApiError(
                415,
                f"the sandbox decodes protobuf bodies only for "
                f"{', '.join(k for _, k in _SCHEMAS)}; send {kind or 'this object'} as JSON",
            )
        obj = decode_message(envelope.get("raw", b""), schema)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"couldn't decode the protobuf body: {exc}") from exc
    return {"apiVersion": api_version, "kind": kind, **obj}
