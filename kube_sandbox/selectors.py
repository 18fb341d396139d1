"""Label and field selectors: parsing and matching, with no I/O.

Follows k8s.io/apimachinery/pkg/labels and .../fields: the same grammar, operators,
escaping and validation, so a selector that the sandbox accepts (or rejects) is
accepted (or rejected) by a real apiserver too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .validation import label_value_problems, qualified_name_problems


class SelectorError(ValueError):
    """The selector string is malformed; the apiserver answers 400 BadRequest."""


_SET_OPERATORS = {"in", "notin"}
_VALUE_OPERATORS = {"=", "==", "!="}
_NUMERIC_OPERATORS = {">", "<"}


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # exists, !, =, ==, !=, in, notin, >, <
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("=", "==", "in"):
            return present and value in self.values
        if self.operator in ("!=", "notin"):
            return not present or value not in self.values
        # Numeric comparisons: a non-integer label value never matches.
        if not present or value is None or not re.fullmatch(r"-?\d+", value):
            return False
        bound = int(self.values[0])
        return int(value) > bound if self.operator == ">" else int(value) < bound

    def __str__(self) -> str:
        if self.operator == "exists":
            return self.key
        if self.operator == "!":
            return f"!{self.key}"
        if self.operator in _SET_OPERATORS:
            return f"{self.key} {self.operator} ({','.join(self.values)})"
        return f"{self.key}{self.operator}{self.values[0]}"


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of requirements; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def is_empty(self) -> bool:
        return not self.requirements

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


# --- label selector parsing -------------------------------------------------------------

_TOKEN = re.compile(r"\s*(!=|==|=|!|\(|\)|,|<|>|[^\s!=(),<>]+)")


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    while position < len(text):
        if text[position:].isspace():
            break
        match = _TOKEN.match(text, position)
        if not match:  # pragma: no cover - the pattern accepts every non-space character
            raise SelectorError(f"unable to parse selector {text!r} at offset {position}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def _is_identifier(token: str | None) -> bool:
    return token is not None and re.fullmatch(r"[^\s!=(),<>]+", token) is not None


class _LabelParser:
    def __init__(self, text: str) -> None:
        self._tokens = _tokenize(text)
        self._position = 0

    def _peek(self) -> str | None:
        return self._tokens[self._position] if self._position < len(self._tokens) else None

    def _take(self) -> str | None:
        token = self._peek()
        self._position += 1
        return token

    def parse(self) -> LabelSelector:
        requirements: list[Requirement] = []
        if self._peek() is None:
            return LabelSelector()
        while True:
            requirements.append(self._requirement())
            token = self._take()
            if token is None:
                break
            if token != ",":
                raise SelectorError(f"found '{token}', expected: ',' or 'end of string'")
        return LabelSelector(tuple(requirements))

    def _requirement(self) -> Requirement:
        token = self._take()
        if token == "!":
            key = self._take()
            if not _is_identifier(key):
                raise SelectorError(f"found '{key or ''}', expected: identifier after '!'")
            return _requirement(str(key), "!", ())
        if not _is_identifier(token):
            raise SelectorError(
                f"found '{token or ''}', expected: !, identifier, or 'end of string'"
            )
        key = str(token)
        operator = self._peek()
        if operator is None or operator == ",":
            return _requirement(key, "exists", ())
        self._take()
        if operator in _SET_OPERATORS:
            return _requirement(key, operator, self._value_set())
        if operator in _VALUE_OPERATORS:
            # "a=" (empty value) is legal; the next token then ends the requirement.
            value = self._peek()
            if _is_identifier(value) and value not in _SET_OPERATORS | {","}:
                self._take()
                return _requirement(key, operator, (str(value),))
            if value is None or value == ",":
                return _requirement(key, operator, ("",))
            raise SelectorError(f"found '{value}', expected: identifier")
        if operator in _NUMERIC_OPERATORS:
            value = self._take()
            if not _is_identifier(value):
                raise SelectorError(f"found '{value or ''}', expected: integer")
            return _requirement(key, operator, (str(value),))
        raise SelectorError(f"found '{operator}', expected: in, notin, =, ==, !=, gt, lt")

    def _value_set(self) -> tuple[str, ...]:
        if self._take() != "(":
            raise SelectorError("found '', expected: '('")
        values: list[str] = []
        expect_value = True
        while True:
            token = self._take()
            if token is None:
                raise SelectorError("found 'end of string', expected: ')'")
            if token == ")":
                if expect_value and values:
                    values.append("")  # "(a,)" has a trailing empty value, as upstream
                break
            if token == ",":
                if expect_value:
                    values.append("")
                expect_value = True
                continue
            if not expect_value or not _is_identifier(token):
                raise SelectorError(f"found '{token}', expected: ',' or ')'")
            values.append(token)
            expect_value = False
        return tuple(values)


def _requirement(key: str, operator: str, values: Iterable[str]) -> Requirement:
    """Build a requirement, validating it the way labels.NewRequirement does."""
    values = tuple(values)
    problems = qualified_name_problems(key)
    if problems:
        raise SelectorError(f"key: Invalid value: {key!r}: {'; '.join(problems)}")
    if operator in _SET_OPERATORS and not values:
        raise SelectorError("for 'in', 'notin' operators, values set can't be empty")
    if operator in _VALUE_OPERATORS and len(values) != 1:
        raise SelectorError("exact-match compatibility requires one single value")
    if operator in _NUMERIC_OPERATORS:
        if len(values) != 1 or not re.fullmatch(r"-?\d+", values[0]):
            raise SelectorError(
                f"for 'Gt', 'Lt' operators, the value must be an integer: {values!r}"
            )
    else:
        for value in values:
            value_problems = label_value_problems(value)
            if value_problems:
                raise SelectorError(
                    f"values[0][{key}]: Invalid value: {value!r}: {'; '.join(value_problems)}"
                )
    return Requirement(
        key, operator, tuple(sorted(set(values))) if operator in _SET_OPERATORS else values
    )


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse a ``labelSelector`` query value; ``SelectorError`` when it is malformed."""
    if not text:
        return LabelSelector()
    return _LabelParser(text).parse()


def label_selector_from_object(selector: Mapping[str, Any] | None) -> LabelSelector:
    """Convert a metav1.LabelSelector (matchLabels/matchExpressions) into a selector."""
    if not selector:
        return LabelSelector()
    requirements = [
        _requirement(key, "=", (str(value),))
        for key, value in (selector.get("matchLabels") or {}).items()
    ]
    operators = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expression in selector.get("matchExpressions") or []:
        operator = operators.get(expression.get("operator", ""))
        if operator is None:
            raise SelectorError(
                f"{expression.get('operator')!r} is not a valid label selector operator"
            )
        requirements.append(
            _requirement(expression.get("key", ""), operator, expression.get("values") or ())
        )
    return LabelSelector(tuple(sorted(requirements, key=lambda r: r.key)))


# --- field selectors --------------------------------------------------------------------

ALWAYS_SUPPORTED_FIELDS: tuple[str, ...] = ("metadata.name", "metadata.namespace")


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    operator: str  # "=" or "!="
    value: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        actual = field_value(obj, self.field)
        return (actual == self.value) if self.operator == "=" else (actual != self.value)


@dataclass(frozen=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return all(r.matches(obj) for r in self.requirements)

    def is_empty(self) -> bool:
        return not self.requirements


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The string form of a dotted field, "" when absent (as field label conversion does)."""
    current: Any = obj
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return ""
        current = current.get(part)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        raise SelectorError(f"invalid field selector: {text!r}: trailing backslash")
    parts.append("".join(current))
    return parts


def _unescape(value: str) -> str:
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        nxt = next(chars, "")
        if nxt not in ("\\", ",", "="):
            raise SelectorError(f"invalid field selector value escape sequence: \\{nxt}")
        out.append(nxt)
    return "".join(out)


def _find_unescaped(term: str, operator: str) -> int:
    index = term.find(operator)
    while index > 0 and term[index - 1] == "\\":
        index = term.find(operator, index + 1)
    return index


def _split_term(term: str) -> tuple[str, str, str] | None:
    """(field, operator, raw value); "!=" is tried first so "a!=b" is not "a!" = "b"."""
    for token, operator in (("!=", "!="), ("==", "="), ("=", "=")):
        index = _find_unescaped(term, token)
        if index >= 0:
            return term[:index], operator, term[index + len(token) :]
    return None


def parse_field_selector(text: str | None, supported: Iterable[str] = ()) -> FieldSelector:
    """Parse a ``fieldSelector`` value, rejecting labels the resource does not support."""
    if not text:
        return FieldSelector()
    allowed = set(ALWAYS_SUPPORTED_FIELDS) | set(supported)
    requirements: list[FieldRequirement] = []
    for term in _split_unescaped(text, ","):
        parts = _split_term(term)
        if parts is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        field, operator, value = parts
        if field not in allowed:
            raise SelectorError(f"field label not supported: {field}")
        requirements.append(FieldRequirement(field, operator, _unescape(value)))
    return FieldSelector(tuple(requirements))
