"""Unknown fields in request bodies, as the apiserver's ``fieldValidation`` treats them.

``Strict`` (what kubectl sends) refuses the request, 400 ``strict decoding error:
unknown field "spec.foo"``; ``Warn`` (no parameter at all) drops the fields and answers
a ``Warning: 299 - "unknown field \\"spec.foo\\""`` header per field; ``Ignore`` drops
them silently. The declared fields come from ``schema.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, FieldError, bad_request
from .resources import ResourceType
from .schema import walk

DIRECTIVES = ("Ignore", "Strict", "Warn")
# The options kind an invalid parameter is reported against, by request verb.
_OPTIONS_KIND = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions"}


@dataclass
class FieldValidation:
    """The directive of one request and the warnings it collected."""

    directive: str = "Ignore"
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, values: list[str], verb: str) -> FieldValidation:
        """The ``fieldValidation`` query parameter; absent means Warn."""
        if not values or values[0] == "":
            return cls("Warn")
        if values[0] not in DIRECTIVES:
            problem = FieldError(
                "FieldValueNotSupported",
                "fieldValidation",
                'supported values: "", "Ignore", "Strict", "Warn"',
                values[0],
            )
            kind = _OPTIONS_KIND.get(verb, "CreateOptions")
            raise ApiError(
                422,
                f'{kind}.meta.k8s.io "" is invalid: {problem.message()}',
                details={
                    "group": "meta.k8s.io",
                    "kind": kind,
                    "causes": [problem.cause()],
                },
            )
        return cls(values[0])

    def check(self, resource: ResourceType, obj: dict[str, Any], *, patch: bool) -> None:
        """Drop the fields ``resource``'s definition does not declare from ``obj``;
        refuse them under Strict (worded as the decoder does for a create or update
        body, or for the result of a patch)."""
        found: list[str] = []
        walk(resource.definition, obj, unknown=found.append, prune=True)
        if not found:
            return
        messages = [f"unknown field {json.dumps(path)}" for path in found]
        if self.directive == "Strict":
            detail = "strict decoding error: " + ", ".join(messages)
            if not patch:
                detail = (
                    f'{resource.kind} in version "{resource.version}" cannot be handled as a '
                    f"{resource.kind}: {detail}"
                )
            raise bad_request(detail)
        if self.directive == "Warn":
            self.warnings.extend(messages)

    def headers(self) -> list[tuple[str, str]]:
        """``Warning`` headers as the apiserver writes them: code 299, agent "-"."""
        return [("Warning", f"299 - {json.dumps(text)}") for text in self.warnings]
