"""What the models' validators raise, and how a rule describes itself to JSON Schema."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import GetJsonSchemaHandler
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema


class RuleViolation(ValueError):
    """A value breaks one of the rules of the model: its text is the message the user
    sees (what was wrong and what is allowed), whichever interface the value came in by."""


@dataclass(frozen=True)
class Described:
    """Annotated metadata that adds keywords to a type's JSON Schema, for rules that a
    validator enforces but JSON Schema can only describe (a name's pattern, say)."""

    keywords: dict[str, Any] = field(hash=False)

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.update(self.keywords)
        return schema


class Kind(enum.Enum):
    """Annotated metadata: what kind of value a field holds. Requests are checked kind
    by kind (names, then numbers, then quantities, then the rest), so of several
    problems the user is told the same one first whichever way they ask."""

    NAME = "name"
    NUMBER = "number"
    QUANTITY = "quantity"
    TEXT = "text"


class Fixed:
    """Annotated metadata: the field is chosen when the cluster is created and cannot be
    changed by an update."""

    def __repr__(self) -> str:
        return "FIXED"


FIXED = Fixed()


def typed(field: FieldInfo) -> Any:
    """A field's type with its rules (validators, constraints, descriptions for JSON
    Schema, markers), without SQLModel's column settings: to declare the same field in
    a model derived from it."""
    rules = [m for m in field.metadata if not type(m).__module__.startswith("sqlmodel")]
    return Annotated[field.annotation, *rules] if rules else field.annotation
