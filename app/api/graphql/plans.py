"""The fast executor's plans (app.api.graphql.fast_execution), compiled to Python.

A plan is the list of steps of one object type's collected field set. Interpreted, a
step costs a dispatch on its kind, a call to read the attribute and one to serialize
it: several times what the answer's value itself costs. Compiled (as ``dataclasses``
writes ``__init__``, and graphql-jit compiles a query for JavaScript), the plan is one
function per field set that reads each attribute inline and stores it as it is when
its type is one the serializer would return unchanged: a ``str`` for String and ID, an
``int`` within 32 bits for Int, a finite ``float`` for Float, a ``bool`` for Boolean,
a member of a strawberry enum's class (its GraphQL name, found once per member by the
enum's own serializer). Every other value, and every other step, is handed to the
executor's general code (``Calls``), which gives the standard executor's answer.
"""

from __future__ import annotations

import functools
import keyword
import math
from collections.abc import Callable
from types import CodeType
from typing import Any, NamedTuple

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
    GraphQLType,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path, Undefined

__all__ = [
    "Calls",
    "Completed",
    "Leaf",
    "Object",
    "Prefetched",
    "Standard",
    "Step",
    "TypeName",
    "compile_plan",
]


class Leaf(NamedTuple):
    """An attribute of a scalar or enum type."""

    name: str
    read: Callable[[Any, str], Any]
    attribute: str
    serialize: Callable[[Any], Any]
    nullable: bool
    field_def: GraphQLField
    details: FieldDetailsList
    named: GraphQLScalarType | GraphQLEnumType


class Object(NamedTuple):
    """An attribute holding an object of a concrete type without ``is_type_of``."""

    name: str
    read: Callable[[Any, str], Any]
    attribute: str
    object_type: GraphQLObjectType
    field_def: GraphQLField
    details: FieldDetailsList
    nullable: bool


class Completed(NamedTuple):
    """An attribute whose value the standard completion completes (a list: each of its
    items into its selection's plan, by the executor's ``complete_iterable_value``)."""

    name: str
    attribute: str
    field_def: GraphQLField
    details: FieldDetailsList


class Prefetched(NamedTuple):
    """A resolver's result, read from ``loaded`` when the object holds it: an object
    (completed by its plan) or a list (``Completed``)."""

    name: str
    loaded: Object | Completed
    details: FieldDetailsList


class TypeName(NamedTuple):
    name: str
    value: str


class Standard(NamedTuple):
    """Anything else: executed by graphql-core's ``execute_field``."""

    name: str
    details: FieldDetailsList


Step = Leaf | Object | Prefetched | TypeName | Standard

# A plan compiled: the object's answer for a source and its path (or an awaitable).
Run = Callable[[Any, Path | None], Any]


class Calls(NamedTuple):
    """The executor's general code a compiled plan calls for what it does not settle."""

    # (step, path, error) -> None: an attribute's reading raised
    raised: Callable[[Leaf, Path | None, Exception], None]
    # (step, source, path, value) -> the answer: a leaf value not stored as it is
    leaf: Callable[[Leaf, Any, Path | None, Any], Any]
    # (step, source, path) -> the answer: an object in an attribute
    nested: Callable[[Object, Any, Path | None], Any]
    # (step, path, value) -> the answer: an object step's value, already read
    nested_value: Callable[[Object, Path | None, Any], Any]
    # (step, its field's path, error) -> None: reading an object step's attribute, or
    # its plan, raised
    nested_raised: Callable[[Object, Path, Exception], None]
    # (step, its field's path, answer) -> an awaitable of it: the plan's answer was one
    nested_later: Callable[[Object, Path, Any], Any]
    # Classes none of whose instances is awaitable, an exception or null: their objects
    # go straight into their selection's plan (grows as the executor meets them).
    settled: set[type]
    # (step, source, path) -> the answer or Undefined: a field the standard way
    standard: Callable[[Standard | Prefetched, Any, Path | None], Any]
    # (step, source, path) -> the answer: an attribute's value completed the standard way
    complete: Callable[[Completed, Any, Path | None], Any]
    is_awaitable: Callable[[Any], bool]
    # (the answer, the names whose values are awaitable) -> an awaitable of it
    gather: Callable[[dict[str, Any], list[str]], Any]
    # (awaitables) -> None: what other fields started, when one failed
    settle: Callable[[list[Any]], None]
    not_loaded: object


# Types whose values are certainly not awaitable: the check costs more than a field.
PLAIN = frozenset({str, int, float, bool, dict, list, type(None)})


def _unchanged(leaf: Leaf, value: str) -> str | None:
    """A condition on ``value`` under which the leaf's serializer returns it unchanged."""
    named = leaf.named
    if named is GraphQLString or named is GraphQLID:
        return f"type({value}) is str"
    if named is GraphQLBoolean:
        return f"type({value}) is bool"
    if named is GraphQLInt:
        return f"type({value}) is int and -2147483648 <= {value} <= 2147483647"
    if named is GraphQLFloat:
        return f"type({value}) is float and isfinite({value})"
    return None


def enum_names(named: GraphQLType) -> tuple[type, dict[Any, str]] | None:
    """A strawberry enum's Python class and each member's GraphQL name by the member's
    value, as the enum's serializer gives them; None when it does not give a name for
    every member, or when the values are not hashable."""
    members_of = getattr(named, "wrapped_cls", None)
    if not isinstance(named, GraphQLEnumType) or not isinstance(members_of, type):
        return None
    names: dict[Any, str] = {}
    try:
        for member in members_of:  # type: ignore[attr-defined]
            name = named.coerce_output_value(member)
            if not isinstance(name, str) or member._value_ in names:
                return None
            names[member._value_] = name
    except Exception:
        return None
    return members_of, names


def compile_plan(
    steps: list[Step], calls: Calls, *, type_name: str, runs: dict[int, Run] | None = None
) -> Run:
    """The function answering ``steps`` (of the object type ``type_name``) for one
    source: what the executor's ``execute_fields`` gives, in the same order, with the
    same errors. ``runs``: the plan of the selection of each object step (by the
    step's index) that has one; such an object, of a settled class, is answered by
    its plan inline, as the executor's general code would answer it."""
    runs = runs or {}
    scope: dict[str, Any] = {
        "calls": calls,
        "raised": calls.raised,
        "leaf": calls.leaf,
        "nested": calls.nested,
        "nested_value": calls.nested_value,
        "nested_raised": calls.nested_raised,
        "nested_later": calls.nested_later,
        "SETTLED": calls.settled,
        "Path": Path,
        "TYPE": type_name,
        "standard": calls.standard,
        "complete": calls.complete,
        "is_awaitable": calls.is_awaitable,
        "gather": calls.gather,
        "settle": calls.settle,
        "NOT_LOADED": calls.not_loaded,
        "PLAIN": PLAIN,
        "Undefined": Undefined,
        "isfinite": math.isfinite,
    }
    body: list[str] = []

    def awaited(key: str, indent: str) -> None:
        body.append(f"{indent}if type(result) not in PLAIN and is_awaitable(result):")
        body.append(f"{indent}    pending.append({key})")

    for index, step in enumerate(steps):
        key = repr(step.name)
        scope[f"S{index}"] = step
        if isinstance(step, TypeName):
            body.append(f"    results[{key}] = {step.value!r}")
        elif isinstance(step, Leaf):
            body.append("    try:")
            body.append(f"        value = {_read(step, index, scope)}")
            body.append("    except Exception as error:")
            body.append(f"        results[{key}] = raised(S{index}, path, error)")
            body.append("    else:")
            branch = "if"
            if (condition := _unchanged(step, "value")) is not None:
                body.append(f"        if {condition}:")
                body.append(f"            results[{key}] = value")
                branch = "elif"
            elif (found := enum_names(step.named)) is not None:
                scope[f"E{index}"], scope[f"N{index}"] = found
                body.append(f"        if type(value) is E{index}:")
                body.append(f"            results[{key}] = N{index}[value._value_]")
                branch = "elif"
            if step.nullable:
                body.append(f"        {branch} value is None:")
                body.append(f"            results[{key}] = None")
                branch = "elif"
            indent = "        "
            if branch == "elif":
                body.append("        else:")
                indent = "            "
            body.append(f"{indent}result = results[{key}] = leaf(S{index}, source, path, value)")
            awaited(key, indent)
        elif isinstance(step, Object) and index in runs:
            scope[f"P{index}"], scope[f"O{index}"] = runs[index], step
            body.extend(_inline_object(step, key, index, scope, "    "))
            awaited(key, "    ")
        elif isinstance(step, Object):
            body.append(f"    result = results[{key}] = nested(S{index}, source, path)")
            awaited(key, "    ")
        elif isinstance(step, Prefetched):
            attribute = repr(step.loaded.attribute)
            body.append(f"    if getattr(source, {attribute}, NOT_LOADED) is not NOT_LOADED:")
            if isinstance(step.loaded, Completed):
                completed = f"complete(S{index}.loaded, source, path)"
                body.append(f"        result = results[{key}] = {completed}")
            elif index in runs:
                scope[f"P{index}"], scope[f"O{index}"] = runs[index], step.loaded
                body.extend(_inline_object(step.loaded, key, index, scope, "        "))
            else:
                nested = f"nested(S{index}.loaded, source, path)"
                body.append(f"        result = results[{key}] = {nested}")
            body.append("    else:")
            body.append(f"        result = results[{key}] = standard(S{index}, source, path)")
            awaited(key, "    ")
        else:
            body.append(f"    result = standard(S{index}, source, path)")
            body.append("    if result is not Undefined:")
            body.append(f"        results[{key}] = result")
            awaited(key, "        ")
    if not body:  # every field skipped
        body.append("    pass")
    lines = [
        "def run(source, path):",
        "  results = {}",
        "  pending = []",
        "  try:",
        *(f"  {line}" for line in body),
        "  except Exception:",
        "    if pending:",  # as the standard executor does: settle what others started
        "      settle([results[name] for name in pending])",
        "    raise",
        "  return gather(results, pending) if pending else results",
    ]
    exec(_code("\n".join(lines)), scope)
    run: Run = scope["run"]
    return run


def _inline_object(
    step: Object, key: str, index: int, scope: dict[str, Any], indent: str
) -> list[str]:
    """An object step with a plan (``P{index}``), inline: the executor's ``_object``
    without its calls for the usual case, an object of a class met before (not null,
    not an exception, not awaitable) answered by its selection's plan. Everything else
    takes the general code, with the value read once."""
    here = f"Path(path, {key}, TYPE)"
    lines = [
        "try:",
        f"    value = {_read(step, index, scope)}",
        "except Exception as error:",
        f"    result = results[{key}] = nested_raised(O{index}, {here}, error)",
        "else:",
        "    if type(value) in SETTLED:",
        f"        here = {here}",
        "        try:",
        f"            result = P{index}(value, here)",
        "        except Exception as error:",
        f"            result = nested_raised(O{index}, here, error)",
        "        else:",
        "            if type(result) is not dict and is_awaitable(result):",
        f"                result = nested_later(O{index}, here, result)",
        f"        results[{key}] = result",
        "    else:",
        f"        result = results[{key}] = nested_value(O{index}, path, value)",
    ]
    return [indent + line for line in lines]


@functools.lru_cache(maxsize=512)
def _code(source: str) -> CodeType:
    """``source`` compiled: a plan's source depends only on its fields' names, kinds and
    types, so the same query (and another selecting the same fields) compiles once."""
    return compile(source, "<plan>", "exec")


def _read(step: Leaf | Object, index: int, scope: dict[str, Any]) -> str:
    """The expression reading the step's attribute from ``source``."""
    attribute = step.attribute
    if step.read is getattr and attribute.isidentifier() and not keyword.iskeyword(attribute):
        return f"source.{attribute}"
    scope[f"R{index}"] = step.read
    return f"R{index}(source, {attribute!r})"
