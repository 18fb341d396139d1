"""Accept-header negotiation: plain JSON, a Table, or PartialObjectMetadata."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ApiError

META_GROUP = "meta.k8s.io"


@dataclass(frozen=True)
class Representation:
    """What the response body should be: the object itself or a transformed view."""

    form: str  # "object", "Table", "PartialObjectMetadata"
    api_version: str = ""  # "meta.k8s.io/v1" for the transformed forms

    @property
    def is_table(self) -> bool:
        return self.form == "Table"


OBJECT = Representation("object")


def _media_ranges(header: str) -> list[tuple[str, dict[str, str]]]:
    ranges = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        if not pieces[0]:
            continue
        params = {}
        for piece in pieces[1:]:
            key, _, value = piece.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        ranges.append((pieces[0].lower(), params))
    return ranges


def negotiate(accept: str | None) -> Representation:
    """The first acceptable representation in the client's order (client-go's order)."""
    if not accept:
        return OBJECT
    ranges = _media_ranges(accept)
    for media_type, params in ranges:
        if media_type not in ("application/json", "application/*", "*/*"):
            continue  # protobuf, yaml, cbor: clients list JSON as a fallback
        wanted = params.get("as")
        if wanted is None:
            return OBJECT
        if params.get("g") != META_GROUP or params.get("v") not in ("v1", "v1beta1"):
            continue
        if wanted in ("Table", "PartialObjectMetadata", "PartialObjectMetadataList"):
            form = "PartialObjectMetadata" if wanted.startswith("Partial") else "Table"
            return Representation(form, f"{META_GROUP}/{params['v']}")
    if not ranges:
        return OBJECT
    raise ApiError(
        406, f"only the following media types are accepted: application/json; got {accept}"
    )
