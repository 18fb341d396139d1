"""A faster executor for GraphQL queries, with the standard executor's semantics.

graphql-core executes every field of every object the same general way: it builds a
``GraphQLResolveInfo``, calls the resolver, and walks ``complete_value``'s chain of type
checks, some 5 µs a field. An organisation tree of 1,000 containers has tens of
thousands of fields, nearly all of them plain attributes (strawberry's default
resolver) of a scalar or enum type.

This executor plans each selection once per request (per object type and collected
field set, the fragments, aliases and ``@skip``/``@include`` already resolved by
graphql-core's own ``collect_fields``), compiles each plan to one function
(app.api.graphql.plans) and then, for such attribute fields, reads the attribute and
keeps it as it is where the type's serializer would return it unchanged, else
serializes it with the type's serializer directly; an attribute holding
an object is completed by running the plan of its selection on it. Everything else
takes the standard way, field by field: fields with a resolver of their own (they may
need ``info``, be async, raise), abstract types and types with ``is_type_of``,
introspection, and every value the fast path does not expect (null for a non-null
field, an exception, an awaitable, a value the serializer refuses) is handed, already
resolved, to the standard completion, which words the error as it always does.

Only queries take the fast path; mutations (small answers, run serially) and
subscriptions (a long-lived executor, re-collecting its root fields for every event)
run entirely the standard way, as do operations with ``@defer``/``@stream`` and
requests whose extensions wrap resolvers (field middleware).

Validation, the document limits and the cost estimate run before execution and are
untouched; so are error masking and codes, which post-process the result.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Iterable, Mapping
from types import CoroutineType, GeneratorType
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    OperationType,
    TypeNameMetaFieldDef,
    get_nullable_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import collect_iterator_awaitables, to_nodes
from graphql.pyutils import AwaitableOrValue, Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from app.api.graphql import plans
from app.api.graphql.plans import (
    PLAIN,
    Completed,
    Leaf,
    Object,
    Prefetched,
    Run,
    Standard,
    Step,
    TypeName,
)

__all__ = ["NOT_LOADED", "PREFETCHED", "FastExecutor", "NotLoaded"]

# What strawberry names the resolver of a field without one of its own, no field
# extensions and no exception handlers: it reads the attribute and ignores ``info``
# (strawberry.schema.schema_converter). Any other resolver may use ``info``; should a
# strawberry release rename it, every field simply takes the standard way.
_ATTRIBUTE_RESOLVER = "_get_basic_result"


class NotLoaded(enum.Enum):
    NOT_LOADED = "not loaded"


# A field with a resolver may name, in its strawberry metadata under this key, an
# attribute of its object that holds its result without arguments when a list loaded
# it ahead for all its items (one batch, no resolver call per item), NOT_LOADED
# otherwise. The resolver returns that value itself when it is there and it is given
# no arguments, so reading it gives the same answer.
PREFETCHED = "prefetched"
NOT_LOADED = NotLoaded.NOT_LOADED


def _attribute(field_def: GraphQLField, details: FieldDetailsList) -> StrawberryField | None:
    """The strawberry field behind ``field_def`` when its resolver only reads an
    attribute (strawberry's ``field.get_result`` without a resolver: the configured
    default resolver, ``getattr``, with the field's Python name)."""
    resolve = field_def.resolve
    if (
        resolve is None
        or getattr(resolve, "__name__", None) != _ATTRIBUTE_RESOLVER
        or not getattr(resolve, "_is_default", False)
        or field_def.args
        or details[0].node.arguments
    ):
        return None
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    return definition


def _prefetched(field_def: GraphQLField, details: FieldDetailsList) -> str | None:
    """The attribute that may hold ``field_def``'s result (see PREFETCHED), when the
    document gives the field no arguments (the fields merged under one response name
    have the same, validation sees to it) and it has no extensions or permissions the
    resolver would apply."""
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if (
        not isinstance(definition, StrawberryField)
        or details[0].node.arguments
        or definition.extensions
        or definition.permission_classes
    ):
        return None
    metadata: Mapping[str, Any] = definition.metadata or {}
    attribute = metadata.get(PREFETCHED)
    return attribute if isinstance(attribute, str) else None


def _settles(item: Any) -> bool:
    """Whether no other instance of ``item``'s type can be awaitable when it is not: a
    class without ``__await__`` (coroutines and generators excepted)."""
    kind = type(item)
    return not hasattr(kind, "__await__") and kind not in (GeneratorType, CoroutineType)


class FastExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor with a compiled fast path for plain attribute fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        middleware = self.middleware_manager
        self._fast = self.operation.operation is OperationType.QUERY and not (
            middleware is not None and middleware.middlewares
        )
        # Keyed like graphql-core's own memo of collected subfields: by the identity of
        # the field set, kept alive beside its plan so the identity is never reused.
        self._plans: dict[tuple[GraphQLObjectType, int], tuple[GroupedFieldSet, Run]] = {}
        # The plan of each object step's selection (None: it defers), by the step.
        self._object_plans: dict[int, tuple[Object, Run | None]] = {}
        # Classes none of whose instances is awaitable (see _settles).
        self._settled: set[type] = set()
        self._calls: dict[GraphQLObjectType, plans.Calls] = {}

    def build_response(self, data: dict[str, Any] | None) -> Any:
        """The answer, once complete; then the executor lets go of the request's
        context (its loaders hold every row and object the answer was built from).
        graphql-core's executor is itself in a reference cycle (its resolve-info
        helpers hold one of its bound methods) and so is freed only by the collector's
        full passes: holding the context, it kept a 10,000-cluster tree's hundreds of
        megabytes alive until then. Let go, they are freed as soon as the request ends."""
        response = super().build_response(data)
        self.context_value = self.root_value = None
        return response

    # -- planning --------------------------------------------------------------

    def _plan(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> Run:
        key = (parent_type, id(fields))
        cached = self._plans.get(key)
        if cached is not None:
            return cached[1]
        steps = [
            step
            for name, details in fields.items()
            if (step := self._step(parent_type, name, details)) is not None
        ]
        # The plans of the objects below, made first: compiled into this one.
        runs = {
            index: run
            for index, step in enumerate(steps)
            if isinstance(found := step.loaded if isinstance(step, Prefetched) else step, Object)
            and (run := self._object_plan(found))
        }
        run = plans.compile_plan(
            steps, self._calls_of(parent_type), type_name=parent_type.name, runs=runs
        )
        self._plans[key] = (fields, run)
        return run

    def _step(
        self, parent_type: GraphQLObjectType, name: str, details: FieldDetailsList
    ) -> Step | None:
        field_def = self.schema.get_field(parent_type, details[0].node.name.value)
        if field_def is None:
            return None  # the standard executor leaves it out as well
        if field_def is TypeNameMetaFieldDef:
            return TypeName(name, parent_type.name)
        named = get_nullable_type(field_def.type)  # type: ignore[arg-type]
        nullable = not is_non_null_type(field_def.type)
        prefetched = _prefetched(field_def, details)
        if prefetched and isinstance(named, GraphQLObjectType) and named.is_type_of is None:
            loaded = Object(name, getattr, prefetched, named, field_def, details, nullable)
            return Prefetched(name, loaded, details)
        if prefetched and isinstance(named, GraphQLList):
            return Prefetched(name, Completed(name, prefetched, field_def, details), details)
        strawberry_field = _attribute(field_def, details)
        if strawberry_field is None:
            return Standard(name, details)
        read, attribute = strawberry_field.default_resolver, strawberry_field.python_name
        if isinstance(named, GraphQLScalarType | GraphQLEnumType):
            serialize = named.coerce_output_value
            return Leaf(name, read, attribute, serialize, nullable, field_def, details, named)
        if isinstance(named, GraphQLObjectType) and named.is_type_of is None:
            return Object(name, read, attribute, named, field_def, details, nullable)
        return Standard(name, details)

    def _calls_of(self, parent_type: GraphQLObjectType) -> plans.Calls:
        """The general code the plans of ``parent_type``'s field sets call."""
        calls = self._calls.get(parent_type)
        if calls is not None:
            return calls
        type_name = parent_type.name

        def raised(step: Leaf, path: Path | None, error: Exception) -> None:
            field_path = Path(path, step.name, type_name)
            self.handle_field_error(error, step.field_def.type, step.details, field_path)

        def leaf(step: Leaf, source: Any, path: Path | None, value: Any) -> Any:
            if value is None and step.nullable:
                return None
            if type(value) in PLAIN or (
                value is not None
                and value is not Undefined
                and not isinstance(value, Exception)
                and not self.is_awaitable(value)
            ):
                try:
                    serialized = step.serialize(value)
                except Exception:
                    serialized = None  # the standard completion words the error
                if serialized is not None and serialized is not Undefined:
                    return serialized
            field_path = Path(path, step.name, type_name)
            return self._complete_resolved(
                step.field_def, step.details, parent_type, field_path, value
            )

        def obj(step: Object, source: Any, path: Path | None) -> Any:
            return self._object(step, parent_type, source, path)

        def obj_value(step: Object, path: Path | None, value: Any) -> Any:
            return self._object_value(step, parent_type, path, value)

        def obj_raised(step: Object, field_path: Path, error: Exception) -> None:
            self.handle_field_error(error, step.field_def.type, step.details, field_path)

        def obj_later(step: Object, field_path: Path, data: Any) -> Any:
            return self._await_completed(data, step.field_def.type, step.details, field_path)

        def standard(step: Standard | Prefetched, source: Any, path: Path | None) -> Any:
            field_path = Path(path, step.name, type_name)
            return self.execute_field(parent_type, source, step.details, field_path, None)

        def complete(step: Completed, source: Any, path: Path | None) -> Any:
            field_path = Path(path, step.name, type_name)
            value = getattr(source, step.attribute)
            return self._complete_resolved(
                step.field_def, step.details, parent_type, field_path, value
            )

        calls = self._calls[parent_type] = plans.Calls(
            raised=raised,
            leaf=leaf,
            nested=obj,
            nested_value=obj_value,
            nested_raised=obj_raised,
            nested_later=obj_later,
            settled=self._settled,
            standard=standard,
            complete=complete,
            is_awaitable=self.is_awaitable,
            gather=_gathered,
            settle=self.settle_in_background,
            not_loaded=NOT_LOADED,
        )
        return calls

    def _object_plan(self, step: Object) -> Run | None:
        """The plan of the object step's selection; None when it defers (the standard
        completion then handles it)."""
        cached = self._object_plans.get(id(step))
        if cached is not None:
            return cached[1]
        subfields, new_defer_usages, _forbidden = self.collect_subfields(
            step.object_type, step.details
        )
        run = None if new_defer_usages else self._plan(step.object_type, subfields)
        self._object_plans[id(step)] = (step, run)
        return run

    def _not_awaitable(self, value: Any) -> bool:
        kind = type(value)
        if kind in self._settled:
            return True
        if self.is_awaitable(value):
            return False
        if _settles(value):
            self._settled.add(kind)
        return True

    # -- execution -------------------------------------------------------------

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        if not self._fast or position_context is not None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        return self._plan(parent_type, grouped_field_set)(source_value, path)

    def _object(
        self, step: Object, parent_type: GraphQLObjectType, source: Any, path: Path | None
    ) -> Any:
        try:
            value = step.read(source, step.attribute)
        except Exception as raw_error:
            field_path = Path(path, step.name, parent_type.name)
            self.handle_field_error(raw_error, step.field_def.type, step.details, field_path)
            return None
        return self._object_value(step, parent_type, path, value)

    def _object_value(
        self, step: Object, parent_type: GraphQLObjectType, path: Path | None, value: Any
    ) -> Any:
        """What ``_object`` answers for the value it read."""
        return_type = step.field_def.type
        if value is None and step.nullable:
            return None  # as the standard completion gives it, without an error
        run = self._object_plan(step)
        field_path = Path(path, step.name, parent_type.name)
        if (
            run is None
            or value is None
            or value is Undefined
            or isinstance(value, Exception)
            or not self._not_awaitable(value)
        ):
            return self._complete_resolved(
                step.field_def, step.details, parent_type, field_path, value
            )
        try:
            data = run(value, field_path)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, step.details, field_path)
            return None
        if type(data) is not dict and self.is_awaitable(data):
            return self._await_completed(data, return_type, step.details, field_path)
        return data

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo,
        path: Path,
        items: Iterable[Any],
        position_context: Any,
    ) -> AwaitableOrValue[list[Any]]:
        """A list of objects of one concrete type, completed in a tight loop: each
        item straight into its selection's plan. Any other item (null, an exception,
        an awaitable) is completed the standard way, in its place."""
        object_type = get_nullable_type(item_type)  # type: ignore[arg-type]
        if (
            not self._fast
            or position_context is not None
            or not isinstance(object_type, GraphQLObjectType)
            or object_type.is_type_of is not None
            or self.get_stream_usage(field_details_list, path) is not None
        ):
            return super().complete_iterable_value(
                item_type, field_details_list, info, path, items, position_context
            )
        subfields, new_defer_usages, _forbidden = self.collect_subfields(
            object_type, field_details_list
        )
        if new_defer_usages:
            return super().complete_iterable_value(
                item_type, field_details_list, info, path, items, position_context
            )
        is_awaitable = self.is_awaitable
        settled: type | None = None  # a type whose items are not awaitable
        run = self._plan(object_type, subfields)
        completed: list[Any] = []
        awaitable_indices: list[int] = []
        iterator = iter(items)
        try:
            for index, item in enumerate(iterator):
                item_path = Path(path, index, None)
                # Items of a list are mostly of one type: checked once if a plain class.
                if type(item) is not settled and is_awaitable(item):
                    completed.append(
                        self.complete_awaitable_list_item_value(
                            item, item_type, field_details_list, info, item_path, None
                        )
                    )
                    awaitable_indices.append(index)
                    continue
                if item is None or item is Undefined or isinstance(item, Exception):
                    if self.complete_list_item_value(
                        item, completed, item_type, field_details_list, info, item_path, None
                    ):
                        awaitable_indices.append(index)  # pragma: no cover - never for these
                    continue
                try:
                    data = run(item, item_path)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, field_details_list, item_path)
                    completed.append(None)
                    continue
                if settled is None and _settles(item):
                    settled = type(item)
                if type(data) is not dict and is_awaitable(data):
                    completed.append(
                        self._await_completed(data, item_type, field_details_list, item_path)
                    )
                    awaitable_indices.append(index)
                else:
                    completed.append(data)
        except Exception:
            # As the standard executor does: settle what the items started.
            pending = [completed[index] for index in awaitable_indices]
            pending.extend(collect_iterator_awaitables(iterator, is_awaitable))
            if pending:
                self.settle_in_background(pending)
            raise

        if not awaitable_indices:
            return completed

        async def get_completed() -> list[Any]:
            if len(awaitable_indices) == 1:
                index = awaitable_indices[0]
                completed[index] = await completed[index]
            else:
                awaited = await gather_with_cancel(*(completed[i] for i in awaitable_indices))
                for index, value in zip(awaitable_indices, awaited, strict=True):
                    completed[index] = value
            return completed

        return get_completed()

    def _complete_resolved(
        self,
        field_def: GraphQLField,
        details: FieldDetailsList,
        parent_type: GraphQLObjectType,
        path: Path,
        result: Any,
    ) -> Any:
        """What graphql-core's ``execute_field`` does with a value already resolved."""
        return_type = field_def.type
        info = self.build_resolve_info(field_def, to_nodes(details), parent_type, path)
        try:
            if self.is_awaitable(result):
                return self.complete_awaitable_value(return_type, details, info, path, result, None)
            completed = self.complete_value(return_type, details, info, path, result, None)
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, details, path)
            return None
        if self.is_awaitable(completed):
            return self._await_completed(completed, return_type, details, path)
        return completed

    async def _await_completed(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        details: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, details, path)
            return None


async def _gathered(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    """``results`` once the values of the fields named ``pending`` are awaited."""
    if len(pending) == 1:
        field = pending[0]
        results[field] = await results[field]
    else:
        awaited = await gather_with_cancel(*(results[field] for field in pending))
        results.update(zip(pending, awaited, strict=True))
    return results
