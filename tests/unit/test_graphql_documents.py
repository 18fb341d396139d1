"""A query text is parsed and validated once per schema; every limit still refuses
what it refused, every time."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import ASTValidationRule, FieldNode, GraphQLError, ValidationContext
from strawberry.extensions import AddValidationRules

from app.api.graphql.documents import DocumentCache, RememberedDocuments
from app.api.graphql.schema import DEFAULT_LIMITS, make_schema
from app.settings import Settings

validations: list[str] = []


class Counted(ASTValidationRule):
    """Counts the documents validated; refuses a field named ``refused``."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        validations.append("validated")

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.name.value == "refused":
            self.report_error(GraphQLError("refused is refused", [node]))


@strawberry.type
class Query:
    @strawberry.field
    def echo(self, text: str) -> str:
        return text

    @strawberry.field
    def refused(self) -> str:
        return "never"


def counting_schema(cache: DocumentCache) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        extensions=[RememberedDocuments.factory(cache), lambda: AddValidationRules([Counted])],
    )


def limited_schema(**limits: Any) -> strawberry.Schema:
    return make_schema(**{**DEFAULT_LIMITS, **limits})


async def test_a_valid_text_is_validated_once_whatever_its_variables() -> None:
    cache, validations[:] = DocumentCache(), []
    schema = counting_schema(cache)
    query = "query($t: String!) { echo(text: $t) }"
    for text in ("a", "b", "c"):
        result = await schema.execute(query, variable_values={"t": text})
        assert result.errors is None and result.data == {"echo": text}
    assert validations == ["validated"]
    await schema.execute('{ echo(text: "other") }')
    assert validations == ["validated"] * 2 and len(cache) == 2


async def test_a_refused_text_is_validated_and_refused_every_time() -> None:
    cache, validations[:] = DocumentCache(), []
    schema = counting_schema(cache)
    for attempt in range(1, 4):
        result = await schema.execute("{ refused }")
        assert result.data is None and result.errors is not None
        assert [e.message for e in result.errors] == ["refused is refused"]
        assert len(validations) == attempt


async def test_a_text_that_does_not_parse_is_refused_every_time() -> None:
    cache = DocumentCache()
    schema = counting_schema(cache)
    for _ in range(2):
        result = await schema.execute("{ echo(text: ")
        assert result.errors is not None and "Syntax Error" in result.errors[0].message
    assert len(cache) == 0


async def test_the_cache_is_bounded() -> None:
    cache, validations[:] = DocumentCache(max_documents=2, max_text=40), []
    schema = counting_schema(cache)
    for text in ("a", "b", "c", "a"):  # "a" was dropped as the least recently used
        await schema.execute(f'{{ echo(text: "{text}") }}')
    assert len(cache) == 2 and len(validations) == 4
    long = '{ echo(text: "' + "x" * 40 + '") }'  # longer than max_text: never kept
    for _ in range(2):
        assert (await schema.execute(long)).data == {"echo": "x" * 40}
    assert len(cache) == 2 and len(validations) == 6


INTROSPECTION = "{ __schema { types { fields { type { ofType { name } } } } } }"
DEEP = '{ organization(id: "o") { users { containers { deployment { details { diskSize } } } } } }'


async def test_every_limit_refuses_a_text_every_time() -> None:
    tokens = "{ " + " ".join(["__typename"] * 60) + " }"
    aliases = "{ " + " ".join(f"a{n}: __typename" for n in range(5)) + " }"
    fields = "{ __schema { types { name kind description } } }"
    cases = [
        (limited_schema(max_depth=3), DEEP, "exceeds maximum operation depth of 3"),
        (limited_schema(max_tokens=50), tokens, "token"),
        (limited_schema(max_aliases=3), aliases, "aliases"),
        (limited_schema(max_fields=3), fields, "more than the limit of 3"),
        (limited_schema(introspection=False), INTROSPECTION, "introspection"),
    ]
    for schema, query, refusal in cases:
        for _ in range(3):
            result = await schema.execute(query)
            assert result.errors is not None and result.data is None, query
            assert refusal in result.errors[0].message.lower(), result.errors


async def test_what_one_schema_found_valid_another_refuses_by_its_own_limits() -> None:
    generous, strict = limited_schema(), limited_schema(max_depth=3)
    for _ in range(2):
        # Valid, so executed (and failing there: no caller, no database).
        allowed = await generous.execute(DEEP)
        assert allowed.errors is not None
        assert not any("depth" in error.message for error in allowed.errors)
        refused = await strict.execute(DEEP)
        assert refused.errors is not None and "depth of 3" in refused.errors[0].message


def test_the_default_limits_are_the_settings_defaults() -> None:
    fields = Settings.model_fields
    assert {
        name: fields[f"graphql_{name}"].default
        for name in ("max_depth", "max_aliases", "max_tokens", "max_fields", "introspection")
    } == DEFAULT_LIMITS
