"""The fast executor answers every query exactly as the standard one does.

A differential test: a populated app in process (several organisations and users,
created, failed, deleted and updated clusters, events, usage history), and hundreds
of queries generated from the schema itself (so fields added later are covered too)
with variables, aliases, inline and named fragments, ``@skip``/``@include`` on
variables, ``__typename``, introspection, nested lists, resolver errors, null
propagation through non-null fields, and the refusals each caller meets (the admin
may not read ``credentials`` nor its deprecated name ``connection``; other organisations are not found; a user's key may not
read its organisation's quota). Each runs through two schemas built by ``make_schema``
with the server's limits and extensions, one on the fast executor and one on the
standard, and the whole responses (data and errors with their paths, locations and
extensions) must be the same JSON. The fast one runs as the server does, its org
listings reading only the columns the document needs (app.api.graphql.reading); the
standard one, the reference, reads every column. Each field of a listed container and
of its deployment is also asked alone, and generated org trees on their own."""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
import strawberry
from graphql import (
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    ast_from_value,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_enum_type,
    is_leaf_type,
    is_non_null_type,
    parse,
    print_ast,
)
from graphql.execution import Executor
from strawberry.http import process_result

from app.access.principals import Principal
from app.api.graphql import reading, types
from app.api.graphql.context import Context
from app.api.graphql.cost_limit import CostBudget
from app.api.graphql.fast_execution import FastExecutor
from app.api.graphql.reading import ALL_COLUMNS
from app.api.graphql.schema import DEFAULT_LIMITS, make_schema
from tests.support.clock import ManualClock
from tests.support.inprocess import (
    InProcessServer,
    create_accepted,
    serve_in_process,
    wait_for_status,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

USERS = {"acme": ["alice", "bob", "carol"], "globex": ["dave", "erin"]}
SERVICES = ["search", "vectors", "logs"]
UNKNOWN = "nobody-here"


@dataclass
class Population:
    app: InProcessServer
    namespaces: list[str] = field(default_factory=list)


async def _populate(app: InProcessServer) -> Population:
    population = Population(app)
    async with app.client() as admin:
        clusters = []
        for org, users in USERS.items():
            for n, user in enumerate(users):
                for service in SERVICES[: 1 + n % 3]:
                    clusters.append((org, user, service))
        failing = {clusters[1], clusters[5]}
        for org, user, service in clusters:
            namespace = f"{org}-{user}-{service}"
            population.namespaces.append(namespace)
            if (org, user, service) in failing:
                await app.sandbox.hold_readiness(namespace)  # readiness times out: failed
            await create_accepted(admin, org, user, service, replicas=1 + len(service) % 3)
        for org, user, service in clusters:
            wanted = {"failed"} if (org, user, service) in failing else {"created"}
            await wait_for_status(
                admin, user=user, service_name=service, tenant_org_id=org, wanted=wanted
            )
        # Usage history, an update (more events), deletions, and a service created
        # again after its deletion (a deleted and a live record of one name).
        for namespace in population.namespaces[::3]:
            for qps in (10, 20):
                response = await admin.post(
                    f"/deployments/{namespace}/report", json={"cpu_usage": 0.5, "qps": qps}
                )
                assert response.status_code == 200, response.text
        org, user, service = clusters[2]
        response = await admin.patch(f"/clusters/{org}-{user}-{service}", json={"replicas": 2})
        assert response.status_code == 202, response.text
        await wait_for_status(
            admin, user=user, service_name=service, tenant_org_id=org, wanted={"created"}
        )
        for org, user, service in (clusters[0], clusters[-1]):
            assert (await admin.delete(f"/clusters/{org}-{user}-{service}")).status_code == 202
            await wait_for_status(
                admin,
                user=user,
                service_name=service,
                tenant_org_id=org,
                wanted={"deleted"},
                include_deleted=True,
            )
        org, user, service = clusters[0]
        await create_accepted(admin, org, user, service)
        await wait_for_status(
            admin, user=user, service_name=service, tenant_org_id=org, wanted={"created"}
        )
    return population


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def population(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Population]:
    # A clock that stands still: an open bill is billed up to now, so under the system
    # clock the two executors' answers of one query would differ by the time between them.
    async with serve_in_process(
        tmp_path_factory.mktemp("fast-path"),
        clock=ManualClock(datetime.now(UTC)),
        sandbox_ready_seconds=0.05,
        ready_timeout_seconds=2,
        reconcile_interval_seconds=3600,
    ) as app:
        yield await _populate(app)


def _schemas(app: InProcessServer) -> tuple[strawberry.Schema, strawberry.Schema]:
    settings = app.settings
    limits: dict[str, Any] = {
        "max_depth": settings.graphql_max_depth,
        "max_aliases": settings.graphql_max_aliases,
        "max_tokens": settings.graphql_max_tokens,
        "max_fields": settings.graphql_max_fields,
        "introspection": settings.graphql_introspection,
        "cost": CostBudget(
            max_cost=settings.graphql_max_cost, max_rows=settings.graphql_max_list_rows
        ),
    }
    return make_schema(**limits), make_schema(**limits, fast_execution=False)


CALLERS = {
    "admin": Principal.admin(),
    "acme": Principal.api_key(key_id="k-acme", tenant_org_id="acme", user=None),
    "acme/alice": Principal.api_key(key_id="k-alice", tenant_org_id="acme", user="alice"),
    "globex": Principal.api_key(key_id="k-globex", tenant_org_id="globex", user=None),
}


class QueryWriter:
    """A random but reproducible query over the schema's query type: every field can
    be picked, arguments come from the populated data (or a name nothing has), given
    as literals or variables; selections get aliases, ``__typename``, directives on
    variables, and inline and named fragments."""

    MAX_DEPTH = 5

    def __init__(self, schema: GraphQLSchema, rng: random.Random, population: Population):
        self.schema = schema
        self.rng = rng
        self.names = itertools.count()
        self.variable_definitions: list[str] = []
        self.variables: dict[str, Any] = {}
        self.fragments: list[str] = []
        orgs = [*USERS, UNKNOWN]
        self.pools: dict[str, list[Any]] = {
            "id": orgs,
            "tenantOrgId": orgs,
            "user": [user for users in USERS.values() for user in users] + [UNKNOWN],
            "serviceName": [*SERVICES, UNKNOWN],
            "namespace": [*population.namespaces, UNKNOWN],
            "first": [1, 2, 5, 0],
            "last": [1, 3, 0],
            "limit": [1, 5],
            "after": ["not-a-cursor"],
            "name": ["TenantContainer", "Organization", "ClusterStatus", "Nope"],
            "period": ["2026-11", "1969-01", "not-a-month"],
        }

    def document(self) -> tuple[str, dict[str, Any]]:
        query = self.schema.query_type
        assert query is not None
        body = self.selection_set(query, depth=0, root=True)
        definitions = (
            f"({', '.join(self.variable_definitions)})" if self.variable_definitions else ""
        )
        return "\n".join([f"query Generated{definitions} {body}", *self.fragments]), self.variables

    def name(self, prefix: str) -> str:
        return f"{prefix}{next(self.names)}"

    def selection_set(self, parent: GraphQLObjectType, *, depth: int, root: bool = False) -> str:
        rng = self.rng
        candidates = list(parent.fields.items())
        if root and rng.random() < 0.1:
            candidates.append(("__type", self.schema.get_field(parent, "__type")))
        if root and rng.random() < 0.05:
            candidates.append(("__schema", self.schema.get_field(parent, "__schema")))
        rng.shuffle(candidates)
        picked = candidates[: rng.randint(1, 2 if root else 5)]
        # Most levels go deeper (objects and lists of them are what the fast path
        # plans); few root fields: an error in a non-null one nulls the whole answer.
        composite = [c for c in candidates if not is_leaf_type(get_named_type(c[1].type))]
        if composite and rng.random() < 0.7 and not any(c in picked for c in composite):
            picked.append(rng.choice(composite))
        selections = []
        for field_name, definition in picked:
            selection = self.field(field_name, definition, depth)
            if selection is not None:
                selections.append(selection)
        if not selections or rng.random() < 0.2:
            selections.append(self.maybe_alias("__typename"))
        if len(selections) > 1 and rng.random() < 0.3:
            selections = self.group(parent, selections)
        return "{ " + " ".join(selections) + " }"

    def group(self, parent: GraphQLObjectType, selections: list[str]) -> list[str]:
        """Some of the selections moved into an inline or a named fragment."""
        rng = self.rng
        cut = rng.randint(1, len(selections) - 1)
        kept, moved = selections[:cut], " ".join(selections[cut:])
        kind = rng.choice(["inline", "inline-bare", "named"])
        if kind == "named":
            fragment = self.name("F")
            self.fragments.append(f"fragment {fragment} on {parent.name} {{ {moved} }}")
            spread = f"...{fragment}{self.directive()}"
        elif kind == "inline":
            spread = f"... on {parent.name}{self.directive()} {{ {moved} }}"
        else:
            spread = f"...{self.directive(always=True)} {{ {moved} }}"
        # The same fields again beside the fragment: they must merge.
        return [*kept, spread, *(kept[:1] if rng.random() < 0.3 else [])]

    def directive(self, *, always: bool = False) -> str:
        rng = self.rng
        if not always and rng.random() < 0.8:
            return ""
        which = rng.choice(["skip", "include"])
        if rng.random() < 0.2:
            return f" @{which}(if: {rng.choice(['true', 'false'])})"
        variable = self.name("b")
        self.variable_definitions.append(f"${variable}: Boolean!")
        self.variables[variable] = rng.random() < 0.5
        return f" @{which}(if: ${variable})"

    def maybe_alias(self, text: str) -> str:
        return f"{self.name('a')}: {text}" if self.rng.random() < 0.25 else text

    def field(self, field_name: str, definition: Any, depth: int) -> str | None:
        """The field's text, or None when it cannot be asked for (then the variables
        defined for it are taken back: an unused variable is a validation error)."""
        defined = len(self.variable_definitions)
        text = self._field(field_name, definition, depth)
        if text is None:
            for taken_back in self.variable_definitions[defined:]:
                self.variables.pop(taken_back.split(":")[0].lstrip("$"), None)
            del self.variable_definitions[defined:]
        return text

    def _field(self, field_name: str, definition: Any, depth: int) -> str | None:
        arguments = []
        for argument_name, argument in definition.args.items():
            value = self.argument(argument_name, argument.type)
            if value is None:
                if is_non_null_type(argument.type) and argument.default_value is None:
                    return None
                continue
            arguments.append(f"{argument_name}: {value}")
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            selection = ""
        elif depth >= self.MAX_DEPTH:
            return None
        elif is_abstract_type(named):
            parts = [
                f"... on {possible.name} {self.selection_set(possible, depth=depth + 1)}"
                for possible in self.schema.get_possible_types(named)  # type: ignore[arg-type]
            ]
            selection = "{ __typename " + " ".join(parts) + " }"
        else:
            selection = self.selection_set(named, depth=depth + 1)  # type: ignore[arg-type]
        text = field_name + (f"({', '.join(arguments)})" if arguments else "")
        text = self.maybe_alias(text)
        return f"{text}{self.directive()} {selection}".rstrip()

    def argument(self, name: str, argument_type: GraphQLType) -> str | None:
        """An argument's value as GraphQL text (a literal or a variable), None to leave
        it out."""
        rng = self.rng
        nullable = not is_non_null_type(argument_type)
        if nullable and rng.random() < (0.9 if name == "after" else 0.4):
            return None
        base = get_nullable_type(argument_type)  # type: ignore[arg-type]
        if isinstance(get_named_type(base), GraphQLInputObjectType):
            return None
        if name in self.pools:
            value: Any = rng.choice(self.pools[name])
        elif is_enum_type(base):
            value = rng.choice(list(base.values))  # type: ignore[union-attr]
        elif str(base) == "Boolean":
            value = rng.random() < 0.5
        elif str(base) == "Int":
            value = rng.choice([1, 3])
        elif str(base) == "DateTime":
            # Given as its text: a variable's JSON value, or a string literal.
            text = rng.choice(["2026-11-01T00:00:00Z", "2026-12-01T00:00:00+01:00"])
            if rng.random() < 0.5:
                return json.dumps(text)
            variable = self.name("v")
            self.variable_definitions.append(f"${variable}: {argument_type}")
            self.variables[variable] = text
            return f"${variable}"
        else:
            value = UNKNOWN
        if rng.random() < 0.5:
            variable = self.name("v")
            self.variable_definitions.append(f"${variable}: {argument_type}")
            if nullable and rng.random() < 0.15:
                return f"${variable}"  # declared, never given: the argument is absent
            self.variables[variable] = value
            return f"${variable}"
        if is_enum_type(base):
            return str(value)  # an enum literal is its name (its internal value may differ)
        literal = ast_from_value(value, argument_type)  # type: ignore[arg-type]
        assert literal is not None
        return print_ast(literal)


HANDWRITTEN = [
    # The frontend's tree (the README's), and the benchmark's.
    """query($id: String!) { organization(id: $id) {
        containers { serviceName status deployment { replicas details { diskSize } } }
        users { name containers { serviceName namespace events { from to reason at } } } } }""",
    # connection: refused to the admin (null propagates up through the non-null
    # container, list and organization), given to the organisation's key.
    """query($id: String!) { organization(id: $id) { id containers(includeDeleted: true) {
        id connection { endpoint username } } } }""",
    # A refusal under a nullable field: a partial answer.
    """query($id: String!) { a: tenantContainer(user: "alice", serviceName: "search", tenantOrgId: $id) {
        namespace connection { username } } b: tenantContainers(tenantOrgId: $id) { id } }""",
    """query($id: String!, $skip: Boolean!) { tenantContainers { namespace status error
        ... on TenantContainer @skip(if: $skip) { syncTime createdAt deployment {
        usageHistory(last: 3) { at cpuUsage qps } } } __typename } }""",
    """fragment C on TenantContainer { id user ...D }
       fragment D on TenantContainer { deployment { id status details { diskSize indexLimit } } }
       query($id: String!) { organization(id: $id) { a: containers { ...C } b: containers(first: 2) {
       ...C cursor } users { quota { level } containers { ...C } } quota { level isDefault } } }""",
    # Each user's containers loaded ahead (no arguments) beside pages of them (with),
    # the deployments shown only under the users, or only in a skipped fragment.
    """query($id: String!, $skip: Boolean!) { organization(id: $id) {
        containers { id } users(includeDeleted: true) { name
        all: containers { id status deployment { replicas details { diskSize } } }
        page: containers(first: 1) { id deployment { status } }
        after: containers(first: 2, after: null) { serviceName } } } }""",
    """fragment U on OrganizationUser { containers { serviceName ... on TenantContainer
        @skip(if: $skip) { deployment { id } } } }
       query($id: String!, $skip: Boolean!) { organization(id: $id) {
        users { ...U name containers { namespace } } } }""",
]


# connection's tree under the field's new name, credentials.
CREDENTIALS_TREE = HANDWRITTEN[1].replace("connection {", "credentials {")


def _response(result: Any) -> str:
    # Errors in a stable order: those of async resolvers running concurrently (the
    # credentials read Kubernetes) are listed as they finish, under either executor.
    processed = process_result(result)
    if processed.get("errors"):
        processed["errors"] = sorted(processed["errors"], key=lambda e: json.dumps(e.get("path")))
    return json.dumps(processed, sort_keys=False, default=str)


async def _both(
    population: Population, query: str, variables: dict[str, Any], caller: str
) -> tuple[str, str]:
    """The answers of the server's way (the fast executor, the org listings reading
    only the columns the document needs) and of the reference (the standard executor,
    every column read)."""
    fast, standard = _schemas(population.app)
    answers = []
    for schema in (fast, standard):
        context = Context(runtime=population.app.runtime, principal=CALLERS[caller])
        with pytest.MonkeyPatch.context() as patch:
            if schema is standard:
                patch.setattr(types, "reading_of", lambda info: ALL_COLUMNS)
                # Each user's containers by its own resolver call, not loaded ahead.
                patch.setattr(types, "_load_users_containers", _loads_nothing)
            result = await schema.execute(query, variable_values=variables, context_value=context)
        answers.append(_response(result))
    return answers[0], answers[1]


async def _loads_nothing(*_args: Any, **_kwargs: Any) -> None:
    return None


@pytest.mark.parametrize("query", HANDWRITTEN)
@pytest.mark.parametrize("caller", list(CALLERS))
async def test_handwritten_queries_answer_the_same(
    population: Population, query: str, caller: str
) -> None:
    for org in [*USERS, UNKNOWN]:
        fast, standard = await _both(population, query, {"id": org, "skip": False}, caller)
        assert fast == standard


async def test_users_containers_are_loaded_ahead_without_a_resolver_call_each(
    population: Population, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The org tree's users' containers (no arguments) are read from what the users
    list loaded ahead: the containers resolvers run once (the organisation's), not
    once more per user; a page of a user's containers still runs its resolver."""
    calls: list[tuple[int | None, str | None]] = []
    page_of = types.page_of

    def counted(info: Any, *, first: int | None, after: str | None) -> Any:
        calls.append((first, after))
        return page_of(info, first=first, after=after)

    monkeypatch.setattr(types, "page_of", counted)
    fast, _ = _schemas(population.app)
    tree = """query($id: String!) { organization(id: $id) { containers { id }
        users { name containers { serviceName deployment { replicas } } } } }"""
    context = Context(runtime=population.app.runtime, principal=CALLERS["admin"])
    result = await fast.execute(tree, variable_values={"id": "acme"}, context_value=context)
    assert result.errors is None
    assert result.data is not None and len(result.data["organization"]["users"]) == 3
    assert all(u["containers"] for u in result.data["organization"]["users"])
    assert calls == [(None, None)]
    calls.clear()
    paged = tree.replace("containers { serviceName", "containers(first: 1) { serviceName")
    context = Context(runtime=population.app.runtime, principal=CALLERS["admin"])
    result = await fast.execute(paged, variable_values={"id": "acme"}, context_value=context)
    assert result.errors is None
    assert calls == [(None, None), (1, None), (1, None), (1, None)]


async def test_connection_refusal_nulls_the_tree_alike(population: Population) -> None:
    fast, standard = await _both(population, HANDWRITTEN[1], {"id": "acme"}, "admin")
    assert fast == standard
    body = json.loads(fast)
    assert body["data"] is None  # propagated to the root through non-null fields
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    fast, standard = await _both(population, HANDWRITTEN[1], {"id": "acme"}, "acme")
    assert fast == standard
    assert "errors" not in json.loads(fast)


async def test_generated_queries_answer_the_same(population: Population) -> None:
    rng = random.Random(20260103)  # reproducible
    fast_schema, _ = _schemas(population.app)
    graphql_schema = fast_schema._schema
    outcomes = {"data": 0, "errors": 0, "partial": 0}
    for number in range(300):
        query, variables = QueryWriter(graphql_schema, rng, population).document()
        caller = rng.choice(list(CALLERS))
        fast, standard = await _both(population, query, variables, caller)
        assert fast == standard, f"query {number} as {caller}:\n{query}\n{variables}"
        body = json.loads(fast)
        if "errors" not in body:
            outcomes["data"] += 1
        outcomes["errors" if body["data"] is None else "partial"] += "errors" in body
    # The generator reaches answers and refusals; whether a seed also draws a partial
    # answer depends on the schema's fields, so that case is pinned by hand below.
    assert outcomes["data"] > 100 and outcomes["errors"] + outcomes["partial"] > 10, outcomes


@pytest.mark.parametrize("caller", list(CALLERS))
async def test_credentials_answer_as_connection_did(population: Population, caller: str) -> None:
    """The renamed field answers, and refuses, exactly as the deprecated one, on both
    executors: the responses differ only in the field's name."""
    for org in [*USERS, UNKNOWN]:
        new, standard = await _both(population, CREDENTIALS_TREE, {"id": org}, caller)
        assert new == standard
        old, _ = await _both(population, HANDWRITTEN[1], {"id": org}, caller)
        assert new.replace('"credentials"', '"connection"') == old
    refused, _ = await _both(population, CREDENTIALS_TREE, {"id": "acme"}, "admin")
    assert {e["extensions"]["code"] for e in json.loads(refused)["errors"]} == {"FORBIDDEN"}


async def test_a_partial_answer_is_alike(population: Population) -> None:
    # A refusal under a nullable field: errors beside data.
    fast, standard = await _both(population, HANDWRITTEN[2], {"id": "acme"}, "admin")
    assert fast == standard
    body = json.loads(fast)
    assert body["data"]["a"] is None and body["data"]["b"]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}


async def test_queries_take_the_fast_path(population: Population) -> None:
    """Attribute fields are not executed field by field: only the fields with
    resolvers of their own reach graphql-core's ``execute_field``."""
    executed: list[str] = []

    class Counting(FastExecutor):
        def execute_field(self, parent_type: Any, source: Any, details: Any, *rest: Any) -> Any:
            executed.append(f"{parent_type.name}.{details[0].node.name.value}")
            return super().execute_field(parent_type, source, details, *rest)

    schema = make_schema(**DEFAULT_LIMITS)
    assert schema.execution_context_class is FastExecutor  # the server's default
    schema.execution_context_class = Counting
    context = Context(runtime=population.app.runtime, principal=Principal.admin())
    query = '{ organization(id: "acme") { id containers { id status replicas } } }'
    result = await schema.execute(query, context_value=context)
    assert result.errors is None
    assert len(result.data["organization"]["containers"]) > 3  # type: ignore[index]
    assert executed == ["Query.organization", "Organization.containers"]


async def test_the_standard_schema_uses_graphql_cores_executor() -> None:
    schema = make_schema(**DEFAULT_LIMITS, fast_execution=False)
    assert issubclass(schema.execution_context_class, Executor)
    assert not issubclass(schema.execution_context_class, FastExecutor)


def _leaves(object_type: GraphQLObjectType) -> str:
    """A selection of every field of ``object_type`` that needs no argument: its leaves,
    and of each object below, that object's leaves."""
    selected = []
    for name, definition in object_type.fields.items():
        arguments = definition.args.values()
        if any(is_non_null_type(a.type) and a.default_value is None for a in arguments):
            continue
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            selected.append(name)
        elif isinstance(named, GraphQLObjectType):
            below = [n for n, d in named.fields.items() if is_leaf_type(get_named_type(d.type))]
            selected.append(f"{name} {{ {' '.join(below) or '__typename'} }}")
    return " ".join(selected)


def _field_alone(object_type: GraphQLObjectType, name: str) -> str:
    named = get_named_type(object_type.fields[name].type)
    if is_leaf_type(named):
        return name
    assert isinstance(named, GraphQLObjectType)
    return f"{name} {{ {_leaves(named)} }}"


ORG_TREE_OF = """query($id: String!) {{ organization(id: $id) {{
    containers(includeDeleted: true) {{ {containers} }}
    users(includeDeleted: true) {{ name containers {{ {users} }} }} }} }}"""


# The credentials read Kubernetes: when they are refused and another field fails too,
# which error nulls the whole tree first depends on the sandbox's answering time, on
# either executor. Each of them alone is compared above, with every caller.
RACING = re.compile(r"\b(credentials|connection)\b")


@pytest.fixture
def every_reading_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past so many distinct sets of columns a document reads every column
    (app.api.graphql.reading): here each generated document reads its own."""
    monkeypatch.setattr(reading, "_distinct", {ALL_COLUMNS})
    monkeypatch.setattr(reading, "MAX_DISTINCT_READINGS", 100_000)


@pytest.mark.usefixtures("every_reading_kept")
@pytest.mark.parametrize("caller", ["admin", "acme"])
async def test_each_listed_field_alone_answers_as_with_every_column(
    population: Population, caller: str
) -> None:
    """Every field of a listed container and of its deployment, alone in an org tree
    (so that only its own columns are read), answers as with every column read."""
    fast_schema, _ = _schemas(population.app)
    graphql_schema = fast_schema._schema
    container = graphql_schema.get_type("TenantContainer")
    deployment = graphql_schema.get_type("DeploymentStatus")
    assert isinstance(container, GraphQLObjectType) and isinstance(deployment, GraphQLObjectType)
    selections = [_field_alone(container, name) for name in container.fields]
    selections += [f"deployment {{ {_field_alone(deployment, n)} }}" for n in deployment.fields]
    for selection in selections:
        for users in ("id", selection):
            query = ORG_TREE_OF.format(containers=selection, users=users)
            for org in USERS:
                fast, reference = await _both(population, query, {"id": org}, caller)
                assert fast == reference, f"{query} as {caller}"


@pytest.mark.usefixtures("every_reading_kept")
async def test_generated_org_trees_answer_as_with_every_column(population: Population) -> None:
    """Organisation trees of generated selections (containers, users and their
    containers, fragments, aliases, directives) on the fast executor, reading only the
    columns each needs, answer as the standard executor reading every column."""
    rng = random.Random(20261201)
    fast_schema, _ = _schemas(population.app)
    graphql_schema = fast_schema._schema
    organization = graphql_schema.get_type("Organization")
    assert isinstance(organization, GraphQLObjectType)
    pruned = 0
    for number in range(150):
        writer = QueryWriter(graphql_schema, rng, population)
        writer.variable_definitions.append("$id: String!")
        body = writer.selection_set(organization, depth=1)
        if RACING.search(body) or any(RACING.search(f) for f in writer.fragments):
            continue
        query = "\n".join(
            [
                f"query Tree({', '.join(writer.variable_definitions)}) "
                f"{{ organization(id: $id) {body} }}",
                *writer.fragments,
            ]
        )
        caller = rng.choice(list(CALLERS))
        variables = {**writer.variables, "id": rng.choice(list(USERS))}
        fast, reference = await _both(population, query, variables, caller)
        assert fast == reference, f"tree {number} as {caller}:\n{query}\n{variables}"
        read = reading._read_by(graphql_schema, parse(query))
        pruned += bool(read.containers)  # containers shown, of some columns
    assert pruned > 30, pruned
