"""Headless Chromium (Debian's package), driven over the Chrome DevTools Protocol with
the ``websockets`` client the tests already use: no driver, no browser download.

The browser has no network beyond 127.0.0.1 (every other host name fails to resolve,
so a CDN is unreachable) and a fresh profile; it records the URLs the page requests and
what the page logs (Content-Security-Policy violations land there), for the tests to
check."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.support.tools import require_tool
from tests.support.waiting import wait_for

CHROMIUM = "/usr/bin/chromium"
OFFLINE = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    f"--host-resolver-rules={OFFLINE}",
    "--remote-debugging-port=0",
)


def chromium() -> str:
    path = shutil.which("chromium") or CHROMIUM
    require_tool(Path(path).exists(), what="Chromium", install="apt-get install -y chromium")
    return path


class Page:
    """One tab, spoken to over its DevTools WebSocket."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self._answers: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.requested: list[str] = []
        self.sockets: list[str] = []
        self.logged: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self._socket:
            message = json.loads(raw)
            if "id" in message:
                answer = self._answers.pop(message["id"])
                if "error" in message:
                    answer.set_exception(AssertionError(f"DevTools: {message['error']}"))
                else:
                    answer.set_result(message.get("result", {}))
            elif message["method"] == "Network.requestWillBeSent":
                self.requested.append(message["params"]["request"]["url"])
            elif message["method"] == "Network.webSocketCreated":
                self.sockets.append(message["params"]["url"])
            elif message["method"] == "Log.entryAdded":
                self.logged.append(message["params"]["entry"]["text"])
            elif message["method"] == "Runtime.exceptionThrown":
                details = message["params"]["exceptionDetails"]
                self.logged.append(details.get("exception", {}).get("description", str(details)))

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self._ids)
        answer = asyncio.get_running_loop().create_future()
        self._answers[number] = answer
        await self._socket.send(json.dumps({"id": number, "method": method, "params": params}))
        return await asyncio.wait_for(answer, 30)

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def open(self, url: str) -> None:
        for domain in ("Network", "Log", "Runtime", "Page"):
            await self.send(f"{domain}.enable")
        await self.send("Page.navigate", url=url)

    async def wait_for(self, expression: str, *, what: str, timeout: float = 30) -> Any:
        """The value of ``expression`` once it is truthy."""

        async def probe() -> Any:
            return await self.evaluate(expression)

        return await wait_for(probe, timeout=timeout, interval=0.1, what=what)

    async def type_text(self, text: str) -> None:
        """Text typed into the focused element, as the keyboard would (one input event)."""
        await self.send("Input.insertText", text=text)

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self._socket.close()


@contextlib.asynccontextmanager
async def offline_browser(profile: Path) -> AsyncIterator[Page]:
    """A headless Chromium with a fresh profile in ``profile`` and a blank tab."""
    process = await asyncio.create_subprocess_exec(
        chromium(),
        *FLAGS,
        f"--user-data-dir={profile}",
        "about:blank",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        active_port = profile / "DevToolsActivePort"

        async def port() -> int | None:
            lines = active_port.read_text().split() if active_port.exists() else []
            return int(lines[0]) if lines else None

        devtools = await wait_for(port, timeout=30, interval=0.1, what="Chromium's DevTools")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{devtools}") as client:

            async def blank_tab() -> str | None:
                targets = (await client.get("/json/list")).json()
                tabs = [t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page"]
                return tabs[0] if tabs else None

            tab = await wait_for(blank_tab, timeout=30, interval=0.1, what="a Chromium tab")
        async with connect(tab, max_size=None) as socket:
            page = Page(socket)
            try:
                yield page
            finally:
                await page.close()
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
