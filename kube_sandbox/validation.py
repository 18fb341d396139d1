"""Validation rules shared by object validation and selector parsing.

Messages are copied from k8s.io/apimachinery/pkg/util/validation so that errors read
exactly like the real apiserver's.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import FieldError
from .resources import NameRule

_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = rf"{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*"
_DNS1035_LABEL = r"[a-z]([-a-z0-9]*[a-z0-9])?"
_QUALIFIED_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"

_RULES: dict[str, tuple[re.Pattern[str], int, str]] = {
    "dns1123-label": (
        re.compile(f"^{_DNS1123_LABEL}$"),
        63,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
        "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
        f"'123-abc', regex used for validation is '{_DNS1123_LABEL}')",
    ),
    "dns1123-subdomain": (
        re.compile(f"^{_DNS1123_SUBDOMAIN}$"),
        253,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
        "'-' or '.', and must start and end with an alphanumeric character (e.g. "
        f"'example.com', regex used for validation is '{_DNS1123_SUBDOMAIN}')",
    ),
    "dns1035-label": (
        re.compile(f"^{_DNS1035_LABEL}$"),
        63,
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
        "with an alphabetic character, and end with an alphanumeric character (e.g. "
        f"'my-name',  or 'abc-123', regex used for validation is '{_DNS1035_LABEL}')",
    ),
}


def name_problems(name: str, rule: NameRule) -> list[str]:
    """Why ``name`` is not acceptable under ``rule`` (empty when it is)."""
    pattern, limit, message = _RULES[rule]
    problems = []
    if len(name) > limit:
        problems.append(f"must be no more than {limit} characters")
    if not pattern.match(name):
        problems.append(message)
    return problems


def qualified_name_problems(key: str) -> list[str]:
    """Label keys and annotation keys: optional DNS-subdomain prefix + '/' + name."""
    prefix, slash, name = key.rpartition("/")
    problems = []
    if slash and not prefix:
        problems.append("prefix part must be non-empty")
    elif slash:
        problems.extend("prefix part " + p for p in name_problems(prefix, "dns1123-subdomain"))
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > 63:
        problems.append("name part must be no more than 63 characters")
    elif not re.match(f"^{_QUALIFIED_NAME}$", name):
        problems.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
            "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
            f"or '123-abc', regex used for validation is '{_QUALIFIED_NAME}')"
        )
    return problems


def label_value_problems(value: str) -> list[str]:
    problems = []
    if len(value) > 63:
        problems.append("must be no more than 63 characters")
    if not re.match(f"^{_LABEL_VALUE}$", value):
        problems.append(
            "a valid label must be an empty string or consist of alphanumeric characters, "
            "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
            f"'MyValue',  or 'my_value',  or '12345', regex used for validation is "
            f"'{_LABEL_VALUE}')"
        )
    return problems


def validate_object_meta(meta: dict[str, Any], rule: NameRule) -> list[FieldError]:
    """metadata.name / generateName / labels / annotations checks common to every kind."""
    errors: list[FieldError] = []
    name = meta.get("name")
    generate_name = meta.get("generateName")
    if not name and not generate_name:
        return [FieldError.required("metadata.name", "name or generateName is required")]
    if name is not None and not isinstance(name, str):
        return [FieldError.invalid("metadata.name", name, "must be a string")]
    if name:
        errors.extend(
            FieldError.invalid("metadata.name", name, p) for p in name_problems(name, rule)
        )
    labels = meta.get("labels") or {}
    if not isinstance(labels, dict):
        errors.append(FieldError.invalid("metadata.labels", labels, "must be a map"))
        labels = {}
    for key, value in labels.items():
        errors.extend(
            FieldError.invalid("metadata.labels", key, p) for p in qualified_name_problems(key)
        )
        if not isinstance(value, str):
            errors.append(FieldError.invalid("metadata.labels", value, "must be a string"))
            continue
        errors.extend(
            FieldError.invalid("metadata.labels", value, p) for p in label_value_problems(value)
        )
    annotations = meta.get("annotations") or {}
    if not isinstance(annotations, dict):
        errors.append(FieldError.invalid("metadata.annotations", annotations, "must be a map"))
        annotations = {}
    for key, value in annotations.items():
        errors.extend(
            FieldError.invalid("metadata.annotations", key, p) for p in qualified_name_problems(key)
        )
        if not isinstance(value, str):
            errors.append(
                FieldError.invalid(f"metadata.annotations[{key}]", value, "must be a string")
            )
    return errors
