"""What a running cluster reports of itself (spec section 6): cpu in cores, memory and
disk in bytes, queries per second; the record of the last report, and a report."""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import AllowInfNan, BaseModel, ConfigDict, Strict, create_model, model_validator
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from app.models.rules import Kind, RuleViolation

# Far beyond any real measurement, and within the float range the values are kept in.
MAX_REPORTED = 1e30


class Usage(SQLModel):
    """The usage last reported (all zero until the first report)."""

    cpu_usage: float = Field(default=0.0, description="CPU in use, in cores")
    memory_usage: float = Field(default=0.0, description="Memory in use, in bytes")
    disk_usage: float = Field(default=0.0, description="Disk in use, in bytes")
    qps: float = Field(default=0.0, description="Queries per second")


USAGE_FIELDS = tuple(Usage.model_fields)
# A reported number, or null for none: finite, from 0 to MAX_REPORTED (an integer
# counts as a number).
Reported = Annotated[
    float | None, Strict(), AllowInfNan(False), Ge(0), Le(MAX_REPORTED), Kind.NUMBER
]


class _Report(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": [field], "properties": {field: {"type": "number"}}}
                for field in USAGE_FIELDS
            ]
        },
    )

    @model_validator(mode="after")
    def _says_something(self) -> Any:
        if all(getattr(self, field) is None for field in USAGE_FIELDS):
            raise RuleViolation(f"a usage report needs at least one of {', '.join(USAGE_FIELDS)}")
        return self


_REPORTED_FIELDS: dict[str, Any] = {
    name: (Reported, PydanticField(default=None, description=field.description))
    for name, field in Usage.model_fields.items()
}
UsageReport: type[BaseModel] = create_model(
    "UsageReport",
    __base__=_Report,
    __doc__=f"Any of the usage fields (numbers from 0 to {MAX_REPORTED:.0e}; -0.0 is stored "
    "as 0); those left out or null keep their last reported value. At least one must be given.",
    **_REPORTED_FIELDS,
)
