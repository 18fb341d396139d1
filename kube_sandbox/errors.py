"""Kubernetes ``Status`` errors.

Every failure the sandbox reports is an ``ApiError`` rendered as a ``meta/v1 Status``
with the same reason, message wording and details the real apiserver produces, so
client code that inspects ``ApiException.status`` / ``.body`` behaves identically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .resources import ResourceType

REASON_BY_CODE: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def reason_for(code: int) -> str:
    return REASON_BY_CODE.get(code, "Unknown")


@dataclass(frozen=True)
class FieldError:
    """One validation failure, like apimachinery's ``field.Error``."""

    reason: str  # FieldValueInvalid, FieldValueRequired, FieldValueForbidden, ...
    field: str
    detail: str
    value: Any = None

    _PREFIX = {
        "FieldValueInvalid": "Invalid value",
        "FieldValueRequired": "Required value",
        "FieldValueForbidden": "Forbidden",
        "FieldValueDuplicate": "Duplicate value",
        "FieldValueNotSupported": "Unsupported value",
    }

    @classmethod
    def invalid(cls, field: str, value: Any, detail: str) -> FieldError:
        return cls("FieldValueInvalid", field, detail, value)

    @classmethod
    def required(cls, field: str, detail: str = "") -> FieldError:
        return cls("FieldValueRequired", field, detail)

    @classmethod
    def forbidden(cls, field: str, detail: str) -> FieldError:
        return cls("FieldValueForbidden", field, detail)

    def body(self) -> str:
        """The message without the field path, e.g. 'Invalid value: "X": must be ...'."""
        prefix = self._PREFIX.get(self.reason, self.reason)
        if self.reason in ("FieldValueInvalid", "FieldValueDuplicate", "FieldValueNotSupported"):
            prefix = f"{prefix}: {_render_value(self.value)}"
        return f"{prefix}: {self.detail}" if self.detail else prefix

    def message(self) -> str:
        return f"{self.field}: {self.body()}"

    def cause(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.body(), "field": self.field}


def _render_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class ApiError(Exception):
    """An error answered to the client as a Status object with an HTTP code."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or reason_for(code)
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        # Generic failures carry an empty details object on the real server too.
        status["details"] = self.details if self.details is not None else {}
        status["code"] = self.code
        return status


def _details(resource: ResourceType, name: str, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if resource.group:
        details["group"] = resource.group
    details["kind"] = resource.plural  # the apiserver really puts the resource here
    details.update(extra)
    return details


def not_found(resource: ResourceType, name: str) -> ApiError:
    return ApiError(
        404, f'{resource.qualified} "{name}" not found', details=_details(resource, name)
    )


def already_exists(resource: ResourceType, name: str) -> ApiError:
    return ApiError(
        409, f'{resource.qualified} "{name}" already exists',
        reason="AlreadyExists", details=_details(resource, name),
    )  # fmt: skip


def conflict(resource: ResourceType, name: str, why: str) -> ApiError:
    return ApiError(
        409,
        f'Operation cannot be fulfilled on {resource.qualified} "{name}": {why}',
        details=_details(resource, name),
    )


def modified_conflict(resource: ResourceType, name: str) -> ApiError:
    return conflict(
        resource,
        name,
        "the object has been modified; please apply your changes to the latest version "
        "and try again",
    )


def invalid(resource: ResourceType, name: str, errors: list[FieldError]) -> ApiError:
    messages = [e.message() for e in errors]
    summary = messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"
    details: dict[str, Any] = {"name": name}
    if resource.group:
        details["group"] = resource.group
    details["kind"] = resource.kind  # Invalid uses the kind, unlike the other reasons
    details["causes"] = [e.cause() for e in errors]
    return ApiError(
        422, f'{resource.qualified_kind} "{name}" is invalid: {summary}', details=details
    )


def forbidden(resource: ResourceType, name: str, why: str, **extra: Any) -> ApiError:
    return ApiError(
        403,
        f'{resource.qualified} "{name}" is forbidden: {why}',
        details=_details(resource, name, **extra),
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def method_not_allowed(message: str) -> ApiError:
    return ApiError(405, message)


def unknown_path() -> ApiError:
    return ApiError(404, "the server could not find the requested resource")


def expired(message: str) -> ApiError:
    return ApiError(410, message)


def internal(message: str) -> ApiError:
    return ApiError(500, message)


def success(resource: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """The Status a DELETE answers for kinds that do not return the deleted object."""
    meta = obj.get("metadata", {})
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": _details(resource, meta.get("name", ""), uid=meta.get("uid", "")),
    }
