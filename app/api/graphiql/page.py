"""The GraphiQL page, its Content-Security-Policy, and the files it loads from here.

Nothing on the page runs inline: its script (static/page.js) and its styles
(static/page.css) are files of this package, so the policy allows scripts and styles
from this server and, when the assets come from the CDN, from the CDN too, and nothing
else. When the scripts cannot load (no local copies, CDN unreachable), page.js says
so in the page instead of leaving "Loading..." there for ever.
"""

from __future__ import annotations

import hashlib
from functools import cache
from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from app.api.graphiql.assets import ASSETS, BY_PATH, CDN, AssetSource

PREFIX = "/graphiql"  # where this server serves the page's files
_STATIC = Path(__file__).parent / "static"
_OWN_FILES = {"page.js": _STATIC / "page.js", "page.css": _STATIC / "page.css"}
_CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# A pinned asset's path names its version: the same path is always the same bytes.
_FOR_EVER = "public, max-age=31536000, immutable"
# Ours change with the server: the browser asks again each time (and gets a 304).
_REVALIDATE = "no-cache"


def content_security_policy(source: AssetSource) -> str:
    cdn = "" if source.local else f" {CDN}"
    return (
        f"default-src 'none'; script-src 'self'{cdn}; style-src 'self'{cdn}; "
        "img-src 'self' data:; font-src data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def page_html(source: AssetSource) -> str:
    styles, scripts = [], []
    for asset in ASSETS:
        url, integrity = escape(source.url(asset, PREFIX)), escape(asset.integrity)
        if asset.is_script:
            scripts.append(f'<script src="{url}" integrity="{integrity}" crossorigin></script>')
        else:
            styles.append(
                f'<link rel="stylesheet" href="{url}" integrity="{integrity}" crossorigin>'
            )
    where = "this server" if source.local else escape(CDN)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ES Serverless GraphiQL</title>
{chr(10).join(styles)}
<link rel="stylesheet" href="{PREFIX}/page.css">
</head>
<body>
<div id="graphiql" class="graphiql-container" data-assets-from="{where}">Loading GraphiQL…</div>
<noscript>GraphiQL needs JavaScript. The API itself answers POST requests to this URL.</noscript>
{chr(10).join(scripts)}
<script src="{PREFIX}/page.js"></script>
</body>
</html>
"""


def page_response(source: AssetSource) -> HTMLResponse:
    return HTMLResponse(
        page_html(source), headers={"content-security-policy": content_security_policy(source)}
    )


@cache  # a handful of files, read once: pinned, or part of this package
def _read(file: Path) -> tuple[bytes, str]:
    content = file.read_bytes()
    return content, f'"{hashlib.sha256(content).hexdigest()[:32]}"'


def asset_routes(source: AssetSource) -> list[Route]:
    async def serve(request: Request) -> Response:
        path = request.path_params["path"]
        own = _OWN_FILES.get(path)
        asset = BY_PATH.get(path)
        installed = source.file(asset) if asset else None
        file, caching = (own, _REVALIDATE) if own else (installed, _FOR_EVER)
        if file is None:
            return JSONResponse({"error": f"no such GraphiQL file: {path}"}, status_code=404)
        content, etag = _read(file)
        headers = {"etag": etag, "cache-control": caching}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(content, media_type=_CONTENT_TYPES[file.suffix], headers=headers)

    return [Route(PREFIX + "/{path:path}", serve, methods=["GET", "HEAD"])]
