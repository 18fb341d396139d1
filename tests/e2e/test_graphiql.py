"""GraphiQL in a real headless Chromium with no network beyond 127.0.0.1: with the
assets installed (``npm ci --prefix graphiql``, as .ci/run does) the server serves
them and GraphiQL works; with neither them nor the CDN, the page says so in words."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.support.browser import Page, offline_browser
from tests.support.factories import cluster_body
from tests.support.servers import ADMIN_TOKEN, ServerProcess
from tests.support.tools import require_tool

ASSETS_DIR = Path(__file__).resolve().parents[2] / "graphiql"
MakeServer = Callable[..., ServerProcess]

EDITOR = "document.querySelector({selector})?.CodeMirror"
QUERY_EDITOR = EDITOR.format(selector=json.dumps(".graphiql-query-editor .CodeMirror"))
# Of the two editors under the query (variables, headers), the one shown.
TOOL_EDITOR = EDITOR.format(
    selector=json.dumps(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
)
RESPONSE = EDITOR.format(selector=json.dumps(".graphiql-response .CodeMirror"))


def installed_assets() -> Path:
    require_tool(
        (ASSETS_DIR / "node_modules" / "graphiql").is_dir(),
        what="GraphiQL's assets",
        install="npm ci --prefix graphiql --ignore-scripts",
    )
    return ASSETS_DIR


async def replace_text(page: Page, editor: str, text: str) -> None:
    await page.evaluate(f"{editor}.focus(); {editor}.execCommand('selectAll')")
    await page.type_text(text)
    assert await page.evaluate(f"{editor}.getValue()") == text


async def test_graphiql_runs_a_query_with_the_assets_of_the_server_and_no_network(
    make_server: MakeServer, tmp_path: Path
) -> None:
    server = make_server(ESS_GRAPHIQL_ASSETS=str(installed_assets()))
    async with offline_browser(tmp_path / "profile") as page:
        await page.open(server.url + "/graphql")
        await page.wait_for(f"!!{QUERY_EDITOR}", what="GraphiQL's query editor")

        await page.evaluate(
            "[...document.querySelectorAll('.graphiql-editor-tools button')]"
            ".find(b => b.textContent.trim() === 'Headers').click()"
        )
        await page.wait_for(
            "document.querySelector('.graphiql-editor-tool').getAttribute('aria-label') === 'Headers'",
            what="the headers editor",
        )
        await replace_text(page, TOOL_EDITOR, json.dumps({"Authorization": f"Bearer {ADMIN_TOKEN}"}))
        await replace_text(page, QUERY_EDITOR, '{ organization(id: "offline-org") { id } }')
        await page.evaluate("document.querySelector('.graphiql-execute-button').click()")

        shown = await page.wait_for(
            f"{RESPONSE}.getValue()", what="the result in the response pane"
        )
        assert json.loads(shown) == {"data": {"organization": {"id": "offline-org"}}}

        # A subscription: over a WebSocket to this server, the same token from the
        # headers editor in its connection_init.
        await replace_text(
            page, QUERY_EDITOR, 'subscription { clusterEvents(tenantOrgId: "offline-org") { namespace event { to } } }'
        )
        await page.evaluate(f"{RESPONSE}.setValue('')")
        # GraphiQL parses the edited document a moment later, and only then sends it
        # by WebSocket: it decides by the parsed document.
        await page.wait_for(
            f"{QUERY_EDITOR}.documentAST?.definitions[0].operation === 'subscription'",
            what="GraphiQL to parse the subscription",
        )
        await page.evaluate("document.querySelector('.graphiql-execute-button').click()")
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as admin:
            # Until the subscription is live, events pass it by: create until one shows.
            for service in (f"s{n}" for n in range(40)):
                created = await admin.post("/clusters", json=cluster_body("offline-org", "u", service))
                assert created.status_code == 202, created.text
                event = await page.evaluate(f"{RESPONSE}.getValue()")
                if event:
                    break
                await asyncio.sleep(0.5)
        update = json.loads(event)["data"]["clusterEvents"]
        assert update["namespace"].startswith("offline-org-u-s")
        assert any(url.startswith("ws://127.0.0.1:") for url in page.sockets)
        # Everything came from the server, and the page's policy refused nothing.
        assert page.requested
        assert all(url.startswith((server.url + "/", "data:")) for url in page.requested), page.requested
        assert any("/graphiql/graphiql@" in url for url in page.requested)
        assert not [line for line in page.logged if "Content Security Policy" in line], page.logged


async def test_without_local_assets_or_the_cdn_the_page_says_so(
    make_server: MakeServer, tmp_path: Path
) -> None:
    server = make_server()  # no ESS_GRAPHIQL_ASSETS: the page takes the CDN's copies
    async with offline_browser(tmp_path / "profile") as page:
        await page.open(server.url + "/graphql")
        message = await page.wait_for(
            "document.querySelector('#graphiql.unavailable')?.innerText",
            what="the page's explanation",
        )
    assert message.startswith("GraphiQL could not be loaded")
    assert "cannot reach the CDN" in message
    assert "ESS_GRAPHIQL_ASSETS" in message
    assert "Loading" not in message
    assert any(url.startswith("https://unpkg.com/graphiql@3.8.3/") for url in page.requested)


def test_the_page_allows_exactly_where_its_files_come_from(make_server: MakeServer) -> None:
    local = make_server(ESS_GRAPHIQL_ASSETS=str(installed_assets()))
    cdn = make_server()
    pages: dict[str, Any] = {}
    for name, server in (("local", local), ("cdn", cdn)):
        with httpx.Client(base_url=server.url) as client:
            pages[name] = client.get("/graphql", headers={"Accept": "text/html"})
    local_policy = pages["local"].headers["content-security-policy"]
    cdn_policy = pages["cdn"].headers["content-security-policy"]
    assert "unsafe-inline" not in local_policy + cdn_policy
    assert "unpkg.com" not in local_policy and "unpkg.com" not in pages["local"].text
    assert "script-src 'self' https://unpkg.com;" in cdn_policy
    assert 'src="/graphiql/graphiql@3.8.3/graphiql.min.js"' in pages["local"].text
    assert 'src="https://unpkg.com/graphiql@3.8.3/graphiql.min.js"' in pages["cdn"].text

    with httpx.Client(base_url=local.url) as client:  # no token: the files are public
        script = client.get("/graphiql/graphiql@3.8.3/graphiql.min.js")
        assert script.status_code == 200
        assert script.headers["content-type"] == "text/javascript; charset=utf-8"
        assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
        style = client.get("/graphiql/graphiql@3.8.3/graphiql.min.css")
        assert style.headers["content-type"] == "text/css; charset=utf-8"
        own = client.get("/graphiql/page.js")
        assert own.headers["cache-control"] == "no-cache"
        again = client.get("/graphiql/page.js", headers={"If-None-Match": own.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        # Only the pinned files are served: nothing else under the directory.
        for other in ("graphiql@3.8.3/package.json", "graphiql/package.json", "..%2Fpackage.json"):
            assert client.get(f"/graphiql/{other}").status_code == 404, other
    with httpx.Client(base_url=cdn.url) as client:
        assert client.get("/graphiql/graphiql@3.8.3/graphiql.min.js").status_code == 404
