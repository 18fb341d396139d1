"""The HTTP face of the sandbox: aiohttp routes speaking the Kubernetes REST protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import yaml
from aiohttp import web
from multidict import CIMultiDict

from . import discovery, errors, openapi
from .errors import ApiError
from .faults import FaultInjector
from .fieldvalidation import FieldValidation
from .negotiation import Representation, negotiate
from .patching import APPLY_PATCH, PATCH_TYPES
from .protobuf import decode_object
from .registry import Registry, with_type
from .resources import NAMESPACES
from .routing import DiscoveryTarget, ResourceTarget, parse_path
from .selectors import SelectorError, parse_field_selector, parse_label_selector
from .stats import RequestStats
from .tables import INCLUDE_OBJECT_VALUES, to_table
from .watch import WatchRequest, parse_resource_version, watch_events

logger = logging.getLogger(__name__)

Obj = dict[str, Any]

PROTOBUF = "application/vnd.kubernetes.protobuf"
_TRUE = ("1", "t", "T", "true", "TRUE", "True")  # Go's strconv.ParseBool


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def _json(data: Any, status: int = 200, headers: Any = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=_dumps)


def _written(data: Any, validation: FieldValidation, status: int = 200) -> web.Response:
    """A write's answer, with a Warning header per unknown field that was dropped."""
    return _json(data, status=status, headers=CIMultiDict(validation.headers()))


def status_response(error: ApiError) -> web.Response:
    return _json(error.status(), status=error.code, headers=error.headers)


def _verb(method: str, target: ResourceTarget, watching: bool) -> str:
    if target.is_collection:
        return {
            "GET": "watch" if watching else "list",
            "POST": "create",
            "DELETE": "deletecollection",
        }.get(method, "")
    return {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method, "")


class ApiServer:
    """Routes /api, /apis, /version and health checks to the registry."""

    def __init__(self, registry: Registry, faults: FaultInjector, stats: RequestStats) -> None:
        self._registry = registry
        self._table = registry.resources
        self._faults = faults
        self._stats = stats

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/version", self._version),
            web.get("/healthz", self._ok),
            web.get("/livez", self._ok),
            web.get("/readyz", self._ok),
            web.get("/openapi/v3", self._openapi_root),
            web.get("/openapi/v3/{path:.*}", self._openapi_group_version),
            web.route("*", "/api", self._api),
            web.route("*", "/api/{tail:.*}", self._api),
            web.route("*", "/apis", self._api),
            web.route("*", "/apis/{tail:.*}", self._api),
        ]

    def fallback_routes(self) -> list[web.RouteDef]:
        """Last-resort routes: anything unknown is a Kubernetes 404 Status, not HTML."""
        return [web.route("*", "/{tail:.*}", self._not_found)]

    async def _version(self, request: web.Request) -> web.Response:
        return _json(discovery.version_info())

    async def _ok(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _openapi_root(self, request: web.Request) -> web.Response:
        return _json(openapi.root_document(self._table))

    async def _openapi_group_version(self, request: web.Request) -> web.Response:
        parts = request.match_info["path"].strip("/").split("/")
        document = None
        if parts[0] == "api" and len(parts) == 2:
            document = openapi.group_version_document(self._table, "", parts[1])
        elif parts[0] == "apis" and len(parts) == 3:
            document = openapi.group_version_document(self._table, parts[1], parts[2])
        if document is None:
            return status_response(errors.unknown_path())
        return _json(document)

    async def _not_found(self, request: web.Request) -> web.Response:
        return status_response(errors.unknown_path())

    async def _api(self, request: web.Request) -> web.StreamResponse:
        try:
            target = parse_path(request.path, self._table)
            if isinstance(target, DiscoveryTarget):
                return self._discovery(request, target)
            return await self._resource_request(request, target)
        except ApiError as exc:
            return status_response(exc)
        except Exception:
            logger.exception("sandbox: %s %s failed", request.method, request.path_qs)
            return status_response(errors.internal("sandbox: internal error, see server log"))

    # --- discovery --------------------------------------------------------------------

    def _discovery(self, request: web.Request, target: DiscoveryTarget) -> web.Response:
        if request.method != "GET":
            raise errors.method_not_allowed(
                "the server does not allow this method on the requested resource"
            )
        if target.document == "api":
            return _json(discovery.api_versions(request.host))
        if target.document == "apis":
            return _json(discovery.api_group_list(self._table))
        if target.document == "group":
            return _json(discovery.api_group(self._table, target.group))
        document = discovery.api_resource_list(self._table, target.group, target.version)
        if document is None:
            raise errors.unknown_path()
        return _json(document)

    # --- resources --------------------------------------------------------------------

    async def _resource_request(
        self, request: web.Request, target: ResourceTarget
    ) -> web.StreamResponse:
        query = request.query
        watching = request.method == "GET" and query.get("watch", "") in _TRUE
        verb = _verb(request.method, target, watching)
        if (
            not verb
            or verb not in target.resource.verbs
            or (target.subresource and verb not in ("get", "update", "patch"))
        ):
            raise errors.method_not_allowed(
                "the server does not allow this method on the requested resource"
            )
        resource = target.resource.plural
        self._stats.note_access(
            target.resource.group,
            f"{resource}/{target.subresource}" if target.subresource else resource,
            verb,
        )
        with self._stats.track(request.method, target.stats_key, long_running=watching) as outcome:
            fault = self._faults.take(
                request.method,
                target.stats_key,
                await self._fault_namespace(request, target),
                target.name or "",
            )
            if fault is not None:
                raise fault
            dry_run = "All" in query.getall("dryRun", [])
            if target.is_collection:
                response = await self._collection(request, target, verb, dry_run)
            else:
                response = await self._item(request, target, verb, dry_run)
            outcome.status = response.status
            return response

    async def _fault_namespace(self, request: web.Request, target: ResourceTarget) -> str:
        """The namespace a fault filter compares with; a Namespace counts as its own."""
        if target.resource != NAMESPACES:
            return target.namespace or ""
        if target.name:
            return target.name
        if request.method == "POST" and request.can_read_body:
            with contextlib.suppress(ApiError):
                body = await self._body(request)
                if isinstance(body, dict):
                    return str((body.get("metadata") or {}).get("name", ""))
        return ""

    def _selectors(self, request: web.Request, target: ResourceTarget) -> dict[str, Any]:
        try:
            return {
                "labels": parse_label_selector(request.query.get("labelSelector")),
                "fields": parse_field_selector(
                    request.query.get("fieldSelector"), target.resource.field_labels
                ),
            }
        except SelectorError as exc:
            raise errors.bad_request(str(exc)) from exc

    async def _collection(
        self, request: web.Request, target: ResourceTarget, verb: str, dry_run: bool
    ) -> web.StreamResponse:
        resource, query = target.resource, request.query
        if verb == "watch":
            return await self._watch(request, target)
        if verb == "list":
            representation = negotiate(request.headers.get("Accept"))
            limit = query.get("limit")
            listing = self._registry.list(
                resource,
                target.namespace,
                **self._selectors(request, target),
                limit=int(limit) if limit and limit.isdigit() else None,
                continue_token=query.get("continue") or None,
            )
            return _json(self._represent_list(request, target, listing, representation))
        if verb == "create":
            if target.namespace is None:
                raise errors.method_not_allowed(
                    f"POST on {resource.plural} requires a namespace in the URL"
                )
            validation = self._validation(request, verb)
            created = self._registry.create(
                resource,
                target.namespace,
                await self._body(request),
                dry_run=dry_run,
                validation=validation,
            )
            return _written(created, validation, status=201)
        # deletecollection
        return _json(
            self._registry.delete_collection(
                resource,
                target.namespace,
                **self._selectors(request, target),
                options=await self._delete_options(request),
                dry_run=dry_run,
            )
        )

    async def _item(
        self, request: web.Request, target: ResourceTarget, verb: str, dry_run: bool
    ) -> web.Response:
        resource, namespace, name = target.resource, target.namespace or "", str(target.name)
        if target.subresource == "scale":
            if verb == "get":
                return _json(self._registry.get_scale(resource, namespace, name))
            if verb == "update":
                return _json(
                    self._registry.replace_scale(
                        resource, namespace, name, await self._body(request), dry_run=dry_run
                    )
                )
            return _json(
                self._registry.patch_scale(
                    resource,
                    namespace,
                    name,
                    self._patch_type(request),
                    await self._body(request),
                    dry_run=dry_run,
                )
            )
        if verb == "get":
            obj = self._registry.get(resource, namespace, name)
            representation = negotiate(request.headers.get("Accept"))
            if representation.form == "object":
                return _json(obj)
            return _json(
                self._transform(
                    request,
                    target,
                    [obj],
                    representation,
                    {"resourceVersion": obj["metadata"]["resourceVersion"]},
                    single=True,
                )
            )
        if verb == "update":
            validation = self._validation(request, verb)
            replaced = self._registry.replace(
                resource,
                namespace,
                name,
                await self._body(request),
                subresource=target.subresource,
                dry_run=dry_run,
                validation=validation,
            )
            return _written(replaced, validation)
        if verb == "patch":
            validation = self._validation(request, verb)
            patched = self._registry.patch(
                resource,
                namespace,
                name,
                self._patch_type(request),
                await self._body(request),
                subresource=target.subresource,
                dry_run=dry_run,
                validation=validation,
            )
            return _written(patched, validation)
        return _json(
            self._registry.delete(
                resource, namespace, name, await self._delete_options(request), dry_run=dry_run
            )
        )

    # --- representations --------------------------------------------------------------

    def _represent_list(
        self,
        request: web.Request,
        target: ResourceTarget,
        listing: Obj,
        representation: Representation,
    ) -> Obj:
        if representation.form == "object":
            return listing
        items = [with_type(target.resource, item) for item in listing["items"]]
        return self._transform(request, target, items, representation, listing["metadata"])

    @staticmethod
    def _include_object(request: web.Request) -> str:
        include = request.query.get("includeObject", "PartialObjectMetadata")
        if include not in INCLUDE_OBJECT_VALUES:
            raise errors.bad_request(f"includeObject: Unsupported value: {include!r}")
        return include

    def _transform(
        self,
        request: web.Request,
        target: ResourceTarget,
        objects: list[Obj],
        representation: Representation,
        list_metadata: Obj,
        *,
        single: bool = False,
        with_headers: bool = True,
    ) -> Obj:
        if representation.is_table:
            return to_table(
                target.resource,
                objects,
                table_api_version=representation.api_version,
                include_object=self._include_object(request),
                list_metadata=list_metadata,
                with_headers=with_headers,
            )
        partial = [
            {
                "kind": "PartialObjectMetadata",
                "apiVersion": representation.api_version,
                "metadata": o.get("metadata", {}),
            }
            for o in objects
        ]
        if single:
            return partial[0]
        return {
            "kind": "PartialObjectMetadataList",
            "apiVersion": representation.api_version,
            "metadata": list_metadata,
            "items": partial,
        }

    # --- watch ------------------------------------------------------------------------

    async def _watch(self, request: web.Request, target: ResourceTarget) -> web.StreamResponse:
        query = request.query
        representation = negotiate(request.headers.get("Accept"))
        timeout: float | None = None
        if query.get("timeoutSeconds"):
            try:
                timeout = float(query["timeoutSeconds"])
            except ValueError as exc:
                raise errors.bad_request(f"invalid timeoutSeconds: {exc}") from exc
        watch_request = WatchRequest(
            resource=target.resource,
            namespace=target.namespace or None,
            **self._selectors(request, target),
            resource_version=parse_resource_version(query.get("resourceVersion")),
            send_initial_events=query.get("sendInitialEvents", "") in _TRUE,
            allow_bookmarks=query.get("allowWatchBookmarks", "") in _TRUE,
        )
        self._include_object(request)  # reject a bad value before the stream starts
        events = watch_events(self._registry.store, watch_request)
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)

        async def send(kind: str, obj: Obj) -> None:
            await response.write((_dumps({"type": kind, "object": obj}) + "\n").encode())

        first = True
        try:
            async with asyncio.timeout(timeout):
                async for kind, obj in events:
                    if representation.form != "object" and kind not in ("ERROR", "BOOKMARK"):
                        obj = self._transform(
                            request, target, [obj], representation, {},
                            single=True, with_headers=first,
                        )  # fmt: skip
                        first = False
                    await send(kind, obj)
        except TimeoutError:
            pass  # timeoutSeconds elapsed: end the stream normally, as the apiserver does
        except ConnectionResetError:
            return response  # the client went away
        except Exception:
            # Headers are sent; like the apiserver, report the failure in-band and end.
            logger.exception("sandbox: watch %s failed", request.path_qs)
            with contextlib.suppress(ConnectionResetError):
                await send("ERROR", errors.internal("sandbox: watch failed").status())
        finally:
            await events.aclose()
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    # --- request bodies ---------------------------------------------------------------

    async def _body(self, request: web.Request) -> Any:
        raw = await request.read()
        if not raw:
            raise errors.bad_request("the request body is empty")
        media_type = request.content_type.lower()
        try:
            if media_type in ("application/yaml", "application/x-yaml", APPLY_PATCH):
                return yaml.safe_load(raw)
            if media_type == PROTOBUF:
                return decode_object(raw)
            # aiohttp reports a missing Content-Type as application/octet-stream.
            if media_type not in ("application/json", "application/octet-stream") and not (
                media_type.endswith("+json")
            ):
                raise ApiError(415, f"the sandbox does not accept {media_type} request bodies")
            return json.loads(raw)
        except (ValueError, yaml.YAMLError) as exc:
            raise errors.bad_request(f"couldn't decode the request body: {exc}") from exc

    @staticmethod
    def _validation(request: web.Request, verb: str) -> FieldValidation:
        return FieldValidation.from_query(request.query.getall("fieldValidation", []), verb)

    @staticmethod
    def _patch_type(request: web.Request) -> str:
        media_type = request.content_type.lower()
        if media_type not in PATCH_TYPES:
            raise ApiError(
                415,
                "the body of the request was in an unknown format - accepted media types "
                "include: " + ", ".join(PATCH_TYPES),
            )
        return media_type

    async def _delete_options(self, request: web.Request) -> Obj:
        options: Obj = {}
        if request.can_read_body:
            raw = await request.read()
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    raise errors.bad_request(f"couldn't decode DeleteOptions: {exc}") from exc
                if isinstance(body, dict):
                    options.update(body)
        for key in ("propagationPolicy", "gracePeriodSeconds", "orphanDependents"):
            if key in request.query:
                options[key] = request.query[key]
        if options.get("orphanDependents") in _TRUE:
            options["orphanDependents"] = True
        return options


def build_app(api: ApiServer, control_routes: list[web.RouteDef]) -> web.Application:
    app = web.Application()
    app.add_routes(api.routes())
    app.add_routes(control_routes)
    app.add_routes(api.fallback_routes())
    return app
