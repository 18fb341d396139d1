"""GraphQL types and inputs derived from the model family (app.models): the fields,
their types and descriptions are the models'; a class body adds only what GraphQL has
beyond them (resolvers, a cursor) or types GraphQL must say differently.

Strawberry's own pydantic integration makes an input's fields required as the model
does; a create input here takes every field as optional (a missing name is the
specification's error, BAD_USER_INPUT, not a schema error), and an int field whose
range exceeds 32 bits must be a Long. Hence this small generator.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import keyword
from collections.abc import Callable, Collection
from operator import attrgetter
from types import UnionType
from typing import Annotated, Any, NamedTuple, NewType, TypeVar, Union, get_args, get_origin

import strawberry
from annotated_types import Le
from pydantic import BaseModel
from pydantic.fields import ComputedFieldInfo, FieldInfo
from strawberry.types.private import is_private

from app.models.readers import Reader, reader

T = TypeVar("T")

# GraphQL's Int is 32-bit; vector counts can exceed it. The scalar's definition is
# registered on the schema (LONG_SCALAR in its scalar_map).
Long = NewType("Long", int)
INT32_MAX = 2**31 - 1


def _parse_long(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Long cannot represent a non-integer value: {value!r}")
    return value


LONG_SCALAR = strawberry.scalar(
    name="Long", serialize=int, parse_value=_parse_long, description="A 64-bit integer."
)


def _plain(annotation: Any) -> Any:
    """The type without its validation metadata (``Annotated``), also inside ``| None``."""
    if get_origin(annotation) is Annotated:
        return _plain(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return Union[tuple(_plain(arg) for arg in get_args(annotation))]  # noqa: UP007
    return annotation


def _beyond_int32(bound: object) -> bool:
    return isinstance(bound, int) and bound > INT32_MAX


def _graphql_type(name: str, annotation: Any, metadata: Collection[Any]) -> Any:
    """What GraphQL calls a field's type: ids are IDs, an int beyond 32 bits a Long."""
    plain = _plain(annotation)
    optional = type(None) in get_args(plain)
    base = next(arg for arg in get_args(plain) if arg is not type(None)) if optional else plain
    if name == "id" and base is str:
        base = strawberry.ID
    elif base is int and any(isinstance(m, Le) and _beyond_int32(m.le) for m in metadata):
        base = Long
    return base | None if optional else base


def _fields(model: type[BaseModel]) -> dict[str, FieldInfo | ComputedFieldInfo]:
    return {**model.model_fields, **model.model_computed_fields}


def _type_of(name: str, field: FieldInfo | ComputedFieldInfo) -> Any:
    if isinstance(field, ComputedFieldInfo):
        return field.return_type
    return _graphql_type(name, field.annotation, field.metadata)


def object_type(model: type[BaseModel], *, description: str) -> Callable[[type[T]], type[T]]:
    """A ``strawberry.type`` with every field (and computed field) of ``model``, in the
    model's order, then the class's own. A field the class annotates keeps the class's
    type (and the model's description)."""

    def wrap(cls: type[T]) -> type[T]:
        own = dict(inspect.get_annotations(cls))
        annotations: dict[str, Any] = {}
        for name, field in _fields(model).items():
            annotations[name] = own.pop(name, None) or _type_of(name, field)
            if name not in cls.__dict__:
                setattr(cls, name, strawberry.field(description=field.description))
        cls.__annotations__ = {**annotations, **own}
        typed = strawberry.type(cls, description=description)
        _models[typed] = model
        return typed

    return wrap


# A required field of a create input is nullable in the schema (see above): the
# description says so, for readers and code generators that only see the SDL.
REQUIRED = (
    "required. Nullable only so that a missing value is refused by the server with the "
    "specification's error text (BAD_USER_INPUT, as REST words it), not by GraphQL "
    "validation"
)


def _input_description(field: FieldInfo) -> str | None:
    parts = [field.description] if field.description else []
    if field.is_required():
        parts.append(REQUIRED)
    elif field.default is not None:
        parts.append(f"default {json.dumps(field.default)}")
    return "; ".join(parts) or None


def input_type(model: type[BaseModel], *, description: str) -> Callable[[type[T]], type[T]]:
    """A ``strawberry.input`` with every field of ``model``, each optional (null when
    not given): the model validates what was given, with the same errors as REST."""

    def wrap(cls: type[T]) -> type[T]:
        own = dict(inspect.get_annotations(cls))
        annotations: dict[str, Any] = {}
        for name, field in model.model_fields.items():
            graphql_type = _graphql_type(name, field.annotation, field.metadata)
            annotations[name] = own.pop(name, None) or graphql_type | None
            setattr(
                cls, name, strawberry.field(default=None, description=_input_description(field))
            )
        cls.__annotations__ = {**annotations, **own}
        return strawberry.input(cls, description=description)

    return wrap


# The model each ``object_type`` derives from: its computed fields are read by their
# properties' functions, so a plain row of the model's columns (app.store.reads) can
# be the source as well as a table's row.
_models: dict[type[Any], type[BaseModel]] = {}


class _Readers(NamedTuple):
    """How a type's data fields are read from a source: the plain attributes all at
    once (one ``attrgetter`` of several names reads them in C), then the computed."""

    names: tuple[str, ...]
    attributes: Callable[[Any], tuple[Any, ...]]
    computed: tuple[tuple[str, Reader], ...]


# Per type (and the fields given rather than read), found once, not once per row: an
# organisation tree builds thousands.
def _data_readers(cls: type[Any], given: frozenset[str]) -> _Readers:
    readers = _readers.get((cls, given))
    if readers is None:
        readers = _readers[cls, given] = _find_readers(cls, given)
    return readers


_readers: dict[tuple[type[Any], frozenset[str]], _Readers] = {}


def _find_readers(cls: type[Any], given: frozenset[str]) -> _Readers:
    model = _models.get(cls)
    fields = cls.__strawberry_definition__.fields
    # strawberry lists private attributes among the fields; they are no data.
    data = [
        f.python_name
        for f in fields
        if f.base_resolver is None and not is_private(f.type) and f.python_name not in given
    ]
    read = {name: reader(model, name) if model is not None else attrgetter(name) for name in data}
    names = tuple(name for name in data if isinstance(read[name], attrgetter))
    computed = tuple((name, read[name]) for name in data if name not in names)
    if len(names) == 1:
        return _Readers(names, lambda source: (getattr(source, names[0]),), computed)
    return _Readers(names, attrgetter(*names) if names else lambda _: (), computed)


def values(cls: type[Any], source: object, **given: Any) -> dict[str, Any]:
    """The data fields of the strawberry type ``cls`` read from ``source``'s attributes
    of the same names (computed fields of its model computed from them), but those
    ``given``."""
    names, attributes, computed = _data_readers(cls, frozenset(given))
    found = dict(zip(names, attributes(source), strict=True))
    for name, read in computed:
        found[name] = read(source)
    found.update(given)
    return found


def builder(
    cls: type[T], *given: str, fixed: tuple[tuple[str, Any], ...] = ()
) -> Callable[..., T]:
    """A function making ``cls`` of a source, as ``cls(**values(cls, source, **given))``
    does, the ``given`` fields' values passed after the source in this order; the
    ``fixed`` fields (name, value) all take that value, not read from the source.

    An organisation tree makes thousands of objects: the function is generated once
    per type (as ``dataclasses`` generates ``__init__``) and fills the new object's
    attributes in one dict display, each read straight from the source, the other
    fields at their defaults, as the dataclass's own ``__init__`` would. A class whose
    ``__init__`` does more than that (its own, ``__post_init__``, frozen) is made by
    calling it."""
    found = _builders.get((cls, given, fixed))
    if found is None:
        found = _builders[cls, given, fixed] = _builder(cls, given, fixed)
    return found


_builders: dict[
    tuple[type[Any], tuple[str, ...], tuple[tuple[str, Any], ...]], Callable[..., Any]
] = {}


def _builder(
    cls: type[T], given: tuple[str, ...], fixed: tuple[tuple[str, Any], ...]
) -> Callable[..., T]:
    constants = dict(fixed)
    if constants.keys() & set(given):
        raise ValueError("a field both given and fixed")
    names, _attributes, computed = _data_readers(cls, frozenset(given) | frozenset(constants))
    readers = dict(computed)
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    entries: list[str] = []
    for index, field in enumerate(dataclasses.fields(cls)):  # type: ignore[arg-type]
        name = field.name
        if name in given:
            value = f"g{given.index(name)}"
        elif name in constants:
            continue  # in FIXED, below
        elif name in names and name.isidentifier() and not keyword.iskeyword(name):
            value = f"source.{name}"
        elif name in names or name in readers:
            scope[f"r{index}"] = readers.get(name) or attrgetter(name)
            value = f"r{index}(source)"
        elif field.default is not dataclasses.MISSING:
            scope[f"d{index}"] = field.default
            value = f"d{index}"
        elif field.default_factory is not dataclasses.MISSING:
            scope[f"f{index}"] = field.default_factory
            value = f"f{index}()"
        elif not field.init:
            continue  # neither does __init__ set it
        else:
            return functools.partial(_called, cls, given, fixed)  # a field we cannot fill
        entries.append(f"        {name!r}: {value},")
    if not _plain_init(cls):
        return functools.partial(_called, cls, given, fixed)
    arguments = "".join(f", g{index}" for index in range(len(given)))
    # The fixed fields copied at once from a dict of them (a listed container read of
    # a dozen columns has twenty such fields), rather than one entry each.
    scope["FIXED"] = constants
    lines = [
        f"def build(source{arguments}):",
        "    made = new(cls)",
        "    made.__dict__ = {",
        *(["        **FIXED,"] if constants else []),
        *entries,
        "    }",
        "    return made",
    ]
    exec("\n".join(lines), scope)  # the source is made above, of the type's field names
    build: Callable[..., T] = scope["build"]
    return build


def _plain_init(cls: type[Any]) -> bool:
    """Whether ``cls.__init__`` is the one ``dataclasses`` writes, only setting fields."""
    init = getattr(cls.__init__, "__code__", None)
    return (
        dataclasses.is_dataclass(cls)
        and init is not None
        and init.co_qualname == "__create_fn__.<locals>.__init__"
        and not hasattr(cls, "__post_init__")
        and not cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        and not hasattr(cls, "__slots__")
    )


def _called(
    cls: type[T],
    given: tuple[str, ...],
    fixed: tuple[tuple[str, Any], ...],
    source: object,
    *values_given: Any,
) -> T:
    return cls(**values(cls, source, **dict(fixed), **dict(zip(given, values_given, strict=True))))
