"""The ``es-serverless`` command."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
import threading
from pathlib import Path

from pydantic import ValidationError

from app.logs import configure_logging
from app.settings import AuthMode, Settings

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    if settings.auth is AuthMode.DISABLED and args.host not in LOOPBACK_HOSTS:
        raise SystemExit(
            f"ESS_AUTH=disabled lets anyone in as the admin; refusing to serve on {args.host}. "
            "Bind to 127.0.0.1 (the default) or enable auth."
        )
    if settings.auth is AuthMode.DISABLED:
        logging.getLogger(__name__).warning("authentication is DISABLED (loopback only)")

    from app.server import create_app
    from app.serving import header_deadline_protocol

    if settings.public_url is None:
        # The address this server listens on; a wildcard one is reached by loopback.
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
        host = f"[{host}]" if ":" in host else host
        settings = settings.model_copy(update={"public_url": f"http://{host}:{args.port}"})
    app = create_app(settings)
    # Everything loaded so far (modules, the GraphQL schema) lives as long as the
    # process: moved out of the collector's sight, a full collection no longer walks
    # it. Large answers create enough objects to set off full collections, which then
    # took as long as the answer itself (the org tree of 1,000 clusters: 238 -> 142 ms).
    gc.collect()
    gc.freeze()
    # What the server creates later and keeps (records, the sandbox's objects, caches)
    # grows with the clusters, and the default thresholds set off a full collection
    # every few seconds under load, each walking all of it while no request is answered
    # and finding next to nothing to free: with 1,000 clusters being created, pauses of
    # 70-200 ms. Young collections less often (every 50,000 new objects, not 700) and a
    # full one only after 100 of the middle generation's: the longest pause fell to
    # under 30 ms, memory stayed the same (peak 330 MB), since almost nothing the server
    # makes lives in reference cycles.
    gc.set_threshold(50_000, 20, 100)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=settings.log_level.lower(),
        # Logging is configured already (app/logs.py): uvicorn's lines, its access log
        # included, go through the same handler and format as everything else.
        log_config=None,
        http=header_deadline_protocol(settings.http_header_timeout_seconds),
        timeout_keep_alive=settings.http_keep_alive_seconds,
        # Our lifespan owns shutdown; give in-flight provisioning time to park.
        timeout_graceful_shutdown=15,
    )


def _migrate(settings: Settings, _: argparse.Namespace) -> None:
    from app.store.db import migrate

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.database_url_resolved, legacy_es_version=settings.legacy_es_version)
    print(f"database at the newest revision: {settings.database_url_resolved}")


def _sandbox(settings: Settings, args: argparse.Namespace) -> None:
    from kube_sandbox import serve_forever

    path = Path(args.kubeconfig) if args.kubeconfig else settings.sandbox_kubeconfig_path
    ready_seconds = (
        settings.sandbox_ready_seconds if args.ready_seconds is None else args.ready_seconds
    )
    print(f"sandbox cluster; kubectl --kubeconfig {path} get namespaces", flush=True)

    async def run() -> None:
        await serve_forever(
            host=args.host,
            port=args.port,
            ready_seconds=ready_seconds,
            kubeconfig_path=path,
            until=_stdin_closed() if args.until_stdin_closes else None,
        )

    asyncio.run(run())


async def _stdin_closed() -> None:
    """Done when standard input reaches its end: for a sandbox started by a server,
    which holds the other end of the pipe, that is when the server ends, however it
    ends (a SIGKILL included), so the sandbox never outlives it."""
    loop = asyncio.get_running_loop()
    closed = asyncio.Event()

    def read_to_end() -> None:
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(closed.set)

    threading.Thread(target=read_to_end, name="stdin", daemon=True).start()
    await closed.wait()


def _schema(_: Settings, args: argparse.Namespace) -> None:
    from app.api.graphql.schema import sdl, write_sdl

    if args.write:
        write_sdl(Path(args.write))
    else:
        sys.stdout.write(sdl())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="es-serverless",
        description="Multi-tenant Elasticsearch control plane (GraphQL + REST).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve REST and GraphQL (applies migrations)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="bring the database to the newest schema")
    migrate.set_defaults(run=_migrate)

    sandbox = commands.add_parser("sandbox", help="run the sandbox Kubernetes API server alone")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=0, help="0 picks a free port")
    sandbox.add_argument("--kubeconfig", help="where to write its kubeconfig")
    sandbox.add_argument(
        "--ready-seconds",
        type=float,
        help="how long a pod takes to become ready (default: ESS_SANDBOX_READY_SECONDS)",
    )
    sandbox.add_argument(
        "--until-stdin-closes",
        action="store_true",
        help="stop when standard input closes (how a server stops the sandbox it started)",
    )
    sandbox.set_defaults(run=_sandbox)

    schema = commands.add_parser("schema", help="print the GraphQL SDL")
    schema.add_argument("--write", metavar="PATH", help="write it to PATH instead")
    schema.set_defaults(run=_schema)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"ESS_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        raise SystemExit(f"invalid settings: {problems}") from None
    configure_logging(level=settings.log_level, log_format=settings.log_format)
    args.run(settings, args)


if __name__ == "__main__":
    main()
